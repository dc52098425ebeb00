/*
 * ts_bench.c — `storelab bench --suite ts` (see ts_bench.h). The parent reads
 * the data once (to learn the series and the time range, and to code every
 * series as one bare Gorilla stream: the reference for bytes per point); each
 * store's child then reads the CSV itself — parsing is part of ingest, for
 * every store alike — adds the points in batches, settles, and answers the
 * queries: a warm-up pass, then --repeat measured passes (medians).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench/child.h"
#include "bench/hist.h"
#include "bench/report.h"
#include "bench/ts_bench.h"
#include "bench/ts_input.h"
#include "engine/batch.h"
#include "engine/codec.h"
#include "kv/lsm.h"
#include "kv/ts_index.h"
#include "kv/ts_query.h"

static const char ts_bench_usage[] =
	"usage: storelab bench --suite ts --data FILE.csv [--stores LIST] [--batch N]\n"
	"                      [--sync none|batch|always] [--step D] [--repeat R]\n"
	"                      [--format table|json] [--out FILE] [--dir DIR]\n"
	"Ingests FILE (timestamp,series,value; `storelab ts gen` makes one) into each store,\n"
	"then runs a per-step average (default --step 1m) over each series for the whole\n"
	"range (query) and over all series at once (query_all), R times (default 3; medians).\n"
	"  --stores LIST  ts (ours), sqlite-ts (SQLite, a (series, ts) primary key, WITHOUT\n"
	"                 ROWID) and lsm-ts (our LSM, a key per point); default: all built\n"
	"  --batch N      points per batch / transaction, every store (default 1000)\n";

#define TS_BENCH_MAX_STORES 8

static double tb_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- ours */

typedef struct tb_ours {
	env_t *env;
	ts_t *db;
	char *dir;
	sl_sync_t sync;
} tb_ours_t;

static int tb_ours_open_db(tb_ours_t *o, char *err, size_t n)
{
	ts_opts_t opts = { .create = true, .sync = o->sync };
	sl_err_t e;
	if (ts_open(o->env, o->dir, &opts, &o->db, &e) != SL_OK) {
		snprintf(err, n, "%s", e.msg);
		return -1;
	}
	return 0;
}

static int tb_ours_open(const char *dir, sl_sync_t sync, void **h, char *err, size_t n)
{
	tb_ours_t *o = calloc(1, sizeof *o);
	if (o == NULL || (o->env = env_new()) == NULL || (o->dir = strdup(dir)) == NULL) {
		snprintf(err, n, "out of memory");
		return -1;
	}
	o->sync = sync;
	*h = o;
	return tb_ours_open_db(o, err, n);
}

static int tb_ours_add(void *h, const ts_sample_t *p, size_t n, char *err, size_t en)
{
	tb_ours_t *o = h;
	sl_err_t e;
	size_t refused;
	if (ts_add(o->db, p, n, NULL, &refused, &e) != SL_OK) {
		snprintf(err, en, "%s", e.msg);
		return -1;
	}
	return 0;
}

/* Close (the head is saved as a segment file, the logs go) and open again. */
static int tb_ours_finish(void *h, char *err, size_t n)
{
	tb_ours_t *o = h;
	sl_err_t e;
	int rc = ts_close(o->db, &e);
	o->db = NULL;
	if (rc != SL_OK) {
		snprintf(err, n, "%s", e.msg);
		return -1;
	}
	return tb_ours_open_db(o, err, n);
}

static int tb_ours_query(void *h, const char *series, int64_t from, int64_t to, int64_t step,
			 double *sum, uint64_t *windows, char *err, size_t n)
{
	tb_ours_t *o = h;
	ts_query_t q = { .selector = series ? series : "{__name__=~\".+\"}", .from = from, .to = to,
			 .step = step, .agg = TS_AGG_AVG, .across = TS_AGG_NONE };
	ts_result_t r;
	sl_err_t e;
	if (ts_query_run(o->db, &q, &r, &e) != SL_OK) {
		snprintf(err, n, "%s", e.msg);
		ts_result_free(&r);
		return -1;
	}
	for (size_t i = 0; i < r.rows; i++) {
		if (series != NULL && strcmp(r.names[i], series) != 0)
			continue; /* a selector by one series' labels also picks any with more labels */
		for (size_t k = 0; k < r.steps; k++)
			if (r.has[i * r.steps + k]) {
				*sum += r.v[i * r.steps + k];
				(*windows)++;
			}
	}
	ts_result_free(&r);
	return 0;
}

static void tb_ours_close(void *h)
{
	tb_ours_t *o = h;
	ts_close(o->db, NULL);
	env_free(o->env);
	free(o->dir);
	free(o);
}

static const ts_bench_ops_t tb_ours_ops = {
	.name = "ts", .open = tb_ours_open, .add = tb_ours_add, .finish = tb_ours_finish,
	.query = tb_ours_query, .close = tb_ours_close,
};

/* ---------------------------------------------------------------- lsm-ts */

/*
 * The kit's LSM holding time series as plain keys: a point is the key
 * 'p' + series id (4 bytes, big-endian) + timestamp (8 bytes, big-endian with
 * the sign bit flipped, so keys sort by time) -> the value's 8 bytes; a series
 * is 's' + name -> its id. A range of one series is then one scan.
 */
typedef struct tb_lsm {
	env_t *env;
	lsm_t *db;
	ts_index_t *ids;         /* name -> id, rebuilt from the 's' keys on open */
	char *dir;
	sl_sync_t sync;
	batch_t b;
} tb_lsm_t;

static void tb_lsm_key(uint8_t *k, uint32_t id, int64_t ts)
{
	k[0] = 'p';
	uint32_t be = __builtin_bswap32(id);
	uint64_t t = __builtin_bswap64((uint64_t)ts ^ (1ull << 63));
	memcpy(k + 1, &be, 4);
	memcpy(k + 5, &t, 8);
}

static int tb_lsm_fail(const sl_err_t *e, char *err, size_t n)
{
	snprintf(err, n, "%s", e->msg);
	return -1;
}

/* Opens the LSM and learns the series from their 's' keys. */
static int tb_lsm_open_db(tb_lsm_t *l, char *err, size_t n)
{
	lsm_opts_t o = { .sync = l->sync, .create = true };
	sl_err_t e;
	if (lsm_open(l->env, l->dir, &o, &l->db, &e) != SL_OK)
		return tb_lsm_fail(&e, err, n);
	ts_index_free(l->ids);
	l->ids = ts_index_new();
	lsm_iter_t *it;
	if (l->ids == NULL || lsm_iter_new(l->db, NULL, &it, &e) != SL_OK)
		return tb_lsm_fail(&e, err, n);
	sl_slice_t start = sl_slice("s", 1);
	uint32_t id;
	for (lsm_iter_seek(it, &start); lsm_iter_valid(it); lsm_iter_next(it)) {
		sl_slice_t k = lsm_iter_key(it);
		if (k.len == 0 || k.data[0] != 's')
			break;
		ts_index_add(l->ids, sl_slice(k.data + 1, k.len - 1), &id, &e);
	}
	int rc = lsm_iter_status(it, &e);
	lsm_iter_free(it);
	return rc == SL_OK ? 0 : tb_lsm_fail(&e, err, n);
}

static int tb_lsm_open(const char *dir, sl_sync_t sync, void **h, char *err, size_t n)
{
	tb_lsm_t *l = calloc(1, sizeof *l);
	if (l == NULL || (l->env = env_new()) == NULL || (l->dir = strdup(dir)) == NULL) {
		snprintf(err, n, "out of memory");
		return -1;
	}
	l->sync = sync;
	batch_init(&l->b);
	*h = l;
	return tb_lsm_open_db(l, err, n);
}

static int tb_lsm_add(void *h, const ts_sample_t *p, size_t n, char *err, size_t en)
{
	tb_lsm_t *l = h;
	sl_err_t e;
	batch_clear(&l->b);
	for (size_t i = 0; i < n; i++) {
		uint32_t id;
		if (!ts_index_find(l->ids, p[i].series, &id)) {
			if (ts_index_add(l->ids, p[i].series, &id, &e) != SL_OK)
				return tb_lsm_fail(&e, err, en);
			buf_t k = BUF_INIT;
			buf_append(&k, "s", 1);
			buf_append(&k, p[i].series.data, p[i].series.len);
			uint8_t v[4];
			codec_put_u32(v, id);
			batch_put(&l->b, buf_slice(&k), sl_slice(v, 4));
			buf_free(&k);
		}
		uint8_t k[13], v[8];
		tb_lsm_key(k, id, p[i].ts);
		memcpy(v, &p[i].v, 8);
		batch_put(&l->b, sl_slice(k, 13), sl_slice(v, 8));
	}
	if (lsm_write(l->db, &l->b, &e) != SL_OK)
		return tb_lsm_fail(&e, err, en);
	return 0;
}

/* Flush the memtable, let compaction settle, close and open again. */
static int tb_lsm_finish(void *h, char *err, size_t n)
{
	tb_lsm_t *l = h;
	sl_err_t e;
	if (lsm_flush(l->db, &e) != SL_OK || lsm_compact_wait(l->db, &e) != SL_OK ||
	    lsm_close(l->db, &e) != SL_OK) {
		l->db = NULL;
		return tb_lsm_fail(&e, err, n);
	}
	l->db = NULL;
	return tb_lsm_open_db(l, err, n);
}

/* Folds the points of series id in [from, to) into per-step averages. */
static int tb_lsm_series(lsm_iter_t *it, uint32_t id, int64_t from, int64_t to,
			 int64_t step, double *sum, uint64_t *windows)
{
	uint8_t start[13];
	tb_lsm_key(start, id, from);
	sl_slice_t s = sl_slice(start, 13);
	int64_t k = -1;
	double wsum = 0;
	uint64_t wn = 0;
	for (lsm_iter_seek(it, &s); lsm_iter_valid(it); lsm_iter_next(it)) {
		sl_slice_t key = lsm_iter_key(it), val = lsm_iter_value(it);
		if (key.len != 13 || memcmp(key.data, start, 5) != 0)
			break;
		int64_t ts = (int64_t)(__builtin_bswap64(codec_get_u64(key.data + 5)) ^ (1ull << 63));
		if (ts >= to)
			break;
		double v;
		memcpy(&v, val.data, 8);
		int64_t w = (ts - from) / step;
		if (w != k && wn > 0) {
			*sum += wsum / (double)wn;
			(*windows)++;
			wsum = 0;
			wn = 0;
		}
		k = w;
		wsum += v;
		wn++;
	}
	if (wn > 0) {
		*sum += wsum / (double)wn;
		(*windows)++;
	}
	return 0;
}

static int tb_lsm_query(void *h, const char *series, int64_t from, int64_t to, int64_t step,
			double *sum, uint64_t *windows, char *err, size_t n)
{
	tb_lsm_t *l = h;
	sl_err_t e;
	lsm_iter_t *it;
	if (lsm_iter_new(l->db, NULL, &it, &e) != SL_OK)
		return tb_lsm_fail(&e, err, n);
	uint32_t id;
	if (series != NULL) {
		if (ts_index_find(l->ids, sl_slice_str(series), &id))
			tb_lsm_series(it, id, from, to, step, sum, windows);
	} else {
		for (id = 0; id < ts_index_count(l->ids); id++)
			tb_lsm_series(it, id, from, to, step, sum, windows);
	}
	int rc = lsm_iter_status(it, &e);
	lsm_iter_free(it);
	return rc == SL_OK ? 0 : tb_lsm_fail(&e, err, n);
}

static void tb_lsm_close(void *h)
{
	tb_lsm_t *l = h;
	if (l->db != NULL)
		lsm_close(l->db, NULL);
	ts_index_free(l->ids);
	batch_free(&l->b);
	env_free(l->env);
	free(l->dir);
	free(l);
}

static const ts_bench_ops_t tb_lsm_ops = {
	.name = "lsm-ts", .open = tb_lsm_open, .add = tb_lsm_add, .finish = tb_lsm_finish,
	.query = tb_lsm_query, .close = tb_lsm_close,
};

static const ts_bench_ops_t *const tb_stores[] = {
	&tb_ours_ops,
#ifdef SL_PEER_SQLITE
	&peer_sqlite_ts_ops,
#endif
	&tb_lsm_ops,
};

/* ---------------------------------------------------------------- the data */

typedef struct tb_data {
	ts_index_t *series;      /* every series, in order first seen */
	uint64_t points;
	int64_t from, to;        /* the whole range: [first, last + 1) */
	uint64_t gorilla_bytes;  /* each series as one bare Gorilla stream (no headers) */
} tb_data_t;

typedef struct tb_cfg {
	const char *data, *dir;
	size_t batch;
	sl_sync_t sync;
	int64_t step;
	unsigned repeat;
} tb_cfg_t;

typedef struct tb_pts {
	ts_point_t *p;
	size_t n, cap;
} tb_pts_t;

static int tb_pts_cmp(const void *a, const void *b)
{
	const ts_point_t *x = a, *y = b;
	return (x->ts > y->ts) - (x->ts < y->ts);
}

/* The Gorilla reference: each series' points, sorted, one timestamp once, as one bit stream. */
static uint64_t tb_gorilla(tb_pts_t *s)
{
	qsort(s->p, s->n, sizeof *s->p, tb_pts_cmp);
	buf_t out = BUF_INIT;
	uint64_t bytes = 0;
	size_t i = 0;
	while (i < s->n) {
		ts_chunk_writer_t w;
		buf_clear(&out);
		ts_chunk_writer_init(&w, &out);
		for (; i < s->n && w.points < TS_CHUNK_MAX_POINTS; i++)
			if (w.points == 0 || s->p[i].ts != w.prev_ts)
				ts_chunk_writer_add(&w, s->p[i].ts, s->p[i].v, NULL);
		ts_chunk_writer_finish(&w, NULL);
		bytes += out.len - TS_CHUNK_HEADER;
	}
	buf_free(&out);
	return bytes;
}

static int tb_load(const char *path, tb_data_t *d, char *err, size_t n)
{
	ts_input_t in;
	memset(d, 0, sizeof *d);
	d->series = ts_index_new();
	if (d->series == NULL || !ts_input_open(&in, path, NULL, TS_UNIT_AUTO, TS_UNIT_MS)) {
		snprintf(err, n, "%s", d->series ? in.error : "out of memory");
		return -1;
	}
	tb_pts_t *per = NULL;
	size_t cap = 0;
	d->from = INT64_MAX;
	d->to = INT64_MIN;
	int got, rc = 0;
	sl_err_t e;
	while (rc == 0 && (got = ts_input_next(&in)) != 0) {
		for (size_t i = 0; got == 1 && i < in.n; i++) {
			uint32_t id, before = ts_index_count(d->series);
			if (ts_index_add(d->series, in.series[i], &id, &e) != SL_OK) {
				got = -2;
				break;
			}
			if (id >= before) { /* a new series */
				tb_pts_t *grown = id < cap ? per : realloc(per, (cap = 2 * cap + 64) * sizeof *per);
				if (grown == NULL) {
					got = -2;
					break;
				}
				per = grown;
				memset(&per[id], 0, sizeof per[id]);
			}
			if (!ts_points_reserve(&per[id].p, &per[id].cap, per[id].n + 1)) {
				got = -2;
				break;
			}
			per[id].p[per[id].n++] = (ts_point_t){ in.ts, in.v[i] };
			d->points++;
			d->from = in.ts < d->from ? in.ts : d->from;
			d->to = in.ts >= d->to ? in.ts + 1 : d->to;
		}
		if (got < 0) {
			snprintf(err, n, "%s", got == -1 ? in.error : "out of memory reading the data");
			rc = -1;
		}
	}
	for (uint32_t i = 0; i < ts_index_count(d->series); i++) {
		if (rc == 0)
			d->gorilla_bytes += tb_gorilla(&per[i]);
		free(per[i].p);
	}
	free(per);
	ts_input_close(&in);
	if (rc == 0 && d->points == 0) {
		snprintf(err, n, "%s: no points", path);
		rc = -1;
	}
	return rc;
}

/* ---------------------------------------------------------------- one store */

typedef struct tb_fig {
	int failed;
	char error[512];
	uint64_t points, disk_bytes, peak_rss;
	double ingest_seconds;
	uint64_t queries;                 /* per pass */
	double query_seconds, all_seconds; /* medians of the passes */
	double lat[2][5];                 /* query, query_all: p50 p90 p99 p999 max, us */
	double sum[2];                    /* the answers, to compare between stores */
	uint64_t windows[2];
} tb_fig_t;

static int tb_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Reads the CSV and adds its points in batches; then settles. */
static int tb_ingest(const ts_bench_ops_t *ops, void *h, const tb_cfg_t *cfg, tb_fig_t *f)
{
	ts_input_t in;
	if (!ts_input_open(&in, cfg->data, NULL, TS_UNIT_AUTO, TS_UNIT_MS)) {
		snprintf(f->error, sizeof f->error, "%s", in.error);
		return -1;
	}
	ts_batch_t b;
	int got, rc = ts_batch_init(&b, cfg->batch) ? 0 : -1;
	while (rc == 0 && (got = ts_input_next(&in)) != 0) {
		if (got < 0 || !ts_batch_add(&b, &in)) {
			snprintf(f->error, sizeof f->error, "%s", got < 0 ? in.error : "out of memory");
			rc = -1;
			break;
		}
		f->points += in.n;
		if (ts_batch_full(&b)) {
			rc = ops->add(h, ts_batch_samples(&b), b.n, f->error, sizeof f->error);
			ts_batch_clear(&b);
		}
	}
	if (rc == 0 && b.n > 0)
		rc = ops->add(h, ts_batch_samples(&b), b.n, f->error, sizeof f->error);
	if (rc == 0)
		rc = ops->finish(h, f->error, sizeof f->error);
	ts_batch_free(&b);
	ts_input_close(&in);
	return rc;
}

/* One pass of the queries: every series (all == false) or all at once; timed into hist. */
static int tb_pass(const ts_bench_ops_t *ops, void *h, const tb_data_t *d, const tb_cfg_t *cfg,
		   bool all, hist_t *hist, double *secs, tb_fig_t *f)
{
	char name[TS_MAX_SERIES + 1];
	uint32_t nq = all ? 1 : ts_index_count(d->series);
	double sum = 0;
	uint64_t windows = 0;
	*secs = 0;
	for (uint32_t i = 0; i < nq; i++) {
		sl_slice_t s = ts_index_series(d->series, i);
		snprintf(name, sizeof name, "%.*s", (int)s.len, (const char *)s.data);
		double t0 = tb_now();
		if (ops->query(h, all ? NULL : name, d->from, d->to, cfg->step, &sum, &windows, f->error,
			       sizeof f->error) != 0)
			return -1;
		double dt = tb_now() - t0;
		*secs += dt;
		if (hist != NULL)
			hist_record(hist, (uint64_t)(dt * 1e9));
	}
	f->sum[all] = sum;
	f->windows[all] = windows;
	return 0;
}

/* A warm-up pass, then cfg->repeat timed ones: the median pass time and the latencies. */
static int tb_queries(const ts_bench_ops_t *ops, void *h, const tb_data_t *d, const tb_cfg_t *cfg,
		      bool all, tb_fig_t *f)
{
	double secs, runs[64];
	hist_t hist;
	hist_init(&hist);
	if (tb_pass(ops, h, d, cfg, all, NULL, &secs, f) != 0)
		return -1;
	for (unsigned r = 0; r < cfg->repeat; r++)
		if (tb_pass(ops, h, d, cfg, all, &hist, &runs[r], f) != 0)
			return -1;
	qsort(runs, cfg->repeat, sizeof *runs, tb_cmp_double);
	*(all ? &f->all_seconds : &f->query_seconds) = runs[cfg->repeat / 2];
	static const double qs[5] = { 0.5, 0.9, 0.99, 0.999, 1.0 };
	for (int q = 0; q < 5; q++)
		f->lat[all][q] = (double)hist_percentile(&hist, qs[q]) / 1e3;
	f->queries = ts_index_count(d->series);
	return 0;
}

static void tb_child(const ts_bench_ops_t *ops, const tb_data_t *d, const tb_cfg_t *cfg,
		     const char *dir, tb_fig_t *f)
{
	void *h = NULL;
	double t0 = tb_now();
	if (ops->open(dir, cfg->sync, &h, f->error, sizeof f->error) != 0 || tb_ingest(ops, h, cfg, f) != 0) {
		f->failed = 1;
		if (h != NULL)
			ops->close(h);
		return;
	}
	f->ingest_seconds = tb_now() - t0;
	f->disk_bytes = report_tree_bytes(dir);
	if (tb_queries(ops, h, d, cfg, false, f) != 0 || tb_queries(ops, h, d, cfg, true, f) != 0)
		f->failed = 1;
	ops->close(h);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	f->peak_rss = (uint64_t)ru.ru_maxrss * 1024;
}

typedef struct tb_job {
	const ts_bench_ops_t *ops;
	const tb_data_t *d;
	const tb_cfg_t *cfg;
} tb_job_t;

static void tb_child_run(void *ctx, const char *dir, void *figures)
{
	const tb_job_t *j = ctx;
	tb_child(j->ops, j->d, j->cfg, dir, figures);
}

/* Runs the store in a child process of its own (bench/child.h). */
static void tb_run_store(const ts_bench_ops_t *ops, const tb_data_t *d, const tb_cfg_t *cfg,
			 tb_fig_t *f)
{
	memset(f, 0, sizeof *f);
	tb_job_t job = { ops, d, cfg };
	char name[64];
	snprintf(name, sizeof name, "ts-%s", ops->name);
	if (child_run(cfg->dir, name, tb_child_run, &job, f, sizeof *f, f->error, sizeof f->error) != 0)
		f->failed = 1;
}

/* ---------------------------------------------------------------- report */

static bool tb_agree(const tb_fig_t *a, const tb_fig_t *ref, int all)
{
	double x = a->sum[all], y = ref->sum[all];
	return a->windows[all] == ref->windows[all] && fabs(x - y) <= 1e-9 * fmax(fabs(x), fabs(y));
}

static void tb_json_row(FILE *out, const char *store, const char *wl, uint64_t ops, double secs,
			const double *lat, const tb_fig_t *f)
{
	fprintf(out, ",\n  {\"store\": ");
	report_json_string(out, store);
	double rate = secs > 0 ? (double)ops / secs : 0;
	fprintf(out, ", \"workload\": \"%s\", \"ops\": %llu, \"seconds\": %.6f, \"ops_per_sec\": %.1f, "
		     "\"qps\": %.2f, \"lat_us\": {\"p50\": %.4g, \"p90\": %.4g, \"p99\": %.4g, "
		     "\"p999\": %.4g, \"max\": %.4g}, \"write_amp\": null, \"read_amp\": null, "
		     "\"space_amp\": null, \"disk_bytes\": %llu, \"peak_rss_bytes\": %llu",
		wl, (unsigned long long)ops, secs, rate, rate, lat[0], lat[1], lat[2], lat[3], lat[4],
		(unsigned long long)f->disk_bytes, (unsigned long long)f->peak_rss);
}

static void tb_report_store(FILE *out, bool json, const char *name, const tb_fig_t *f,
			    const tb_fig_t *ref, const tb_data_t *d, bool first)
{
	double pps = f->ingest_seconds > 0 ? f->points / f->ingest_seconds : 0;
	double bpp = f->points ? (double)f->disk_bytes / f->points : 0;
	double gor = (double)d->gorilla_bytes / d->points;
	if (json) {
		fprintf(out, "%s  {\"store\": ", first ? "" : ",\n");
		report_json_string(out, name);
		fprintf(out, ", \"workload\": \"ingest\", \"ops\": %llu, \"seconds\": %.6f, "
			     "\"ops_per_sec\": %.1f, \"points_per_sec\": %.1f, \"bytes_per_point\": %.4f, "
			     "\"vs_gorilla\": %.3f, \"lat_us\": null, \"write_amp\": null, "
			     "\"read_amp\": null, \"space_amp\": null, \"disk_bytes\": %llu, "
			     "\"peak_rss_bytes\": %llu}",
			(unsigned long long)f->points, f->ingest_seconds, pps, pps, bpp, bpp / gor,
			(unsigned long long)f->disk_bytes, (unsigned long long)f->peak_rss);
		tb_json_row(out, name, "query", f->queries, f->query_seconds, f->lat[0], f);
		fprintf(out, ", \"answers_match\": %s}", tb_agree(f, ref, 0) ? "true" : "false");
		tb_json_row(out, name, "query_all", 1, f->all_seconds, f->lat[1], f);
		fprintf(out, ", \"answers_match\": %s}", tb_agree(f, ref, 1) ? "true" : "false");
		return;
	}
	fprintf(out, "%-10s %-10s %12.0f %10s %10s %10.3f %8.2fx %9.1f\n", name, "ingest", pps, "", "",
		bpp, bpp / gor, f->peak_rss / 1e6);
	fprintf(out, "%-10s %-10s %12.1f %10.1f %10.1f %10s %9s %9s %s\n", name, "query",
		f->query_seconds > 0 ? f->queries / f->query_seconds : 0, f->lat[0][0], f->lat[0][2],
		"", "", "", tb_agree(f, ref, 0) ? "same" : "DIFFERENT");
	fprintf(out, "%-10s %-10s %12.2f %10.1f %10.1f %10s %9s %9s %s\n", name, "query_all",
		f->all_seconds > 0 ? 1 / f->all_seconds : 0, f->lat[1][0], f->lat[1][2], "", "", "",
		tb_agree(f, ref, 1) ? "same" : "DIFFERENT");
}

static void tb_report(FILE *out, bool json, const char *const *names, size_t n, const tb_fig_t *figs,
		      const tb_data_t *d, const tb_cfg_t *cfg)
{
	double gor = (double)d->gorilla_bytes / d->points;
	if (json) {
		fprintf(out, "{\"suite\": \"ts\",\n \"config\": {\"data\": ");
		report_json_string(out, cfg->data);
		fprintf(out, ", \"points\": %llu, \"series\": %u, \"from\": %lld, \"to\": %lld, "
			     "\"step_ms\": %lld, \"batch\": %zu, \"sync\": \"%s\", \"repeat\": %u, "
			     "\"gorilla_bytes_per_point\": %.4f},\n \"results\": [\n",
			(unsigned long long)d->points, ts_index_count(d->series), (long long)d->from,
			(long long)d->to, (long long)cfg->step, cfg->batch, sl_sync_name(cfg->sync),
			cfg->repeat, gor);
	} else {
		fprintf(out, "%llu points, %u series, %.1f hours, per-%lld-ms averages, batches of %zu, "
			     "sync %s, medians of %u runs\nbare Gorilla coding of these points: %.3f "
			     "bytes/point\n\n",
			(unsigned long long)d->points, ts_index_count(d->series),
			(double)(d->to - d->from) / 3.6e6, (long long)cfg->step, cfg->batch,
			sl_sync_name(cfg->sync), cfg->repeat, gor);
		fprintf(out, "%-10s %-10s %12s %10s %10s %10s %9s %9s %s\n", "store", "workload",
			"points|q /s", "p50 us", "p99 us", "bytes/pt", "/Gorilla", "RSS MB", "answers");
	}
	for (size_t s = 0; s < n; s++) {
		if (figs[s].failed) {
			if (json) {
				fprintf(out, "%s  {\"store\": ", s ? ",\n" : "");
				report_json_string(out, names[s]);
				fprintf(out, ", \"workload\": \"ingest\", \"error\": ");
				report_json_string(out, figs[s].error);
				fprintf(out, "}");
			} else {
				fprintf(out, "%-10s FAILED: %s\n", names[s], figs[s].error);
			}
			continue;
		}
		tb_report_store(out, json, names[s], &figs[s], &figs[0], d, s == 0);
	}
	if (json)
		fprintf(out, "\n ]}\n");
	else
		fprintf(out, "\nanswers: whether each store's averages add up to those of %s\n", names[0]);
}

/* ---------------------------------------------------------------- the command */

static const ts_bench_ops_t *tb_find(const char *name)
{
	for (size_t i = 0; i < sizeof tb_stores / sizeof tb_stores[0]; i++)
		if (strcmp(tb_stores[i]->name, name) == 0)
			return tb_stores[i];
	return NULL;
}

static int tb_parse(int argc, char **argv, tb_cfg_t *cfg, const char **stores, const char **out,
		    bool *json)
{
	char why[TS_WHY_BYTES];
	for (int i = 1; i < argc; i += 2) {
		const char *flag = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;
		unsigned long v = val ? strtoul(val, &end, 10) : 0;
		bool num = val && end != val && *end == '\0' && val[0] != '-';
		if (val == NULL) {
			fprintf(stderr, "storelab bench: %s needs a value\n%s", flag, ts_bench_usage);
			return 2;
		} else if (strcmp(flag, "--suite") == 0 && strcmp(val, "ts") == 0) {
		} else if (strcmp(flag, "--data") == 0) {
			cfg->data = val;
		} else if (strcmp(flag, "--stores") == 0) {
			*stores = val;
		} else if (strcmp(flag, "--batch") == 0 && num && v >= 1 && v <= 1000000) {
			cfg->batch = v;
		} else if (strcmp(flag, "--repeat") == 0 && num && v >= 1 && v <= 64) {
			cfg->repeat = (unsigned)v;
		} else if (strcmp(flag, "--sync") == 0 && sl_sync_parse(val, &cfg->sync) == SL_OK) {
		} else if (strcmp(flag, "--step") == 0 && ts_duration_parse(val, TS_UNIT_MS, &cfg->step, why) &&
			   cfg->step > 0) {
		} else if (strcmp(flag, "--format") == 0 && (strcmp(val, "json") == 0 || strcmp(val, "table") == 0)) {
			*json = strcmp(val, "json") == 0;
		} else if (strcmp(flag, "--out") == 0) {
			*out = val;
		} else if (strcmp(flag, "--dir") == 0) {
			cfg->dir = val;
		} else {
			fprintf(stderr, "storelab bench: bad option %s %s for the ts suite\n%s", flag, val,
				ts_bench_usage);
			return 2;
		}
	}
	if (cfg->data == NULL) {
		fprintf(stderr, "storelab bench: the ts suite needs --data FILE.csv\n%s", ts_bench_usage);
		return 2;
	}
	return 0;
}

int ts_bench_main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(ts_bench_usage, stdout);
			return 0;
		}
	tb_cfg_t cfg = { .batch = 1000, .step = 60000, .repeat = 3 };
	cfg.dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	const char *stores = NULL, *out_path = NULL, *names[TS_BENCH_MAX_STORES];
	bool json = false;
	int bad = tb_parse(argc, argv, &cfg, &stores, &out_path, &json);
	if (bad != 0)
		return bad;
	size_t n = 0;
	char *list = strdup(stores ? stores : "");
	if (stores == NULL)
		for (size_t i = 0; i < sizeof tb_stores / sizeof tb_stores[0]; i++)
			names[n++] = tb_stores[i]->name;
	for (char *tok = strtok(list, ","); tok != NULL && n < TS_BENCH_MAX_STORES; tok = strtok(NULL, ",")) {
		if (tb_find(tok) == NULL) {
			fprintf(stderr, "storelab bench: no ts store '%s' (built: ts, lsm-ts%s)\n", tok,
#ifdef SL_PEER_SQLITE
				", sqlite-ts"
#else
				"; sqlite-ts needs libsqlite3-dev"
#endif
			);
			free(list);
			return 2;
		}
		names[n++] = tok;
	}
	tb_data_t d;
	char err[512];
	if (tb_load(cfg.data, &d, err, sizeof err) != 0) {
		fprintf(stderr, "storelab bench: %s\n", err);
		ts_index_free(d.series);
		free(list);
		return 1;
	}
	tb_fig_t figs[TS_BENCH_MAX_STORES];
	for (size_t s = 0; s < n; s++) {
		if (isatty(STDERR_FILENO))
			fprintf(stderr, "running %s...\n", names[s]);
		tb_run_store(tb_find(names[s]), &d, &cfg, &figs[s]);
	}
	FILE *out = out_path ? fopen(out_path, "w") : stdout;
	int status = 0;
	if (out == NULL) {
		fprintf(stderr, "storelab bench: %s: %s\n", out_path, strerror(errno));
		status = 1;
	} else {
		tb_report(out, json, names, n, figs, &d, &cfg);
		if (out != stdout)
			fclose(out);
	}
	for (size_t s = 0; s < n; s++)
		status |= figs[s].failed;
	ts_index_free(d.series);
	free(list);
	return status;
}
