/*
 * postings_test.c — block-packed postings lists (index/postings) against plain
 * arrays: round trips, advance against a brute-force lower bound, every byte of
 * a list damaged, misuse refused.
 */
#include "tests/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "index/postings.h"

/* A random list of n postings: gaps up to max_gap, tfs up to max_tf (1 = no tfs). */
static void make_list(tu_rng_t *r, uint32_t n, uint32_t max_gap, uint32_t max_tf, uint32_t *docs,
		      uint32_t *tfs)
{
	uint64_t d = tu_below(r, max_gap + 1);
	for (uint32_t i = 0; i < n; i++) {
		docs[i] = (uint32_t)d;
		tfs[i] = 1 + (uint32_t)tu_below(r, max_tf);
		d += 1 + tu_below(r, max_gap + 1);
	}
}

static void encode(buf_t *out, const uint32_t *docs, const uint32_t *tfs, uint32_t n, bool tf)
{
	postings_writer_t w;
	sl_err_t err = { 0 };
	postings_writer_init(&w, out, tf);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(postings_writer_add(&w, docs[i], tfs[i], &err), SL_OK);
	assert_int_equal(postings_writer_finish(&w, &err), SL_OK);
}

/* Reads the whole list back with next(): it must equal the arrays. */
static void expect_list(sl_slice_t list, const uint32_t *docs, const uint32_t *tfs, uint32_t n,
			bool tf)
{
	postings_iter_t it;
	sl_err_t err = { 0 };
	assert_int_equal(postings_iter_init(&it, list, &err), SL_OK);
	assert_int_equal(postings_count(list), n);
	for (uint32_t i = 0; i < n; i++) {
		assert_true(postings_iter_valid(&it));
		assert_int_equal(postings_iter_doc(&it), docs[i]);
		assert_int_equal(postings_iter_tf(&it), tf ? tfs[i] : 1);
		assert_true(postings_iter_block_last(&it) >= docs[i]);
		assert_true(postings_iter_block_max_tf(&it) >= postings_iter_tf(&it));
		assert_int_equal(postings_iter_next(&it, &err), SL_OK);
	}
	assert_false(postings_iter_valid(&it));
}

/* Lists of every shape round-trip: empty, one, a block's edges, long, dense, sparse. */
static void test_round_trip(void **state)
{
	(void)state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	static const uint32_t sizes[] = { 0, 1, 2, 127, 128, 129, 255, 256, 257, 1000, 20000 };
	static const uint32_t gaps[] = { 0, 1, 30, 1000, 1u << 20 };
	uint32_t *docs = malloc(20000 * sizeof *docs), *tfs = malloc(20000 * sizeof *tfs);
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
		for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++)
			for (int tf = 0; tf <= 1; tf++) {
				uint32_t n = sizes[s];
				if ((uint64_t)n * (gaps[g] + 1) >= UINT32_MAX)
					continue;
				make_list(&r, n, gaps[g], tf ? 50 : 1, docs, tfs);
				buf_t out = BUF_INIT;
				encode(&out, docs, tfs, n, tf);
				expect_list(buf_slice(&out), docs, tfs, n, tf);
				buf_free(&out);
			}
	free(docs);
	free(tfs);
}

/* The ends of the id space: doc 0, doc 2^32 - 1, the widest gap, a tf of 2^32 - 1. */
static void test_extremes(void **state)
{
	(void)state;
	uint32_t docs[] = { 0, 1, 0x80000000u, UINT32_MAX }, tfs[] = { 1, UINT32_MAX, 7, 2 };
	buf_t out = BUF_INIT;
	encode(&out, docs, tfs, 4, true);
	expect_list(buf_slice(&out), docs, tfs, 4, true);
	/* Nothing may follow doc 2^32 - 1, and ids must increase. */
	postings_writer_t w;
	sl_err_t err = { 0 };
	buf_t more = BUF_INIT;
	postings_writer_init(&w, &more, true);
	assert_int_equal(postings_writer_add(&w, UINT32_MAX, 1, &err), SL_OK);
	assert_int_equal(postings_writer_add(&w, UINT32_MAX, 1, &err), SL_INVALID);
	assert_int_equal(postings_writer_add(&w, 5, 1, &err), SL_INVALID);
	assert_int_equal(postings_writer_finish(&w, &err), SL_OK);
	buf_clear(&more);
	postings_writer_init(&w, &more, true);
	assert_int_equal(postings_writer_add(&w, 9, 1, &err), SL_OK);
	assert_int_equal(postings_writer_add(&w, 9, 1, &err), SL_INVALID);
	assert_int_equal(postings_writer_add(&w, 10, 0, &err), SL_INVALID); /* tf 0 */
	assert_int_equal(postings_writer_finish(&w, &err), SL_OK);
	expect_list(buf_slice(&more), (uint32_t[]){ 9 }, (uint32_t[]){ 1 }, 1, true);
	buf_free(&out);
	buf_free(&more);
}

/* advance(target) lands where a brute-force lower bound says, mixed with next(). */
static void test_advance_matches_lower_bound(void **state)
{
	(void)state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed() + 1);
	uint32_t n = 5000;
	uint32_t *docs = malloc(n * sizeof *docs), *tfs = malloc(n * sizeof *tfs);
	make_list(&r, n, 40, 9, docs, tfs);
	buf_t out = BUF_INIT;
	encode(&out, docs, tfs, n, true);
	sl_err_t err = { 0 };
	for (int round = 0; round < 200; round++) {
		postings_iter_t it;
		assert_int_equal(postings_iter_init(&it, buf_slice(&out), &err), SL_OK);
		uint32_t pos = 0; /* the oracle's position */
		while (postings_iter_valid(&it)) {
			if (tu_below(&r, 4) == 0) {
				assert_int_equal(postings_iter_next(&it, &err), SL_OK);
				pos++;
			} else {
				uint64_t span = tu_below(&r, 2) ? 60 : 20000;
				uint32_t target = docs[pos] + (uint32_t)tu_below(&r, span);
				assert_int_equal(postings_iter_advance(&it, target, &err), SL_OK);
				while (pos < n && docs[pos] < target)
					pos++;
			}
			if (pos == n) {
				assert_false(postings_iter_valid(&it));
				break;
			}
			assert_true(postings_iter_valid(&it));
			assert_int_equal(postings_iter_doc(&it), docs[pos]);
			assert_int_equal(postings_iter_tf(&it), tfs[pos]);
		}
	}
	/* Past the last doc: not valid; at or below the current doc: stays put. */
	postings_iter_t it;
	assert_int_equal(postings_iter_init(&it, buf_slice(&out), &err), SL_OK);
	assert_int_equal(postings_iter_advance(&it, docs[10], &err), SL_OK);
	assert_int_equal(postings_iter_advance(&it, docs[3], &err), SL_OK);
	assert_int_equal(postings_iter_doc(&it), docs[10]);
	assert_int_equal(postings_iter_advance(&it, docs[n - 1] + 1, &err), SL_OK);
	assert_false(postings_iter_valid(&it));
	buf_free(&out);
	free(docs);
	free(tfs);
}

/*
 * Every byte of a three-block list flipped, and every shorter length: reading it
 * through (next) and with skips (advance to each original doc) either reports
 * SL_CORRUPT or yields exactly the original postings — never a wrong one.
 */
static void test_damage_never_misleads(void **state)
{
	(void)state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed() + 2);
	uint32_t n = 300, docs[300], tfs[300];
	make_list(&r, n, 100, 5, docs, tfs);
	buf_t out = BUF_INIT;
	encode(&out, docs, tfs, n, true);
	uint8_t *copy = malloc(out.len);
	uint64_t caught = 0;
	for (size_t len = 0; len <= out.len; len++)
		for (size_t at = 0; at <= len; at++) {
			if (len < out.len && at > 0)
				break; /* truncations once, flips only on the whole list */
			memcpy(copy, out.data, len);
			if (at < len)
				copy[at] ^= 0x10;
			for (int mode = 0; mode < 2; mode++) {
				postings_iter_t it;
				sl_err_t err = { 0 };
				int rc = postings_iter_init(&it, sl_slice(copy, len), &err);
				for (uint32_t i = 0; rc == SL_OK && postings_iter_valid(&it); i++) {
					if (mode == 1)
						rc = postings_iter_advance(&it, docs[i], &err);
					if (rc != SL_OK || !postings_iter_valid(&it))
						break;
					if (i >= n || postings_iter_doc(&it) != docs[i] ||
					    postings_iter_tf(&it) != tfs[i])
						fail_msg("len %zu flip %zu mode %d: wrong posting %u", len, at,
							 mode, i);
					rc = postings_iter_next(&it, &err);
				}
				if (rc == SL_CORRUPT)
					caught++;
				else if (len < out.len || at < len)
					fail_msg("len %zu flip %zu mode %d: damage not reported", len, at,
						 mode);
			}
		}
	print_message("%llu damaged reads, every one reported\n", (unsigned long long)caught);
	free(copy);
	buf_free(&out);
}

/* Bits needed to hold v: the width a block of gaps up to v is packed at. */
static unsigned bits_for(uint32_t v)
{
	unsigned b = 0;
	for (; v != 0; v >>= 1)
		b++;
	return b;
}

/* What a posting costs: dense and sparse lists, with tfs. */
static void test_bytes_per_posting(void **state)
{
	(void)state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed() + 3);
	uint32_t n = 100000;
	uint32_t *docs = malloc(n * sizeof *docs), *tfs = malloc(n * sizeof *tfs);
	static const uint32_t gaps[] = { 2, 20, 2000 };
	for (size_t g = 0; g < 3; g++) {
		make_list(&r, n, gaps[g], 3, docs, tfs);
		buf_t out = BUF_INIT;
		encode(&out, docs, tfs, n, true);
		double per = (double)out.len / n;
		print_message("gaps up to %u, tf up to 3: %.2f bytes per posting\n", gaps[g], per);
		/* The gap's bits, the tf's two bits, the header's 20 bytes per 128: no more. */
		assert_true(per <= (bits_for(gaps[g]) + 2) / 8.0 + 20.0 / 128 + 0.01);
		buf_free(&out);
	}
	free(docs);
	free(tfs);
}

int main(void)
{
	tu_seed();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_extremes),
		cmocka_unit_test(test_advance_matches_lower_bound),
		cmocka_unit_test(test_damage_never_misleads),
		cmocka_unit_test(test_bytes_per_posting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
