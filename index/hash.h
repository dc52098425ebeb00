/*
 * hash.h — an on-disk hash index: equality lookups in one page read.
 *
 * A B+tree finds a key in log_F(n) page reads and keeps keys in order; a hash
 * index gives up the order to find a key in one: hash the key, look its bucket
 * up in an in-memory directory, read that one page. No range scans, no ordered
 * iteration, no prefix queries — that is the trade.
 *
 * Extendible hashing (Fagin et al., 1979), and why: the directory is an array
 * of 2^G bucket page numbers, indexed by the low G bits of the key's hash (G,
 * the global depth). Each bucket has a local depth d <= G: all its keys agree on
 * their low d hash bits, and 2^(G-d) directory entries point at it. A full
 * bucket splits in two on bit d — only its own keys move, to a new page; when
 * d = G, the directory doubles first (a copy of 4-byte pointers, never of keys).
 * So growth is incremental: no operation ever rehashes the index. Linear
 * hashing avoids the directory but lets overflow chains build up between its
 * round-robin splits, and a lookup then reads more than one page; here a
 * lookup reads exactly one bucket page unless keys collide on all 32 usable
 * bits of the directory (then the bucket grows an overflow chain).
 *
 * Hashes: XXH3-64 of the key with a per-index seed kept in the metadata. The
 * low bits pick the directory slot. The full hash is stored in each entry's
 * slot, so a lookup compares 8-byte hashes before it touches a key, and a split
 * reads bit d from the stored hash instead of hashing the key again.
 *
 * Crash safety is the pager's (engine/pager.h): each put, delete or batch is
 * logged, then applied; checkpoints take pages home through the double-write
 * buffer; opening replays the log.
 *
 * Shrinking: a bucket that empties out is folded into its buddy (the bucket
 * that differs only in bit d-1) when the buddy has the same depth, and its page
 * goes back to the free list; an emptied page of a chain is unlinked and freed;
 * freed overflow pages are reused. The directory itself never halves: at 4
 * bytes an entry it is the smallest part of the file, and halving it would be a
 * full pass for little gain.
 *
 * Page layout (U = page size - 8 usable bytes, little-endian):
 *
 *   bucket page
 *   offset size  field
 *        0    1  kind: 1 bucket, 2 directory, 3 overflow value   (on disk)
 *        1    1  local depth d
 *        2    2  n: entries
 *        4    2  cell_start (cells end at U)
 *        6    2  frag: bytes of dead cells
 *        8    4  next bucket page of this bucket's chain (0 = none)
 *       12    4  reserved, 0
 *       16  10n  slots: cell offset (u16) | full 64-bit hash (u64)
 *   cell_start   cells: klen (varint) | vword (varint: value length << 1 | overflow)
 *                | key | value, or u32 first overflow page when vword & 1
 *
 *   directory page: kind 2 | 3 zero bytes | next directory page (u32) |
 *                   count (u32) | count bucket page numbers (u32 each)
 *   overflow value page: kind 3 | 3 zero bytes | next (u32) | bytes (u32) | bytes
 *
 * Metadata (the pager header's owner area): "SLHASH\0\0" (8) | version u32 |
 * global depth u32 | first directory page u32 | seed u64 | keys u64 | buckets u64.
 *
 * Limits: keys up to hash_max_key(page size) bytes (992 at 4 KiB), values up to
 * HASH_MAX_VALUE (larger values live in overflow pages).
 *
 * Invariants (hash_check verifies them):
 *   1. Every directory entry points at a bucket page; a bucket of local depth d
 *      is pointed at by exactly the 2^(G-d) entries that agree with it on the
 *      low d bits, and d <= G.
 *   2. Every entry's hash is XXH3(key, seed) and agrees with its bucket on the
 *      low d bits; no key appears twice.
 *   3. Overflow chains hold their values; cells lie inside the cell area.
 *   4. The metadata's key and bucket counts are right.
 *   5. Every page is reachable exactly once (directory, buckets, overflow) or free.
 */
#ifndef SL_HASH_H
#define SL_HASH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/batch.h"
#include "engine/buf.h"
#include "engine/env.h"
#include "engine/pager.h"
#include "engine/slice.h"
#include "engine/status.h"
#include "engine/trace.h"

#define HASH_MAGIC "SLHASH"        /* 8 bytes in the metadata, NULs included */
#define HASH_VERSION 1             /* on disk */
#define HASH_MAX_VALUE (1u << 20)  /* bytes */
#define HASH_MAX_DEPTH 24          /* directory of at most 16 M entries */

typedef struct hash hash_t;

typedef struct hash_opts {
	uint32_t page_size;   /* for a new file; 0 = 4096 */
	uint64_t cache_bytes; /* buffer pool; 0 = pager_default_cache() */
	sl_sync_t sync;       /* durability of each operation */
	uint32_t batch_ms;    /* SL_SYNC_BATCH: longest fsync delay */
	bool create;          /* create the file when missing */
	bool read_only;       /* read only; recovery in memory (pager_opts_t.read_only) */
	uint64_t seed;        /* hash seed of a new index; 0 = a fixed default */
	uint32_t max_depth;   /* directory growth limit; 0 = HASH_MAX_DEPTH (tests lower it
	                         to reach bucket chains without billions of keys) */
	trace_t *trace;       /* narration hook (may be NULL) */
} hash_opts_t;

typedef struct hash_stats {
	uint32_t global_depth;  /* directory has 2^global_depth entries */
	uint64_t buckets;       /* bucket pages (chains counted once) */
	uint64_t keys;          /* entries */
	uint64_t chained_pages; /* extra bucket pages in chains (all-bits collisions) */
	uint64_t splits;        /* bucket splits since open */
	uint64_t merges;        /* emptied buckets folded into their buddy since open */
	uint64_t doublings;     /* directory doublings since open */
	uint64_t gets;          /* hash_get calls */
	uint64_t get_pages;     /* bucket pages read by them */
	pager_stats_t pager;    /* hits, misses, reads, writes, checkpoints */
} hash_stats_t;

uint32_t hash_max_key(uint32_t page_size);

int hash_open(env_t *env, const char *path, const hash_opts_t *opts, hash_t **out,
	      sl_err_t *err);
int hash_close(hash_t *h, sl_err_t *err);
int hash_get(hash_t *h, sl_slice_t key, buf_t *value, sl_err_t *err);
int hash_put(hash_t *h, sl_slice_t key, sl_slice_t value, sl_err_t *err);
int hash_del(hash_t *h, sl_slice_t key, sl_err_t *err);
int hash_write(hash_t *h, const batch_t *b, sl_err_t *err);
int hash_sync(hash_t *h, sl_err_t *err);

void hash_get_stats(hash_t *h, hash_stats_t *out);
/* Bytes in use / bytes available over all bucket pages, and (when not NULL)
 * the overflow value pages. Walks every bucket. */
double hash_load_factor(hash_t *h, uint64_t *overflow_pages);

/*
 * Calls visit(ctx, key, value) for every entry, in no particular order (for
 * dumps and checks: a hash index has no ordered scan). The slices last for the
 * call. A visit that returns anything but SL_OK stops the walk with that code.
 */
typedef int (*hash_visit_fn)(void *ctx, sl_slice_t key, sl_slice_t value);
int hash_foreach(hash_t *h, hash_visit_fn visit, void *ctx, sl_err_t *err);
int hash_check(hash_t *h, sl_err_t *err);

/*
 * One bucket page's bytes, decoded as a lookup decodes them: true when the
 * header is in range and every entry decodes inside the page and is found by its
 * stored hash; else false with *why. d holds hash_bucket_bytes(h) bytes (the
 * page minus the pager's trailer). hash_check runs it on every bucket page; the
 * fuzz target fuzz_hash_bucket feeds it arbitrary bytes.
 */
bool hash_bucket_decodes(const hash_t *h, const uint8_t *d, const char **why);
uint32_t hash_bucket_bytes(const hash_t *h);

/* One bucket (its chain included), as hash_buckets shows it. */
typedef struct hash_bucket {
	uint32_t pgno;         /* its first page */
	uint64_t pattern;      /* the low depth bits its keys' hashes agree on */
	uint32_t depth;        /* local depth d */
	uint64_t slots;        /* directory entries pointing at it: 2^(G - d) */
	uint32_t pages;        /* 1 + overflow chain pages */
	uint32_t entries;
	uint32_t used, usable; /* bytes in use in its pages, of the bytes they offer */
} hash_bucket_t;

typedef int (*hash_bucket_fn)(void *ctx, const hash_bucket_t *b);

/* The global depth G: the directory has 2^G entries. */
uint32_t hash_global_depth(const hash_t *h);

/* Visits every bucket once, in the order of their patterns' first directory
 * entry (what inspect --svg draws, what hash_dump prints). */
int hash_buckets(hash_t *h, hash_bucket_fn fn, void *ctx, sl_err_t *err);

/* Prints the directory's size and every bucket's depth and fill — for gdb:
 * `call hash_dump(h, stderr)`. */
void hash_dump(hash_t *h, FILE *out);

#endif
