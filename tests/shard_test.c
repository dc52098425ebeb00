/*
 * shard_test.c — the sharded store (kv/shard) against the reference store:
 * every partitioner over several node stores, rebalancing between operations
 * (the keys moved counted against the partitioners), SIGKILL in the middle of a
 * move and of a batch across nodes, the storecheck harnesses, a damaged map,
 * and bad params.
 */
#include "tests/testutil.h"
#include "tests/storecheck.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "index/btree_store.h"
#include "index/hash_store.h"
#include "kv/lsm_store.h"
#include "kv/ref.h"
#include "kv/shard.h"

static store_t *open_shard(const char *dir, const char *params, sl_sync_t sync, env_t *env)
{
	store_opts_t o = { .sync = sync, .params = params, .env = env };
	store_t *s;
	sl_err_t err = { 0 };
	if (store_open("shard", dir, &o, &s, &err) != SL_OK)
		fail_msg("open shard %s: %s", params, err.msg);
	return s;
}

/* ---------------------------------------------------------------- differential runs */

static void differential(tu_fixture_t *f, const char *params, uint64_t seed)
{
	sc_set_params(params);
	sc_differential("shard", f->dir, 0, 64, tu_ops(6000), 1500, seed);
	sc_set_params(NULL);
	tu_rmrf(f->dir);
}

static void test_differential_every_partitioner(void **state)
{
	tu_fixture_t *f = *state;
	differential(f, "by=ring,n=3,store=lsm", tu_seed());
	differential(f, "by=mod,n=5,store=hash", tu_seed() + 1);
	differential(f, "by=jump,n=4,store=btree", tu_seed() + 2);
	differential(f, "by=rendezvous,n=3,pkey=4,store=ref", tu_seed() + 3);
	differential(f, "by=range,split=150,store=btree", tu_seed() + 4);
}

/* ---------------------------------------------------------------- rebalancing */

static sl_slice_t key_of(uint32_t i, char *buf)
{
	return sl_slice(buf, (size_t)snprintf(buf, 16, "k%05u", i));
}

/* The oracle's keys and, for each, its owner under part. */
typedef struct owned {
	uint32_t n;
	char keys[4000][8];
	uint32_t owner[4000];
} owned_t;

static void owners_now(store_t *oracle, const part_t *part, owned_t *o)
{
	store_iter_t *it;
	o->n = 0;
	assert_int_equal(store_scan(oracle, NULL, NULL, &it), SL_OK);
	for (; store_iter_valid(it); store_iter_next(it)) {
		sl_slice_t k = store_iter_key(it);
		memcpy(o->keys[o->n], k.data, k.len);
		o->keys[o->n][k.len] = 0;
		o->owner[o->n++] = part_owner(part, k);
	}
	store_iter_close(it);
}

/* Every oracle entry is in s with its value, and (when s scans) nothing else is. */
static void same_contents(store_t *s, store_t *oracle)
{
	sc_check(s);
	store_iter_t *it;
	buf_t v = BUF_INIT;
	uint64_t n = 0;
	assert_int_equal(store_scan(oracle, NULL, NULL, &it), SL_OK);
	for (; store_iter_valid(it); store_iter_next(it), n++) {
		assert_int_equal(store_get(s, store_iter_key(it), &v), SL_OK);
		assert_true(sl_slice_eq(buf_slice(&v), store_iter_value(it)));
	}
	store_iter_close(it);
	buf_free(&v);
	if (!(store_caps(s) & STORE_CAN_SCAN))
		return;
	uint64_t m = 0;
	assert_int_equal(store_scan(s, NULL, NULL, &it), SL_OK);
	for (; store_iter_valid(it); store_iter_next(it))
		m++;
	assert_int_equal(it->status, SL_OK);
	store_iter_close(it);
	assert_int_equal(m, n);
}

static void random_ops(store_t *s, store_t *oracle, tu_rng_t *r, int count)
{
	char kb[16];
	uint8_t vb[200];
	buf_t a = BUF_INIT, b = BUF_INIT;
	for (int i = 0; i < count; i++) {
		sl_slice_t k = key_of((uint32_t)tu_below(r, 3000), kb);
		uint64_t what = tu_below(r, 10);
		if (what < 6) {
			size_t len = (size_t)tu_below(r, sizeof vb);
			tu_fill(r, vb, len);
			assert_int_equal(store_put(s, k, sl_slice(vb, len)), SL_OK);
			assert_int_equal(store_put(oracle, k, sl_slice(vb, len)), SL_OK);
		} else if (what < 8) {
			assert_int_equal(store_del(s, k), SL_OK);
			assert_int_equal(store_del(oracle, k), SL_OK);
		} else {
			int want = store_get(oracle, k, &a);
			assert_int_equal(store_get(s, k, &b), want);
			if (want == SL_OK)
				assert_true(sl_slice_eq(buf_slice(&a), buf_slice(&b)));
		}
	}
	buf_free(&a);
	buf_free(&b);
}

/* One join or leave; the keys it moved must be exactly those whose owner changed. */
static void move_once(store_t *s, store_t *oracle, tu_rng_t *r, owned_t *before)
{
	const part_t *p = shard_partitioner(s);
	owners_now(oracle, p, before);
	shard_move_report_t rep;
	bool join = p->n < 2 || (p->n < 6 && tu_below(r, 2) == 0);
	if (join)
		assert_int_equal(shard_add_node(s, &rep), SL_OK);
	else
		assert_int_equal(shard_remove_node(s, p->ids[tu_below(r, p->n)], &rep), SL_OK);
	p = shard_partitioner(s);
	uint64_t changed = 0;
	for (uint32_t i = 0; i < before->n; i++)
		changed += part_owner(p, sl_slice_str(before->keys[i])) != before->owner[i];
	if (rep.keys_moved != changed)
		fail_msg("%s node %u: moved %llu keys; %llu changed owner",
			 join ? "adding" : "removing", rep.node, (unsigned long long)rep.keys_moved,
			 (unsigned long long)changed);
}

static void rebalance_run(tu_fixture_t *f, const char *params, uint64_t seed)
{
	store_t *s = open_shard(f->dir, params, SL_SYNC_NONE, NULL);
	char odir[4200];
	snprintf(odir, sizeof odir, "%s-oracle", f->dir);
	store_t *oracle = sc_open("ref", odir, 0, SL_SYNC_NONE);
	static owned_t before;
	tu_rng_t r;
	tu_rng_init(&r, seed);
	for (int phase = 0; phase < 10; phase++) {
		random_ops(s, oracle, &r, (int)tu_ops(800));
		move_once(s, oracle, &r, &before);
		same_contents(s, oracle);
		if (phase % 3 == 2) {
			assert_int_equal(store_close(s), SL_OK);
			s = open_shard(f->dir, params, SL_SYNC_NONE, NULL);
			same_contents(s, oracle);
		}
	}
	store_close(s);
	store_close(oracle);
	tu_rmrf(f->dir);
	tu_rmrf(odir);
}

static void test_rebalance_moves_exactly_the_changed_keys(void **state)
{
	tu_fixture_t *f = *state;
	rebalance_run(f, "by=ring,n=3,vnodes=16,store=lsm", tu_seed());
	rebalance_run(f, "by=mod,n=3,store=hash", tu_seed() + 1);
	rebalance_run(f, "by=jump,n=3,store=btree", tu_seed() + 2);
	rebalance_run(f, "by=rendezvous,n=2,store=lsm", tu_seed() + 3);
	rebalance_run(f, "by=range,split=100000,store=lsm", tu_seed() + 4);
}

/* ---------------------------------------------------------------- crashes */

#define MOVE_KEYS 1500
#define MOVE_PARAMS "by=ring,n=3,vnodes=8,store=lsm"

static void value_of(uint32_t i, char *buf) { snprintf(buf, 32, "value-%u-%u", i, i * 7919); }

/* The child of a crash point: opens with the point armed, joins or removes a node. */
static void move_child(const char *dir, env_op_t op, const char *part, uint64_t nth)
{
	env_t *env = env_new();
	store_opts_t o = { .sync = SL_SYNC_ALWAYS, .params = MOVE_PARAMS, .env = env };
	store_t *s;
	sl_err_t err = { 0 };
	if (env == NULL || store_open("shard", dir, &o, &s, &err) != SL_OK)
		_exit(3);
	env_crash_set(env, op, part, nth);
	shard_move_report_t rep;
	const part_t *p = shard_partitioner(s);
	int rc = p->n >= 4 ? shard_remove_node(s, p->ids[nth % p->n], &rep) : shard_add_node(s, &rep);
	if (rc != SL_OK)
		_exit(4);
	store_close(s);
	_exit(0);
}

/* After any crash: the store opens, checks, and holds every key once with its value. */
static void expect_all_keys(const char *dir, const char *what)
{
	store_t *s = open_shard(dir, MOVE_PARAMS, SL_SYNC_ALWAYS, NULL);
	if (store_check(s) != SL_OK)
		fail_msg("%s: check: %s", what, store_errmsg(s));
	buf_t v = BUF_INIT;
	char kb[16], vb[32];
	for (uint32_t i = 0; i < MOVE_KEYS; i++) {
		value_of(i, vb);
		if (store_get(s, key_of(i, kb), &v) != SL_OK || !sl_slice_eq(buf_slice(&v), sl_slice_str(vb)))
			fail_msg("%s: key %u lost or wrong", what, i);
	}
	buf_free(&v);
	store_iter_t *it;
	uint32_t n = 0;
	assert_int_equal(store_scan(s, NULL, NULL, &it), SL_OK);
	for (; store_iter_valid(it); store_iter_next(it))
		n++;
	store_iter_close(it);
	if (n != MOVE_KEYS)
		fail_msg("%s: a scan sees %u keys, not %u (a copy seen twice?)", what, n, MOVE_KEYS);
	store_close(s);
}

static uint64_t crash_points(const char *dir, env_op_t op, const char *part, uint64_t max,
			     uint64_t step)
{
	uint64_t fired = 0;
	for (uint64_t nth = 1; nth <= max; nth += step) {
		pid_t pid = fork();
		if (pid == 0)
			move_child(dir, op, part, nth);
		int status;
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			fail_msg("crash point %s #%llu: the mover failed (exit %d)", part,
				 (unsigned long long)nth, WEXITSTATUS(status));
		fired += WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
		char what[96];
		snprintf(what, sizeof what, "killed at %s call %llu", part, (unsigned long long)nth);
		expect_all_keys(dir, what);
	}
	return fired;
}

static void test_crash_during_moves(void **state)
{
	tu_fixture_t *f = *state;
	store_t *s = open_shard(f->dir, MOVE_PARAMS, SL_SYNC_NONE, NULL);
	char kb[16], vb[32];
	for (uint32_t i = 0; i < MOVE_KEYS; i++) {
		value_of(i, vb);
		assert_int_equal(store_put(s, key_of(i, kb), sl_slice_str(vb)), SL_OK);
	}
	store_close(s);
	uint64_t fired = 0;
	fired += crash_points(f->dir, ENV_OP_RENAME, "shard.map", 4, 1); /* each map rewrite */
	fired += crash_points(f->dir, ENV_OP_SYNC, "shard-", 14, 1);     /* syncs of the nodes */
	fired += crash_points(f->dir, ENV_OP_WRITE, "shard-", 10, 1);    /* copies and deletes */
	fired += crash_points(f->dir, ENV_OP_OPEN, "shard-", 10, 1);     /* a new node's files */
	print_message("shard: %llu crash points fired during moves\n", (unsigned long long)fired);
	assert_true(fired > 15);
}

#define BATCH_KEYS 8

/* Where a batch writer dies, and the tag its keys carry. */
typedef struct batch_point {
	const char *dir, *part;
	env_op_t op;
	uint64_t nth, tag;
} batch_point_t;

/* Writes batches across nodes, reporting each acknowledged one, until killed. */
static void batch_child(void *ctx, int fd)
{
	const batch_point_t *bp = ctx;
	const char *dir = bp->dir, *part = bp->part;
	env_op_t op = bp->op;
	uint64_t nth = bp->nth, tag = bp->tag;
	env_t *env = env_new();
	store_opts_t o = { .sync = SL_SYNC_NONE, .params = "by=ring,n=4,store=lsm", .env = env };
	store_t *s;
	sl_err_t err = { 0 };
	if (env == NULL || store_open("shard", dir, &o, &s, &err) != SL_OK)
		_exit(3);
	env_crash_set(env, op, part, nth);
	for (uint32_t i = 0; i < 200; i++) {
		batch_t b;
		batch_init(&b);
		char k[32];
		for (int j = 0; j < BATCH_KEYS; j++) {
			snprintf(k, sizeof k, "n%llu-b%03u-%d", (unsigned long long)tag, i, j);
			batch_put(&b, sl_slice_str(k), sl_slice_str(k));
		}
		if (store_write(s, &b) != SL_OK)
			_exit(4);
		batch_free(&b);
		if (write(fd, &i, sizeof i) != sizeof i)
			_exit(5);
	}
	_exit(0);
}

/* Each batch of the round is all there or not at all, and every acknowledged one is there. */
static void expect_whole_batches(const char *dir, uint64_t nth, uint32_t acked)
{
	store_t *s = open_shard(dir, "by=ring,n=4,store=lsm", SL_SYNC_NONE, NULL);
	sc_check(s);
	buf_t v = BUF_INIT;
	for (uint32_t i = 0; i < 200; i++) {
		int found = 0;
		char k[32];
		for (int j = 0; j < BATCH_KEYS; j++) {
			snprintf(k, sizeof k, "n%llu-b%03u-%d", (unsigned long long)nth, i, j);
			found += store_get(s, sl_slice_str(k), &v) == SL_OK;
		}
		if ((found != 0 && found != BATCH_KEYS) || (i < acked && found == 0))
			fail_msg("crash point %llu: batch %u has %d of %d keys (acknowledged: %d)",
				 (unsigned long long)nth, i, found, BATCH_KEYS, i < acked);
	}
	buf_free(&v);
	store_close(s);
}

static void test_batches_across_nodes_are_atomic(void **state)
{
	tu_fixture_t *f = *state;
	const struct { env_op_t op; const char *part; uint64_t max, step; } plan[] = {
		{ ENV_OP_RENAME, "shard.intent", 30, 7 }, /* before the intent is in place */
		{ ENV_OP_WRITE, "shard-", 200, 23 },      /* while the nodes take their parts */
		{ ENV_OP_SYNC, "shard-", 100, 13 },       /* before the nodes are synced */
	};
	uint64_t fired = 0;
	for (size_t p = 0; p < sizeof plan / sizeof plan[0]; p++) {
		for (uint64_t nth = 1; nth <= plan[p].max; nth += plan[p].step) {
			batch_point_t bp = { f->dir, plan[p].part, plan[p].op, nth, nth * 10 + p };
			int status;
			uint32_t acked = tu_fork_acked(batch_child, &bp, &status);
			if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
				fail_msg("batch writer failed (exit %d)", WEXITSTATUS(status));
			fired += WIFSIGNALED(status);
			expect_whole_batches(f->dir, nth * 10 + p, acked);
		}
	}
	print_message("shard: %llu crash points fired inside batches across nodes\n",
		      (unsigned long long)fired);
	assert_true(fired > 10);
}

static void test_crash_loses_no_acknowledged_write(void **state)
{
	tu_fixture_t *f = *state;
	sc_set_params("by=ring,n=3,store=lsm");
	sc_crash("shard", f->dir, 0, tu_rounds(6), tu_seed());
	sc_set_params(NULL);
}

/* ---------------------------------------------------------------- harnesses */

/* Power cuts at sync always (at none and batch each node loses its own tail: see shard.h). */
static void test_power_loss_at_always(void **state)
{
	tu_fixture_t *f = *state;
	sc_set_params("by=ring,n=3,store=lsm");
	sc_set_power_loss_always(true);
	sc_loss_totals_t t;
	sc_power_loss("shard", f->dir, 0, tu_rounds(8), tu_seed(), &t);
	sc_set_power_loss_always(false);
	sc_set_params(NULL);
	assert_int_equal(t.lost[2], 0);
	assert_true(t.acked[2] > 0);
}

static void test_fault_sweep(void **state)
{
	tu_fixture_t *f = *state;
	sc_set_params("by=ring,n=2,store=lsm");
	uint64_t fired = 0;
	sc_fault_sweep("shard", f->dir, 0, &fired);
	sc_set_params(NULL);
	assert_true(fired > 0);
}

static void test_edges(void **state)
{
	tu_fixture_t *f = *state;
	sc_set_params("by=ring,n=3,store=btree");
	sc_edges("shard", f->dir, "lsm", 0);
	sc_set_params(NULL);
}

static void test_read_only(void **state)
{
	tu_fixture_t *f = *state;
	sc_set_params("by=ring,n=2,store=lsm");
	sc_read_only("shard", f->dir, 0);
	sc_set_params(NULL);
}

static void test_damaged_map(void **state)
{
	tu_fixture_t *f = *state;
	sc_set_params("by=range,split=40,store=btree");
	sc_corrupt_sweep("shard", f->dir, "shard.map", 0, 1);
	sc_set_params(NULL);
}

/* ---------------------------------------------------------------- scans and params */

static double figure(store_t *s, const char *name)
{
	stats_list_t l = STATS_LIST_INIT;
	double v = -1;
	store_stats(s, &l);
	stats_list_get(&l, name, &v);
	stats_list_free(&l);
	return v;
}

/* 100 scans of 20 keys each from random starts; the nodes each scan opened, on average. */
static double scan_fanout(tu_fixture_t *f, const char *params, bool by_prefix)
{
	store_t *s = open_shard(f->dir, params, SL_SYNC_NONE, NULL);
	char kb[16];
	for (uint32_t i = 0; i < 3000; i++)
		assert_int_equal(store_put(s, key_of(i, kb), sl_slice_str("v")), SL_OK);
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	for (int i = 0; i < 100; i++) {
		uint32_t at = (uint32_t)tu_below(&r, 2900);
		char eb[16];
		sl_slice_t start = key_of(at, kb), end = key_of(at + 20, eb);
		if (by_prefix) { /* the keys of one 5-byte partition key, "k0120" up to "k0121" */
			start = key_of(at / 10 * 10, kb);
			memcpy(eb, kb, 5);
			eb[4]++;
			end = sl_slice(eb, 5);
		}
		store_iter_t *it;
		assert_int_equal(store_scan(s, &start, &end, &it), SL_OK);
		int n = 0;
		for (; store_iter_valid(it); store_iter_next(it))
			n++;
		store_iter_close(it);
		assert_int_equal(n, by_prefix ? 10 : 20);
	}
	double fanout = figure(s, "shard.nodes_per_scan");
	store_close(s);
	tu_rmrf(f->dir);
	return fanout;
}

static void test_scan_fanout(void **state)
{
	tu_fixture_t *f = *state;
	double hashed = scan_fanout(f, "by=ring,n=6,store=lsm", false);
	double ranged = scan_fanout(f, "by=range,split=500,store=lsm", false);
	double keyed = scan_fanout(f, "by=ring,n=6,pkey=5,store=lsm", true);
	print_message("nodes per scan: ring %.2f, range %.2f, ring by partition key %.2f\n",
		      hashed, ranged, keyed);
	assert_true(hashed == 6.0);
	assert_true(ranged >= 1.0 && ranged <= 2.0);
	assert_true(keyed == 1.0);
}

/* Pre-splitting from a sample: an empty store's ranges come out even; a full
 * one's keys move to their new ranges; only range partitioning takes it. */
static void test_presplit_from_a_sample(void **state)
{
	tu_fixture_t *f = *state;
	char odir[4200];
	snprintf(odir, sizeof odir, "%s-oracle", f->dir);
	store_t *s = open_shard(f->dir, "by=range,split=100000,store=btree", SL_SYNC_NONE, NULL);
	store_t *oracle = sc_open("ref", odir, 0, SL_SYNC_NONE);
	static char keys[300][16];
	sl_slice_t sample[300];
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	for (int i = 0; i < 300; i++)
		sample[i] = key_of((uint32_t)tu_below(&r, 3000), keys[i]);
	shard_move_report_t rep;
	assert_int_equal(shard_presplit(s, sample, 300, 6, &rep), SL_OK);
	assert_int_equal(rep.keys_moved, 0);
	assert_int_equal(shard_partitioner(s)->n, 6);
	random_ops(s, oracle, &r, 6000);
	shard_node_info_t info[6];
	assert_int_equal(shard_node_info(s, info), SL_OK);
	uint64_t max = 0, sum = 0;
	for (int i = 0; i < 6; i++) {
		max = info[i].keys > max ? info[i].keys : max;
		sum += info[i].keys;
	}
	assert_true(max * 6 < sum * 3 / 2); /* within 1.5x of the mean */
	same_contents(s, oracle);
	/* again on a full store, into 3 ranges: nodes leave, keys move, nothing is lost */
	for (int i = 0; i < 300; i++)
		sample[i] = key_of((uint32_t)tu_below(&r, 3000), keys[i]);
	assert_int_equal(shard_presplit(s, sample, 300, 3, &rep), SL_OK);
	assert_true(rep.keys_moved > 0);
	assert_int_equal(shard_partitioner(s)->n, 3);
	same_contents(s, oracle);
	store_close(s);
	s = open_shard(f->dir, NULL, SL_SYNC_NONE, NULL);
	same_contents(s, oracle);
	/* one distinct key cannot make three ranges */
	for (int i = 0; i < 300; i++)
		sample[i] = sl_slice_str("same");
	assert_int_equal(shard_presplit(s, sample, 300, 3, &rep), SL_INVALID);
	assert_non_null(strstr(store_errmsg(s), "distinct"));
	store_close(s);
	store_close(oracle);
	tu_rmrf(odir);
	tu_rmrf(f->dir);
	s = open_shard(f->dir, "by=ring,n=2,store=lsm", SL_SYNC_NONE, NULL);
	assert_int_equal(shard_presplit(s, sample, 300, 3, &rep), SL_INVALID);
	assert_non_null(strstr(store_errmsg(s), "by=range"));
	store_close(s);
}

static void expect_refused(tu_fixture_t *f, const char *params, int code, const char *words)
{
	store_opts_t o = { .params = params };
	store_t *s;
	sl_err_t err = { 0 };
	int rc = store_open("shard", f->dir, &o, &s, &err);
	if (rc != code || strstr(err.msg, words) == NULL)
		fail_msg("params '%s': got %d '%s', wanted %d naming '%s'", params, rc, err.msg, code,
			 words);
}

static void test_bad_params(void **state)
{
	tu_fixture_t *f = *state;
	expect_refused(f, "by=consistent", SL_INVALID, "by=consistent");
	expect_refused(f, "n=0", SL_INVALID, "n=0");
	expect_refused(f, "n=5000", SL_INVALID, "n=5000");
	expect_refused(f, "store=leveldb", SL_INVALID, "store=leveldb");
	expect_refused(f, "store=shard", SL_INVALID, "store=shard");
	expect_refused(f, "by=range,store=hash", SL_INVALID, "scan in key order");
	expect_refused(f, "vnodes=0", SL_INVALID, "vnodes=0");
	expect_refused(f, "color=blue", SL_INVALID, "color");
	/* made once; the partitioner and the node store cannot change afterwards */
	store_close(open_shard(f->dir, "by=jump,n=2,store=btree", SL_SYNC_NONE, NULL));
	expect_refused(f, "by=ring", SL_INVALID, "partitioned by jump");
	expect_refused(f, "store=lsm", SL_INVALID, "btree stores");
	store_t *s = open_shard(f->dir, "n=7", SL_SYNC_NONE, NULL); /* n counts at creation only */
	assert_int_equal(shard_partitioner(s)->n, 2);
	shard_move_report_t rep;
	assert_int_equal(shard_remove_node(s, 9, &rep), SL_INVALID);
	assert_non_null(strstr(store_errmsg(s), "not a member"));
	assert_int_equal(shard_remove_node(s, 0, &rep), SL_OK);
	assert_int_equal(shard_remove_node(s, 1, &rep), SL_INVALID);
	assert_non_null(strstr(store_errmsg(s), "only node"));
	store_close(s);
}

int main(void)
{
	tu_seed();
	tu_filter();
	store_register(&ref_store_ops);
	store_register(&lsm_store_ops);
	store_register(&btree_store_ops);
	store_register(&hash_store_ops);
	store_register(&shard_store_ops);
#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_setup, tu_teardown)
	const struct CMUnitTest tests[] = {
		T(test_differential_every_partitioner),
		T(test_rebalance_moves_exactly_the_changed_keys),
		T(test_crash_during_moves),
		T(test_batches_across_nodes_are_atomic),
		T(test_crash_loses_no_acknowledged_write),
		T(test_power_loss_at_always),
		T(test_fault_sweep),
		T(test_edges),
		T(test_read_only),
		T(test_damaged_map),
		T(test_scan_fanout),
		T(test_presplit_from_a_sample),
		T(test_bad_params),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
