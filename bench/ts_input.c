/* ts_input.c — reading points from CSV or line-protocol files (see ts_input.h). */
#include "bench/ts_input.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/checksum.h"

#define TS_CANON_MAX (1u << 16) /* series kept before the table starts over */

/* Series as written -> canonical form: open addressing over an arena. */
struct ts_canon {
	buf_t arena;
	struct ts_canon_entry {
		uint32_t raw, raw_len, can, can_len;
	} *e;
	uint32_t n, *slots, nslots;
	buf_t scratch;
};

static ts_canon_t *ts_canon_new(void)
{
	ts_canon_t *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->nslots = 2 * TS_CANON_MAX;
	c->slots = calloc(c->nslots, sizeof *c->slots);
	c->e = malloc(TS_CANON_MAX * sizeof *c->e);
	if (c->slots == NULL || c->e == NULL) {
		free(c->slots);
		free(c->e);
		free(c);
		return NULL;
	}
	return c;
}

static void ts_canon_free(ts_canon_t *c)
{
	if (c == NULL)
		return;
	buf_free(&c->arena);
	buf_free(&c->scratch);
	free(c->e);
	free(c->slots);
	free(c);
}

/* The canonical form of raw (a CSV series field): false with why when malformed. */
static bool ts_canon_get(ts_canon_t *c, sl_slice_t raw, sl_slice_t *out, char *why)
{
	uint32_t mask = c->nslots - 1, i = (uint32_t)checksum_xxh3(raw.data, raw.len, 0) & mask;
	for (; c->slots[i] != 0; i = (i + 1) & mask) {
		const struct ts_canon_entry *e = &c->e[c->slots[i] - 1];
		if (e->raw_len == raw.len && memcmp(c->arena.data + e->raw, raw.data, raw.len) == 0) {
			*out = sl_slice(c->arena.data + e->can, e->can_len);
			return true;
		}
	}
	if (!ts_csv_series(raw, &c->scratch, why))
		return false;
	if (c->n == TS_CANON_MAX) { /* full: start over (the slot found above is then stale) */
		memset(c->slots, 0, c->nslots * sizeof *c->slots);
		c->n = 0;
		buf_clear(&c->arena);
		for (i = (uint32_t)checksum_xxh3(raw.data, raw.len, 0) & mask; c->slots[i] != 0;)
			i = (i + 1) & mask;
	}
	struct ts_canon_entry *e = &c->e[c->n];
	e->raw = (uint32_t)c->arena.len;
	e->raw_len = (uint32_t)raw.len;
	buf_append(&c->arena, raw.data, raw.len);
	e->can = (uint32_t)c->arena.len;
	e->can_len = (uint32_t)c->scratch.len;
	buf_append(&c->arena, c->scratch.data, c->scratch.len);
	if (!buf_ok(&c->arena)) {
		snprintf(why, TS_WHY_BYTES, "out of memory");
		return false;
	}
	c->slots[i] = ++c->n;
	*out = sl_slice(c->arena.data + e->can, e->can_len);
	return true;
}

static bool ts_input_fail(ts_input_t *in, const char *why)
{
	snprintf(in->error, sizeof in->error, "%s: %s", in->path, why);
	return false;
}

/* Reads the next line into lbuf: its length, or -1 at the end (-2 on a read error). */
static ssize_t ts_input_line(ts_input_t *in)
{
	errno = 0;
	ssize_t len = getline(&in->lbuf, &in->lcap, in->f);
	if (len < 0)
		return ferror(in->f) ? -2 : -1;
	in->line++;
	in->bytes += (uint64_t)len;
	if (len > 0 && in->lbuf[len - 1] == '\n')
		len--;
	if (len > 0 && in->lbuf[len - 1] == '\r')
		len--;
	return len;
}

static bool ts_is_header(const char *p, size_t n)
{
	static const char h[] = "timestamp,series,value";
	return n == sizeof h - 1 && strncasecmp(p, h, n) == 0;
}

bool ts_input_open(ts_input_t *in, const char *path, const char *format, ts_unit_t given,
		   ts_unit_t store)
{
	memset(in, 0, sizeof *in);
	in->path = path;
	in->given = given;
	in->store = store;
	if (format != NULL && strcmp(format, "csv") != 0 && strcmp(format, "lp") != 0)
		return ts_input_fail(in, "unknown format; the formats are csv and lp");
	in->f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (in->f == NULL)
		return ts_input_fail(in, strerror(errno));
	struct stat st;
	if (fstat(fileno(in->f), &st) == 0 && S_ISREG(st.st_mode))
		in->size = (uint64_t)st.st_size;
	in->canon = ts_canon_new();
	if (in->canon == NULL)
		return ts_input_fail(in, "out of memory");
	/* The first line decides the format: the CSV header, or a line-protocol line. */
	int c = getc(in->f);
	if (c != EOF)
		ungetc(c, in->f);
	if (c != EOF && format == NULL) {
		ssize_t len = ts_input_line(in);
		size_t got = len > 0 ? (size_t)len : 0;
		in->lp = !ts_is_header(in->lbuf, got);
		if (in->lp) { /* not a header: read it again as data */
			rewind(in->f);
			in->line = 0;
			in->bytes = 0;
			if (in->f == stdin)
				return ts_input_fail(in, "give --format lp for line protocol on stdin");
		}
	} else if (format != NULL) {
		in->lp = strcmp(format, "lp") == 0;
		if (!in->lp) {
			ssize_t len = ts_input_line(in);
			if (len >= 0 && !ts_is_header(in->lbuf, (size_t)len))
				return ts_input_fail(in, "line 1 is not the header timestamp,series,value");
		}
	}
	return true;
}

static int ts_input_bad(ts_input_t *in, const char *why)
{
	snprintf(in->error, sizeof in->error, "%s:%llu: %s", in->path, (unsigned long long)in->line, why);
	return -1;
}

static int ts_input_csv(ts_input_t *in, sl_slice_t line)
{
	sl_slice_t f[3];
	char why[2 * TS_WHY_BYTES], sub[TS_WHY_BYTES];
	ts_unit_t seen;
	if (!ts_csv_split(line, f, why))
		return ts_input_bad(in, why);
	if (!ts_time_parse(f[0], in->given, in->store, &in->ts, &seen, sub)) {
		snprintf(why, sizeof why, "timestamp: %s", sub);
		return ts_input_bad(in, why);
	}
	if (!ts_value_parse(f[2], &in->v[0], sub)) {
		snprintf(why, sizeof why, "value: %s", sub);
		return ts_input_bad(in, why);
	}
	if (!ts_canon_get(in->canon, f[1], &in->series[0], why))
		return ts_input_bad(in, why);
	in->seen[seen]++;
	in->n = 1;
	return 1;
}

static int ts_input_lp(ts_input_t *in, sl_slice_t line)
{
	char why[TS_WHY_BYTES];
	if (!ts_lp_line(line, in->given, in->store, &in->ts, in->lpser, in->v, &in->n, why))
		return ts_input_bad(in, why);
	for (size_t i = 0; i < in->n; i++)
		in->series[i] = buf_slice(&in->lpser[i]);
	in->seen[in->given == TS_UNIT_AUTO ? TS_UNIT_NS : in->given]++;
	return 1;
}

int ts_input_next(ts_input_t *in)
{
	for (;;) {
		ssize_t len = ts_input_line(in);
		if (len == -2) {
			snprintf(in->error, sizeof in->error, "%s: read error: %s", in->path, strerror(errno));
			return -2;
		}
		if (len < 0)
			return 0;
		sl_slice_t line = sl_slice(in->lbuf, (size_t)len);
		size_t k = 0;
		while (k < line.len && isspace(line.data[k]))
			k++;
		if (k == line.len || (in->lp && line.data[k] == '#'))
			continue; /* blank lines, and line-protocol comments */
		return in->lp ? ts_input_lp(in, line) : ts_input_csv(in, line);
	}
}

void ts_input_close(ts_input_t *in)
{
	if (in->f != NULL && in->f != stdin)
		fclose(in->f);
	free(in->lbuf);
	for (size_t i = 0; i < TS_LP_MAX_FIELDS; i++)
		buf_free(&in->lpser[i]);
	ts_canon_free(in->canon);
	memset(in, 0, sizeof *in);
}

bool ts_batch_init(ts_batch_t *b, size_t target)
{
	memset(b, 0, sizeof *b);
	b->target = target;
	b->cap = target + TS_LP_MAX_FIELDS;
	b->p = malloc(b->cap * sizeof *b->p);
	b->lines = malloc(b->cap * sizeof *b->lines);
	b->off = malloc(b->cap * sizeof *b->off);
	return b->p && b->lines && b->off;
}

void ts_batch_free(ts_batch_t *b)
{
	free(b->p);
	free(b->lines);
	free(b->off);
	buf_free(&b->names);
	memset(b, 0, sizeof *b);
}

bool ts_batch_add(ts_batch_t *b, const ts_input_t *in)
{
	for (size_t i = 0; i < in->n && b->n < b->cap; i++) {
		b->off[b->n] = (uint32_t)b->names.len;
		buf_append(&b->names, in->series[i].data, in->series[i].len);
		b->lines[b->n] = in->line;
		b->p[b->n++] = (ts_sample_t){ { NULL, 0 }, in->ts, in->v[i] };
	}
	return buf_ok(&b->names);
}

const ts_sample_t *ts_batch_samples(ts_batch_t *b)
{
	for (size_t k = 0; k < b->n; k++)
		b->p[k].series = sl_slice(b->names.data + b->off[k],
					  (k + 1 < b->n ? b->off[k + 1] : b->names.len) - b->off[k]);
	return b->p;
}
