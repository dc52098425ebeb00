/*
 * cache.h — a block cache: decoded blocks kept in memory, bounded in bytes.
 *
 * Reading a block from a file costs a system call, a checksum and, for an lz4
 * block, a decompression. Hot blocks are read again and again, so the LSM store
 * keeps its decompressed lz4 blocks here, shared by every table of a store (a
 * raw block is read in place from the table's map: kv/sstable.h). Entries are
 * named by two integers — the file's number and the block's offset in it — and
 * carry a "charge", the bytes they hold in memory (the cache adds its own
 * bookkeeping per entry to what the caller charges).
 * When the charges pass the capacity, the least recently used entries leave.
 *
 * Entries in use are pinned by handles: cache_lookup and cache_insert return a
 * handle holding a reference, and cache_release drops it. An entry evicted while
 * a reader still holds it leaves the table at once (it no longer counts toward
 * the capacity) but is freed only when its last handle is released, so a
 * reader never sees its block freed underneath it.
 *
 * The cache is split into 16 shards by a hash of the name, each with its own
 * mutex, hash table and LRU list, so threads reading different blocks rarely
 * wait for each other. Each shard holds capacity / 16 bytes.
 *
 * Thread-safe: every function may be called from any thread.
 */
#ifndef SL_CACHE_H
#define SL_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct cache cache_t;
typedef struct cache_entry cache_handle_t;

/* Frees an entry's value when the entry leaves the cache and has no handles. */
typedef void (*cache_free_fn)(void *value);

typedef struct cache_stats {
	uint64_t hits;       /* lookups that found the entry */
	uint64_t misses;     /* lookups that did not */
	uint64_t inserts;    /* entries added */
	uint64_t evictions;  /* entries pushed out by the capacity */
	uint64_t used_bytes; /* charges of the entries in the table now */
	uint64_t capacity;   /* the bound on used_bytes */
} cache_stats_t;

/* A cache holding up to capacity_bytes of charges; NULL when out of memory. */
cache_t *cache_new(uint64_t capacity_bytes);
/* Frees the cache. REQUIRES: no handle is still held. */
void cache_free(cache_t *c);

/* The entry named (file, off) with a reference taken, or NULL. */
cache_handle_t *cache_lookup(cache_t *c, uint64_t file, uint64_t off);

/*
 * Adds value under (file, off) with its charge, replacing an entry of that name,
 * and returns a handle on it. The cache owns value from now on and frees it with
 * free_fn. NULL only when out of memory (value is freed then).
 */
cache_handle_t *cache_insert(cache_t *c, uint64_t file, uint64_t off, void *value,
			     size_t charge, cache_free_fn free_fn);

/* The value of a handle's entry. */
void *cache_value(const cache_handle_t *h);

/* Drops a handle's reference. */
void cache_release(cache_t *c, cache_handle_t *h);

/* Removes every entry of file (a table that was deleted). */
void cache_erase_file(cache_t *c, uint64_t file);

void cache_get_stats(cache_t *c, cache_stats_t *out);

#endif
