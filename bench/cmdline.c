/* cmdline.c — tokenizing and escaping for the storelab shell (see cmdline.h). */
#include "bench/cmdline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmdline_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the escape at line[*i] (just after the backslash) into *out. */
static int cmdline_unescape(const char *line, size_t len, size_t *i, uint8_t *out)
{
	if (*i >= len)
		return -1;
	char c = line[(*i)++];
	switch (c) {
	case '\\': *out = '\\'; return 0;
	case '"': *out = '"'; return 0;
	case 'n': *out = '\n'; return 0;
	case 'r': *out = '\r'; return 0;
	case 't': *out = '\t'; return 0;
	case '0': *out = 0; return 0;
	case 'x': {
		if (*i + 2 > len)
			return -1;
		int hi = cmdline_hex(line[*i]), lo = cmdline_hex(line[*i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		*out = (uint8_t)(hi * 16 + lo);
		*i += 2;
		return 0;
	}
	default: return -1;
	}
}

static int cmdline_fail(cmdline_t *cl, const char *why, size_t at)
{
	snprintf(cl->error, sizeof cl->error, "%s at column %zu", why, at + 1);
	return -1;
}

/* Reads one token starting at line[*i] into cl->bytes; records its offset and length. */
static int cmdline_token(cmdline_t *cl, const char *line, size_t len, size_t *i, size_t *off,
			 size_t *tlen)
{
	bool quoted = line[*i] == '"';
	size_t start = *i;
	if (quoted)
		(*i)++;
	*off = cl->bytes.len;
	while (*i < len) {
		char c = line[*i];
		if (quoted && c == '"') {
			(*i)++;
			if (*i < len && line[*i] != ' ' && line[*i] != '\t')
				return cmdline_fail(cl, "text right after a closing quote", *i);
			quoted = false;
			break;
		}
		if (!quoted && (c == ' ' || c == '\t'))
			break;
		uint8_t byte = (uint8_t)c;
		(*i)++;
		if (c == '\\' && cmdline_unescape(line, len, i, &byte) != 0)
			return cmdline_fail(cl, "bad escape (use \\xHH, \\\\, \\\", \\n, \\r, \\t, \\0)",
					    *i - 1);
		buf_append(&cl->bytes, &byte, 1);
	}
	if (quoted)
		return cmdline_fail(cl, "unterminated quote", start);
	*tlen = cl->bytes.len - *off;
	return 0;
}

int cmdline_parse(cmdline_t *cl, const char *line, size_t len)
{
	size_t offs[CMDLINE_MAX_TOKENS];
	buf_clear(&cl->bytes);
	cl->ntok = 0;
	cl->error[0] = '\0';
	size_t i = 0;
	for (;;) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i >= len)
			break;
		if (cl->ntok == CMDLINE_MAX_TOKENS)
			return cmdline_fail(cl, "too many words", i);
		size_t off, tlen;
		if (cmdline_token(cl, line, len, &i, &off, &tlen) != 0)
			return -1;
		offs[cl->ntok] = off;
		cl->tok[cl->ntok++].len = tlen;
	}
	if (!buf_ok(&cl->bytes))
		return cmdline_fail(cl, "out of memory", 0);
	/* Point the tokens into the buffer only now: it may have moved while growing. */
	for (size_t t = 0; t < cl->ntok; t++)
		cl->tok[t].data = cl->bytes.data ? cl->bytes.data + offs[t] : NULL;
	return 0;
}

void cmdline_free(cmdline_t *cl)
{
	buf_free(&cl->bytes);
}

void cmdline_escape(buf_t *out, sl_slice_t s, int token)
{
	/* An empty token must still be a token (found by fuzz_cmdline). */
	if (token && s.len == 0) {
		buf_append(out, "\"\"", 2);
		return;
	}
	for (size_t i = 0; i < s.len; i++) {
		uint8_t c = s.data[i];
		bool plain = c > 0x20 && c < 0x7f && c != '\\' && !(token && (c == '=' || c == '"'));
		if (c == ' ' && !token)
			plain = true;
		if (plain) {
			buf_append(out, &c, 1);
		} else if (c == '\\') {
			buf_append(out, "\\\\", 2);
		} else {
			char hex[5];
			snprintf(hex, sizeof hex, "\\x%02x", c);
			buf_append(out, hex, 4);
		}
	}
}

/* Would this text be read as a status word rather than a value? */
static bool cmdline_looks_like_status(sl_slice_t v)
{
	static const char *const words[] = { "OK", "NOTFOUND" };
	for (size_t i = 0; i < 2; i++)
		if (sl_slice_eq(v, sl_slice_str(words[i])))
			return true;
	return v.len >= 3 && memcmp(v.data, "ERR", 3) == 0;
}

void cmdline_escape_value(buf_t *out, sl_slice_t value)
{
	if (value.len > 0 && cmdline_looks_like_status(value)) {
		char hex[5];
		snprintf(hex, sizeof hex, "\\x%02x", value.data[0]);
		buf_append(out, hex, 4);
		value.data++;
		value.len--;
	}
	cmdline_escape(out, value, 0);
}

bool cmdline_parse_bytes(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *s == '-')
		return false;
	uint64_t mult = 1;
	if (*end == 'k' || *end == 'K')
		mult = 1u << 10, end++;
	else if (*end == 'm' || *end == 'M')
		mult = 1u << 20, end++;
	else if (*end == 'g' || *end == 'G')
		mult = 1u << 30, end++;
	if (*end != '\0' || v > max / mult)
		return false;
	*out = v * mult;
	return true;
}

void cmdline_trace_line(void *ctx, const char *line)
{
	fprintf((FILE *)ctx, "trace: %s\n", line);
}
