/* stats_test.c — name/value lists and derived amplification (engine/stats),
 * with the small pieces they lean on: tallies, status codes, checksums and trace. */
#include "tests/testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "engine/checksum.h"
#include "engine/stats.h"
#include "engine/status.h"
#include "engine/tally.h"
#include "engine/trace.h"

static void test_list_add_replace_get(void **state)
{
	(void)state;
	stats_list_t l = STATS_LIST_INIT;
	for (int i = 0; i < 100; i++) {
		char name[32];
		snprintf(name, sizeof name, "item.%d", i);
		stats_list_add(&l, name, i);
	}
	stats_list_add(&l, "item.7", 70);
	assert_int_equal(l.n, 100);
	double v;
	assert_true(stats_list_get(&l, "item.7", &v));
	assert_true(v == 70);
	assert_false(stats_list_get(&l, "nope", &v));
	stats_list_free(&l);
}

static void test_derived_figures(void **state)
{
	(void)state;
	stats_list_t l = STATS_LIST_INIT;
	static stats_counters_t c; /* zeroed */
	stats_count(&c, STAT_USER_BYTES_WRITTEN, 1000);
	stats_count(&c, STAT_USER_BYTES_READ, 400);
	stats_add_user(&l, &c);
	env_counters_t io = { .bytes_written = 5500, .bytes_read = 4000 };
	stats_add_device(&l, &io, 3000, 1500);
	stats_add_derived(&l);
	double w, r, s;
	assert_true(stats_list_get(&l, "write_amp", &w));
	assert_true(stats_list_get(&l, "read_amp", &r));
	assert_true(stats_list_get(&l, "space_amp", &s));
	assert_true(w == 5.5 && r == 10 && s == 2);
	stats_list_free(&l);
	/* No user bytes yet: the ratios are 0, not a division by zero. */
	stats_add_derived(&l);
	assert_true(stats_list_get(&l, "write_amp", &w));
	assert_true(w == 0);
	stats_list_free(&l);
}

static void test_status_messages(void **state)
{
	(void)state;
	sl_err_t err = { 0 };
	assert_int_equal(sl_errf(&err, SL_CORRUPT, "page %d bad", 7), SL_CORRUPT);
	assert_string_equal(err.msg, "page 7 bad");
	assert_int_equal(sl_err_prefix(&err, "file %s", "x.db"), SL_CORRUPT);
	assert_string_equal(err.msg, "file x.db: page 7 bad");
	sl_err_clear(&err);
	assert_int_equal(err.code, SL_OK);
	assert_int_equal(sl_errf(NULL, SL_IO, "ignored"), SL_IO);
	assert_string_equal(sl_strerror(SL_NOTFOUND), "not found");
	assert_string_equal(sl_strerror(12345), "unknown status");
	/* A prefix that fills the buffer still leaves a terminated message. */
	char longp[600];
	memset(longp, 'p', sizeof longp - 1);
	longp[sizeof longp - 1] = '\0';
	sl_errf(&err, SL_IO, "tail");
	sl_err_prefix(&err, "%s", longp);
	assert_true(strlen(err.msg) < SL_ERR_MSG_BYTES);
}

static void test_checksum_known_values(void **state)
{
	(void)state;
	/* XXH3-64 of the empty input, from the xxHash reference. */
	assert_true(checksum_xxh3("", 0, 0) == UINT64_C(0x2D06800538D394C2));
	assert_true(checksum_xxh3("abc", 3, 0) != checksum_xxh3("abc", 3, 1));
	assert_true(checksum_xxh3_32("abc", 3, 0) == (uint32_t)checksum_xxh3("abc", 3, 0));
}

static char last_line[256];
static int lines;

static void record_line(void *ctx, const char *line)
{
	(void)ctx;
	snprintf(last_line, sizeof last_line, "%s", line);
	lines++;
}

static void test_trace_hook(void **state)
{
	(void)state;
	trace_t t = { 0 };
	assert_false(trace_on(&t));
	trace_emit(&t, "nobody hears %d", 1);
	assert_int_equal(lines, 0);
	trace_set(&t, record_line, NULL);
	assert_true(trace_on(&t));
	trace_emit(&t, "page %u has %d keys", 7u, 212);
	assert_string_equal(last_line, "page 7 has 212 keys  [test_trace_hook]");
	char out[64];
	assert_string_equal(trace_bytes(out, sizeof out, "a\x01\\b", 4, 10), "a\\x01\\x5cb");
	assert_string_equal(trace_bytes(out, sizeof out, "abcdef", 6, 3), "abc...");
	assert_string_equal(trace_bytes(out, 8, "\x01\x02\x03\x04", 4, 4), "\\x01");
}

/*
 * Tallies are exact: more threads than rows (so some share row 0 with atomic
 * adds) each add their own amounts while a reader sums; after the joins the
 * sums equal the arithmetic, field by field, and a reset empties every row.
 */
enum { TALLY_THREADS = TALLY_ROWS + 9, TALLY_ADDS = 20000 };
static tally_t shared_tally;
static _Atomic int tally_done;

static void *tally_worker(void *arg)
{
	uint64_t me = (uint64_t)(uintptr_t)arg;
	for (int i = 0; i < TALLY_ADDS; i++) {
		tally_add(&shared_tally, 0, 1);
		tally_add(&shared_tally, (unsigned)(me % TALLY_FIELDS), me);
	}
	return NULL;
}

static void *tally_reader(void *arg)
{
	(void)arg;
	uint64_t last = 0;
	while (!atomic_load(&tally_done)) { /* field 0 only grows */
		uint64_t now = tally_sum(&shared_tally, 0);
		assert_true(now >= last);
		last = now;
	}
	return NULL;
}

static void test_tally_threads(void **state)
{
	(void)state;
	pthread_t t[TALLY_THREADS], reader;
	pthread_create(&reader, NULL, tally_reader, NULL);
	for (uint64_t i = 0; i < TALLY_THREADS; i++)
		pthread_create(&t[i], NULL, tally_worker, (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < TALLY_THREADS; i++)
		pthread_join(t[i], NULL);
	atomic_store(&tally_done, 1);
	pthread_join(reader, NULL);
	uint64_t want[TALLY_FIELDS] = { 0 };
	want[0] = (uint64_t)TALLY_THREADS * TALLY_ADDS;
	for (uint64_t me = 1; me <= TALLY_THREADS; me++)
		want[me % TALLY_FIELDS] += me * TALLY_ADDS;
	for (unsigned f = 0; f < TALLY_FIELDS; f++)
		assert_int_equal(tally_sum(&shared_tally, f), want[f]);
	tally_reset(&shared_tally);
	for (unsigned f = 0; f < TALLY_FIELDS; f++)
		assert_int_equal(tally_sum(&shared_tally, f), 0);
}

int main(void)
{
	tu_seed();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_add_replace_get),
		cmocka_unit_test(test_derived_figures),
		cmocka_unit_test(test_tally_threads),
		cmocka_unit_test(test_status_messages),
		cmocka_unit_test(test_checksum_known_values),
		cmocka_unit_test(test_trace_hook),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
