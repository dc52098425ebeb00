/*
 * cmdline.h — the text form of keys and values on the storelab command line.
 *
 * Keys and values may hold any byte, but a shell line is text. So a token is
 * written with escapes, and values in replies are printed with the same escapes:
 *
 *   \xHH  any byte, as two hex digits        \\  a backslash
 *   \n \r \t \0  the usual control bytes     \"  a double quote
 *
 * Tokens are separated by spaces or tabs; a token in double quotes may contain
 * spaces ("hello world"), and "" is the empty token. Examples:
 *
 *   put user\x001 "Ada Lovelace"    key = 'user' NUL '1', value with a space
 *   get ""                          the empty key
 *
 * In replies every byte outside printable ASCII, and the backslash, is escaped.
 * A value that would read as a reply word (OK, NOTFOUND, ERR...) has its first
 * byte escaped (\x4fK), so a script can always tell a value from a status.
 */
#ifndef SL_CMDLINE_H
#define SL_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/slice.h"

#define CMDLINE_MAX_TOKENS 16

typedef struct cmdline {
	sl_slice_t tok[CMDLINE_MAX_TOKENS]; /* the tokens, unescaped, pointing into bytes */
	size_t ntok;                        /* how many */
	buf_t bytes;                        /* storage for the unescaped tokens */
	char error[128];                    /* why parsing failed, "" if it did not */
} cmdline_t;

/*
 * Splits one line (without its newline) into unescaped tokens. Returns 0, or -1
 * with cl->error set (unterminated quote, bad escape, too many tokens).
 */
int cmdline_parse(cmdline_t *cl, const char *line, size_t len);
void cmdline_free(cmdline_t *cl);

/* Appends s escaped. With token != 0 spaces, '=' and '"' are escaped too and an
 * empty s is written "", so the result can stand inside a space-separated list
 * of key=value pairs and parse back as one token. */
void cmdline_escape(buf_t *out, sl_slice_t s, int token);

/* Appends a value as a reply line shows it (see above), without the newline. */
void cmdline_escape_value(buf_t *out, sl_slice_t value);

/*
 * Parses a count such as 4096, 64k, 8M or 1G (k, M, G: powers of 1024) no
 * larger than max; false when s is not one (a sign, junk, an overflow).
 */
bool cmdline_parse_bytes(const char *s, uint64_t max, uint64_t *out);

/* A trace hook (engine/trace.h) for the commands: prints "trace: LINE" to the
 * FILE * in ctx (stdout for `storelab trace`, stderr where the reply is data). */
void cmdline_trace_line(void *ctx, const char *line);

#endif
