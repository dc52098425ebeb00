/*
 * ts_chunk_test.c — Gorilla chunks (kv/ts_chunk): round trips bit for bit on
 * the series real systems produce and on every edge value (NaN, infinities,
 * -0.0, denormals, equal values, huge and negative timestamp steps,
 * duplicates), what a point costs, and damage that must never decode.
 */
#include "tests/testutil.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/ts_chunk.h"

static void encode(buf_t *out, const int64_t *ts, const double *v, uint32_t n)
{
	ts_chunk_writer_t w;
	sl_err_t err;
	ts_chunk_writer_init(&w, out);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(ts_chunk_writer_add(&w, ts[i], v[i], &err), SL_OK);
	size_t predicted = ts_chunk_writer_bytes(&w);
	size_t before = out->len;
	assert_int_equal(ts_chunk_writer_finish(&w, &err), SL_OK);
	assert_int_equal(out->len - before, predicted);
}

/* Decodes the chunk and compares every point with the arrays, values bit for bit. */
static void expect(sl_slice_t chunk, const int64_t *ts, const double *v, uint32_t n)
{
	ts_chunk_iter_t it;
	sl_err_t err;
	assert_int_equal(ts_chunk_iter_init(&it, chunk, &err), SL_OK);
	assert_int_equal(it.info.points, n);
	assert_true(it.info.first_ts == ts[0] && it.info.last_ts == ts[n - 1]);
	for (uint32_t i = 0; i < n; i++) {
		if (!ts_chunk_iter_next(&it, &err))
			fail_msg("point %u of %u: %s", i, n, err.msg);
		if (it.ts != ts[i] || memcmp(&it.value, &v[i], 8) != 0)
			fail_msg("point %u: %lld %a, wanted %lld %a", i, (long long)it.ts, it.value,
				 (long long)ts[i], v[i]);
	}
	assert_false(ts_chunk_iter_next(&it, &err));
	assert_int_equal(it.status, SL_OK);
}

static void round_trip(const int64_t *ts, const double *v, uint32_t n)
{
	buf_t out = BUF_INIT;
	encode(&out, ts, v, n);
	expect(buf_slice(&out), ts, v, n);
	buf_free(&out);
}

static void test_edges(void **state)
{
	(void)state;
	double nan_payload;
	uint64_t bits = 0x7FF8DEADBEEF0001ull;
	memcpy(&nan_payload, &bits, 8);
	double v[] = { 0.0, -0.0, NAN, nan_payload, INFINITY, -INFINITY, DBL_MAX, -DBL_MAX,
		       DBL_MIN, 4.9e-324, 1.0, 1.0, 1.0, 1.5, -1.5, 1e300, 3.0, 3.0 };
	int64_t ts[] = { 0, 1, 1, 1, 0, -5, INT64_MAX, INT64_MIN, 0, 100, 200, 300, 300, 299,
			 1000000000000000000, -1000000000000000000, 7, 8 };
	uint32_t n = sizeof v / sizeof v[0];
	for (uint32_t k = 1; k <= n; k++)
		round_trip(ts, v, k); /* every prefix: one point, two, ... */
}

/* Series like real ones: scrapes every 100 ms with jitter, gauges, counters, walks. */
static void test_series_kinds(void **state)
{
	(void)state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	uint32_t n = 5000;
	int64_t *ts = malloc(n * sizeof *ts);
	double *v = malloc(n * sizeof *v);
	static const char *kinds[] = { "constant", "counter", "gauge (2 decimals)", "random walk",
				       "random doubles", "constant, no jitter" };
	for (int kind = 0; kind < 6; kind++) {
		int64_t t = 1700000000000 + (int64_t)tu_below(&r, 1000);
		double x = 50;
		for (uint32_t i = 0; i < n; i++) {
			t += kind == 5 ? 100 : 100 + (int64_t)tu_below(&r, 7) - 3; /* +-3 ms jitter */
			ts[i] = t;
			if (kind == 0 || kind == 5)
				v[i] = 42;
			else if (kind == 1)
				v[i] = (x += (double)tu_below(&r, 5));
			else if (kind == 2)
				v[i] = round((x += ((double)tu_below(&r, 201) - 100) / 100) * 100) / 100;
			else if (kind == 3)
				v[i] = (x += ((double)tu_below(&r, 1000001) - 500000) / 1e6);
			else {
				uint64_t b = tu_next(&r);
				memcpy(&v[i], &b, 8);
			}
		}
		buf_t out = BUF_INIT;
		encode(&out, ts, v, n);
		expect(buf_slice(&out), ts, v, n);
		double per = (double)out.len / n;
		print_message("%-20s %.3f bytes per point\n", kinds[kind], per);
		/* The bounds the encoding promises: a jittered timestamp's delta of delta is
		 * within +-6, 9 bits; a regular one 1 bit; a repeated value 1 bit; random
		 * bits cannot shrink (8 bytes and a few control bits). */
		if (kind == 0)
			assert_true(per <= 10.0 / 8 + 0.01);
		if (kind == 5)
			assert_true(per <= 2.0 / 8 + 0.01);
		if (kind == 4)
			assert_true(per < 9.5);
		buf_free(&out);
	}
	free(ts);
	free(v);
}

/* Every flipped bit and every cut is reported, never decoded into other points. */
static void test_damage(void **state)
{
	(void)state;
	int64_t ts[40];
	double v[40];
	for (int i = 0; i < 40; i++) {
		ts[i] = 1000 + 100 * i + (i % 3);
		v[i] = 20.5 + (i % 7) * 0.25;
	}
	buf_t out = BUF_INIT;
	encode(&out, ts, v, 40);
	uint64_t damaged = 0;
	for (size_t off = 0; off < out.len; off++)
		for (int bit = 0; bit < 8; bit++) {
			out.data[off] ^= (uint8_t)(1u << bit);
			ts_chunk_iter_t it;
			sl_err_t err;
			int rc = ts_chunk_iter_init(&it, buf_slice(&out), &err);
			assert_int_equal(rc, SL_CORRUPT);
			damaged++;
			out.data[off] ^= (uint8_t)(1u << bit);
		}
	for (size_t len = 0; len < out.len; len++) {
		ts_chunk_iter_t it;
		sl_err_t err;
		assert_int_equal(ts_chunk_iter_init(&it, sl_slice(out.data, len), &err), SL_CORRUPT);
	}
	print_message("%llu flipped bits and %zu cuts: all reported\n", (unsigned long long)damaged,
		      out.len);
	buf_free(&out);
}

static void test_limits(void **state)
{
	(void)state;
	buf_t out = BUF_INIT;
	ts_chunk_writer_t w;
	sl_err_t err;
	ts_chunk_writer_init(&w, &out);
	assert_int_equal(ts_chunk_writer_finish(&w, &err), SL_INVALID); /* no points */
	assert_int_equal(out.len, 0);
	ts_chunk_writer_init(&w, &out);
	for (uint32_t i = 0; i < TS_CHUNK_MAX_POINTS; i++)
		assert_int_equal(ts_chunk_writer_add(&w, i, (double)i, &err), SL_OK);
	assert_int_equal(ts_chunk_writer_add(&w, 1, 1, &err), SL_FULL);
	assert_int_equal(ts_chunk_writer_finish(&w, &err), SL_OK);
	ts_chunk_iter_t it;
	assert_int_equal(ts_chunk_iter_init(&it, buf_slice(&out), &err), SL_OK);
	uint32_t n = 0;
	while (ts_chunk_iter_next(&it, &err))
		assert_true(it.ts == n && it.value == (double)n++);
	assert_int_equal(n, TS_CHUNK_MAX_POINTS);
	assert_int_equal(it.status, SL_OK);
	buf_free(&out);
}

int main(void)
{
	tu_seed();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_series_kinds),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
