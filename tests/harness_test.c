/*
 * harness_test.c — the benchmark harness end to end at tiny sizes (bench/harness):
 * every built store runs every workload, options are checked before anything
 * runs, and a store that dies takes down only its own measurement.
 */
#include "tests/testutil.h"
#include "tests/storecheck.h"

#include <signal.h>
#include <stdio.h>
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

/* Runs every workload on each of the stores, in order, and checks each result. */
static void check_every_workload(const char *const *stores, size_t ns)
{
	bench_cfg_t cfg;
	small_cfg(&cfg);
	const workload_def_t *defs;
	size_t nd = workload_defs(&defs);
	const workload_def_t *w[HARNESS_MAX_WORKLOADS];
	for (size_t i = 0; i < nd; i++)
		w[i] = &defs[i];
	bench_result_t *r;
	char err[512];
	assert_int_equal(bench_run(&cfg, stores, ns, w, nd, &r, err, sizeof err), 0);
	for (size_t s = 0; s < ns; s++) {
		bool can_scan = store_lookup(stores[s])->caps & STORE_CAN_SCAN;
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

/* The names of the registered stores that keep() accepts (at most 32). */
static size_t pick_stores(bool (*keep)(const store_ops_t *), const char **out)
{
	const store_ops_t *const *all;
	size_t ns = store_registered(&all);
	size_t n = 0;
	for (size_t i = 0; i < ns && n < 32; i++)
		if (keep(all[i]))
			out[n++] = all[i]->name;
	return n;
}

static bool is_ours(const store_ops_t *ops) { return stores_peer_package(ops->name) == NULL; }

static bool is_thread_safe(const store_ops_t *ops) { return ops->caps & STORE_THREAD_SAFE; }

/* Every store of ours runs every workload correctly. */
static void test_smoke_our_stores(void **state)
{
	(void)state;
	const char *stores[32];
	size_t n = pick_stores(is_ours, stores);
	assert_true(n >= 4); /* ref, btree, hash, lsm */
	check_every_workload(stores, n);
}

/*
 * One test per peer, named after it (state: the peer's store name): a peer that
 * was built runs every workload; one that was not is skipped by name, with the
 * package that would build it, so a run without peers says what it left out.
 */
static void test_peer(void **state)
{
	const char *name = *state;
	if (store_lookup(name) == NULL) {
		print_message("%s was not built (install %s, then rebuild): skipped\n", name,
			      stores_peer_package(name));
		skip();
	}
	check_every_workload(&name, 1);
	char dir[] = "/tmp/storelab-peer-XXXXXX";
	assert_non_null(mkdtemp(dir));
	sc_read_only(name, dir, 0);
	tu_rmrf(dir);
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

/*
 * --reads samples fewer gets than keys: readrandom and readmissing do that many,
 * scan a tenth; fills and overwrites still do n. Every sampled get finds its key.
 */
static void test_reads_caps_read_phases(void **state)
{
	(void)state;
	bench_cfg_t cfg;
	small_cfg(&cfg);
	cfg.reads = 120;
	const char *stores[] = { "ref" };
	const workload_def_t *w[] = { workload_find("fillrandom"), workload_find("readrandom"),
				      workload_find("readmissing"), workload_find("scan"),
				      workload_find("overwrite") };
	bench_result_t *r;
	char err[512];
	assert_int_equal(bench_run(&cfg, stores, 1, w, 5, &r, err, sizeof err), 0);
	uint64_t want[] = { 300, 120, 120, 12, 300 };
	for (int i = 0; i < 5; i++) {
		assert_int_equal(r[i].status, SL_OK);
		assert_int_equal(r[i].ops, want[i]);
	}
	assert_true(r[1].found_ratio == 1.0);
	assert_true(r[2].found_ratio == 0.0);
	free(r);
	cfg.reads = 5000; /* more than n: n gets, as without the flag */
	assert_int_equal(bench_run(&cfg, stores, 1, w, 2, &r, err, sizeof err), 0);
	assert_int_equal(r[1].ops, 300);
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
	const char *stores[32];
	size_t n = pick_stores(is_thread_safe, stores);
	assert_true(n > 0); /* lsm is, whatever peers were built */
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

/* ---- a store that counts how writes reach it ---- */

static store_ops_t counting_ops;
static unsigned counted_puts, counted_writes, counted_ops_in_writes;

static int counting_put(store_t *s, sl_slice_t k, sl_slice_t v)
{
	counted_puts++;
	return ref_store_ops.put(s, k, v);
}

static int counting_write(store_t *s, const batch_t *b)
{
	counted_writes++;
	counted_ops_in_writes += b->count;
	return ref_store_ops.write(s, b);
}

/* The harness runs each store in a child process: the counts come back in a file. */
static char counts_path[256];

static int counting_close(store_t *s)
{
	FILE *f = fopen(counts_path, "a");
	if (f != NULL) {
		fprintf(f, "%u %u %u\n", counted_puts, counted_writes, counted_ops_in_writes);
		fclose(f);
	}
	counted_puts = counted_writes = counted_ops_in_writes = 0;
	return ref_store_ops.close(s);
}

static int counting_open(const char *dir, const store_opts_t *o, store_t **out, sl_err_t *err)
{
	int rc = ref_store_ops.open(dir, o, out, err);
	if (rc == SL_OK)
		(*out)->ops = &counting_ops;
	return rc;
}

/* --batch 64: 300 fill writes reach the store as 5 atomic batches (4 x 64 + 44), no single puts. */
static void test_batch_groups_writes(void **state)
{
	(void)state;
	counting_ops = ref_store_ops;
	counting_ops.name = "counting";
	counting_ops.open = counting_open;
	counting_ops.put = counting_put;
	counting_ops.write = counting_write;
	counting_ops.close = counting_close;
	store_register(&counting_ops);
	snprintf(counts_path, sizeof counts_path, "/tmp/storelab-counts-%d", (int)getpid());
	unlink(counts_path);
	bench_cfg_t cfg;
	small_cfg(&cfg);
	cfg.repeat = 1;
	cfg.batch = 64;
	const char *stores[] = { "counting" };
	const workload_def_t *w[] = { workload_find("fillrandom"), workload_find("readrandom") };
	bench_result_t *r;
	char err[512];
	assert_int_equal(bench_run(&cfg, stores, 1, w, 2, &r, err, sizeof err), 0);
	assert_int_equal(r[0].status, SL_OK);
	assert_int_equal(r[0].ops, 300);
	unsigned puts = 0, writes = 0, ops = 0, p, w2, o;
	FILE *f = fopen(counts_path, "r");
	assert_non_null(f);
	while (fscanf(f, "%u %u %u", &p, &w2, &o) == 3)
		puts += p, writes += w2, ops += o;
	fclose(f);
	unlink(counts_path);
	assert_int_equal(puts, 0);
	assert_int_equal(writes, 5);
	assert_int_equal(ops, 300);
	/* Each write waited for its batch's commit: the slowest waited for a whole one. */
	assert_true(r[0].lat_us[0] > 0 && r[0].lat_us[0] <= r[0].lat_us[4]);
	assert_true(r[1].found_ratio == 1.0);
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
	struct CMUnitTest tests[16] = {
		cmocka_unit_test(test_smoke_our_stores),
		cmocka_unit_test(test_read_without_fill_loads_first),
		cmocka_unit_test(test_reads_caps_read_phases),
		cmocka_unit_test(test_bad_options_refused_before_running),
		cmocka_unit_test(test_threads_on_thread_safe_stores),
		cmocka_unit_test(test_crashing_store_is_contained),
		cmocka_unit_test(test_batch_groups_writes),
	};
	size_t n = 6;
	static char names[16][48];
	for (size_t i = 0; stores_peer_name(i) != NULL && n < 16; i++, n++) {
		snprintf(names[n], sizeof names[n], "test_peer %s", stores_peer_name(i));
		tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(test_peer,
									  (void *)stores_peer_name(i));
		tests[n].name = names[n];
	}
	return _cmocka_run_group_tests("harness_test", tests, n, NULL, NULL);
}
