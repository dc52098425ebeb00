/*
 * syncer_test.c — the sync timer of level batch (engine/syncer), alone and as the
 * store wrappers run it for a store that supplies timer_sync (the peers).
 */
#include "tests/testutil.h"

#include <stdatomic.h>
#include <string.h>

#include "engine/store.h"
#include "engine/syncer.h"
#include "kv/ref.h"

static _Atomic int calls;      /* syncs made */
static _Atomic bool fail_next; /* the next sync fails */

static int counting_sync(void *ctx, sl_err_t *err)
{
	(void)ctx;
	atomic_fetch_add(&calls, 1);
	if (atomic_exchange(&fail_next, false))
		return sl_errf(err, SL_IO, "fsync test.db: Input/output error");
	return SL_OK;
}

/* Waits up to 2 s for calls to pass n; returns the count. */
static int wait_calls(int n)
{
	for (int i = 0; i < 2000 && atomic_load(&calls) <= n; i++)
		tu_sleep_ms(1);
	return atomic_load(&calls);
}

/* A noted write is synced within the period; nothing noted, nothing synced. */
static void test_syncs_only_what_was_written(void **state)
{
	(void)state;
	atomic_store(&calls, 0);
	syncer_t *s;
	assert_int_equal(syncer_start(2, counting_sync, NULL, &s, NULL), SL_OK);
	tu_sleep_ms(30);
	assert_int_equal(atomic_load(&calls), 0);
	syncer_note(s);
	syncer_note(s);
	assert_int_equal(wait_calls(0), 1); /* two notes, one sync */
	tu_sleep_ms(30);
	assert_int_equal(atomic_load(&calls), 1);
	syncer_note(s);
	syncer_clear(s); /* the owner synced everything itself */
	tu_sleep_ms(30);
	assert_int_equal(atomic_load(&calls), 1);
	assert_false(syncer_failed(s, NULL));
	syncer_stop(s);
}

/* A failed sync is kept with its message, and no sync follows it. */
static void test_failure_is_kept(void **state)
{
	(void)state;
	atomic_store(&calls, 0);
	atomic_store(&fail_next, true);
	syncer_t *s;
	assert_int_equal(syncer_start(2, counting_sync, NULL, &s, NULL), SL_OK);
	syncer_note(s);
	wait_calls(0);
	for (int i = 0; i < 2000 && !syncer_failed(s, NULL); i++)
		tu_sleep_ms(1);
	sl_err_t e;
	assert_true(syncer_failed(s, &e));
	assert_non_null(strstr(e.msg, "Input/output error"));
	syncer_note(s);
	tu_sleep_ms(30);
	assert_int_equal(atomic_load(&calls), 1);
	syncer_stop(s);
}

/* ---- the store wrappers: a ref store that says it needs the timer ---- */

static store_ops_t timed_ops;

static int timed_sync(store_t *s, sl_err_t *err)
{
	(void)s;
	return counting_sync(NULL, err);
}

static int timed_open(const char *dir, const store_opts_t *o, store_t **out, sl_err_t *err)
{
	int rc = ref_store_ops.open(dir, o, out, err);
	if (rc == SL_OK)
		(*out)->ops = &timed_ops;
	return rc;
}

/*
 * At level batch a store with timer_sync is synced after its writes, even when
 * no further write comes; a failed sync makes the next write answer
 * SL_READONLY. At level none no timer runs.
 */
static void test_store_wrappers_run_the_timer(void **state)
{
	tu_fixture_t *f = *state;
	timed_ops = ref_store_ops;
	timed_ops.name = "timed";
	timed_ops.timer_sync = timed_sync;
	timed_ops.open = timed_open;
	store_register(&timed_ops);
	atomic_store(&calls, 0);
	store_opts_t o = { .sync = SL_SYNC_BATCH, .batch_ms = 2 };
	store_t *s;
	sl_err_t err = { 0 };
	assert_int_equal(store_open("timed", f->path, &o, &s, &err), SL_OK);
	assert_int_equal(store_put(s, sl_slice_str("k"), sl_slice_str("v")), SL_OK);
	assert_int_equal(wait_calls(0), 1);
	atomic_store(&fail_next, true);
	assert_int_equal(store_put(s, sl_slice_str("k2"), sl_slice_str("v")), SL_OK);
	wait_calls(1);
	int rc = SL_OK;
	for (int i = 0; i < 2000 && rc == SL_OK; i++) {
		tu_sleep_ms(1);
		rc = store_put(s, sl_slice_str("k3"), sl_slice_str("v"));
	}
	assert_int_equal(rc, SL_READONLY);
	assert_non_null(strstr(store_errmsg(s), "background sync failed"));
	store_close(s);
	atomic_store(&calls, 0);
	o.sync = SL_SYNC_NONE;
	assert_int_equal(store_open("timed", f->path, &o, &s, &err), SL_OK);
	assert_int_equal(store_put(s, sl_slice_str("k4"), sl_slice_str("v")), SL_OK);
	tu_sleep_ms(30);
	assert_int_equal(atomic_load(&calls), 0);
	store_close(s);
}

int main(void)
{
	tu_seed();
	store_register(&ref_store_ops);
#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_setup, tu_teardown)
	const struct CMUnitTest tests[] = {
		T(test_syncs_only_what_was_written),
		T(test_failure_is_kept),
		T(test_store_wrappers_run_the_timer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
