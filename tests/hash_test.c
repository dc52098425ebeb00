/*
 * hash_test.c — the extendible hash index against the reference store
 * (index/hash), with keys that collide on purpose.
 */
#include "tests/testutil.h"
#include "tests/storecheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/checksum.h"
#include "index/hash.h"
#include "index/btree_store.h"
#include "index/hash_store.h"
#include "kv/ref.h"

#define SEED_DEFAULT UINT64_C(0x9e3779b97f4a7c15) /* the index's default hash seed */

static void test_differential_small_pages(void **state)
{
	tu_fixture_t *f = *state;
	sc_differential("hash", f->dir, 512, hash_max_key(512), tu_ops(30000), 3000, tu_seed());
}

static void test_differential_default_pages(void **state)
{
	tu_fixture_t *f = *state;
	sc_differential("hash", f->dir, 4096, hash_max_key(4096), tu_ops(20000), 20000,
			tu_seed() + 1);
}

static hash_t *open_index(tu_fixture_t *f, uint32_t page_size, uint32_t max_depth)
{
	hash_opts_t o = { .page_size = page_size, .create = true, .max_depth = max_depth };
	hash_t *h;
	sl_err_t err = { 0 };
	if (hash_open(f->env, f->path, &o, &h, &err) != SL_OK)
		fail_msg("hash_open: %s", err.msg);
	return h;
}

static void check_index(hash_t *h)
{
	sl_err_t err = { 0 };
	if (hash_check(h, &err) != SL_OK)
		fail_msg("hash_check: %s", err.msg);
}

/*
 * Keys found by brute force whose hashes agree on their low `bits` bits: with
 * the directory limited to that depth they can never be split apart, so the
 * bucket grows a chain — the path a real index takes only for keys colliding on
 * all 24 bits.
 */
static void test_adversarial_collisions(void **state)
{
	tu_fixture_t *f = *state;
	const uint32_t bits = 6;
	hash_t *h = open_index(f, 512, bits);
	sl_err_t err = { 0 };
	char keys[300][24];
	uint32_t n = 0;
	for (uint64_t i = 0; n < 300; i++) {
		char k[24];
		int len = snprintf(k, sizeof k, "victim-%llu", (unsigned long long)i);
		if ((checksum_xxh3(k, (size_t)len, SEED_DEFAULT) & ((1u << bits) - 1)) == 0)
			memcpy(keys[n++], k, sizeof k);
	}
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(hash_put(h, sl_slice_str(keys[i]), sl_slice_str(keys[i]), &err), SL_OK);
	/* Ordinary keys alongside, so the directory grows around the hot bucket. */
	for (uint32_t i = 0; i < 3000; i++) {
		char k[24];
		snprintf(k, sizeof k, "plain-%u", i);
		assert_int_equal(hash_put(h, sl_slice_str(k), sl_slice_str("v"), &err), SL_OK);
	}
	check_index(h);
	hash_stats_t st;
	hash_get_stats(h, &st);
	print_message("%u colliding keys: global depth %u, %llu chained pages, %llu buckets\n", n,
		      st.global_depth, (unsigned long long)st.chained_pages,
		      (unsigned long long)st.buckets);
	assert_true(st.chained_pages > 0);
	assert_int_equal(st.global_depth, bits);
	buf_t v = BUF_INIT;
	for (uint32_t i = 0; i < n; i += 3) {
		assert_int_equal(hash_get(h, sl_slice_str(keys[i]), &v, &err), SL_OK);
		assert_true(sl_slice_eq(buf_slice(&v), sl_slice_str(keys[i])));
	}
	for (uint32_t i = 0; i < n; i += 2)
		assert_int_equal(hash_del(h, sl_slice_str(keys[i]), &err), SL_OK);
	check_index(h);
	hash_close(h, NULL);
	h = open_index(f, 512, bits);
	check_index(h);
	assert_int_equal(hash_get(h, sl_slice_str(keys[0]), &v, &err), SL_NOTFOUND);
	assert_int_equal(hash_get(h, sl_slice_str(keys[1]), &v, &err), SL_OK);
	buf_free(&v);
	hash_close(h, NULL);
}

/* The directory doubles and buckets split as keys arrive; gets read one page. */
static void test_growth_is_incremental(void **state)
{
	tu_fixture_t *f = *state;
	hash_t *h = open_index(f, 1024, 0);
	sl_err_t err = { 0 };
	uint32_t last_depth = 0;
	uint64_t doublings = 0;
	for (uint32_t i = 0; i < 20000; i++) {
		char k[24];
		snprintf(k, sizeof k, "key%08u", i);
		assert_int_equal(hash_put(h, sl_slice_str(k), sl_slice_str("0123456789"), &err), SL_OK);
		hash_stats_t st;
		hash_get_stats(h, &st);
		if (st.global_depth != last_depth) {
			assert_int_equal(st.global_depth, last_depth + 1); /* one doubling at a time */
			last_depth = st.global_depth;
			doublings++;
		}
		if (i % 5000 == 4999)
			check_index(h);
	}
	buf_t v = BUF_INIT;
	for (uint32_t i = 0; i < 20000; i += 7) {
		char k[24];
		snprintf(k, sizeof k, "key%08u", i);
		assert_int_equal(hash_get(h, sl_slice_str(k), &v, &err), SL_OK);
	}
	for (uint32_t i = 0; i < 1000; i++) {
		char k[24];
		snprintf(k, sizeof k, "missing%08u", i);
		assert_int_equal(hash_get(h, sl_slice_str(k), &v, &err), SL_NOTFOUND);
	}
	hash_stats_t st;
	hash_get_stats(h, &st);
	double load = hash_load_factor(h, NULL);
	print_message("20000 keys: depth %u, %llu buckets, load factor %.2f, %.3f pages per get\n",
		      st.global_depth, (unsigned long long)st.buckets, load,
		      (double)st.get_pages / (double)st.gets);
	assert_true((double)st.get_pages / (double)st.gets <= 1.0);
	assert_true(load > 0.5);
	assert_true(doublings >= 5);
	buf_free(&v);
	hash_close(h, NULL);
}

static int count_visit(void *ctx, sl_slice_t key, sl_slice_t value)
{
	(void)key;
	uint64_t *n = ctx;
	*n += 1 + value.len;
	return SL_OK;
}

/* Deleting everything folds emptied buckets back together; the file stops growing. */
static void test_empty_buckets_merge(void **state)
{
	tu_fixture_t *f = *state;
	hash_t *h = open_index(f, 512, 0);
	sl_err_t err = { 0 };
	for (int round = 0; round < 3; round++) {
		for (uint32_t i = 0; i < 4000; i++) {
			char k[24];
			snprintf(k, sizeof k, "r%d-key%06u", round, i);
			assert_int_equal(hash_put(h, sl_slice_str(k), sl_slice_str("v"), &err), SL_OK);
		}
		uint64_t seen = 0;
		assert_int_equal(hash_foreach(h, count_visit, &seen, &err), SL_OK);
		assert_int_equal(seen, 4000 * 2);
		hash_stats_t full;
		hash_get_stats(h, &full);
		for (uint32_t i = 0; i < 4000; i++) {
			char k[24];
			snprintf(k, sizeof k, "r%d-key%06u", round, i);
			assert_int_equal(hash_del(h, sl_slice_str(k), &err), SL_OK);
		}
		check_index(h);
		hash_stats_t empty;
		hash_get_stats(h, &empty);
		print_message("round %d: %llu buckets full, %llu after deleting everything\n", round,
			      (unsigned long long)full.buckets, (unsigned long long)empty.buckets);
		assert_true(empty.buckets < full.buckets / 4);
	}
	hash_close(h, NULL);
}

static void test_no_scans_and_limits(void **state)
{
	tu_fixture_t *f = *state;
	store_t *s = sc_open("hash", f->dir, 4096, SL_SYNC_NONE);
	store_iter_t *it;
	assert_int_equal(store_scan(s, NULL, NULL, &it), SL_NOTSUP);
	assert_non_null(strstr(store_errmsg(s), "no ordered scans"));
	static uint8_t big[HASH_MAX_VALUE + 1];
	uint32_t mk = hash_max_key(4096);
	assert_int_equal(store_put(s, sl_slice(big, mk + 1), sl_slice_str("v")), SL_INVALID);
	assert_int_equal(store_put(s, sl_slice(big, mk), sl_slice(big, HASH_MAX_VALUE)), SL_OK);
	assert_int_equal(store_put(s, sl_slice_str("x"), sl_slice(big, HASH_MAX_VALUE + 1)),
			 SL_INVALID);
	buf_t v = BUF_INIT;
	assert_int_equal(store_get(s, sl_slice(big, mk), &v), SL_OK);
	assert_int_equal(v.len, HASH_MAX_VALUE);
	sc_check(s);
	assert_int_equal(store_del(s, sl_slice(big, mk)), SL_OK);
	sc_check(s); /* the overflow chain went back to the free list */
	buf_free(&v);
	store_close(s);
}

static void test_corruption_detected(void **state)
{
	tu_fixture_t *f = *state;
	sc_corrupt_sweep("hash", f->dir, "hash.db", 512, 512 * 5 + 41);
}

static void test_crash_loses_no_acknowledged_write(void **state)
{
	tu_fixture_t *f = *state;
	uint64_t rounds = tu_rounds(10);
	uint64_t total = sc_crash("hash", f->dir, 512, rounds, tu_seed() + 7);
	print_message("%llu acknowledged puts over %llu kills, none lost\n",
		      (unsigned long long)total, (unsigned long long)rounds);
	assert_true(total > rounds);
}

/* Simulated power cuts mid-flight: unsynced page and log writes lost, torn or zeroed. */
static void test_power_loss(void **state)
{
	tu_fixture_t *f = *state;
	assert_true(sc_power_loss("hash", f->dir, 512, tu_rounds(16), tu_seed() + 8, NULL) > 0);
}

/*
 * SIGKILL at chosen points: mid-write of a checkpoint's double-write copy, of its
 * in-place page writes, before the log's fsync.
 */
static void test_crash_points(void **state)
{
	tu_fixture_t *f = *state;
	assert_true(sc_paged_crash_points("hash", f->path, "hash.db") >= 10);
}

static void test_fault_sweep(void **state)
{
	tu_fixture_t *f = *state;
	uint64_t fired, tried = sc_fault_sweep("hash", f->path, 512, &fired);
	assert_true(fired > tried / 2);
}

/* Read-only on a full disk: every acknowledged put read back, nothing written. */
static void test_read_only(void **state)
{
	tu_fixture_t *f = *state;
	sc_read_only("hash", f->path, 512);
}

static void test_edges(void **state)
{
	tu_fixture_t *f = *state;
	sc_edges("hash", f->path, "btree", 0); /* the declared limits hold from 4 KiB pages */
}

static void test_wrong_kinds(void **state)
{
	tu_fixture_t *f = *state;
	store_t *s = sc_open("btree", f->dir, 0, SL_SYNC_NONE);
	store_close(s);
	sl_err_t err = { 0 };
	store_opts_t o = { 0 };
	assert_int_equal(store_open("hash", f->dir, &o, &s, &err), SL_INVALID);
	assert_non_null(strstr(err.msg, "not a hash store"));
	/* The B+tree's file opened as a hash index is refused, not misread. */
	char path[4200];
	snprintf(path, sizeof path, "%s/btree.db", f->dir);
	hash_opts_t ho = { 0 };
	hash_t *h;
	assert_int_equal(hash_open(f->env, path, &ho, &h, &err), SL_CORRUPT);
	assert_non_null(strstr(err.msg, "not a hash index"));
}

int main(void)
{
	tu_seed();
	tu_filter();
	store_register(&ref_store_ops);
	store_register(&hash_store_ops);
	store_register(&btree_store_ops);
#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_setup, tu_teardown)
	const struct CMUnitTest tests[] = {
		T(test_differential_small_pages),
		T(test_differential_default_pages),
		T(test_adversarial_collisions),
		T(test_growth_is_incremental),
		T(test_empty_buckets_merge),
		T(test_no_scans_and_limits),
		T(test_corruption_detected),
		T(test_crash_loses_no_acknowledged_write),
		T(test_power_loss),
		T(test_crash_points),
		T(test_fault_sweep),
		T(test_edges),
		T(test_read_only),
		T(test_wrong_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
