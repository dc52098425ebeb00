/*
 * vec.h — a growing array of uint32_t: doc ids, series ids, positions.
 *
 * The inverted index gathers postings in them before writing a segment, and the
 * time-series label index keeps its lists in them. Growth doubles the capacity,
 * so n pushes cost O(n) copies in all.
 */
#ifndef SL_VEC_H
#define SL_VEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct u32s {
	uint32_t *v;       /* NULL until the first push or reserve */
	size_t n, cap;
} u32s_t;

/* Makes room for n values in all (the contents stay); false when out of memory. */
bool u32s_reserve(u32s_t *a, size_t n);

/* Appends x; false (a unchanged) when out of memory. */
bool u32s_push(u32s_t *a, uint32_t x);

void u32s_free(u32s_t *a);

#endif
