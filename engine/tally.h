/*
 * tally.h — statistics counters that cost a plain add, not a locked one.
 *
 * A counter shared by threads is usually an atomic add (`lock add` on x86).
 * That instruction is a full barrier: it waits until every store the thread
 * made before it has reached the cache. After a put has copied its record into
 * a log page and a bucket page, that wait is long — in a hash-index fill, the
 * samples right after the four locked adds of one put (the store's puts and
 * bytes, the env's writes and bytes) were 11 % of the whole (perf, 1 M keys).
 *
 * So a tally keeps one row of counters per thread, each row a cache line's
 * worth. Only its own thread writes a row, so an add is a relaxed load and store
 * of the thread's own counter: no lock, no barrier, no cache line bouncing
 * between cores. A reader sums the column over every row (relaxed loads: each
 * count is exact once the threads that added to it have stopped, and never
 * torn meanwhile). The idea is the "approximate counter" of OSTEP (ch. 29) and
 * Linux's percpu_counter, without their periodic flush: the rows are the counter.
 *
 * Threads take a row number from a process-wide sequence on their first add;
 * row 0 is shared, with atomic adds, by every thread past TALLY_ROWS - 1 (row
 * numbers are not given back when a thread ends, so a process that starts many
 * short-lived threads ends up on the shared row: slower, still exact).
 *
 * Memory: TALLY_ROWS x 64 bytes = 1 KiB per tally.
 */
#ifndef SL_TALLY_H
#define SL_TALLY_H

#include <stdatomic.h>
#include <stdint.h>

#define TALLY_FIELDS 8  /* counters per tally: one cache line of uint64_t */
#define TALLY_ROWS 16   /* row 0 shared, rows 1..15 one thread's each */

/* 64 bytes: a cache line of its own when the tally is 64-byte aligned. Not
 * declared _Alignas(64), because tallies live inside structs that malloc places
 * at 16 bytes; a row then shares its two lines with its neighbours, which costs
 * only when two threads count in the same instant. */
typedef struct tally_row {
	_Atomic uint64_t v[TALLY_FIELDS];
} tally_row_t;

typedef struct tally {
	tally_row_t row[TALLY_ROWS];
} tally_t;

/* The calling thread's row: 1..TALLY_ROWS-1 of its own, or 0 (shared). */
unsigned tally_row_of_thread(void);

/* Adds n to counter field (< TALLY_FIELDS). */
static inline void tally_add(tally_t *t, unsigned field, uint64_t n)
{
	/* A cached copy of tally_row_of_thread() (one per file that includes this),
	 * so an add costs no call; TALLY_ROWS = not asked yet. */
	static _Thread_local unsigned row = TALLY_ROWS;
	if (row == TALLY_ROWS)
		row = tally_row_of_thread();
	_Atomic uint64_t *c = &t->row[row].v[field];
	if (row == 0)
		atomic_fetch_add_explicit(c, n, memory_order_relaxed);
	else /* this thread is the row's only writer */
		atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
				      memory_order_relaxed);
}

/* The sum of counter field over every thread. */
uint64_t tally_sum(const tally_t *t, unsigned field);

/* Sets every counter to 0 (while no thread adds). */
void tally_reset(tally_t *t);

#endif
