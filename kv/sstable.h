/*
 * sstable.h — sorted string tables: the LSM store's immutable files.
 *
 * A flush or a compaction writes its entries, in internal-key order (lsm_key.h),
 * into one SSTable; nothing in it ever changes afterwards, which is why tables
 * can be cached, read by many threads at once and deleted only when no reader
 * needs them. A table is a run of blocks (engine/block.h, each with its own
 * checksum and lz4 when it pays) and a fixed-size footer that finds the rest:
 *
 *   +------------------+  offset 0
 *   | data block 0     |  entries: internal key -> value, ~block_bytes each
 *   | (zero padding)   |  raw blocks are cut to stay inside a 4 KiB page and the
 *   | data block 1     |    next starts on the boundary (up to 512 zero bytes
 *   | ...              |    between blocks, which no index entry points at)
 *   +------------------+
 *   | filter block     |  one entry: "bloom" -> a bloom filter (engine/bloom.h)
 *   |                  |    over the hashes of every user key in the table
 *   +------------------+
 *   | properties block |  entries, sorted by name (values are varints unless noted):
 *   |                  |    "data_blocks", "deletions", "entries",
 *   |                  |    "largest" (internal key), "max_seq", "min_seq",
 *   |                  |    "raw_bytes" (key + value bytes), "smallest" (internal key)
 *   +------------------+
 *   | index block      |  one entry per data block: its last internal key ->
 *   |                  |    offset (varint) | stored length (varint)
 *   +------------------+
 *   | footer, 56 bytes |
 *   +------------------+
 *
 *   footer (little-endian):
 *     0  index offset u64     8  index length u32     12 filter length u32
 *     16 filter offset u64    24 props offset u64     32 props length u32
 *     36 format version u32 (= 1)
 *     40 checksum u64 = XXH3 of bytes 0..39
 *     48 magic "SLSSTBL\0" (8 bytes)
 *
 * Reading: the footer, then the index, filter and properties blocks are read once
 * at open and kept in memory. A point lookup asks the filter first (most lookups
 * for keys a table does not hold end there, with no I/O), then binary-searches
 * the index for the one data block that can hold the key, then seeks inside it.
 * A raw data block is used where it lies in the map: its checksum is verified on
 * its first read, and a bit per block remembers that. An lz4 data block goes
 * through the shared block cache (engine/cache.h), decompressed.
 *
 * Invariants:
 *   1. Internal keys strictly increase through the data blocks.
 *   2. Index entry i is the last key of data block i; index keys increase.
 *   3. smallest / largest are the first and last keys; every block passes its checksum.
 * Any violation found while reading is SL_CORRUPT naming the table's path.
 */
#ifndef SL_SSTABLE_H
#define SL_SSTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/cache.h"
#include "engine/env.h"
#include "engine/slice.h"
#include "engine/status.h"

#define SST_MAGIC "SLSSTBL"        /* 8 bytes on disk, with its NUL */
#define SST_VERSION 1
#define SST_FOOTER_BYTES 56

typedef struct sst_opts {
	uint32_t block_bytes;  /* target uncompressed data block size */
	uint32_t bloom_bits;   /* bits per key of the filter; 0 = no filter */
	bool compress;         /* lz4 data blocks when it saves compress_min_pct */
	uint32_t compress_min_pct; /* percent lz4 must save to be kept; 0 = block's default */
} sst_opts_t;

/* What a table holds, from its properties block. */
typedef struct sst_props {
	uint64_t entries, deletions, data_blocks;
	uint64_t raw_bytes;       /* key + value bytes of the entries */
	uint64_t min_seq, max_seq;
	buf_t smallest, largest;  /* internal keys */
} sst_props_t;

/* ---- writing ---- */

typedef struct sst_builder sst_builder_t;

/* Starts a table at path (replacing any file there). */
int sst_builder_open(env_t *env, const char *path, const sst_opts_t *opts, sst_builder_t **out,
		     sl_err_t *err);
/* Adds an entry. REQUIRES: ikey sorts after every key added before. */
int sst_builder_add(sst_builder_t *b, sl_slice_t ikey, sl_slice_t value, sl_err_t *err);
/* Bytes the table would take if finished now (roughly: blocks so far + the open one). */
uint64_t sst_builder_bytes(const sst_builder_t *b);
uint64_t sst_builder_entries(const sst_builder_t *b);
/*
 * Writes the filter, properties, index and footer, fsyncs the file and frees b.
 * *props (when not NULL) receives the properties; the caller frees them with
 * sst_props_free. On failure the file is removed.
 */
int sst_builder_finish(sst_builder_t *b, uint64_t *file_bytes, sst_props_t *props, sl_err_t *err);
/* Gives up: closes and removes the file, frees b. */
void sst_builder_abandon(sst_builder_t *b);

void sst_props_free(sst_props_t *p);

/* ---- reading ---- */

typedef struct sst sst_t;

/*
 * Opens the table at path. number names it in the block cache (shared by every
 * table of a store; NULL = no caching). SL_CORRUPT naming path when the footer,
 * index, filter or properties do not check out.
 */
int sst_open(env_t *env, const char *path, uint64_t number, cache_t *cache, sst_t **out,
	     sl_err_t *err);
void sst_close(sst_t *t);
const sst_props_t *sst_props(const sst_t *t);
uint64_t sst_file_bytes(const sst_t *t);
const char *sst_path(const sst_t *t);

/* What one lookup did, for the store's read-amplification figures and traces. */
typedef struct sst_probe {
	bool filtered;     /* the bloom filter said "not here": no block read */
	bool block_read;   /* a data block was read and verified (first read of a raw
	                      block, or a cache miss for an lz4 one) */
	uint64_t block_off;/* the data block searched: its offset */
	uint64_t block_len;/* and its stored length */
} sst_probe_t;

/*
 * Looks up the newest entry for a user key at or below a sequence; seek is their
 * seek key (lsm_seek_key) and hash bloom_hash(user key). SL_OK with *deleted set
 * (and the value copied into *value when it is a put); SL_NOTFOUND when the table
 * has no such entry; SL_CORRUPT / SL_IO.
 */
int sst_get(sst_t *t, sl_slice_t seek, uint64_t hash, buf_t *value, bool *deleted,
	    sst_probe_t *probe, sl_err_t *err);

/* May the table hold user key key (hash = bloom_hash(key))? false = certainly not. */
bool sst_may_contain(const sst_t *t, uint64_t hash);

/* ---- iteration ---- */

typedef struct sst_iter sst_iter_t;

int sst_iter_new(sst_t *t, sst_iter_t **out);
/*
 * Makes it a sequential reader: from now on, each time it reaches a block past
 * what it asked for last, it asks the kernel to read the next `bytes` of the
 * file ahead (env_map_prefetch). For compactions, which read every block of
 * their inputs in order; gets and scans read a few blocks and keep the map's
 * "no read-ahead" advice.
 */
void sst_iter_readahead(sst_iter_t *it, size_t bytes);
void sst_iter_free(sst_iter_t *it);
void sst_iter_first(sst_iter_t *it);
/* Positions on the first entry whose internal key is >= ikey. */
void sst_iter_seek(sst_iter_t *it, sl_slice_t ikey);
void sst_iter_next(sst_iter_t *it);
bool sst_iter_valid(const sst_iter_t *it);
sl_slice_t sst_iter_key(const sst_iter_t *it);
sl_slice_t sst_iter_value(const sst_iter_t *it);
/* SL_OK, or why iteration stopped early (the message in *err). */
int sst_iter_status(const sst_iter_t *it, sl_err_t *err);

#endif
