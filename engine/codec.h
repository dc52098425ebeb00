/*
 * codec.h — the byte-level encodings every on-disk format is built from.
 *
 *   fixed   little-endian unsigned integers of 16, 32 and 64 bits, written byte
 *           by byte so the result does not depend on the CPU (gcc and clang fuse
 *           the byte stores into one store on little-endian machines);
 *   varint  LEB128: 7 bits per byte, low group first, high bit set on every byte
 *           but the last. 300 = 0b1_0010_1100 encodes as AC 02.
 *           A u32 takes at most 5 bytes, a u64 at most 10.
 *   zigzag  maps signed to unsigned so small magnitudes stay small:
 *           0->0, -1->1, 1->2, -2->3, ... (then varint-encode the result);
 *   bits    a bit writer and reader for packed streams (postings, time-series
 *           deltas). Bits fill each byte from its least significant bit up, and a
 *           value's low bit goes first; the last byte is zero-padded;
 *   keys    order-preserving encodings (codec_key_*): bytes that sort, compared
 *           with memcmp, exactly as the values do, so a B+tree over them is an
 *           index over the values (the table layer's keys are built from them).
 *
 * Decoders never read past the end they are given: a varint or bit read that
 * would run off the end fails, and the caller reports SL_CORRUPT.
 */
#ifndef SL_CODEC_H
#define SL_CODEC_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/buf.h"

#define CODEC_VARINT32_MAX 5  /* bytes */
#define CODEC_VARINT64_MAX 10 /* bytes */

/* ---- fixed width, little-endian ---- */

static inline void codec_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void codec_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void codec_put_u64(uint8_t *p, uint64_t v)
{
	codec_put_u32(p, (uint32_t)v);
	codec_put_u32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t codec_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t codec_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static inline uint64_t codec_get_u64(const uint8_t *p)
{
	return (uint64_t)codec_get_u32(p) | ((uint64_t)codec_get_u32(p + 4) << 32);
}

/* ---- varints ---- */

/* Writes v as a varint at p (room for CODEC_VARINT64_MAX bytes); returns its length. */
size_t codec_put_varint(uint8_t *p, uint64_t v);

/* Number of bytes codec_put_varint would write for v. */
size_t codec_varint_len(uint64_t v);

/*
 * Reads a varint from [p, end). Returns the number of bytes used, or 0 when the
 * bytes run out or the varint is longer than 10 bytes / overflows 64 bits.
 * One- and two-byte varints (below 16384: nearly every key and value length)
 * are decoded inline; longer ones go to the out-of-line slow path. The two-byte
 * case is what a 100-byte value's length word needs, and inlining it took a
 * function call out of every B+tree cell decode.
 */
size_t codec_get_varint_slow(const uint8_t *p, const uint8_t *end, uint64_t *v);

static inline size_t codec_get_varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	if (p < end && *p < 0x80) {
		*v = *p;
		return 1;
	}
	if (end - p >= 2 && p[1] < 0x80) {
		*v = (uint64_t)(p[0] & 0x7f) | ((uint64_t)p[1] << 7);
		return 2;
	}
	return codec_get_varint_slow(p, end, v);
}

/* Same, for a value that must fit in 32 bits (0 otherwise). */
size_t codec_get_varint32(const uint8_t *p, const uint8_t *end, uint32_t *v);

/* Appends to a growable buffer. */
void codec_buf_put_varint(buf_t *b, uint64_t v);
void codec_buf_put_u32(buf_t *b, uint32_t v);
void codec_buf_put_u64(buf_t *b, uint64_t v);

/* ---- order-preserving keys ----
 *
 * Each encoding sorts bytewise (memcmp, a prefix first) as its values do:
 *
 *   u64    8 bytes, big-endian (most significant first), so 1 < 256 as bytes too.
 *   i64    the same after flipping the sign bit: -2^63 -> 00 00.., -1 -> 7F FF..,
 *          0 -> 80 00.., 1 -> 80 .. 01.
 *   f64    the IEEE-754 bits, big-endian: a positive number's sign bit is flipped
 *          (it then sorts above every negative), a negative number's every bit is
 *          flipped (a larger magnitude must sort lower). -0.0 is written as +0.0
 *          (equal values, equal bytes) and every NaN as one quiet NaN, which sorts
 *          after +infinity: -inf < -1 < -0.0 = 0.0 < 1 < +inf < NaN.
 *   bytes  each 00 byte written as 00 FF, then the terminator 00 01. The result is
 *          self-delimiting and still ordered: "" = 00 01 < "\0" = 00 FF 00 01 <
 *          "a" = 61 00 01 < "a\0" = 61 00 FF 00 01 < "ab" = 61 62 00 01.
 *
 * A tuple is its parts' encodings one after another: every part ends where its
 * decoder says, so tuples compare part by part, the first difference deciding.
 * The decoders return the bytes consumed, or 0 when the input is not a valid
 * encoding (too short, a bad escape).
 */
void codec_key_put_u64(buf_t *b, uint64_t v);
void codec_key_put_i64(buf_t *b, int64_t v);
void codec_key_put_f64(buf_t *b, double v);
void codec_key_put_bytes(buf_t *b, const uint8_t *p, size_t n);
size_t codec_key_get_u64(const uint8_t *p, const uint8_t *end, uint64_t *v);
size_t codec_key_get_i64(const uint8_t *p, const uint8_t *end, int64_t *v);
size_t codec_key_get_f64(const uint8_t *p, const uint8_t *end, double *v);
/* Appends the decoded bytes to out (which may be NULL: only measure). */
size_t codec_key_get_bytes(const uint8_t *p, const uint8_t *end, buf_t *out);

/* ---- zigzag ---- */

static inline uint64_t codec_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t codec_unzigzag(uint64_t u)
{
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* ---- bit streams ---- */

typedef struct bitwriter {
	buf_t *out;    /* whole bytes go here */
	uint64_t acc;  /* pending bits, the oldest in bit 0 */
	unsigned nacc; /* number of pending bits, < 8 between calls */
} bitwriter_t;

static inline void bitwriter_init(bitwriter_t *w, buf_t *out)
{
	w->out = out;
	w->acc = 0;
	w->nacc = 0;
}

/* Appends the low nbits (0..64) of v. */
void bitwriter_put(bitwriter_t *w, uint64_t v, unsigned nbits);

/* Pads the last partial byte with zero bits and writes it out. */
void bitwriter_flush(bitwriter_t *w);

/* Bits written so far, padding excluded. */
static inline uint64_t bitwriter_bits(const bitwriter_t *w)
{
	return (uint64_t)w->out->len * 8 + w->nacc;
}

typedef struct bitreader {
	const uint8_t *p;   /* next byte to load */
	const uint8_t *end; /* one past the last byte */
	uint64_t acc;       /* loaded bits not yet returned, the next in bit 0 */
	unsigned nacc;      /* number of valid bits in acc (0..64) */
} bitreader_t;

static inline void bitreader_init(bitreader_t *r, const uint8_t *p, size_t n)
{
	r->p = p;
	r->end = p + n;
	r->acc = 0;
	r->nacc = 0;
}

/*
 * Loads whole bytes into the accumulator, as many as fit (8 at a time while 8
 * remain): afterwards nacc > 56 unless the stream is nearly read. false when
 * no byte was left to load.
 */
bool bitreader_refill(bitreader_t *r);

/* The slow path of bitreader_get: refills the accumulator (see codec.c). */
bool bitreader_get_slow(bitreader_t *r, unsigned nbits, uint64_t *v);

/*
 * Reads nbits (0..64) into *v; false when the stream has fewer bits left.
 * The common case — the bits are already loaded — is inline: a mask and a
 * shift. Decoders call this once or twice per value, so a call per bit read
 * would cost more than the decoding (a Gorilla chunk decodes ~3x faster so).
 */
static inline bool bitreader_get(bitreader_t *r, unsigned nbits, uint64_t *v)
{
	if (nbits >= r->nacc && r->nacc <= 56 && r->end - r->p >= 8) {
		/* Refill: one 8-byte load, keeping the whole bytes that fit above the bits held. */
		uint64_t w;
		unsigned room = (64 - r->nacc) / 8;
		memcpy(&w, r->p, 8);
		w = le64toh(w);
		r->acc |= (room == 8 ? w : w & ((1ull << (8 * room)) - 1)) << r->nacc;
		r->p += room;
		r->nacc += 8 * room;
	}
	if (nbits < r->nacc) {
		*v = r->acc & ((1ull << nbits) - 1);
		r->acc >>= nbits;
		r->nacc -= nbits;
		return true;
	}
	return bitreader_get_slow(r, nbits, v);
}

/* Bits not read yet (loaded or not). */
static inline uint64_t bitreader_left(const bitreader_t *r)
{
	return (uint64_t)(r->end - r->p) * 8 + r->nacc;
}

#endif
