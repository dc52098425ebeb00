/*
 * slice.h — a borrowed run of bytes: a pointer and a length.
 *
 * Keys and values in storelab are byte strings in which any byte may appear,
 * NUL included, so they always travel with an explicit length. A slice does not
 * own its bytes: whoever made it keeps them alive while it is in use.
 *
 * The one ordering of keys used everywhere (unless a store says otherwise) is
 * bytewise: memcmp over the common prefix, then the shorter key first.
 */
#ifndef SL_SLICE_H
#define SL_SLICE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct sl_slice {
	const uint8_t *data; /* first byte; may be NULL when len is 0 */
	size_t len;          /* number of bytes */
} sl_slice_t;

static inline sl_slice_t sl_slice(const void *data, size_t len)
{
	sl_slice_t s = { (const uint8_t *)data, len };
	return s;
}

/* A slice over a NUL-terminated C string (without the NUL). */
static inline sl_slice_t sl_slice_str(const char *s)
{
	return sl_slice(s, strlen(s));
}

/*
 * Bytewise comparison: <0, 0 or >0 as a sorts before, equal to or after b.
 * Eight bytes at a time, loaded big-endian so that comparing the integers
 * compares the bytes in order: keys of a few dozen bytes are compared without
 * a call to memcmp, which every binary search in a B+tree page does ~7 times.
 */
static inline int sl_slice_cmp(sl_slice_t a, sl_slice_t b)
{
	size_t n = a.len < b.len ? a.len : b.len, i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;
		memcpy(&x, a.data + i, 8);
		memcpy(&y, b.data + i, 8);
		if (x != y) {
			x = __builtin_bswap64(x);
			y = __builtin_bswap64(y);
			return x < y ? -1 : 1;
		}
	}
	int c = n > i ? memcmp(a.data + i, b.data + i, n - i) : 0;
	if (c != 0)
		return c;
	return (a.len > b.len) - (a.len < b.len);
}

/* A key ordering: <0, 0 or >0. NULL wherever a comparator is taken means bytewise. */
typedef int (*sl_cmp_fn)(sl_slice_t a, sl_slice_t b);

static inline int sl_slice_eq(sl_slice_t a, sl_slice_t b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

#endif
