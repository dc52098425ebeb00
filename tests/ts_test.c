/*
 * ts_test.c — the time-series store (kv/ts, kv/ts_seg, kv/ts_query) against
 * a model: every point written is kept in plain arrays (the last write of a
 * timestamp wins), and every query's answer is recomputed from them by brute
 * force — each series tested with the selector, each window's points folded
 * by a loop of its own. The store is closed and reopened between phases, and
 * ts_check runs after each.
 */
#include "tests/testutil.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kv/ts.h"
#include "kv/ts_query.h"
#include "kv/ts_seg.h"
#include "kv/ts_wal.h"

/* ---------------------------------------------------------------- the model */

#define M_SERIES 12

typedef struct mser {
	char name[96];
	ts_point_t *p;          /* every accepted write, in arrival order */
	size_t n, cap;
	int64_t last;           /* the newest in-order timestamp */
	double level;           /* the walk's value */
} mser_t;

typedef struct model {
	mser_t s[M_SERIES];
	int64_t newest;
} model_t;

static const char *m_names[M_SERIES] = {
	"cpu{host=\"a\",mode=\"sys\"}", "cpu{host=\"a\",mode=\"user\"}", "cpu{host=\"b\",mode=\"sys\"}",
	"cpu{host=\"b\",mode=\"user\"}", "cpu{host=\"c\",mode=\"user\"}", "mem{host=\"a\"}",
	"mem{host=\"b\"}", "mem{host=\"c\"}", "net_rx{host=\"a\",if=\"eth0\"}",
	"net_rx{host=\"b\",if=\"eth0\"}", "net_rx{host=\"b\",if=\"lo\"}", "up",
};

static void model_init(model_t *m)
{
	memset(m, 0, sizeof *m);
	for (int i = 0; i < M_SERIES; i++) {
		snprintf(m->s[i].name, sizeof m->s[i].name, "%s", m_names[i]);
		m->s[i].last = INT64_MIN;
	}
	m->newest = INT64_MIN;
}

static void model_free(model_t *m)
{
	for (int i = 0; i < M_SERIES; i++)
		free(m->s[i].p);
}

static void model_put(model_t *m, int s, int64_t ts, double v)
{
	mser_t *x = &m->s[s];
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 256;
		x->p = realloc(x->p, x->cap * sizeof *x->p);
		assert_non_null(x->p);
	}
	x->p[x->n++] = (ts_point_t){ ts, v };
	x->last = ts > x->last ? ts : x->last;
	m->newest = ts > m->newest ? ts : m->newest;
}

/* The series' points in [from, to), the last write of each timestamp, in time order. */
static size_t model_points(const mser_t *x, int64_t from, int64_t to, ts_point_t *out)
{
	size_t n = 0;
	for (size_t i = 0; i < x->n; i++) {
		if (x->p[i].ts < from || x->p[i].ts >= to)
			continue;
		size_t k = 0;
		while (k < n && out[k].ts != x->p[i].ts)
			k++;
		out[k] = x->p[i];
		n += k == n;
	}
	for (size_t i = 1; i < n; i++) /* insertion sort: small windows, the test's own code */
		for (size_t k = i; k > 0 && out[k - 1].ts > out[k].ts; k--) {
			ts_point_t t = out[k];
			out[k] = out[k - 1];
			out[k - 1] = t;
		}
	return n;
}

/* ---------------------------------------------------------------- writing */

typedef struct gen {
	tu_rng_t r;
	int64_t t;              /* the clock, ms */
	int64_t window;         /* the store's out-of-order window, ms */
} gen_t;

static double gen_value(gen_t *g, mser_t *x, int s)
{
	if (s >= 8 && s < 11) { /* counters, with a reset now and then */
		x->level = tu_below(&g->r, 500) == 0 ? 0 : x->level + (double)tu_below(&g->r, 1000);
		return x->level;
	}
	x->level += ((double)tu_below(&g->r, 201) - 100) / 64; /* exact in binary */
	return x->level;
}

/*
 * One batch: a tick of every series (100 ms apart, a little jitter), some
 * out-of-order points and duplicates well inside the window (must be
 * accepted), some far older than it (must be refused).
 */
static size_t gen_batch(gen_t *g, model_t *m, ts_sample_t *b, uint8_t *expect_refused, int ticks)
{
	size_t n = 0;
	for (int k = 0; k < ticks; k++) {
		g->t += 100;
		for (int s = 0; s < M_SERIES; s++) {
			mser_t *x = &m->s[s];
			int64_t ts = g->t + (int64_t)tu_below(&g->r, 40);
			unsigned kind = (unsigned)tu_below(&g->r, 50);
			if (kind == 0 && x->last != INT64_MIN) {
				ts = x->last - (int64_t)tu_below(&g->r, (uint64_t)g->window / 4); /* late, or a duplicate */
			} else if (kind == 1 && x->last != INT64_MIN) {
				ts = m->newest - g->window - 1 - (int64_t)tu_below(&g->r, 100000); /* too old */
				b[n] = (ts_sample_t){ sl_slice_str(x->name), ts, 1.0 };
				expect_refused[n++] = 1;
				continue;
			} else if (ts <= x->last) {
				ts = x->last + 1;
			}
			double v = gen_value(g, x, s);
			b[n] = (ts_sample_t){ sl_slice_str(x->name), ts, v };
			expect_refused[n++] = 0;
			model_put(m, s, ts, v);
		}
	}
	return n;
}

static ts_t *open_store(env_t *env, const char *dir, const ts_opts_t *o)
{
	ts_t *db;
	sl_err_t err;
	if (ts_open(env, dir, o, &db, &err) != SL_OK)
		fail_msg("ts_open %s: %s", dir, err.msg);
	return db;
}

static void check_store(ts_t *db)
{
	sl_err_t err;
	if (ts_check(db, &err) != SL_OK)
		fail_msg("ts_check: %s", err.msg);
}

/* ---------------------------------------------------------------- queries */

static const char *q_selectors[] = {
	"cpu", "{host=\"a\"}", "cpu{mode!=\"user\"}", "{__name__=~\"cpu|mem\"}",
	"{host=~\"a|b\",__name__!=\"mem\"}", "net_rx{if=\"eth0\",host!~\"c.*\"}", "{host=\"\"}",
	"mem{host=\"zz\"}", "{__name__=~\".+\"}", "up", "cpu{host=\"b\",mode=\"user\"}",
};
static const char *q_by[] = { NULL, "host", "mode", "host,mode", "if" };

/* The window's value, computed the plain way. */
static bool oracle_window(const ts_point_t *p, size_t n, ts_agg_t agg, double *v)
{
	if (n == 0)
		return false;
	double sum = 0, min = p[0].v, max = p[0].v, rise = 0;
	for (size_t i = 0; i < n; i++) {
		sum += p[i].v;
		if (p[i].v < min)
			min = p[i].v;
		if (p[i].v > max)
			max = p[i].v;
		if (i > 0)
			rise += p[i].v >= p[i - 1].v ? p[i].v - p[i - 1].v : p[i].v;
	}
	switch (agg) {
	case TS_AGG_MIN: *v = min; return true;
	case TS_AGG_MAX: *v = max; return true;
	case TS_AGG_SUM: *v = sum; return true;
	case TS_AGG_COUNT: *v = (double)n; return true;
	case TS_AGG_AVG: *v = sum / (double)n; return true;
	case TS_AGG_LAST: *v = p[n - 1].v; return true;
	case TS_AGG_RATE:
		if (n < 2)
			return false;
		*v = rise / ((double)(p[n - 1].ts - p[0].ts) / 1000.0);
		return true;
	default: return false;
	}
}

static bool close_enough(double a, double b)
{
	return a == b || fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b));
}

/* The group key, as the store writes it, for the test's plain label values. */
static void oracle_key(const char *name, const char *by, char *out, size_t n)
{
	size_t len = (size_t)snprintf(out, n, "{");
	buf_t val = BUF_INIT;
	char label[32];
	for (const char *p = by; p && *p;) {
		size_t l = strcspn(p, ",");
		snprintf(label, sizeof label, "%.*s", (int)l, p);
		if (ts_series_label(sl_slice_str(name), label, &val))
			len += (size_t)snprintf(out + len, n - len, "%s%s=\"%.*s\"", len > 1 ? "," : "", label,
						(int)val.len, (const char *)val.data);
		p += l + (p[l] == ',');
	}
	snprintf(out + len, n - len, "}");
	buf_free(&val);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static uint64_t summaries_read; /* interval summaries the queries folded, in all */

/* Checks one query's answer against the model, window by window. */
static void check_query(ts_t *db, const model_t *m, const ts_query_t *q, ts_point_t *scratch)
{
	ts_result_t res;
	sl_err_t err;
	if (ts_query_run(db, q, &res, &err) != SL_OK)
		fail_msg("query %s: %s", q->selector, err.msg);
	summaries_read += res.st.summaries;
	ts_selector_t sel;
	char why[TS_SELECT_WHY_BYTES];
	assert_true(ts_select_parse(q->selector, &sel, why));
	/* Per-series rows, in name order (the model's names are in that order). */
	double v[64];
	const char *rows[M_SERIES];
	double rv[M_SERIES][64];
	uint8_t rh[M_SERIES][64];
	size_t nrows = 0;
	assert_true(res.steps <= 64);
	for (int s = 0; s < M_SERIES; s++) {
		if (!ts_select_match(&sel, sl_slice_str(m->s[s].name)) ||
		    model_points(&m->s[s], q->from, q->to, scratch) == 0)
			continue;
		for (size_t k = 0; k < res.steps; k++) {
			int64_t w0 = q->from + (int64_t)k * res.step;
			int64_t w1 = k + 1 == res.steps ? q->to : w0 + res.step;
			size_t n = model_points(&m->s[s], w0, w1, scratch);
			rh[nrows][k] = oracle_window(scratch, n, q->agg, &rv[nrows][k]);
		}
		rows[nrows++] = m->s[s].name;
	}
	ts_select_free(&sel);
	if (q->across == TS_AGG_NONE) {
		assert_int_equal(res.rows, nrows);
		for (size_t i = 0; i < nrows; i++) {
			assert_string_equal(res.names[i], rows[i]);
			for (size_t k = 0; k < res.steps; k++) {
				assert_int_equal(res.has[i * res.steps + k], rh[i][k]);
				if (rh[i][k] && !close_enough(res.v[i * res.steps + k], rv[i][k]))
					fail_msg("%s %s step %zu: %.17g, the model says %.17g", q->selector,
						 rows[i], k, res.v[i * res.steps + k], rv[i][k]);
			}
		}
	} else {
		char keys[M_SERIES][128], *order[M_SERIES];
		for (size_t i = 0; i < nrows; i++) {
			oracle_key(rows[i], q->by, keys[i], sizeof keys[i]);
			order[i] = keys[i];
		}
		qsort(order, nrows, sizeof *order, name_cmp);
		size_t groups = 0;
		for (size_t i = 0; i < nrows; i++) {
			if (i > 0 && strcmp(order[i], order[i - 1]) == 0)
				continue;
			assert_true(groups < res.rows);
			assert_string_equal(res.names[groups], order[i]);
			for (size_t k = 0; k < res.steps; k++) {
				ts_point_t vals[M_SERIES];
				size_t nv = 0;
				for (size_t r = 0; r < nrows; r++) /* rows in name order, as the store adds them */
					if (strcmp(keys[r], order[i]) == 0 && rh[r][k])
						vals[nv++] = (ts_point_t){ 0, rv[r][k] };
				uint8_t h = oracle_window(vals, nv, q->across, &v[k]);
				assert_int_equal(res.has[groups * res.steps + k], h);
				if (h && !close_enough(res.v[groups * res.steps + k], v[k]))
					fail_msg("%s by %s group %s step %zu: %.17g, the model says %.17g",
						 q->selector, q->by ? q->by : "()", order[i], k,
						 res.v[groups * res.steps + k], v[k]);
			}
			groups++;
		}
		assert_int_equal(res.rows, groups);
	}
	ts_result_free(&res);
}

/* Random queries; with align > 0 their ranges and steps are whole multiples of align. */
static void random_queries_aligned(ts_t *db, const model_t *m, tu_rng_t *r, int count, int64_t t0,
				   int64_t t1, int64_t align);

static void random_queries(ts_t *db, const model_t *m, tu_rng_t *r, int count, int64_t t0, int64_t t1)
{
	random_queries_aligned(db, m, r, count, t0, t1, 0);
}

static void random_queries_aligned(ts_t *db, const model_t *m, tu_rng_t *r, int count, int64_t t0,
				   int64_t t1, int64_t align)
{
	static const int64_t steps[] = { 0, 250, 1000, 7000, 60000 };
	ts_point_t *scratch = malloc(200000 * sizeof *scratch);
	assert_non_null(scratch);
	for (int i = 0; i < count; i++) {
		ts_query_t q = { 0 };
		q.selector = q_selectors[tu_below(r, sizeof q_selectors / sizeof *q_selectors)];
		q.from = t0 - 1000 + (int64_t)tu_below(r, (uint64_t)(t1 - t0 + 1000));
		q.to = q.from + 1 + (int64_t)tu_below(r, (uint64_t)(t1 - q.from + 2000));
		q.step = steps[tu_below(r, 5)];
		if (q.step != 0 && (q.to - q.from) / q.step >= 64)
			q.step = (q.to - q.from) / 32 + 1;
		if (align > 0) {
			q.from -= q.from % align;
			q.to += align - q.to % align;
			q.step = q.step == 0 ? 0 : q.step + align - q.step % align;
		}
		q.agg = (ts_agg_t)tu_below(r, TS_AGG_RATE + 1);
		static const ts_agg_t across[] = { TS_AGG_NONE, TS_AGG_NONE, TS_AGG_SUM, TS_AGG_MIN,
						   TS_AGG_MAX, TS_AGG_AVG, TS_AGG_COUNT };
		q.across = across[tu_below(r, 7)];
		q.by = q_by[tu_below(r, 5)];
		check_query(db, m, &q, scratch);
	}
	free(scratch);
}

/* ---------------------------------------------------------------- tests */

static void add_batch(ts_t *db, const ts_sample_t *b, size_t n, const uint8_t *expect)
{
	uint8_t got[4096];
	size_t refused;
	sl_err_t err;
	if (ts_add(db, b, n, got, &refused, &err) != SL_OK)
		fail_msg("ts_add: %s", err.msg);
	size_t want = 0;
	for (size_t i = 0; i < n; i++) {
		want += expect[i];
		if (got[i] != expect[i])
			fail_msg("point %zu (%.*s at %lld) %s, expected %s", i, (int)b[i].series.len,
				 (const char *)b[i].series.data, (long long)b[i].ts,
				 got[i] ? "refused" : "accepted", expect[i] ? "refused" : "accepted");
	}
	assert_int_equal(refused, want);
}

/* Writes, queries, reopens, merges: every answer equal to the model's. */
static void model_round(const char *dir, uint64_t seed);

/* Soak mode runs many fresh stores rather than one 50 times larger (the model's brute
 * force reads every point for every window). */
static void test_store_against_model(void **state)
{
	const char *dir = ((tu_fixture_t *)*state)->dir;
	uint64_t rounds = tu_ops(1);
	for (uint64_t r = 0; r < rounds; r++) {
		char sub[4200];
		snprintf(sub, sizeof sub, "%s/round-%llu", dir, (unsigned long long)r);
		model_round(sub, tu_seed() + r);
	}
}

static void model_round(const char *dir, uint64_t seed)
{
	env_t *env = env_new();
	model_t m;
	model_init(&m);
	gen_t g = { .t = 1700000000000, .window = 2000 };
	tu_rng_init(&g.r, seed);
	ts_opts_t o = { .create = true, .block_ms = 10000, .window_ms = 2000 };
	ts_t *db = open_store(env, dir, &o);
	ts_sample_t b[4096];
	uint8_t expect[4096];
	int64_t t0 = g.t;
	for (int phase = 0; phase < 8; phase++) {
		int batches = 20 + (int)tu_below(&g.r, 60);
		for (int i = 0; i < batches; i++) {
			size_t n = gen_batch(&g, &m, b, expect, 1 + (int)tu_below(&g.r, 20));
			add_batch(db, b, n, expect);
		}
		check_store(db);
		random_queries(db, &m, &g.r, 40, t0, g.t);
		if (tu_below(&g.r, 2) == 0) {
			sl_err_t err;
			assert_int_equal(ts_close(db, &err), SL_OK);
			db = open_store(env, dir, &o);
			check_store(db);
			random_queries(db, &m, &g.r, 20, t0, g.t);
		}
	}
	ts_stats_t st;
	ts_get_stats(db, &st);
	print_message("%llu segments, %llu cuts, %llu merges, %llu points in the head, %llu out of "
		      "order, %llu refused\n",
		      (unsigned long long)st.segments, (unsigned long long)st.cuts,
		      (unsigned long long)st.compactions, (unsigned long long)st.head_points,
		      (unsigned long long)st.out_of_order, (unsigned long long)st.refused);
	assert_true(st.segments > 0);
	assert_int_equal(st.series, M_SERIES);
	sl_err_t err;
	assert_int_equal(ts_close(db, &err), SL_OK);
	/* Read-only: the same answers, and no writes. */
	o.read_only = true;
	db = open_store(env, dir, &o);
	random_queries(db, &m, &g.r, 20, t0, g.t);
	size_t refused;
	assert_int_equal(ts_add(db, b, 1, NULL, &refused, &err), SL_READONLY);
	assert_int_equal(ts_close(db, &err), SL_OK);
	model_free(&m);
	env_free(env);
}

/* Last write wins; a strict store refuses what is out of order; bad names are refused whole. */
static void test_duplicates_and_order(void **state)
{
	const char *dir = ((tu_fixture_t *)*state)->dir;
	env_t *env = env_new();
	ts_opts_t o = { .create = true };
	ts_t *db = open_store(env, dir, &o);
	sl_slice_t up = sl_slice_str("up");
	ts_sample_t b[] = { { up, 1000, 1 }, { up, 2000, 2 }, { up, 1000, 10 }, { up, 3000, 3 },
			    { up, 2000, 20 }, { up, 2000, 21 } };
	uint8_t expect[6] = { 0 };
	add_batch(db, b, 6, expect);
	ts_query_t q = { .selector = "up", .from = 0, .to = 10000, .step = 1000, .agg = TS_AGG_LAST,
			 .across = TS_AGG_NONE };
	ts_result_t res;
	sl_err_t err;
	for (int round = 0; round < 2; round++) {
		assert_int_equal(ts_query_run(db, &q, &res, &err), SL_OK);
		assert_int_equal(res.rows, 1);
		assert_true(res.has[1] && res.has[2] && res.has[3] && !res.has[0] && !res.has[4]);
		assert_true(res.v[1] == 10 && res.v[2] == 21 && res.v[3] == 3);
		ts_result_free(&res);
		assert_int_equal(ts_close(db, &err), SL_OK); /* the saved head keeps the last writes */
		db = open_store(env, dir, &o);
	}
	/* A name not in canonical form: nothing of the batch is applied. */
	ts_sample_t bad[] = { { up, 4000, 4 }, { sl_slice_str("cpu{mode=\"u\",host=\"a\"}"), 4000, 1 } };
	size_t refused;
	assert_int_equal(ts_add(db, bad, 2, NULL, &refused, &err), SL_INVALID);
	assert_non_null(strstr(err.msg, "canonical"));
	q.agg = TS_AGG_COUNT;
	q.step = 0;
	assert_int_equal(ts_query_run(db, &q, &res, &err), SL_OK);
	assert_true(res.rows == 1 && res.v[0] == 3);
	ts_result_free(&res);
	assert_int_equal(ts_close(db, &err), SL_OK);
	/* Strict order: a point at or before the series' last is refused. */
	o.strict_order = true;
	db = open_store(env, dir, &o);
	ts_sample_t late[] = { { up, 3000, 5 }, { up, 2500, 5 }, { up, 3500, 5 } };
	uint8_t want[] = { 1, 1, 0 };
	add_batch(db, late, 3, want);
	assert_int_equal(ts_close(db, &err), SL_OK);
	env_free(env);
}

/* Retention drops whole old segments; merges make longer ones; answers stay right. */
static void test_retention_and_merges(void **state)
{
	const char *dir = ((tu_fixture_t *)*state)->dir;
	env_t *env = env_new();
	ts_opts_t o = { .create = true, .block_ms = 1000, .window_ms = 200, .retention_ms = 30000 };
	ts_t *db = open_store(env, dir, &o);
	ts_sample_t b[64];
	sl_err_t err;
	size_t refused;
	int64_t t = 0;
	for (int i = 0; i < 1200; i++, t += 100) { /* 120 s of one point per 100 ms */
		b[0] = (ts_sample_t){ sl_slice_str("g{k=\"x\"}"), t, (double)i };
		assert_int_equal(ts_add(db, b, 1, NULL, &refused, &err), SL_OK);
	}
	check_store(db);
	ts_stats_t st;
	ts_get_stats(db, &st);
	print_message("%llu segments, %llu merges, %llu dropped, oldest %lld\n",
		      (unsigned long long)st.segments, (unsigned long long)st.compactions,
		      (unsigned long long)st.dropped, (long long)st.mint);
	assert_true(st.dropped > 0 && st.compactions > 0);
	assert_true(st.mint > 0 && st.mint <= t - 30000);
	/* Everything from the oldest kept point on is there, and nothing before it. */
	ts_query_t q = { .selector = "g", .from = 0, .to = t, .agg = TS_AGG_COUNT, .across = TS_AGG_NONE };
	ts_result_t res;
	assert_int_equal(ts_query_run(db, &q, &res, &err), SL_OK);
	assert_true(res.rows == 1 && res.v[0] == (double)((t - st.mint) / 100));
	ts_result_free(&res);
	assert_int_equal(ts_close(db, &err), SL_OK);
	env_free(env);
}

/* Downsampled segments answer aligned queries exactly as the raw points would. */
static void test_downsampling(void **state)
{
	const char *dir = ((tu_fixture_t *)*state)->dir;
	env_t *env = env_new();
	model_t m;
	model_init(&m);
	gen_t g = { .t = 1700000000000, .window = 2000 };
	tu_rng_init(&g.r, tu_seed() + 7);
	ts_opts_t o = { .create = true, .block_ms = 10000, .window_ms = 2000,
			.downsample_after_ms = 30000, .downsample_ms = 1000 };
	ts_t *db = open_store(env, dir, &o);
	ts_sample_t b[4096];
	uint8_t expect[4096];
	int64_t t0 = g.t;
	for (int i = 0; i < 150; i++)
		add_batch(db, b, gen_batch(&g, &m, b, expect, 1 + (int)tu_below(&g.r, 20)), expect);
	check_store(db);
	ts_stats_t st;
	ts_get_stats(db, &st);
	print_message("%llu segments downsampled; %llu series\n", (unsigned long long)st.downsampled,
		      (unsigned long long)st.series);
	assert_true(st.downsampled > 0);
	assert_int_equal(st.series, M_SERIES);
	summaries_read = 0;
	random_queries_aligned(db, &m, &g.r, 60, t0, g.t, 1000);
	print_message("%llu interval summaries folded by the queries\n", (unsigned long long)summaries_read);
	assert_true(summaries_read > 0);
	sl_err_t err;
	assert_int_equal(ts_close(db, &err), SL_OK);
	db = open_store(env, dir, &o);
	random_queries_aligned(db, &m, &g.r, 20, t0, g.t, 1000);
	/* The label that names summaries is not a user's to write. */
	ts_sample_t bad = { sl_slice_str("up{__agg__=\"sum\"}"), g.t, 1 };
	size_t refused;
	assert_int_equal(ts_add(db, &bad, 1, NULL, &refused, &err), SL_INVALID);
	assert_non_null(strstr(err.msg, "reserved"));
	assert_int_equal(ts_close(db, &err), SL_OK);
	/* An interval that does not divide the block is refused. */
	o.downsample_ms = 7000;
	assert_int_equal(ts_open(env, dir, &o, &db, &err), SL_INVALID);
	model_free(&m);
	env_free(env);
}

/* ---------------------------------------------------------------- segments */

/* Flipped bytes anywhere in a segment: an error naming the file, never a wrong answer or a crash. */
static void test_segment_damage(void **state)
{
	const char *dir = ((tu_fixture_t *)*state)->dir;
	env_t *env = env_new();
	char path[512];
	snprintf(path, sizeof path, "%s/seg.tsseg", dir);
	ts_seg_meta_t meta = { .mint = 0, .maxt = 100000, .seq = 7, .unit = TS_UNIT_MS };
	ts_seg_writer_t *w;
	sl_err_t err;
	assert_int_equal(env_mkdir(env, dir, &err), SL_OK);
	assert_int_equal(ts_seg_writer_open(env, path, &meta, &w, &err), SL_OK);
	ts_point_t pts[3000];
	for (int s = 0; s < M_SERIES; s++) {
		for (int i = 0; i < 3000; i++)
			pts[i] = (ts_point_t){ i * 30 + s, (double)(i % 17) * 0.5 };
		assert_int_equal(ts_seg_writer_add(w, sl_slice_str(m_names[s]), pts, 3000, &err), SL_OK);
	}
	/* Out of order names are refused. */
	assert_int_equal(ts_seg_writer_add(w, sl_slice_str("aaa"), pts, 1, &err), SL_INVALID);
	assert_int_equal(ts_seg_writer_finish(w, &err), SL_OK);
	ts_seg_t *s;
	assert_int_equal(ts_seg_open(env, path, &s, &err), SL_OK);
	assert_int_equal(ts_seg_check(s, &err), SL_OK);
	assert_int_equal(ts_seg_series_count(s), M_SERIES);
	assert_int_equal(ts_seg_points(s), M_SERIES * 3000);
	ts_seg_close(s);
	uint64_t size = tu_file_size(path), caught = 0, step = size / 400 + 1;
	for (uint64_t off = 0; off < size; off += step) {
		tu_flip_byte(path, off, 0x10);
		int rc = ts_seg_open(env, path, &s, &err);
		if (rc == SL_OK) {
			rc = ts_seg_check(s, &err);
			ts_seg_close(s);
		}
		if (rc != SL_CORRUPT)
			fail_msg("a flipped byte at %llu of %llu went unnoticed (%d)", (unsigned long long)off,
				 (unsigned long long)size, rc);
		assert_non_null(strstr(err.msg, "seg.tsseg") != NULL ? err.msg : strstr(err.msg, "chunk"));
		caught++;
		tu_flip_byte(path, off, 0x10);
	}
	print_message("%llu flipped bytes, every one caught\n", (unsigned long long)caught);
	env_free(env);
}

/* Log records: what is written decodes back; damaged ones are refused. */
static int wal_def(void *ctx, uint32_t ref, sl_slice_t name, sl_err_t *err)
{
	(void)err;
	int *seen = ctx;
	seen[0] += (int)ref + (int)name.len;
	return SL_OK;
}

static int wal_point(void *ctx, uint32_t ref, int64_t ts, double v, sl_err_t *err)
{
	(void)err;
	int *seen = ctx;
	seen[1] += (int)ref + (int)ts + (int)v;
	return SL_OK;
}

static void test_wal_records(void **state)
{
	(void)state;
	ts_wal_rec_t r = { 0 };
	buf_t out = BUF_INIT;
	sl_err_t err;
	ts_wal_rec_reset(&r);
	ts_wal_rec_def(&r, 3, sl_slice_str("up"));
	ts_wal_rec_point(&r, 3, 1000, 5);
	ts_wal_rec_point(&r, 3, 900, 6);
	assert_int_equal(ts_wal_rec_finish(&r, &out, &err), SL_OK);
	int seen[2] = { 0, 0 };
	ts_wal_visitor_t v = { wal_def, wal_point, seen };
	assert_int_equal(ts_wal_decode(buf_slice(&out), &v, &err), SL_OK);
	assert_int_equal(seen[0], 5);
	assert_int_equal(seen[1], 3 + 1000 + 5 + 3 + 900 + 6);
	for (size_t cut = 0; cut < out.len; cut++)
		assert_int_equal(ts_wal_decode(sl_slice(out.data, cut), &v, &err), SL_CORRUPT);
	buf_append(&out, "x", 1);
	assert_int_equal(ts_wal_decode(buf_slice(&out), &v, &err), SL_CORRUPT);
	buf_free(&out);
	ts_wal_rec_free(&r);
}

/* ---------------------------------------------------------------- crashes and faults */

/* Batch i of a crash writer: every series at tick i (exact values to compare). */
static size_t crash_batch(uint64_t i, ts_sample_t *b)
{
	for (int s = 0; s < M_SERIES; s++)
		b[s] = (ts_sample_t){ sl_slice_str(m_names[s]), 1000000 + (int64_t)i * 250 + s,
				      (double)(i * 16 + (uint64_t)s) };
	return M_SERIES;
}

/* Every point of batches [0, acked) is there, with its value. */
static void crash_verify(env_t *env, const char *dir, uint64_t acked)
{
	ts_opts_t o = { .create = true, .block_ms = 10000 };
	ts_t *db = open_store(env, dir, &o);
	check_store(db);
	ts_query_t q = { .selector = "{__name__=~\".+\"}", .from = 1000000,
			 .to = 1000000 + (int64_t)(acked + 1000) * 250, .step = 250, .agg = TS_AGG_LAST,
			 .across = TS_AGG_NONE };
	ts_result_t res;
	sl_err_t err;
	if (acked > 0) {
		if (ts_query_run(db, &q, &res, &err) != SL_OK)
			fail_msg("query after crash: %s", err.msg);
		assert_int_equal(res.rows, M_SERIES);
		for (size_t r = 0; r < res.rows; r++)
			for (uint64_t k = 0; k < acked; k++)
				if (!res.has[r * res.steps + k] || res.v[r * res.steps + k] != (double)(k * 16 + r))
					fail_msg("batch %llu of %llu acknowledged is lost (series %s)",
						 (unsigned long long)k, (unsigned long long)acked, res.names[r]);
		ts_result_free(&res);
	}
	assert_int_equal(ts_close(db, &err), SL_OK);
}

/* A writer in a child; it reports each acknowledged batch on fd and dies however it dies. */
static void crash_child(env_t *env, const char *dir, sl_sync_t sync, uint64_t start, int fd)
{
	ts_opts_t o = { .create = true, .block_ms = 10000, .sync = sync, .batch_ms = 5 };
	ts_t *db;
	sl_err_t err;
	if (ts_open(env, dir, &o, &db, &err) != SL_OK)
		_exit(3);
	ts_sample_t b[M_SERIES];
	for (uint64_t i = start; i < start + 4000; i++) {
		size_t refused;
		if (ts_add(db, b, crash_batch(i, b), NULL, &refused, &err) != SL_OK || refused != 0)
			_exit(4);
		if (write(fd, &i, sizeof i) != sizeof i)
			_exit(5);
	}
	_exit(0);
}

/* Runs a writer child to its death; returns how many batches it acknowledged in all. */
static uint64_t crash_round(env_t *env, const char *dir, sl_sync_t sync, uint64_t start,
			    unsigned kill_after_us, const char *crash_part, env_op_t op, uint64_t nth)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (crash_part != NULL)
			env_crash_set(env, op, crash_part, nth);
		crash_child(env, dir, sync, start, fds[1]);
	}
	close(fds[1]);
	if (kill_after_us > 0) {
		usleep(kill_after_us);
		kill(pid, SIGKILL);
	}
	uint64_t last = start, i;
	bool any = false;
	while (read(fds[0], &i, sizeof i) == sizeof i) {
		last = i;
		any = true;
	}
	close(fds[0]);
	int status;
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		fail_msg("crash writer exited with %d", WEXITSTATUS(status));
	return any ? last + 1 : start;
}

/* SIGKILL at random moments, at every sync level: nothing acknowledged is lost. */
static void test_crash_kill(void **state)
{
	const char *dir = ((tu_fixture_t *)*state)->dir;
	env_t *env = env_new();
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	uint64_t acked = 0, rounds = tu_rounds(12);
	for (uint64_t round = 0; round < rounds; round++) {
		sl_sync_t sync = (sl_sync_t)(round % 3);
		acked = crash_round(env, dir, sync, acked, 2000 + (unsigned)tu_below(&r, 60000), NULL,
				    ENV_OP_WRITE, 0);
		crash_verify(env, dir, acked);
	}
	print_message("%llu rounds, %llu batches acknowledged and found\n", (unsigned long long)rounds,
		      (unsigned long long)acked);
	env_free(env);
}

/* Crashes at chosen moments: mid-way through writing a segment (a cut or a merge), the saved head, the log. */
static void test_crash_points(void **state)
{
	const char *dir = ((tu_fixture_t *)*state)->dir;
	env_t *env = env_new();
	static const struct {
		const char *part;
		env_op_t op;
	} plan[] = { { "seg-", ENV_OP_WRITE }, { "seg-", ENV_OP_SYNC }, { "seg-", ENV_OP_RENAME },
		     { "wal-", ENV_OP_WRITE }, { "wal-", ENV_OP_SYNC } };
	uint64_t acked = 0, fired = 0;
	for (size_t p = 0; p < sizeof plan / sizeof *plan; p++) {
		for (uint64_t nth = 1; nth <= 7; nth += 3) {
			uint64_t before = acked;
			acked = crash_round(env, dir, SL_SYNC_ALWAYS, acked, 0, plan[p].part, plan[p].op, nth);
			fired += acked < before + 4000;
			crash_verify(env, dir, acked);
		}
	}
	print_message("%llu crash points fired, %llu batches verified\n", (unsigned long long)fired,
		      (unsigned long long)acked);
	assert_true(fired > 0);
	env_free(env);
}

/* Power cuts (engine/env_loss) after acknowledged writes at sync always: none is lost. */
static void test_power_loss(void **state)
{
	const char *dir = ((tu_fixture_t *)*state)->dir;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	uint64_t acked = 0, rounds = tu_rounds(8);
	for (uint64_t round = 0; round < rounds; round++) {
		uint64_t stop = acked + 1 + tu_below(&r, 300);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			env_t *env = env_new();
			ts_opts_t o = { .create = true, .block_ms = 10000, .sync = SL_SYNC_ALWAYS };
			ts_t *db;
			sl_err_t err;
			if (env_loss_track(env, true) != SL_OK || ts_open(env, dir, &o, &db, &err) != SL_OK) {
				fprintf(stderr, "power-loss writer: %s\n", err.msg);
				_exit(3);
			}
			ts_sample_t b[M_SERIES];
			size_t refused;
			for (uint64_t i = acked; i < stop; i++)
				if (ts_add(db, b, crash_batch(i, b), NULL, &refused, &err) != SL_OK) {
					fprintf(stderr, "power-loss writer: %s\n", err.msg);
					_exit(4);
				}
			env_power_loss(env, round, (env_loss_mode_t)(round % 4), NULL);
			_exit(0);
		}
		int status;
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("power-loss writer: status %#x", status);
		acked = stop;
		env_t *env = env_new();
		crash_verify(env, dir, acked);
		env_free(env);
	}
	print_message("%llu power cuts, %llu batches acknowledged and found\n",
		      (unsigned long long)rounds, (unsigned long long)acked);
}

/* A failed write or fsync: a clear error, no later write accepted, nothing acknowledged lost. */
static void test_faults(void **state)
{
	const char *dir = ((tu_fixture_t *)*state)->dir;
	static const struct {
		env_op_t op;
		env_fault_t kind;
		const char *part;
	} plan[] = { { ENV_OP_WRITE, ENV_FAULT_ENOSPC, "wal-" }, { ENV_OP_WRITE, ENV_FAULT_SHORT, "wal-" },
		     { ENV_OP_SYNC, ENV_FAULT_EIO, "wal-" },     { ENV_OP_WRITE, ENV_FAULT_ENOSPC, "seg-" },
		     { ENV_OP_SYNC, ENV_FAULT_EIO, "seg-" },     { ENV_OP_RENAME, ENV_FAULT_EIO, "seg-" } };
	for (size_t p = 0; p < sizeof plan / sizeof *plan; p++) {
		for (uint64_t nth = 1; nth <= 9; nth += 4) {
			tu_rmrf(dir);
			env_t *env = env_new();
			ts_opts_t o = { .create = true, .block_ms = 10000, .sync = SL_SYNC_ALWAYS };
			ts_t *db = open_store(env, dir, &o);
			env_fault_aim(env, plan[p].part);
			env_fault_set(env, plan[p].op, nth, plan[p].kind, true);
			ts_sample_t b[M_SERIES];
			sl_err_t err;
			size_t refused;
			uint64_t acked = 0;
			int rc = SL_OK;
			for (uint64_t i = 0; i < 400 && rc == SL_OK; i++) {
				rc = ts_add(db, b, crash_batch(i, b), NULL, &refused, &err);
				acked += rc == SL_OK;
			}
			if (rc != SL_OK) {
				assert_true(rc == SL_IO || rc == SL_FULL || rc == SL_READONLY);
				assert_true(strlen(err.msg) > 0);
				assert_int_not_equal(ts_add(db, b, crash_batch(acked, b), NULL, &refused, &err), SL_OK);
			}
			env_fault_clear(env);
			ts_close(db, &err);
			crash_verify(env, dir, acked);
			env_free(env);
		}
	}
}

/* Not a store, a damaged META, a second writer. */
static void test_bad_stores(void **state)
{
	const char *dir = ((tu_fixture_t *)*state)->dir;
	env_t *env = env_new();
	ts_opts_t o = { 0 };
	ts_t *db;
	sl_err_t err;
	assert_int_equal(ts_open(env, dir, &o, &db, &err), SL_NOTFOUND);
	assert_non_null(strstr(err.msg, "no time-series store"));
	o.create = true;
	o.block_ms = 10;
	assert_int_equal(ts_open(env, dir, &o, &db, &err), SL_INVALID);
	o.block_ms = 0;
	db = open_store(env, dir, &o);
	ts_t *second;
	assert_int_equal(ts_open(env, dir, &o, &second, &err), SL_BUSY);
	assert_int_equal(ts_close(db, &err), SL_OK);
	tu_flip_byte(tu_path(dir, "META"), 13, 0x01);
	assert_int_equal(ts_open(env, dir, &o, &db, &err), SL_CORRUPT);
	assert_non_null(strstr(err.msg, "META"));
	env_free(env);
}

int main(void)
{
	tu_filter();
#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_setup, tu_teardown)
	const struct CMUnitTest tests[] = {
		T(test_store_against_model), T(test_duplicates_and_order), T(test_retention_and_merges), T(test_downsampling),
		T(test_segment_damage),      cmocka_unit_test(test_wal_records), T(test_crash_kill),
		T(test_crash_points),        T(test_power_loss),           T(test_faults),
		T(test_bad_stores),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
