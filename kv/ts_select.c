/* ts_select.c — series selectors (see ts_select.h). */
#include "kv/ts_select.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS_NAME_LABEL "__name__"

static bool ts_sel_fail(char *why, const char *text, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool ts_sel_fail(char *why, const char *text, const char *at, const char *fmt, ...)
{
	char msg[TS_SELECT_WHY_BYTES - 24];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(why, TS_SELECT_WHY_BYTES, "%s at column %zu", msg, (size_t)(at - text) + 1);
	return false;
}

static bool ts_sel_alpha(char c) { return (unsigned)((c | 0x20) - 'a') < 26 || c == '_'; }
static bool ts_sel_digit(char c) { return (unsigned)(c - '0') < 10; }

static const char *ts_sel_spaces(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * Whether a regular expression is safe to compile. glibc's regcomp copies the
 * operand of '+' and of a bounded repetition {n,m} (x+ is x x*, x{3} is x x x),
 * so quantifiers stacked on a group or on each other multiply: "((a{99}){99}){99}"
 * makes a million copies, "(((a+)+)+)..." doubles with each '+', and either
 * takes gigabytes. So: at most 256 bytes, no bound above 1,000, and the product
 * of the copies that stack (a quantifier right after ')' or after another
 * quantifier) at most 1,000, a quantified group counting at least 2 (nested
 * groups under '*' blow up the matcher's state sets too). A quantifier on a
 * plain character copies one node and is not counted; a quantifier right after
 * another (a**, a+*) is refused, as RE2 (Prometheus's) refuses it. Back-
 * references are refused: matching with them is exponential in the worst case.
 */
static bool ts_sel_regex_ok(const char *re, const char **why)
{
	if (strlen(re) > 256) {
		*why = "a regular expression longer than 256 bytes";
		return false;
	}
	uint64_t product = 1;
	bool stacked = false;    /* the last token was ')' or a quantifier */
	bool quantified = false; /* it was a quantifier */
	for (const char *p = re; *p; p++) {
		uint64_t copies = 0;
		if (*p == '\\' && p[1] >= '1' && p[1] <= '9') {
			/* A back-reference makes matching exponential (and RE2, Prometheus's, has none). */
			*why = "back-references (\\1 ... \\9) are not supported";
			return false;
		}
		if (*p == '\\' && p[1] != '\0') {
			p++;
			stacked = quantified = false;
			continue;
		}
		if (*p == '+') {
			copies = 2;
		} else if (*p == '*' || *p == '?') {
			copies = 1;
		} else if (*p == '{') {
			uint64_t v = 0;
			for (p++; *p && *p != '}'; p++) {
				v = *p >= '0' && *p <= '9' ? v * 10 + (uint64_t)(*p - '0') : 0;
				if (v > 1000) {
					*why = "a repetition bound above 1,000";
					return false;
				}
				if (v > copies)
					copies = v;
			}
			if (*p == '\0')
				break;
			if (copies == 0)
				copies = 1;
		} else {
			stacked = *p == ')';
			quantified = false;
			continue;
		}
		if (stacked && quantified) {
			*why = "a repetition of a repetition (as in a** or a+*)";
			return false;
		}
		if (stacked)
			product *= copies > 2 ? copies : 2; /* a quantified group, even a*: nesting */
		if (product > 1000) {
			*why = "repetitions stacked more than 1,000 copies deep";
			return false;
		}
		stacked = quantified = true;
	}
	return true;
}

/* Adds a matcher (copies name and value; compiles a regex). */
static bool ts_sel_add(ts_selector_t *sel, const char *name, size_t nlen, const char *value,
		       size_t vlen, ts_match_op_t op, char *why, const char *text, const char *at)
{
	ts_matcher_t *m = realloc(sel->m, (sel->n + 1) * sizeof *m);
	if (m == NULL)
		return ts_sel_fail(why, text, at, "out of memory");
	sel->m = m;
	ts_matcher_t *x = &sel->m[sel->n];
	memset(x, 0, sizeof *x);
	x->name = strndup(name, nlen);
	x->value = strndup(value, vlen);
	x->op = op;
	if (x->name == NULL || x->value == NULL) {
		free(x->name);
		free(x->value);
		return ts_sel_fail(why, text, at, "out of memory");
	}
	const char *unsafe;
	if ((op == TS_RE || op == TS_NRE) && !ts_sel_regex_ok(x->value, &unsafe)) {
		free(x->name);
		free(x->value);
		return ts_sel_fail(why, text, at, "%s", unsafe);
	}
	if (op == TS_RE || op == TS_NRE) {
		char *anchored = malloc(vlen + 5);
		if (anchored == NULL) {
			free(x->name);
			free(x->value);
			return ts_sel_fail(why, text, at, "out of memory");
		}
		snprintf(anchored, vlen + 5, "^(%s)$", x->value);
		int rc = regcomp(&x->re, anchored, REG_EXTENDED | REG_NOSUB);
		free(anchored);
		if (rc != 0) {
			char err[64];
			regerror(rc, &x->re, err, sizeof err);
			free(x->name);
			free(x->value);
			return ts_sel_fail(why, text, at, "bad regular expression: %s", err);
		}
	}
	sel->n++;
	return true;
}

/* A quoted value after p (at its opening quote), unescaped into out; returns the end. */
static const char *ts_sel_value(const char *p, buf_t *out, char *why, const char *text)
{
	if (*p != '"') {
		ts_sel_fail(why, text, p, "a value must be in double quotes");
		return NULL;
	}
	for (p++; *p != '"'; p++) {
		if (*p == '\0') {
			ts_sel_fail(why, text, p, "a value without its closing quote");
			return NULL;
		}
		char c = *p;
		if (c == '\\') {
			c = *++p;
			if (c == 'n')
				c = '\n';
			else if (c != '"' && c != '\\') {
				ts_sel_fail(why, text, p, "unknown escape \\%c", c ? c : '0');
				return NULL;
			}
		}
		buf_append(out, &c, 1);
	}
	return p + 1;
}

bool ts_select_parse(const char *text, ts_selector_t *sel, char *why)
{
	memset(sel, 0, sizeof *sel);
	const char *p = ts_sel_spaces(text);
	const char *name = p;
	while (ts_sel_alpha(*p) || ts_sel_digit(*p) || *p == '.' || *p == ':')
		p++;
	bool ok = true;
	if (p > name && ts_sel_digit(*name))
		ok = ts_sel_fail(why, text, name, "a metric name must not start with a digit");
	if (ok && p > name)
		ok = ts_sel_add(sel, TS_NAME_LABEL, strlen(TS_NAME_LABEL), name, (size_t)(p - name), TS_EQ,
				why, text, name);
	p = ts_sel_spaces(p);
	buf_t value = { 0 };
	if (ok && *p == '{') {
		for (p = ts_sel_spaces(p + 1); ok && *p != '}'; p = ts_sel_spaces(p)) {
			const char *ln = p;
			if (!ts_sel_alpha(*p)) {
				ok = ts_sel_fail(why, text, p, "a label name expected");
				break;
			}
			while (ts_sel_alpha(*p) || ts_sel_digit(*p))
				p++;
			size_t lnlen = (size_t)(p - ln);
			p = ts_sel_spaces(p);
			ts_match_op_t op;
			if (p[0] == '=' && p[1] == '~')
				op = TS_RE, p += 2;
			else if (p[0] == '!' && p[1] == '~')
				op = TS_NRE, p += 2;
			else if (p[0] == '!' && p[1] == '=')
				op = TS_NE, p += 2;
			else if (p[0] == '=')
				op = TS_EQ, p += 1;
			else {
				ok = ts_sel_fail(why, text, p, "=, !=, =~ or !~ expected");
				break;
			}
			p = ts_sel_spaces(p);
			buf_clear(&value);
			const char *at = p;
			p = ts_sel_value(p, &value, why, text);
			ok = p != NULL && buf_ok(&value) &&
			     ts_sel_add(sel, ln, lnlen, value.len ? (const char *)value.data : "", value.len,
					op, why, text, at);
			if (!ok)
				break;
			p = ts_sel_spaces(p);
			if (*p == ',')
				p++;
			else if (*p != '}')
				ok = ts_sel_fail(why, text, p, "',' or '}' expected");
		}
		if (ok)
			p = ts_sel_spaces(p + 1);
	}
	buf_free(&value);
	if (ok && *p != '\0')
		ok = ts_sel_fail(why, text, p, "'%c' after the selector", *p);
	if (ok && sel->n == 0)
		ok = ts_sel_fail(why, text, p, "a selector needs a metric name or a matcher");
	if (!ok)
		ts_select_free(sel);
	return ok;
}

void ts_select_free(ts_selector_t *sel)
{
	for (size_t i = 0; i < sel->n; i++) {
		if (sel->m[i].op == TS_RE || sel->m[i].op == TS_NRE)
			regfree(&sel->m[i].re);
		free(sel->m[i].name);
		free(sel->m[i].value);
	}
	free(sel->m);
	memset(sel, 0, sizeof *sel);
}

bool ts_series_label(sl_slice_t series, const char *name, buf_t *out)
{
	buf_clear(out);
	const uint8_t *p = series.data, *end = p + series.len;
	const uint8_t *brace = series.len ? memchr(p, '{', series.len) : NULL;
	if (strcmp(name, TS_NAME_LABEL) == 0) {
		buf_append(out, p, (size_t)((brace ? brace : end) - p));
		return true;
	}
	size_t nlen = strlen(name);
	/* The canonical form: {a="x",b="y"}, values escaped with \" \\ \n. */
	for (p = brace ? brace + 1 : end; p < end && *p != '}';) {
		const uint8_t *eq = memchr(p, '=', (size_t)(end - p));
		if (eq == NULL)
			return false;
		bool hit = (size_t)(eq - p) == nlen && memcmp(p, name, nlen) == 0;
		for (p = eq + 2; p < end && *p != '"'; p++) {
			uint8_t c = *p;
			if (c == '\\' && p + 1 < end) {
				c = *++p;
				if (c == 'n')
					c = '\n';
			}
			if (hit)
				buf_append(out, &c, 1);
		}
		if (hit)
			return true;
		p += 2; /* the closing quote, then ',' or '}' */
	}
	return false;
}

bool ts_select_match(const ts_selector_t *sel, sl_slice_t series)
{
	buf_t v = { 0 };
	bool all = true;
	for (size_t i = 0; all && i < sel->n; i++) {
		const ts_matcher_t *m = &sel->m[i];
		ts_series_label(series, m->name, &v); /* absent: the empty value */
		size_t len = v.len;
		buf_append(&v, "", 1);
		const char *s = (const char *)v.data;
		bool eq = len == strlen(m->value) && memcmp(s, m->value, len) == 0;
		switch (m->op) {
		case TS_EQ: all = eq; break;
		case TS_NE: all = !eq; break;
		case TS_RE: all = regexec(&m->re, s, 0, NULL, 0) == 0; break;
		case TS_NRE: all = regexec(&m->re, s, 0, NULL, 0) != 0; break;
		}
	}
	buf_free(&v);
	return all;
}
