/*
 * lsm_key.h — internal keys: how the LSM store tells versions of a key apart.
 *
 * An LSM store never updates in place: a put or a delete of key k adds a new
 * entry, and older entries for k stay in older files until compaction drops them.
 * Every entry therefore carries the sequence number of the write that made it and
 * its type, packed after the user key into an "internal key":
 *
 *   +---------------------------+------------------------------------------+
 *   | user key (any bytes)      | trailer: u64 little-endian               |
 *   |                           |   = sequence << 8 | type                  |
 *   +---------------------------+------------------------------------------+
 *   type: 0 = deletion (a tombstone, no value), 1 = value  (on disk — never renumber)
 *   sequence: 56 bits, 1 for the store's first write, +1 per operation
 *
 * Order: by user key bytewise, then by sequence *descending*, so that the newest
 * version of a key comes first and a seek to (k, s) lands on the newest version
 * written at or before s — which is exactly a read at snapshot s.
 *
 *   ("apple", seq 9, put) < ("apple", seq 4, del) < ("apply", seq 7, put)
 *
 * Memtables, SSTable blocks and the merging iterator all order by lsm_ikey_cmp.
 */
#ifndef SL_LSM_KEY_H
#define SL_LSM_KEY_H

#include <stdint.h>

#include "engine/buf.h"
#include "engine/codec.h"
#include "engine/slice.h"

#define LSM_TYPE_DEL 0 /* on disk — never renumber */
#define LSM_TYPE_PUT 1
#define LSM_TRAILER_BYTES 8
#define LSM_MAX_SEQ ((UINT64_C(1) << 56) - 1)

static inline uint64_t lsm_trailer(uint64_t seq, int type)
{
	return seq << 8 | (uint64_t)type;
}

/* The user key of an internal key. REQUIRES: ikey.len >= 8 (checked by readers). */
static inline sl_slice_t lsm_ikey_user(sl_slice_t ikey)
{
	return sl_slice(ikey.data, ikey.len - LSM_TRAILER_BYTES);
}

static inline uint64_t lsm_ikey_trailer(sl_slice_t ikey)
{
	return codec_get_u64(ikey.data + ikey.len - LSM_TRAILER_BYTES);
}

static inline uint64_t lsm_ikey_seq(sl_slice_t ikey) { return lsm_ikey_trailer(ikey) >> 8; }
static inline int lsm_ikey_type(sl_slice_t ikey) { return (int)(lsm_ikey_trailer(ikey) & 0xff); }

/* Replaces out's contents with the internal key (user, seq, type). */
static inline void lsm_ikey_set(buf_t *out, sl_slice_t user, uint64_t seq, int type)
{
	buf_clear(out);
	buf_append(out, user.data, user.len);
	codec_buf_put_u64(out, lsm_trailer(seq, type));
}

/*
 * The seek key of a read of `user` at sequence seq: (user, seq, the highest type),
 * which sorts before every version of user written at or before seq. Built in
 * small (small_size bytes) when it fits, so a get needs no allocation; else in
 * *big, which the caller frees.
 */
static inline sl_slice_t lsm_seek_key(sl_slice_t user, uint64_t seq, uint8_t *small,
				      size_t small_size, buf_t *big)
{
	if (user.len + LSM_TRAILER_BYTES > small_size) {
		lsm_ikey_set(big, user, seq, LSM_TYPE_PUT);
		return buf_slice(big);
	}
	if (user.len)
		memcpy(small, user.data, user.len);
	codec_put_u64(small + user.len, lsm_trailer(seq, LSM_TYPE_PUT));
	return sl_slice(small, user.len + LSM_TRAILER_BYTES);
}

/* Internal-key order: user key ascending, then trailer (sequence) descending. */
static inline int lsm_ikey_cmp(sl_slice_t a, sl_slice_t b)
{
	int c = sl_slice_cmp(lsm_ikey_user(a), lsm_ikey_user(b));
	if (c != 0)
		return c;
	uint64_t ta = lsm_ikey_trailer(a), tb = lsm_ikey_trailer(b);
	return (ta < tb) - (ta > tb);
}

#endif
