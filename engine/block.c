/* block.c — sorted key/value blocks (format and rules in block.h). */
#include "engine/block.h"

#include <assert.h>
#include <lz4.h>
#include <string.h>

#include "engine/checksum.h"
#include "engine/codec.h"

static inline int block_cmp(sl_cmp_fn cmp, sl_slice_t a, sl_slice_t b)
{
	return cmp ? cmp(a, b) : sl_slice_cmp(a, b);
}

/* ---------------------------------------------------------------- builder */

void block_builder_init(block_builder_t *b, uint32_t interval, sl_cmp_fn cmp)
{
	memset(b, 0, sizeof *b);
	b->interval = interval ? interval : BLOCK_DEFAULT_RESTART_INTERVAL;
	b->cmp = cmp;
	b->min_saving_pct = BLOCK_DEFAULT_MIN_SAVING_PCT;
}

static size_t block_shared_prefix(sl_slice_t a, sl_slice_t b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	size_t i = 0;
	while (i < n && a.data[i] == b.data[i])
		i++;
	return i;
}

void block_builder_add(block_builder_t *b, sl_slice_t key, sl_slice_t value)
{
	sl_slice_t last = buf_slice(&b->last_key);
	assert(b->count == 0 || block_cmp(b->cmp, last, key) < 0);

	size_t shared = 0;
	if (b->count == 0 || b->since_restart == b->interval) {
		codec_buf_put_u32(&b->restarts, (uint32_t)b->entries.len);
		b->since_restart = 0;
	} else {
		shared = block_shared_prefix(last, key);
	}
	codec_buf_put_varint(&b->entries, shared);
	codec_buf_put_varint(&b->entries, key.len - shared);
	codec_buf_put_varint(&b->entries, value.len);
	buf_append(&b->entries, key.data + shared, key.len - shared);
	buf_append(&b->entries, value.data, value.len);

	buf_set(&b->last_key, key.data, key.len);
	b->since_restart++;
	b->count++;
}

size_t block_builder_size(const block_builder_t *b)
{
	return b->entries.len + b->restarts.len + 4;
}

size_t block_builder_size_with(const block_builder_t *b, sl_slice_t key, sl_slice_t value)
{
	bool restart = b->count == 0 || b->since_restart == b->interval;
	size_t shared = restart ? 0 : block_shared_prefix(buf_slice(&b->last_key), key);
	size_t entry = codec_varint_len(shared) + codec_varint_len(key.len - shared) +
		       codec_varint_len(value.len) + key.len - shared + value.len;
	return block_builder_size(b) + entry + (restart ? 4 : 0);
}

static void block_builder_reset(block_builder_t *b)
{
	buf_clear(&b->entries);
	buf_clear(&b->restarts);
	buf_clear(&b->last_key);
	b->since_restart = 0;
	b->count = 0;
}

/* Appends the lz4 form of contents to out if it saves min_pct percent; true if it did. */
static bool block_try_lz4(const buf_t *contents, unsigned min_pct, buf_t *out)
{
	int bound = LZ4_compressBound((int)contents->len);
	if (bound <= 0 || !buf_reserve(out, (size_t)bound))
		return false;
	int n = LZ4_compress_default((const char *)contents->data, (char *)out->data + out->len,
				     (int)contents->len, bound);
	if (n <= 0 || (uint64_t)n * 100 > (uint64_t)contents->len * (100 - min_pct))
		return false;
	out->len += (size_t)n;
	return true;
}

int block_builder_finish(block_builder_t *b, bool compress, buf_t *out)
{
	/* Assemble the contents: entries, restart offsets, restart count. */
	if (b->count == 0)
		codec_buf_put_u32(&b->restarts, 0);
	buf_append(&b->entries, b->restarts.data, b->restarts.len);
	codec_buf_put_u32(&b->entries, (uint32_t)(b->restarts.len / 4));
	if (!buf_ok(&b->entries) || !buf_ok(&b->restarts))
		return SL_NOMEM;
	if (b->entries.len > UINT32_MAX)
		return SL_INVALID;

	size_t start = out->len;
	uint8_t type = BLOCK_TYPE_RAW;
	if (compress && block_try_lz4(&b->entries, b->min_saving_pct, out))
		type = BLOCK_TYPE_LZ4;
	else
		buf_append(out, b->entries.data, b->entries.len);

	uint8_t trailer[BLOCK_TRAILER_BYTES];
	trailer[0] = type;
	codec_put_u32(trailer + 1, (uint32_t)b->entries.len);
	buf_append(out, trailer, 5);
	if (!buf_ok(out))
		return SL_NOMEM;
	uint64_t sum = checksum_xxh3(out->data + start, out->len - start, 0);
	codec_buf_put_u64(out, sum);
	block_builder_reset(b);
	return buf_ok(out) ? SL_OK : SL_NOMEM;
}

void block_builder_free(block_builder_t *b)
{
	buf_free(&b->entries);
	buf_free(&b->restarts);
	buf_free(&b->last_key);
}

/* ---------------------------------------------------------------- opening */

/* Checks the trailer, and the checksum when verify; sets *payload_len, *type and *raw_len. */
static int block_check_trailer(const uint8_t *stored, size_t n, bool verify,
			       size_t *payload_len, uint8_t *type, uint32_t *raw_len, sl_err_t *err)
{
	if (n < BLOCK_TRAILER_BYTES)
		return sl_errf(err, SL_CORRUPT, "block of %zu bytes is shorter than its trailer", n);
	size_t plen = n - BLOCK_TRAILER_BYTES;
	uint64_t stored_sum = codec_get_u64(stored + plen + 5);
	if (verify && checksum_xxh3(stored, plen + 5, 0) != stored_sum)
		return sl_errf(err, SL_CORRUPT, "block checksum mismatch (%zu-byte block)", n);
	*type = stored[plen];
	*raw_len = codec_get_u32(stored + plen + 1);
	*payload_len = plen;
	if (*type != BLOCK_TYPE_RAW && *type != BLOCK_TYPE_LZ4)
		return sl_errf(err, SL_CORRUPT, "block compression type %u unknown", *type);
	if (*type == BLOCK_TYPE_RAW && *raw_len != plen)
		return sl_errf(err, SL_CORRUPT, "raw block says %u bytes, holds %zu", *raw_len, plen);
	/* lz4 expands at most ~255x; a larger claim is damage, not data. */
	if (*type == BLOCK_TYPE_LZ4 && *raw_len > 255 * (uint64_t)plen + 16)
		return sl_errf(err, SL_CORRUPT, "lz4 block of %zu bytes claims %u raw bytes", plen,
			       *raw_len);
	return SL_OK;
}

static int block_parse_restarts(block_t *blk, size_t raw_len, sl_err_t *err)
{
	if (raw_len < 4)
		return sl_errf(err, SL_CORRUPT, "block contents of %zu bytes lack a restart count",
			       raw_len);
	uint32_t r = codec_get_u32(blk->data + raw_len - 4);
	if (r == 0 || r > (raw_len - 4) / 4)
		return sl_errf(err, SL_CORRUPT, "block restart count %u does not fit %zu bytes", r,
			       raw_len);
	blk->nrestarts = r;
	blk->entries_end = (uint32_t)(raw_len - 4 - 4 * (size_t)r);
	blk->restarts = blk->data + blk->entries_end;
	uint32_t prev = 0;
	for (uint32_t i = 0; i < r; i++) {
		uint32_t off = codec_get_u32(blk->restarts + 4 * i);
		bool in_order = i == 0 ? off == 0 : off > prev;
		if (!in_order || (off >= blk->entries_end && blk->entries_end > 0))
			return sl_errf(err, SL_CORRUPT, "block restart %u has bad offset %u", i, off);
		prev = off;
	}
	return SL_OK;
}

static int block_open_as(block_t *blk, const uint8_t *stored, size_t n, bool verify,
			 sl_err_t *err)
{
	memset(blk, 0, sizeof *blk);
	size_t plen = 0;
	uint32_t raw_len = 0;
	int rc = block_check_trailer(stored, n, verify, &plen, &blk->type, &raw_len, err);
	if (rc != SL_OK)
		return rc;
	if (blk->type == BLOCK_TYPE_RAW) {
		blk->data = stored;
	} else {
		/* Room without zeroing: lz4 writes every byte (buf_extend would memset them). */
		if (!buf_reserve(&blk->owned, raw_len))
			return sl_errf(err, SL_NOMEM, "block: out of memory for %u bytes", raw_len);
		blk->owned.len = raw_len;
		int got = LZ4_decompress_safe((const char *)stored, (char *)blk->owned.data,
					      (int)plen, (int)raw_len);
		if (got < 0 || (uint32_t)got != raw_len) {
			block_close(blk);
			return sl_errf(err, SL_CORRUPT, "lz4 block does not decompress to %u bytes",
				       raw_len);
		}
		blk->data = blk->owned.data;
	}
	rc = block_parse_restarts(blk, raw_len, err);
	if (rc != SL_OK)
		block_close(blk);
	return rc;
}

int block_open(block_t *blk, const uint8_t *stored, size_t n, sl_err_t *err)
{
	return block_open_as(blk, stored, n, true, err);
}

int block_open_checked(block_t *blk, const uint8_t *stored, size_t n, sl_err_t *err)
{
	return block_open_as(blk, stored, n, false, err);
}

int block_keep(block_t *blk)
{
	if (blk->type != BLOCK_TYPE_RAW || blk->data == blk->owned.data)
		return SL_OK;
	size_t n = block_raw_size(blk);
	if (!buf_reserve(&blk->owned, n))
		return SL_NOMEM;
	memcpy(blk->owned.data, blk->data, n);
	blk->owned.len = n;
	blk->data = blk->owned.data;
	blk->restarts = blk->data + blk->entries_end;
	return SL_OK;
}

void block_close(block_t *blk)
{
	buf_free(&blk->owned);
	blk->data = NULL;
}

/* ---------------------------------------------------------------- iterator */

void block_iter_init(block_iter_t *it, const block_t *blk, sl_cmp_fn cmp)
{
	memset(it, 0, sizeof *it);
	it->blk = blk;
	it->cmp = cmp;
}

void block_iter_free(block_iter_t *it)
{
	buf_free(&it->key);
}

static void block_iter_corrupt(block_iter_t *it, const char *why)
{
	it->valid = false;
	it->status = SL_CORRUPT;
	it->why = why;
}

/* Decodes the entry at off (key built on the current key). false at the end or on damage. */
/* An entry's three lengths (shared, unshared, value) from p; the bytes they
 * took, 0 when they do not decode before end. */
static size_t block_entry_head(const uint8_t *p, const uint8_t *end, uint64_t len[3])
{
	if (end - p >= 3 && (p[0] | p[1] | p[2]) < 0x80) {
		/* The usual entry: all three lengths under 128, one byte each. */
		len[0] = p[0];
		len[1] = p[1];
		len[2] = p[2];
		return 3;
	}
	size_t n1 = codec_get_varint(p, end, &len[0]);
	size_t n2 = n1 ? codec_get_varint(p + n1, end, &len[1]) : 0;
	size_t n3 = n2 ? codec_get_varint(p + n1 + n2, end, &len[2]) : 0;
	return n3 ? n1 + n2 + n3 : 0;
}

static bool block_iter_decode(block_iter_t *it, uint32_t off)
{
	const block_t *blk = it->blk;
	if (off >= blk->entries_end) {
		it->valid = false;
		return false;
	}
	const uint8_t *p = blk->data + off, *end = blk->data + blk->entries_end;
	uint64_t len[3];
	size_t head = block_entry_head(p, end, len);
	if (head == 0) {
		block_iter_corrupt(it, "entry header does not decode");
		return false;
	}
	p += head;
	uint64_t shared = len[0], unshared = len[1], vlen = len[2];
	if (shared > it->key.len || unshared > (uint64_t)(end - p) ||
	    vlen > (uint64_t)(end - p) - unshared) {
		block_iter_corrupt(it, "entry lengths run past the block");
		return false;
	}
	it->key.len = (size_t)shared;
	buf_append(&it->key, p, (size_t)unshared);
	it->value = sl_slice(p + unshared, (size_t)vlen);
	it->off = off;
	it->next_off = (uint32_t)(p + unshared + vlen - blk->data);
	/* Scans walk a block entry after entry, and each entry's first byte was a
	 * cache miss (perf: most of a scan's decode time on that one load). Asking
	 * for the line two ahead now hides it; measured, LSM scans ran ~15 % faster
	 * (docs/lsm.md). Only inside the block: a pointer past it is not ours to form. */
	if (it->next_off + 128 < blk->entries_end)
		__builtin_prefetch(blk->data + it->next_off + 128);
	it->valid = true;
	return true;
}

static uint32_t block_restart_off(const block_t *blk, uint32_t i)
{
	return codec_get_u32(blk->restarts + 4 * i);
}

/* Decodes the full key at restart i (shared must be 0 there). */
static bool block_iter_at_restart(block_iter_t *it, uint32_t i)
{
	buf_clear(&it->key);
	if (!block_iter_decode(it, block_restart_off(it->blk, i)))
		return false;
	return true;
}

void block_iter_first(block_iter_t *it)
{
	it->status = SL_OK;
	block_iter_at_restart(it, 0);
}

void block_iter_next(block_iter_t *it)
{
	assert(it->valid);
	block_iter_decode(it, it->next_off);
}

/*
 * The key of restart entry i, read in place (a restart stores its key whole, so
 * no copy is needed to compare it). false when the entry does not decode.
 */
static bool block_restart_key(const block_t *blk, uint32_t i, sl_slice_t *key)
{
	uint32_t off = block_restart_off(blk, i);
	if (off >= blk->entries_end)
		return false;
	const uint8_t *p = blk->data + off, *end = blk->data + blk->entries_end;
	uint64_t len[3];
	size_t head = block_entry_head(p, end, len);
	p += head;
	if (head == 0 || len[0] != 0 || len[1] > (uint64_t)(end - p))
		return false;
	*key = sl_slice(p, (size_t)len[1]);
	return true;
}

void block_iter_seek(block_iter_t *it, sl_slice_t target)
{
	it->status = SL_OK;
	/* Binary search for the last restart whose key is < target, comparing in place. */
	uint32_t lo = 0, hi = it->blk->nrestarts - 1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;
		sl_slice_t key;
		if (!block_restart_key(it->blk, mid, &key)) {
			block_iter_corrupt(it, "restart entry does not decode");
			return;
		}
		if (block_cmp(it->cmp, key, target) < 0)
			lo = mid;
		else
			hi = mid - 1;
	}
	/* Then walk forward to the first key >= target. */
	if (!block_iter_at_restart(it, lo))
		return;
	while (it->valid && block_cmp(it->cmp, block_iter_key(it), target) < 0)
		block_iter_next(it);
}
