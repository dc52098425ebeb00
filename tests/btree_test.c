/*
 * btree_test.c — the B+tree against the reference store (index/btree).
 *
 * Small pages (512 bytes) make splits, merges, redistribution and overflow
 * chains happen after a few dozen keys, so a short run reaches every path;
 * btree_check runs after every phase.
 */
#include "tests/testutil.h"
#include "tests/storecheck.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/store.h"
#include "index/btree.h"
#include "index/btree_store.h"
#include "index/hash_store.h"
#include "kv/ref.h"

static void test_differential_small_pages(void **state)
{
	tu_fixture_t *f = *state;
	sc_differential("btree", f->dir, 512, btree_max_key(512), tu_ops(30000), 3000, tu_seed());
}

static void test_differential_default_pages(void **state)
{
	tu_fixture_t *f = *state;
	sc_differential("btree", f->dir, 4096, btree_max_key(4096), tu_ops(20000), 20000,
			tu_seed() + 1);
}

/* Insert everything, delete everything: merges collapse the tree to one leaf. */
static void test_grow_and_shrink(void **state)
{
	tu_fixture_t *f = *state;
	store_t *bt = sc_open("btree", f->dir, 512, SL_SYNC_NONE);
	char k[32], v[64];
	for (int i = 0; i < 5000; i++) {
		snprintf(k, sizeof k, "key%08d", (i * 7919) % 5000);
		snprintf(v, sizeof v, "value-%d-padding-padding", i);
		assert_int_equal(store_put(bt, sl_slice_str(k), sl_slice_str(v)), SL_OK);
	}
	sc_check(bt);
	stats_list_t l = STATS_LIST_INIT;
	store_stats(bt, &l);
	double height;
	assert_true(stats_list_get(&l, "btree.height", &height));
	assert_true(height >= 3);
	stats_list_free(&l);
	for (int i = 0; i < 5000; i++) {
		snprintf(k, sizeof k, "key%08d", (i * 104729) % 5000);
		assert_int_equal(store_del(bt, sl_slice_str(k)), SL_OK);
		if (i % 500 == 0)
			sc_check(bt);
	}
	sc_check(bt);
	store_stats(bt, &l);
	assert_true(stats_list_get(&l, "btree.height", &height));
	assert_true(height == 1);
	double merges;
	assert_true(stats_list_get(&l, "btree.merges", &merges) && merges > 0);
	stats_list_free(&l);
	store_close(bt);
}

/* Sequential inserts pack leaves full (the append split). */
static void test_sequential_fill_packs_pages(void **state)
{
	tu_fixture_t *f = *state;
	store_t *bt = sc_open("btree", f->dir, 4096, SL_SYNC_NONE);
	char k[32];
	uint8_t v[100] = { 0 };
	for (int i = 0; i < 3000; i++) {
		snprintf(k, sizeof k, "%016d", i);
		assert_int_equal(store_put(bt, sl_slice_str(k), sl_slice(v, sizeof v)), SL_OK);
	}
	sc_check(bt);
	stats_list_t l = STATS_LIST_INIT;
	store_stats(bt, &l);
	double fill;
	assert_true(stats_list_get(&l, "btree.avg_fill", &fill));
	print_message("average fill after sequential inserts: %.2f\n", fill);
	assert_true(fill > 0.9);
	stats_list_free(&l);
	store_close(bt);
}

static void test_limits(void **state)
{
	tu_fixture_t *f = *state;
	store_t *bt = sc_open("btree", f->dir, 4096, SL_SYNC_NONE);
	static uint8_t big[BTREE_MAX_VALUE + 1];
	uint32_t mk = btree_max_key(4096);
	assert_int_equal(store_put(bt, sl_slice(big, mk + 1), sl_slice_str("v")), SL_INVALID);
	assert_non_null(strstr(store_errmsg(bt), "key"));
	assert_int_equal(store_put(bt, sl_slice(big, mk), sl_slice(big, BTREE_MAX_VALUE)), SL_OK);
	assert_int_equal(store_put(bt, sl_slice_str("x"), sl_slice(big, BTREE_MAX_VALUE + 1)),
			 SL_INVALID);
	buf_t v = BUF_INIT;
	assert_int_equal(store_get(bt, sl_slice(big, mk), &v), SL_OK);
	assert_int_equal(v.len, BTREE_MAX_VALUE);
	assert_int_equal(store_get(bt, sl_slice_str("x"), &v), SL_NOTFOUND);
	sc_check(bt);
	assert_int_equal(store_del(bt, sl_slice(big, mk)), SL_OK);
	sc_check(bt); /* the overflow chain went back to the free list */
	buf_free(&v);
	store_close(bt);
}

/* A flipped byte in any page is SL_CORRUPT, never a wrong answer or a crash. */
static void test_corruption_detected(void **state)
{
	tu_fixture_t *f = *state;
	sc_corrupt_sweep("btree", f->dir, "btree.db", 512, 512 * 7 + 37);
}

/* SIGKILL at random moments at every sync level: every acknowledged put survives. */
static void test_crash_loses_no_acknowledged_write(void **state)
{
	tu_fixture_t *f = *state;
	uint64_t rounds = tu_rounds(10);
	uint64_t total = sc_crash("btree", f->dir, 512, rounds, tu_seed() + 5);
	print_message("%llu acknowledged puts over %llu kills, none lost\n",
		      (unsigned long long)total, (unsigned long long)rounds);
	assert_true(total > rounds);
}

/* Simulated power cuts mid-flight: unsynced page and log writes lost, torn or zeroed. */
static void test_power_loss(void **state)
{
	tu_fixture_t *f = *state;
	assert_true(sc_power_loss("btree", f->dir, 512, tu_rounds(16), tu_seed() + 6, NULL) > 0);
}

/*
 * SIGKILL at chosen points: mid-write of a checkpoint's double-write copy, of its
 * in-place page writes, before the log's fsync.
 */
static void test_crash_points(void **state)
{
	tu_fixture_t *f = *state;
	assert_true(sc_paged_crash_points("btree", f->path, "btree.db") >= 10);
}

static void test_fault_sweep(void **state)
{
	tu_fixture_t *f = *state;
	uint64_t fired, tried = sc_fault_sweep("btree", f->path, 512, &fired);
	assert_true(fired > tried / 2);
}

/* Read-only on a full disk: every acknowledged put read back, nothing written. */
static void test_read_only(void **state)
{
	tu_fixture_t *f = *state;
	sc_read_only("btree", f->path, 512);
}

static void test_edges(void **state)
{
	tu_fixture_t *f = *state;
	sc_edges("btree", f->path, "hash", 0); /* the declared limits hold from 4 KiB pages */
}

/* ---- bulk load ---- */

typedef struct seq_src {
	uint32_t i, n;      /* next entry, entries */
	bool shuffle_at;    /* break the order at the middle */
	char key[32];
	uint8_t value[1200];
} seq_src_t;

static int seq_next(void *ctx, sl_slice_t *k, sl_slice_t *v)
{
	seq_src_t *s = ctx;
	if (s->i == s->n)
		return SL_NOTFOUND;
	uint32_t id = s->shuffle_at && s->i == s->n / 2 ? 0 : s->i;
	snprintf(s->key, sizeof s->key, "%012u", id);
	memset(s->value, 'a' + (int)(id % 26), sizeof s->value);
	*k = sl_slice_str(s->key);
	*v = sl_slice(s->value, id % 97 == 0 ? 1200 : 50); /* some values overflow */
	s->i++;
	return SL_OK;
}

static btree_t *open_tree(tu_fixture_t *f, uint32_t page_size)
{
	btree_opts_t o = { .page_size = page_size, .create = true };
	btree_t *t;
	sl_err_t err = { 0 };
	if (btree_open(f->env, f->path, &o, &t, &err) != SL_OK)
		fail_msg("btree_open: %s", err.msg);
	return t;
}

static void test_bulk_load(void **state)
{
	tu_fixture_t *f = *state;
	btree_t *t = open_tree(f, 1024);
	seq_src_t src = { .n = 50000 };
	sl_err_t err = { 0 };
	if (btree_bulk_load(t, seq_next, &src, 0.8, &err) != SL_OK)
		fail_msg("bulk load: %s", err.msg);
	if (btree_check(t, &err) != SL_OK)
		fail_msg("check: %s", err.msg);
	btree_stats_t st;
	btree_get_stats(t, &st);
	assert_int_equal(st.keys, 50000);
	assert_int_equal(st.splits, 0);
	btree_close(t, NULL);
	t = open_tree(f, 1024);
	buf_t v = BUF_INIT;
	for (uint32_t i = 0; i < 50000; i += 7) {
		char k[32];
		snprintf(k, sizeof k, "%012u", i);
		assert_int_equal(btree_get(t, sl_slice_str(k), &v, &err), SL_OK);
		assert_int_equal(v.len, i % 97 == 0 ? 1200 : 50);
		assert_int_equal(v.data[0], 'a' + (int)(i % 26));
	}
	/* The loaded tree takes ordinary writes afterwards. */
	assert_int_equal(btree_put(t, sl_slice_str("000000000007x"), sl_slice_str("new"), &err), SL_OK);
	assert_int_equal(btree_del(t, sl_slice_str("000000000008"), &err), SL_OK);
	if (btree_check(t, &err) != SL_OK)
		fail_msg("check after writes: %s", err.msg);
	/* A second load is refused: the tree is not empty. */
	src.i = 0;
	assert_int_equal(btree_bulk_load(t, seq_next, &src, 0.8, &err), SL_INVALID);
	buf_free(&v);
	btree_close(t, NULL);
}

static void test_bulk_load_unsorted_leaves_empty_tree(void **state)
{
	tu_fixture_t *f = *state;
	btree_t *t = open_tree(f, 512);
	seq_src_t src = { .n = 3000, .shuffle_at = true };
	sl_err_t err = { 0 };
	assert_int_equal(btree_bulk_load(t, seq_next, &src, 1.0, &err), SL_INVALID);
	assert_non_null(strstr(err.msg, "increasing"));
	btree_close(t, NULL);
	t = open_tree(f, 512);
	btree_stats_t st;
	btree_get_stats(t, &st);
	assert_int_equal(st.keys, 0);
	if (btree_check(t, &err) != SL_OK)
		fail_msg("check: %s", err.msg);
	src = (seq_src_t){ .n = 3000 };
	assert_int_equal(btree_bulk_load(t, seq_next, &src, 1.0, &err), SL_OK);
	btree_get_stats(t, &st);
	print_message("bulk load at fill 1.0: average fill %.2f, height %u\n", st.avg_fill, st.height);
	assert_true(st.avg_fill > 0.9);
	btree_close(t, NULL);
}

/* ---- boundaries by construction ---- */

/* A key that exactly fills a leaf cell's limit, then a split at every slot. */
static void test_split_at_every_slot(void **state)
{
	tu_fixture_t *f = *state;
	uint32_t page = 512, max_key = btree_max_key(page);
	sl_err_t err = { 0 };
	/* Fill one leaf with n keys, then insert the one that splits it, at each position. */
	for (uint32_t pos = 0; pos <= 8; pos++) {
		tu_rmrf(f->path);
		char p2[4200];
		snprintf(p2, sizeof p2, "%s-log", f->path);
		tu_rmrf(p2);
		snprintf(p2, sizeof p2, "%s-dwb", f->path);
		tu_rmrf(p2);
		btree_t *t = open_tree(f, page);
		uint8_t key[1100];
		uint32_t n = 0;
		for (;; n++) {
			memset(key, 'a', max_key);
			key[0] = (uint8_t)('b' + 2 * n); /* leave gaps: 'c', 'e', ... sit between */
			btree_stats_t st;
			assert_int_equal(btree_put(t, sl_slice(key, max_key), sl_slice("", 0), &err), SL_OK);
			btree_get_stats(t, &st);
			if (st.height > 1) {
				/* that one split already; undo it and stop at n keys */
				assert_int_equal(btree_del(t, sl_slice(key, max_key), &err), SL_OK);
				break;
			}
		}
		memset(key, 'a', max_key);
		key[0] = (uint8_t)('b' + 2 * (pos < n ? pos : n) - 1);
		assert_int_equal(btree_put(t, sl_slice(key, max_key), sl_slice_str("split"), &err), SL_OK);
		if (btree_check(t, &err) != SL_OK)
			fail_msg("split at slot %u of %u: %s", pos, n, err.msg);
		buf_t v = BUF_INIT;
		assert_int_equal(btree_get(t, sl_slice(key, max_key), &v, &err), SL_OK);
		assert_true(sl_slice_eq(buf_slice(&v), sl_slice_str("split")));
		buf_free(&v);
		btree_close(t, NULL);
	}
}

/* Flip a byte in each kind of page: header, leaf, internal, overflow, free. */
static void test_corrupt_each_page_kind(void **state)
{
	tu_fixture_t *f = *state;
	btree_t *t = open_tree(f, 512);
	sl_err_t err = { 0 };
	uint8_t v[900];
	memset(v, 'z', sizeof v);
	for (int i = 0; i < 400; i++) {
		char k[32];
		snprintf(k, sizeof k, "key%05d", i);
		assert_int_equal(btree_put(t, sl_slice_str(k), sl_slice(v, i == 7 ? 900 : 10), &err), SL_OK);
	}
	for (int i = 100; i < 140; i++) {
		char k[32];
		snprintf(k, sizeof k, "key%05d", i);
		assert_int_equal(btree_del(t, sl_slice_str(k), &err), SL_OK); /* makes free pages */
	}
	btree_close(t, NULL);
	/* Find one page of each kind by reading the file. */
	FILE *fp = fopen(f->path, "rb");
	uint8_t page[512];
	long found[6] = { 0 };
	for (long pg = 0; fread(page, 1, 512, fp) == 512; pg++) {
		int kind = pg == 0 ? 0 : memcmp(page, "FREE", 4) == 0 ? 4 : page[0] <= 3 ? page[0] : 5;
		if (found[kind] == 0 && (pg > 0 || kind == 0))
			found[kind] = pg == 0 ? -1 : pg;
	}
	fclose(fp);
	const char *names[] = { "header", "leaf", "internal", "overflow", "free" };
	for (int kind = 0; kind < 5; kind++) {
		assert_true(found[kind] != 0);
		long pg = found[kind] < 0 ? 0 : found[kind];
		tu_flip_byte(f->path, (uint64_t)pg * 512 + 20, 0x01);
		btree_opts_t o = { .page_size = 512 };
		int rc = btree_open(f->env, f->path, &o, &t, &err);
		if (rc == SL_OK) {
			rc = btree_check(t, &err);
			btree_close(t, NULL);
		}
		if (rc != SL_CORRUPT)
			fail_msg("a flipped %s page gave %d: %s", names[kind], rc, err.msg);
		print_message("%-8s page %ld: %s\n", names[kind], pg, err.msg);
		tu_flip_byte(f->path, (uint64_t)pg * 512 + 20, 0x01);
	}
}

static void test_wrong_directory_kind(void **state)
{
	tu_fixture_t *f = *state;
	store_t *ref;
	sl_err_t err = { 0 };
	store_opts_t o = { 0 };
	assert_int_equal(store_open("ref", f->dir, &o, &ref, &err), SL_OK);
	store_close(ref);
	store_t *bt;
	assert_int_equal(store_open("btree", f->dir, &o, &bt, &err), SL_INVALID);
	assert_non_null(strstr(err.msg, "not a btree store"));
}

int main(void)
{
	tu_seed();
	tu_filter();
	store_register(&ref_store_ops);
	store_register(&btree_store_ops);
	store_register(&hash_store_ops);
#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_setup, tu_teardown)
	const struct CMUnitTest tests[] = {
		T(test_differential_small_pages),
		T(test_differential_default_pages),
		T(test_grow_and_shrink),
		T(test_sequential_fill_packs_pages),
		T(test_limits),
		T(test_corruption_detected),
		T(test_crash_loses_no_acknowledged_write),
		T(test_power_loss),
		T(test_crash_points),
		T(test_fault_sweep),
		T(test_edges),
		T(test_read_only),
		T(test_bulk_load),
		T(test_bulk_load_unsorted_leaves_empty_tree),
		T(test_split_at_every_slot),
		T(test_corrupt_each_page_kind),
		T(test_wrong_directory_kind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
