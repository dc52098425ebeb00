/* vec.c — growing uint32_t arrays (see vec.h). */
#include "engine/vec.h"

#include <stdlib.h>
#include <string.h>

bool u32s_reserve(u32s_t *a, size_t n)
{
	if (n <= a->cap)
		return true;
	size_t cap = a->cap ? a->cap : 16;
	while (cap < n)
		cap *= 2;
	uint32_t *v = realloc(a->v, cap * sizeof *v);
	if (v == NULL)
		return false;
	a->v = v;
	a->cap = cap;
	return true;
}

bool u32s_push(u32s_t *a, uint32_t x)
{
	if (a->n == a->cap && !u32s_reserve(a, a->n + 1))
		return false;
	a->v[a->n++] = x;
	return true;
}

void u32s_free(u32s_t *a)
{
	free(a->v);
	memset(a, 0, sizeof *a);
}
