/*
 * lsm_test.c — the LSM store (kv/lsm*, kv/memtable, kv/sstable, engine/cache):
 * each part against a brute-force oracle, the whole store against the reference
 * store under both compaction policies, snapshots, threads, crashes, faults and
 * damaged files.
 */
#include "tests/testutil.h"
#include "tests/storecheck.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/bloom.h"
#include "engine/cache.h"
#include "engine/store.h"
#include "engine/wal.h"
#include "index/btree_store.h"
#include "kv/lsm.h"
#include "kv/lsm_key.h"
#include "kv/lsm_store.h"
#include "kv/memtable.h"
#include "kv/ref.h"
#include "kv/sstable.h"

/* Tiny sizes, so that a few thousand writes make many flushes and compactions. */
#define TINY "memtable=16k,file=8k,level1=32k,ratio=4,block=512"

static lsm_t *open_lsm(tu_fixture_t *f, const char *params, sl_sync_t sync)
{
	store_opts_t so = { .sync = sync, .params = params };
	lsm_opts_t o;
	sl_err_t err = { 0 };
	if (lsm_store_opts(&so, &o, &err) != SL_OK)
		fail_msg("params: %s", err.msg);
	lsm_t *db;
	if (lsm_open(f->env, f->path, &o, &db, &err) != SL_OK)
		fail_msg("lsm_open: %s", err.msg);
	return db;
}

static void check_lsm(lsm_t *db)
{
	sl_err_t err = { 0 };
	if (lsm_check(db, &err) != SL_OK)
		fail_msg("lsm_check: %s", err.msg);
}

static void put_ok(lsm_t *db, const char *k, const char *v)
{
	sl_err_t err = { 0 };
	if (lsm_put(db, sl_slice_str(k), sl_slice_str(v), &err) != SL_OK)
		fail_msg("put %s: %s", k, err.msg);
}

/* The value of k as of snap, "" when absent (values in these tests are never empty). */
static const char *get_str(lsm_t *db, const lsm_snapshot_t *snap, const char *k)
{
	static buf_t v;
	sl_err_t err = { 0 };
	int rc = lsm_get(db, snap, sl_slice_str(k), &v, &err);
	if (rc == SL_NOTFOUND)
		return "";
	if (rc != SL_OK)
		fail_msg("get %s: %s", k, err.msg);
	buf_append(&v, "", 1);
	return (const char *)v.data;
}

/* ================================================================ memtable */

/* Random versions of a few keys, read back at random sequences against a brute-force scan. */
static void test_memtable_versions(void **state)
{
	(void)state;
	enum { KEYS = 50, OPS = 4000 };
	static int type_of[OPS + 1], key_of[OPS + 1];
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	memtable_t *m = memtable_new();
	char k[16], v[16];
	for (int seq = 1; seq <= OPS; seq++) {
		key_of[seq] = (int)tu_below(&r, KEYS);
		type_of[seq] = tu_below(&r, 4) == 0 ? LSM_TYPE_DEL : LSM_TYPE_PUT;
		snprintf(k, sizeof k, "k%03d", key_of[seq]);
		snprintf(v, sizeof v, "v%d", seq);
		assert_int_equal(memtable_add(m, (uint64_t)seq, type_of[seq], sl_slice_str(k),
					      sl_slice_str(v)), SL_OK);
	}
	buf_t got = BUF_INIT;
	for (int probe = 0; probe < 2000; probe++) {
		int key = (int)tu_below(&r, KEYS), at = (int)tu_below(&r, OPS + 1), want = 0;
		for (int seq = 1; seq <= at; seq++)
			if (key_of[seq] == key)
				want = seq; /* the newest version at or before `at` */
		snprintf(k, sizeof k, "k%03d", key);
		bool deleted;
		buf_t seek = BUF_INIT;
		lsm_ikey_set(&seek, sl_slice_str(k), (uint64_t)at, LSM_TYPE_PUT);
		bool found = memtable_get(m, buf_slice(&seek), &got, &deleted);
		buf_free(&seek);
		assert_int_equal(found, want != 0);
		if (found) {
			assert_int_equal(deleted, type_of[want] == LSM_TYPE_DEL);
			snprintf(v, sizeof v, "v%d", want);
			if (!deleted)
				assert_true(sl_slice_eq(buf_slice(&got), sl_slice_str(v)));
		}
	}
	/* The iterator yields every entry in internal-key order. */
	memtable_iter_t it;
	memtable_iter_init(&it, m);
	buf_t prev = BUF_INIT;
	uint64_t n = 0;
	for (memtable_iter_first(&it); memtable_iter_valid(&it); memtable_iter_next(&it), n++) {
		if (n > 0)
			assert_true(lsm_ikey_cmp(buf_slice(&prev), memtable_iter_key(&it)) < 0);
		buf_set(&prev, memtable_iter_key(&it).data, memtable_iter_key(&it).len);
	}
	assert_int_equal(n, OPS);
	assert_int_equal(memtable_count(m), OPS);
	buf_free(&prev);
	buf_free(&got);
	memtable_unref(m);
}

/* ================================================================ block cache */

static int freed;
static void count_free(void *p)
{
	free(p);
	freed++;
}

static void test_cache_evicts_and_pins(void **state)
{
	(void)state;
	freed = 0;
	cache_t *c = cache_new(16 * 1000); /* 1000 bytes per shard */
	cache_handle_t *pinned = cache_insert(c, 1, 0, malloc(8), 100, count_free);
	for (uint64_t off = 1; off <= 2000; off++)
		cache_release(c, cache_insert(c, 2, off, malloc(8), 100, count_free));
	cache_stats_t st;
	cache_get_stats(c, &st);
	assert_true(st.used_bytes <= st.capacity);
	assert_true(st.evictions > 0);
	/* The pinned entry may have left the table, but its value is still ours. */
	assert_non_null(cache_value(pinned));
	cache_release(c, pinned);
	cache_handle_t *h = cache_lookup(c, 2, 2000); /* the newest survives */
	assert_non_null(h);
	cache_release(c, h);
	cache_erase_file(c, 2);
	assert_null(cache_lookup(c, 2, 2000));
	cache_free(c);
	assert_int_equal(freed, 2001);
}

/*
 * Entries looked up often survive a stream of entries used once (a scan): a
 * lookup makes its entry the most recent, and eviction takes the least recent.
 * Were eviction first in, first out, the four hot entries would be gone after a
 * few dozen of the 5,000 inserts (seen when a lookup does not reorder).
 */
static void test_cache_keeps_hot_entries(void **state)
{
	(void)state;
	freed = 0;
	cache_t *c = cache_new(16 * 1000); /* a handful of entries per shard */
	for (uint64_t off = 0; off < 4; off++)
		cache_release(c, cache_insert(c, 1, off, malloc(8), 100, count_free));
	for (uint64_t off = 1; off <= 5000; off++) {
		cache_release(c, cache_insert(c, 2, off, malloc(8), 100, count_free));
		for (uint64_t hot = 0; hot < 4; hot++) {
			cache_handle_t *h = cache_lookup(c, 1, hot);
			if (h == NULL)
				fail_msg("hot entry %llu evicted after %llu inserts",
					 (unsigned long long)hot, (unsigned long long)off);
			cache_release(c, h);
		}
	}
	cache_stats_t st;
	cache_get_stats(c, &st);
	assert_true(st.used_bytes <= st.capacity);
	assert_true(st.evictions > 4500); /* the stream itself does not stay */
	cache_free(c);
	assert_int_equal(freed, 5004);
}

/* ================================================================ SSTables */

static void ikey(buf_t *out, int i, uint64_t seq, int type)
{
	char k[32];
	snprintf(k, sizeof k, "key%07d", i);
	lsm_ikey_set(out, sl_slice_str(k), seq, type);
}

static void build_table(tu_fixture_t *f, int n, const sst_opts_t *o)
{
	sst_builder_t *b;
	sl_err_t err = { 0 };
	assert_int_equal(sst_builder_open(f->env, f->path, o, &b, &err), SL_OK);
	buf_t k = BUF_INIT;
	char v[64];
	for (int i = 0; i < n; i++) {
		ikey(&k, 2 * i, (uint64_t)i + 1, i % 7 == 0 ? LSM_TYPE_DEL : LSM_TYPE_PUT);
		snprintf(v, sizeof v, "value-%d-padding-padding-padding", 2 * i);
		assert_int_equal(sst_builder_add(b, buf_slice(&k), sl_slice_str(v), &err), SL_OK);
	}
	uint64_t bytes;
	sst_props_t p;
	assert_int_equal(sst_builder_finish(b, &bytes, &p, &err), SL_OK);
	assert_int_equal(bytes, tu_file_size(f->path));
	assert_int_equal(p.entries, n);
	sst_props_free(&p);
	buf_free(&k);
}

/* Every key back, absent keys absent, the filter's false positives near the formula. */
static void test_sstable_roundtrip(void **state)
{
	tu_fixture_t *f = *state;
	enum { N = 20000 };
	sst_opts_t o = { .block_bytes = 4096, .bloom_bits = 10, .compress = true };
	build_table(f, N, &o);
	cache_t *c = cache_new(1 << 20);
	sst_t *t;
	sl_err_t err = { 0 };
	assert_int_equal(sst_open(f->env, f->path, 7, c, &t, &err), SL_OK);
	const sst_props_t *p = sst_props(t);
	assert_int_equal(p->entries, N);
	assert_int_equal(p->min_seq, 1);
	assert_int_equal(p->max_seq, N);
	assert_int_equal(p->deletions, (N + 6) / 7);
	buf_t v = BUF_INIT;
	char k[32], want[64];
	uint64_t false_pos = 0;
	buf_t seek = BUF_INIT;
	for (int i = 0; i < 2 * N; i++) {
		snprintf(k, sizeof k, "key%07d", i);
		bool deleted = false;
		sst_probe_t probe;
		lsm_ikey_set(&seek, sl_slice_str(k), LSM_MAX_SEQ, LSM_TYPE_PUT);
		int rc = sst_get(t, buf_slice(&seek), bloom_hash(sl_slice_str(k)), &v, &deleted,
				 &probe, &err);
		if (i % 2) {
			assert_int_equal(rc, SL_NOTFOUND);
			false_pos += !probe.filtered;
			continue;
		}
		assert_int_equal(rc, SL_OK);
		assert_int_equal(deleted, (i / 2) % 7 == 0);
		snprintf(want, sizeof want, "value-%d-padding-padding-padding", i);
		if (!deleted)
			assert_true(sl_slice_eq(buf_slice(&v), sl_slice_str(want)));
		/* Below the entry's sequence the table has nothing for the key. */
		lsm_ikey_set(&seek, sl_slice_str(k), (uint64_t)i / 2, LSM_TYPE_PUT);
		assert_int_equal(sst_get(t, buf_slice(&seek), bloom_hash(sl_slice_str(k)), &v,
					 &deleted, &probe, &err), SL_NOTFOUND);
	}
	buf_free(&seek);
	double fpr = (double)false_pos / N;
	assert_true(fpr < 2.5 * bloom_expected_fpr(10));
	/* A scan from the middle sees the rest in order. */
	sst_iter_t *it;
	assert_int_equal(sst_iter_new(t, &it), SL_OK);
	buf_t target = BUF_INIT;
	ikey(&target, 2 * 777 + 1, LSM_MAX_SEQ, LSM_TYPE_PUT);
	int n = 0;
	for (sst_iter_seek(it, buf_slice(&target)); sst_iter_valid(it); sst_iter_next(it), n++) {
		snprintf(k, sizeof k, "key%07d", 2 * (778 + n));
		assert_true(sl_slice_eq(lsm_ikey_user(sst_iter_key(it)), sl_slice_str(k)));
	}
	assert_int_equal(sst_iter_status(it, NULL), SL_OK);
	assert_int_equal(n, N - 778);
	sst_iter_free(it);
	buf_free(&target);
	buf_free(&v);
	sst_close(t);
	cache_free(c);
}

/* sst_get of the newest version of user key "key<i>" (the names ikey() makes). */
static int sst_get_numbered(sst_t *t, int i, buf_t *value, bool *deleted, sst_probe_t *probe,
			    sl_err_t *err)
{
	char k[32];
	snprintf(k, sizeof k, "key%07d", i);
	buf_t seek = BUF_INIT;
	lsm_ikey_set(&seek, sl_slice_str(k), LSM_MAX_SEQ, LSM_TYPE_PUT);
	int rc = sst_get(t, buf_slice(&seek), bloom_hash(sl_slice_str(k)), value, deleted, probe,
			 err);
	buf_free(&seek);
	return rc;
}

/* Gets every key of the table built by build_table(n); returns how many data
 * blocks came from the file (sst_probe_t.block_read). */
static uint64_t get_all_counting_reads(sst_t *t, int n)
{
	buf_t v = BUF_INIT;
	sl_err_t err = { 0 };
	uint64_t reads = 0;
	for (int i = 0; i < n; i++) {
		bool deleted;
		sst_probe_t probe;
		assert_int_equal(sst_get_numbered(t, 2 * i, &v, &deleted, &probe, &err), SL_OK);
		assert_int_equal(deleted, i % 7 == 0);
		reads += probe.block_read;
	}
	buf_free(&v);
	return reads;
}

/*
 * A raw block is verified on its first read and then used in place without the
 * cache; an lz4 block is decompressed once and kept in the cache. Either way a
 * second pass over every key reads no block. A raw block that fails its check is
 * never marked: each get says so again.
 */
static void test_sstable_blocks_checked_once(void **state)
{
	tu_fixture_t *f = *state;
	enum { N = 3000 };
	sl_err_t err = { 0 };
	for (int compress = 0; compress <= 1; compress++) {
		sst_opts_t o = { .block_bytes = 1024, .bloom_bits = 10, .compress = compress };
		build_table(f, N, &o);
		cache_t *c = cache_new(8 << 20);
		sst_t *t;
		assert_int_equal(sst_open(f->env, f->path, 7, c, &t, &err), SL_OK);
		uint64_t first = get_all_counting_reads(t, N);
		assert_true(first > N / 100); /* 1 KiB blocks: dozens of them */
		assert_int_equal(get_all_counting_reads(t, N), 0);
		cache_stats_t st;
		cache_get_stats(c, &st);
		assert_int_equal(st.inserts, compress ? first : 0);
		assert_true(compress ? st.hits >= N - first : st.hits == 0);
		sst_close(t);
		cache_free(c);
	}
	sst_opts_t o = { .block_bytes = 1024, .bloom_bits = 10 };
	build_table(f, N, &o);
	tu_flip_byte(f->path, 10, 0x01); /* inside the first data block */
	sst_t *t;
	assert_int_equal(sst_open(f->env, f->path, 7, NULL, &t, &err), SL_OK);
	buf_t v = BUF_INIT;
	for (int pass = 0; pass < 2; pass++) {
		bool deleted;
		sst_probe_t probe;
		assert_int_equal(sst_get_numbered(t, 2, &v, &deleted, &probe, &err), SL_CORRUPT);
		assert_non_null(strstr(err.msg, "checksum"));
	}
	buf_free(&v);
	sst_close(t);
}

/* Value i of test_sstable_blocks_within_pages: 0 to 399 bytes. */
static void value_of(buf_t *v, int i)
{
	buf_clear(v);
	for (int j = 0; j < i * 37 % 400; j++)
		buf_append(v, &(uint8_t){ (uint8_t)(i * 31 + j * 7) }, 1);
}

/*
 * Raw data blocks of a page or less never cross a 4 KiB page of the file (a
 * capped get would wait for two device reads), whatever the entry sizes; the
 * zeros that align them cost little space.
 */
static void test_sstable_blocks_within_pages(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	enum { N = 4000 };
	sst_opts_t o = { .block_bytes = 4096, .bloom_bits = 10 };
	sst_builder_t *b;
	assert_int_equal(sst_builder_open(f->env, f->path, &o, &b, &err), SL_OK);
	buf_t k = BUF_INIT, v = BUF_INIT, got = BUF_INIT;
	uint64_t raw = 0;
	for (int i = 0; i < N; i++) {
		ikey(&k, i, (uint64_t)i + 1, LSM_TYPE_PUT);
		value_of(&v, i);
		raw += k.len + v.len;
		assert_int_equal(sst_builder_add(b, buf_slice(&k), buf_slice(&v), &err), SL_OK);
	}
	uint64_t bytes;
	sst_props_t p;
	assert_int_equal(sst_builder_finish(b, &bytes, &p, &err), SL_OK);
	sst_props_free(&p);
	assert_true(bytes < raw + raw / 8); /* entries, index, filter and the padding */
	sst_t *t;
	assert_int_equal(sst_open(f->env, f->path, 7, NULL, &t, &err), SL_OK);
	for (int i = 0; i < N; i++) {
		bool deleted;
		sst_probe_t probe;
		assert_int_equal(sst_get_numbered(t, i, &got, &deleted, &probe, &err), SL_OK);
		value_of(&v, i);
		assert_true(sl_slice_eq(buf_slice(&got), buf_slice(&v)));
		if (probe.block_off / 4096 != (probe.block_off + probe.block_len - 1) / 4096)
			fail_msg("block at %llu (+%llu) crosses a page", (unsigned long long)probe.block_off,
				 (unsigned long long)probe.block_len);
	}
	sst_close(t);
	buf_free(&k);
	buf_free(&v);
	buf_free(&got);
}

/* A table cut short or with a damaged footer is refused, with its path named. */
static void test_sstable_damage(void **state)
{
	tu_fixture_t *f = *state;
	sst_opts_t o = { .block_bytes = 1024, .bloom_bits = 10, .compress = true };
	build_table(f, 3000, &o);
	uint64_t size = tu_file_size(f->path);
	sst_t *t;
	sl_err_t err = { 0 };
	const uint64_t offs[] = { size - 1, size - 9, size - 20, size - 60 };
	for (size_t i = 0; i < 4; i++) {
		tu_flip_byte(f->path, offs[i], 0x10);
		assert_int_equal(sst_open(f->env, f->path, 1, NULL, &t, &err), SL_CORRUPT);
		assert_non_null(strstr(err.msg, f->path));
		tu_flip_byte(f->path, offs[i], 0x10);
	}
	assert_int_equal(sst_open(f->env, f->path, 1, NULL, &t, &err), SL_OK);
	sst_close(t);
	tu_truncate(f->path, size - 100);
	assert_int_equal(sst_open(f->env, f->path, 1, NULL, &t, &err), SL_CORRUPT);
	assert_non_null(strstr(err.msg, f->path));
}

/* ================================================================ the whole store */

static void test_differential_leveled(void **state)
{
	tu_fixture_t *f = *state;
	sc_set_params(TINY ",deterministic=on");
	sc_differential("lsm", f->path, 0, 1000, tu_ops(30000), 3000, tu_seed());
	sc_set_params(NULL);
}

static void test_differential_tiered(void **state)
{
	tu_fixture_t *f = *state;
	sc_set_params(TINY ",deterministic=on,policy=tiered,tier_runs=3");
	sc_differential("lsm", f->path, 0, 1000, tu_ops(30000), 3000, tu_seed() + 1);
	sc_set_params(NULL);
}

/* The same with the background thread doing the work, as in production. */
static void test_differential_background(void **state)
{
	tu_fixture_t *f = *state;
	sc_set_params(TINY);
	sc_differential("lsm", f->path, 0, 1000, tu_ops(20000), 5000, tu_seed() + 2);
	sc_set_params(NULL);
}

/* ---- snapshots ---- */

enum { SNAP_KEYS = 300, SNAP_MAX = 6 };

typedef struct snap_copy {
	lsm_snapshot_t *snap;
	int values[SNAP_KEYS]; /* 0 = absent */
} snap_copy_t;

static void snap_key(char *k, size_t n, int i) { snprintf(k, n, "snap-%04d", i); }

/* Every get and a full scan through the snapshot see exactly the copy. */
static void verify_snapshot(lsm_t *db, const snap_copy_t *c)
{
	char k[32], v[32];
	for (int i = 0; i < SNAP_KEYS; i++) {
		snap_key(k, sizeof k, i);
		snprintf(v, sizeof v, "v%d", c->values[i]);
		assert_string_equal(get_str(db, c->snap, k), c->values[i] ? v : "");
	}
	lsm_iter_t *it;
	sl_err_t err = { 0 };
	assert_int_equal(lsm_iter_new(db, c->snap, &it, &err), SL_OK);
	lsm_iter_seek(it, NULL);
	for (int i = 0; i < SNAP_KEYS; i++) {
		if (c->values[i] == 0)
			continue;
		assert_true(lsm_iter_valid(it));
		snap_key(k, sizeof k, i);
		snprintf(v, sizeof v, "v%d", c->values[i]);
		assert_true(sl_slice_eq(lsm_iter_key(it), sl_slice_str(k)));
		assert_true(sl_slice_eq(lsm_iter_value(it), sl_slice_str(v)));
		lsm_iter_next(it);
	}
	assert_false(lsm_iter_valid(it));
	assert_int_equal(lsm_iter_status(it, NULL), SL_OK);
	lsm_iter_free(it);
}

static void run_snapshots(tu_fixture_t *f, const char *params)
{
	lsm_t *db = open_lsm(f, params, SL_SYNC_NONE);
	tu_rng_t r;
	tu_rng_init(&r, tu_seed() + 3);
	static snap_copy_t snaps[SNAP_MAX];
	int live = 0, cur[SNAP_KEYS] = { 0 };
	char k[32], v[32];
	sl_err_t err = { 0 };
	uint64_t ops = tu_ops(12000);
	for (uint64_t op = 1; op <= ops; op++) {
		int i = (int)tu_below(&r, SNAP_KEYS);
		snap_key(k, sizeof k, i);
		if (tu_below(&r, 3) == 0) {
			assert_int_equal(lsm_del(db, sl_slice_str(k), &err), SL_OK);
			cur[i] = 0;
		} else {
			snprintf(v, sizeof v, "v%d", (int)op);
			put_ok(db, k, v);
			cur[i] = (int)op;
		}
		if (op % 400 == 0 && live < SNAP_MAX) {
			snaps[live].snap = lsm_snapshot(db);
			memcpy(snaps[live].values, cur, sizeof cur);
			live++;
		}
		if (op % 1000 == 0) {
			for (int s = 0; s < live; s++)
				verify_snapshot(db, &snaps[s]);
			check_lsm(db);
			if (live > 0 && tu_below(&r, 2) == 0) { /* release one at random */
				int s = (int)tu_below(&r, (uint64_t)live);
				lsm_snapshot_release(db, snaps[s].snap);
				snaps[s] = snaps[--live];
			}
		}
	}
	assert_int_equal(lsm_compact_wait(db, &err), SL_OK);
	for (int s = 0; s < live; s++) {
		verify_snapshot(db, &snaps[s]);
		lsm_snapshot_release(db, snaps[s].snap);
	}
	check_lsm(db);
	assert_int_equal(lsm_close(db, &err), SL_OK);
}

static void test_snapshots_leveled(void **state)
{
	run_snapshots(*state, TINY ",deterministic=on");
}

static void test_snapshots_tiered(void **state)
{
	run_snapshots(*state, TINY ",deterministic=on,policy=tiered");
}

static void test_snapshots_background(void **state)
{
	run_snapshots(*state, TINY);
}

/* ---- the shape of the tree under each policy ---- */

static uint64_t level_runs_max(const lsm_stats_t *st, int from)
{
	uint64_t m = 0;
	for (int l = from; l < LSM_LEVELS; l++)
		if (st->levels[l].runs > m)
			m = st->levels[l].runs;
	return m;
}

static uint64_t total_files(const lsm_stats_t *st)
{
	uint64_t n = 0;
	for (int l = 0; l < LSM_LEVELS; l++)
		n += st->levels[l].files;
	return n;
}

/*
 * Leveled keeps one run per level below 0; tiered lets runs pile up to tier_runs.
 * Deleting everything and compacting leaves (almost) nothing behind: tombstones
 * are dropped once they reach the bottom.
 */
static void run_shape(tu_fixture_t *f, const char *params, bool tiered)
{
	lsm_t *db = open_lsm(f, params, SL_SYNC_NONE);
	char k[32], v[128];
	sl_err_t err = { 0 };
	memset(v, 'x', sizeof v - 1);
	v[sizeof v - 1] = 0;
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 6000; i++) {
			snprintf(k, sizeof k, "shape-%06d", (i * 7919) % 6000);
			put_ok(db, k, v);
		}
	assert_int_equal(lsm_compact_wait(db, &err), SL_OK);
	check_lsm(db);
	lsm_stats_t st;
	lsm_get_stats(db, &st);
	if (tiered)
		assert_true(level_runs_max(&st, 1) >= 1 && level_runs_max(&st, 0) < 4);
	else
		assert_true(level_runs_max(&st, 1) <= 1);
	assert_true(st.compactions > 0);
	assert_true(total_files(&st) > 1);
	/* lsm_dump draws what the stats count: levels, runs, files and their key ranges */
	char *dump = NULL;
	size_t dump_len = 0;
	FILE *out = open_memstream(&dump, &dump_len);
	lsm_dump(db, out);
	fclose(out);
	assert_non_null(strstr(dump, "lsm: last sequence 18000"));
	assert_non_null(strstr(dump, tiered ? " runs, " : "L1: 1 run,")); /* tiers pile runs up */
	assert_non_null(strstr(dump, ".sst"));
	assert_non_null(strstr(dump, "keys [shape-"));
	free(dump);
	for (int i = 0; i < 6000; i++) {
		snprintf(k, sizeof k, "shape-%06d", i);
		assert_int_equal(lsm_del(db, sl_slice_str(k), &err), SL_OK);
	}
	/* Push the tombstones down with more, unrelated writes, then check they went. */
	for (int i = 0; i < 20000; i++) {
		snprintf(k, sizeof k, "zzz-%06d", i);
		put_ok(db, k, "z");
	}
	assert_int_equal(lsm_flush(db, &err), SL_OK);
	assert_int_equal(lsm_compact_wait(db, &err), SL_OK);
	check_lsm(db);
	for (int i = 0; i < 6000; i += 97) {
		snprintf(k, sizeof k, "shape-%06d", i);
		assert_string_equal(get_str(db, NULL, k), "");
	}
	lsm_iter_t *it;
	assert_int_equal(lsm_iter_new(db, NULL, &it, &err), SL_OK);
	lsm_iter_seek(it, NULL);
	assert_true(lsm_iter_valid(it));
	assert_true(sl_slice_eq(lsm_iter_key(it), sl_slice_str("zzz-000000")));
	lsm_iter_free(it);
	/* an end bound stops the iterator there, the deleted keys before it skipped */
	assert_int_equal(lsm_iter_new(db, NULL, &it, &err), SL_OK);
	sl_slice_t end = sl_slice_str("zzz-000005");
	lsm_iter_set_end(it, &end);
	int seen = 0;
	for (lsm_iter_seek(it, NULL); lsm_iter_valid(it); lsm_iter_next(it))
		seen++;
	assert_int_equal(seen, 5);
	assert_int_equal(lsm_iter_status(it, &err), SL_OK);
	lsm_iter_free(it);
	assert_int_equal(lsm_close(db, &err), SL_OK);
}

static void test_shape_leveled(void **state)
{
	run_shape(*state, TINY ",deterministic=on", false);
}

static void test_shape_tiered(void **state)
{
	run_shape(*state, TINY ",deterministic=on,policy=tiered", true);
}

/* ---- threads ---- */

typedef struct writer_arg {
	lsm_t *db;
	int id;
	int batches;
} writer_arg_t;

/* Each batch writes the same value under a pair of keys: readers must never see them differ. */
static void *writer_main(void *p)
{
	writer_arg_t *a = p;
	char k[32], v[32];
	for (int i = 0; i < a->batches; i++) {
		batch_t b;
		batch_init(&b);
		snprintf(v, sizeof v, "w%d-%d", a->id, i);
		snprintf(k, sizeof k, "pair-a-%d", i % 50);
		batch_put(&b, sl_slice_str(k), sl_slice_str(v));
		snprintf(k, sizeof k, "pair-b-%d", i % 50);
		batch_put(&b, sl_slice_str(k), sl_slice_str(v));
		snprintf(k, sizeof k, "own-%d-%05d", a->id, i);
		batch_put(&b, sl_slice_str(k), sl_slice_str(v));
		sl_err_t err = { 0 };
		if (lsm_write(a->db, &b, &err) != SL_OK)
			fail_msg("write: %s", err.msg);
		batch_free(&b);
	}
	return NULL;
}

static _Atomic bool readers_stop;

static void *reader_main(void *p)
{
	lsm_t *db = p;
	char k[32];
	buf_t a = BUF_INIT, b = BUF_INIT;
	sl_err_t err = { 0 };
	for (int i = 0; !readers_stop; i++) {
		lsm_snapshot_t *s = lsm_snapshot(db);
		snprintf(k, sizeof k, "pair-a-%d", i % 50);
		int ra = lsm_get(db, s, sl_slice_str(k), &a, &err);
		snprintf(k, sizeof k, "pair-b-%d", i % 50);
		int rb = lsm_get(db, s, sl_slice_str(k), &b, &err);
		/* Both halves of a batch, or neither. */
		if (ra != rb || (ra == SL_OK && !sl_slice_eq(buf_slice(&a), buf_slice(&b))))
			fail_msg("a batch was seen half-applied");
		lsm_snapshot_release(db, s);
	}
	buf_free(&a);
	buf_free(&b);
	return NULL;
}

/* Writers queue into groups, readers run beside them, compactions go on underneath. */
static void test_threads(void **state)
{
	tu_fixture_t *f = *state;
	enum { WRITERS = 4, READERS = 2 };
	lsm_t *db = open_lsm(f, TINY, SL_SYNC_BATCH);
	pthread_t w[WRITERS], rd[READERS];
	writer_arg_t args[WRITERS];
	int batches = (int)tu_ops(1500);
	readers_stop = false;
	for (int i = 0; i < READERS; i++)
		pthread_create(&rd[i], NULL, reader_main, db);
	for (int i = 0; i < WRITERS; i++) {
		args[i] = (writer_arg_t){ db, i, batches };
		pthread_create(&w[i], NULL, writer_main, &args[i]);
	}
	for (int i = 0; i < WRITERS; i++)
		pthread_join(w[i], NULL);
	readers_stop = true;
	for (int i = 0; i < READERS; i++)
		pthread_join(rd[i], NULL);
	lsm_stats_t st;
	lsm_get_stats(db, &st);
	assert_int_equal(st.last_seq, (uint64_t)WRITERS * batches * 3);
	assert_int_equal(st.grouped_writes, (uint64_t)WRITERS * batches);
	assert_true(st.write_groups <= st.grouped_writes);
	sl_err_t err = { 0 };
	assert_int_equal(lsm_close(db, &err), SL_OK);
	db = open_lsm(f, TINY, SL_SYNC_NONE);
	char k[32], v[32];
	for (int i = 0; i < WRITERS; i++)
		for (int j = 0; j < batches; j += 37) {
			snprintf(k, sizeof k, "own-%d-%05d", i, j);
			snprintf(v, sizeof v, "w%d-%d", i, j);
			assert_string_equal(get_str(db, NULL, k), v);
		}
	check_lsm(db);
	assert_int_equal(lsm_close(db, &err), SL_OK);
}

/* ---- durability and damage ---- */

/* The path of the store's file with the highest number of kind ext ("log", "sst"). */
static const char *newest_file(tu_fixture_t *f, const char *ext, int nth_from_end)
{
	static char path[4200];
	char **names;
	size_t n, found = 0;
	assert_int_equal(env_list_dir(f->env, f->path, &names, &n, NULL), SL_OK);
	path[0] = 0;
	for (size_t i = n; i-- > 0;) {
		const char *dot = strrchr(names[i], '.');
		if (strncmp(names[i], "lsm-", 4) == 0 && dot && strcmp(dot + 1, ext) == 0 &&
		    (int)found++ == nth_from_end) {
			snprintf(path, sizeof path, "%s/%s", f->path, names[i]);
			break;
		}
	}
	env_list_free(names, n);
	assert_true(path[0] != 0);
	return path;
}

static void put_range(lsm_t *db, int from, int to)
{
	char k[32], v[32];
	for (int i = from; i < to; i++) {
		snprintf(k, sizeof k, "dur-%05d", i);
		snprintf(v, sizeof v, "value-%d", i);
		put_ok(db, k, v);
	}
}

static void expect_range(lsm_t *db, int from, int to)
{
	char k[32], v[32];
	for (int i = from; i < to; i++) {
		snprintf(k, sizeof k, "dur-%05d", i);
		snprintf(v, sizeof v, "value-%d", i);
		assert_string_equal(get_str(db, NULL, k), v);
	}
}

static int open_status(tu_fixture_t *f, const char *params, sl_err_t *err)
{
	store_opts_t so = { .params = params };
	lsm_opts_t o;
	assert_int_equal(lsm_store_opts(&so, &o, err), SL_OK);
	lsm_t *db;
	int rc = lsm_open(f->env, f->path, &o, &db, err);
	if (rc == SL_OK)
		lsm_close(db, NULL);
	return rc;
}

/*
 * A memtable frozen while a big compaction merges is flushed in the middle of
 * it, not after: writes go on until a compaction has paused for a flush, and
 * every key still reads back its last value (against an array), before and
 * after a reopen, with the invariants checked.
 */
static void test_flush_during_compaction(void **state)
{
	tu_fixture_t *f = *state;
	enum { KEYS = 40000 };
	static int last[KEYS]; /* 0 = never written */
	memset(last, 0, sizeof last);
	const char *params = "memtable=16k,file=64k,level1=2m,ratio=4,block=1k";
	lsm_t *db = open_lsm(f, params, SL_SYNC_NONE);
	tu_rng_t r;
	tu_rng_init(&r, tu_seed() + 11);
	char k[32], v[32];
	lsm_stats_t st = { 0 };
	uint64_t op = 0;
	while (st.flushes_in_compaction == 0) {
		if (op == 2000000)
			fail_msg("no compaction paused for a flush in %" PRIu64 " writes", op);
		for (int burst = 0; burst < 1000; burst++) {
			int i = (int)tu_below(&r, KEYS);
			snprintf(k, sizeof k, "fdc-%06d", i);
			snprintf(v, sizeof v, "v%" PRIu64, ++op);
			put_ok(db, k, v);
			last[i] = (int)op;
		}
		lsm_get_stats(db, &st);
	}
	sl_err_t err = { 0 };
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < KEYS; i += 7) {
			snprintf(k, sizeof k, "fdc-%06d", i);
			snprintf(v, sizeof v, "v%d", last[i]);
			assert_string_equal(get_str(db, NULL, k), last[i] ? v : "");
		}
		assert_int_equal(lsm_compact_wait(db, &err), SL_OK);
		check_lsm(db);
		assert_int_equal(lsm_close(db, &err), SL_OK);
		db = pass == 0 ? open_lsm(f, params, SL_SYNC_NONE) : NULL;
	}
}


/* Writes in the log are replayed at open; a torn last record is dropped, nothing else. */
static void test_wal_recovery_and_torn_tail(void **state)
{
	tu_fixture_t *f = *state;
	lsm_t *db = open_lsm(f, NULL, SL_SYNC_ALWAYS);
	put_range(db, 0, 200);
	sl_err_t err = { 0 };
	assert_int_equal(lsm_close(db, &err), SL_OK);
	const char *log = newest_file(f, "log", 0);
	tu_truncate(log, tu_file_size(log) - 3); /* the last put, torn */
	db = open_lsm(f, NULL, SL_SYNC_ALWAYS);
	expect_range(db, 0, 199);
	assert_string_equal(get_str(db, NULL, "dur-00199"), "");
	check_lsm(db);
	/* The recovered writes now live in a table; more go to a fresh log. */
	put_range(db, 199, 300);
	assert_int_equal(lsm_close(db, &err), SL_OK);
	db = open_lsm(f, NULL, SL_SYNC_ALWAYS);
	expect_range(db, 0, 300);
	assert_int_equal(lsm_close(db, &err), SL_OK);
}

/* Damage with good records after it is corruption, not a tail: the open refuses, naming the log. */
static void test_wal_corrupt_middle(void **state)
{
	tu_fixture_t *f = *state;
	lsm_t *db = open_lsm(f, NULL, SL_SYNC_ALWAYS);
	put_range(db, 0, 100);
	sl_err_t err = { 0 };
	assert_int_equal(lsm_close(db, &err), SL_OK);
	char log[4200];
	snprintf(log, sizeof log, "%s", newest_file(f, "log", 0));
	tu_flip_byte(log, 100, 0x01);
	assert_int_equal(open_status(f, NULL, &err), SL_CORRUPT);
	assert_non_null(strstr(err.msg, log));
	tu_flip_byte(log, 100, 0x01);
	assert_int_equal(open_status(f, NULL, &err), SL_OK);
}

static void test_manifest_damage(void **state)
{
	tu_fixture_t *f = *state;
	lsm_t *db = open_lsm(f, TINY ",deterministic=on", SL_SYNC_NONE);
	put_range(db, 0, 3000);
	sl_err_t err = { 0 };
	assert_int_equal(lsm_close(db, &err), SL_OK);
	char manifest[4200];
	snprintf(manifest, sizeof manifest, "%s/lsm.manifest", f->path);
	uint64_t size = tu_file_size(manifest);
	/*
	 * A flip in the last edit looks like a torn append and drops that edit; the
	 * open must then notice what the lost edit had already done (a log or the
	 * input tables gone) — or, for an edit that lost nothing, serve every key.
	 */
	uint64_t flips = 0;
	for (uint64_t off = 0; off < size; off += 1 + size / 40, flips++) {
		tu_flip_byte(manifest, off, 0x04);
		int rc = open_status(f, TINY ",deterministic=on", &err);
		if (rc == SL_OK) {
			db = open_lsm(f, TINY ",deterministic=on", SL_SYNC_NONE);
			expect_range(db, 0, 3000);
			check_lsm(db);
			assert_int_equal(lsm_close(db, &err), SL_OK);
		} else {
			assert_int_equal(rc, SL_CORRUPT);
			if (strstr(err.msg, "lsm.manifest") == NULL && strstr(err.msg, ".sst") == NULL)
				fail_msg("manifest byte %llu: %s", (unsigned long long)off, err.msg);
		}
		tu_flip_byte(manifest, off, 0x04);
	}
	print_message("lsm: %llu flipped bytes through the manifest, none served wrong data\n",
		      (unsigned long long)flips);
	tu_truncate(manifest, size / 2);
	assert_int_equal(open_status(f, TINY ",deterministic=on", &err), SL_CORRUPT);
	assert_non_null(strstr(err.msg, "lsm.manifest"));
	/* No manifest at all, with tables present: refused, not started afresh. */
	unlink(manifest);
	assert_int_equal(open_status(f, TINY ",deterministic=on", &err), SL_CORRUPT);
	assert_non_null(strstr(err.msg, "lsm.manifest"));
}

static void test_missing_table(void **state)
{
	tu_fixture_t *f = *state;
	lsm_t *db = open_lsm(f, TINY ",deterministic=on", SL_SYNC_NONE);
	put_range(db, 0, 3000);
	sl_err_t err = { 0 };
	assert_int_equal(lsm_close(db, &err), SL_OK);
	char victim[4200];
	snprintf(victim, sizeof victim, "%s", newest_file(f, "sst", 2));
	unlink(victim);
	assert_int_equal(open_status(f, TINY ",deterministic=on", &err), SL_CORRUPT);
	assert_non_null(strstr(err.msg, victim));
}

/*
 * Flipped bytes through a table: the open refuses it, or every get returns the
 * right value or SL_CORRUPT, and lsm_check reports SL_CORRUPT naming the table.
 */
static void test_table_corruption_sweep(void **state)
{
	tu_fixture_t *f = *state;
	const char *params = "memtable=64k,file=32k,block=1k,deterministic=on";
	lsm_t *db = open_lsm(f, params, SL_SYNC_NONE);
	put_range(db, 0, 3000);
	sl_err_t err = { 0 };
	assert_int_equal(lsm_flush(db, &err), SL_OK);
	assert_int_equal(lsm_compact_wait(db, &err), SL_OK);
	assert_int_equal(lsm_close(db, &err), SL_OK);
	char table[4200];
	snprintf(table, sizeof table, "%s", newest_file(f, "sst", 0));
	uint64_t size = tu_file_size(table), trials = 0;
	buf_t got = BUF_INIT;
	for (uint64_t off = 0; off < size; off += size / tu_ops(60) + 1, trials++) {
		tu_flip_byte(table, off, 0x20);
		store_opts_t so = { .params = params };
		lsm_opts_t o;
		lsm_store_opts(&so, &o, &err);
		int rc = lsm_open(f->env, f->path, &o, &db, &err);
		if (rc != SL_OK) {
			assert_int_equal(rc, SL_CORRUPT);
			assert_non_null(strstr(err.msg, table));
		} else {
			if (lsm_check(db, &err) != SL_CORRUPT)
				fail_msg("byte %llu flipped, check: %s", (unsigned long long)off, err.msg);
			assert_non_null(strstr(err.msg, table));
			char k[32], v[32];
			for (int i = 0; i < 3000; i++) {
				snprintf(k, sizeof k, "dur-%05d", i);
				snprintf(v, sizeof v, "value-%d", i);
				int g = lsm_get(db, NULL, sl_slice_str(k), &got, &err);
				if (g != SL_CORRUPT) {
					assert_int_equal(g, SL_OK);
					assert_true(sl_slice_eq(buf_slice(&got), sl_slice_str(v)));
				}
			}
			lsm_close(db, NULL);
		}
		tu_flip_byte(table, off, 0x20);
	}
	buf_free(&got);
	print_message("lsm: %llu flipped bytes through a table, none served wrong data\n",
		      (unsigned long long)trials);
	assert_true(trials > 10);
}

/* SIGKILL at random moments, with flushes and compactions going on in the background. */
static void test_crash(void **state)
{
	tu_fixture_t *f = *state;
	sc_set_params(TINY);
	uint64_t acked = sc_crash("lsm", f->path, 0, tu_rounds(20), tu_seed() + 4);
	sc_set_params(NULL);
	print_message("lsm: %llu acknowledged puts survived SIGKILL\n", (unsigned long long)acked);
	assert_true(acked > 0);
}

/*
 * SIGKILL at chosen points: in the middle of writing a table (flushes and
 * compactions alternate, deterministic mode), before a table's fsync, in the
 * middle of a manifest edit, before the rename that installs a new log.
 */
static void test_crash_points(void **state)
{
	tu_fixture_t *f = *state;
	sc_set_params(TINY ",deterministic=on");
	uint64_t acked = 0, fired = 0;
	fired += sc_crash_at("lsm", f->path, 0, ENV_OP_WRITE, ".sst", 40, 3, &acked);
	fired += sc_crash_at("lsm", f->path, 0, ENV_OP_SYNC, ".sst", 12, 1, &acked);
	fired += sc_crash_at("lsm", f->path, 0, ENV_OP_WRITE, "lsm.manifest", 12, 1, &acked);
	fired += sc_crash_at("lsm", f->path, 0, ENV_OP_RENAME, ".log", 6, 1, &acked);
	sc_set_params(NULL);
	print_message("lsm: %llu crash points fired (tables, their fsyncs, manifest edits, new "
		      "logs); %llu acknowledged puts verified\n", (unsigned long long)fired,
		      (unsigned long long)acked);
	assert_true(fired >= 30);
}

/* Simulated power cuts: unsynced writes lost, torn, zeroed; new names vanished. */
static void test_power_loss(void **state)
{
	tu_fixture_t *f = *state;
	sc_set_params(TINY);
	assert_true(sc_power_loss("lsm", f->path, 0, tu_rounds(24), tu_seed() + 5, NULL) > 0);
	sc_set_params(NULL);
}

/* ---- faults ---- */

static void test_fault_sweep(void **state)
{
	tu_fixture_t *f = *state;
	sc_set_params(TINY ",deterministic=on");
	uint64_t fired, tried = sc_fault_sweep("lsm", f->path, 0, &fired);
	sc_set_params(NULL);
	assert_true(fired > tried / 2);
}

/* Read-only on a full disk: every acknowledged put read back, nothing written. */
static void test_read_only(void **state)
{
	tu_fixture_t *f = *state;
	sc_read_only("lsm", f->path, 0);
}

static void test_edges(void **state)
{
	tu_fixture_t *f = *state;
	sc_edges("lsm", f->path, "btree", 0);
}

/*
 * Faults aimed at one file kind: the manifest's fsync failing after its bytes were
 * written (the edit may or may not be on disk: both must recover), a table's fsync,
 * a manifest write running out of space. Every acknowledged put survives the reopen.
 */
static void test_aimed_faults(void **state)
{
	tu_fixture_t *f = *state;
	const struct { const char *part; env_op_t op; env_fault_t kind; } plan[] = {
		{ "lsm.manifest", ENV_OP_SYNC, ENV_FAULT_EIO },
		{ "lsm.manifest", ENV_OP_WRITE, ENV_FAULT_ENOSPC },
		{ "lsm.manifest", ENV_OP_WRITE, ENV_FAULT_SHORT },
		{ ".sst", ENV_OP_SYNC, ENV_FAULT_EIO },
		{ ".sst", ENV_OP_WRITE, ENV_FAULT_ENOSPC },
	};
	for (size_t p = 0; p < sizeof plan / sizeof plan[0]; p++)
		for (uint64_t nth = 1; nth <= 5; nth += 2) {
			tu_rmrf(f->path);
			env_fault_clear(f->env);
			lsm_t *db = open_lsm(f, TINY ",deterministic=on", SL_SYNC_ALWAYS);
			env_fault_aim(f->env, plan[p].part);
			env_fault_set(f->env, plan[p].op, nth, plan[p].kind, false);
			char k[32], v[32];
			sl_err_t err = { 0 };
			int acked = 0;
			for (; acked < 3000; acked++) {
				snprintf(k, sizeof k, "dur-%05d", acked);
				snprintf(v, sizeof v, "value-%d", acked);
				if (lsm_put(db, sl_slice_str(k), sl_slice_str(v), &err) != SL_OK)
					break;
			}
			if (acked == 3000)
				fail_msg("%s fault %llu never fired", plan[p].part, (unsigned long long)nth);
			/* Background work has stopped; the store says so and refuses writes. */
			assert_int_not_equal(lsm_put(db, sl_slice_str("after"), sl_slice_str("x"), &err),
					     SL_OK);
			lsm_close(db, NULL);
			env_fault_clear(f->env);
			db = open_lsm(f, TINY ",deterministic=on", SL_SYNC_ALWAYS);
			expect_range(db, 0, acked);
			check_lsm(db);
			assert_int_equal(lsm_close(db, &err), SL_OK);
		}
}

/* Reads that fail (EIO) are reported, and the store keeps serving what it can. */
static void test_read_faults(void **state)
{
	tu_fixture_t *f = *state;
	lsm_t *db = open_lsm(f, "memtable=64k,block=1k,deterministic=on", SL_SYNC_NONE);
	put_range(db, 0, 2000);
	sl_err_t err = { 0 };
	assert_int_equal(lsm_flush(db, &err), SL_OK);
	lsm_close(db, NULL);
	db = open_lsm(f, "deterministic=on", SL_SYNC_NONE);
	env_fault_set(f->env, ENV_OP_READ, 1, ENV_FAULT_EIO, false);
	buf_t v = BUF_INIT;
	int rc = lsm_get(db, NULL, sl_slice_str("dur-00010"), &v, &err);
	assert_int_equal(rc, SL_IO);
	assert_non_null(strstr(err.msg, ".sst"));
	expect_range(db, 0, 2000); /* the fault was one-shot */
	buf_free(&v);
	lsm_close(db, NULL);
}

/* ---- bad input at the edges ---- */

static void test_bad_input(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	store_opts_t so = { .params = "memtable=lots" };
	lsm_opts_t o;
	assert_int_equal(lsm_store_opts(&so, &o, &err), SL_INVALID);
	assert_non_null(strstr(err.msg, "memtable"));
	so.params = "policy=random";
	assert_int_equal(lsm_store_opts(&so, &o, &err), SL_INVALID);
	so.params = "ratio=1";
	assert_int_equal(lsm_store_opts(&so, &o, &err), SL_INVALID);
	so.params = "memtable=99999999g";
	assert_int_equal(lsm_store_opts(&so, &o, &err), SL_INVALID);

	lsm_t *db = open_lsm(f, NULL, SL_SYNC_NONE);
	/* Empty keys and keys full of zero bytes are keys like any other. */
	assert_int_equal(lsm_put(db, sl_slice("", 0), sl_slice_str("empty"), &err), SL_OK);
	const uint8_t zeros[5] = { 0 };
	assert_int_equal(lsm_put(db, sl_slice(zeros, 5), sl_slice(zeros, 3), &err), SL_OK);
	buf_t v = BUF_INIT;
	assert_int_equal(lsm_get(db, NULL, sl_slice("", 0), &v, &err), SL_OK);
	assert_true(sl_slice_eq(buf_slice(&v), sl_slice_str("empty")));
	/* Past the limits: refused, and the message names the limit. */
	uint8_t *big = calloc(1, LSM_MAX_KEY_BYTES + 1);
	assert_int_equal(lsm_put(db, sl_slice(big, LSM_MAX_KEY_BYTES + 1), sl_slice_str("v"), &err),
			 SL_INVALID);
	assert_non_null(strstr(err.msg, "limit"));
	assert_int_equal(lsm_put(db, sl_slice(big, LSM_MAX_KEY_BYTES), sl_slice_str("v"), &err), SL_OK);
	/* The same inside a batch: the whole batch is refused, and the store still takes writes. */
	batch_t bad;
	batch_init(&bad);
	batch_put(&bad, sl_slice_str("fine"), sl_slice_str("v"));
	batch_put(&bad, sl_slice(big, LSM_MAX_KEY_BYTES + 1), sl_slice_str("v"));
	assert_int_equal(lsm_write(db, &bad, &err), SL_INVALID);
	assert_non_null(strstr(err.msg, "limit"));
	batch_free(&bad);
	assert_string_equal(get_str(db, NULL, "fine"), "");
	put_ok(db, "after", "still writable");
	free(big);
	assert_int_equal(lsm_close(db, &err), SL_OK);

	/* A second handle on the same directory is refused while the first is open. */
	store_opts_t sopts = { 0 };
	store_t *a, *b;
	assert_int_equal(store_open("lsm", f->path, &sopts, &a, &err), SL_OK);
	assert_int_equal(store_open("lsm", f->path, &sopts, &b, &err), SL_BUSY);
	store_close(a);
	/* A B+tree's directory is not an LSM store. */
	char other[4200];
	snprintf(other, sizeof other, "%s/btree-dir", f->dir);
	assert_int_equal(store_open("btree", other, &sopts, &a, &err), SL_OK);
	store_close(a);
	assert_int_equal(store_open("lsm", other, &sopts, &a, &err), SL_INVALID);
	assert_non_null(strstr(err.msg, "lsm"));
	/* no_create on an empty directory finds nothing. */
	snprintf(other, sizeof other, "%s/empty", f->dir);
	sopts.no_create = true;
	assert_int_equal(store_open("lsm", other, &sopts, &a, &err), SL_NOTFOUND);
	buf_free(&v);
}

/* A get narrates its path through the tree. */
static void collect(void *ctx, const char *line)
{
	buf_t *b = ctx;
	buf_append(b, line, strlen(line));
	buf_append(b, "\n", 1);
}

static void test_trace(void **state)
{
	tu_fixture_t *f = *state;
	store_opts_t so = { .params = TINY ",deterministic=on" };
	store_t *s;
	sl_err_t err = { 0 };
	assert_int_equal(store_open("lsm", f->path, &so, &s, &err), SL_OK);
	buf_t lines = BUF_INIT;
	store_trace(s, collect, &lines);
	char k[32];
	for (int i = 0; i < 2000; i++) {
		snprintf(k, sizeof k, "trace-%05d", i);
		assert_int_equal(store_put(s, sl_slice_str(k), sl_slice_str("some value")), SL_OK);
	}
	buf_t v = BUF_INIT;
	assert_int_equal(store_get(s, sl_slice_str("trace-00007"), &v), SL_OK);
	buf_append(&lines, "", 1);
	const char *t = (const char *)lines.data;
	assert_non_null(strstr(t, "memtable full"));
	assert_non_null(strstr(t, "flush:"));
	assert_non_null(strstr(t, "compact L0 -> L1"));
	assert_non_null(strstr(t, "get \"trace-00007\""));
	assert_non_null(strstr(t, "bloom"));
	store_close(s);
	buf_free(&lines);
	buf_free(&v);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_setup, tu_teardown)

/*
 * A crash during a store's very first open, after its log was made and before its
 * manifest: the log holds nothing, so the store opens as new. A log that holds
 * records without a manifest is still damage, and refused.
 */
static void test_crash_during_creation(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	assert_int_equal(env_mkdir(f->env, f->path, &err), SL_OK);
	char log[4200];
	snprintf(log, sizeof log, "%s/lsm-000001.log", f->path);
	wal_t *w;
	assert_int_equal(wal_create(f->env, log, &w, &err), SL_OK);
	wal_close(w, NULL);
	lsm_t *db = open_lsm(f, NULL, SL_SYNC_NONE);
	put_ok(db, "after", "1");
	assert_int_equal(lsm_close(db, &err), SL_OK);
	/* now a log with a record and no manifest */
	tu_rmrf(f->path);
	assert_int_equal(env_mkdir(f->env, f->path, &err), SL_OK);
	assert_int_equal(wal_create(f->env, log, &w, &err), SL_OK);
	assert_int_equal(wal_append(w, "record", 6, true, &err), SL_OK);
	wal_close(w, NULL);
	lsm_opts_t o = { .create = true };
	assert_int_equal(lsm_open(f->env, f->path, &o, &db, &err), SL_CORRUPT);
	assert_non_null(strstr(err.msg, "missing, yet"));
}

int main(void)
{
	tu_seed();
	tu_filter();
	store_register(&ref_store_ops);
	store_register(&lsm_store_ops);
	store_register(&btree_store_ops);
	const struct CMUnitTest tests[] = {
		T(test_memtable_versions),
		T(test_cache_evicts_and_pins),
		T(test_cache_keeps_hot_entries),
		T(test_sstable_roundtrip),
		T(test_sstable_blocks_checked_once),
		T(test_sstable_blocks_within_pages),
		T(test_sstable_damage),
		T(test_differential_leveled),
		T(test_differential_tiered),
		T(test_differential_background),
		T(test_snapshots_leveled),
		T(test_snapshots_tiered),
		T(test_snapshots_background),
		T(test_shape_leveled),
		T(test_shape_tiered),
		T(test_threads),
		T(test_flush_during_compaction),
		T(test_wal_recovery_and_torn_tail),
		T(test_wal_corrupt_middle),
		T(test_manifest_damage),
		T(test_missing_table),
		T(test_crash_during_creation),
		T(test_table_corruption_sweep),
		T(test_crash),
		T(test_power_loss),
		T(test_crash_points),
		T(test_fault_sweep),
		T(test_aimed_faults),
		T(test_read_faults),
		T(test_bad_input),
		T(test_edges),
		T(test_read_only),
		T(test_trace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
