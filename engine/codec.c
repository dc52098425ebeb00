/* codec.c — the out-of-line varint and bit-stream code of codec.h. */
#include "engine/codec.h"

#include <endian.h>
#include <string.h>

size_t codec_put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

size_t codec_varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

size_t codec_get_varint_slow(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	uint64_t result = 0;
	for (size_t i = 0; i < CODEC_VARINT64_MAX && p + i < end; i++) {
		uint64_t group = p[i] & 0x7f;
		unsigned shift = (unsigned)(7 * i);
		/* The tenth byte may only carry the top bit of a u64. */
		if (i == CODEC_VARINT64_MAX - 1 && group > 1)
			return 0;
		result |= group << shift;
		if ((p[i] & 0x80) == 0) {
			*v = result;
			return i + 1;
		}
	}
	return 0;
}

size_t codec_get_varint32(const uint8_t *p, const uint8_t *end, uint32_t *v)
{
	uint64_t wide;
	size_t n = codec_get_varint(p, end, &wide);
	if (n == 0 || wide > UINT32_MAX)
		return 0;
	*v = (uint32_t)wide;
	return n;
}

void codec_buf_put_varint(buf_t *b, uint64_t v)
{
	uint8_t tmp[CODEC_VARINT64_MAX];
	buf_append(b, tmp, codec_put_varint(tmp, v));
}

void codec_buf_put_u32(buf_t *b, uint32_t v)
{
	uint8_t tmp[4];
	codec_put_u32(tmp, v);
	buf_append(b, tmp, sizeof tmp);
}

void codec_buf_put_u64(buf_t *b, uint64_t v)
{
	uint8_t tmp[8];
	codec_put_u64(tmp, v);
	buf_append(b, tmp, sizeof tmp);
}

static inline uint64_t low_bits(uint64_t v, unsigned nbits)
{
	return nbits >= 64 ? v : v & ((UINT64_C(1) << nbits) - 1);
}

void bitwriter_put(bitwriter_t *w, uint64_t v, unsigned nbits)
{
	v = low_bits(v, nbits);
	while (nbits > 0) {
		/* Take as many bits as fit in the accumulator's current byte. */
		unsigned room = 8 - w->nacc;
		unsigned take = nbits < room ? nbits : room;
		w->acc |= low_bits(v, take) << w->nacc;
		w->nacc += take;
		v = take >= 64 ? 0 : v >> take;
		nbits -= take;
		if (w->nacc == 8) {
			uint8_t byte = (uint8_t)w->acc;
			buf_append(w->out, &byte, 1);
			w->acc = 0;
			w->nacc = 0;
		}
	}
}

void bitwriter_flush(bitwriter_t *w)
{
	if (w->nacc > 0) {
		uint8_t byte = (uint8_t)w->acc;
		buf_append(w->out, &byte, 1);
		w->acc = 0;
		w->nacc = 0;
	}
}

bool bitreader_refill(bitreader_t *r)
{
	if (r->p >= r->end)
		return false;
	unsigned room = (64 - r->nacc) / 8; /* whole bytes that fit */
	if (r->end - r->p >= 8) {
		uint64_t w;
		memcpy(&w, r->p, 8);
		w = le64toh(w);
		if (room < 8)
			w &= (1ull << (8 * room)) - 1;
		r->acc |= r->nacc == 64 ? 0 : w << r->nacc;
		r->p += room;
		r->nacc += 8 * room;
		return true;
	}
	for (; room > 0 && r->p < r->end; room--) {
		r->acc |= (uint64_t)*r->p++ << r->nacc;
		r->nacc += 8;
	}
	return true;
}

bool bitreader_get_slow(bitreader_t *r, unsigned nbits, uint64_t *v)
{
	if (bitreader_left(r) < nbits)
		return false;
	uint64_t result = 0;
	unsigned have = 0;
	while (have < nbits) {
		if (r->nacc == 0)
			bitreader_refill(r);
		unsigned take = nbits - have < r->nacc ? nbits - have : r->nacc;
		result |= low_bits(r->acc, take) << have;
		r->acc = take == 64 ? 0 : r->acc >> take;
		r->nacc -= take;
		have += take;
		if (have < nbits && r->nacc < 57)
			bitreader_refill(r);
	}
	*v = result;
	return true;
}

/* ---------------------------------------------------------------- order-preserving keys */

void codec_key_put_u64(buf_t *b, uint64_t v)
{
	uint8_t be[8];
	for (int i = 7; i >= 0; i--, v >>= 8)
		be[i] = (uint8_t)v;
	buf_append(b, be, sizeof be);
}

void codec_key_put_i64(buf_t *b, int64_t v)
{
	codec_key_put_u64(b, (uint64_t)v ^ (UINT64_C(1) << 63));
}

void codec_key_put_f64(buf_t *b, double v)
{
	if (v == 0)
		v = 0.0; /* -0.0 compares equal to 0.0, so it encodes equal */
	uint64_t bits;
	if (v != v)
		bits = UINT64_C(0x7ff8000000000000); /* one NaN for all */
	else
		memcpy(&bits, &v, sizeof bits);
	bits = bits >> 63 ? ~bits : bits ^ (UINT64_C(1) << 63);
	codec_key_put_u64(b, bits);
}

void codec_key_put_bytes(buf_t *b, const uint8_t *p, size_t n)
{
	static const uint8_t escaped_zero[2] = { 0x00, 0xff }, terminator[2] = { 0x00, 0x01 };
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != 0)
			continue;
		buf_append(b, p + run, i - run); /* the bytes before this zero, as they are */
		buf_append(b, escaped_zero, 2);
		run = i + 1;
	}
	buf_append(b, p + run, n - run);
	buf_append(b, terminator, 2);
}

size_t codec_key_get_u64(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	if (end - p < 8)
		return 0;
	uint64_t x = 0;
	for (int i = 0; i < 8; i++)
		x = x << 8 | p[i];
	*v = x;
	return 8;
}

size_t codec_key_get_i64(const uint8_t *p, const uint8_t *end, int64_t *v)
{
	uint64_t u = 0;
	size_t n = codec_key_get_u64(p, end, &u);
	*v = (int64_t)(u ^ (UINT64_C(1) << 63));
	return n;
}

size_t codec_key_get_f64(const uint8_t *p, const uint8_t *end, double *v)
{
	uint64_t bits = 0;
	size_t n = codec_key_get_u64(p, end, &bits);
	bits = bits >> 63 ? bits ^ (UINT64_C(1) << 63) : ~bits;
	memcpy(v, &bits, sizeof bits);
	return n;
}

size_t codec_key_get_bytes(const uint8_t *p, const uint8_t *end, buf_t *out)
{
	const uint8_t *start = p;
	while (p < end) {
		const uint8_t *zero = memchr(p, 0, (size_t)(end - p));
		if (zero == NULL || end - zero < 2)
			return 0; /* no terminator */
		if (out != NULL)
			buf_append(out, p, (size_t)(zero - p));
		if (zero[1] == 0x01)
			return (size_t)(zero + 2 - start);
		if (zero[1] != 0xff)
			return 0; /* 00 followed by neither FF nor 01 */
		if (out != NULL)
			buf_append(out, zero, 1);
		p = zero + 2;
	}
	return 0;
}
