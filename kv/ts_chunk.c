/* ts_chunk.c — Gorilla chunks (format in ts_chunk.h). */
#include "kv/ts_chunk.h"

#include <stdlib.h>
#include <string.h>

#include "engine/checksum.h"

#define TS_NO_WINDOW 65 /* lead before the first nonzero XOR */

static uint64_t ts_bits_of(double v)
{
	uint64_t b;
	memcpy(&b, &v, 8);
	return b;
}

static double ts_double_of(uint64_t b)
{
	double v;
	memcpy(&v, &b, 8);
	return v;
}

/* The chunk's checksum: XXH3 of the payload, seeded with XXH3 of the header's first 24 bytes. */
static uint32_t ts_chunk_check(const uint8_t *header, const uint8_t *payload, size_t n)
{
	return (uint32_t)checksum_xxh3(payload, n, checksum_xxh3(header, 24, 0));
}

bool ts_points_reserve(ts_point_t **pts, size_t *cap, size_t need)
{
	if (need <= *cap)
		return true;
	size_t ncap = *cap ? *cap : 1024;
	while (ncap < need)
		ncap *= 2;
	ts_point_t *p = realloc(*pts, ncap * sizeof *p);
	if (p == NULL)
		return false;
	*pts = p;
	*cap = ncap;
	return true;
}

/* ---------------------------------------------------------------- writing */

void ts_chunk_writer_init(ts_chunk_writer_t *w, buf_t *out)
{
	memset(w, 0, sizeof *w);
	w->out = out;
	w->start = out->len;
	w->lead = TS_NO_WINDOW;
	bitwriter_init(&w->bw, &w->bits);
}

/* The delta of delta, zigzag-coded, with its prefix (see the table in ts_chunk.h). */
static void ts_put_dod(bitwriter_t *bw, uint64_t dod)
{
	uint64_t z = codec_zigzag((int64_t)dod);
	if (z == 0) {
		bitwriter_put(bw, 0, 1);
	} else if (z < (1u << 7)) {
		bitwriter_put(bw, 0x1, 2); /* '10': a 1, then a 0 */
		bitwriter_put(bw, z, 7);
	} else if (z < (1u << 9)) {
		bitwriter_put(bw, 0x3, 3); /* '110' */
		bitwriter_put(bw, z, 9);
	} else if (z < (1u << 12)) {
		bitwriter_put(bw, 0x7, 4); /* '1110' */
		bitwriter_put(bw, z, 12);
	} else {
		bitwriter_put(bw, 0xF, 4); /* '1111' */
		bitwriter_put(bw, z, 64);
	}
}

/* The value as its XOR with the one before, in the last window when it fits. */
static void ts_put_xor(ts_chunk_writer_t *w, uint64_t x)
{
	if (x == 0) {
		bitwriter_put(&w->bw, 0, 1);
		return;
	}
	unsigned lead = (unsigned)__builtin_clzll(x), trail = (unsigned)__builtin_ctzll(x);
	if (lead > 31)
		lead = 31; /* 5 bits: a longer run of zeros is kept as window bits */
	if (w->lead != TS_NO_WINDOW && lead >= w->lead && trail >= w->trail) {
		bitwriter_put(&w->bw, 0x1, 2); /* '10': the last window */
		bitwriter_put(&w->bw, x >> w->trail, 64 - w->lead - w->trail);
		return;
	}
	unsigned len = 64 - lead - trail;
	bitwriter_put(&w->bw, 0x3, 2); /* '11': a new window */
	bitwriter_put(&w->bw, lead, 5);
	bitwriter_put(&w->bw, len == 64 ? 0 : len, 6);
	bitwriter_put(&w->bw, x >> trail, len);
	w->lead = lead;
	w->trail = trail;
}

int ts_chunk_writer_add(ts_chunk_writer_t *w, int64_t ts, double value, sl_err_t *err)
{
	if (w->points == TS_CHUNK_MAX_POINTS)
		return sl_errf(err, SL_FULL, "ts chunk: full at %u points", TS_CHUNK_MAX_POINTS);
	uint64_t bits = ts_bits_of(value);
	if (w->points == 0) {
		w->first_ts = ts;
		bitwriter_put(&w->bw, bits, 64);
	} else {
		uint64_t delta = (uint64_t)ts - (uint64_t)w->prev_ts;
		ts_put_dod(&w->bw, delta - w->prev_delta);
		ts_put_xor(w, bits ^ w->prev_bits);
		w->prev_delta = delta;
	}
	w->prev_ts = ts;
	w->prev_bits = bits;
	w->points++;
	return SL_OK;
}

/* The chunk's header, for the n payload bytes at payload. */
static void ts_chunk_put_header(const ts_chunk_writer_t *w, uint8_t *h, const uint8_t *payload,
				size_t n)
{
	memset(h, 0, TS_CHUNK_HEADER);
	codec_put_u16(h, (uint16_t)w->points);
	codec_put_u32(h + 4, (uint32_t)n);
	codec_put_u64(h + 8, (uint64_t)w->first_ts);
	codec_put_u64(h + 16, (uint64_t)w->prev_ts);
	codec_put_u32(h + 24, ts_chunk_check(h, payload, n));
}

int ts_chunk_writer_peek(const ts_chunk_writer_t *w, buf_t *out, sl_err_t *err)
{
	if (w->points == 0)
		return sl_errf(err, SL_INVALID, "ts chunk: no points");
	size_t at = out->len, n = w->bits.len + (w->bw.nacc > 0);
	uint8_t pending = (uint8_t)(w->bw.acc & 0xff);
	if (!buf_reserve(out, TS_CHUNK_HEADER + n))
		return sl_errf(err, SL_NOMEM, "ts chunk: out of memory");
	out->len += TS_CHUNK_HEADER;
	buf_append(out, w->bits.data, w->bits.len);
	if (w->bw.nacc > 0)
		buf_append(out, &pending, 1);
	if (!buf_ok(out))
		return sl_errf(err, SL_NOMEM, "ts chunk: out of memory");
	ts_chunk_put_header(w, out->data + at, out->data + at + TS_CHUNK_HEADER, n);
	return SL_OK;
}

int ts_chunk_writer_finish(ts_chunk_writer_t *w, sl_err_t *err)
{
	int rc = SL_OK;
	if (w->points == 0) {
		rc = sl_errf(err, SL_INVALID, "ts chunk: no points");
	} else {
		bitwriter_flush(&w->bw);
		uint8_t h[TS_CHUNK_HEADER];
		ts_chunk_put_header(w, h, w->bits.data, w->bits.len);
		buf_append(w->out, h, sizeof h);
		buf_append(w->out, w->bits.data, w->bits.len);
		if (!buf_ok(w->out) || !buf_ok(&w->bits))
			rc = sl_errf(err, SL_NOMEM, "ts chunk: out of memory");
	}
	buf_free(&w->bits);
	return rc;
}

/* ---------------------------------------------------------------- reading */

static int ts_chunk_bad(const char *what, sl_err_t *err)
{
	return sl_errf(err, SL_CORRUPT, "ts chunk: %s", what);
}

int ts_chunk_info(sl_slice_t chunk, ts_chunk_info_t *info, sl_err_t *err)
{
	if (chunk.len < TS_CHUNK_HEADER)
		return ts_chunk_bad("shorter than its header", err);
	const uint8_t *h = chunk.data;
	uint32_t payload = codec_get_u32(h + 4);
	if (codec_get_u16(h + 2) != 0 || codec_get_u16(h) == 0 ||
	    payload > chunk.len - TS_CHUNK_HEADER)
		return ts_chunk_bad("header fields out of range", err);
	if (codec_get_u32(h + 24) != ts_chunk_check(h, h + TS_CHUNK_HEADER, payload))
		return ts_chunk_bad("checksum mismatch", err);
	info->points = codec_get_u16(h);
	info->first_ts = (int64_t)codec_get_u64(h + 8);
	info->last_ts = (int64_t)codec_get_u64(h + 16);
	info->bytes = TS_CHUNK_HEADER + (size_t)payload;
	return SL_OK;
}

int ts_chunk_iter_init(ts_chunk_iter_t *it, sl_slice_t chunk, sl_err_t *err)
{
	memset(it, 0, sizeof *it);
	it->lead = TS_NO_WINDOW;
	int rc = ts_chunk_info(chunk, &it->info, err);
	if (rc != SL_OK) {
		it->status = rc;
		return rc;
	}
	bitreader_init(&it->br, chunk.data + TS_CHUNK_HEADER, it->info.bytes - TS_CHUNK_HEADER);
	return SL_OK;
}

/* Reads a prefix of up to max one-bits ended by a zero: how many ones. -1 when the bits ran out. */
static int ts_prefix(bitreader_t *br, int max)
{
	if (br->nacc < (unsigned)max)
		bitreader_refill(br);
	if (br->nacc >= (unsigned)max) {
		/* The fast way: count the run of ones at the bottom of the loaded bits. */
		int run = __builtin_ctzll(~br->acc), take = run < max ? run + 1 : max;
		br->acc = take == 64 ? 0 : br->acc >> take;
		br->nacc -= (unsigned)take;
		return run < max ? run : max;
	}
	int ones = 0;
	uint64_t b;
	while (ones < max) {
		if (!bitreader_get(br, 1, &b))
			return -1;
		if (b == 0)
			return ones;
		ones++;
	}
	return ones;
}

static bool ts_fail(ts_chunk_iter_t *it, const char *what, sl_err_t *err)
{
	it->status = ts_chunk_bad(what, err);
	return false;
}

static bool ts_read_dod(ts_chunk_iter_t *it, uint64_t *dod)
{
	static const unsigned widths[5] = { 0, 7, 9, 12, 64 };
	int ones = ts_prefix(&it->br, 4);
	uint64_t z = 0;
	if (ones < 0 || !bitreader_get(&it->br, widths[ones], &z))
		return false;
	*dod = (uint64_t)codec_unzigzag(z);
	return true;
}

static bool ts_read_xor(ts_chunk_iter_t *it, uint64_t *x, sl_err_t *err)
{
	int ones = ts_prefix(&it->br, 2);
	if (ones < 0)
		return ts_fail(it, "payload ends inside a point", err);
	if (ones == 0) {
		*x = 0;
		return true;
	}
	uint64_t lead = it->lead, len = 0, v;
	if (ones == 2) {
		if (!bitreader_get(&it->br, 5, &lead) || !bitreader_get(&it->br, 6, &len))
			return ts_fail(it, "payload ends inside a point", err);
		if (len == 0)
			len = 64;
		if (lead + len > 64)
			return ts_fail(it, "an XOR window past 64 bits", err);
		it->lead = (unsigned)lead;
		it->trail = (unsigned)(64 - lead - len);
	} else if (it->lead == TS_NO_WINDOW) {
		return ts_fail(it, "a value reuses a window before any was set", err);
	}
	len = 64 - it->lead - it->trail;
	if (!bitreader_get(&it->br, (unsigned)len, &v))
		return ts_fail(it, "payload ends inside a point", err);
	*x = v << it->trail;
	return true;
}

/* After the last point: only zero padding, less than a byte, may remain. */
static bool ts_check_end(ts_chunk_iter_t *it, sl_err_t *err)
{
	uint64_t rest;
	uint64_t left = bitreader_left(&it->br);
	if (left >= 8 || (left > 0 && (bitreader_get(&it->br, (unsigned)left, &rest), rest != 0)))
		return ts_fail(it, "bits after the last point", err);
	if (it->ts != it->info.last_ts)
		return ts_fail(it, "the last point disagrees with the header", err);
	return false;
}

bool ts_chunk_iter_next(ts_chunk_iter_t *it, sl_err_t *err)
{
	if (it->status != SL_OK)
		return false;
	if (it->done == it->info.points)
		return ts_check_end(it, err);
	if (it->done == 0) {
		if (!bitreader_get(&it->br, 64, &it->bits))
			return ts_fail(it, "payload ends inside the first value", err);
		it->ts = it->info.first_ts;
	} else {
		uint64_t dod, x;
		if (!ts_read_dod(it, &dod))
			return ts_fail(it, "payload ends inside a timestamp", err);
		it->delta += dod;
		it->ts = (int64_t)((uint64_t)it->ts + it->delta);
		if (!ts_read_xor(it, &x, err))
			return false;
		it->bits ^= x;
	}
	it->value = ts_double_of(it->bits);
	it->done++;
	return true;
}

int ts_chunk_iter_range(ts_chunk_iter_t *it, int64_t from, int64_t to, ts_point_t **pts,
			size_t *n, size_t *cap, sl_err_t *err)
{
	if (!ts_points_reserve(pts, cap, *n + it->info.points))
		return sl_errf(err, SL_NOMEM, "ts chunk: out of memory");
	while (ts_chunk_iter_next(it, err))
		if (it->ts >= from && it->ts < to)
			(*pts)[(*n)++] = (ts_point_t){ it->ts, it->value };
	return it->status;
}
