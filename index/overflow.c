/* overflow.c — chains of overflow pages (see overflow.h). */
#include "index/overflow.h"

#include <string.h>

#include "engine/codec.h"

uint64_t overflow_pages_for(const pager_t *p, uint64_t len)
{
	uint64_t room = pager_usable_size(p) - OVERFLOW_DATA;
	return (len + room - 1) / room;
}

int overflow_write(pager_t *p, sl_slice_t value, bool write_early, uint32_t *first,
		   sl_err_t *err)
{
	uint32_t room = pager_usable_size(p) - OVERFLOW_DATA;
	page_t *prev = NULL;
	int rc = SL_OK;
	*first = 0;
	for (size_t off = 0; off < value.len && rc == SL_OK; off += room) {
		page_t *pg;
		rc = pager_alloc(p, &pg, err);
		if (rc != SL_OK)
			break;
		uint8_t *d = page_data(pg);
		size_t n = value.len - off < room ? value.len - off : room;
		d[0] = OVERFLOW_KIND;
		codec_put_u32(d + OVERFLOW_LEN, (uint32_t)n);
		memcpy(d + OVERFLOW_DATA, value.data + off, n);
		if (prev == NULL)
			*first = page_pgno(pg);
		else
			codec_put_u32(page_data(prev) + OVERFLOW_NEXT, page_pgno(pg));
		if (prev != NULL && write_early)
			rc = pager_write_early(p, prev, err);
		if (prev != NULL)
			pager_unpin(p, prev);
		prev = pg;
	}
	if (prev != NULL) {
		if (write_early && rc == SL_OK)
			rc = pager_write_early(p, prev, err);
		pager_unpin(p, prev);
	}
	return rc;
}

/* One page of a chain: checks its kind and length against what is left. */
static int overflow_step(pager_t *p, uint32_t pgno, uint64_t *left, uint32_t *next,
			 const uint8_t **bytes, uint32_t *n, page_t **pg, sl_err_t *err)
{
	int rc = pager_get(p, pgno, pg, err);
	if (rc != SL_OK)
		return rc;
	const uint8_t *d = page_data(*pg);
	*n = codec_get_u32(d + OVERFLOW_LEN);
	*next = codec_get_u32(d + OVERFLOW_NEXT);
	*bytes = d + OVERFLOW_DATA;
	bool ok = d[0] == OVERFLOW_KIND && *n > 0 && *n <= pager_usable_size(p) - OVERFLOW_DATA &&
		  *n <= *left && (*n == *left) == (*next == 0);
	if (!ok) {
		pager_unpin(p, *pg);
		return sl_errf(err, SL_CORRUPT, "%s: page %u: overflow page does not continue its value",
			       pager_path(p), pgno);
	}
	*left -= *n;
	return SL_OK;
}

int overflow_read(pager_t *p, uint32_t first, uint64_t len, buf_t *out, sl_err_t *err)
{
	uint64_t left = len;
	for (uint32_t pgno = first, hops = 0; left > 0; hops++) {
		page_t *pg;
		const uint8_t *bytes;
		uint32_t n, next;
		if (hops > pager_page_count(p))
			return sl_errf(err, SL_CORRUPT, "%s: overflow chain loops", pager_path(p));
		int rc = overflow_step(p, pgno, &left, &next, &bytes, &n, &pg, err);
		if (rc != SL_OK)
			return rc;
		buf_append(out, bytes, n);
		pager_unpin(p, pg);
		pgno = next;
	}
	return buf_ok(out) ? SL_OK : sl_errf(err, SL_NOMEM, "overflow: out of memory");
}

int overflow_walk(pager_t *p, uint32_t first, uint64_t len,
		  int (*visit)(void *ctx, uint32_t pgno), void *ctx, sl_err_t *err)
{
	uint64_t left = len;
	for (uint32_t pgno = first; left > 0;) {
		int rc = visit(ctx, pgno); /* first: catches loops and shared pages */
		page_t *pg;
		const uint8_t *bytes;
		uint32_t n, next;
		if (rc == SL_OK)
			rc = overflow_step(p, pgno, &left, &next, &bytes, &n, &pg, err);
		if (rc != SL_OK)
			return rc;
		pager_unpin(p, pg);
		pgno = next;
	}
	return SL_OK;
}

int overflow_free(pager_t *p, uint32_t first, sl_err_t *err)
{
	for (uint32_t pgno = first, hops = 0; pgno != 0; hops++) {
		page_t *pg;
		int rc = pager_get(p, pgno, &pg, err);
		if (rc != SL_OK)
			return rc;
		const uint8_t *d = page_data(pg);
		uint32_t next = codec_get_u32(d + OVERFLOW_NEXT);
		bool ok = d[0] == OVERFLOW_KIND && hops <= pager_page_count(p);
		pager_unpin(p, pg);
		if (!ok)
			return sl_errf(err, SL_CORRUPT, "%s: page %u: not an overflow page", pager_path(p),
				       pgno);
		if ((rc = pager_free(p, pgno, err)) != SL_OK)
			return rc;
		pgno = next;
	}
	return SL_OK;
}

int kvcell_make(pager_t *p, uint32_t max_cell, sl_slice_t key, sl_slice_t value,
		bool write_early, uint8_t *out, uint32_t *size, sl_err_t *err)
{
	uint64_t inline_size = codec_varint_len(key.len) + codec_varint_len((uint64_t)value.len << 1) +
			       key.len + value.len;
	bool overflow = inline_size > max_cell;
	uint32_t first = 0;
	if (overflow) {
		int rc = overflow_write(p, value, write_early, &first, err);
		if (rc != SL_OK)
			return rc;
	}
	size_t n = codec_put_varint(out, key.len);
	n += codec_put_varint(out + n, ((uint64_t)value.len << 1) | overflow);
	if (key.len)
		memcpy(out + n, key.data, key.len);
	n += key.len;
	if (overflow) {
		codec_put_u32(out + n, first);
		n += 4;
	} else if (value.len) {
		memcpy(out + n, value.data, value.len);
		n += value.len;
	}
	*size = (uint32_t)n;
	return SL_OK;
}

int kvcell_value(pager_t *p, const kvcell_t *c, buf_t *out, sl_err_t *err)
{
	if (c->overflow)
		return overflow_read(p, c->ov_pgno, c->vlen, out, err);
	buf_append(out, c->value, (size_t)c->vlen);
	return buf_ok(out) ? SL_OK : sl_errf(err, SL_NOMEM, "%s: out of memory", pager_path(p));
}
