/* block_test.c — sorted blocks: builder, seek, compression, damage (engine/block). */
#include "tests/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/block.h"
#include "engine/checksum.h"
#include "engine/codec.h"

typedef struct kv {
	uint8_t key[40];
	size_t klen;
	uint8_t val[300];
	size_t vlen;
} kv_t;

static int kv_cmp(const void *a, const void *b)
{
	const kv_t *x = a, *y = b;
	return sl_slice_cmp(sl_slice(x->key, x->klen), sl_slice(y->key, y->klen));
}

/* n sorted, distinct entries; keys share prefixes, values compressible or not. */
static size_t make_entries(tu_rng_t *r, kv_t *out, size_t n, bool compressible)
{
	for (size_t i = 0; i < n; i++) {
		kv_t *e = &out[i];
		e->klen = (size_t)snprintf((char *)e->key, sizeof e->key, "user:%06llu:",
					   (unsigned long long)tu_below(r, 1000000));
		size_t extra = (size_t)tu_below(r, 8);
		tu_fill(r, e->key + e->klen, extra);
		e->klen += extra;
		e->vlen = (size_t)tu_below(r, sizeof e->val);
		if (compressible)
			memset(e->val, 'a' + (int)(i % 3), e->vlen);
		else
			tu_fill(r, e->val, e->vlen);
	}
	qsort(out, n, sizeof *out, kv_cmp);
	size_t m = 0; /* drop duplicate keys */
	for (size_t i = 0; i < n; i++)
		if (m == 0 || kv_cmp(&out[m - 1], &out[i]) != 0)
			out[m++] = out[i];
	return m;
}

static void build(const kv_t *e, size_t n, uint32_t interval, bool compress, buf_t *out)
{
	block_builder_t b;
	block_builder_init(&b, interval, NULL);
	for (size_t i = 0; i < n; i++)
		block_builder_add(&b, sl_slice(e[i].key, e[i].klen), sl_slice(e[i].val, e[i].vlen));
	buf_clear(out);
	assert_int_equal(block_builder_finish(&b, compress, out), SL_OK);
	block_builder_free(&b);
}

static void expect_at(const block_iter_t *it, const kv_t *e)
{
	assert_true(block_iter_valid(it));
	assert_true(sl_slice_eq(block_iter_key(it), sl_slice(e->key, e->klen)));
	assert_true(sl_slice_eq(block_iter_value(it), sl_slice(e->val, e->vlen)));
}

/* Full scan of an open block plus a seek to, just before and just after every key. */
static void check_entries(const block_t *blk, const kv_t *e, size_t n)
{
	block_iter_t it;
	block_iter_init(&it, blk, NULL);
	block_iter_first(&it);
	for (size_t i = 0; i < n; i++) {
		expect_at(&it, &e[i]);
		block_iter_next(&it);
	}
	assert_false(block_iter_valid(&it));
	assert_int_equal(block_iter_status(&it), SL_OK);
	for (size_t i = 0; i < n; i++) {
		block_iter_seek(&it, sl_slice(e[i].key, e[i].klen));
		expect_at(&it, &e[i]);
		/* key + "\0" sorts right after key: the seek lands on the next entry. */
		uint8_t after[41];
		memcpy(after, e[i].key, e[i].klen);
		after[e[i].klen] = 0;
		block_iter_seek(&it, sl_slice(after, e[i].klen + 1));
		if (i + 1 < n)
			expect_at(&it, &e[i + 1]);
		else
			assert_false(block_iter_valid(&it));
	}
	block_iter_seek(&it, sl_slice("", 0));
	if (n > 0)
		expect_at(&it, &e[0]);
	block_iter_seek(&it, sl_slice("\xff", 1));
	assert_false(block_iter_valid(&it));
	block_iter_free(&it);
}

static void check_block(const buf_t *stored, const kv_t *e, size_t n)
{
	block_t blk;
	sl_err_t err = { 0 };
	assert_int_equal(block_open(&blk, stored->data, stored->len, &err), SL_OK);
	check_entries(&blk, e, n);
	block_close(&blk);
}

static void test_empty_block(void **state)
{
	(void)state;
	buf_t out = BUF_INIT;
	build(NULL, 0, 0, true, &out);
	check_block(&out, NULL, 0);
	buf_free(&out);
}

static void test_one_entry_empty_key_and_value(void **state)
{
	(void)state;
	kv_t e = { .klen = 0, .vlen = 0 };
	buf_t out = BUF_INIT;
	build(&e, 1, 0, false, &out);
	check_block(&out, &e, 1);
	buf_free(&out);
}

static void test_worked_example_bytes(void **state)
{
	(void)state;
	block_builder_t b;
	block_builder_init(&b, 16, NULL);
	block_builder_add(&b, sl_slice_str("apple"), sl_slice_str("1"));
	block_builder_add(&b, sl_slice_str("apply"), sl_slice_str("22"));
	buf_t out = BUF_INIT;
	assert_int_equal(block_builder_finish(&b, false, &out), SL_OK);
	const uint8_t want[] = { 0, 5, 1, 'a', 'p', 'p', 'l', 'e', '1', 4, 1, 2, 'y', '2', '2',
				 0, 0, 0, 0, 1, 0, 0, 0 };
	assert_int_equal(out.len, sizeof want + BLOCK_TRAILER_BYTES);
	assert_memory_equal(out.data, want, sizeof want);
	assert_int_equal(out.data[sizeof want], BLOCK_TYPE_RAW);
	block_builder_free(&b);
	buf_free(&out);
}

static void test_random_blocks_all_intervals(void **state)
{
	(void)state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	static kv_t e[600];
	buf_t out = BUF_INIT;
	const uint32_t intervals[] = { 1, 2, 16, 1000 };
	uint64_t rounds = tu_ops(10);
	for (uint64_t round = 0; round < rounds; round++) {
		size_t n = make_entries(&r, e, 1 + (size_t)tu_below(&r, 600), round % 2 == 0);
		for (int i = 0; i < 4; i++) {
			build(e, n, intervals[i], round % 3 != 0, &out);
			check_block(&out, e, n);
		}
	}
	buf_free(&out);
}

/* The size a builder predicts for its next entry is the size adding it makes. */
static void test_size_with_predicts_add(void **state)
{
	(void)state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed() + 7);
	static kv_t e[600];
	const uint32_t intervals[] = { 1, 2, 16, 1000 };
	for (int i = 0; i < 4; i++) {
		size_t n = make_entries(&r, e, 600, i % 2 == 0);
		block_builder_t b;
		block_builder_init(&b, intervals[i], NULL);
		for (size_t k = 0; k < n; k++) {
			sl_slice_t key = sl_slice(e[k].key, e[k].klen), val = sl_slice(e[k].val, e[k].vlen);
			size_t want = block_builder_size_with(&b, key, val);
			block_builder_add(&b, key, val);
			assert_int_equal(block_builder_size(&b), want);
		}
		block_builder_free(&b);
	}
}

static void test_compression_only_when_it_pays(void **state)
{
	(void)state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed() + 7);
	static kv_t e[200];
	buf_t out = BUF_INIT;
	size_t n = make_entries(&r, e, 200, true);
	build(e, n, 16, true, &out);
	block_t blk;
	sl_err_t err = { 0 };
	assert_int_equal(block_open(&blk, out.data, out.len, &err), SL_OK);
	assert_int_equal(blk.type, BLOCK_TYPE_LZ4);
	assert_true(out.len < block_raw_size(&blk) / 2);
	block_close(&blk);

	/* Random values (and random key suffixes) do not shrink: stored raw. */
	n = make_entries(&r, e, 200, false);
	build(e, n, 1, true, &out);
	assert_int_equal(block_open(&blk, out.data, out.len, &err), SL_OK);
	assert_int_equal(blk.type, BLOCK_TYPE_RAW);
	block_close(&blk);
	buf_free(&out);
}

/*
 * block_keep: a kept block reads the same after its stored bytes are gone
 * (overwritten here), raw or lz4, and keeping twice is harmless.
 */
static void test_keep_outlives_stored_bytes(void **state)
{
	(void)state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed() + 9);
	static kv_t e[200];
	buf_t out = BUF_INIT;
	for (int compressible = 0; compressible < 2; compressible++) {
		size_t n = make_entries(&r, e, 200, compressible);
		build(e, n, 8, true, &out);
		block_t blk;
		sl_err_t err = { 0 };
		assert_int_equal(block_open(&blk, out.data, out.len, &err), SL_OK);
		assert_int_equal(blk.type, compressible ? BLOCK_TYPE_LZ4 : BLOCK_TYPE_RAW);
		assert_int_equal(block_keep(&blk), SL_OK);
		assert_int_equal(block_keep(&blk), SL_OK);
		memset(out.data, 0xa5, out.len);
		check_entries(&blk, e, n);
		block_close(&blk);
	}
	buf_free(&out);
}

/* Every single-byte flip of a stored block is refused by block_open. */
static void test_every_flip_detected(void **state)
{
	(void)state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed() + 3);
	static kv_t e[40];
	buf_t out = BUF_INIT;
	for (int compress = 0; compress < 2; compress++) {
		size_t n = make_entries(&r, e, 40, compress);
		build(e, n, 4, compress, &out);
		for (size_t off = 0; off < out.len; off++) {
			out.data[off] ^= 0x20;
			block_t blk;
			sl_err_t err = { 0 };
			assert_int_equal(block_open(&blk, out.data, out.len, &err), SL_CORRUPT);
			assert_true(err.msg[0] != '\0');
			out.data[off] ^= 0x20;
		}
		block_t blk;
		sl_err_t err = { 0 };
		assert_int_equal(block_open(&blk, out.data, 5, &err), SL_CORRUPT);
	}
	buf_free(&out);
}

/* Appends a trailer with a valid checksum to arbitrary contents. */
static void seal_raw(buf_t *b)
{
	uint8_t t[5] = { BLOCK_TYPE_RAW };
	codec_put_u32(t + 1, (uint32_t)b->len);
	buf_append(b, t, 5);
	codec_buf_put_u64(b, checksum_xxh3(b->data, b->len, 0));
}

/* Damage that passes the checksum (a bug elsewhere, or a fuzzer) must not crash. */
static void test_bad_structure_with_good_checksum(void **state)
{
	(void)state;
	sl_err_t err = { 0 };
	block_t blk;
	buf_t b = BUF_INIT;
	/* restart count larger than the block */
	codec_buf_put_u32(&b, 1000);
	seal_raw(&b);
	assert_int_equal(block_open(&blk, b.data, b.len, &err), SL_CORRUPT);
	/* an entry whose lengths run past the end */
	buf_clear(&b);
	const uint8_t entry[] = { 0, 50, 50, 'a' };
	buf_append(&b, entry, sizeof entry);
	codec_buf_put_u32(&b, 0);
	codec_buf_put_u32(&b, 1);
	seal_raw(&b);
	assert_int_equal(block_open(&blk, b.data, b.len, &err), SL_OK);
	block_iter_t it;
	block_iter_init(&it, &blk, NULL);
	block_iter_first(&it);
	assert_false(block_iter_valid(&it));
	assert_int_equal(block_iter_status(&it), SL_CORRUPT);
	block_iter_seek(&it, sl_slice_str("a"));
	assert_int_equal(block_iter_status(&it), SL_CORRUPT);
	block_iter_free(&it);
	block_close(&blk);
	/* a restart entry that claims a shared prefix */
	buf_clear(&b);
	const uint8_t shared[] = { 3, 1, 0, 'a' };
	buf_append(&b, shared, sizeof shared);
	codec_buf_put_u32(&b, 0);
	codec_buf_put_u32(&b, 1);
	seal_raw(&b);
	assert_int_equal(block_open(&blk, b.data, b.len, &err), SL_OK);
	block_iter_init(&it, &blk, NULL);
	block_iter_first(&it);
	assert_int_equal(block_iter_status(&it), SL_CORRUPT);
	block_iter_free(&it);
	block_close(&blk);
	buf_free(&b);
}

static int reverse_cmp(sl_slice_t a, sl_slice_t b)
{
	return sl_slice_cmp(b, a);
}

static void test_custom_comparator(void **state)
{
	(void)state;
	block_builder_t b;
	block_builder_init(&b, 2, reverse_cmp);
	const char *keys[] = { "z", "y", "m", "c", "a" };
	for (int i = 0; i < 5; i++)
		block_builder_add(&b, sl_slice_str(keys[i]), sl_slice_str(keys[i]));
	buf_t out = BUF_INIT;
	assert_int_equal(block_builder_finish(&b, false, &out), SL_OK);
	block_t blk;
	sl_err_t err = { 0 };
	assert_int_equal(block_open(&blk, out.data, out.len, &err), SL_OK);
	block_iter_t it;
	block_iter_init(&it, &blk, reverse_cmp);
	block_iter_seek(&it, sl_slice_str("n")); /* first key <= "n" in reverse order */
	assert_true(block_iter_valid(&it));
	assert_true(sl_slice_eq(block_iter_key(&it), sl_slice_str("m")));
	block_iter_free(&it);
	block_close(&blk);
	block_builder_free(&b);
	buf_free(&out);
}

int main(void)
{
	tu_seed();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_block),
		cmocka_unit_test(test_one_entry_empty_key_and_value),
		cmocka_unit_test(test_worked_example_bytes),
		cmocka_unit_test(test_random_blocks_all_intervals),
		cmocka_unit_test(test_size_with_predicts_add),
		cmocka_unit_test(test_compression_only_when_it_pays),
		cmocka_unit_test(test_keep_outlives_stored_bytes),
		cmocka_unit_test(test_every_flip_detected),
		cmocka_unit_test(test_bad_structure_with_good_checksum),
		cmocka_unit_test(test_custom_comparator),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
