/*
 * overflow.h — key/value cells, and values too large for their page kept in a
 * chain of overflow pages.
 *
 * The B+tree's leaves and the hash index's buckets store entries in the same
 * cell format, and both keep a large value out of line, so that a page always
 * holds several entries: the cell keeps the key and the number of the chain's
 * first page. Each overflow page holds as many value bytes as fit and the
 * number of the next page.
 *
 * Cell:  klen (varint) | vword (varint) = value length << 1 | overflow |
 *        key | the value, or (overflow) the chain's first page (u32)
 *
 * Overflow page (U = the pager's usable bytes, little-endian):
 *   offset size  field
 *        0    1  kind = 3 (OVERFLOW_KIND; on disk — never renumber)
 *        1    3  zero
 *        4    4  next page of the chain (0 = the last)
 *        8    4  value bytes in this page
 *       12  ...  the bytes
 */
#ifndef SL_OVERFLOW_H
#define SL_OVERFLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/codec.h"
#include "engine/pager.h"
#include "engine/slice.h"
#include "engine/status.h"

#define OVERFLOW_KIND 3
#define OVERFLOW_NEXT 4
#define OVERFLOW_LEN 8
#define OVERFLOW_DATA 12

/* A decoded cell; key and value point into the page. */
typedef struct kvcell {
	sl_slice_t key;       /* the key bytes */
	uint64_t vlen;        /* value length */
	bool overflow;        /* the value is in an overflow chain */
	uint32_t ov_pgno;     /* its first page, when overflow */
	const uint8_t *value; /* the inline value bytes, when not */
	uint32_t size;        /* bytes the cell takes */
} kvcell_t;

/* Decodes the cell at p (the page ends at end); false when it runs past end.
 * Inline: every get and every step of a scan decodes one. */
static inline bool kvcell_decode(const uint8_t *p, const uint8_t *end, kvcell_t *c)
{
	const uint8_t *start = p;
	uint64_t klen, vword;
	size_t n1 = codec_get_varint(p, end, &klen);
	size_t n2 = n1 ? codec_get_varint(p + n1, end, &vword) : 0;
	if (n2 == 0)
		return false;
	p += n1 + n2;
	c->overflow = vword & 1;
	c->vlen = vword >> 1;
	uint64_t body = c->overflow ? 4 : c->vlen;
	if (klen > (uint64_t)(end - p) || body > (uint64_t)(end - p) - klen)
		return false;
	c->key = sl_slice(p, (size_t)klen);
	c->value = p + klen;
	c->ov_pgno = c->overflow ? codec_get_u32(p + klen) : 0;
	c->size = (uint32_t)(p + klen + body - start);
	return true;
}


/*
 * Builds the cell for key/value into out (room for max_cell + 32 bytes): inline
 * when it fits in max_cell bytes, else with the value written to a new overflow
 * chain (write_early as for overflow_write). *size gets the cell's length.
 */
int kvcell_make(pager_t *p, uint32_t max_cell, sl_slice_t key, sl_slice_t value,
		bool write_early, uint8_t *out, uint32_t *size, sl_err_t *err);

/* Appends the cell's value (inline or from its chain) to out. */
int kvcell_value(pager_t *p, const kvcell_t *c, buf_t *out, sl_err_t *err);

/* Pages a value of len bytes needs. */
uint64_t overflow_pages_for(const pager_t *p, uint64_t len);

/*
 * Writes value into a new chain; *first gets its head. With write_early each page
 * goes home at once (pager_write_early: for pages past the last checkpoint, as a
 * bulk load makes), else it stays dirty for the next checkpoint.
 */
int overflow_write(pager_t *p, sl_slice_t value, bool write_early, uint32_t *first,
		   sl_err_t *err);

/* Appends the len bytes of the chain at first to out; SL_CORRUPT if it does not
 * hold exactly that many. */
int overflow_read(pager_t *p, uint32_t first, uint64_t len, buf_t *out, sl_err_t *err);

/* Puts every page of the chain on the free list. */
int overflow_free(pager_t *p, uint32_t first, sl_err_t *err);

/* For checkers: visits each page of the chain (visit returns SL_OK to go on) and
 * verifies it holds exactly len bytes. */
int overflow_walk(pager_t *p, uint32_t first, uint64_t len,
		  int (*visit)(void *ctx, uint32_t pgno), void *ctx, sl_err_t *err);

#endif
