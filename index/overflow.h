/*
 * overflow.h — values too large for their page, kept in a chain of pages.
 *
 * The B+tree and the hash index both keep a large value out of line, so that a
 * leaf or bucket always holds several entries: the cell keeps the key and the
 * number of the chain's first page. Each overflow page holds as many value bytes
 * as fit and the number of the next page.
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
#include "engine/pager.h"
#include "engine/slice.h"
#include "engine/status.h"

#define OVERFLOW_KIND 3
#define OVERFLOW_NEXT 4
#define OVERFLOW_LEN 8
#define OVERFLOW_DATA 12

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
