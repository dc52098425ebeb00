/*
 * block.h — sorted key/value blocks with prefix compression and restart points.
 *
 * A block holds entries in key order, a few KiB of them. Sorted neighbours share
 * long prefixes ("user:00017", "user:00018"), so each entry stores only how many
 * bytes it shares with the previous key and the bytes that differ. To seek without
 * decoding from the start, every k-th entry (a restart point, k = the restart
 * interval) stores its key in full, and the block ends with the offsets of those
 * entries: a binary search over the restarts, then a short linear scan, finds
 * any key. SSTables are made of these blocks; the inverted index and the time-
 * series store reuse them for their dictionaries.
 *
 * Contents (before compression):
 *
 *   entry:   shared (varint) | unshared (varint) | value_len (varint)
 *            | key[shared..shared+unshared) | value
 *   ...entries...
 *   restart offsets: u32 x R  (offsets of restart entries, first is 0)
 *   R: u32
 *
 *   Example, interval 16: "apple"->"1", "apply"->"22" encode as
 *     00 05 01 'a' 'p' 'p' 'l' 'e' '1'        shared 0, 5 new bytes, 1-byte value
 *     04 01 02 'y' '2' '2'                    shares "appl", adds "y"
 *     00 00 00 00   01 00 00 00               restarts {0}, R = 1
 *
 * Stored block = payload + 13-byte trailer:
 *
 *   +-------------------------------+------+-------------+---------------+
 *   | payload: contents, raw or lz4 | type | raw len u32 | checksum u64  |
 *   +-------------------------------+------+-------------+---------------+
 *   type: 0 = raw, 1 = lz4 (on disk — never renumber)
 *   checksum = XXH3 over payload, type and raw len (everything before it).
 *
 * The builder compresses with lz4 and keeps the result only when it saves at
 * least min_saving_pct percent of the bytes (12 unless the caller says otherwise);
 * otherwise the contents are stored raw, since decoding an lz4 block that barely
 * shrank costs more read time than it saves. A store whose reads decode a whole
 * block per lookup sets a higher bar (the LSM store: 25, see docs/lsm.md).
 *
 * Invariants:
 *   1. Keys strictly increase under the block's comparator.
 *   2. The first entry and every restart entry have shared = 0.
 *   3. Restart offsets increase and point inside the entry area.
 */
#ifndef SL_BLOCK_H
#define SL_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/slice.h"
#include "engine/status.h"

#define BLOCK_TRAILER_BYTES 13
#define BLOCK_TYPE_RAW 0 /* on disk — never renumber */
#define BLOCK_TYPE_LZ4 1
#define BLOCK_DEFAULT_RESTART_INTERVAL 16
#define BLOCK_DEFAULT_MIN_SAVING_PCT 12

typedef struct block_builder {
	buf_t entries;          /* encoded entries so far */
	buf_t restarts;         /* u32 restart offsets, encoded */
	buf_t last_key;         /* previous key, for prefix sharing and order checks */
	uint32_t interval;      /* entries per restart */
	uint32_t since_restart; /* entries since the last restart */
	uint64_t count;         /* entries added */
	sl_cmp_fn cmp;          /* key order; NULL = bytewise */
	unsigned min_saving_pct; /* lz4 is kept when it saves this many percent (1..99) */
} block_builder_t;

/* Prepares an empty builder; interval 0 means BLOCK_DEFAULT_RESTART_INTERVAL. */
void block_builder_init(block_builder_t *b, uint32_t interval, sl_cmp_fn cmp);

/* Adds an entry. REQUIRES: key sorts after every key added before. */
void block_builder_add(block_builder_t *b, sl_slice_t key, sl_slice_t value);

/* Bytes the contents would take if finished now (uncompressed). */
size_t block_builder_size(const block_builder_t *b);
/* The same, were key and value added next (what block_builder_add would make it). */
size_t block_builder_size_with(const block_builder_t *b, sl_slice_t key, sl_slice_t value);

static inline bool block_builder_empty(const block_builder_t *b) { return b->count == 0; }

/*
 * Appends the stored block (payload + trailer) to out, compressing when allowed
 * and worth it, and resets the builder for the next block. SL_NOMEM on failure.
 */
int block_builder_finish(block_builder_t *b, bool compress, buf_t *out);

void block_builder_free(block_builder_t *b);

/* ---- reading ---- */

typedef struct block {
	const uint8_t *data;     /* contents: entries then restarts */
	uint32_t entries_end;    /* offset where the restart array starts */
	const uint8_t *restarts; /* R u32 offsets */
	uint32_t nrestarts;      /* R */
	buf_t owned;             /* decompressed contents, when the block was lz4 */
	uint8_t type;            /* BLOCK_TYPE_* it was stored as */
} block_t;

/*
 * Verifies and opens a stored block of n bytes. A raw block's contents are used
 * in place, so the caller keeps `stored` alive while blk is open; an lz4 block is
 * decompressed into blk->owned. SL_CORRUPT with a message (no file name: the
 * caller adds it) when the checksum or structure is wrong.
 */
int block_open(block_t *blk, const uint8_t *stored, size_t n, sl_err_t *err);
/*
 * block_open for bytes whose checksum this reader has already verified once (an
 * SSTable remembers which of its raw blocks passed): the trailer and restarts
 * are still checked, the checksum is not computed again.
 */
int block_open_checked(block_t *blk, const uint8_t *stored, size_t n, sl_err_t *err);
/*
 * Gives an open raw block a copy of its contents in blk->owned, so it no longer
 * depends on `stored` (an lz4 block already has one). For blocks a reader keeps
 * for a file's whole life: in a file's map their pages can be evicted like any
 * other, and the next read of them waits on the device. SL_NOMEM or SL_OK.
 */
int block_keep(block_t *blk);
void block_close(block_t *blk);

/* Bytes of contents (uncompressed), for statistics. */
static inline size_t block_raw_size(const block_t *blk)
{
	return (size_t)blk->entries_end + 4 * (size_t)blk->nrestarts + 4;
}

typedef struct block_iter {
	const block_t *blk; /* the block walked */
	sl_cmp_fn cmp;      /* key order; NULL = bytewise */
	uint32_t off;       /* offset of the current entry */
	uint32_t next_off;  /* offset of the entry after it */
	buf_t key;          /* the current key, rebuilt from its shared prefix */
	sl_slice_t value;   /* points into the block */
	bool valid;         /* positioned on an entry */
	int status;         /* SL_OK, or SL_CORRUPT when an entry did not decode */
	const char *why;    /* what did not decode */
} block_iter_t;

void block_iter_init(block_iter_t *it, const block_t *blk, sl_cmp_fn cmp);
void block_iter_free(block_iter_t *it);

/* Positions on the first entry. */
void block_iter_first(block_iter_t *it);
/* Positions on the first entry whose key is >= target (invalid if none). */
void block_iter_seek(block_iter_t *it, sl_slice_t target);
/* Moves to the next entry. REQUIRES: valid. */
void block_iter_next(block_iter_t *it);

static inline bool block_iter_valid(const block_iter_t *it) { return it->valid; }
static inline sl_slice_t block_iter_key(const block_iter_t *it) { return buf_slice(&it->key); }
static inline sl_slice_t block_iter_value(const block_iter_t *it) { return it->value; }
static inline int block_iter_status(const block_iter_t *it) { return it->status; }

#endif
