/*
 * harness_test.c — the benchmark harness end to end at tiny sizes (bench/harness):
 * every built store runs every workload, options are checked before anything
 * runs, and a store that dies takes down only its own measurement.
 */
#include "tests/testutil.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/harness.h"
#include "bench/stores.h"
#include "kv/ref.h"

static const bench_result_t *find(const bench_result_t *r, size_t n, const char *store,
				  const char *workload)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(r[i].store, store) == 0 && strcmp(r[i].workload, workload) == 0)
			return &r[i];
	return NULL;
}

static void small_cfg(bench_cfg_t *cfg)
{
	bench_cfg_defaults(cfg);
	cfg->n = 300;
	cfg->repeat = 1;
	cfg->scan_length = 10;
}

/* Every built store (ours and each peer) runs every workload correctly. */
static void test_smoke_every_store_every_workload(void **state)
{
	(void)state;
	bench_cfg_t cfg;
	small_cfg(&cfg);
	const store_ops_t *const *all;
	size_t ns = store_registered(&all);
	const char *stores[32];
	for (size_t i = 0; i < ns; i++)
		stores[i] = all[i]->name;
	const workload_def_t *defs;
	size_t nd = workload_defs(&defs);
	const workload_def_t *w[HARNESS_MAX_WORKLOADS];
	for (size_t i = 0; i < nd; i++)
		w[i] = &defs[i];
	bench_result_t *r;
	char err[512];
	assert_int_equal(bench_run(&cfg, stores, ns, w, nd, &r, err, sizeof err), 0);
	for (size_t s = 0; s < ns; s++) {
		bool can_scan = all[s]->caps & STORE_CAN_SCAN;
		for (size_t i = 0; i < nd; i++) {
			const bench_result_t *x = find(r, ns * nd, stores[s], defs[i].name);
			assert_non_null(x);
			bool scans = defs[i].kind == PHASE_SCAN || defs[i].mix.p[OP_SCAN] > 0;
			if (scans && !can_scan) {
				assert_int_equal(x->status, SL_NOTSUP);
				continue;
			}
			if (x->status != SL_OK)
				fail_msg("%s %s: %s", stores[s], defs[i].name, x->error);
			assert_true(x->ops_per_sec > 0);
			assert_true(x->lat_us[0] > 0 && x->lat_us[0] <= x->lat_us[4]);
		}
		/* fillseq..readmissing run in order: reads find every key, misses none. */
		assert_true(find(r, ns * nd, stores[s], "readrandom")->found_ratio == 1.0);
		assert_true(find(r, ns * nd, stores[s], "readmissing")->found_ratio == 0.0);
		assert_true(find(r, ns * nd, stores[s], "fillrandom")->write_amp > 0);
		assert_int_equal(find(r, ns * nd, stores[s], "fillseq")->ops, 300);
		if (can_scan)
			assert_int_equal(find(r, ns * nd, stores[s], "scan")->ops, 30);
	}
	print_message("%zu stores x %zu workloads ran\n", ns, nd);
	free(r);
}

/* A read phase with no fill before it loads the keys itself. */
static void test_read_without_fill_loads_first(void **state)
{
	(void)state;
	bench_cfg_t cfg;
	small_cfg(&cfg);
	cfg.repeat = 2;
	const char *stores[] = { "ref" };
	const workload_def_t *w[] = { workload_find("readrandom"), workload_find("ycsb-b") };
	bench_result_t *r;
	char err[512];
	assert_int_equal(bench_run(&cfg, stores, 1, w, 2, &r, err, sizeof err), 0);
	assert_int_equal(r[0].status, SL_OK);
	assert_true(r[0].found_ratio == 1.0);
	assert_int_equal(r[0].repeats, 2);
	assert_true(r[0].ops_per_sec_min <= r[0].ops_per_sec && r[0].ops_per_sec <= r[0].ops_per_sec_max);
	assert_int_equal(r[1].kind_ops[OP_READ] + r[1].kind_ops[OP_UPDATE], 300);
	free(r);
}

static void test_bad_options_refused_before_running(void **state)
{
	(void)state;
	bench_cfg_t cfg;
	small_cfg(&cfg);
	const char *stores[] = { "ref" };
	const workload_def_t *w[] = { workload_find("fillrandom") };
	char err[512];
	cfg.n = 0;
	assert_int_equal(bench_validate(&cfg, stores, 1, 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "--n"));
	small_cfg(&cfg);
	cfg.n = 1000000;
	cfg.key_size = 4;
	assert_int_equal(bench_validate(&cfg, stores, 1, 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "--key-size 4 cannot hold"));
	small_cfg(&cfg);
	cfg.threads = 4;
	assert_int_equal(bench_validate(&cfg, stores, 1, 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "may not be shared between threads"));
	small_cfg(&cfg);
	const char *bogus[] = { "nonesuch" };
	bench_result_t *r;
	assert_int_equal(bench_run(&cfg, bogus, 1, w, 1, &r, err, sizeof err), -1);
	assert_non_null(strstr(err, "nonesuch"));
	cfg.value_size = 100u << 20;
	assert_int_equal(bench_validate(&cfg, stores, 1, 1, err, sizeof err), -1);
	/* A value over the store's own limit is refused before anything runs. */
	static store_ops_t small; /* the registry keeps the pointer */
	small = ref_store_ops;
	small.name = "small-values";
	small.max_value_bytes = 50;
	store_register(&small);
	small_cfg(&cfg);
	const char *limited[] = { "small-values" };
	assert_int_equal(bench_validate(&cfg, limited, 1, 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "values up to 50"));
}

/* Threads share one handle of every thread-safe store built; reads find every key. */
static void test_threads_on_thread_safe_stores(void **state)
{
	(void)state;
	const store_ops_t *const *all;
	size_t ns = store_registered(&all);
	const char *stores[32];
	size_t n = 0;
	for (size_t i = 0; i < ns; i++)
		if (all[i]->caps & STORE_THREAD_SAFE)
			stores[n++] = all[i]->name;
	if (n == 0)
		skip(); /* no peer built: none of ours is shared between threads yet */
	bench_cfg_t cfg;
	small_cfg(&cfg);
	cfg.n = 2000;
	cfg.threads = 2;
	const workload_def_t *w[] = { workload_find("fillrandom"), workload_find("readrandom") };
	bench_result_t *r;
	char err[512];
	assert_int_equal(bench_run(&cfg, stores, n, w, 2, &r, err, sizeof err), 0);
	for (size_t i = 0; i < n; i++) {
		if (r[2 * i].status != SL_OK || r[2 * i + 1].status != SL_OK)
			fail_msg("%s: %s%s", stores[i], r[2 * i].error, r[2 * i + 1].error);
		assert_int_equal(r[2 * i].ops, 2000);
		assert_true(r[2 * i + 1].found_ratio == 1.0);
	}
	free(r);
}

/* ---- a store that dies in its first get ---- */

static store_ops_t crasher_ops;

static int crasher_open(const char *dir, const store_opts_t *o, store_t **out, sl_err_t *err)
{
	int rc = ref_store_ops.open(dir, o, out, err);
	if (rc == SL_OK)
		(*out)->ops = &crasher_ops;
	return rc;
}

static int crasher_get(store_t *s, sl_slice_t k, buf_t *v)
{
	(void)s, (void)k, (void)v;
	kill(getpid(), SIGKILL);
	return SL_IO;
}

static void test_crashing_store_is_contained(void **state)
{
	(void)state;
	crasher_ops = ref_store_ops;
	crasher_ops.name = "crasher";
	crasher_ops.open = crasher_open;
	crasher_ops.get = crasher_get;
	store_register(&crasher_ops);
	bench_cfg_t cfg;
	small_cfg(&cfg);
	const char *stores[] = { "crasher", "ref" };
	const workload_def_t *w[] = { workload_find("fillrandom"), workload_find("readrandom") };
	bench_result_t *r;
	char err[512];
	assert_int_equal(bench_run(&cfg, stores, 2, w, 2, &r, err, sizeof err), 0);
	/* crasher's fill works (ref's code), its reads die; ref is unaffected. */
	assert_int_equal(r[0].status, SL_OK);
	assert_int_not_equal(r[1].status, SL_OK);
	assert_non_null(strstr(r[1].error, "signal 9"));
	assert_int_equal(r[2].status, SL_OK);
	assert_int_equal(r[3].status, SL_OK);
	free(r);
}

int main(void)
{
	tu_seed();
	stores_register_all();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smoke_every_store_every_workload),
		cmocka_unit_test(test_read_without_fill_loads_first),
		cmocka_unit_test(test_bad_options_refused_before_running),
		cmocka_unit_test(test_threads_on_thread_safe_stores),
		cmocka_unit_test(test_crashing_store_is_contained),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
