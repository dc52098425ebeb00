/* harness.c — child processes, repeats and medians (see harness.h). */
#include "bench/harness.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/memcap.h"
#include "bench/phase.h"
#include "bench/report.h"
#include "bench/stores.h"

static char harness_tmp[4096];          /* the run's temporary directory */
static volatile pid_t harness_child;    /* the phase running now, for SIGINT */

void bench_cfg_defaults(bench_cfg_t *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->n = 100000;
	cfg->key_size = 16;
	cfg->value_size = 100;
	cfg->compress_ratio = 0.5;
	cfg->dist = DIST_DEFAULT_;
	cfg->sync = SL_SYNC_NONE;
	cfg->seed = 1;
	cfg->scan_length = 100;
	cfg->repeat = 3;
	cfg->threads = 1;
	cfg->batch = 1;
}

/* ---------------------------------------------------------------- validation */

/* Checks one store against the options and workloads; 0 or -1 with err. */
static int harness_check_store(const bench_cfg_t *cfg, const char *name, char *err,
			       size_t err_size)
{
	const store_ops_t *ops = stores_spec_lookup(name);
	if (ops == NULL) {
		snprintf(err, err_size, "no store named '%s'", name);
		return -1;
	}
	if ((ops->max_key_bytes && cfg->key_size > ops->max_key_bytes) ||
	    (ops->max_value_bytes && cfg->value_size > ops->max_value_bytes)) {
		snprintf(err, err_size, "store '%s' takes keys up to %llu bytes and values up to %llu "
			 "(0 = no limit); --key-size %u / --value-size %zu are over", name,
			 (unsigned long long)ops->max_key_bytes,
			 (unsigned long long)ops->max_value_bytes, cfg->key_size, cfg->value_size);
		return -1;
	}
	if (cfg->threads > 1 && !(ops->caps & STORE_THREAD_SAFE)) {
		snprintf(err, err_size, "--threads: store '%s' may not be shared between threads "
			 "(run it with --threads 1)", name);
		return -1;
	}
	char own[256];
	sl_err_t e = { 0, "" };
	stores_spec_params(name, own, sizeof own);
	if (store_params_check(ops, own, &e) != SL_OK) {
		snprintf(err, err_size, "%s: %s", name, e.msg);
		return -1;
	}
	return 0;
}

/*
 * --params goes to every store that takes each name; a name that none of the
 * chosen stores takes is a mistake (a typo), not something to ignore.
 */
static int harness_check_params(const bench_cfg_t *cfg, const char *const *stores,
				size_t nstores, char *err, size_t err_size)
{
	for (const char *p = cfg->params; p != NULL && *p;) {
		size_t len = strcspn(p, ","), name_len = strcspn(p, "=,");
		bool known = false;
		for (size_t i = 0; i < nstores && !known; i++)
			known = store_param_known(stores_spec_lookup(stores[i]), p, name_len);
		if (!known || name_len == len) {
			int n = snprintf(err, err_size, "--params: none of the stores takes '%.*s' "
					 "(name=value). They take:", (int)len, p);
			for (size_t i = 0; i < nstores && n > 0 && (size_t)n < err_size; i++) {
				const store_ops_t *ops = stores_spec_lookup(stores[i]);
				n += snprintf(err + n, err_size - (size_t)n, " %s: %s;", ops->name,
					      ops->params ? ops->params : "none of its own");
			}
			return -1;
		}
		p += len + (p[len] == ',');
	}
	return 0;
}

/* Can the store run the workload at all? (A hash index cannot scan.) */
static bool harness_supported(const char *store, const workload_def_t *d)
{
	const store_ops_t *ops = stores_spec_lookup(store);
	bool scans = d->kind == PHASE_SCAN || (d->kind == PHASE_MIX && d->mix.p[OP_SCAN] > 0);
	return !scans || (ops->caps & STORE_CAN_SCAN);
}

int bench_validate(const bench_cfg_t *cfg, const char *const *stores, size_t nstores,
		   size_t nworkloads, char *err, size_t err_size)
{
	if (cfg->n == 0 || cfg->n > UINT32_MAX) {
		snprintf(err, err_size, "--n must be between 1 and 4294967295, not %llu",
			 (unsigned long long)cfg->n);
		return -1;
	}
	if (nstores == 0 || nworkloads == 0 || nworkloads > HARNESS_MAX_WORKLOADS) {
		snprintf(err, err_size, "give 1 or more stores and 1 to %d workloads",
			 HARNESS_MAX_WORKLOADS);
		return -1;
	}
	/* Reads of missing keys and inserts use indices up to about (2 + phases) * n. */
	uint64_t max_index = cfg->n * (2 + nworkloads);
	unsigned need = wl_digits(max_index);
	if (cfg->key_size < need || cfg->key_size > WL_MAX_KEY_SIZE) {
		snprintf(err, err_size, "--key-size %u cannot hold %llu distinct keys: use %u to %d",
			 cfg->key_size, (unsigned long long)max_index, need, WL_MAX_KEY_SIZE);
		return -1;
	}
	if (cfg->value_size > (64u << 20)) {
		snprintf(err, err_size, "--value-size %zu is over 64 MiB", cfg->value_size);
		return -1;
	}
	if (cfg->repeat == 0 || cfg->repeat > 100 || cfg->threads == 0 || cfg->threads > 256 ||
	    cfg->scan_length == 0 || cfg->compress_ratio <= 0 || cfg->compress_ratio > 1) {
		snprintf(err, err_size, "--repeat must be 1..100, --threads 1..256, --scan-length "
			 "positive and --compress-ratio in (0, 1]");
		return -1;
	}
	for (size_t i = 0; i < nstores; i++)
		if (harness_check_store(cfg, stores[i], err, err_size) != 0)
			return -1;
	return harness_check_params(cfg, stores, nstores, err, err_size);
}

/*
 * On a terminal, a line per finished sequence — which store, which of all, and its
 * figures — so a long run shows where it is (the per-phase percentage line is
 * erased when each phase ends).
 */
static void harness_said_done(const bench_cfg_t *cfg, const char *store,
			      const workload_def_t *const *workloads, const phase_run_t *seq,
			      size_t nworkloads, size_t done, size_t total)
{
	if (!cfg->progress || !isatty(STDERR_FILENO))
		return;
	fprintf(stderr, "  [%zu/%zu] %s:", done, total, store);
	for (size_t w = 0; w < nworkloads; w++) {
		char rate[16];
		if (seq[w].status != SL_OK)
			fprintf(stderr, " %s failed", workloads[w]->name);
		else
			fprintf(stderr, " %s %s/s", workloads[w]->name,
				report_si(rate, sizeof rate, seq[w].seconds > 0
					  ? (double)seq[w].ops / seq[w].seconds : 0));
	}
	fputc('\n', stderr);
}

/* ---------------------------------------------------------------- directories */

static int harness_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void harness_rmrf(const char *path)
{
	nftw(path, harness_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void bench_cleanup(void)
{
	if (harness_child > 0)
		kill(harness_child, SIGKILL);
	if (harness_tmp[0] != '\0')
		harness_rmrf(harness_tmp);
	harness_tmp[0] = '\0';
}

static void harness_on_signal(int sig)
{
	bench_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int harness_make_tmp(const bench_cfg_t *cfg, char *err, size_t err_size)
{
	const char *base = cfg->dir ? cfg->dir : getenv("TMPDIR");
	snprintf(harness_tmp, sizeof harness_tmp, "%s/storelab-bench-XXXXXX",
		 base && base[0] ? base : "/tmp");
	if (mkdtemp(harness_tmp) == NULL) {
		snprintf(err, err_size, "cannot make a directory under %s: %s",
			 base && base[0] ? base : "/tmp", strerror(errno));
		harness_tmp[0] = '\0';
		return -1;
	}
	signal(SIGINT, harness_on_signal);
	signal(SIGTERM, harness_on_signal);
	return 0;
}

/* ---------------------------------------------------------------- one phase */

static bool harness_read_all(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

/* Runs one phase in a child process (inside mc's cgroup, if any) and collects its measurements. */
static void harness_phase(const bench_cfg_t *cfg, const memcap_t *mc, const char *store,
			  const char *dir, const workload_def_t *def, phase_state_t before,
			  phase_run_t *run)
{
	int p[2];
	memset(run, 0, sizeof *run);
	if (pipe(p) != 0) {
		run->status = SL_IO;
		snprintf(run->error, sizeof run->error, "pipe: %s", strerror(errno));
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		phase_run_t *mine = calloc(1, sizeof *mine);
		if (mine == NULL)
			_exit(3); /* the parent reports a child that sent nothing */
		if (memcap_enter(mc, mine->error, sizeof mine->error) != 0)
			mine->status = SL_IO;
		else
			phase_run(cfg, store, dir, def, before, mine);
		const uint8_t *b = (const uint8_t *)mine;
		for (size_t done = 0; done < sizeof *mine;) {
			ssize_t w = write(p[1], b + done, sizeof *mine - done);
			if (w <= 0)
				_exit(3);
			done += (size_t)w;
		}
		_exit(0);
	}
	close(p[1]);
	harness_child = pid;
	bool got = pid > 0 && harness_read_all(p[0], run, sizeof *run);
	close(p[0]);
	int status = 0;
	if (pid > 0)
		waitpid(pid, &status, 0);
	harness_child = 0;
	if (!got) {
		run->status = SL_IO;
		if (pid > 0 && WIFSIGNALED(status))
			snprintf(run->error, sizeof run->error, "the %s process died of signal %d (%s)",
				 store, WTERMSIG(status), strsignal(WTERMSIG(status)));
		else
			snprintf(run->error, sizeof run->error, "the %s process ended without a result",
				 store);
	}
}

/* ---------------------------------------------------------------- medians */

static int harness_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double harness_median(double *v, unsigned n)
{
	qsort(v, n, sizeof *v, harness_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double harness_ratio(uint64_t num, uint64_t den)
{
	return den ? (double)num / (double)den : 0;
}

/* The figure `get` of each run, medianed. */
typedef double (*harness_get_fn)(const phase_run_t *r, const bench_cfg_t *cfg, int arg);

static double harness_med(const phase_run_t *runs, unsigned n, const bench_cfg_t *cfg,
			  harness_get_fn get, int arg)
{
	double v[100];
	for (unsigned i = 0; i < n; i++)
		v[i] = get(&runs[i], cfg, arg);
	return harness_median(v, n);
}

static const double harness_q[5] = { 0.50, 0.90, 0.99, 0.999, 1.0 };

static double get_ops_per_sec(const phase_run_t *r, const bench_cfg_t *c, int a)
{
	(void)c, (void)a;
	return r->seconds > 0 ? (double)r->ops / r->seconds : 0;
}
static double get_seconds(const phase_run_t *r, const bench_cfg_t *c, int a)
{
	(void)c, (void)a;
	return r->seconds;
}
static double get_close_seconds(const phase_run_t *r, const bench_cfg_t *c, int a)
{
	(void)c, (void)a;
	return r->close_seconds;
}
static double get_lat(const phase_run_t *r, const bench_cfg_t *c, int q)
{
	(void)c;
	return (double)hist_percentile(&r->lat, harness_q[q]) / 1000.0;
}
static double get_kind_lat(const phase_run_t *r, const bench_cfg_t *c, int kq)
{
	(void)c;
	return (double)hist_percentile(&r->by_kind[kq / 5], harness_q[kq % 5]) / 1000.0;
}
static double get_write_amp(const phase_run_t *r, const bench_cfg_t *c, int a)
{
	(void)c, (void)a;
	return harness_ratio(r->dev_written, r->user_written);
}
static double get_read_amp(const phase_run_t *r, const bench_cfg_t *c, int a)
{
	(void)c, (void)a;
	return harness_ratio(r->dev_read, r->user_read);
}
static double get_space_amp(const phase_run_t *r, const bench_cfg_t *c, int a)
{
	(void)a;
	return harness_ratio(r->disk_bytes, r->after.live_keys * (c->key_size + c->value_size));
}
static double get_disk(const phase_run_t *r, const bench_cfg_t *c, int a)
{
	(void)c, (void)a;
	return (double)r->disk_bytes;
}
static double get_rss(const phase_run_t *r, const bench_cfg_t *c, int a)
{
	(void)c, (void)a;
	return (double)r->peak_rss_bytes;
}
static double get_found(const phase_run_t *r, const bench_cfg_t *c, int a)
{
	(void)c, (void)a;
	return harness_ratio(r->found, r->found + r->missing);
}

/* Fills res from the runs of one (store, workload). */
static void harness_aggregate(const bench_cfg_t *cfg, const phase_run_t *runs, unsigned n,
			      bench_result_t *res)
{
	res->repeats = n;
	for (unsigned i = 0; i < n; i++) {
		if (runs[i].status != SL_OK) {
			res->status = runs[i].status;
			snprintf(res->error, sizeof res->error, "%s", runs[i].error);
			return;
		}
	}
	res->ops = runs[0].ops;
	res->seconds = harness_med(runs, n, cfg, get_seconds, 0);
	res->close_seconds = harness_med(runs, n, cfg, get_close_seconds, 0);
	res->ops_per_sec = harness_med(runs, n, cfg, get_ops_per_sec, 0);
	res->ops_per_sec_min = res->ops_per_sec_max = get_ops_per_sec(&runs[0], cfg, 0);
	for (unsigned i = 1; i < n; i++) {
		double v = get_ops_per_sec(&runs[i], cfg, 0);
		res->ops_per_sec_min = v < res->ops_per_sec_min ? v : res->ops_per_sec_min;
		res->ops_per_sec_max = v > res->ops_per_sec_max ? v : res->ops_per_sec_max;
	}
	for (int q = 0; q < 5; q++)
		res->lat_us[q] = harness_med(runs, n, cfg, get_lat, q);
	for (int k = 0; k < OP_KINDS_; k++) {
		res->kind_ops[k] = runs[0].by_kind[k].n;
		for (int q = 0; q < 5 && res->kind_ops[k] > 0; q++)
			res->kind_lat_us[k][q] = harness_med(runs, n, cfg, get_kind_lat, k * 5 + q);
	}
	res->found_ratio = harness_med(runs, n, cfg, get_found, 0);
	res->write_amp = harness_med(runs, n, cfg, get_write_amp, 0);
	res->read_amp = harness_med(runs, n, cfg, get_read_amp, 0);
	res->space_amp = harness_med(runs, n, cfg, get_space_amp, 0);
	res->disk_bytes = (uint64_t)harness_med(runs, n, cfg, get_disk, 0);
	res->peak_rss_bytes = (uint64_t)harness_med(runs, n, cfg, get_rss, 0);
	res->nfigures = runs[n - 1].nfigures;
	memcpy(res->figure_names, runs[n - 1].figure_names, sizeof res->figure_names);
	memcpy(res->figures, runs[n - 1].figures, sizeof res->figures);
}

/* ---------------------------------------------------------------- the run */

/* Runs the sequence of workloads once on one store, in directory dir. */
static void harness_sequence(const bench_cfg_t *cfg, const char *store, const char *dir,
			     const workload_def_t *const *workloads, size_t nworkloads,
			     phase_run_t *runs /* nworkloads, one per phase */)
{
	phase_state_t st = { 0, 0 };
	memcap_t mc = { .path = "" };
	char err[256];
	if (cfg->memory_bytes > 0 && memcap_create(&mc, cfg->memory_bytes, err, sizeof err) != 0) {
		for (size_t w = 0; w < nworkloads; w++) {
			memset(&runs[w], 0, sizeof runs[w]);
			runs[w].status = SL_IO;
			snprintf(runs[w].error, sizeof runs[w].error, "%s", err);
		}
		return;
	}
	for (size_t w = 0; w < nworkloads; w++) {
		if (workload_is_fill(workloads[w])) {
			harness_rmrf(dir);
			st = (phase_state_t){ 0, 0 };
		}
		if (!harness_supported(store, workloads[w])) {
			memset(&runs[w], 0, sizeof runs[w]);
			runs[w].status = SL_NOTSUP;
			snprintf(runs[w].error, sizeof runs[w].error, "%s cannot scan", store);
			continue;
		}
		harness_phase(cfg, &mc, store, dir, workloads[w], st, &runs[w]);
		if (runs[w].status != SL_OK) {
			/* The directory may be half-written: start the next phase afresh. */
			harness_rmrf(dir);
			st = (phase_state_t){ 0, 0 };
		} else {
			st = runs[w].after;
		}
	}
	harness_rmrf(dir);
	memcap_destroy(&mc);
}

int bench_run(const bench_cfg_t *cfg, const char *const *stores, size_t nstores,
	      const workload_def_t *const *workloads, size_t nworkloads,
	      bench_result_t **results, char *err, size_t err_size)
{
	*results = NULL;
	if (bench_validate(cfg, stores, nstores, nworkloads, err, err_size) != 0)
		return -1;
	memcap_t probe; /* --memory: fail at once, with the reason, when no cgroup can be made */
	if (cfg->memory_bytes > 0 && memcap_create(&probe, cfg->memory_bytes, err, err_size) != 0)
		return -1;
	if (cfg->memory_bytes > 0)
		memcap_destroy(&probe);
	size_t cells = nstores * nworkloads;
	phase_run_t *runs = calloc(cells * cfg->repeat, sizeof *runs);
	phase_run_t *seq = calloc(nworkloads, sizeof *seq); /* one sequence's phases */
	bench_result_t *res = calloc(cells, sizeof *res);
	bool oom = runs == NULL || seq == NULL || res == NULL;
	if (oom || harness_make_tmp(cfg, err, err_size) != 0) {
		if (oom)
			snprintf(err, err_size, "out of memory for %zu results", cells);
		free(runs);
		free(seq);
		free(res);
		return -1;
	}
	/* Repeat-major: repeat r of every store before repeat r+1 of any. */
	for (unsigned r = 0; r < cfg->repeat; r++) {
		for (size_t s = 0; s < nstores; s++) {
			char dir[4200];
			snprintf(dir, sizeof dir, "%s/%s-%u", harness_tmp, stores[s], r);
			harness_sequence(cfg, stores[s], dir, workloads, nworkloads, seq);
			harness_said_done(cfg, stores[s], workloads, seq, nworkloads,
					  r * nstores + s + 1, cfg->repeat * nstores);
			for (size_t w = 0; w < nworkloads; w++)
				runs[(s * nworkloads + w) * cfg->repeat + r] = seq[w];
		}
	}
	for (size_t s = 0; s < nstores; s++) {
		for (size_t w = 0; w < nworkloads; w++) {
			bench_result_t *out = &res[s * nworkloads + w];
			out->n = cfg->n;
			snprintf(out->store, sizeof out->store, "%s", stores[s]);
			snprintf(out->workload, sizeof out->workload, "%s", workloads[w]->name);
			harness_aggregate(cfg, &runs[(s * nworkloads + w) * cfg->repeat], cfg->repeat,
					  out);
		}
	}
	bench_cleanup();
	free(runs);
	free(seq);
	*results = res;
	return 0;
}
