/* tally.c — per-thread rows of counters (see tally.h). */
#include "engine/tally.h"

#include <string.h>

unsigned tally_row_of_thread(void)
{
	static _Atomic unsigned next = 1;
	static _Thread_local unsigned row = TALLY_ROWS; /* TALLY_ROWS = not taken yet */
	if (row == TALLY_ROWS) {
		unsigned k = atomic_fetch_add(&next, 1);
		row = k < TALLY_ROWS ? k : 0;
	}
	return row;
}

uint64_t tally_sum(const tally_t *t, unsigned field)
{
	uint64_t sum = 0;
	for (unsigned r = 0; r < TALLY_ROWS; r++)
		sum += atomic_load_explicit(&t->row[r].v[field], memory_order_relaxed);
	return sum;
}

void tally_reset(tally_t *t)
{
	for (unsigned r = 0; r < TALLY_ROWS; r++)
		for (unsigned f = 0; f < TALLY_FIELDS; f++)
			atomic_store_explicit(&t->row[r].v[f], 0, memory_order_relaxed);
}
