/* postings.c — block-packed postings lists (format and invariants in postings.h). */
#include "index/postings.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "engine/checksum.h"
#include "engine/codec.h"

/* Block header offsets (see the table in postings.h). */
enum {
	PH_N = 0,
	PH_DOC_BITS = 1,
	PH_TF_BITS = 2,
	PH_IMPACT = 3,
	PH_LAST_DOC = 4,
	PH_MAX_TF = 8,
	PH_BYTES = 12,
	PH_HCHECK = 14,
	PH_PCHECK = 16,
};

/* Bits needed to hold v (0 for 0). */
static unsigned postings_bits(uint32_t v)
{
	return v == 0 ? 0 : 32 - (unsigned)__builtin_clz(v);
}

static size_t postings_payload_bytes(unsigned n, unsigned doc_bits, unsigned tf_bits)
{
	return ((size_t)n * (doc_bits + tf_bits) + 7) / 8;
}

static uint16_t postings_hcheck(const uint8_t *h, uint64_t off)
{
	return (uint16_t)checksum_xxh3(h, PH_HCHECK, off);
}

/* ---------------------------------------------------------------- writing */

void postings_writer_init(postings_writer_t *w, buf_t *out, bool with_tf)
{
	memset(w, 0, sizeof *w);
	w->out = out;
	w->start = out->len;
	w->with_tf = with_tf; /* (w->payload is an empty buf: BUF_INIT is all zeros) */
	uint8_t head[POSTINGS_LIST_HEADER] = { 0, 0, 0, 0, with_tf ? POSTINGS_HAS_TF : 0 };
	buf_append(out, head, sizeof head); /* the count is filled in by finish */
}

/*
 * ORs n values of bits bits each into zeroed out from bit at on, low bits
 * first (the inverse of postings_unpack below): each with one 8-byte load and
 * store. out must have 8 bytes of slack past the last value. Returns the bit
 * after the last value.
 */
static uint64_t postings_pack_bits(uint8_t *out, uint64_t at, const uint32_t *v, unsigned n,
				   unsigned bits)
{
	if (bits == 0)
		return at;
	/* Gather in a 64-bit word, store it whole when it fills: one store per 8 bytes. */
	uint8_t *p = out + (at >> 3);
	unsigned used = (unsigned)(at & 7);
	uint64_t acc = codec_get_u64(p) & ((1ull << used) - 1);
	for (unsigned i = 0; i < n; i++) {
		acc |= (uint64_t)v[i] << used;
		used += bits;
		if (used >= 64) {
			codec_put_u64(p, acc);
			p += 8;
			used -= 64;
			acc = used ? (uint64_t)v[i] >> (bits - used) : 0;
		}
	}
	codec_put_u64(p, acc);
	return at + (uint64_t)n * bits;
}

/* Packs the block being filled into w->payload; returns its header fields. */
static void postings_pack(postings_writer_t *w, unsigned *doc_bits, unsigned *tf_bits,
			  uint32_t *max_tf)
{
	uint32_t gaps[POSTINGS_BLOCK], max_gap = 0;
	uint64_t base = w->block_base;
	*max_tf = 1;
	w->block_impact = 0;
	for (unsigned i = 0; i < w->n; i++) {
		if (w->impacts[i] > w->block_impact)
			w->block_impact = w->impacts[i];
		gaps[i] = (uint32_t)(w->docs[i] - base);
		base = w->docs[i] + 1;
		if (gaps[i] > max_gap)
			max_gap = gaps[i];
		if (w->tfs[i] > *max_tf)
			*max_tf = w->tfs[i];
	}
	*doc_bits = postings_bits(max_gap);
	*tf_bits = w->with_tf ? postings_bits(*max_tf - 1) : 0;
	buf_clear(&w->payload);
	uint8_t *out = buf_extend(&w->payload, postings_payload_bytes(w->n, *doc_bits, *tf_bits) + 8);
	if (out == NULL)
		return; /* the buffer is marked: finish reports it */
	memset(out, 0, w->payload.len);
	uint64_t at = postings_pack_bits(out, 0, gaps, w->n, *doc_bits);
	for (unsigned i = 0; i < w->n; i++)
		gaps[i] = w->tfs[i] - 1;
	if (*tf_bits > 0)
		postings_pack_bits(out, at, gaps, w->n, *tf_bits);
	w->payload.len -= 8; /* the slack the last value's 8-byte store may touch */
}

/* Appends the block being filled: header, then payload. */
static void postings_flush_block(postings_writer_t *w)
{
	assert(w->n > 0);
	unsigned doc_bits, tf_bits;
	uint32_t max_tf;
	postings_pack(w, &doc_bits, &tf_bits, &max_tf);
	assert(w->payload.len == postings_payload_bytes(w->n, doc_bits, tf_bits));
	uint64_t off = w->out->len - w->start;
	uint8_t h[POSTINGS_BLOCK_HEADER] = { 0 };
	h[PH_N] = (uint8_t)w->n;
	h[PH_DOC_BITS] = (uint8_t)doc_bits;
	h[PH_TF_BITS] = (uint8_t)tf_bits;
	h[PH_IMPACT] = w->block_impact;
	codec_put_u32(h + PH_LAST_DOC, w->docs[w->n - 1]);
	codec_put_u32(h + PH_MAX_TF, max_tf);
	codec_put_u16(h + PH_BYTES, (uint16_t)w->payload.len);
	codec_put_u16(h + PH_HCHECK, postings_hcheck(h, off));
	codec_put_u32(h + PH_PCHECK, (uint32_t)checksum_xxh3(w->payload.data, w->payload.len, off));
	buf_append(w->out, h, sizeof h);
	buf_append(w->out, w->payload.data, w->payload.len);
	w->n = 0;
}

int postings_writer_add(postings_writer_t *w, uint32_t doc, uint32_t tf, sl_err_t *err)
{
	return postings_writer_add_impact(w, doc, tf, 0, err);
}

int postings_writer_add_impact(postings_writer_t *w, uint32_t doc, uint32_t tf, uint8_t impact,
			       sl_err_t *err)
{
	if (doc < w->next_base)
		return sl_errf(err, SL_INVALID, "postings: doc %u after doc %llu (ids must increase)",
			       doc, (unsigned long long)w->next_base - 1);
	if (w->with_tf && tf == 0)
		return sl_errf(err, SL_INVALID, "postings: doc %u with tf 0", doc);
	if (w->count == UINT32_MAX)
		return sl_errf(err, SL_INVALID, "postings: more than %u postings", UINT32_MAX);
	if (w->n == 0)
		w->block_base = w->next_base;
	w->docs[w->n] = doc;
	w->tfs[w->n] = w->with_tf ? tf : 1;
	w->impacts[w->n] = impact;
	w->n++;
	w->count++;
	w->next_base = (uint64_t)doc + 1;
	if (w->n == POSTINGS_BLOCK)
		postings_flush_block(w);
	return SL_OK;
}

int postings_writer_finish(postings_writer_t *w, sl_err_t *err)
{
	if (w->n > 0)
		postings_flush_block(w);
	buf_free(&w->payload);
	if (!buf_ok(w->out))
		return sl_errf(err, SL_NOMEM, "postings: out of memory writing a list");
	codec_put_u32(w->out->data + w->start, w->count);
	return SL_OK;
}

uint32_t postings_count(sl_slice_t list)
{
	return list.len >= POSTINGS_LIST_HEADER ? codec_get_u32(list.data) : 0;
}

/* ---------------------------------------------------------------- reading */

/* A block header, decoded and checked (postings_iter_header). */
typedef struct postings_head {
	unsigned n, doc_bits, tf_bits;
	uint32_t last_doc, max_tf;
	uint8_t impact;
	size_t bytes;
} postings_head_t;

static int postings_corrupt(postings_iter_t *it, size_t off, const char *what, sl_err_t *err)
{
	it->valid = false;
	it->status = SL_CORRUPT;
	return sl_errf(err, SL_CORRUPT, "postings list of %u: %s at offset %zu", it->count, what,
		       off);
}

/*
 * Reads and checks the header at off of the block that follows the current one
 * (blocks_left counts it): the checksum of the header alone, field ranges, the
 * size (invariants 3 and 4) and that last_doc passes the previous block's.
 */
static int postings_iter_header(postings_iter_t *it, size_t off, postings_head_t *h,
				sl_err_t *err)
{
	if (it->len < POSTINGS_BLOCK_HEADER || off > it->len - POSTINGS_BLOCK_HEADER)
		return postings_corrupt(it, off, "the list ends inside a block header", err);
	const uint8_t *p = it->list + off;
	if (codec_get_u16(p + PH_HCHECK) != postings_hcheck(p, off))
		return postings_corrupt(it, off, "block header checksum mismatch", err);
	h->n = p[PH_N];
	h->doc_bits = p[PH_DOC_BITS];
	h->tf_bits = p[PH_TF_BITS];
	h->last_doc = codec_get_u32(p + PH_LAST_DOC);
	h->max_tf = codec_get_u32(p + PH_MAX_TF);
	h->impact = p[PH_IMPACT];
	h->bytes = codec_get_u16(p + PH_BYTES);
	unsigned want = it->blocks_left > 1 ? POSTINGS_BLOCK : (it->count - 1) % POSTINGS_BLOCK + 1;
	if (h->n != want || h->doc_bits > 32 || h->tf_bits > 32 ||
	    (!it->with_tf && h->tf_bits != 0) || h->max_tf == 0)
		return postings_corrupt(it, off, "block header fields out of range", err);
	if (h->bytes != postings_payload_bytes(h->n, h->doc_bits, h->tf_bits) ||
	    h->bytes > it->len - off - POSTINGS_BLOCK_HEADER)
		return postings_corrupt(it, off, "block payload size does not fit", err);
	if (it->blocks_left == 1 && off + POSTINGS_BLOCK_HEADER + h->bytes != it->len)
		return postings_corrupt(it, off, "bytes after the last block", err);
	if (it->next_off > POSTINGS_LIST_HEADER && h->last_doc <= it->prev_last)
		return postings_corrupt(it, off, "block last doc does not increase", err);
	return SL_OK;
}

/*
 * Reads n values of bits bits each (0..32), low bits first, from bit at of p:
 * each with one little-endian 8-byte load, a shift and a mask, no branch per
 * value. p must have 8 readable bytes past the last value's first byte.
 */
static void postings_unpack(const uint8_t *p, uint64_t at, unsigned n, unsigned bits,
			    uint32_t *out)
{
	uint64_t mask = bits == 32 ? 0xFFFFFFFFull : (1ull << bits) - 1;
	for (unsigned i = 0; i < n; i++, at += bits)
		out[i] = (uint32_t)((codec_get_u64(p + (at >> 3)) >> (at & 7)) & mask);
}

/* Unpacks the block whose checked header h is at off; it becomes the current block. */
static int postings_iter_unpack(postings_iter_t *it, size_t off, const postings_head_t *h,
				sl_err_t *err)
{
	const uint8_t *payload = it->list + off + POSTINGS_BLOCK_HEADER;
	uint32_t pcheck = codec_get_u32(it->list + off + PH_PCHECK);
	if (pcheck != (uint32_t)checksum_xxh3(payload, h->bytes, off))
		return postings_corrupt(it, off, "block payload checksum mismatch", err);
	/* A padded copy, so that every value is read with one 8-byte load. */
	uint8_t pad[POSTINGS_BLOCK * 8 + 8];
	memcpy(pad, payload, h->bytes);
	memset(pad + h->bytes, 0, 8);
	uint32_t v32[POSTINGS_BLOCK];
	postings_unpack(pad, 0, h->n, h->doc_bits, v32);
	uint64_t base = it->base, max_tf = 1;
	for (unsigned i = 0; i < h->n; i++) {
		if (base + v32[i] > UINT32_MAX)
			return postings_corrupt(it, off, "doc id past 2^32", err);
		it->docs[i] = (uint32_t)(base + v32[i]);
		base = base + v32[i] + 1;
	}
	postings_unpack(pad, (uint64_t)h->n * h->doc_bits, h->n, h->tf_bits, v32);
	for (unsigned i = 0; i < h->n; i++) {
		if (v32[i] == UINT32_MAX)
			return postings_corrupt(it, off, "tf past 2^32", err);
		it->tfs[i] = v32[i] + 1;
		if (it->tfs[i] > max_tf)
			max_tf = it->tfs[i];
	}
	if (it->docs[h->n - 1] != h->last_doc || max_tf != h->max_tf)
		return postings_corrupt(it, off, "block header disagrees with its postings", err);
	it->n = h->n;
	it->i = 0;
	it->unpacked++;
	it->block_max_tf = h->max_tf;
	it->block_impact = h->impact;
	it->pending = false;
	it->prev_last = h->last_doc;
	it->base = (uint64_t)h->last_doc + 1;
	it->next_off = off + POSTINGS_BLOCK_HEADER + h->bytes;
	it->blocks_left--;
	it->valid = true;
	return SL_OK;
}

/* Passes over the block whose checked header h is at off without unpacking it. */
static void postings_iter_skip(postings_iter_t *it, size_t off, const postings_head_t *h)
{
	it->prev_last = h->last_doc;
	it->base = (uint64_t)h->last_doc + 1;
	it->next_off = off + POSTINGS_BLOCK_HEADER + h->bytes;
	it->blocks_left--;
	it->pending = false;
}

/* Loads the next block, or ends the iteration when there is none. */
static int postings_iter_load_next(postings_iter_t *it, sl_err_t *err)
{
	if (it->blocks_left == 0) {
		it->valid = false;
		it->pending = false;
		return SL_OK;
	}
	postings_head_t h;
	size_t off = it->next_off;
	int rc = postings_iter_header(it, off, &h, err);
	return rc == SL_OK ? postings_iter_unpack(it, off, &h, err) : rc;
}

int postings_iter_init(postings_iter_t *it, sl_slice_t list, sl_err_t *err)
{
	memset(it, 0, sizeof *it);
	it->list = list.data;
	it->len = list.len;
	if (list.len < POSTINGS_LIST_HEADER)
		return postings_corrupt(it, 0, "shorter than its header", err);
	it->count = codec_get_u32(list.data);
	uint8_t flags = list.data[4];
	if (flags & ~POSTINGS_HAS_TF)
		return postings_corrupt(it, 4, "unknown flags", err);
	it->with_tf = flags & POSTINGS_HAS_TF;
	it->blocks_left = (it->count + POSTINGS_BLOCK - 1) / POSTINGS_BLOCK;
	it->next_off = POSTINGS_LIST_HEADER;
	if (it->count == 0 && list.len != POSTINGS_LIST_HEADER)
		return postings_corrupt(it, POSTINGS_LIST_HEADER, "bytes after an empty list", err);
	return postings_iter_load_next(it, err);
}

int postings_iter_init_array(postings_iter_t *it, const uint32_t *docs, const uint32_t *tfs,
			     unsigned n, sl_err_t *err)
{
	memset(it, 0, sizeof *it);
	it->count = n;
	it->with_tf = true;
	if (n > POSTINGS_BLOCK)
		return postings_corrupt(it, 0, "inline list longer than a block", err);
	uint32_t max_tf = 1;
	for (unsigned i = 0; i < n; i++) {
		if ((i > 0 && docs[i] <= docs[i - 1]) || tfs[i] == 0)
			return postings_corrupt(it, 0, "inline list out of order", err);
		it->docs[i] = docs[i];
		it->tfs[i] = tfs[i];
		if (tfs[i] > max_tf)
			max_tf = tfs[i];
	}
	if (n == 0)
		return SL_OK;
	it->n = n;
	it->block_max_tf = max_tf;
	it->prev_last = docs[n - 1];
	it->valid = true;
	return SL_OK;
}

int postings_iter_next(postings_iter_t *it, sl_err_t *err)
{
	if (!it->valid)
		return it->status;
	assert(!it->pending); /* after a shallow move, advance comes first */
	if (++it->i < it->n)
		return SL_OK;
	return postings_iter_load_next(it, err);
}

/* Moves i to the first posting of the current block with doc >= target (binary search). */
static void postings_iter_seek_in_block(postings_iter_t *it, uint32_t target)
{
	unsigned lo = it->i, hi = it->n;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (it->docs[mid] < target)
			lo = mid + 1;
		else
			hi = mid;
	}
	it->i = lo;
}

/*
 * Reads headers from the next block on, passing over (not unpacking) every
 * block that ends before target, until the block that can hold it: SL_OK with
 * *found and its header in h and offset in *off, or SL_OK with !*found at the
 * end of the list (the iterator is then no longer valid).
 */
static int postings_iter_hop(postings_iter_t *it, uint32_t target, postings_head_t *h,
			     size_t *off, bool *found, sl_err_t *err)
{
	*found = false;
	for (;;) {
		if (it->blocks_left == 0) {
			it->valid = false;
			it->pending = false;
			return SL_OK;
		}
		*off = it->next_off;
		int rc = postings_iter_header(it, *off, h, err);
		if (rc != SL_OK || h->last_doc >= target) {
			*found = rc == SL_OK;
			return rc;
		}
		postings_iter_skip(it, *off, h);
	}
}

int postings_iter_advance(postings_iter_t *it, uint32_t target, sl_err_t *err)
{
	if (!it->valid || (!it->pending && it->docs[it->i] >= target))
		return it->status;
	if (it->pending || target > it->prev_last) {
		postings_head_t h;
		size_t off;
		bool found;
		int rc = postings_iter_hop(it, target, &h, &off, &found, err);
		if (rc == SL_OK && found)
			rc = postings_iter_unpack(it, off, &h, err);
		if (rc != SL_OK || !found)
			return rc;
	}
	postings_iter_seek_in_block(it, target);
	return SL_OK;
}

int postings_iter_shallow(postings_iter_t *it, uint32_t target, sl_err_t *err)
{
	if (!it->valid || (it->pending ? it->pend_last >= target : target <= it->prev_last))
		return it->status;
	postings_head_t h;
	size_t off;
	bool found;
	int rc = postings_iter_hop(it, target, &h, &off, &found, err);
	if (rc == SL_OK && found) {
		it->pending = true; /* the header at next_off, read, its block not yet consumed */
		it->pend_last = h.last_doc;
		it->pend_max_tf = h.max_tf;
		it->pend_impact = h.impact;
	}
	return rc;
}
