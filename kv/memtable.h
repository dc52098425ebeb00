/*
 * memtable.h — the LSM store's in-memory write buffer: a skiplist in an arena.
 *
 * Every write lands here (after the write-ahead log) until the memtable is full;
 * then it is frozen and flushed to an SSTable. It must keep entries in internal-
 * key order (lsm_key.h), take inserts fast, and let readers search it while a
 * writer inserts. A skiplist does all three with short code: a sorted linked list
 * where each node also sits, with probability 1/4 per level, on up to 11 higher
 * "express" lists, so a search skips ahead in O(log n) expected steps.
 *
 *   level 2:  head ------------------------> "m" -------------------> NULL
 *   level 1:  head --------> "d" ----------> "m" --------> "t" -----> NULL
 *   level 0:  head -> "a" -> "d" -> "g" ---> "m" -> "p" -> "t" -> "x" -> NULL
 *
 * Nodes are never removed or changed once linked (a delete is a new tombstone
 * entry), which is what makes lock-free reading simple: the one writer fills a
 * node completely, then publishes it with release stores of the next pointers;
 * a reader's acquire loads see either the old list or the node whole.
 *
 * Nodes live in an arena — big chunks carved up by bumping a pointer — so an
 * insert costs no malloc, and the whole memtable is freed by freeing its chunks.
 * memtable_bytes (what the nodes take in the arena) is what the store compares
 * with its memtable budget.
 *
 * Node layout in the arena (native byte order: it never leaves memory):
 *   value pointer | key_len u32 | value_len u32 | height u8 | next[height] pointers
 *   | user key | trailer u64 (lsm_key.h)
 * and the value in a second arena of its own. A search touches only nodes, and
 * with the values elsewhere a node of a 16-byte key is 56 bytes instead of 148
 * (with a 100-byte value): two and a half times as many fit in the CPU's
 * caches, which is what a skiplist search (one dependent load per step) is
 * bound by.
 *
 * Threads: one writer at a time (the LSM store's write leader) may call
 * memtable_add while any number of readers search and iterate. The reference
 * count is atomic.
 */
#ifndef SL_MEMTABLE_H
#define SL_MEMTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/slice.h"
#include "engine/status.h"

typedef struct memtable memtable_t;
typedef struct memtable_node memtable_node_t;

/* A new empty memtable holding one reference; NULL when out of memory. */
memtable_t *memtable_new(void);
void memtable_ref(memtable_t *m);
/* Drops a reference; the last one frees the memtable. NULL is a no-op. */
void memtable_unref(memtable_t *m);

/*
 * Adds the entry (key, seq, type, value). SL_NOMEM when the arena cannot grow.
 * REQUIRES: a single writer; (key, seq) not already present.
 */
int memtable_add(memtable_t *m, uint64_t seq, int type, sl_slice_t key, sl_slice_t value);

/*
 * Looks up the newest entry for a user key at or below a sequence; seek is
 * their seek key (lsm_seek_key). Returns false when the memtable has none;
 * otherwise true, with *deleted telling a tombstone from a value, and the value
 * copied into *value (when not NULL).
 */
bool memtable_get(memtable_t *m, sl_slice_t seek, buf_t *value, bool *deleted);

size_t memtable_bytes(const memtable_t *m); /* bytes of nodes (keys, values, links) */
uint64_t memtable_count(const memtable_t *m); /* entries */

/* ---- iteration, in internal-key order ---- */

typedef struct memtable_iter {
	memtable_t *m;         /* the memtable walked (not referenced: the caller holds it) */
	memtable_node_t *node; /* current node, NULL when not valid */
} memtable_iter_t;

void memtable_iter_init(memtable_iter_t *it, memtable_t *m);
void memtable_iter_first(memtable_iter_t *it);
/* Positions on the first entry whose internal key is >= ikey. */
void memtable_iter_seek(memtable_iter_t *it, sl_slice_t ikey);
void memtable_iter_next(memtable_iter_t *it);
static inline bool memtable_iter_valid(const memtable_iter_t *it) { return it->node != NULL; }
/* The current internal key (user key + trailer) and value, valid while the memtable lives. */
sl_slice_t memtable_iter_key(const memtable_iter_t *it);
sl_slice_t memtable_iter_value(const memtable_iter_t *it);

#endif
