/* tokenizer.c — unicode61-compatible tokenizing (rules in tokenizer.h). */
#include "index/tokenizer.h"

#include <assert.h>
#include <string.h>

#include "index/unicode_tables.h"

/* ---------------------------------------------------------------- UTF-8 */

size_t tokenizer_utf8_valid(sl_slice_t text, const char **why)
{
	const uint8_t *s = text.data;
	size_t i = 0, n = text.len;
	while (i < n) {
		/* Eight ASCII bytes at a time (no high bit set), the common case. */
		uint64_t w;
		while (i + 8 <= n && (memcpy(&w, s + i, 8), (w & 0x8080808080808080ull) == 0))
			i += 8;
		if (i >= n)
			break;
		uint8_t b = s[i];
		size_t len = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3
			   : (b & 0xF8) == 0xF0 ? 4 : 0;
		if (len == 0) {
			*why = "a byte that starts no UTF-8 sequence";
			return i;
		}
		if (len > n - i) {
			*why = "a UTF-8 sequence cut short";
			return i;
		}
		uint32_t c = len == 1 ? b : b & (0x7F >> len);
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80) {
				*why = "a UTF-8 sequence cut short";
				return i;
			}
			c = (c << 6) | (s[i + k] & 0x3F);
		}
		static const uint32_t shortest[5] = { 0, 0, 0x80, 0x800, 0x10000 };
		if (c < shortest[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
			*why = c > 0x10FFFF ? "a code point past U+10FFFF"
			     : c >= 0xD800 && c <= 0xDFFF ? "a UTF-16 surrogate"
							  : "an overlong UTF-8 form";
			return i;
		}
		i += len;
	}
	*why = NULL;
	return n;
}

/* Decodes the (valid) code point at s[*i] and moves *i past it. */
static uint32_t tk_decode(const uint8_t *s, size_t *i)
{
	uint8_t b = s[*i];
	if (b < 0x80) {
		(*i)++;
		return b;
	}
	size_t len = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : 4;
	uint32_t c = b & (0x7F >> len);
	for (size_t k = 1; k < len; k++)
		c = (c << 6) | (s[*i + k] & 0x3F);
	*i += len;
	return c;
}

static void tk_append(buf_t *out, uint32_t c)
{
	uint8_t u[4];
	size_t n;
	if (c < 0x80) {
		u[0] = (uint8_t)c, n = 1;
	} else if (c < 0x800) {
		u[0] = (uint8_t)(0xC0 | c >> 6), u[1] = (uint8_t)(0x80 | (c & 0x3F)), n = 2;
	} else if (c < 0x10000) {
		u[0] = (uint8_t)(0xE0 | c >> 12), u[1] = (uint8_t)(0x80 | (c >> 6 & 0x3F));
		u[2] = (uint8_t)(0x80 | (c & 0x3F)), n = 3;
	} else {
		u[0] = (uint8_t)(0xF0 | c >> 18), u[1] = (uint8_t)(0x80 | (c >> 12 & 0x3F));
		u[2] = (uint8_t)(0x80 | (c >> 6 & 0x3F)), u[3] = (uint8_t)(0x80 | (c & 0x3F)), n = 4;
	}
	buf_append(out, u, n);
}

/* ---------------------------------------------------------------- the tables */

/* The first row of t (n rows, sorted by column col) whose t[row][col] >= c, or n. */
static size_t tk_lower_bound(const uint32_t (*t)[2], size_t n, int col, uint32_t c)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t[mid][col] < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The pair whose first element is c in a table sorted by it, or NULL. */
static const uint32_t *tk_find_pair(const uint32_t (*pairs)[2], size_t n, uint32_t c)
{
	size_t i = tk_lower_bound(pairs, n, 0, c);
	return i < n && pairs[i][0] == c ? pairs[i] : NULL;
}

/* Whether c is a token character (see tokenizer.h and index/mkunicode.awk). */
static bool tk_is_token(uint32_t c)
{
	if (c < 0x80) /* the common case, without a search */
		return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
	/* The first range that ends at or after c holds c if it starts at or before it. */
	size_t i = tk_lower_bound(unicode_token_ranges, unicode_token_nranges, 1, c);
	return i < unicode_token_nranges && unicode_token_ranges[i][0] <= c;
}

static bool tk_is_diacritic(uint32_t c)
{
	if (c < 0x300) /* none below U+0300: spaces and punctuation stop here */
		return false;
	for (size_t i = 0; i < unicode_ndiacritics; i++) /* 25 of them, all near U+0300 */
		if (unicode_diacritics[i] == c)
			return true;
	return false;
}

/* c folded: lower case, its diacritic taken off; 0 for a diacritic (dropped). */
static uint32_t tk_fold(uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	const uint32_t *p = tk_find_pair(unicode_fold_pairs, unicode_fold_npairs, c);
	if (p != NULL)
		c = p[1];
	if (tk_is_diacritic(c))
		return 0;
	p = tk_find_pair(unicode_base_pairs, unicode_base_npairs, c);
	return p != NULL ? p[1] : c;
}

/* ---------------------------------------------------------------- splitting */

int tokenizer_init(tokenizer_t *t, sl_slice_t text, sl_err_t *err)
{
	buf_t keep = t->token; /* reuse the buffer of an earlier text */
	memset(t, 0, sizeof *t);
	t->token = keep;
	buf_clear(&t->token);
	const char *why;
	size_t bad = tokenizer_utf8_valid(text, &why);
	if (bad < text.len)
		return sl_errf(err, SL_INVALID, "not UTF-8 at byte %zu: %s", bad, why);
	t->text = text.data;
	t->len = text.len;
	return SL_OK;
}

/* An ASCII letter or digit: the token characters of most text, tested without a table. */
static inline bool tk_ascii_token(uint8_t b)
{
	return (unsigned)(b - '0') < 10 || (unsigned)((b | 0x20) - 'a') < 26;
}

bool tokenizer_next(tokenizer_t *t)
{
	/* Skip separators: a token starts only at a token character. ASCII runs are
	 * handled byte by byte without decoding: most text is mostly ASCII. */
	const uint8_t *s = t->text;
	size_t i = t->pos, at;
	for (;;) {
		while (i < t->len && s[i] < 0x80 && !tk_ascii_token(s[i]))
			i++;
		if (i >= t->len) {
			t->pos = i;
			return false;
		}
		at = i;
		if (s[i] < 0x80)
			break;
		uint32_t c = tk_decode(s, &i);
		if (tk_is_token(c)) {
			i = at;
			break;
		}
	}
	t->start = at;
	buf_clear(&t->token);
	/* Then take token characters, and diacritics, until a separator. */
	while (i < t->len) {
		if (s[i] < 0x80) {
			/* A run of ASCII letters and digits: measured, then copied folded at once. */
			size_t run = i;
			while (run < t->len && s[run] < 0x80 && tk_ascii_token(s[run]))
				run++;
			if (run == i)
				break;
			if (!buf_reserve(&t->token, run - i))
				return false; /* out of memory: the text ends here */
			uint8_t *out = t->token.data + t->token.len;
			for (size_t k = i; k < run; k++)
				*out++ = (unsigned)(s[k] - 'A') < 26 ? (uint8_t)(s[k] | 0x20) : s[k];
			t->token.len += run - i;
			i = run;
			continue;
		}
		size_t next = i;
		uint32_t c = tk_decode(s, &next);
		if (!tk_is_token(c) && !tk_is_diacritic(c))
			break;
		uint32_t f = tk_fold(c);
		if (f != 0)
			tk_append(&t->token, f);
		i = next;
	}
	t->stop = i;
	t->pos = i;
	t->position = t->any ? t->position + 1 : 0;
	t->any = true;
	return true;
}

void tokenizer_free(tokenizer_t *t)
{
	buf_free(&t->token);
}
