/* hist_test.c — the log-linear latency histogram against a sorted array (bench/hist). */
#include "tests/testutil.h"

#include <math.h>
#include <stdlib.h>

#include "bench/hist.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static void test_small_values_exact(void **state)
{
	(void)state;
	hist_t h;
	hist_init(&h);
	for (uint64_t v = 0; v < 64; v++)
		hist_record(&h, v);
	assert_int_equal(hist_percentile(&h, 0.5), 31);
	assert_int_equal(hist_percentile(&h, 0.0), 0);
	assert_int_equal(hist_percentile(&h, 1.0), 63);
	assert_int_equal(h.n, 64);
}

static void test_bucket_bounds(void **state)
{
	(void)state;
	/* Every bucket's low value maps back to it, and buckets are contiguous. */
	for (unsigned b = 0; b + 1 < HIST_BUCKETS; b++) {
		uint64_t lo = hist_bucket_low(b), next = hist_bucket_low(b + 1);
		assert_int_equal(hist_bucket(lo), b);
		assert_int_equal(hist_bucket(next - 1), b);
		/* Width never exceeds 1/32 of the low bound (above the exact range). */
		if (lo >= 64)
			assert_true(next - lo <= lo / 32);
	}
	assert_int_equal(hist_bucket(UINT64_MAX), HIST_BUCKETS - 1);
}

/* Percentiles of a skewed random sample are within 1/32 of the exact ones. */
static void test_percentiles_against_sorted(void **state)
{
	(void)state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	enum { N = 200000 };
	static uint64_t v[N];
	hist_t h;
	hist_init(&h);
	for (size_t i = 0; i < N; i++) {
		/* log-uniform from 100 ns to 10 ms: latency-like */
		double e = 2.0 + 5.0 * (double)(tu_next(&r) >> 11) / 9007199254740992.0;
		v[i] = (uint64_t)pow(10, e);
		hist_record(&h, v[i]);
	}
	qsort(v, N, sizeof v[0], cmp_u64);
	const double qs[] = { 0.5, 0.9, 0.99, 0.999 };
	for (int i = 0; i < 4; i++) {
		uint64_t exact = v[(size_t)ceil(qs[i] * N) - 1];
		uint64_t got = hist_percentile(&h, qs[i]);
		double err = fabs((double)got - (double)exact) / (double)exact;
		print_message("q=%.3f exact %llu got %llu (%.2f%%)\n", qs[i],
			      (unsigned long long)exact, (unsigned long long)got, 100 * err);
		assert_true(err <= 1.0 / 32);
	}
	assert_int_equal(hist_percentile(&h, 1.0), v[N - 1]);
	assert_int_equal(h.min_ns, v[0]);
}

static void test_merge_and_empty(void **state)
{
	(void)state;
	hist_t a, b;
	hist_init(&a);
	hist_init(&b);
	assert_int_equal(hist_percentile(&a, 0.5), 0);
	for (uint64_t i = 1; i <= 1000; i++)
		hist_record(i % 2 ? &a : &b, i * 1000);
	hist_merge(&a, &b);
	assert_int_equal(a.n, 1000);
	assert_int_equal(a.max_ns, 1000000);
	assert_int_equal(a.min_ns, 1000);
	uint64_t p50 = hist_percentile(&a, 0.5);
	assert_true(p50 >= 500000 * 31 / 32 && p50 <= 500000 * 33 / 32);
}

int main(void)
{
	tu_seed();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_values_exact),
		cmocka_unit_test(test_bucket_bounds),
		cmocka_unit_test(test_percentiles_against_sorted),
		cmocka_unit_test(test_merge_and_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
