/* bloom_test.c — no false negatives, the false-positive rate, damage (engine/bloom). */
#include "tests/testutil.h"

#include <stdio.h>
#include <stdlib.h>

#include "engine/bloom.h"

static void key_of(uint64_t i, char *out, size_t size, size_t *len)
{
	*len = (size_t)snprintf(out, size, "key%llu", (unsigned long long)i);
}

static void build_filter(size_t n, unsigned bits, buf_t *out)
{
	uint64_t *h = malloc(n * sizeof *h);
	for (size_t i = 0; i < n; i++) {
		char k[32];
		size_t len;
		key_of(i, k, sizeof k, &len);
		h[i] = bloom_hash(sl_slice(k, len));
	}
	buf_clear(out);
	assert_int_equal(bloom_build(h, n, bits, out), SL_OK);
	free(h);
}

static double measured_fpr(const buf_t *f, size_t n, size_t probes)
{
	size_t fp = 0;
	for (size_t i = 0; i < probes; i++) {
		char k[32];
		size_t len;
		key_of(n + 1000000 + i, k, sizeof k, &len);
		fp += bloom_may_contain(f->data, f->len, bloom_hash(sl_slice(k, len)));
	}
	return (double)fp / (double)probes;
}

static void test_no_false_negatives(void **state)
{
	(void)state;
	buf_t f = BUF_INIT;
	const size_t sizes[] = { 1, 10, 1000, 20000 };
	for (int s = 0; s < 4; s++) {
		build_filter(sizes[s], 10, &f);
		for (size_t i = 0; i < sizes[s]; i++) {
			char k[32];
			size_t len;
			key_of(i, k, sizeof k, &len);
			assert_true(bloom_may_contain(f.data, f.len, bloom_hash(sl_slice(k, len))));
		}
	}
	buf_free(&f);
}

/* The measured rate stays near the formula: within 1.6x for 5..20 bits per key. */
static void test_false_positive_rate(void **state)
{
	(void)state;
	buf_t f = BUF_INIT;
	const unsigned bits[] = { 5, 10, 16, 20 };
	for (int i = 0; i < 4; i++) {
		build_filter(50000, bits[i], &f);
		double fpr = measured_fpr(&f, 50000, 200000);
		double want = bloom_expected_fpr(bits[i]);
		print_message("bits/key %2u: measured FPR %.5f, formula %.5f\n", bits[i], fpr, want);
		assert_true(fpr < want * 1.6 + 0.0001);
	}
	assert_true(bloom_expected_fpr(10) > 0.007 && bloom_expected_fpr(10) < 0.0095);
	buf_free(&f);
}

static void test_probes(void **state)
{
	(void)state;
	assert_int_equal(bloom_probes(0), 1);
	assert_int_equal(bloom_probes(1), 1);
	assert_int_equal(bloom_probes(10), 7);
	assert_int_equal(bloom_probes(100), BLOOM_MAX_K);
}

static void test_empty_and_damaged_filters(void **state)
{
	(void)state;
	buf_t f = BUF_INIT;
	assert_int_equal(bloom_build(NULL, 0, 10, &f), SL_OK);
	assert_int_equal(f.len, 9); /* 64 bits minimum plus k */
	assert_false(bloom_may_contain(f.data, f.len, bloom_hash(sl_slice_str("x"))));
	assert_true(bloom_check(f.data, f.len));
	/* A damaged k must never hide a key: it answers "maybe". */
	f.data[f.len - 1] = 0;
	assert_false(bloom_check(f.data, f.len));
	assert_true(bloom_may_contain(f.data, f.len, 12345));
	f.data[f.len - 1] = 200;
	assert_true(bloom_may_contain(f.data, f.len, 12345));
	assert_true(bloom_may_contain(f.data, 1, 12345));
	assert_true(bloom_may_contain(NULL, 0, 12345));
	buf_free(&f);
}

int main(void)
{
	tu_seed();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_false_negatives),
		cmocka_unit_test(test_false_positive_rate),
		cmocka_unit_test(test_probes),
		cmocka_unit_test(test_empty_and_damaged_filters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
