/*
 * slotted_test.c — the slotted page (engine/slotted) against a model: a plain
 * array of cells in slot order. Random inserts and removes (ordered and
 * unordered), with the page's invariants and every cell checked after each
 * step; SL_FULL exactly when the bytes do not fit; a damaged cell makes
 * compaction and removal SL_CORRUPT and leaves the page as it was.
 */
#include "tests/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "engine/slotted.h"
#include "engine/status.h"

#define U 1024

/* Test cells: a length byte, then that many bytes. */
static bool cell_size(const void *ctx, const uint8_t *d, uint32_t off, uint32_t *size)
{
	(void)ctx;
	if (off >= U || d[off] == 0 || off + 1u + d[off] > U)
		return false;
	*size = 1u + d[off];
	return true;
}

typedef struct model {
	uint8_t cells[256][64];
	uint32_t n;
} model_t;

static void check(const slotted_t *s, const uint8_t *d, const model_t *m)
{
	assert_true(slotted_sane(s, d));
	assert_int_equal(slotted_n(d), m->n);
	uint32_t used = 0;
	for (uint32_t i = 0; i < m->n; i++) {
		uint32_t off, size;
		assert_true(slotted_cell(s, d, i, &off, &size));
		assert_int_equal(size, 1u + m->cells[i][0]);
		assert_memory_equal(d + off, m->cells[i], size);
		used += size + s->width;
	}
	assert_int_equal(slotted_used(s, d), used);
	assert_int_equal(slotted_free(s, d), U - SLOTTED_SLOTS - used);
}

static void run(bool ordered, uint32_t width, uint64_t seed)
{
	static uint8_t page[U], scratch[U];
	slotted_t s = { U, width, cell_size, NULL, scratch };
	slotted_init(&s, page, 7);
	assert_int_equal(page[SLOTTED_KIND], 7);
	model_t m = { .n = 0 };
	tu_rng_t r;
	tu_rng_init(&r, seed);
	for (int step = 0; step < 4000; step++) {
		if (m.n > 0 && (tu_below(&r, 100) < 45 || m.n == 256)) {
			uint32_t i = (uint32_t)tu_below(&r, m.n);
			assert_int_equal(slotted_remove(&s, page, i, ordered), SL_OK);
			if (ordered)
				memmove(m.cells[i], m.cells[i + 1], (m.n - i - 1) * sizeof m.cells[0]);
			else
				memcpy(m.cells[i], m.cells[m.n - 1], sizeof m.cells[0]);
			m.n--;
		} else {
			uint8_t cell[64];
			cell[0] = (uint8_t)(1 + tu_below(&r, 60));
			tu_fill(&r, cell + 1, cell[0]);
			uint32_t i = ordered ? (uint32_t)tu_below(&r, m.n + 1) : m.n;
			bool fits = slotted_free(&s, page) >= 1u + cell[0] + width;
			int rc = slotted_insert(&s, page, i, cell, 1u + cell[0]);
			assert_int_equal(rc, fits ? SL_OK : SL_FULL);
			if (rc == SL_OK) {
				memmove(m.cells[i + 1], m.cells[i], (m.n - i) * sizeof m.cells[0]);
				memcpy(m.cells[i], cell, 1u + cell[0]);
				m.n++;
			}
		}
		check(&s, page, &m);
	}
	/* Compaction leaves the same cells, no fragmentation, the most room. */
	uint32_t before = slotted_free(&s, page);
	assert_int_equal(slotted_compact(&s, page), SL_OK);
	assert_int_equal(slotted_frag(page), 0);
	assert_int_equal(slotted_free(&s, page), before);
	check(&s, page, &m);
	/* A damaged cell: compaction and removal refuse, the page as it was. */
	if (m.n > 0) {
		uint32_t off, size;
		assert_true(slotted_cell(&s, page, m.n - 1, &off, &size));
		page[off] = 0; /* a zero length: does not decode */
		uint8_t copy[U];
		memcpy(copy, page, U);
		assert_int_equal(slotted_compact(&s, page), SL_CORRUPT);
		assert_memory_equal(page, copy, U);
		assert_int_equal(slotted_remove(&s, page, m.n - 1, ordered), SL_CORRUPT);
		assert_memory_equal(page, copy, U);
		codec_put_u16(slotted_slot(&s, page, 0), U + 5); /* an offset past the page */
		assert_false(slotted_cell(&s, page, 0, &off, &size));
	}
}

static void test_ordered_slots(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= tu_ops(4); seed++)
		run(true, 2, tu_seed() + seed);
}

static void test_unordered_wide_slots(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= tu_ops(4); seed++)
		run(false, 10, tu_seed() + seed);
}

/* Inserting needs the holes: compaction happens on the way, the cells stay. */
static void test_insert_compacts_when_only_holes_have_room(void **state)
{
	(void)state;
	static uint8_t page[U], scratch[U];
	slotted_t s = { U, 2, cell_size, NULL, scratch };
	slotted_init(&s, page, 1);
	uint8_t cell[64] = { 60 };
	uint32_t n = 0;
	while (slotted_insert(&s, page, n, cell, 61) == SL_OK)
		cell[1] = (uint8_t)++n;
	assert_true(n > 10);
	/* Free every other cell but the lowest: holes, not free space. */
	for (uint32_t i = 0; i + 1 < slotted_n(page); i++)
		assert_int_equal(slotted_remove(&s, page, i, true), SL_OK);
	assert_true(slotted_frag(page) > 0);
	uint32_t gap = slotted_cell_start(page) - (SLOTTED_SLOTS + 2 * slotted_n(page));
	assert_true(gap < 63);
	assert_int_equal(slotted_insert(&s, page, 0, cell, 61), SL_OK);
	assert_int_equal(slotted_frag(page), 0);
	for (uint32_t i = 0; i < slotted_n(page); i++) {
		uint32_t off, size;
		assert_true(slotted_cell(&s, page, i, &off, &size));
		assert_int_equal(size, 61);
	}
}

int main(void)
{
	tu_seed();
	tu_filter();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ordered_slots),
		cmocka_unit_test(test_unordered_wide_slots),
		cmocka_unit_test(test_insert_compacts_when_only_holes_have_room),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
