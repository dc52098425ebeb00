/*
 * tokenizer.h — splits UTF-8 text into the terms an inverted index keeps.
 *
 * A search engine finds "Résumé" when asked for "resume" because both become
 * the same term before anything is indexed or looked up: the text is cut into
 * tokens at every character that is neither a letter nor a digit, each token is
 * folded to lower case, and accents are taken off. Documents and queries must
 * go through the same tokenizer, or they will not meet.
 *
 * This one follows SQLite FTS5's default tokenizer, unicode61, rule for rule, so
 * that the kit's rankings can be compared with FTS5's term for term:
 *   - token characters are the code points of Unicode general categories L*
 *     (letters), N* (digits and other numbers) and Co (private use); every other
 *     code point separates tokens;
 *   - inside a token, a combining diacritic (U+0301 and its kind) also belongs to
 *     it; it never starts one;
 *   - each code point is case-folded (Unicode simple case folding: "Ä" -> "ä",
 *     "ϵ" -> "ε", "ß" stays; and "İ" -> "i"), then a letter that is one ASCII
 *     letter plus a diacritic
 *     loses the diacritic ("ä" -> "a") and a bare diacritic is dropped
 *     (FTS5's remove_diacritics=1, its default);
 *   - the Unicode data is that of Unicode 6.1, as in FTS5 (hence "unicode61"),
 *     where a code point 6.1 did not assign is a token character, whatever it
 *     became since (a letter, an emoji, or still nothing).
 * The tables are generated from the Unicode Character Database by
 * index/mkunicode.awk into index/unicode_tables.c.
 *
 * Text must be valid UTF-8 (tokenizer_init checks it whole, first): shortest
 * forms only, no surrogates, nothing past U+10FFFF.
 */
#ifndef SL_TOKENIZER_H
#define SL_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/slice.h"
#include "engine/status.h"

typedef struct tokenizer {
	const uint8_t *text;  /* the text being split (the caller's; must outlive this) */
	size_t len;           /* its bytes */
	size_t pos;           /* where the next token search starts */
	buf_t token;          /* the current token, folded, UTF-8: token.len bytes, no NUL */
	uint32_t position;    /* the current token's number in the text, from 0 */
	size_t start, stop;   /* its bytes in the text: [start, stop) */
	bool any;             /* a token has been returned */
} tokenizer_t;

/*
 * Checks that text is valid UTF-8 and starts splitting it. SL_INVALID (saying at
 * which byte offset and why) when it is not; the tokenizer is then empty.
 */
int tokenizer_init(tokenizer_t *t, sl_slice_t text, sl_err_t *err);

/* Moves to the next token: true with t->token, position, start and stop set. */
bool tokenizer_next(tokenizer_t *t);

/* Frees the token buffer (t may be reused with tokenizer_init). */
void tokenizer_free(tokenizer_t *t);

/* The offset of the first byte of text that is not valid UTF-8, or text.len. */
size_t tokenizer_utf8_valid(sl_slice_t text, const char **why);

#endif
