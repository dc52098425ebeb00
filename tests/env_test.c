/* env_test.c — files, counters, locks and fault injection (engine/env). */
#include "tests/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "engine/env.h"

static void test_write_read_counts(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	env_file_t *file;
	const char *path = tu_path(f->dir, "a");
	assert_int_equal(env_open(f->env, path, ENV_WRITE | ENV_CREATE, &file, &err), SL_OK);
	assert_int_equal(env_append(file, "hello", 5, &err), SL_OK);
	assert_int_equal(env_pwrite(file, "J", 1, 0, &err), SL_OK);
	assert_int_equal(env_append(file, " world", 6, &err), SL_OK);
	assert_int_equal(env_size(file), 11);
	char buf[16];
	assert_int_equal(env_pread(file, buf, 11, 0, NULL, &err), SL_OK);
	assert_memory_equal(buf, "Jello world", 11);
	assert_int_equal(env_sync(file, &err), SL_OK);
	assert_int_equal(env_datasync(file, &err), SL_OK);

	env_counters_t c;
	env_counters(f->env, &c);
	assert_int_equal(c.bytes_written, 12);
	assert_int_equal(c.writes, 3);
	assert_int_equal(c.bytes_read, 11);
	assert_int_equal(c.reads, 1);
	assert_int_equal(c.syncs, 2);
	assert_int_equal(c.opens, 1);
	env_counters_reset(f->env);
	env_counters(f->env, &c);
	assert_int_equal(c.bytes_written, 0);
	env_set_sync_off(f->env, true); /* still counted, never a failure */
	assert_int_equal(env_sync(file, &err), SL_OK);
	env_counters(f->env, &c);
	assert_int_equal(c.syncs, 1);
	env_set_sync_off(f->env, false);
	assert_int_equal(env_close(file, &err), SL_OK);
}

static void test_short_read_is_corrupt(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	env_file_t *file;
	const char *path = tu_path(f->dir, "short");
	assert_int_equal(env_open(f->env, path, ENV_WRITE | ENV_CREATE, &file, &err), SL_OK);
	assert_int_equal(env_append(file, "12345", 5, &err), SL_OK);
	char buf[16];
	assert_int_equal(env_pread(file, buf, 10, 0, NULL, &err), SL_CORRUPT);
	assert_non_null(strstr(err.msg, "ends early"));
	assert_non_null(strstr(err.msg, "offset 0"));
	size_t got = 99;
	assert_int_equal(env_pread(file, buf, 10, 3, &got, &err), SL_OK);
	assert_int_equal(got, 2);
	assert_int_equal(env_pread(file, buf, 4, 100, &got, &err), SL_OK);
	assert_int_equal(got, 0);
	assert_int_equal(env_truncate(file, 2, &err), SL_OK);
	assert_int_equal(env_size(file), 2);
	env_close(file, NULL);
}

static void test_open_errors(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	env_file_t *file;
	assert_int_equal(env_open(f->env, tu_path(f->dir, "missing"), ENV_READ, &file, &err),
			 SL_NOTFOUND);
	assert_non_null(strstr(err.msg, "missing"));
	assert_null(file);
	assert_int_equal(env_open(f->env, f->dir, ENV_READ, &file, &err), SL_INVALID);
	const char *path = tu_path(f->dir, "x");
	assert_int_equal(env_open(f->env, path, ENV_WRITE | ENV_CREATE, &file, &err), SL_OK);
	env_close(file, NULL);
	assert_int_equal(env_open(f->env, path, ENV_WRITE | ENV_CREATE | ENV_EXCL, &file, &err),
			 SL_INVALID);
	assert_int_equal(env_unlink(f->env, path, &err), SL_OK);
	assert_int_equal(env_unlink(f->env, path, &err), SL_NOTFOUND);
	assert_int_equal(env_mkdir(f->env, f->dir, &err), SL_OK); /* existing is fine */
}

static void test_fault_write_eio_then_recovers(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	env_file_t *file;
	assert_int_equal(env_open(f->env, tu_path(f->dir, "f"), ENV_WRITE | ENV_CREATE, &file, &err),
			 SL_OK);
	env_fault_set(f->env, ENV_OP_WRITE, 2, ENV_FAULT_EIO, false);
	assert_int_equal(env_append(file, "a", 1, &err), SL_OK);
	assert_int_equal(env_append(file, "b", 1, &err), SL_IO);
	assert_non_null(strstr(err.msg, "Input/output error"));
	assert_int_equal(env_append(file, "c", 1, &err), SL_OK); /* not sticky */
	env_fault_clear(f->env);
	char buf[2];
	assert_int_equal(env_pread(file, buf, 2, 0, NULL, &err), SL_OK);
	assert_memory_equal(buf, "ac", 2);
	env_close(file, NULL);
}

static void test_fault_short_write(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	env_file_t *file;
	const char *path = tu_path(f->dir, "short-write");
	assert_int_equal(env_open(f->env, path, ENV_WRITE | ENV_CREATE, &file, &err), SL_OK);
	env_fault_set(f->env, ENV_OP_WRITE, 1, ENV_FAULT_SHORT, false);
	assert_int_equal(env_append(file, "0123456789", 10, &err), SL_FULL);
	assert_non_null(strstr(err.msg, "only 5 of 10"));
	assert_int_equal(env_size(file), 5);
	env_close(file, NULL);
	assert_int_equal(tu_file_size(path), 5);
}

static void test_fault_sticky_sync_read_open_rename(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	env_file_t *file;
	const char *path = strdup(tu_path(f->dir, "s"));
	assert_int_equal(env_open(f->env, path, ENV_WRITE | ENV_CREATE, &file, &err), SL_OK);
	env_fault_set(f->env, ENV_OP_SYNC, 1, ENV_FAULT_EIO, true);
	assert_int_equal(env_sync(file, &err), SL_IO);
	assert_int_equal(env_datasync(file, &err), SL_IO);
	assert_int_equal(env_sync_dir(f->env, f->dir, &err), SL_IO);
	env_fault_set(f->env, ENV_OP_READ, 1, ENV_FAULT_EIO, false);
	char b;
	size_t got;
	assert_int_equal(env_pread(file, &b, 1, 0, &got, &err), SL_IO);
	env_fault_set(f->env, ENV_OP_OPEN, 1, ENV_FAULT_ENOSPC, false);
	env_file_t *other;
	assert_int_equal(env_open(f->env, path, ENV_READ, &other, &err), SL_FULL);
	env_fault_set(f->env, ENV_OP_RENAME, 1, ENV_FAULT_EIO, false);
	assert_int_equal(env_rename(f->env, path, tu_path(f->dir, "t"), &err), SL_IO);
	env_fault_clear(f->env);
	assert_int_equal(env_sync(file, &err), SL_OK);
	env_close(file, NULL);
	free((void *)path);
}

static void test_list_dir_and_bytes(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	const char *names[] = { "b", "a", "c" };
	for (int i = 0; i < 3; i++) {
		env_file_t *file;
		assert_int_equal(env_open(f->env, tu_path(f->dir, names[i]), ENV_WRITE | ENV_CREATE,
					  &file, &err), SL_OK);
		assert_int_equal(env_append(file, "xyz", (size_t)i + 1, &err), SL_OK);
		env_close(file, NULL);
	}
	char **list;
	size_t n;
	assert_int_equal(env_list_dir(f->env, f->dir, &list, &n, &err), SL_OK);
	assert_int_equal(n, 3);
	assert_string_equal(list[0], "a");
	assert_string_equal(list[1], "b");
	assert_string_equal(list[2], "c");
	env_list_free(list, n);
	uint64_t bytes;
	assert_int_equal(env_dir_bytes(f->dir, &bytes, &err), SL_OK);
	assert_int_equal(bytes, 6);
	assert_int_equal(env_list_dir(f->env, tu_path(f->dir, "nope"), &list, &n, &err),
			 SL_NOTFOUND);
}

static void test_lock_is_exclusive(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	env_lock_t *a, *b;
	const char *path = strdup(tu_path(f->dir, "LOCK"));
	assert_int_equal(env_lock(f->env, path, &a, &err), SL_OK);
	assert_int_equal(env_lock(f->env, path, &b, &err), SL_BUSY);
	assert_non_null(strstr(err.msg, "another"));
	env_unlock(a);
	assert_int_equal(env_lock(f->env, path, &b, &err), SL_OK);
	env_unlock(b);
	free((void *)path);
}

static env_file_t *open_mapped(tu_fixture_t *f, const char *path)
{
	sl_err_t err = { 0 };
	env_file_t *file;
	if (env_open(f->env, path, ENV_WRITE | ENV_CREATE | ENV_MAP_APPEND, &file, &err) != SL_OK)
		fail_msg("open %s: %s", path, err.msg);
	return file;
}

/*
 * ENV_MAP_APPEND: the same bytes, sizes and counters as plain writes; the file
 * carries reserved space past env_size while open, trimmed at close; a
 * truncate drops the window, and appends after it land right.
 */
static void test_map_append_matches_plain_writes(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	const char *plain = strdup(tu_path(f->dir, "plain"));
	const char *mapped = strdup(tu_path(f->dir, "mapped"));
	env_file_t *a, *b = open_mapped(f, mapped);
	assert_int_equal(env_open(f->env, plain, ENV_WRITE | ENV_CREATE, &a, &err), SL_OK);
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	static uint8_t rec[70000];
	for (int i = 0; i < 300; i++) {
		size_t len = (size_t)tu_below(&r, i % 50 == 0 ? sizeof rec : 300);
		tu_fill(&r, rec, len);
		assert_int_equal(env_append(a, rec, len, &err), SL_OK);
		assert_int_equal(env_append(b, rec, len, &err), SL_OK);
		if (i == 150) { /* a log reset: back to a short file, then on */
			assert_int_equal(env_truncate(a, 16, &err), SL_OK);
			assert_int_equal(env_truncate(b, 16, &err), SL_OK);
		}
	}
	env_counters_t c;
	env_counters(f->env, &c);
	assert_int_equal(c.writes, 600);
	assert_int_equal(env_size(b), env_size(a));
	assert_true(tu_file_size(mapped) > env_size(b)); /* the reserve, while open */
	assert_int_equal(tu_file_size(mapped) % ENV_MAP_STEP, 0);
	uint8_t *x = malloc(env_size(a)), *y = malloc(env_size(a));
	assert_int_equal(env_pread(a, x, env_size(a), 0, NULL, &err), SL_OK);
	assert_int_equal(env_pread(b, y, env_size(b), 0, NULL, &err), SL_OK);
	assert_memory_equal(x, y, env_size(a));
	uint64_t size = env_size(b);
	assert_int_equal(env_close(a, &err), SL_OK);
	assert_int_equal(env_close(b, &err), SL_OK);
	assert_int_equal(tu_file_size(mapped), size); /* trimmed */
	free(x);
	free(y);
	free((void *)plain);
	free((void *)mapped);
}

/*
 * A read-only map reads back what was written; asking for read-ahead
 * (env_map_prefetch) anywhere — inside, across the end, past it — changes no
 * byte and no counter.
 */
static void test_map_read_and_prefetch(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	const char *path = tu_path(f->dir, "table");
	static uint8_t data[3 * 4096 + 100];
	tu_rng_t r;
	tu_rng_init(&r, tu_seed() + 5);
	tu_fill(&r, data, sizeof data);
	env_file_t *w, *m;
	assert_int_equal(env_open(f->env, path, ENV_WRITE | ENV_CREATE, &w, &err), SL_OK);
	assert_int_equal(env_append(w, data, sizeof data, &err), SL_OK);
	assert_int_equal(env_close(w, &err), SL_OK);
	assert_int_equal(env_open(f->env, path, ENV_READ, &m, &err), SL_OK);
	assert_int_equal(env_map(m, &err), SL_OK);
	env_counters_t before, after;
	env_counters(f->env, &before);
	env_map_prefetch(m, 0, 1u << 20);
	env_map_prefetch(m, 5000, 10);
	env_map_prefetch(m, sizeof data - 1, 4096);
	env_map_prefetch(m, sizeof data + 4096, 4096);
	env_counters(f->env, &after);
	assert_memory_equal(&before, &after, sizeof before);
	const uint8_t *p;
	assert_int_equal(env_read_mapped(m, 4000, 300, &p, &err), SL_OK);
	assert_memory_equal(p, data + 4000, 300);
	assert_int_equal(env_read_mapped(m, sizeof data - 100, 100, &p, &err), SL_OK);
	assert_memory_equal(p, data + sizeof data - 100, 100);
	assert_int_equal(env_read_mapped(m, sizeof data - 10, 100, &p, &err), SL_CORRUPT);
	env_counters(f->env, &after);
	assert_int_equal(after.reads - before.reads, 2); /* the one past the end is refused first */
	assert_int_equal(env_close(m, &err), SL_OK);
}

/* A fault armed on writes fails a mapped write the same way, and nothing of it lands. */
static void test_map_append_faults(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	const char *path = strdup(tu_path(f->dir, "m"));
	env_file_t *file = open_mapped(f, path);
	assert_int_equal(env_append(file, "0123456789", 10, &err), SL_OK);
	env_fault_set(f->env, ENV_OP_WRITE, 1, ENV_FAULT_ENOSPC, false);
	assert_int_equal(env_append(file, "abcdef", 6, &err), SL_FULL);
	assert_non_null(strstr(err.msg, path));
	assert_int_equal(env_size(file), 10);
	env_fault_set(f->env, ENV_OP_WRITE, 1, ENV_FAULT_SHORT, false);
	assert_int_equal(env_append(file, "abcdef", 6, &err), SL_FULL);
	assert_int_equal(env_size(file), 13); /* half of it, as a short write leaves */
	assert_int_equal(env_close(file, &err), SL_OK);
	assert_int_equal(tu_file_size(path), 13);
	free((void *)path);
}

/* Power-loss tracking sees mapped writes: a cut takes the unsynced ones back. */
static void test_map_append_power_loss(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	const char *path = strdup(tu_path(f->dir, "m"));
	env_file_t *file = open_mapped(f, path);
	assert_int_equal(env_sync_parent(f->env, path, &err), SL_OK);
	assert_int_equal(env_loss_track(f->env, true), SL_OK);
	assert_int_equal(env_append(file, "durable", 7, &err), SL_OK);
	assert_int_equal(env_datasync(file, &err), SL_OK);
	assert_int_equal(env_append(file, "-lost", 5, &err), SL_OK);
	env_loss_report_t rep;
	assert_int_equal(env_power_loss(f->env, 1, ENV_LOSS_DROP, &rep), SL_OK);
	assert_int_equal(rep.changes_lost, 1);
	assert_int_equal(env_append(file, "x", 1, &err), SL_IO); /* the power is off */
	env_close(file, NULL);
	assert_int_equal(tu_file_size(path), 7);
	env_loss_track(f->env, false);
	free((void *)path);
}

int main(void)
{
	tu_seed();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_read_counts, tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_short_read_is_corrupt, tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_map_read_and_prefetch, tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_fault_write_eio_then_recovers, tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_fault_short_write, tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_fault_sticky_sync_read_open_rename, tu_setup,
						tu_teardown),
		cmocka_unit_test_setup_teardown(test_list_dir_and_bytes, tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_map_append_matches_plain_writes, tu_setup,
						tu_teardown),
		cmocka_unit_test_setup_teardown(test_map_append_faults, tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_map_append_power_loss, tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_lock_is_exclusive, tu_setup, tu_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
