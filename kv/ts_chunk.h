/*
 * ts_chunk.h — Gorilla chunks: a run of one series' points, (int64 timestamp,
 * float64 value), in a bit stream that takes about two bytes a point or less.
 *
 * Time series compress because of how they are made. A scraper samples every
 * 100 ms, so consecutive timestamps differ by almost the same amount: store the
 * change of the difference (the delta of delta), which is mostly 0 or a few
 * milliseconds of jitter. A gauge changes slowly, so consecutive values share
 * their sign, exponent and the high bits of their mantissa: store their XOR,
 * which is mostly zeros, as only the bits between its leading and trailing
 * zeros. This is the encoding of Facebook's Gorilla (Pelkonen et al., VLDB
 * 2015), which Prometheus's chunks use too. Here the bits go low bit first
 * (engine/codec's bit streams), and the largest delta of delta is 64 bits so
 * that nanosecond timestamps and any jump fit.
 *
 * Chunk (integers little-endian):
 *
 *   +0  u16 points         1..65535
 *   +2  u16 zero
 *   +4  u32 payload bytes
 *   +8  i64 first timestamp
 *   +16 i64 last timestamp  (readers skip a chunk outside their range unread)
 *   +24 u32 low 32 bits of XXH3(payload, seed = XXH3(bytes 0..23, seed 0))
 *   +28 payload: a bit stream, zero-padded to a whole byte:
 *
 *   point 0:  the value's 64 bits (the timestamp is in the header)
 *   point 1:  the timestamp's delta from point 0, zigzag-coded, as a delta of
 *             delta below (against a previous delta of 0); then the value
 *   point i:  delta of delta D = (t[i] - t[i-1]) - (t[i-1] - t[i-2]), in 64-bit
 *             two's complement arithmetic, zigzag-coded as z:
 *               z == 0            '0'
 *               z < 2^7           '10'   + 7 bits
 *               z < 2^9           '110'  + 9 bits
 *               z < 2^12          '1110' + 12 bits
 *               otherwise         '1111' + 64 bits
 *             then the value: X = bits(v[i]) XOR bits(v[i-1]):
 *               X == 0            '0'
 *               X fits the window of the last nonzero X (its leading zeros
 *               and trailing zeros are at least that window's)
 *                                 '10' + the window's bits of X
 *               otherwise         '11' + 5 bits leading zeros (at most 31)
 *                                      + 6 bits window length (0 means 64)
 *                                      + the window's bits of X
 *   (The prefix codes are read bit by bit, in the order written: '10' is a
 *   1 then a 0.)
 *
 * Values round-trip bit for bit: NaN payloads, infinities and -0.0 included.
 * Timestamps may repeat or go backwards (the codec does not care; the store
 * keeps them in order and decides what a duplicate means).
 *
 * Invariants (ts_chunk_iter reports a break of any as SL_CORRUPT): the checksum
 * matches; points >= 1; the payload holds exactly `points` points and then
 * fewer than 8 zero bits; the decoded first and last timestamps equal the
 * header's; a window never has leading zeros + length > 64.
 */
#ifndef SL_TS_CHUNK_H
#define SL_TS_CHUNK_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/codec.h"
#include "engine/slice.h"
#include "engine/status.h"

#define TS_CHUNK_HEADER 28
#define TS_CHUNK_MAX_POINTS 65535

/* One point of a series. */
typedef struct ts_point {
	int64_t ts;
	double v;
} ts_point_t;

/* floor(t / step) * step for step > 0: the start of the interval (block, window) holding t. */
static inline int64_t ts_align_down(int64_t t, int64_t step)
{
	int64_t q = t / step;
	return (q - (t % step != 0 && t < 0)) * step;
}

/* Grows the array *pts (capacity *cap, realloc'd) to hold need points; false when out of memory. */
bool ts_points_reserve(ts_point_t **pts, size_t *cap, size_t need);

/* ---- writing ---- */

typedef struct ts_chunk_writer {
	buf_t *out;            /* the chunk is appended here */
	size_t start;          /* its header's offset in out */
	buf_t bits;            /* the payload being written */
	bitwriter_t bw;
	uint32_t points;
	int64_t first_ts, prev_ts;
	uint64_t prev_delta;   /* t[i-1] - t[i-2], two's complement */
	uint64_t prev_bits;    /* the previous value's bits */
	unsigned lead, trail;  /* the window of the last nonzero XOR; lead 65 = none yet */
} ts_chunk_writer_t;

/* Starts a chunk at the end of out (which the caller keeps alive). */
void ts_chunk_writer_init(ts_chunk_writer_t *w, buf_t *out);

/* Adds a point; SL_FULL when the chunk holds TS_CHUNK_MAX_POINTS already. */
int ts_chunk_writer_add(ts_chunk_writer_t *w, int64_t ts, double value, sl_err_t *err);

/* The bytes the chunk would take if finished now. */
static inline size_t ts_chunk_writer_bytes(const ts_chunk_writer_t *w)
{
	return TS_CHUNK_HEADER + (size_t)((bitwriter_bits(&w->bw) + 7) / 8);
}

/*
 * Writes header and payload to out; SL_INVALID for a chunk of no points (out
 * unchanged), SL_NOMEM when out could not grow. Frees the writer's scratch.
 */
int ts_chunk_writer_finish(ts_chunk_writer_t *w, sl_err_t *err);

/*
 * Appends to out the chunk as finish would write it now, leaving w as it was
 * (the head reads its open chunks this way). SL_INVALID for no points.
 */
int ts_chunk_writer_peek(const ts_chunk_writer_t *w, buf_t *out, sl_err_t *err);

/* ---- reading ---- */

typedef struct ts_chunk_info {
	uint32_t points;
	int64_t first_ts, last_ts;
	size_t bytes;          /* header and payload */
} ts_chunk_info_t;

/* Reads a chunk's header (checking its checksum) without decoding it. */
int ts_chunk_info(sl_slice_t chunk, ts_chunk_info_t *info, sl_err_t *err);

typedef struct ts_chunk_iter {
	bitreader_t br;
	ts_chunk_info_t info;
	uint32_t done;         /* points returned so far */
	int64_t ts;            /* the current point */
	double value;
	uint64_t delta, bits;
	unsigned lead, trail;
	int status;            /* SL_OK, or SL_CORRUPT once damage was met */
} ts_chunk_iter_t;

/* Checks the chunk (header, checksum) and prepares to decode it. */
int ts_chunk_iter_init(ts_chunk_iter_t *it, sl_slice_t chunk, sl_err_t *err);

/*
 * Decodes the next point into it->ts and it->value: true, or false at the end
 * (it->status then says whether the chunk ended cleanly or was damaged, and
 * err holds the message).
 */
bool ts_chunk_iter_next(ts_chunk_iter_t *it, sl_err_t *err);

/*
 * Decodes the rest of the chunk, appending its points with from <= ts < to to
 * *pts (grown as needed; *n and *cap in and out). SL_OK, SL_NOMEM, or
 * SL_CORRUPT when the chunk was damaged (the whole chunk is decoded either
 * way, so damage after the range is still seen).
 */
int ts_chunk_iter_range(ts_chunk_iter_t *it, int64_t from, int64_t to, ts_point_t **pts,
			size_t *n, size_t *cap, sl_err_t *err);

#endif
