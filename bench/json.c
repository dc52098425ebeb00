/* json.c — a recursive-descent JSON reader (see json.h). */
#include "bench/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct json_in {
	const char *p, *start, *end;
	int depth;
	char *why;
	size_t why_size;
	bool failed;
} json_in_t;

static bool json_fail(json_in_t *in, const char *what)
{
	if (!in->failed)
		snprintf(in->why, in->why_size, "%s at byte %zu", what, (size_t)(in->p - in->start));
	in->failed = true;
	return false;
}

static void json_space(json_in_t *in)
{
	while (in->p < in->end && (*in->p == ' ' || *in->p == '\t' || *in->p == '\n' || *in->p == '\r'))
		in->p++;
}

static bool json_value(json_in_t *in, json_t *v);

/* A literal: true, false or null. */
static bool json_literal(json_in_t *in, json_t *v, const char *word, json_kind_t kind, bool b)
{
	size_t n = strlen(word);
	if ((size_t)(in->end - in->p) < n || memcmp(in->p, word, n) != 0)
		return json_fail(in, "not a JSON value");
	in->p += n;
	v->kind = kind;
	v->boolean = b;
	return true;
}

static bool json_number_at(json_in_t *in, json_t *v)
{
	char buf[64];
	size_t n = 0;
	while (in->p + n < in->end && n < sizeof buf - 1 && strchr("+-0123456789.eE", in->p[n]) != NULL)
		n++;
	memcpy(buf, in->p, n);
	buf[n] = 0;
	char *stop;
	v->number = strtod(buf, &stop);
	if (n == 0 || stop != buf + n)
		return json_fail(in, "a malformed number");
	v->kind = JSON_NUMBER;
	in->p += n;
	return true;
}

/* Appends code point c as UTF-8. */
static size_t json_utf8(char *out, uint32_t c)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

static bool json_hex4(json_in_t *in, uint32_t *c)
{
	*c = 0;
	for (int i = 0; i < 4; i++, in->p++) {
		char h = in->p < in->end ? *in->p : 0;
		int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
			: h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
		if (d < 0)
			return json_fail(in, "a malformed \\u escape");
		*c = *c << 4 | (uint32_t)d;
	}
	return true;
}

/* One escape after the backslash; appends its bytes at out + *n. */
static bool json_escape(json_in_t *in, char *out, size_t *n)
{
	char e = in->p < in->end ? *in->p++ : 0;
	const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
	const char *at = e ? strchr(from, e) : NULL;
	if (at != NULL) {
		out[(*n)++] = to[at - from];
		return true;
	}
	uint32_t c, lo;
	if (e != 'u' || !json_hex4(in, &c))
		return json_fail(in, "an unknown escape");
	if (c >= 0xd800 && c < 0xdc00) { /* a surrogate pair */
		if (in->end - in->p < 2 || in->p[0] != '\\' || in->p[1] != 'u')
			return json_fail(in, "a lone surrogate");
		in->p += 2;
		if (!json_hex4(in, &lo) || lo < 0xdc00 || lo > 0xdfff)
			return json_fail(in, "a lone surrogate");
		c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
	}
	*n += json_utf8(out + *n, c);
	return true;
}

/* A string, the opening quote at in->p; *out gets the unescaped text. */
static bool json_string_at(json_in_t *in, char **out)
{
	in->p++;
	const char *q = in->p;
	while (q < in->end && *q != '"')
		q += *q == '\\' ? 2 : 1;
	if (q >= in->end)
		return json_fail(in, "an unterminated string");
	char *s = malloc((size_t)(q - in->p) + 1); /* escapes only shrink */
	if (s == NULL)
		return json_fail(in, "out of memory");
	size_t n = 0;
	while (in->p < q) {
		if ((unsigned char)*in->p < 0x20) {
			free(s);
			return json_fail(in, "a control character in a string");
		}
		if (*in->p != '\\')
			s[n++] = *in->p++;
		else if (in->p++, !json_escape(in, s, &n)) {
			free(s);
			return false;
		}
	}
	in->p = q + 1;
	s[n] = 0;
	*out = s;
	return true;
}

/* Grows v's items (and keys) by one; NULL when out of memory. */
static json_t *json_add(json_t *v, size_t *cap)
{
	if (v->n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 8;
		json_t *items = realloc(v->items, ncap * sizeof *items);
		if (items == NULL)
			return NULL;
		v->items = items;
		if (v->kind == JSON_OBJECT) {
			char **keys = realloc(v->keys, ncap * sizeof *keys);
			if (keys == NULL)
				return NULL;
			v->keys = keys;
		}
		*cap = ncap;
	}
	memset(&v->items[v->n], 0, sizeof v->items[0]);
	return &v->items[v->n];
}

/* An array or an object, the opening bracket at in->p. */
static bool json_container(json_in_t *in, json_t *v, json_kind_t kind)
{
	char close = kind == JSON_ARRAY ? ']' : '}';
	v->kind = kind;
	in->p++;
	if (++in->depth > JSON_MAX_DEPTH)
		return json_fail(in, "nesting too deep");
	size_t cap = 0;
	json_space(in);
	if (in->p < in->end && *in->p == close) {
		in->p++;
		in->depth--;
		return true;
	}
	for (;;) {
		json_t *item = json_add(v, &cap);
		if (item == NULL)
			return json_fail(in, "out of memory");
		json_space(in);
		if (kind == JSON_OBJECT) {
			if (in->p >= in->end || *in->p != '"' || !json_string_at(in, &v->keys[v->n]))
				return json_fail(in, "an object key that is no string");
			json_space(in);
			if (in->p >= in->end || *in->p++ != ':') {
				v->n++; /* the key is freed with the rest */
				return json_fail(in, "a missing ':'");
			}
		}
		bool ok = json_value(in, item);
		v->n++;
		if (!ok)
			return false;
		json_space(in);
		char c = in->p < in->end ? *in->p++ : 0;
		if (c == close)
			break;
		if (c != ',')
			return json_fail(in, kind == JSON_ARRAY ? "a missing ',' or ']'" : "a missing ',' or '}'");
	}
	in->depth--;
	return true;
}

static bool json_value(json_in_t *in, json_t *v)
{
	json_space(in);
	char c = in->p < in->end ? *in->p : 0;
	switch (c) {
	case '{': return json_container(in, v, JSON_OBJECT);
	case '[': return json_container(in, v, JSON_ARRAY);
	case '"': v->kind = JSON_STRING; return json_string_at(in, &v->string);
	case 't': return json_literal(in, v, "true", JSON_BOOL, true);
	case 'f': return json_literal(in, v, "false", JSON_BOOL, false);
	case 'n': return json_literal(in, v, "null", JSON_NULL, false);
	default:
		if (c != '-' && (c < '0' || c > '9'))
			return json_fail(in, in->p < in->end ? "not a JSON value" : "the text ends early");
		return json_number_at(in, v);
	}
}

int json_parse(const char *text, size_t len, json_t *out, char *why, size_t why_size)
{
	memset(out, 0, sizeof *out);
	json_in_t in = { text, text, text + len, 0, why, why_size, false };
	bool ok = json_value(&in, out);
	json_space(&in);
	if (ok && in.p != in.end)
		ok = json_fail(&in, "text after the value");
	if (!ok) {
		json_free(out);
		return -1;
	}
	return 0;
}

void json_free(json_t *v)
{
	for (size_t i = 0; i < v->n; i++) {
		json_free(&v->items[i]);
		if (v->kind == JSON_OBJECT)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->string);
	memset(v, 0, sizeof *v);
}

const json_t *json_get(const json_t *v, const char *key)
{
	for (size_t i = 0; v != NULL && v->kind == JSON_OBJECT && i < v->n; i++)
		if (strcmp(v->keys[i], key) == 0)
			return &v->items[i];
	return NULL;
}

double json_number(const json_t *v, double dflt)
{
	return v != NULL && v->kind == JSON_NUMBER ? v->number : dflt;
}

const char *json_string(const json_t *v, const char *dflt)
{
	return v != NULL && v->kind == JSON_STRING ? v->string : dflt;
}
