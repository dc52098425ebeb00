/* wal_test.c — the record log: round trips, torn tails, corruption, faults (engine/wal). */
#include "tests/testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/wal.h"

/* Record i of a deterministic set: length varies from 0 to a few KiB. */
static size_t record_of(uint64_t seed, size_t i, uint8_t *out, size_t max)
{
	tu_rng_t r;
	tu_rng_init(&r, seed * 1000003 + i);
	size_t len = (size_t)tu_below(&r, i % 7 == 0 ? 5000 : 200);
	if (len > max)
		len = max;
	tu_fill(&r, out, len);
	return len;
}

static void write_records(tu_fixture_t *f, size_t n, uint64_t *ends)
{
	sl_err_t err = { 0 };
	wal_t *w;
	assert_int_equal(wal_create(f->env, f->path, &w, &err), SL_OK);
	static uint8_t rec[8192];
	for (size_t i = 0; i < n; i++) {
		size_t len = record_of(tu_seed(), i, rec, sizeof rec);
		assert_int_equal(wal_append(w, rec, len, i % 10 == 0, &err), SL_OK);
		if (ends)
			ends[i] = wal_size(w);
	}
	assert_int_equal(wal_close(w, &err), SL_OK);
}

/* Reads the log back, checking each record; returns how many came and the tail. */
static size_t read_records(tu_fixture_t *f, int expect_rc, wal_tail_t *tail)
{
	sl_err_t err = { 0 };
	wal_reader_t *r;
	assert_int_equal(wal_reader_open(f->env, f->path, &r, &err), SL_OK);
	static uint8_t want[8192];
	sl_slice_t rec;
	size_t n = 0;
	int rc;
	while ((rc = wal_reader_next(r, &rec, NULL, &err)) == SL_OK) {
		size_t len = record_of(tu_seed(), n, want, sizeof want);
		assert_int_equal(rec.len, len);
		if (len)
			assert_memory_equal(rec.data, want, len);
		n++;
	}
	assert_int_equal(rc, expect_rc);
	if (tail)
		*tail = *wal_reader_tail(r);
	wal_reader_close(r);
	return n;
}

static void test_empty_log(void **state)
{
	tu_fixture_t *f = *state;
	write_records(f, 0, NULL);
	wal_tail_t t;
	assert_int_equal(read_records(f, SL_NOTFOUND, &t), 0);
	assert_int_equal(t.valid_end, WAL_HEADER_BYTES);
	assert_int_equal(t.dropped, 0);
	assert_int_equal(tu_file_size(f->path), WAL_HEADER_BYTES);
}

static void test_roundtrip_and_append_after_reopen(void **state)
{
	tu_fixture_t *f = *state;
	write_records(f, 300, NULL);
	wal_tail_t t;
	assert_int_equal(read_records(f, SL_NOTFOUND, &t), 300);
	sl_err_t err = { 0 };
	wal_t *w;
	assert_int_equal(wal_open(f->env, f->path, t.valid_end, &w, &err), SL_OK);
	static uint8_t rec[8192];
	for (size_t i = 300; i < 320; i++) {
		size_t len = record_of(tu_seed(), i, rec, sizeof rec);
		assert_int_equal(wal_append(w, rec, len, false, &err), SL_OK);
	}
	wal_close(w, NULL);
	assert_int_equal(read_records(f, SL_NOTFOUND, NULL), 320);
}

/* Cutting the file anywhere inside the last record is a torn tail, never an error. */
static void test_torn_tail_at_every_offset(void **state)
{
	tu_fixture_t *f = *state;
	uint64_t ends[5];
	write_records(f, 5, ends);
	for (uint64_t cut = ends[3] + 1; cut < ends[4]; cut++) {
		tu_truncate(f->path, cut);
		wal_tail_t t;
		assert_int_equal(read_records(f, SL_NOTFOUND, &t), 4);
		assert_int_equal(t.valid_end, ends[3]);
		assert_int_equal(t.dropped, cut - ends[3]);
		assert_true(t.why[0] != '\0');
	}
	/* Reopening for append cuts the tail and continues cleanly. */
	sl_err_t err = { 0 };
	wal_t *w;
	assert_int_equal(wal_open(f->env, f->path, ends[3], &w, &err), SL_OK);
	static uint8_t rec[8192];
	size_t len = record_of(tu_seed(), 4, rec, sizeof rec);
	assert_int_equal(wal_append(w, rec, len, true, &err), SL_OK);
	wal_close(w, NULL);
	assert_int_equal(read_records(f, SL_NOTFOUND, NULL), 5);
}

static void test_zeroed_tail_is_torn(void **state)
{
	tu_fixture_t *f = *state;
	uint64_t ends[10];
	write_records(f, 10, ends);
	/* A crash can leave the file longer than what was written, filled with zeros. */
	tu_truncate(f->path, ends[9] + 4096);
	wal_tail_t t;
	assert_int_equal(read_records(f, SL_NOTFOUND, &t), 10);
	assert_int_equal(t.valid_end, ends[9]);
	assert_int_equal(t.dropped, 4096);
}

/* Damage in the last record: torn. Damage with good records after it: SL_CORRUPT. */
static void test_flip_every_byte_of_two_records(void **state)
{
	tu_fixture_t *f = *state;
	uint64_t ends[4];
	write_records(f, 4, ends);
	for (uint64_t off = ends[1]; off < ends[3]; off++) {
		tu_flip_byte(f->path, off, 0x10);
		bool last = off >= ends[2];
		wal_tail_t t;
		size_t n = read_records(f, last ? SL_NOTFOUND : SL_CORRUPT, &t);
		assert_int_equal(n, last ? 3 : 2);
		if (last)
			assert_int_equal(t.valid_end, ends[2]);
		tu_flip_byte(f->path, off, 0x10);
	}
}

static void test_corrupt_message_names_offsets(void **state)
{
	tu_fixture_t *f = *state;
	uint64_t ends[3];
	write_records(f, 3, ends);
	tu_flip_byte(f->path, WAL_HEADER_BYTES + 20, 0x01);
	sl_err_t err = { 0 };
	wal_reader_t *r;
	assert_int_equal(wal_reader_open(f->env, f->path, &r, &err), SL_OK);
	sl_slice_t rec;
	assert_int_equal(wal_reader_next(r, &rec, NULL, &err), SL_CORRUPT);
	assert_non_null(strstr(err.msg, "under-test"));
	assert_non_null(strstr(err.msg, "offset 16"));
	char follows[64];
	snprintf(follows, sizeof follows, "offset %llu", (unsigned long long)ends[0]);
	assert_non_null(strstr(err.msg, follows));
	wal_reader_close(r);
}

static void test_bad_header(void **state)
{
	tu_fixture_t *f = *state;
	write_records(f, 1, NULL);
	sl_err_t err = { 0 };
	wal_reader_t *r;
	tu_flip_byte(f->path, 0, 0x01);
	assert_int_equal(wal_reader_open(f->env, f->path, &r, &err), SL_CORRUPT);
	assert_non_null(strstr(err.msg, "magic"));
	tu_flip_byte(f->path, 0, 0x01);
	tu_flip_byte(f->path, 8, 0x02); /* version 1 -> 3, checksum now wrong too */
	assert_int_equal(wal_reader_open(f->env, f->path, &r, &err), SL_CORRUPT);
	tu_flip_byte(f->path, 8, 0x02);
	tu_truncate(f->path, 10);
	assert_int_equal(wal_reader_open(f->env, f->path, &r, &err), SL_CORRUPT);
	wal_t *w;
	assert_int_equal(wal_open(f->env, f->path, WAL_HEADER_BYTES, &w, &err), SL_CORRUPT);
}

/* A payload holding the bytes of a valid frame must not resurrect as a record. */
static void test_embedded_frame_is_not_a_record(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	wal_t *w;
	assert_int_equal(wal_create(f->env, f->path, &w, &err), SL_OK);
	assert_int_equal(wal_append(w, "inner", 5, false, &err), SL_OK);
	wal_close(w, NULL);
	/* Take the frame just written (header + "inner") and use it as the payload of a
	 * second record, then tear that second record's header. */
	uint8_t frame[WAL_RECORD_HEADER_BYTES + 5];
	FILE *fp = fopen(f->path, "rb");
	fseek(fp, WAL_HEADER_BYTES, SEEK_SET);
	assert_int_equal(fread(frame, 1, sizeof frame, fp), sizeof frame);
	fclose(fp);
	assert_int_equal(wal_open(f->env, f->path, tu_file_size(f->path), &w, &err), SL_OK);
	uint64_t second = wal_size(w);
	assert_int_equal(wal_append(w, frame, sizeof frame, false, &err), SL_OK);
	wal_close(w, NULL);
	tu_flip_byte(f->path, second, 0xFF);
	wal_reader_t *r;
	assert_int_equal(wal_reader_open(f->env, f->path, &r, &err), SL_OK);
	sl_slice_t rec;
	assert_int_equal(wal_reader_next(r, &rec, NULL, &err), SL_OK);
	assert_int_equal(wal_reader_next(r, &rec, NULL, &err), SL_NOTFOUND);
	assert_int_equal(wal_reader_tail(r)->valid_end, second);
	wal_reader_close(r);
}

static void test_failed_write_makes_log_refuse(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	wal_t *w;
	assert_int_equal(wal_create(f->env, f->path, &w, &err), SL_OK);
	assert_int_equal(wal_append(w, "one", 3, true, &err), SL_OK);
	env_fault_set(f->env, ENV_OP_WRITE, 1, ENV_FAULT_SHORT, false);
	assert_int_equal(wal_append(w, "two-two-two", 11, true, &err), SL_FULL);
	env_fault_clear(f->env);
	assert_int_equal(wal_append(w, "three", 5, true, &err), SL_READONLY);
	assert_non_null(strstr(err.msg, "reopen"));
	wal_close(w, NULL);
	/* The short write is a torn tail; "one" survives. */
	wal_reader_t *r;
	assert_int_equal(wal_reader_open(f->env, f->path, &r, &err), SL_OK);
	sl_slice_t rec;
	assert_int_equal(wal_reader_next(r, &rec, NULL, &err), SL_OK);
	assert_int_equal(rec.len, 3);
	assert_int_equal(wal_reader_next(r, &rec, NULL, &err), SL_NOTFOUND);
	assert_true(wal_reader_tail(r)->dropped > 0);
	wal_reader_close(r);
}

static void test_failed_sync_makes_log_refuse(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	wal_t *w;
	assert_int_equal(wal_create(f->env, f->path, &w, &err), SL_OK);
	env_fault_set(f->env, ENV_OP_SYNC, 1, ENV_FAULT_EIO, false);
	assert_int_equal(wal_append(w, "x", 1, true, &err), SL_IO);
	/* Never retry an fsync and then report success: the log stays refused. */
	assert_int_equal(wal_sync(w, &err), SL_READONLY);
	assert_int_equal(wal_append(w, "y", 1, false, &err), SL_READONLY);
	wal_close(w, NULL);
	env_fault_clear(f->env);
}

/* Waits (up to 2 s) until env has done more than `syncs` fsyncs; then a little more,
 * so the fsync that was counted has also returned. */
static void wait_for_sync(env_t *env, uint64_t syncs)
{
	env_counters_t c;
	for (int i = 0; i < 2000; i++) {
		env_counters(env, &c);
		if (c.syncs > syncs)
			break;
		tu_sleep_ms(1);
	}
	assert_true(c.syncs > syncs);
	tu_sleep_ms(20);
}

/* How many records the log at path holds, read through a fresh env. */
static size_t records_in(const char *path)
{
	env_t *env = env_new();
	wal_reader_t *r;
	sl_err_t err = { 0 };
	assert_int_equal(wal_reader_open(env, path, &r, &err), SL_OK);
	sl_slice_t rec;
	uint64_t off;
	size_t n = 0;
	while (wal_reader_next(r, &rec, &off, &err) == SL_OK)
		n++;
	wal_reader_close(r);
	env_free(env);
	return n;
}

/*
 * Sync level batch: a record appended and then left alone — no later append to
 * trigger anything — is fsynced by the log's timer within batch_ms, so a power
 * cut that takes back everything unsynced (ENV_LOSS_DROP) keeps it. Without the
 * timer the same cut takes it back: the oracle that the test can fail.
 */
static void test_sync_every_syncs_an_idle_log(void **state)
{
	tu_fixture_t *f = *state;
	for (int timer = 0; timer <= 1; timer++) {
		env_t *env = env_new();
		assert_int_equal(env_loss_track(env, true), SL_OK);
		sl_err_t err = { 0 };
		wal_t *w;
		assert_int_equal(wal_create(env, f->path, &w, &err), SL_OK);
		if (timer)
			assert_int_equal(wal_sync_every(w, 5, &err), SL_OK);
		env_counters_t c;
		env_counters(env, &c);
		assert_int_equal(wal_append(w, "kept?", 5, false, &err), SL_OK);
		if (timer)
			wait_for_sync(env, c.syncs);
		else
			tu_sleep_ms(30);
		env_loss_report_t rep;
		assert_int_equal(env_power_loss(env, 1, ENV_LOSS_DROP, &rep), SL_OK);
		wal_close(w, NULL);
		env_free(env);
		assert_int_equal(records_in(f->path), timer ? 1 : 0);
	}
}

/* The timer fsyncs only when something was appended since the last fsync. */
static void test_sync_every_idle_when_nothing_appended(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	wal_t *w;
	assert_int_equal(wal_create(f->env, f->path, &w, &err), SL_OK);
	assert_int_equal(wal_sync_every(w, 2, &err), SL_OK);
	env_counters_t before, after;
	env_counters(f->env, &before);
	tu_sleep_ms(40);
	env_counters(f->env, &after);
	assert_int_equal(after.syncs, before.syncs);
	assert_int_equal(wal_append(w, "x", 1, false, &err), SL_OK);
	wait_for_sync(f->env, after.syncs);
	assert_int_equal(wal_close(w, &err), SL_OK);
}

/* A background fsync that fails breaks the log: the next append is refused, saying why. */
static void test_sync_every_failure_refuses_next_append(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	wal_t *w;
	assert_int_equal(wal_create(f->env, f->path, &w, &err), SL_OK);
	assert_int_equal(wal_sync_every(w, 2, &err), SL_OK);
	env_fault_set(f->env, ENV_OP_SYNC, 1, ENV_FAULT_EIO, false);
	assert_int_equal(wal_append(w, "x", 1, false, &err), SL_OK);
	int rc = SL_OK;
	for (int i = 0; i < 2000 && rc == SL_OK; i++) {
		tu_sleep_ms(1);
		rc = wal_append(w, "y", 1, false, &err);
	}
	assert_int_equal(rc, SL_READONLY);
	assert_non_null(strstr(err.msg, "sync"));
	assert_int_equal(wal_sync(w, &err), SL_READONLY); /* never retried into a success */
	wal_close(w, NULL);
	env_fault_clear(f->env);
}

static void test_oversized_record_refused(void **state)
{
	tu_fixture_t *f = *state;
	sl_err_t err = { 0 };
	wal_t *w;
	assert_int_equal(wal_create(f->env, f->path, &w, &err), SL_OK);
	assert_int_equal(wal_append(w, "", (size_t)WAL_MAX_RECORD + 1, false, &err), SL_INVALID);
	assert_int_equal(wal_append(w, "ok", 2, false, &err), SL_OK); /* not broken by that */
	wal_close(w, NULL);
}

/* A writer killed without closing: its appends went through a memory map, so
 * every acknowledged record is in the file, followed by the zeros it had
 * reserved; the reader ends the log there, and appending resumes. */
static void kill_writer(void *ctx, int fd)
{
	tu_fixture_t *f = ctx;
	sl_err_t err = { 0 };
	wal_t *w;
	if (wal_create(f->env, f->path, &w, &err) != SL_OK)
		_exit(2);
	static uint8_t rec[8192];
	for (uint32_t i = 0; i < 500; i++) {
		size_t len = record_of(tu_seed(), i, rec, sizeof rec);
		if (wal_append(w, rec, len, false, &err) != SL_OK)
			_exit(3);
		if (write(fd, &i, sizeof i) != sizeof i)
			_exit(4);
	}
	raise(SIGKILL);
}

static void test_killed_writer_keeps_every_record(void **state)
{
	tu_fixture_t *f = *state;
	int status;
	uint32_t acked = tu_fork_acked(kill_writer, f, &status);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(acked, 500);
	wal_tail_t t;
	assert_int_equal(read_records(f, SL_NOTFOUND, &t), 500);
	assert_true(t.dropped > 0);
	assert_non_null(strstr(t.why, "zero bytes"));
	sl_err_t err = { 0 };
	wal_t *w;
	assert_int_equal(wal_open(f->env, f->path, t.valid_end, &w, &err), SL_OK);
	static uint8_t rec[8192];
	size_t len = record_of(tu_seed(), 500, rec, sizeof rec);
	assert_int_equal(wal_append(w, rec, len, true, &err), SL_OK);
	assert_int_equal(wal_close(w, &err), SL_OK);
	assert_int_equal(read_records(f, SL_NOTFOUND, &t), 501);
	assert_int_equal(t.dropped, 0);
}

int main(void)
{
	tu_seed();
#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_setup, tu_teardown)
	const struct CMUnitTest tests[] = {
		T(test_empty_log),
		T(test_roundtrip_and_append_after_reopen),
		T(test_torn_tail_at_every_offset),
		T(test_zeroed_tail_is_torn),
		T(test_flip_every_byte_of_two_records),
		T(test_corrupt_message_names_offsets),
		T(test_bad_header),
		T(test_embedded_frame_is_not_a_record),
		T(test_failed_write_makes_log_refuse),
		T(test_failed_sync_makes_log_refuse),
		T(test_oversized_record_refused),
		T(test_sync_every_syncs_an_idle_log),
		T(test_sync_every_idle_when_nothing_appended),
		T(test_sync_every_failure_refuses_next_append),
		T(test_killed_writer_keeps_every_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
