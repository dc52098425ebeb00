/* workload_test.c — keys, values, distributions and mixes (bench/workload). */
#include "tests/testutil.h"

#include <lz4.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/workload.h"

/*
 * The zipfian generator is Gray et al.'s, as YCSB uses it: ranks 0 and 1 are
 * exact by construction, the rest follow Zipf's law approximately (rank 2 comes
 * out about 15% too often at theta 0.99). The test holds it to that.
 */
static void test_zipfian_frequencies(void **state)
{
	(void)state;
	zipf_t z;
	zipf_init(&z, 1000, 0.99);
	wl_rng_t r = { tu_seed() };
	enum { N = 2000000 };
	static uint32_t count[1000];
	memset(count, 0, sizeof count);
	for (int i = 0; i < N; i++)
		count[zipf_next(&z, &r)]++;
	double sum = 0;
	for (uint64_t k = 0; k < 1000; k++)
		sum += zipf_probability(&z, k);
	assert_true(fabs(sum - 1.0) < 1e-9);
	for (uint64_t k = 0; k < 12; k++) {
		double got = (double)count[k] / N, want = zipf_probability(&z, k);
		double tolerance = k < 2 ? 0.03 : 0.20;
		if (fabs(got / want - 1) > tolerance)
			fail_msg("rank %llu: %.5f, formula %.5f", (unsigned long long)k, got, want);
	}
	double tail = 0, tail_want = 0;
	for (uint64_t k = 100; k < 1000; k++) {
		tail += (double)count[k] / N;
		tail_want += zipf_probability(&z, k);
	}
	assert_true(fabs(tail - tail_want) < 0.03);
}

static void test_zipf_grow_matches_fresh(void **state)
{
	(void)state;
	zipf_t a, b;
	zipf_init(&a, 500, 0.99);
	zipf_grow(&a, 2000);
	zipf_init(&b, 2000, 0.99);
	assert_true(fabs(a.zetan - b.zetan) < 1e-9);
	assert_true(fabs(a.eta - b.eta) < 1e-9);
}

static void test_same_seed_same_workload(void **state)
{
	(void)state;
	chooser_t a, b;
	chooser_init(&a, DIST_ZIPFIAN, 10000);
	chooser_init(&b, DIST_ZIPFIAN, 10000);
	wl_rng_t ra = { 99 }, rb = { 99 };
	for (int i = 0; i < 1000; i++)
		assert_int_equal(chooser_next(&a, &ra), chooser_next(&b, &rb));
	uint32_t *p = wl_permutation(1000, 5), *q = wl_permutation(1000, 5);
	assert_memory_equal(p, q, 1000 * sizeof *p);
	static uint8_t seen[1000];
	for (int i = 0; i < 1000; i++) {
		assert_true(p[i] < 1000);
		assert_int_equal(seen[p[i]]++, 0);
	}
	free(p);
	free(q);
}

/* Scrambled zipfian: hot keys exist but are spread out; latest: recent keys hot. */
static void test_distributions_shape(void **state)
{
	(void)state;
	wl_rng_t r = { tu_seed() + 1 };
	chooser_t z, l, u;
	chooser_init(&z, DIST_ZIPFIAN, 100000);
	chooser_init(&l, DIST_LATEST, 100000);
	chooser_init(&u, DIST_UNIFORM, 100000);
	uint64_t latest_recent = 0, zipf_low = 0, uniform_low = 0;
	for (int i = 0; i < 100000; i++) {
		latest_recent += chooser_next(&l, &r) >= 99000;
		zipf_low += chooser_next(&z, &r) < 1000;
		uniform_low += chooser_next(&u, &r) < 1000;
	}
	assert_true(latest_recent > 50000); /* 1% of the keys take most reads */
	assert_true(zipf_low < 10000);      /* the hot keys are not the first ones */
	assert_true(uniform_low > 800 && uniform_low < 1200);
	chooser_add(&l);
	assert_int_equal(l.count, 100001);
}

static void test_ycsb_mixes(void **state)
{
	(void)state;
	const char *names[] = { "ycsb-a", "ycsb-b", "ycsb-c", "ycsb-d", "ycsb-e", "ycsb-f" };
	wl_rng_t r = { tu_seed() + 2 };
	for (int w = 0; w < 6; w++) {
		const workload_def_t *d = workload_find(names[w]);
		assert_non_null(d);
		uint64_t count[OP_KINDS_] = { 0 };
		for (int i = 0; i < 100000; i++)
			count[mix_pick(&d->mix, &r)]++;
		for (int k = 0; k < OP_KINDS_; k++)
			assert_true(fabs((double)count[k] / 100000 - d->mix.p[k]) < 0.01);
	}
	assert_int_equal(workload_find("ycsb-d")->dist, DIST_LATEST);
	assert_null(workload_find("ycsb-z"));
}

static void test_keys_and_values(void **state)
{
	(void)state;
	uint8_t k[16];
	wl_key(42, 16, k);
	assert_memory_equal(k, "0000000000000042", 16);
	assert_int_equal(wl_digits(9), 1);
	assert_int_equal(wl_digits(10), 2);
	assert_int_equal(wl_digits(999999), 6);
	value_pool_t vp;
	assert_int_equal(value_pool_init(&vp, 100, 0.5, 1), 0);
	static char out[LZ4_COMPRESSBOUND(65536)];
	int n = LZ4_compress_default((const char *)vp.bytes, out, 65536, sizeof out);
	double ratio = (double)n / 65536;
	print_message("values compress to %.2f of their size\n", ratio);
	assert_true(ratio > 0.4 && ratio < 0.75);
	wl_rng_t r = { 3 };
	const uint8_t *v = value_pool_next(&vp, &r);
	assert_true(v >= vp.bytes && v + 100 <= vp.bytes + WL_VALUE_POOL_BYTES + 100);
	value_pool_free(&vp);
	dist_t d;
	assert_int_equal(dist_parse("latest", &d), 0);
	assert_int_equal(d, DIST_LATEST);
	assert_int_equal(dist_parse("gaussian", &d), -1);
}

int main(void)
{
	tu_seed();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zipfian_frequencies),
		cmocka_unit_test(test_zipf_grow_matches_fresh),
		cmocka_unit_test(test_same_seed_same_workload),
		cmocka_unit_test(test_distributions_shape),
		cmocka_unit_test(test_ycsb_mixes),
		cmocka_unit_test(test_keys_and_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
