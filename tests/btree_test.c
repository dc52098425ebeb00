/*
 * btree_test.c — the B+tree against the reference store (index/btree).
 *
 * Small pages (512 bytes) make splits, merges, redistribution and overflow
 * chains happen after a few dozen keys, so a short run reaches every path;
 * btree_check runs after every phase.
 */
#include "tests/testutil.h"

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
#include "kv/ref.h"

static store_t *open_store(const char *name, const char *dir, uint32_t page_size,
			   sl_sync_t sync)
{
	store_opts_t o = { .page_size = page_size, .sync = sync, .cache_bytes = 1 << 20,
			   .params = strcmp(name, "ref") == 0 ? "log=off" : NULL };
	store_t *s;
	sl_err_t err = { 0 };
	if (store_open(name, dir, &o, &s, &err) != SL_OK)
		fail_msg("open %s at %s: %s", name, dir, err.msg);
	return s;
}

static void check_ok(store_t *s)
{
	if (store_check(s) != SL_OK)
		fail_msg("btree_check: %s", store_errmsg(s));
}

/* Keys with long shared prefixes and random tails, lengths 0..max_key. */
static sl_slice_t gen_key(tu_rng_t *r, uint8_t *buf, uint32_t max_key, uint64_t space)
{
	uint64_t id = tu_below(r, space);
	int shape = (int)(id % 5);
	size_t len;
	if (shape == 0) {
		len = (size_t)(id % 3); /* empty, 1- and 2-byte keys */
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)(id >> (8 * i));
	} else if (shape == 1) {
		len = max_key - (id % 3); /* at and near the largest key */
		memset(buf, 'k', len);
		char tail[24];
		snprintf(tail, sizeof tail, "%08llu", (unsigned long long)(id % 100000000));
		memcpy(buf + len - 8, tail, 8);
	} else {
		len = (size_t)snprintf((char *)buf, 64, "prefix/shared/%06llu",
				       (unsigned long long)id);
	}
	return sl_slice(buf, len);
}

static sl_slice_t gen_value(tu_rng_t *r, uint8_t *buf)
{
	uint64_t dice = tu_below(r, 20);
	size_t len = dice == 0 ? 0 : dice == 1 ? 300 + tu_below(r, 3000) : tu_below(r, 60);
	tu_fill(r, buf, len);
	return sl_slice(buf, len);
}

static void expect_same_get(store_t *bt, store_t *ref, sl_slice_t k)
{
	buf_t a = BUF_INIT, b = BUF_INIT;
	int ra = store_get(bt, k, &a), rb = store_get(ref, k, &b);
	if (ra != rb)
		fail_msg("get: btree %d, ref %d (%s)", ra, rb, store_errmsg(bt));
	if (ra == SL_OK)
		assert_true(sl_slice_eq(buf_slice(&a), buf_slice(&b)));
	buf_free(&a);
	buf_free(&b);
}

static void expect_same_scan(store_t *bt, store_t *ref, const sl_slice_t *start, size_t limit)
{
	store_iter_t *a, *b;
	assert_int_equal(store_scan(bt, start, NULL, &a), SL_OK);
	assert_int_equal(store_scan(ref, start, NULL, &b), SL_OK);
	for (size_t i = 0; i < limit && store_iter_valid(b); i++) {
		if (!store_iter_valid(a))
			fail_msg("scan: btree ended early at entry %zu (%s)", i, store_errmsg(bt));
		assert_true(sl_slice_eq(store_iter_key(a), store_iter_key(b)));
		assert_true(sl_slice_eq(store_iter_value(a), store_iter_value(b)));
		store_iter_next(a);
		store_iter_next(b);
	}
	if (limit == SIZE_MAX)
		assert_false(store_iter_valid(a));
	store_iter_close(a);
	store_iter_close(b);
}

static void differential(const char *dir, uint32_t page_size, uint64_t ops, uint64_t space,
			 uint64_t seed)
{
	tu_rng_t r;
	tu_rng_init(&r, seed);
	store_t *bt = open_store("btree", dir, page_size, SL_SYNC_NONE);
	store_t *ref = open_store("ref", "/nonexistent", 0, SL_SYNC_NONE);
	uint32_t max_key = btree_max_key(page_size);
	static uint8_t kb[1100], vb[4000];
	for (uint64_t op = 0; op < ops; op++) {
		uint64_t dice = tu_below(&r, 100);
		sl_slice_t k = gen_key(&r, kb, max_key, space);
		if (dice < 45) {
			sl_slice_t v = gen_value(&r, vb);
			int rc = store_put(bt, k, v);
			if (rc != SL_OK)
				fail_msg("put: %s", store_errmsg(bt));
			assert_int_equal(store_put(ref, k, v), SL_OK);
		} else if (dice < 75) {
			assert_int_equal(store_del(bt, k), SL_OK);
			assert_int_equal(store_del(ref, k), SL_OK);
		} else if (dice < 95) {
			expect_same_get(bt, ref, k);
		} else {
			expect_same_scan(bt, ref, &k, 20);
		}
		if (op % 2000 == 1999)
			check_ok(bt);
		if (tu_below(&r, 3000) == 0) {
			assert_int_equal(store_close(bt), SL_OK);
			bt = open_store("btree", dir, page_size, SL_SYNC_NONE);
			check_ok(bt);
		}
	}
	check_ok(bt);
	expect_same_scan(bt, ref, NULL, SIZE_MAX);
	store_close(bt);
	bt = open_store("btree", dir, page_size, SL_SYNC_NONE);
	check_ok(bt);
	expect_same_scan(bt, ref, NULL, SIZE_MAX);
	store_close(bt);
	store_close(ref);
}

static void test_differential_small_pages(void **state)
{
	tu_fixture_t *f = *state;
	differential(f->dir, 512, tu_ops(30000), 3000, tu_seed());
}

static void test_differential_default_pages(void **state)
{
	tu_fixture_t *f = *state;
	differential(f->dir, 4096, tu_ops(20000), 20000, tu_seed() + 1);
}

/* Insert everything, delete everything: merges collapse the tree to one leaf. */
static void test_grow_and_shrink(void **state)
{
	tu_fixture_t *f = *state;
	store_t *bt = open_store("btree", f->dir, 512, SL_SYNC_NONE);
	char k[32], v[64];
	for (int i = 0; i < 5000; i++) {
		snprintf(k, sizeof k, "key%08d", (i * 7919) % 5000);
		snprintf(v, sizeof v, "value-%d-padding-padding", i);
		assert_int_equal(store_put(bt, sl_slice_str(k), sl_slice_str(v)), SL_OK);
	}
	check_ok(bt);
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
			check_ok(bt);
	}
	check_ok(bt);
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
	store_t *bt = open_store("btree", f->dir, 4096, SL_SYNC_NONE);
	char k[32];
	uint8_t v[100] = { 0 };
	for (int i = 0; i < 3000; i++) {
		snprintf(k, sizeof k, "%016d", i);
		assert_int_equal(store_put(bt, sl_slice_str(k), sl_slice(v, sizeof v)), SL_OK);
	}
	check_ok(bt);
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
	store_t *bt = open_store("btree", f->dir, 4096, SL_SYNC_NONE);
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
	check_ok(bt);
	assert_int_equal(store_del(bt, sl_slice(big, mk)), SL_OK);
	check_ok(bt); /* the overflow chain went back to the free list */
	buf_free(&v);
	store_close(bt);
}

/* A flipped byte in any page is SL_CORRUPT, never a wrong answer or a crash. */
static void test_corruption_detected(void **state)
{
	tu_fixture_t *f = *state;
	store_t *bt = open_store("btree", f->dir, 512, SL_SYNC_NONE);
	char k[32];
	uint8_t v[700];
	memset(v, 'v', sizeof v);
	for (int i = 0; i < 300; i++) {
		snprintf(k, sizeof k, "key%05d", i);
		assert_int_equal(store_put(bt, sl_slice_str(k), sl_slice(v, i % 10 ? 20 : 700)), SL_OK);
	}
	store_close(bt);
	char path[4200];
	snprintf(path, sizeof path, "%s/btree.db", f->dir);
	uint64_t size = tu_file_size(path);
	for (uint64_t off = 512; off < size; off += 512 * 7 + 37) {
		tu_flip_byte(path, off, 0x40);
		store_t *s;
		sl_err_t err = { 0 };
		store_opts_t o = { .page_size = 512 };
		int rc = store_open("btree", f->dir, &o, &s, &err);
		if (rc == SL_OK) {
			rc = store_check(s);
			assert_int_equal(rc, SL_CORRUPT);
			assert_non_null(strstr(store_errmsg(s), "btree.db"));
			/* Reads either succeed correctly or report SL_CORRUPT. */
			buf_t got = BUF_INIT;
			for (int i = 0; i < 300; i++) {
				snprintf(k, sizeof k, "key%05d", i);
				int g = store_get(s, sl_slice_str(k), &got);
				assert_true(g == SL_OK || g == SL_CORRUPT);
				if (g == SL_OK)
					assert_int_equal(got.len, i % 10 ? 20 : 700);
			}
			buf_free(&got);
			store_close(s);
		} else {
			assert_int_equal(rc, SL_CORRUPT);
		}
		tu_flip_byte(path, off, 0x40);
	}
}

/* SIGKILL at random moments with sync always: every acknowledged put survives. */
static void test_crash_loses_no_acknowledged_write(void **state)
{
	tu_fixture_t *f = *state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed() + 5);
	uint64_t rounds = tu_ops(10), total = 0;
	for (uint64_t round = 0; round < rounds; round++) {
		int p[2];
		assert_int_equal(pipe(p), 0);
		pid_t pid = fork();
		if (pid == 0) {
			close(p[0]);
			store_t *s;
			sl_err_t err = { 0 };
			store_opts_t o = { .sync = SL_SYNC_ALWAYS, .page_size = 512 };
			if (store_open("btree", f->dir, &o, &s, &err) != SL_OK)
				_exit(3);
			for (uint32_t i = 0;; i++) {
				char k[32], v[40];
				snprintf(k, sizeof k, "r%llu-%06u", (unsigned long long)round, i);
				snprintf(v, sizeof v, "value-%u", i);
				if (store_put(s, sl_slice_str(k), sl_slice_str(v)) != SL_OK)
					_exit(4);
				if (write(p[1], &i, sizeof i) != sizeof i)
					_exit(5);
			}
		}
		close(p[1]);
		struct timespec ts = { 0, (long)(5 + tu_below(&r, 60)) * 1000000L };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		uint32_t last = 0, i;
		bool any = false;
		while (read(p[0], &i, sizeof i) == sizeof i) {
			last = i;
			any = true;
		}
		close(p[0]);
		store_t *s = open_store("btree", f->dir, 512, SL_SYNC_NONE);
		check_ok(s);
		buf_t v = BUF_INIT;
		for (uint32_t j = 0; any && j <= last; j++) {
			char k[32], want[40];
			snprintf(k, sizeof k, "r%llu-%06u", (unsigned long long)round, j);
			snprintf(want, sizeof want, "value-%u", j);
			if (store_get(s, sl_slice_str(k), &v) != SL_OK)
				fail_msg("round %llu: acknowledged put %u of %u lost",
					 (unsigned long long)round, j, last);
			assert_true(sl_slice_eq(buf_slice(&v), sl_slice_str(want)));
		}
		total += any ? last + 1 : 0;
		buf_free(&v);
		store_close(s);
	}
	print_message("%llu acknowledged puts over %llu kills, none lost\n",
		      (unsigned long long)total, (unsigned long long)rounds);
	assert_true(total > rounds);
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
	store_register(&ref_store_ops);
	store_register(&btree_store_ops);
#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_setup, tu_teardown)
	const struct CMUnitTest tests[] = {
		T(test_differential_small_pages),
		T(test_differential_default_pages),
		T(test_grow_and_shrink),
		T(test_sequential_fill_packs_pages),
		T(test_limits),
		T(test_corruption_detected),
		T(test_crash_loses_no_acknowledged_write),
		T(test_wrong_directory_kind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
