/* codec_test.c — fixed ints, varints, zigzag, bit streams and order-preserving keys (engine/codec). */
#include "tests/testutil.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "engine/codec.h"

static void test_fixed_roundtrip(void **state)
{
	(void)state;
	uint8_t b[8];
	codec_put_u16(b, 0xBEEF);
	assert_int_equal(b[0], 0xEF);
	assert_int_equal(b[1], 0xBE);
	assert_int_equal(codec_get_u16(b), 0xBEEF);
	codec_put_u32(b, 0x01020304);
	assert_memory_equal(b, "\x04\x03\x02\x01", 4);
	assert_int_equal(codec_get_u32(b), 0x01020304);
	codec_put_u64(b, UINT64_C(0x0102030405060708));
	assert_memory_equal(b, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
	assert_true(codec_get_u64(b) == UINT64_C(0x0102030405060708));
}

static void test_varint_edges(void **state)
{
	(void)state;
	const uint64_t values[] = { 0, 1, 127, 128, 300, 16383, 16384, UINT32_MAX,
				    (uint64_t)UINT32_MAX + 1, UINT64_MAX >> 1, UINT64_MAX };
	const size_t lens[] = { 1, 1, 1, 2, 2, 2, 3, 5, 5, 9, 10 };
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		uint8_t b[CODEC_VARINT64_MAX];
		size_t n = codec_put_varint(b, values[i]);
		assert_int_equal(n, lens[i]);
		assert_int_equal(codec_varint_len(values[i]), lens[i]);
		uint64_t v = 0;
		assert_int_equal(codec_get_varint(b, b + n, &v), n);
		assert_true(v == values[i]);
		/* Every shorter input is truncated and must fail, never read past the end. */
		for (size_t cut = 0; cut < n; cut++)
			assert_int_equal(codec_get_varint(b, b + cut, &v), 0);
	}
	uint8_t ac02[] = { 0xAC, 0x02 };
	uint64_t v;
	assert_int_equal(codec_get_varint(ac02, ac02 + 2, &v), 2);
	assert_int_equal(v, 300);
}

static void test_varint_rejects_overlong(void **state)
{
	(void)state;
	uint8_t eleven[11];
	memset(eleven, 0x80, sizeof eleven);
	eleven[10] = 0;
	uint64_t v;
	assert_int_equal(codec_get_varint(eleven, eleven + 11, &v), 0);
	/* Ten bytes whose last carries more than the top bit of a u64: overflow. */
	uint8_t ten[10];
	memset(ten, 0xFF, 9);
	ten[9] = 0x02;
	assert_int_equal(codec_get_varint(ten, ten + 10, &v), 0);
	ten[9] = 0x01;
	assert_int_equal(codec_get_varint(ten, ten + 10, &v), 10);
	assert_true(v == UINT64_MAX);
	uint32_t v32;
	uint8_t big[5] = { 0xFF, 0xFF, 0xFF, 0xFF, 0x1F };
	assert_int_equal(codec_get_varint32(big, big + 5, &v32), 0);
	big[4] = 0x0F;
	assert_int_equal(codec_get_varint32(big, big + 5, &v32), 5);
	assert_int_equal(v32, UINT32_MAX);
}

static void test_zigzag(void **state)
{
	(void)state;
	assert_int_equal(codec_zigzag(0), 0);
	assert_int_equal(codec_zigzag(-1), 1);
	assert_int_equal(codec_zigzag(1), 2);
	assert_int_equal(codec_zigzag(-2), 3);
	const int64_t vals[] = { 0, 1, -1, 63, -64, INT64_MAX, INT64_MIN, 123456789, -987654321 };
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
		assert_true(codec_unzigzag(codec_zigzag(vals[i])) == vals[i]);
}

static void test_buf_varint_append(void **state)
{
	(void)state;
	buf_t b = BUF_INIT;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	uint64_t vals[1000];
	for (size_t i = 0; i < 1000; i++) {
		vals[i] = tu_next(&r) >> tu_below(&r, 64);
		codec_buf_put_varint(&b, vals[i]);
	}
	assert_true(buf_ok(&b));
	const uint8_t *p = b.data, *end = b.data + b.len;
	for (size_t i = 0; i < 1000; i++) {
		uint64_t v;
		size_t n = codec_get_varint(p, end, &v);
		assert_true(n > 0);
		assert_true(v == vals[i]);
		p += n;
	}
	assert_ptr_equal(p, end);
	buf_free(&b);
}

static void test_bits_roundtrip(void **state)
{
	(void)state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed() + 1);
	enum { N = 5000 };
	static uint64_t vals[N];
	static unsigned widths[N];
	buf_t out = BUF_INIT;
	bitwriter_t w;
	bitwriter_init(&w, &out);
	uint64_t total = 0;
	for (size_t i = 0; i < N; i++) {
		widths[i] = (unsigned)tu_below(&r, 65); /* 0..64, both ends included */
		vals[i] = widths[i] == 64 ? tu_next(&r) : tu_next(&r) & ((UINT64_C(1) << widths[i]) - 1);
		bitwriter_put(&w, vals[i], widths[i]);
		total += widths[i];
		assert_true(bitwriter_bits(&w) == total);
	}
	bitwriter_flush(&w);
	assert_int_equal(out.len, (total + 7) / 8);
	bitreader_t rd;
	bitreader_init(&rd, out.data, out.len);
	for (size_t i = 0; i < N; i++) {
		uint64_t v;
		assert_true(bitreader_get(&rd, widths[i], &v));
		assert_true(v == vals[i]);
	}
	/* Only padding is left: asking for more than it holds fails. */
	uint64_t v;
	assert_false(bitreader_get(&rd, 8, &v));
	buf_free(&out);
}

static void test_bits_layout(void **state)
{
	(void)state;
	/* 1 bit "1", then 3 bits "010", then 4 bits "1111": LSB-first in one byte. */
	buf_t out = BUF_INIT;
	bitwriter_t w;
	bitwriter_init(&w, &out);
	bitwriter_put(&w, 1, 1);
	bitwriter_put(&w, 2, 3);
	bitwriter_put(&w, 15, 4);
	bitwriter_put(&w, 0xFFFF, 0); /* zero bits: nothing */
	bitwriter_flush(&w);
	assert_int_equal(out.len, 1);
	assert_int_equal(out.data[0], 0xF5);
	bitreader_t rd;
	bitreader_init(&rd, out.data, 0);
	uint64_t v = 7;
	assert_true(bitreader_get(&rd, 0, &v));
	assert_int_equal(v, 0);
	assert_false(bitreader_get(&rd, 1, &v));
	buf_free(&out);
}

static void test_buf_basics(void **state)
{
	(void)state;
	buf_t b = BUF_INIT;
	assert_non_null(buf_extend(&b, 0));
	assert_int_equal(b.len, 0);
	buf_append(&b, "abc", 3);
	buf_append(&b, NULL, 0);
	buf_set(&b, "xy", 2);
	assert_int_equal(b.len, 2);
	assert_memory_equal(b.data, "xy", 2);
	assert_false(buf_reserve(&b, SIZE_MAX - 1));
	assert_false(buf_ok(&b)); /* sticky: later appends are ignored */
	buf_append(&b, "z", 1);
	assert_int_equal(b.len, 2);
	buf_clear(&b);
	assert_true(buf_ok(&b));
	buf_free(&b);
}

/* ---- order-preserving keys: byte order must equal value order, pair by pair ---- */

static int sign_of(int x) { return (x > 0) - (x < 0); }

/* memcmp order of two encodings, a prefix first. */
static int bytes_cmp(const buf_t *a, const buf_t *b)
{
	return sl_slice_cmp(buf_slice(a), buf_slice(b));
}

static void test_key_integers_sort_as_values(void **state)
{
	(void)state;
	int64_t v[64] = { INT64_MIN, INT64_MIN + 1, -(INT64_C(1) << 32), -256, -255, -1, 0, 1,
			  255, 256, INT64_C(1) << 32, INT64_MAX - 1, INT64_MAX };
	int n = 13;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	while (n < 64)
		v[n++] = (int64_t)tu_next(&r) >> tu_below(&r, 63);
	for (int i = 0; i < n; i++) {
		buf_t a = BUF_INIT, ua = BUF_INIT;
		codec_key_put_i64(&a, v[i]);
		codec_key_put_u64(&ua, (uint64_t)v[i]);
		int64_t back;
		uint64_t uback;
		assert_int_equal(codec_key_get_i64(a.data, a.data + a.len, &back), 8);
		assert_true(back == v[i]);
		assert_int_equal(codec_key_get_u64(ua.data, ua.data + ua.len, &uback), 8);
		assert_true(uback == (uint64_t)v[i]);
		for (int j = 0; j < n; j++) {
			buf_t b = BUF_INIT, ub = BUF_INIT;
			codec_key_put_i64(&b, v[j]);
			codec_key_put_u64(&ub, (uint64_t)v[j]);
			assert_int_equal(sign_of(bytes_cmp(&a, &b)), (v[i] > v[j]) - (v[i] < v[j]));
			assert_int_equal(sign_of(bytes_cmp(&ua, &ub)),
					 ((uint64_t)v[i] > (uint64_t)v[j]) - ((uint64_t)v[i] < (uint64_t)v[j]));
			buf_free(&b);
			buf_free(&ub);
		}
		buf_free(&a);
		buf_free(&ua);
	}
	assert_int_equal(codec_key_get_i64((const uint8_t *)"1234567", (const uint8_t *)"1234567" + 7,
					   &(int64_t){ 0 }), 0);
}

/* Value order for doubles as the encoding defines it: -0.0 equals 0.0, NaN is above +inf. */
static int f64_order(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) - isnan(b);
	return (a > b) - (a < b);
}

static void test_key_floats_sort_as_values(void **state)
{
	(void)state;
	double v[64] = { -INFINITY, -DBL_MAX, -1e300, -1.5, -1, -DBL_MIN, -4.9e-324, -0.0, 0.0,
			 4.9e-324, DBL_MIN, 1, 1.5, 1e300, DBL_MAX, INFINITY, NAN, -NAN };
	int n = 18;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	while (n < 64) {
		uint64_t bits = tu_next(&r);
		memcpy(&v[n], &bits, sizeof bits);
		n++;
	}
	for (int i = 0; i < n; i++) {
		buf_t a = BUF_INIT;
		codec_key_put_f64(&a, v[i]);
		double back;
		assert_int_equal(codec_key_get_f64(a.data, a.data + a.len, &back), 8);
		assert_true(isnan(v[i]) ? isnan(back) : back == v[i]);
		assert_false(back == 0 && signbit(back)); /* -0.0 comes back as +0.0 */
		for (int j = 0; j < n; j++) {
			buf_t b = BUF_INIT;
			codec_key_put_f64(&b, v[j]);
			if (sign_of(bytes_cmp(&a, &b)) != f64_order(v[i], v[j]))
				fail_msg("%g vs %g: bytes say %d", v[i], v[j], bytes_cmp(&a, &b));
			buf_free(&b);
		}
		buf_free(&a);
	}
}

/* Every string of 0 to 3 bytes over {00, 01, FE, FF}, and pairs of them as tuples. */
static void test_key_bytes_and_tuples_sort_as_values(void **state)
{
	(void)state;
	static const uint8_t alpha[4] = { 0x00, 0x01, 0xfe, 0xff };
	uint8_t s[85][3];
	size_t len[85], n = 0;
	for (size_t l = 0; l <= 3; l++)
		for (unsigned code = 0; code < (1u << (2 * l)); code++, n++) {
			len[n] = l;
			for (size_t k = 0; k < l; k++)
				s[n][k] = alpha[(code >> (2 * k)) & 3];
		}
	buf_t enc[85];
	for (size_t i = 0; i < n; i++) {
		enc[i] = (buf_t)BUF_INIT;
		codec_key_put_bytes(&enc[i], s[i], len[i]);
		buf_t back = BUF_INIT;
		assert_int_equal(codec_key_get_bytes(enc[i].data, enc[i].data + enc[i].len, &back),
				 enc[i].len);
		assert_int_equal(back.len, len[i]);
		assert_memory_equal(back.data ? back.data : (uint8_t *)"", s[i], len[i]);
		buf_free(&back);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			int want = sl_slice_cmp(sl_slice(s[i], len[i]), sl_slice(s[j], len[j]));
			assert_int_equal(sign_of(bytes_cmp(&enc[i], &enc[j])), sign_of(want));
		}
	/* tuples (bytes, i64): ordered by the first part, then the second */
	int64_t nums[3] = { -1, 0, 7 };
	for (size_t i = 0; i < n; i += 3)
		for (size_t j = 0; j < n; j += 5)
			for (int x = 0; x < 3; x++)
				for (int y = 0; y < 3; y++) {
					buf_t a = BUF_INIT, b = BUF_INIT;
					buf_append(&a, enc[i].data, enc[i].len);
					codec_key_put_i64(&a, nums[x]);
					buf_append(&b, enc[j].data, enc[j].len);
					codec_key_put_i64(&b, nums[y]);
					int first = sign_of(sl_slice_cmp(sl_slice(s[i], len[i]),
									 sl_slice(s[j], len[j])));
					int want = first ? first : (nums[x] > nums[y]) - (nums[x] < nums[y]);
					assert_int_equal(sign_of(bytes_cmp(&a, &b)), want);
					buf_free(&a);
					buf_free(&b);
				}
	for (size_t i = 0; i < n; i++)
		buf_free(&enc[i]);
	/* malformed: no terminator, a bad escape, a lone zero at the end */
	const uint8_t bad1[] = { 'a', 'b' }, bad2[] = { 'a', 0x00, 0x02 }, bad3[] = { 0x00 };
	assert_int_equal(codec_key_get_bytes(bad1, bad1 + 2, NULL), 0);
	assert_int_equal(codec_key_get_bytes(bad2, bad2 + 3, NULL), 0);
	assert_int_equal(codec_key_get_bytes(bad3, bad3 + 1, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_roundtrip),
		cmocka_unit_test(test_varint_edges),
		cmocka_unit_test(test_varint_rejects_overlong),
		cmocka_unit_test(test_zigzag),
		cmocka_unit_test(test_buf_varint_append),
		cmocka_unit_test(test_bits_roundtrip),
		cmocka_unit_test(test_bits_layout),
		cmocka_unit_test(test_buf_basics),
		cmocka_unit_test(test_key_integers_sort_as_values),
		cmocka_unit_test(test_key_floats_sort_as_values),
		cmocka_unit_test(test_key_bytes_and_tuples_sort_as_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
