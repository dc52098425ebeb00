/* ts_query.c — aggregating range queries (see ts_query.h). */
#include "kv/ts_query.h"

#include "kv/ts_down.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ts_agg_names[] = { "min", "max", "sum", "count", "avg", "last", "rate", "none" };

bool ts_agg_parse(const char *text, ts_agg_t *out)
{
	for (int a = TS_AGG_MIN; a <= TS_AGG_NONE; a++)
		if (strcmp(text, ts_agg_names[a]) == 0) {
			*out = (ts_agg_t)a;
			return true;
		}
	return false;
}

const char *ts_agg_name(ts_agg_t agg) { return ts_agg_names[agg]; }

/*
 * The value of agg over one window's points p[0..n) (in time order): false
 * when it has none. One tight loop per aggregate: a query folds every point
 * it reads, so this is as hot as decoding.
 */
static bool ts_fold(const ts_point_t *p, size_t n, ts_agg_t agg, double per_sec, double *v)
{
	if (n == 0)
		return false;
	double acc = p[0].v;
	switch (agg) {
	case TS_AGG_MIN:
		for (size_t i = 1; i < n; i++)
			acc = p[i].v < acc ? p[i].v : acc;
		break;
	case TS_AGG_MAX:
		for (size_t i = 1; i < n; i++)
			acc = p[i].v > acc ? p[i].v : acc;
		break;
	case TS_AGG_SUM:
	case TS_AGG_AVG:
		for (size_t i = 1; i < n; i++)
			acc += p[i].v;
		acc = agg == TS_AGG_AVG ? acc / (double)n : acc;
		break;
	case TS_AGG_COUNT: acc = (double)n; break;
	case TS_AGG_LAST: acc = p[n - 1].v; break;
	case TS_AGG_RATE:
		if (n < 2 || p[n - 1].ts == p[0].ts)
			return false;
		acc = 0;
		for (size_t i = 1; i < n; i++) /* a fall is a counter reset: the new value is the rise */
			acc += p[i].v >= p[i - 1].v ? p[i].v - p[i - 1].v : p[i].v;
		acc /= (double)(p[n - 1].ts - p[0].ts) / per_sec;
		break;
	case TS_AGG_NONE: return false;
	}
	*v = acc;
	return true;
}

typedef struct ts_qrun {
	const ts_query_t *q;
	ts_result_t *res;
	size_t cap;
	double per_sec;         /* the store's units in a second */
	sl_err_t *err;
} ts_qrun_t;

/* A new row for name, its windows empty. */
static int ts_row_add(ts_qrun_t *r, const char *name, size_t len)
{
	ts_result_t *res = r->res;
	if ((res->rows + 1) * res->steps > TS_QUERY_MAX_CELLS)
		return sl_errf(r->err, SL_INVALID, "ts query: %zu series x %zu steps is more than %u values; "
			       "take a longer step or a shorter range", res->rows + 1, res->steps,
			       TS_QUERY_MAX_CELLS);
	if (res->rows == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		char **names = realloc(res->names, cap * sizeof *names);
		if (names != NULL)
			res->names = names;
		double *v = names ? realloc(res->v, cap * res->steps * sizeof *v) : NULL;
		if (v != NULL)
			res->v = v;
		uint8_t *has = v ? realloc(res->has, cap * res->steps) : NULL;
		if (has == NULL)
			return sl_errf(r->err, SL_NOMEM, "ts query: out of memory");
		res->has = has;
		r->cap = cap;
	}
	res->names[res->rows] = strndup(name, len);
	if (res->names[res->rows] == NULL)
		return sl_errf(r->err, SL_NOMEM, "ts query: out of memory");
	memset(res->has + res->rows * res->steps, 0, res->steps);
	res->rows++;
	return SL_OK;
}

/*
 * A window being folded from summaries of downsampled intervals (and the
 * points after them): the same seven numbers a summary holds (kv/ts_down.h).
 */
static void ts_acc_add(ts_summary_t *w, const ts_summary_t *x)
{
	if (w->count == 0) {
		*w = *x;
		return;
	}
	w->count += x->count;
	w->sum += x->sum;
	w->min = x->min < w->min ? x->min : w->min;
	w->max = x->max > w->max ? x->max : w->max;
	w->rise += x->rise + (x->first >= w->last ? x->first - w->last : x->first);
	w->last = x->last;
	w->last_ts = x->last_ts;
}

static bool ts_acc_value(const ts_summary_t *w, ts_agg_t agg, double per_sec, double *v)
{
	switch (agg) {
	case TS_AGG_MIN: *v = w->min; break;
	case TS_AGG_MAX: *v = w->max; break;
	case TS_AGG_SUM: *v = w->sum; break;
	case TS_AGG_COUNT: *v = w->count; break;
	case TS_AGG_AVG: *v = w->sum / w->count; break;
	case TS_AGG_LAST: *v = w->last; break;
	case TS_AGG_RATE:
		if (w->count < 2 || w->last_ts == w->first_ts)
			return false;
		*v = w->rise / ((double)(w->last_ts - w->first_ts) / per_sec);
		break;
	case TS_AGG_NONE: return false;
	}
	return w->count > 0;
}

/* Folds summaries, then points, window by window (a window may take both). */
static void ts_fold_summaries(ts_qrun_t *r, const ts_summary_t *sums, size_t ns,
			      const ts_point_t *pts, size_t n, double *v, uint8_t *has)
{
	ts_result_t *res = r->res;
	ts_summary_t w = { 0 };
	uint64_t k = UINT64_MAX;
	for (size_t i = 0; i < ns + n; i++) {
		ts_summary_t one;
		if (i >= ns) {
			const ts_point_t *p = &pts[i - ns];
			one = (ts_summary_t){ p->ts, p->ts, p->ts, 1, p->v, p->v, p->v, p->v, p->v, 0 };
		}
		const ts_summary_t *x = i < ns ? &sums[i] : &one;
		uint64_t kx = (uint64_t)(x->start - res->from) / (uint64_t)res->step;
		if (kx != k && k != UINT64_MAX) {
			has[k] = ts_acc_value(&w, r->q->agg, r->per_sec, &v[k]);
			w.count = 0;
		}
		k = kx;
		ts_acc_add(&w, x);
	}
	if (k != UINT64_MAX)
		has[k] = ts_acc_value(&w, r->q->agg, r->per_sec, &v[k]);
}

/* ts_read's callback: one series, folded window by window. */
static int ts_series_fold(void *ctx, sl_slice_t series, const ts_summary_t *sums, size_t ns,
			  const ts_point_t *pts, size_t n)
{
	ts_qrun_t *r = ctx;
	ts_result_t *res = r->res;
	int rc = ts_row_add(r, (const char *)series.data, series.len);
	if (rc != SL_OK)
		return rc;
	double *v = res->v + (res->rows - 1) * res->steps;
	uint8_t *has = res->has + (res->rows - 1) * res->steps;
	if (ns > 0) {
		ts_fold_summaries(r, sums, ns, pts, n, v, has);
		return SL_OK;
	}
	/* Window k is [from + k*step, from + (k+1)*step): fold each run of points in one. */
	uint64_t step = (uint64_t)res->step;
	for (size_t i = 0, j; i < n; i = j) {
		uint64_t k = (uint64_t)(pts[i].ts - res->from) / step;
		uint64_t end = (uint64_t)res->from + (k + 1) * step; /* wraps only past every point */
		for (j = i + 1; j < n && (uint64_t)pts[j].ts < end; j++)
			;
		has[k] = ts_fold(pts + i, j - i, r->q->agg, r->per_sec, &v[k]);
	}
	return SL_OK;
}

/* The group of a series: {l="v",...} over the by labels it has. */
static char *ts_group_key(const char *series, const char *by)
{
	buf_t key = BUF_INIT, val = BUF_INIT, name = BUF_INIT;
	buf_append(&key, "{", 1);
	for (const char *p = by; p && *p;) {
		size_t len = strcspn(p, ",");
		buf_set(&name, p, len);
		buf_append(&name, "", 1);
		if (len > 0 && ts_series_label(sl_slice_str(series), (const char *)name.data, &val)) {
			if (key.len > 1)
				buf_append(&key, ",", 1);
			buf_append(&key, p, len);
			buf_append(&key, "=\"", 2);
			for (size_t i = 0; i < val.len; i++) {
				const char *esc = val.data[i] == '"' ? "\\\"" : val.data[i] == '\\' ? "\\\\"
						 : val.data[i] == '\n' ? "\\n" : NULL;
				buf_append(&key, esc ? esc : (const char *)&val.data[i], esc ? 2 : 1);
			}
			buf_append(&key, "\"", 1);
		}
		p += len + (p[len] == ',');
	}
	buf_append(&key, "}", 2); /* with the NUL */
	char *out = buf_ok(&key) && buf_ok(&val) && buf_ok(&name) ? strdup((char *)key.data) : NULL;
	buf_free(&key);
	buf_free(&val);
	buf_free(&name);
	return out;
}

typedef struct ts_grow {
	char *key;
	size_t row;
} ts_grow_t;

static int ts_grow_cmp(const void *a, const void *b)
{
	const ts_grow_t *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c != 0 ? c : (x->row > y->row) - (x->row < y->row);
}

/* Folds group g's rows (sorted run rows[0..n)) into its windows of out. */
static int ts_group_fold(const ts_result_t *in, const ts_grow_t *rows, size_t n, ts_agg_t agg,
			 double *v, uint8_t *has)
{
	ts_point_t *vals = malloc((n + 1) * sizeof *vals);
	if (vals == NULL)
		return SL_NOMEM;
	for (size_t k = 0; k < in->steps; k++) {
		size_t nv = 0;
		for (size_t i = 0; i < n; i++)
			if (in->has[rows[i].row * in->steps + k])
				vals[nv++] = (ts_point_t){ 0, in->v[rows[i].row * in->steps + k] };
		has[k] = ts_fold(vals, nv, agg, 1, &v[k]);
	}
	free(vals);
	return SL_OK;
}

/* Replaces the per-series rows by one row per group. */
static int ts_across(ts_qrun_t *r)
{
	ts_result_t *in = r->res, out = *in;
	ts_grow_t *g = calloc(in->rows + 1, sizeof *g);
	int rc = g ? SL_OK : sl_errf(r->err, SL_NOMEM, "ts query: out of memory");
	for (size_t i = 0; rc == SL_OK && i < in->rows; i++) {
		g[i] = (ts_grow_t){ ts_group_key(in->names[i], r->q->by), i };
		if (g[i].key == NULL)
			rc = sl_errf(r->err, SL_NOMEM, "ts query: out of memory");
	}
	if (rc == SL_OK)
		qsort(g, in->rows, sizeof *g, ts_grow_cmp);
	out.rows = 0;
	out.names = NULL;
	out.v = NULL;
	out.has = NULL;
	r->res = &out;
	r->cap = 0;
	for (size_t i = 0, j; rc == SL_OK && i < in->rows; i = j) {
		for (j = i + 1; j < in->rows && strcmp(g[j].key, g[i].key) == 0; j++)
			;
		rc = ts_row_add(r, g[i].key, strlen(g[i].key));
		if (rc == SL_OK && ts_group_fold(in, g + i, j - i, r->q->across,
						 out.v + (out.rows - 1) * out.steps,
						 out.has + (out.rows - 1) * out.steps) != SL_OK)
			rc = sl_errf(r->err, SL_NOMEM, "ts query: out of memory");
	}
	for (size_t i = 0; g && i < in->rows; i++)
		free(g[i].key);
	free(g);
	ts_result_free(in);
	*in = out;
	r->res = in;
	return rc;
}

void ts_result_free(ts_result_t *res)
{
	for (size_t i = 0; i < res->rows; i++)
		free(res->names[i]);
	free(res->names);
	free(res->v);
	free(res->has);
	memset(res, 0, sizeof *res);
}

static int ts_query_check(const ts_query_t *q, ts_result_t *res, sl_err_t *err)
{
	if (q->from >= q->to)
		return sl_errf(err, SL_INVALID, "ts query: an empty range: from %lld is not before to %lld",
			       (long long)q->from, (long long)q->to);
	if (q->step < 0)
		return sl_errf(err, SL_INVALID, "ts query: a negative step");
	if (q->agg == TS_AGG_NONE)
		return sl_errf(err, SL_INVALID, "ts query: no aggregate per step");
	if (q->across == TS_AGG_LAST || q->across == TS_AGG_RATE)
		return sl_errf(err, SL_INVALID, "ts query: %s does not combine series; take sum, min, max, "
			       "avg or count", ts_agg_name(q->across));
	uint64_t span = (uint64_t)q->to - (uint64_t)q->from;
	res->step = q->step == 0 || (uint64_t)q->step > span ? (int64_t)(span > INT64_MAX ? INT64_MAX : span)
							     : q->step;
	res->steps = (size_t)((span - 1) / (uint64_t)res->step + 1);
	res->from = q->from;
	if (res->steps > TS_QUERY_MAX_CELLS)
		return sl_errf(err, SL_INVALID, "ts query: %zu steps; at most %u", res->steps,
			       TS_QUERY_MAX_CELLS);
	return SL_OK;
}

int ts_query_run(ts_t *db, const ts_query_t *q, ts_result_t *res, sl_err_t *err)
{
	memset(res, 0, sizeof *res);
	int rc = ts_query_check(q, res, err);
	if (rc != SL_OK)
		return rc;
	ts_selector_t sel;
	char why[TS_SELECT_WHY_BYTES];
	if (!ts_select_parse(q->selector, &sel, why))
		return sl_errf(err, SL_INVALID, "ts query: selector %s: %s", q->selector, why);
	static const double per_sec[] = { 1, 1e3, 1e6, 1e9 };
	ts_qrun_t r = { q, res, 0, per_sec[ts_unit(db)], err };
	rc = ts_read(db, &sel, q->from, q->to, ts_series_fold, &r, &res->st, err);
	ts_select_free(&sel);
	if (rc == SL_OK && q->across != TS_AGG_NONE)
		rc = ts_across(&r);
	return rc;
}
