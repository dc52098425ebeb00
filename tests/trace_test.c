/*
 * trace_test.c — every structure narrates its steps, each naming the function
 * that takes it (engine/trace.h). For small fixed inputs the trace must show
 * the step the input forces: a B+tree leaf split, a hash bucket split and the
 * directory doubling, an LSM get stopped by a bloom filter, a compaction and a
 * log replay, an OR query whose pruning passes documents over, a time-series
 * chunk skipped by its time range. The oracle is the input's known shape: the
 * step must happen, and the figures the line gives must agree with the result.
 */
#include "tests/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"
#include "engine/store.h"
#include "index/btree_store.h"
#include "index/hash_store.h"
#include "index/inverted.h"
#include "kv/lsm_store.h"
#include "kv/ts.h"
#include "kv/ts_select.h"

/* Collects every line, newline-terminated, into a buf_t. */
static void collect(void *ctx, const char *line)
{
	buf_t *b = ctx;
	buf_append(b, line, strlen(line));
	buf_append(b, "\n", 1);
}

/* The collected text (NUL-terminated in place). */
static const char *text_of(buf_t *b)
{
	buf_append(b, "", 1);
	b->len--;
	assert_true(buf_ok(b));
	return (const char *)b->data;
}

/* Asserts that some line holds both what and "[func]". */
static void assert_step(buf_t *b, const char *what, const char *func)
{
	char tag[128];
	snprintf(tag, sizeof tag, "[%s]", func);
	const char *t = text_of(b);
	for (const char *p = t; (p = strstr(p, what)) != NULL; p++) {
		const char *end = strchr(p, '\n');
		const char *at = strstr(p, tag);
		if (at != NULL && (end == NULL || at < end))
			return;
	}
	fail_msg("no trace line holds \"%s\" and %s; the trace was:\n%.4000s", what, tag, t);
}

static store_t *open_traced(const char *name, const char *dir, const char *params, buf_t *lines)
{
	store_opts_t o = { .params = params, .trace = { collect, lines } };
	store_t *s = NULL;
	sl_err_t err = { 0 };
	if (store_open(name, dir, &o, &s, &err) != SL_OK)
		fail_msg("open %s: %s", name, err.msg);
	return s;
}

static void put_keys(store_t *s, int n, int step)
{
	char k[32], v[120];
	memset(v, 'v', sizeof v - 1);
	v[sizeof v - 1] = 0;
	for (int i = 0; i < n; i += step) {
		snprintf(k, sizeof k, "key-%06d", i);
		assert_int_equal(store_put(s, sl_slice_str(k), sl_slice_str(v)), SL_OK);
	}
}

/* A get of a key that is there, with only its own narration left in lines. */
static void traced_get(store_t *s, buf_t *lines, const char *key)
{
	lines->len = 0;
	buf_t v = BUF_INIT;
	assert_int_equal(store_get(s, sl_slice_str(key), &v), SL_OK);
	buf_free(&v);
}

/* ---------------------------------------------------------------- B+tree, hash */

static void test_btree_split_and_descent(void **state)
{
	tu_fixture_t *f = *state;
	buf_t lines = BUF_INIT;
	store_t *s = open_traced("btree", f->path, NULL, &lines);
	put_keys(s, 400, 1); /* 400 x ~130 bytes: more than one 4 KiB leaf */
	assert_step(&lines, "split leaf", "bt_split_leaf");
	assert_step(&lines, "root split: new root", "bt_grow_root");
	traced_get(s, &lines, "key-000123");
	assert_step(&lines, "internal", "bt_descend");
	assert_step(&lines, "finds the key", "btree_get");
	assert_int_equal(store_close(s), SL_OK);
	buf_free(&lines);
}

static void test_hash_split_and_doubling(void **state)
{
	tu_fixture_t *f = *state;
	buf_t lines = BUF_INIT;
	store_t *s = open_traced("hash", f->path, NULL, &lines);
	put_keys(s, 400, 1);
	assert_step(&lines, "split bucket", "hx_split");
	assert_step(&lines, "directory doubles", "hx_double");
	traced_get(s, &lines, "key-000007");
	assert_step(&lines, "-> directory slot", "hash_get");
	assert_int_equal(store_close(s), SL_OK);
	buf_free(&lines);
}

/* ---------------------------------------------------------------- LSM */

#define TINY "memtable=16k,file=8k,level1=32k,ratio=4,block=512,deterministic=on"

static void test_lsm_bloom_miss_compaction_replay(void **state)
{
	tu_fixture_t *f = *state;
	buf_t lines = BUF_INIT;
	store_t *s = open_traced("lsm", f->path, TINY, &lines);
	put_keys(s, 4000, 2); /* even keys only: the odd ones fall inside tables' ranges */
	assert_step(&lines, "memtable full", "lsm_make_room");
	assert_step(&lines, "flush:", "lsm_flush_imm");
	assert_step(&lines, "compact L0 -> L1", "lsm_compact");
	/* Odd keys lie inside a table's key range: its filter turns most of them away. */
	lines.len = 0;
	buf_t v = BUF_INIT;
	char k[32];
	for (int i = 1; i < 200; i += 2) {
		snprintf(k, sizeof k, "key-%06d", i);
		assert_int_equal(store_get(s, sl_slice_str(k), &v), SL_NOTFOUND);
	}
	assert_step(&lines, "bloom filter says no", "lsm_get_file");
	assert_step(&lines, "memtables: no entry", "lsm_get");
	/* A reopen replays the log the close left (the memtable's writes since the last flush). */
	assert_int_equal(store_close(s), SL_OK);
	lines.len = 0;
	s = open_traced("lsm", f->path, TINY, &lines);
	assert_step(&lines, "recover: replayed", "lsm_replay_log");
	assert_int_equal(store_get(s, sl_slice_str("key-003998"), &v), SL_OK);
	buf_free(&v);
	assert_int_equal(store_close(s), SL_OK);
	buf_free(&lines);
}

/* ---------------------------------------------------------------- inverted index */

static void test_inverted_pruned_or_query(void **state)
{
	tu_fixture_t *f = *state;
	env_t *env = env_new();
	buf_t lines = BUF_INIT;
	trace_t tr = { collect, &lines };
	inverted_opts_t o = inverted_defaults();
	o.trace = &tr;
	inverted_t *ix;
	sl_err_t err = { 0 };
	assert_int_equal(inverted_open(env, f->path, &o, &ix, &err), SL_OK);
	/* "common" in every document; "rare" five times in each of the first ten short
	 * ones, then once in every third longer one (8 blocks of postings). The top 3
	 * come from the first block; once the heap holds them, "common" cannot lift a
	 * document in by itself (non-essential), and the later blocks of "rare",
	 * whose bounds are lower, are passed over unread. */
	char id[32], text[128];
	for (int i = 0; i < 3000; i++) {
		snprintf(id, sizeof id, "d%05d", i);
		snprintf(text, sizeof text, "%s common words filler text %d",
			 i < 10 ? "rare rare rare rare rare" : i % 3 == 0 ? "rare" : "plain", i);
		assert_int_equal(inverted_add(ix, sl_slice_str(id), sl_slice_str(text), &err), SL_OK);
	}
	assert_int_equal(inverted_commit(ix, &err), SL_OK);
	assert_step(&lines, "add \"d00000\"", "inverted_add");
	assert_step(&lines, "flush: 3000 buffered documents", "inv_flush");
	assert_step(&lines, "commit: generation 1", "inv_write_commit");
	lines.len = 0;
	inverted_result_t res;
	assert_int_equal(inverted_search(ix, "rare OR common", 3, &res, &err), SL_OK);
	assert_int_equal(res.n, 3);
	assert_true(res.stats.pruned > 0);
	assert_true(res.stats.blocks_skipped > 0);
	assert_step(&lines, "term \"common\" in segment", "inv_term_open");
	assert_step(&lines, "MaxScore", "inverted_search");
	assert_step(&lines, "non-essential", "inv_ms_candidate");
	assert_step(&lines, "passed over", "inv_ms_skip_blocks");
	assert_step(&lines, "into the top k", "inv_heap_offer");
	/* the closing line gives the result's own counts */
	char want[160];
	snprintf(want, sizeof want, "%llu documents scored, %llu pruned, %llu postings blocks never unpacked",
		 (unsigned long long)res.stats.scored, (unsigned long long)res.stats.pruned,
		 (unsigned long long)res.stats.blocks_skipped);
	assert_step(&lines, want, "inverted_search");
	inverted_result_free(&res);
	inverted_close(ix);
	env_free(env);
	buf_free(&lines);
}

/* ---------------------------------------------------------------- time series */

static int count_points(void *ctx, sl_slice_t series, const struct ts_summary *sums, size_t ns,
			const ts_point_t *pts, size_t n)
{
	(void)series;
	(void)sums;
	(void)ns;
	(void)pts;
	*(size_t *)ctx += n;
	return SL_OK;
}

static void test_ts_chunks_and_segments_skipped(void **state)
{
	tu_fixture_t *f = *state;
	env_t *env = env_new();
	buf_t lines = BUF_INIT;
	trace_t tr = { collect, &lines };
	/* One point a second for 10 hours in 3-hour segments: each series holds 6 chunks of
	 * at most 2048 points per whole segment. */
	ts_opts_t o = { .create = true, .block_ms = 3 * 3600 * 1000, .no_compact = true, .trace = &tr };
	ts_t *db;
	sl_err_t err = { 0 };
	assert_int_equal(ts_open(env, f->path, &o, &db, &err), SL_OK);
	static ts_sample_t batch[1000];
	size_t refused;
	for (int64_t t = 0; t < 10 * 3600; t += 1000) {
		for (int i = 0; i < 1000; i++)
			batch[i] = (ts_sample_t){ sl_slice_str("cpu{host=\"a\"}"), (t + i) * 1000, (double)i };
		assert_int_equal(ts_add(db, batch, 1000, NULL, &refused, &err), SL_OK);
	}
	assert_int_equal(ts_maintain(db, &err), SL_OK);
	assert_step(&lines, "cut: block [0, 10800000)", "ts_cut");
	lines.len = 0;
	ts_selector_t sel;
	char why[TS_SELECT_WHY_BYTES];
	assert_true(ts_select_parse("cpu{host=\"a\"}", &sel, why));
	size_t got = 0;
	ts_read_stats_t st;
	/* Ten minutes inside the second segment's second chunk (seconds 2048 to 4095 of
	 * the segment): one chunk of its six is decoded. */
	int64_t from = (3 * 3600 + 2400) * 1000LL, to = from + 600 * 1000;
	assert_int_equal(ts_read(db, &sel, from, to, count_points, &got, &st, &err), SL_OK);
	assert_int_equal(got, 600);
	assert_int_equal(st.chunks, 1);
	assert_step(&lines, "holds [0, 10800000): outside the range, not read", "ts_sources");
	assert_step(&lines, "1 of 6 chunks decoded, 5 skipped", "ts_seg_read");
	assert_step(&lines, "1 chunks decoded, 600 points", "ts_read");
	ts_select_free(&sel);
	assert_int_equal(ts_close(db, &err), SL_OK);
	env_free(env);
	buf_free(&lines);
}

/* ---------------------------------------------------------------- the command */

/* `storelab trace` narrates the open too, and every line names its function. */
static void test_trace_command_names_functions(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[1 << 14];
	snprintf(cmd, sizeof cmd, "printf 'put a 1\\nput b 2\\n' | %s shell lsm %s/db >/dev/null && "
		 "%s trace lsm %s/db get b", tu_bin(), f->dir, tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "recover: replayed 2 records"));
	int traced = 0;
	for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		if (strncmp(line, "trace: ", 7) != 0)
			continue;
		traced++;
		size_t n = strlen(line);
		assert_true(n > 3 && line[n - 1] == ']' && strstr(line, "  [") != NULL);
	}
	assert_true(traced >= 3);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_setup, tu_teardown)

int main(void)
{
	tu_seed();
	tu_filter();
	store_register(&btree_store_ops);
	store_register(&hash_store_ops);
	store_register(&lsm_store_ops);
	const struct CMUnitTest tests[] = {
		T(test_btree_split_and_descent),
		T(test_hash_split_and_doubling),
		T(test_lsm_bloom_miss_compaction_replay),
		T(test_inverted_pruned_or_query),
		T(test_ts_chunks_and_segments_skipped),
		T(test_trace_command_names_functions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
