/*
 * ref_test.c — the reference store and the store interface (kv/ref, engine/store).
 *
 * The ref store is the oracle for every other store, so it is itself checked
 * against the plainest model there is: an unsorted array searched linearly and
 * sorted only to answer scans.
 */
#include "tests/testutil.h"
#include "tests/storecheck.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/store.h"
#include "kv/ref.h"

/* ---------------------------------------------------------------- the model */

typedef struct model_entry {
	uint8_t key[12];
	size_t klen;
	uint8_t val[64];
	size_t vlen;
} model_entry_t;

typedef struct model {
	model_entry_t e[2048];
	size_t n;
} model_t;

static model_entry_t *model_find(model_t *m, sl_slice_t key)
{
	for (size_t i = 0; i < m->n; i++)
		if (sl_slice_eq(sl_slice(m->e[i].key, m->e[i].klen), key))
			return &m->e[i];
	return NULL;
}

static void model_put(model_t *m, sl_slice_t key, sl_slice_t val)
{
	model_entry_t *e = model_find(m, key);
	if (e == NULL) {
		assert_true(m->n < 2048);
		e = &m->e[m->n++];
		memcpy(e->key, key.data, key.len);
		e->klen = key.len;
	}
	memcpy(e->val, val.data, val.len);
	e->vlen = val.len;
}

static void model_del(model_t *m, sl_slice_t key)
{
	model_entry_t *e = model_find(m, key);
	if (e != NULL)
		*e = m->e[--m->n];
}

static int model_cmp(const void *a, const void *b)
{
	const model_entry_t *x = a, *y = b;
	return sl_slice_cmp(sl_slice(x->key, x->klen), sl_slice(y->key, y->klen));
}

/* ---------------------------------------------------------------- helpers */

static store_t *open_ref(const char *dir, const store_opts_t *opts)
{
	store_t *s;
	sl_err_t err = { 0 };
	store_opts_t o = { 0 };
	int rc = store_open("ref", dir, opts ? opts : &o, &s, &err);
	if (rc != SL_OK)
		fail_msg("open ref at %s: %s", dir, err.msg);
	return s;
}

static void check_ok(store_t *s)
{
	int rc = store_check(s);
	if (rc != SL_OK)
		fail_msg("check: %s", store_errmsg(s));
}

/* Random key from a small space, so puts overwrite and dels hit; sometimes empty. */
static sl_slice_t random_key(tu_rng_t *r, uint8_t *buf)
{
	uint64_t id = tu_below(r, 600);
	if (id == 0)
		return sl_slice(buf, 0);
	size_t len = 1 + id % 11;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((id * 31 + i * 7) % (i % 3 == 0 ? 256 : 4));
	return sl_slice(buf, len);
}

static sl_slice_t random_value(tu_rng_t *r, uint8_t *buf)
{
	size_t len = (size_t)tu_below(r, 64);
	tu_fill(r, buf, len);
	return sl_slice(buf, len);
}

/* Compares a scan of [start, end) against the sorted model. */
static void expect_scan(store_t *s, model_t *m, const sl_slice_t *start, const sl_slice_t *end)
{
	static model_t sorted;
	sorted = *m;
	qsort(sorted.e, sorted.n, sizeof sorted.e[0], model_cmp);
	store_iter_t *it;
	assert_int_equal(store_scan(s, start, end, &it), SL_OK);
	for (size_t i = 0; i < sorted.n; i++) {
		sl_slice_t k = sl_slice(sorted.e[i].key, sorted.e[i].klen);
		if (start && sl_slice_cmp(k, *start) < 0)
			continue;
		if (end && sl_slice_cmp(k, *end) >= 0)
			break;
		assert_true(store_iter_valid(it));
		assert_true(sl_slice_eq(store_iter_key(it), k));
		assert_true(sl_slice_eq(store_iter_value(it),
					sl_slice(sorted.e[i].val, sorted.e[i].vlen)));
		assert_int_equal(store_iter_next(it), SL_OK);
	}
	assert_false(store_iter_valid(it));
	store_iter_close(it);
}

static void expect_all(store_t *s, model_t *m)
{
	buf_t v = BUF_INIT;
	for (size_t i = 0; i < m->n; i++) {
		assert_int_equal(store_get(s, sl_slice(m->e[i].key, m->e[i].klen), &v), SL_OK);
		assert_true(sl_slice_eq(buf_slice(&v), sl_slice(m->e[i].val, m->e[i].vlen)));
	}
	buf_free(&v);
	expect_scan(s, m, NULL, NULL);
}

/* One random operation on both the store and the model. */
static void random_op(tu_rng_t *r, store_t *s, model_t *m)
{
	uint8_t kb[12], kb2[12], vb[64];
	buf_t v = BUF_INIT;
	uint64_t dice = tu_below(r, 100);
	sl_slice_t k = random_key(r, kb);
	if (dice < 40) {
		sl_slice_t val = random_value(r, vb);
		assert_int_equal(store_put(s, k, val), SL_OK);
		model_put(m, k, val);
	} else if (dice < 55) {
		assert_int_equal(store_del(s, k), SL_OK);
		model_del(m, k);
	} else if (dice < 85) {
		model_entry_t *e = model_find(m, k);
		int rc = store_get(s, k, &v);
		assert_int_equal(rc, e ? SL_OK : SL_NOTFOUND);
		if (e)
			assert_true(sl_slice_eq(buf_slice(&v), sl_slice(e->val, e->vlen)));
	} else if (dice < 93) {
		sl_slice_t k2 = random_key(r, kb2);
		bool bounded = tu_below(r, 2);
		expect_scan(s, m, &k, bounded ? &k2 : NULL);
	} else {
		batch_t b;
		batch_init(&b);
		for (int i = 0; i < 5; i++) {
			uint8_t bk[12];
			sl_slice_t key = random_key(r, bk);
			if (i % 2 == 0) {
				sl_slice_t val = random_value(r, vb);
				batch_put(&b, key, val);
				model_put(m, key, val);
			} else {
				batch_del(&b, key);
				model_del(m, key);
			}
		}
		assert_int_equal(store_write(s, &b), SL_OK);
		batch_free(&b);
	}
	buf_free(&v);
}

/* ---------------------------------------------------------------- tests */

static void test_registry(void **state)
{
	(void)state;
	assert_ptr_equal(store_lookup("ref"), &ref_store_ops);
	assert_int_equal(store_register(&ref_store_ops), SL_INVALID);
	assert_null(store_lookup("nonesuch"));
	store_t *s;
	sl_err_t err = { 0 };
	assert_int_equal(store_open("nonesuch", "/tmp", NULL, &s, &err), SL_INVALID);
	assert_non_null(strstr(err.msg, "nonesuch"));
	sl_sync_t mode;
	assert_int_equal(sl_sync_parse("always", &mode), SL_OK);
	assert_int_equal(mode, SL_SYNC_ALWAYS);
	assert_int_equal(sl_sync_parse("sometimes", &mode), SL_INVALID);
	store_opts_t o = { .params = "a=1,log=off,b=xyz" };
	char val[8];
	assert_true(store_opts_param(&o, "log", val, sizeof val));
	assert_string_equal(val, "off");
	assert_true(store_opts_param(&o, "b", val, sizeof val));
	assert_string_equal(val, "xyz");
	assert_false(store_opts_param(&o, "lo", val, sizeof val));
}

static void test_differential_with_reopens(void **state)
{
	tu_fixture_t *f = *state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	static model_t m;
	m.n = 0;
	store_t *s = open_ref(f->dir, NULL);
	uint64_t ops = tu_ops(20000);
	for (uint64_t op = 0; op < ops; op++) {
		random_op(&r, s, &m);
		if (tu_below(&r, 2000) == 0) {
			check_ok(s);
			assert_int_equal(store_close(s), SL_OK);
			s = open_ref(f->dir, NULL);
			check_ok(s);
			expect_all(s, &m);
		}
	}
	check_ok(s);
	expect_all(s, &m);
	stats_list_t l = STATS_LIST_INIT;
	assert_int_equal(store_stats(s, &l), SL_OK);
	double entries, live;
	assert_true(stats_list_get(&l, "ref.entries", &entries));
	assert_true(stats_list_get(&l, "live_bytes", &live));
	assert_true(entries == (double)m.n);
	stats_list_free(&l);
	store_close(s);
}

static void test_memory_only_mode(void **state)
{
	tu_fixture_t *f = *state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed() + 1);
	static model_t m;
	m.n = 0;
	store_opts_t o = { .params = "log=off" };
	store_t *s = open_ref(tu_path(f->dir, "nowhere"), &o);
	for (int op = 0; op < 3000; op++)
		random_op(&r, s, &m);
	check_ok(s);
	expect_all(s, &m);
	store_close(s);
	assert_false(env_exists(tu_path(f->dir, "nowhere")));
}

static void test_log_compaction(void **state)
{
	tu_fixture_t *f = *state;
	store_t *s = open_ref(f->dir, NULL);
	static uint8_t big[10000];
	for (int i = 0; i < 400; i++) {
		memset(big, 'a' + i % 26, sizeof big);
		assert_int_equal(store_put(s, sl_slice_str("hot"), sl_slice(big, sizeof big)), SL_OK);
		assert_int_equal(store_put(s, sl_slice_str("cold"), sl_slice_str("stays")), SL_OK);
	}
	stats_list_t l = STATS_LIST_INIT;
	store_stats(s, &l);
	double compactions, log_bytes;
	assert_true(stats_list_get(&l, "ref.log_compactions", &compactions));
	assert_true(stats_list_get(&l, "ref.log_bytes", &log_bytes));
	assert_true(compactions >= 1);
	assert_true(log_bytes < 3.0 * 1024 * 1024);
	stats_list_free(&l);
	store_close(s);
	s = open_ref(f->dir, NULL);
	buf_t v = BUF_INIT;
	assert_int_equal(store_get(s, sl_slice_str("hot"), &v), SL_OK);
	assert_int_equal(v.len, sizeof big);
	assert_int_equal(v.data[0], 'a' + 399 % 26);
	assert_int_equal(store_get(s, sl_slice_str("cold"), &v), SL_OK);
	buf_free(&v);
	check_ok(s);
	store_close(s);
	assert_false(env_exists(tu_path(f->dir, "ref.log.new")));
}

static void test_bad_directories(void **state)
{
	tu_fixture_t *f = *state;
	store_t *s = open_ref(f->dir, NULL), *second;
	sl_err_t err = { 0 };
	store_opts_t o = { 0 };
	assert_int_equal(store_open("ref", f->dir, &o, &second, &err), SL_BUSY);
	assert_non_null(strstr(err.msg, "LOCK"));
	store_close(s);

	char *other = strdup(tu_path(f->dir, "other"));
	assert_int_equal(env_mkdir(NULL, other, &err), SL_OK);
	FILE *fp = fopen(tu_path(other, "data.db"), "w");
	fputs("something else", fp);
	fclose(fp);
	assert_int_equal(store_open("ref", other, &o, &second, &err), SL_INVALID);
	assert_non_null(strstr(err.msg, "not a ref store"));

	o.no_create = true;
	assert_int_equal(store_open("ref", tu_path(f->dir, "missing"), &o, &second, &err),
			 SL_NOTFOUND);
	o.no_create = false;
	assert_int_equal(store_open("ref", "/proc/definitely/not/here", &o, &second, &err), SL_IO);
	free(other);
}

static void test_torn_tail_and_corruption(void **state)
{
	tu_fixture_t *f = *state;
	store_t *s = open_ref(f->dir, NULL);
	for (int i = 0; i < 10; i++) {
		char k[16];
		snprintf(k, sizeof k, "k%d", i);
		assert_int_equal(store_put(s, sl_slice_str(k), sl_slice_str("value")), SL_OK);
	}
	store_close(s);
	char *log = strdup(tu_path(f->dir, "ref.log"));
	uint64_t size = tu_file_size(log);
	tu_truncate(log, size - 3); /* tear the last put */
	s = open_ref(f->dir, NULL);
	buf_t v = BUF_INIT;
	assert_int_equal(store_get(s, sl_slice_str("k8"), &v), SL_OK);
	assert_int_equal(store_get(s, sl_slice_str("k9"), &v), SL_NOTFOUND);
	assert_int_equal(store_put(s, sl_slice_str("k9"), sl_slice_str("again")), SL_OK);
	store_close(s);
	s = open_ref(f->dir, NULL);
	assert_int_equal(store_get(s, sl_slice_str("k9"), &v), SL_OK);
	store_close(s);

	tu_flip_byte(log, 40, 0x08); /* inside the first record: good records follow */
	store_t *bad;
	sl_err_t err = { 0 };
	store_opts_t o = { 0 };
	assert_int_equal(store_open("ref", f->dir, &o, &bad, &err), SL_CORRUPT);
	assert_non_null(strstr(err.msg, "ref.log"));
	buf_free(&v);
	free(log);
}

static void test_size_limits(void **state)
{
	tu_fixture_t *f = *state;
	store_t *s = open_ref(f->dir, NULL);
	/* The length is checked before any byte is read, so no huge buffer is needed. */
	sl_slice_t huge_key = sl_slice("x", (size_t)REF_MAX_KEY_BYTES + 1);
	assert_int_equal(store_put(s, huge_key, sl_slice_str("v")), SL_INVALID);
	assert_non_null(strstr(store_errmsg(s), "key"));
	sl_slice_t huge_val = sl_slice("x", (size_t)REF_MAX_VALUE_BYTES + 1);
	assert_int_equal(store_put(s, sl_slice_str("k"), huge_val), SL_INVALID);
	/* A batch with one oversized operation is refused whole. */
	uint8_t *big = calloc(1, (size_t)REF_MAX_VALUE_BYTES + 1);
	batch_t b;
	batch_init(&b);
	batch_put(&b, sl_slice_str("fine"), sl_slice_str("1"));
	batch_put(&b, sl_slice_str("big"), sl_slice(big, (size_t)REF_MAX_VALUE_BYTES + 1));
	assert_int_equal(store_write(s, &b), SL_INVALID);
	batch_free(&b);
	free(big);
	buf_t v = BUF_INIT;
	assert_int_equal(store_get(s, sl_slice_str("k"), &v), SL_NOTFOUND);
	assert_int_equal(store_get(s, sl_slice_str("fine"), &v), SL_NOTFOUND);
	buf_free(&v);
	store_close(s);
}

static void test_write_fault_then_read_only(void **state)
{
	tu_fixture_t *f = *state;
	env_t *env = env_new();
	store_opts_t o = { .env = env, .sync = SL_SYNC_ALWAYS };
	store_t *s = open_ref(f->dir, &o);
	assert_int_equal(store_put(s, sl_slice_str("a"), sl_slice_str("1")), SL_OK);
	env_fault_set(env, ENV_OP_SYNC, 1, ENV_FAULT_EIO, false);
	assert_int_equal(store_put(s, sl_slice_str("b"), sl_slice_str("2")), SL_IO);
	env_fault_clear(env);
	assert_int_equal(store_put(s, sl_slice_str("c"), sl_slice_str("3")), SL_READONLY);
	buf_t v = BUF_INIT;
	assert_int_equal(store_get(s, sl_slice_str("a"), &v), SL_OK); /* reads go on */
	store_close(s);
	env_free(env);
	s = open_ref(f->dir, NULL);
	assert_int_equal(store_get(s, sl_slice_str("a"), &v), SL_OK);
	assert_int_equal(store_get(s, sl_slice_str("c"), &v), SL_NOTFOUND);
	store_close(s);
	buf_free(&v);
}

/*
 * Crash test: a child writes with sync always and reports each acknowledged put
 * on a pipe; the parent kills it at a random moment, reopens, and checks every
 * acknowledged key is there with its value.
 */
static void crash_child(const char *dir, int fd, uint64_t seed)
{
	store_opts_t o = { .sync = SL_SYNC_ALWAYS };
	store_t *s;
	sl_err_t err = { 0 };
	if (store_open("ref", dir, &o, &s, &err) != SL_OK)
		_exit(3);
	for (uint32_t i = 0;; i++) {
		char k[32], v[32];
		snprintf(k, sizeof k, "key%llu-%u", (unsigned long long)seed, i);
		snprintf(v, sizeof v, "value%u", i);
		if (store_put(s, sl_slice_str(k), sl_slice_str(v)) != SL_OK)
			_exit(4);
		if (write(fd, &i, sizeof i) != sizeof i)
			_exit(5);
	}
}

static void test_crash_loses_no_acknowledged_write(void **state)
{
	tu_fixture_t *f = *state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed() + 9);
	uint64_t rounds = tu_ops(12), total_acked = 0;
	for (uint64_t round = 0; round < rounds; round++) {
		int p[2];
		assert_int_equal(pipe(p), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			crash_child(f->dir, p[1], round);
		}
		close(p[1]);
		tu_sleep_ms((unsigned)(1 + tu_below(&r, 40)));
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		uint32_t acked = 0, i;
		bool any = false;
		while (read(p[0], &i, sizeof i) == sizeof i) {
			acked = i;
			any = true;
		}
		close(p[0]);
		total_acked += any ? acked + 1 : 0;
		store_t *s = open_ref(f->dir, NULL);
		check_ok(s);
		buf_t v = BUF_INIT;
		for (uint32_t j = 0; any && j <= acked; j++) {
			char k[32], want[32];
			snprintf(k, sizeof k, "key%llu-%u", (unsigned long long)round, j);
			snprintf(want, sizeof want, "value%u", j);
			assert_int_equal(store_get(s, sl_slice_str(k), &v), SL_OK);
			assert_true(sl_slice_eq(buf_slice(&v), sl_slice_str(want)));
		}
		buf_free(&v);
		store_close(s);
	}
	print_message("%llu acknowledged puts over %llu kills, none lost\n",
		      (unsigned long long)total_acked, (unsigned long long)rounds);
	assert_true(total_acked > rounds); /* the children really did write */
}

/* Read-only on a full disk: the log replayed, nothing written. */
static void test_read_only(void **state)
{
	tu_fixture_t *f = *state;
	sc_read_only("ref", f->path, 0);
}

int main(void)
{
	tu_seed();
	store_register(&ref_store_ops);
#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_setup, tu_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		T(test_differential_with_reopens),
		T(test_memory_only_mode),
		T(test_log_compaction),
		T(test_bad_directories),
		T(test_torn_tail_and_corruption),
		T(test_size_limits),
		T(test_write_fault_then_read_only),
		T(test_crash_loses_no_acknowledged_write),
		T(test_read_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
