/* phase.c — runs one timed phase inside the harness's child (see phase.h). */
#include "bench/phase.h"
#include "bench/stores.h"

#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench/stores.h"

#define PHASE_LOAD_BATCH 1000       /* keys per batch when loading untimed */
#define PHASE_WARMUP_MAX 50000      /* untimed reads before a read phase */
#define PHASE_PROGRESS_EVERY 4096   /* operations between clock checks */

static uint64_t phase_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- a worker */

typedef struct worker {
	const bench_cfg_t *cfg;      /* options */
	store_t *store;              /* shared handle */
	const workload_def_t *def;   /* what to run */
	const value_pool_t *values;  /* value bytes */
	const uint32_t *perm;        /* key order for fills and deletes */
	phase_state_t before;        /* key space at the start */
	_Atomic uint64_t *next_insert; /* next new key index (shared) */
	uint64_t first, count;       /* this worker's slice of the operations */
	unsigned index;              /* worker number; 0 shows progress */
	const char *label;           /* "store workload" for the progress line */
	wl_rng_t rng;                /* own random stream */
	chooser_t chooser;           /* which existing key */
	hist_t lat;                  /* every operation */
	hist_t by_kind[OP_KINDS_];   /* per kind */
	uint64_t found, missing;     /* read outcomes */
	int status;                  /* SL_OK or the first failure */
	char error[256];             /* its message */
	buf_t value;                 /* get buffer */
	uint8_t key[WL_MAX_KEY_SIZE];
	/* --batch N > 1: writes wait here and are committed N at a time. */
	batch_t pending;             /* the writes queued */
	uint64_t *pending_t0;        /* when each queued operation started, ns */
	op_kind_t *pending_kind;     /* and its kind */
	unsigned npending;           /* queued operations */
} worker_t;

static void worker_fail(worker_t *w, int rc, const char *what)
{
	if (w->status != SL_OK)
		return;
	w->status = rc;
	snprintf(w->error, sizeof w->error, "%s: %s", what, store_errmsg(w->store));
}

/*
 * Key number idx. readmissing asks for keys that were never written but sort
 * among those that were: the last digit becomes 'x' ("000000000001234x" lies
 * between ...12349 and ...12350), so an ordered store cannot answer every miss
 * from the rightmost page, as it could for keys past the end.
 */
static sl_slice_t worker_key(worker_t *w, uint64_t idx)
{
	wl_key(idx, w->cfg->key_size, w->key);
	if (w->def->kind == PHASE_READMISSING)
		w->key[w->cfg->key_size - 1] = 'x';
	return sl_slice(w->key, w->cfg->key_size);
}

/*
 * Commits the queued writes as one atomic batch. Each operation's latency runs
 * from its start to this commit, when it is acknowledged: batching trades
 * latency for throughput, and the histogram shows both sides.
 */
static void worker_flush(worker_t *w)
{
	if (w->npending == 0)
		return;
	int rc = batch_status(&w->pending);
	if (rc == SL_OK)
		rc = store_write(w->store, &w->pending);
	uint64_t t1 = phase_now_ns();
	if (rc != SL_OK)
		worker_fail(w, rc, "write batch");
	for (unsigned i = 0; i < w->npending; i++) {
		hist_record(&w->lat, t1 - w->pending_t0[i]);
		hist_record(&w->by_kind[w->pending_kind[i]], t1 - w->pending_t0[i]);
	}
	batch_clear(&w->pending);
	w->npending = 0;
}

/* Queues a put (value != NULL) or a delete of operation kind k begun at t0. */
static void worker_queue(worker_t *w, sl_slice_t key, const sl_slice_t *value, op_kind_t k,
			 uint64_t t0)
{
	if (value)
		batch_put(&w->pending, key, *value);
	else
		batch_del(&w->pending, key);
	w->pending_t0[w->npending] = t0;
	w->pending_kind[w->npending] = k;
	if (++w->npending == w->cfg->batch)
		worker_flush(w);
}

static bool worker_batching(const worker_t *w) { return w->cfg->batch > 1; }

/* A put; true when it was queued for a batch (its latency is recorded at the commit). */
static bool worker_put(worker_t *w, uint64_t idx, op_kind_t k, uint64_t t0)
{
	sl_slice_t v = sl_slice(value_pool_next(w->values, &w->rng), w->cfg->value_size);
	if (worker_batching(w)) {
		worker_queue(w, worker_key(w, idx), &v, k, t0);
		return true;
	}
	int rc = store_put(w->store, worker_key(w, idx), v);
	if (rc != SL_OK)
		worker_fail(w, rc, "put");
	return false;
}

static void worker_get(worker_t *w, uint64_t idx)
{
	int rc = store_get(w->store, worker_key(w, idx), &w->value);
	if (rc == SL_OK)
		w->found++;
	else if (rc == SL_NOTFOUND)
		w->missing++;
	else
		worker_fail(w, rc, "get");
}

static bool worker_del(worker_t *w, uint64_t idx, uint64_t t0)
{
	if (worker_batching(w)) {
		worker_queue(w, worker_key(w, idx), NULL, OP_DELETE, t0);
		return true;
	}
	int rc = store_del(w->store, worker_key(w, idx));
	if (rc != SL_OK)
		worker_fail(w, rc, "del");
	return false;
}

/* One scan operation: seek to key idx, read up to len entries. */
static void worker_scan(worker_t *w, uint64_t idx, unsigned len)
{
	sl_slice_t start = worker_key(w, idx);
	store_iter_t *it = NULL;
	int rc = store_scan(w->store, &start, NULL, &it);
	for (unsigned i = 0; rc == SL_OK && i < len && store_iter_valid(it); i++)
		rc = store_iter_next(it);
	store_iter_close(it);
	if (rc != SL_OK)
		worker_fail(w, rc, "scan");
}

/* Picks the operation number i of the phase: its kind and key index. */
static op_kind_t worker_pick(worker_t *w, uint64_t i, uint64_t *idx, unsigned *len)
{
	const workload_def_t *d = w->def;
	*len = w->cfg->scan_length;
	switch (d->kind) {
	case PHASE_FILLSEQ: *idx = i; return OP_INSERT;
	case PHASE_FILLRANDOM: *idx = w->perm[i]; return OP_INSERT;
	case PHASE_READRANDOM: *idx = chooser_next(&w->chooser, &w->rng); return OP_READ;
	case PHASE_READMISSING:
		*idx = wl_below(&w->rng, w->before.total_keys ? w->before.total_keys : 1);
		return OP_READ;
	case PHASE_SCAN: *idx = chooser_next(&w->chooser, &w->rng); return OP_SCAN;
	case PHASE_OVERWRITE: *idx = chooser_next(&w->chooser, &w->rng); return OP_UPDATE;
	case PHASE_DELETERANDOM: *idx = w->perm[i]; return OP_DELETE;
	case PHASE_MIX: break;
	}
	op_kind_t k = mix_pick(&d->mix, &w->rng);
	if (k == OP_INSERT) {
		*idx = atomic_fetch_add(w->next_insert, 1);
	} else {
		*idx = chooser_next(&w->chooser, &w->rng);
		*len = 1 + (unsigned)wl_below(&w->rng, w->cfg->scan_length); /* YCSB: uniform */
	}
	return k;
}

/* Runs one operation begun at t0; true when its write was queued for a batch. */
static bool worker_do(worker_t *w, op_kind_t k, uint64_t idx, unsigned len, uint64_t t0)
{
	bool queued = false;
	switch (k) {
	case OP_READ: worker_get(w, idx); break;
	case OP_UPDATE:
	case OP_INSERT: queued = worker_put(w, idx, k, t0); break;
	case OP_SCAN: worker_scan(w, idx, len); break;
	case OP_RMW:
		worker_get(w, idx);
		queued = worker_put(w, idx, k, t0);
		break;
	case OP_DELETE: queued = worker_del(w, idx, t0); break;
	default: break;
	}
	if (k == OP_INSERT && w->def->kind == PHASE_MIX && w->cfg->threads <= 1)
		chooser_add(&w->chooser);
	return queued;
}

static void worker_progress(worker_t *w, uint64_t done, uint64_t *last_ns, bool final)
{
	if (final) {
		fprintf(stderr, "\r%60s\r", "");
		return;
	}
	uint64_t now = phase_now_ns();
	if (now - *last_ns < 500000000u)
		return;
	*last_ns = now;
	fprintf(stderr, "\r  %-36s %3llu%%", w->label,
		(unsigned long long)(100 * done / (w->count ? w->count : 1)));
}

static void *worker_main(void *arg)
{
	worker_t *w = arg;
	bool show = w->index == 0 && w->cfg->progress && isatty(STDERR_FILENO);
	uint64_t last = phase_now_ns();
	for (uint64_t i = w->first; i < w->first + w->count && w->status == SL_OK; i++) {
		uint64_t idx;
		unsigned len;
		op_kind_t k = worker_pick(w, i, &idx, &len);
		uint64_t t0 = phase_now_ns();
		if (!worker_do(w, k, idx, len, t0)) {
			uint64_t t1 = phase_now_ns();
			hist_record(&w->lat, t1 - t0);
			hist_record(&w->by_kind[k], t1 - t0);
		}
		if (show && (i & (PHASE_PROGRESS_EVERY - 1)) == 0)
			worker_progress(w, i - w->first, &last, false);
	}
	worker_flush(w); /* the last, partial batch: still inside the timed phase */
	if (show)
		worker_progress(w, 0, &last, true);
	return NULL;
}

/* ---------------------------------------------------------------- measuring */

typedef struct io_snap {
	uint64_t user_written, user_read; /* from the store's user.* counters */
	uint64_t dev_written, dev_read;   /* env counters, or bytes through system calls */
	uint64_t dev_pages_written;       /* /proc/self/io write_bytes (peers) */
} io_snap_t;

/*
 * For peers, /proc/self/io: rchar and wchar count bytes through read and write
 * system calls (what our env counts for our stores); write_bytes counts pages
 * the process dirtied, which also sees writes through an mmap (Kyoto Cabinet's
 * mapped region, LMDB with a writable map). The harness takes the larger.
 */
static void phase_proc_io(io_snap_t *snap)
{
	FILE *f = fopen("/proc/self/io", "r");
	if (f == NULL)
		return;
	char name[64];
	unsigned long long v;
	while (fscanf(f, "%63[^:]: %llu\n", name, &v) == 2) {
		if (strcmp(name, "rchar") == 0)
			snap->dev_read = v;
		else if (strcmp(name, "wchar") == 0)
			snap->dev_written = v;
		else if (strcmp(name, "write_bytes") == 0)
			snap->dev_pages_written = v;
	}
	fclose(f);
}

/* Device figures: our stores' env counters, or the process's for peers. */
static void phase_snap_device(env_t *env, bool peer, io_snap_t *snap)
{
	if (peer) {
		phase_proc_io(snap);
		return;
	}
	env_counters_t c;
	env_counters(env, &c);
	snap->dev_written = c.bytes_written;
	snap->dev_read = c.bytes_read;
}

/* User figures: what the store interface counted. */
static void phase_snap_user(store_t *s, io_snap_t *snap)
{
	stats_list_t l = STATS_LIST_INIT;
	store_stats(s, &l);
	double v = 0;
	snap->user_written = stats_list_get(&l, "user.bytes_written", &v) ? (uint64_t)v : 0;
	snap->user_read = stats_list_get(&l, "user.bytes_read", &v) ? (uint64_t)v : 0;
	stats_list_free(&l);
}

/* Keeps the store's own figures (not the user/device ones the harness derives). */
static void phase_figures(store_t *s, phase_run_t *out)
{
	stats_list_t l = STATS_LIST_INIT;
	store_stats(s, &l);
	static const char *const skip[] = { "user.", "device.", "write_amp", "read_amp",
					    "space_amp", "disk_bytes", "live_bytes" };
	for (size_t i = 0; i < l.n && out->nfigures < HARNESS_MAX_FIGURES; i++) {
		bool keep = true;
		for (size_t j = 0; j < sizeof skip / sizeof skip[0]; j++)
			if (strncmp(l.items[i].name, skip[j], strlen(skip[j])) == 0)
				keep = false;
		if (!keep)
			continue;
		snprintf(out->figure_names[out->nfigures], 48, "%s", l.items[i].name);
		out->figures[out->nfigures++] = l.items[i].value;
	}
	stats_list_free(&l);
}

static _Thread_local uint64_t phase_dir_total;

static int phase_dir_add(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_F)
		phase_dir_total += (uint64_t)st->st_size;
	return 0;
}

static uint64_t phase_dir_size(const char *dir)
{
	phase_dir_total = 0;
	nftw(dir, phase_dir_add, 16, FTW_PHYS);
	return phase_dir_total;
}

/* ---------------------------------------------------------------- the phase */

/* Appends to params (",name=value" each) those of list that store ops takes. */
static void phase_params_for(const store_ops_t *ops, const char *list, char *params, size_t size)
{
	for (const char *p = list; p != NULL && *p;) {
		size_t len = strcspn(p, ","), used = strlen(params);
		if (store_param_known(ops, p, strcspn(p, "=,")) && used + len + 2 < size)
			snprintf(params + used, size - used, ",%.*s", (int)len, p);
		p += len + (p[len] == ',');
	}
}

static int phase_open(const bench_cfg_t *cfg, const char *name, const char *dir, env_t *env,
		      store_t **s, phase_run_t *out)
{
	char params[1024], own[256], base[64];
	const store_ops_t *ops = stores_spec_lookup(name);
	stores_spec_params(name, own, sizeof own);
	snprintf(params, sizeof params, "expected_keys=%llu", (unsigned long long)cfg->n);
	phase_params_for(ops, cfg->params, params, sizeof params);
	phase_params_for(ops, own, params, sizeof params);
	snprintf(base, sizeof base, "%s", ops->name);
	store_opts_t o = { .sync = cfg->sync, .cache_bytes = cfg->cache_bytes, .params = params,
			   .env = env };
	sl_err_t err = { 0, "" };
	int rc = store_open(base, dir, &o, s, &err);
	if (rc != SL_OK) {
		out->status = rc;
		snprintf(out->error, sizeof out->error, "open: %.240s", err.msg);
	}
	return rc;
}

/* Loads keys 0..n-1 in random order, in batches, untimed. */
static int phase_load(const bench_cfg_t *cfg, store_t *s, const value_pool_t *values,
		      phase_run_t *out)
{
	uint32_t *perm = wl_permutation(cfg->n, cfg->seed ^ 0x10ad);
	if (perm == NULL)
		return SL_NOMEM;
	wl_rng_t r = { cfg->seed ^ 0x1};
	batch_t b;
	batch_init(&b);
	uint8_t key[WL_MAX_KEY_SIZE];
	int rc = SL_OK;
	for (uint64_t i = 0; i < cfg->n && rc == SL_OK; i++) {
		wl_key(perm[i], cfg->key_size, key);
		batch_put(&b, sl_slice(key, cfg->key_size),
			  sl_slice(value_pool_next(values, &r), cfg->value_size));
		if (b.count == PHASE_LOAD_BATCH || i + 1 == cfg->n) {
			rc = store_write(s, &b);
			batch_clear(&b);
		}
	}
	if (rc == SL_OK)
		rc = store_sync(s);
	if (rc != SL_OK) {
		out->status = rc;
		snprintf(out->error, sizeof out->error, "loading keys: %s", store_errmsg(s));
	}
	batch_free(&b);
	free(perm);
	return rc;
}

/* Untimed reads so the timed loop does not measure cold caches. */
static void phase_warmup(const bench_cfg_t *cfg, store_t *s, phase_state_t st)
{
	uint64_t n = cfg->n / 10 < PHASE_WARMUP_MAX ? cfg->n / 10 : PHASE_WARMUP_MAX;
	wl_rng_t r = { cfg->seed ^ 0xa11 };
	uint8_t key[WL_MAX_KEY_SIZE];
	buf_t v = BUF_INIT;
	for (uint64_t i = 0; i < n && st.total_keys > 0; i++) {
		wl_key(wl_below(&r, st.total_keys), cfg->key_size, key);
		store_get(s, sl_slice(key, cfg->key_size), &v);
	}
	buf_free(&v);
}

/*
 * n operations per phase, as db_bench does; --reads samples fewer gets from a
 * large store, whose read phases would otherwise outlast its fill many times
 * over once every get waits on the device.
 */
static uint64_t phase_ops(const bench_cfg_t *cfg, const workload_def_t *def, phase_state_t st)
{
	uint64_t reads = cfg->reads && cfg->reads < cfg->n ? cfg->reads : cfg->n;
	if (def->kind == PHASE_SCAN)
		return reads / 10 ? reads / 10 : 1;
	if (def->kind == PHASE_READRANDOM || def->kind == PHASE_READMISSING)
		return reads;
	if (def->kind == PHASE_DELETERANDOM)
		return st.total_keys;
	return cfg->n;
}

static bool phase_reads(const workload_def_t *def)
{
	return def->kind == PHASE_READRANDOM || def->kind == PHASE_READMISSING ||
	       def->kind == PHASE_SCAN || def->kind == PHASE_MIX;
}

/* Runs the timed loop on cfg->threads workers and merges what they measured. */
static void phase_time(const bench_cfg_t *cfg, store_t *s, const workload_def_t *def,
		       const value_pool_t *values, const uint32_t *perm, phase_state_t st,
		       const char *label, phase_run_t *out)
{
	unsigned t = cfg->threads ? cfg->threads : 1;
	worker_t *w = calloc(t, sizeof *w);
	pthread_t *tid = calloc(t, sizeof *tid);
	if (w == NULL || tid == NULL) {
		free(w);
		free(tid);
		out->status = SL_NOMEM;
		snprintf(out->error, sizeof out->error, "%s: out of memory for %u workers", label, t);
		return;
	}
	_Atomic uint64_t next_insert = st.total_keys;
	uint64_t ops = phase_ops(cfg, def, st);
	dist_t dist = cfg->dist == DIST_DEFAULT_ ? def->dist : cfg->dist;
	for (unsigned i = 0; i < t; i++) {
		w[i] = (worker_t){ .cfg = cfg, .store = s, .def = def, .values = values,
				   .perm = perm, .before = st, .next_insert = &next_insert,
				   .first = ops * i / t, .count = ops * (i + 1) / t - ops * i / t,
				   .index = i, .label = label, .rng = { cfg->seed * 31 + i + 7 } };
		chooser_init(&w[i].chooser, dist, st.total_keys);
		batch_init(&w[i].pending);
		if (cfg->batch > 1) {
			w[i].pending_t0 = calloc(cfg->batch, sizeof *w[i].pending_t0);
			w[i].pending_kind = calloc(cfg->batch, sizeof *w[i].pending_kind);
			if (w[i].pending_t0 == NULL || w[i].pending_kind == NULL) {
				w[i].status = SL_NOMEM;
				snprintf(w[i].error, sizeof w[i].error,
					 "out of memory for --batch %u", cfg->batch);
			}
		}
		hist_init(&w[i].lat);
		for (int k = 0; k < OP_KINDS_; k++)
			hist_init(&w[i].by_kind[k]);
	}
	uint64_t t0 = phase_now_ns();
	for (unsigned i = 1; i < t; i++)
		pthread_create(&tid[i], NULL, worker_main, &w[i]);
	worker_main(&w[0]);
	for (unsigned i = 1; i < t; i++)
		pthread_join(tid[i], NULL);
	out->seconds = (double)(phase_now_ns() - t0) / 1e9;
	out->ops = ops;
	for (unsigned i = 0; i < t; i++) {
		hist_merge(&out->lat, &w[i].lat);
		for (int k = 0; k < OP_KINDS_; k++)
			hist_merge(&out->by_kind[k], &w[i].by_kind[k]);
		out->found += w[i].found;
		out->missing += w[i].missing;
		if (w[i].status != SL_OK && out->status == SL_OK) {
			out->status = w[i].status;
			memcpy(out->error, w[i].error, sizeof out->error);
		}
		buf_free(&w[i].value);
		batch_free(&w[i].pending);
		free(w[i].pending_t0);
		free(w[i].pending_kind);
	}
	out->after.total_keys = next_insert;
	free(w);
	free(tid);
}

/* The key space after the phase. */
static phase_state_t phase_after(const bench_cfg_t *cfg, const workload_def_t *def,
				 phase_state_t before, uint64_t total_after)
{
	phase_state_t st = before;
	if (workload_is_fill(def))
		st.live_keys = st.total_keys = cfg->n;
	else if (def->kind == PHASE_DELETERANDOM)
		st.live_keys = 0;
	else if (def->kind == PHASE_MIX) {
		st.live_keys += total_after - before.total_keys;
		st.total_keys = total_after;
	}
	return st;
}

/*
 * Device bytes are counted from just before the timed loop to just after the
 * store is closed, so work a store defers (dirty pages, a cache written at
 * close) is charged to the phase that caused it; the time is the loop's alone.
 */
void phase_run(const bench_cfg_t *cfg, const char *name, const char *dir,
	       const workload_def_t *def, phase_state_t before, phase_run_t *out)
{
	memset(out, 0, sizeof *out);
	hist_init(&out->lat);
	for (int k = 0; k < OP_KINDS_; k++)
		hist_init(&out->by_kind[k]);
	out->after = before;
	value_pool_t values;
	env_t *env = env_new();
	if (env == NULL || value_pool_init(&values, cfg->value_size, cfg->compress_ratio, cfg->seed) != 0) {
		out->status = SL_NOMEM;
		snprintf(out->error, sizeof out->error, "out of memory for the value pool");
		env_free(env);
		return;
	}
	bool peer = (stores_spec_lookup(name)->caps & STORE_IS_PEER) != 0;
	store_t *s = NULL;
	uint32_t *perm = NULL;
	io_snap_t a = { 0 }, b = { 0 };
	if (phase_open(cfg, name, dir, env, &s, out) != SL_OK)
		goto out_values;
	if (!workload_is_fill(def) && before.total_keys == 0) {
		if (phase_load(cfg, s, &values, out) != SL_OK)
			goto out_close;
		before.live_keys = before.total_keys = cfg->n;
	}
	if (phase_reads(def))
		phase_warmup(cfg, s, before);
	if (def->kind == PHASE_FILLRANDOM || def->kind == PHASE_DELETERANDOM) {
		uint64_t n = def->kind == PHASE_FILLRANDOM ? cfg->n : before.total_keys;
		perm = wl_permutation(n, cfg->seed ^ (uint64_t)def->kind);
	}
	char label[80];
	snprintf(label, sizeof label, "%s %s", name, def->name);
	phase_snap_user(s, &a);
	phase_snap_device(env, peer, &a);
	phase_time(cfg, s, def, &values, perm, before, label, out);
	phase_snap_user(s, &b);
	out->user_written = b.user_written - a.user_written;
	out->user_read = b.user_read - a.user_read;
	out->after = phase_after(cfg, def, before, out->after.total_keys);
	phase_figures(s, out);
out_close:;
	uint64_t closing = phase_now_ns();
	int close_rc = store_close(s);
	out->close_seconds = (double)(phase_now_ns() - closing) / 1e9;
	if (close_rc != SL_OK && out->status == SL_OK) {
		out->status = SL_IO;
		snprintf(out->error, sizeof out->error, "close failed");
	}
	phase_snap_device(env, peer, &b);
	out->dev_written = b.dev_written - a.dev_written;
	if (b.dev_pages_written - a.dev_pages_written > out->dev_written)
		out->dev_written = b.dev_pages_written - a.dev_pages_written;
	out->dev_read = b.dev_read - a.dev_read;
	out->disk_bytes = phase_dir_size(dir);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	out->peak_rss_bytes = (uint64_t)ru.ru_maxrss * 1024;
out_values:
	free(perm);
	value_pool_free(&values);
	env_free(env);
}
