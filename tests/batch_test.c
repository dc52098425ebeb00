/* batch_test.c — write-batch encoding and its decoder's defences (engine/batch). */
#include "tests/testutil.h"

#include <string.h>

#include "engine/batch.h"

static void test_worked_example(void **state)
{
	(void)state;
	batch_t b;
	batch_init(&b);
	batch_put(&b, sl_slice_str("a"), sl_slice_str("1"));
	batch_del(&b, sl_slice_str("b"));
	const uint8_t want[] = { 2, 0, 0, 0, 1, 1, 'a', 1, '1', 2, 1, 'b' };
	assert_int_equal(b.rep.len, sizeof want);
	assert_memory_equal(b.rep.data, want, sizeof want);
	assert_int_equal(b.count, 2);
	batch_free(&b);
}

static void test_roundtrip_random(void **state)
{
	(void)state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	batch_t b;
	batch_init(&b);
	uint8_t keys[200][20], vals[200][300];
	size_t klen[200], vlen[200];
	int ops[200];
	for (int i = 0; i < 200; i++) {
		klen[i] = (size_t)tu_below(&r, 20);
		vlen[i] = (size_t)tu_below(&r, 300);
		tu_fill(&r, keys[i], klen[i]);
		tu_fill(&r, vals[i], vlen[i]);
		ops[i] = tu_below(&r, 4) == 0 ? BATCH_OP_DEL : BATCH_OP_PUT;
		if (ops[i] == BATCH_OP_PUT)
			batch_put(&b, sl_slice(keys[i], klen[i]), sl_slice(vals[i], vlen[i]));
		else
			batch_del(&b, sl_slice(keys[i], klen[i]));
	}
	assert_int_equal(batch_status(&b), SL_OK);
	batch_reader_t rd;
	sl_err_t err = { 0 };
	assert_int_equal(batch_reader_init(&rd, batch_bytes(&b), &err), SL_OK);
	for (int i = 0; i < 200; i++) {
		int op;
		sl_slice_t k, v;
		assert_int_equal(batch_reader_next(&rd, &op, &k, &v, &err), SL_OK);
		assert_int_equal(op, ops[i]);
		assert_true(sl_slice_eq(k, sl_slice(keys[i], klen[i])));
		if (op == BATCH_OP_PUT)
			assert_true(sl_slice_eq(v, sl_slice(vals[i], vlen[i])));
	}
	int op;
	sl_slice_t k, v;
	assert_int_equal(batch_reader_next(&rd, &op, &k, &v, &err), SL_NOTFOUND);
	batch_clear(&b);
	assert_int_equal(b.count, 0);
	assert_int_equal(b.rep.len, 4);
	batch_free(&b);
}

/* Every truncation and every count error is SL_CORRUPT, never a read past the end. */
static void test_damage(void **state)
{
	(void)state;
	batch_t b;
	batch_init(&b);
	batch_put(&b, sl_slice_str("key"), sl_slice_str("value"));
	batch_del(&b, sl_slice_str("gone"));
	sl_err_t err = { 0 };
	for (size_t cut = 0; cut < b.rep.len; cut++) {
		batch_reader_t rd;
		int rc = batch_reader_init(&rd, sl_slice(b.rep.data, cut), &err);
		int op;
		sl_slice_t k, v;
		while (rc == SL_OK)
			rc = batch_reader_next(&rd, &op, &k, &v, &err);
		assert_int_equal(rc, SL_CORRUPT);
	}
	/* unknown operation code */
	uint8_t bad[] = { 1, 0, 0, 0, 9, 1, 'k' };
	batch_reader_t rd;
	int op;
	sl_slice_t k, v;
	assert_int_equal(batch_reader_init(&rd, sl_slice(bad, sizeof bad), &err), SL_OK);
	assert_int_equal(batch_reader_next(&rd, &op, &k, &v, &err), SL_CORRUPT);
	assert_non_null(strstr(err.msg, "unknown"));
	/* leftover bytes after the counted operations */
	uint8_t extra[] = { 0, 0, 0, 0, 2, 1, 'k' };
	assert_int_equal(batch_reader_init(&rd, sl_slice(extra, sizeof extra), &err), SL_OK);
	assert_int_equal(batch_reader_next(&rd, &op, &k, &v, &err), SL_CORRUPT);
	/* a count no batch of this size could hold */
	uint8_t huge[] = { 0xff, 0xff, 0xff, 0x7f, 2, 1, 'k' };
	assert_int_equal(batch_reader_init(&rd, sl_slice(huge, sizeof huge), &err), SL_CORRUPT);
	batch_free(&b);
}

int main(void)
{
	tu_seed();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worked_example),
		cmocka_unit_test(test_roundtrip_random),
		cmocka_unit_test(test_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
