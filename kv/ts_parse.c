/* ts_parse.c — series names, timestamps and CSV lines (rules in ts_parse.h). */
#include "kv/ts_parse.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "index/tokenizer.h"

static bool ts_why(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool ts_why(char *why, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, TS_WHY_BYTES, fmt, ap);
	va_end(ap);
	return false;
}

static const char *const ts_unit_names[] = { "s", "ms", "us", "ns", "auto" };

bool ts_unit_parse(const char *text, ts_unit_t *out)
{
	for (int u = TS_UNIT_S; u <= TS_UNIT_AUTO; u++)
		if (strcmp(text, ts_unit_names[u]) == 0) {
			*out = (ts_unit_t)u;
			return true;
		}
	return false;
}

const char *ts_unit_name(ts_unit_t unit)
{
	return unit <= TS_UNIT_AUTO ? ts_unit_names[unit] : "?";
}

/* ---------------------------------------------------------------- series */

static bool ts_is_alpha(uint8_t c) { return (unsigned)((c | 0x20) - 'a') < 26 || c == '_'; }
static bool ts_is_digit(uint8_t c) { return (unsigned)(c - '0') < 10; }

typedef struct ts_label {
	sl_slice_t name;
	size_t value_off, value_len; /* in the values buffer, unescaped */
} ts_label_t;

typedef struct ts_cursor {
	const uint8_t *p, *end;
} ts_cursor_t;

static void ts_skip_spaces(ts_cursor_t *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

/* A quoted label value, unescaped into values. */
static bool ts_label_value(ts_cursor_t *c, buf_t *values, char *why)
{
	if (c->p >= c->end || *c->p != '"')
		return ts_why(why, "a label value must be in double quotes");
	c->p++;
	while (c->p < c->end && *c->p != '"') {
		uint8_t ch = *c->p++;
		if (ch == '\\') {
			if (c->p >= c->end)
				break;
			ch = *c->p++;
			if (ch == 'n')
				ch = '\n';
			else if (ch != '"' && ch != '\\')
				return ts_why(why, "unknown escape \\%c in a label value", ch);
		}
		buf_append(values, &ch, 1);
	}
	if (c->p >= c->end)
		return ts_why(why, "a label value without its closing quote");
	c->p++;
	return true;
}

static int ts_label_cmp(const void *a, const void *b)
{
	const ts_label_t *x = a, *y = b;
	return sl_slice_cmp(x->name, y->name);
}

/* Appends a label value escaped as the canonical form writes it. */
static void ts_put_value(buf_t *out, const uint8_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '"' || v[i] == '\\')
			buf_append(out, "\\", 1);
		if (v[i] == '\n')
			buf_append(out, "\\n", 2);
		else
			buf_append(out, &v[i], 1);
	}
}

/* Parses the labels after '{' into labels (at most max), their values into values. */
static bool ts_labels(ts_cursor_t *c, ts_label_t *labels, size_t max, size_t *n, buf_t *values,
		      char *why)
{
	*n = 0;
	for (;;) {
		ts_skip_spaces(c);
		if (c->p < c->end && *c->p == '}') {
			c->p++;
			return true;
		}
		if (c->p >= c->end || !ts_is_alpha(*c->p))
			return ts_why(why, "a label name must start with a letter or '_'");
		const uint8_t *name = c->p;
		while (c->p < c->end && (ts_is_alpha(*c->p) || ts_is_digit(*c->p)))
			c->p++;
		sl_slice_t ln = sl_slice(name, (size_t)(c->p - name));
		ts_skip_spaces(c);
		if (c->p >= c->end || *c->p != '=')
			return ts_why(why, "'=' expected after label %.*s", (int)ln.len, (const char *)ln.data);
		c->p++;
		ts_skip_spaces(c);
		size_t off = values->len;
		if (!ts_label_value(c, values, why))
			return false;
		if (*n == max)
			return ts_why(why, "more than %zu labels", max);
		labels[(*n)++] = (ts_label_t){ ln, off, values->len - off };
		ts_skip_spaces(c);
		if (c->p < c->end && *c->p == ',')
			c->p++;
		else if (c->p >= c->end || *c->p != '}')
			return ts_why(why, "',' or '}' expected after a label");
	}
}

bool ts_series_parse(sl_slice_t text, buf_t *out, char *why)
{
	buf_clear(out);
	if (text.len == 0) /* (and text.data may be NULL then) */
		return ts_why(why, "a metric name must start with a letter, '_', '.' or ':'");
	ts_cursor_t c = { text.data, text.data + text.len };
	ts_skip_spaces(&c);
	const uint8_t *name = c.p;
	if (c.p >= c.end || !(ts_is_alpha(*c.p) || *c.p == '.' || *c.p == ':'))
		return ts_why(why, "a metric name must start with a letter, '_', '.' or ':'");
	while (c.p < c.end && (ts_is_alpha(*c.p) || ts_is_digit(*c.p) || *c.p == '.' || *c.p == ':'))
		c.p++;
	buf_append(out, name, (size_t)(c.p - name));
	ts_skip_spaces(&c);
	ts_label_t labels[64];
	size_t n = 0;
	buf_t values = { 0 };
	bool ok = true;
	if (c.p < c.end && *c.p == '{') {
		c.p++;
		ok = ts_labels(&c, labels, 64, &n, &values, why);
	}
	ts_skip_spaces(&c);
	if (ok && c.p != c.end)
		ok = ts_why(why, "'%c' after the series", *c.p);
	if (ok) {
		qsort(labels, n, sizeof *labels, ts_label_cmp);
		const char *bad;
		for (size_t i = 0; ok && i < n; i++) {
			if (i > 0 && sl_slice_cmp(labels[i].name, labels[i - 1].name) == 0)
				ok = ts_why(why, "label %.*s given twice", (int)labels[i].name.len,
					    (const char *)labels[i].name.data);
			else if (labels[i].value_len > 0 &&
				 tokenizer_utf8_valid(sl_slice(values.data + labels[i].value_off,
							       labels[i].value_len), &bad) < labels[i].value_len)
				ok = ts_why(why, "label %.*s: %s", (int)labels[i].name.len,
					    (const char *)labels[i].name.data, bad);
		}
	}
	bool any = false;
	for (size_t i = 0; ok && i < n; i++) {
		if (labels[i].value_len == 0)
			continue; /* an empty value is no label */
		buf_append(out, any ? "," : "{", 1);
		buf_append(out, labels[i].name.data, labels[i].name.len);
		buf_append(out, "=\"", 2);
		ts_put_value(out, values.data + labels[i].value_off, labels[i].value_len);
		buf_append(out, "\"", 1);
		any = true;
	}
	if (ok && any)
		buf_append(out, "}", 1);
	buf_free(&values);
	if (ok && (!buf_ok(out) || out->len > TS_MAX_SERIES))
		ok = ts_why(why, "a series longer than %d bytes", TS_MAX_SERIES);
	return ok;
}

/* ---------------------------------------------------------------- timestamps */

static const int64_t ts_pow10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
				    100000000, 1000000000 };

/* Converts v from unit `from` to `to` (exactly, or false naming why). */
static bool ts_convert(int64_t v, ts_unit_t from, ts_unit_t to, int64_t *out, char *why)
{
	if (to >= from) {
		if (__builtin_mul_overflow(v, ts_pow10[3 * (to - from)], out))
			return ts_why(why, "the timestamp does not fit 64 bits in %s", ts_unit_name(to));
		return true;
	}
	int64_t d = ts_pow10[3 * (from - to)];
	if (v % d != 0)
		return ts_why(why, "the timestamp is finer than the store's unit (%s): make the store "
			      "with a finer one", ts_unit_name(to));
	*out = v / d;
	return true;
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
static int64_t ts_days(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* n digits at p as a number; false unless they are all digits. */
static bool ts_digits(const uint8_t *p, int n, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!ts_is_digit(p[i]))
			return false;
		*v = *v * 10 + (unsigned)(p[i] - '0');
	}
	return true;
}

/* RFC 3339 into nanoseconds since the epoch. */
static bool ts_rfc3339(const uint8_t *p, size_t n, int64_t *ns, char *why)
{
	unsigned y, mo, d, h, mi, s, oh = 0, om = 0;
	if (n < 19 || !ts_digits(p, 4, &y) || p[4] != '-' || !ts_digits(p + 5, 2, &mo) ||
	    p[7] != '-' || !ts_digits(p + 8, 2, &d) || (p[10] != 'T' && p[10] != 't' && p[10] != ' ') ||
	    !ts_digits(p + 11, 2, &h) || p[13] != ':' || !ts_digits(p + 14, 2, &mi) || p[16] != ':' ||
	    !ts_digits(p + 17, 2, &s))
		return ts_why(why, "not an integer nor an RFC 3339 time (2023-11-14T22:13:20Z)");
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
	    h > 23 || mi > 59 || s > 60)
		return ts_why(why, "a date or time field out of range");
	size_t i = 19;
	int64_t frac = 0;
	if (i < n && p[i] == '.') {
		int k = 0;
		for (i++; i < n && ts_is_digit(p[i]); i++, k++) {
			if (k == 9)
				return ts_why(why, "more than 9 digits of fractional seconds");
			frac = frac * 10 + (p[i] - '0');
		}
		if (k == 0)
			return ts_why(why, "a '.' without fractional digits");
		frac *= ts_pow10[9 - k];
	}
	int sign = 0;
	if (i < n && (p[i] == 'Z' || p[i] == 'z')) {
		i++;
	} else if (i + 6 == n && (p[i] == '+' || p[i] == '-') && ts_digits(p + i + 1, 2, &oh) &&
		   p[i + 3] == ':' && ts_digits(p + i + 4, 2, &om) && oh < 24 && om < 60) {
		sign = p[i] == '+' ? 1 : -1;
		i += 6;
	} else {
		return ts_why(why, "an RFC 3339 time needs Z or an offset like +01:00");
	}
	if (i != n)
		return ts_why(why, "characters after the RFC 3339 time");
	int64_t secs = ts_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + s -
		       sign * (int64_t)(oh * 3600 + om * 60);
	if (__builtin_mul_overflow(secs, (int64_t)1000000000, ns) || __builtin_add_overflow(*ns, frac, ns))
		return ts_why(why, "the time does not fit 64 bits of nanoseconds (years 1678 to 2262)");
	return true;
}

/* text without the spaces and tabs around it. */
static sl_slice_t ts_trim(sl_slice_t text)
{
	const uint8_t *p = text.data;
	size_t n = text.len;
	while (n > 0 && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return sl_slice(p, n);
}

bool ts_time_parse(sl_slice_t text, ts_unit_t given, ts_unit_t store, int64_t *ts,
		   ts_unit_t *seen, char *why)
{
	text = ts_trim(text);
	const uint8_t *p = text.data;
	size_t n = text.len;
	if (n == 0)
		return ts_why(why, "no timestamp");
	size_t digits = n - (p[0] == '-');
	bool integer = digits > 0;
	for (size_t i = p[0] == '-'; i < n && integer; i++)
		integer = ts_is_digit(p[i]);
	if (!integer) {
		int64_t ns = 0;
		if (!ts_rfc3339(p, n, &ns, why))
			return false;
		if (seen != NULL)
			*seen = TS_UNIT_NS;
		return ts_convert(ns, TS_UNIT_NS, store, ts, why);
	}
	ts_unit_t unit = given;
	if (unit == TS_UNIT_AUTO) {
		switch (digits) {
		case 10: unit = TS_UNIT_S; break;
		case 13: unit = TS_UNIT_MS; break;
		case 16: unit = TS_UNIT_US; break;
		case 19: unit = TS_UNIT_NS; break;
		default:
			return ts_why(why, "%zu digits: not 10 (s), 13 (ms), 16 (us) or 19 (ns); "
				      "give the unit (--ts-unit)", digits);
		}
	}
	char num[24];
	if (n >= sizeof num)
		return ts_why(why, "the timestamp does not fit 64 bits");
	memcpy(num, p, n);
	num[n] = '\0';
	errno = 0;
	long long v = strtoll(num, NULL, 10);
	if (errno == ERANGE)
		return ts_why(why, "the timestamp does not fit 64 bits");
	if (seen != NULL)
		*seen = unit;
	return ts_convert(v, unit, store, ts, why);
}

/* ---------------------------------------------------------------- values and lines */

bool ts_value_parse(sl_slice_t text, double *v, char *why)
{
	char num[64];
	text = ts_trim(text);
	const uint8_t *p = text.data;
	size_t n = text.len;
	if (n == 0 || n >= sizeof num)
		return ts_why(why, n == 0 ? "no value" : "a value of %zu characters", n);
	memcpy(num, p, n);
	num[n] = '\0';
	char *end;
	errno = 0;
	*v = strtod(num, &end);
	if (*end != '\0' || (num[0] == '0' && (num[1] | 0x20) == 'x'))
		return ts_why(why, "\"%s\" is not a number (a decimal, NaN, +Inf or -Inf)", num);
	return true; /* ERANGE: a huge value became +-Inf, a tiny one 0 or a denormal, as stored */
}

bool ts_csv_split(sl_slice_t line, sl_slice_t f[3], char *why)
{
	const uint8_t *s = line.data;
	size_t n = line.len;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	const uint8_t *first = memchr(s, ',', n), *last = NULL;
	for (size_t i = n; i-- > 0;)
		if (s[i] == ',') {
			last = s + i;
			break;
		}
	if (first == NULL || first == last)
		return ts_why(why, "not timestamp,series,value");
	f[0] = sl_slice(s, (size_t)(first - s));
	f[1] = sl_slice(first + 1, (size_t)(last - first - 1));
	f[2] = sl_slice(last + 1, n - (size_t)(last + 1 - s));
	return true;
}

bool ts_csv_series(sl_slice_t raw, buf_t *series, char *why)
{
	buf_t unq = { 0 };
	if (raw.len >= 2 && raw.data[0] == '"' && raw.data[raw.len - 1] == '"') {
		/* CSV quoting: "" stands for ". */
		for (size_t i = 1; i + 1 < raw.len; i++) {
			buf_append(&unq, &raw.data[i], 1);
			if (raw.data[i] == '"' && i + 2 < raw.len && raw.data[i + 1] == '"')
				i++;
		}
		raw = buf_slice(&unq);
	}
	char sub[TS_WHY_BYTES];
	bool ok = ts_series_parse(raw, series, sub);
	buf_free(&unq);
	return ok ? true : ts_why(why, "series: %s", sub);
}

bool ts_csv_line(sl_slice_t line, ts_unit_t given, ts_unit_t store, ts_csv_point_t *p,
		 buf_t *series, char *why)
{
	sl_slice_t f[3];
	char sub[TS_WHY_BYTES];
	if (!ts_csv_split(line, f, why))
		return false;
	if (!ts_time_parse(f[0], given, store, &p->ts, &p->seen, sub))
		return ts_why(why, "timestamp: %s", sub);
	if (!ts_value_parse(f[2], &p->value, sub))
		return ts_why(why, "value: %s", sub);
	return ts_csv_series(f[1], series, why);
}

bool ts_duration_parse(const char *text, ts_unit_t unit, int64_t *out, char *why)
{
	static const struct {
		const char *name;
		int64_t ns;
	} units[] = { { "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 },
		      { "m", 60000000000 }, { "h", 3600000000000 }, { "d", 86400000000000 },
		      { "w", 604800000000000 } };
	static const int64_t unit_ns[] = { 1000000000, 1000000, 1000, 1 };
	const char *p = text;
	int64_t total_ns = 0;
	if (*p == '\0')
		return ts_why(why, "an empty duration");
	char *end;
	long long plain = strtoll(p, &end, 10);
	if (end != p && *end == '\0' && plain >= 0) {
		*out = plain; /* a bare number is in the store's unit */
		return true;
	}
	while (*p != '\0') {
		unsigned long long v = strtoull(p, &end, 10);
		if (end == p || *p == '-' || *p == '+')
			return ts_why(why, "%s: a duration is like 90s, 1m, 1h30m, 250ms", text);
		size_t k = sizeof units / sizeof *units;
		for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
			size_t len = strlen(units[i].name);
			if (strncmp(end, units[i].name, len) == 0 && (k == sizeof units / sizeof *units ||
								      len > strlen(units[k].name)))
				k = i;
		}
		if (k == sizeof units / sizeof *units)
			return ts_why(why, "%s: unknown unit after %llu (ns us ms s m h d w)", text, v);
		if (v > (unsigned long long)(INT64_MAX - total_ns) / (unsigned long long)units[k].ns)
			return ts_why(why, "%s: too long", text);
		total_ns += (int64_t)v * units[k].ns;
		p = end + strlen(units[k].name);
	}
	if (unit > TS_UNIT_NS || total_ns % unit_ns[unit] != 0)
		return ts_why(why, "%s: not a whole number of %s", text, ts_unit_name(unit));
	*out = total_ns / unit_ns[unit];
	return true;
}

/* ---------------------------------------------------------------- line protocol */

/*
 * The end of a line-protocol token starting at p: the first unescaped
 * character of stops (or end). Escapes are a backslash before any character.
 */
static const uint8_t *ts_lp_end(const uint8_t *p, const uint8_t *end, const char *stops)
{
	while (p < end && strchr(stops, *p) == NULL) {
		if (*p == '\\' && p + 1 < end)
			p++;
		p++;
	}
	return p;
}

/* Appends token [p, end) unescaped, each character a name cannot hold turned into '_'. */
static void ts_lp_name(buf_t *out, const uint8_t *p, const uint8_t *end, bool metric)
{
	for (; p < end; p++) {
		if (*p == '\\' && p + 1 < end)
			p++;
		uint8_t c = *p;
		bool ok = ts_is_alpha(c) || ts_is_digit(c) || (metric && (c == '.' || c == ':'));
		buf_append(out, ok ? &c : (const uint8_t *)"_", 1);
	}
}

/* Appends a tag value unescaped and escaped again as a quoted label value. */
static void ts_lp_value(buf_t *out, const uint8_t *p, const uint8_t *end)
{
	for (; p < end; p++) {
		if (*p == '\\' && p + 1 < end)
			p++;
		if (*p == '"' || *p == '\\')
			buf_append(out, "\\", 1);
		buf_append(out, p, 1);
	}
}

/* A field value as a number. */
static bool ts_lp_number(const uint8_t *p, const uint8_t *end, double *v, char *why)
{
	size_t n = (size_t)(end - p);
	if (n == 0)
		return ts_why(why, "a field without a value");
	if (*p == '"')
		return ts_why(why, "a string field: only numbers and booleans are stored");
	static const char *const truth[] = { "t", "T", "true", "True", "TRUE" };
	static const char *const lies[] = { "f", "F", "false", "False", "FALSE" };
	for (int i = 0; i < 5; i++) {
		if (n == strlen(truth[i]) && memcmp(p, truth[i], n) == 0)
			return *v = 1, true;
		if (n == strlen(lies[i]) && memcmp(p, lies[i], n) == 0)
			return *v = 0, true;
	}
	if (p[n - 1] == 'i' || p[n - 1] == 'u')
		n--; /* an integer: the same digits as a double */
	return ts_value_parse(sl_slice(p, n), v, why);
}

bool ts_lp_line(sl_slice_t line, ts_unit_t given, ts_unit_t store, int64_t *ts, buf_t *series,
		double *values, size_t *n, char *why)
{
	*n = 0;
	const uint8_t *p = line.data, *end = p + line.len;
	if (line.len > 0 && end[-1] == '\r')
		end--;
	/* measurement and tags: up to the first unescaped space */
	const uint8_t *key_end = ts_lp_end(p, end, " ");
	const uint8_t *meas_end = ts_lp_end(p, key_end, ",");
	if (meas_end == p || key_end >= end)
		return ts_why(why, "not measurement[,tags] fields timestamp");
	buf_t tags = { 0 };
	for (const uint8_t *t = meas_end; t < key_end;) {
		const uint8_t *k = t + 1, *kend = ts_lp_end(k, key_end, "="), *vend;
		if (kend >= key_end || kend == k) {
			buf_free(&tags);
			return ts_why(why, "a tag without '=' or without a name");
		}
		vend = ts_lp_end(kend + 1, key_end, ",");
		buf_append(&tags, tags.len ? "," : "{", 1);
		ts_lp_name(&tags, k, kend, false);
		buf_append(&tags, "=\"", 2);
		ts_lp_value(&tags, kend + 1, vend);
		buf_append(&tags, "\"", 1);
		t = vend;
	}
	if (tags.len)
		buf_append(&tags, "}", 1);
	/* fields: up to the next unescaped space (string values may hold spaces: refused anyway) */
	const uint8_t *f = key_end + 1, *fields_end = ts_lp_end(f, end, " ");
	const uint8_t *tstart = fields_end < end ? fields_end + 1 : end;
	char sub[TS_WHY_BYTES];
	bool ok = tstart < end;
	if (!ok)
		ts_why(why, "no timestamp (a file of points must carry its times)");
	if (ok && !ts_time_parse(sl_slice(tstart, (size_t)(end - tstart)),
				 given == TS_UNIT_AUTO ? TS_UNIT_NS : given, store, ts, NULL, sub))
		ok = ts_why(why, "timestamp: %s", sub);
	buf_t text = { 0 };
	while (ok && f < fields_end) {
		const uint8_t *kend = ts_lp_end(f, fields_end, "="), *vend;
		if (kend >= fields_end || kend == f) {
			ok = ts_why(why, "a field without '=' or without a name");
			break;
		}
		vend = ts_lp_end(kend + 1, fields_end, ",");
		if (*n == TS_LP_MAX_FIELDS) {
			ok = ts_why(why, "more than %d fields", TS_LP_MAX_FIELDS);
			break;
		}
		if (!ts_lp_number(kend + 1, vend, &values[*n], sub)) {
			ok = ts_why(why, "field %.*s: %s", (int)(kend - f), (const char *)f, sub);
			break;
		}
		buf_clear(&text);
		ts_lp_name(&text, p, meas_end, true);
		buf_append(&text, "_", 1);
		ts_lp_name(&text, f, kend, true);
		buf_append(&text, tags.data, tags.len);
		if (!ts_series_parse(buf_slice(&text), &series[*n], sub))
			ok = ts_why(why, "series: %s", sub);
		else
			(*n)++;
		f = vend < fields_end ? vend + 1 : vend;
	}
	if (ok && *n == 0)
		ok = ts_why(why, "no fields");
	buf_free(&tags);
	buf_free(&text);
	if (!ok)
		*n = 0;
	return ok;
}

/* A timestamp as RFC 3339 in UTC, with the store's precision. */
void ts_format_time(int64_t t, ts_unit_t unit, char *out, size_t n)
{
	static const int64_t per_sec[] = { 1, 1000, 1000000, 1000000000 };
	static const int digits[] = { 0, 3, 6, 9 };
	int64_t sec = t / per_sec[unit], frac = t % per_sec[unit];
	if (frac < 0) {
		sec--;
		frac += per_sec[unit];
	}
	time_t tt = (time_t)sec;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL) {
		snprintf(out, n, "%" PRId64, t);
		return;
	}
	size_t len = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
	if (digits[unit] > 0)
		snprintf(out + len, n - len, ".%0*lldZ", digits[unit], (long long)frac);
	else
		snprintf(out + len, n - len, "Z");
}
