/*
 * btree.h — a B+tree on the pager: the kit's ordered index.
 *
 * A B+tree keeps keys sorted in fixed-size pages arranged as a tree of height h:
 * internal pages hold separator keys and child page numbers, leaves hold the
 * keys and values and are linked left and right for scans. Every path from the
 * root to a leaf has the same length, so a get reads h pages, and with ~370
 * separators per 8 KiB page, h is 3 for a million keys and 4 for a few hundred
 * million. This is the structure SQLite, InnoDB and LMDB are built on.
 *
 * Design choices, and why:
 *   - Slotted pages: a small array of 2-byte cell offsets, kept in key order,
 *     grows from the front; cells (variable-length keys and values) grow from
 *     the back. Inserting shifts 2-byte slots, not cells.
 *   - Values larger than a quarter page live in a chain of overflow pages, so a
 *     leaf always holds at least four entries and fan-out stays high.
 *   - Splits move half the bytes to a new right sibling, except when the new key
 *     goes to the very end of the rightmost leaf: then the full page is left as
 *     it is and the new key starts a new page. Keys inserted in order (fillseq)
 *     thus pack leaves full and never pay for moving half a page.
 *   - Separators are shortened (suffix truncation): the separator between
 *     leaves "apple..." and "apricot..." is "apr", so internal pages hold more.
 *   - Delete policy: a page that falls below a quarter full is merged with a
 *     neighbour under the same parent when both fit in one page; when they do
 *     not, leaves borrow entries from the neighbour until both are about even
 *     (internal pages are merged but not rebalanced). A quarter, not a half,
 *     so a page hovering at the threshold does not split and merge in turn.
 *   - Crash safety comes from the pager's operation log (engine/pager.h): each
 *     put, delete or batch is logged, then applied; checkpoints take pages home
 *     through a double-write buffer. Reopening replays what came after the last
 *     checkpoint, so the tree is always at some committed state.
 *
 * Page layout (the pager's usable bytes U = page size - 8, integers little-endian;
 * 8 KiB pages by default):
 *
 *   offset size  field
 *        0    1  kind: 1 leaf, 2 internal, 3 overflow      (on disk — never renumber)
 *        1    1  reserved, 0
 *        2    2  n: number of cells
 *        4    2  cell_start: offset of the lowest cell byte (cells end at U)
 *        6    2  frag: bytes of dead cells between cell_start and U
 *        8    4  leaf: right sibling (0 = none) | internal: leftmost child
 *       12    4  leaf: left sibling (0 = none)  | internal: 0
 *       16   2n  slots: cell offsets, in key order
 *      ...       free space
 *   cell_start   cells, packed towards U
 *
 *   leaf cell:      klen (varint) | vword (varint) | key | value, or u32 first
 *                   overflow page when vword & 1;  vword = value length << 1 | overflow
 *   internal cell:  klen (varint) | child (u32) | key — child holds keys >= key
 *                   and < the next cell's key; the leftmost child the keys below
 *                   the first cell's.
 *   overflow page:  kind 3 (u8) | 3 zero bytes | next page (u32, 0 = last) |
 *                   byte count (u32) | bytes
 *
 * Metadata (the pager header's owner area): "SLBTREE\0" (8) | version u32 |
 * root page u32 | height u32 | key count u64.
 *
 * Limits: a key is at most btree_max_key(page size) bytes (1000 from 4 KiB up, 104
 * at 512 B), a value at most BTREE_MAX_VALUE; larger ones are SL_INVALID.
 *
 * Invariants (btree_check verifies all of them):
 *   1. Keys strictly increase within each page and along the leaf chain.
 *   2. Every key in the subtree of child i lies in [separator i, separator i+1).
 *   3. All leaves are at the same depth, the tree's height.
 *   4. Leaf sibling links match the left-to-right order of the leaves.
 *   5. Cells lie inside [cell_start, U), do not overlap, and with the slots and
 *      the fragmented bytes account for every byte of the page.
 *   6. Every page is reachable exactly once (tree or overflow chain) or free.
 *   7. The key count in the metadata equals the entries in the leaves.
 */
#ifndef SL_BTREE_H
#define SL_BTREE_H

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

#define BTREE_MAGIC "SLBTREE"        /* 8 bytes in the metadata, NUL included */
#define BTREE_VERSION 1              /* on disk */
#define BTREE_MAX_VALUE (1u << 20)   /* bytes */
#define BTREE_MAX_HEIGHT 24
/*
 * 8 KiB by default, not the pager's 4: twice the entries per leaf halves the
 * leaf hops of a scan and lowers the tree a level sooner. Measured at 1 M keys
 * (docs/btree.md): scans of 100 entries 1.2x faster, point reads unchanged.
 */
#define BTREE_DEFAULT_PAGE_SIZE 8192
#define BTREE_KIND_LEAF 1            /* on disk — never renumber */
#define BTREE_KIND_INTERNAL 2
#define BTREE_KIND_OVERFLOW 3       /* = OVERFLOW_KIND of index/overflow.h */

typedef struct btree btree_t;
typedef struct btree_cursor btree_cursor_t;

typedef struct btree_opts {
	uint32_t page_size;   /* for a new file; 0 = BTREE_DEFAULT_PAGE_SIZE */
	uint64_t cache_bytes; /* buffer pool; 0 = pager_default_cache() (raised to what one operation needs) */
	sl_sync_t sync;       /* durability of each operation */
	uint32_t batch_ms;    /* SL_SYNC_BATCH: longest fsync delay */
	bool create;          /* create the file when missing */
	bool read_only;       /* read only; recovery in memory (pager_opts_t.read_only) */
	trace_t *trace;       /* narration hook (may be NULL) */
} btree_opts_t;

typedef struct btree_stats {
	uint32_t height;          /* levels, leaves included */
	uint64_t keys;            /* entries */
	bool pages_counted;       /* the four page counts and avg_fill were walked for */
	uint64_t leaf_pages, internal_pages, overflow_pages, free_pages;
	double avg_fill;          /* mean used fraction of leaf and internal pages */
	uint64_t gets;            /* btree_get calls */
	uint64_t get_pages;       /* pages visited by those gets */
	uint64_t splits, merges, redistributions;
	pager_stats_t pager;      /* hits, misses, reads, writes, checkpoints */
} btree_stats_t;

/* Largest key for a page size. */
uint32_t btree_max_key(uint32_t page_size);

/*
 * Opens (or creates) the tree in file path, replaying its log. SL_CORRUPT when
 * path holds something that is not a B+tree (the hash index's file, say).
 */
int btree_open(env_t *env, const char *path, const btree_opts_t *opts, btree_t **out,
	       sl_err_t *err);

/* Checkpoints and closes. */
int btree_close(btree_t *t, sl_err_t *err);

/* Copies the value of key into *value; SL_NOTFOUND when absent. */
int btree_get(btree_t *t, sl_slice_t key, buf_t *value, sl_err_t *err);
int btree_put(btree_t *t, sl_slice_t key, sl_slice_t value, sl_err_t *err);
/* Deleting an absent key is not an error. */
int btree_del(btree_t *t, sl_slice_t key, sl_err_t *err);
/* Applies a batch atomically: one log record, then every operation. */
int btree_write(btree_t *t, const batch_t *b, sl_err_t *err);
int btree_sync(btree_t *t, sl_err_t *err);

/*
 * Builds the tree bottom-up from entries in strictly increasing key order,
 * packing each page to `fill` (0.5..1.0) of its space: leaves left to right,
 * then each internal level from the first keys of the level below. No split,
 * no log record per entry: the pages go straight home (they are past the last
 * checkpoint, so the file's checkpointed state is untouched), and the final
 * checkpoint switches the root. A crash before it leaves the empty tree.
 * REQUIRES: an empty tree with no free pages (SL_INVALID otherwise).
 * next(ctx, &key, &value) returns SL_OK with an entry, SL_NOTFOUND at the end.
 */
typedef int (*btree_next_fn)(void *ctx, sl_slice_t *key, sl_slice_t *value);
int btree_bulk_load(btree_t *t, btree_next_fn next, void *ctx, double fill, sl_err_t *err);

/* ---- cursors: ordered iteration ---- */

/* A cursor positioned at the first key >= start (start NULL = the first key). */
int btree_seek(btree_t *t, const sl_slice_t *start, btree_cursor_t **out, sl_err_t *err);
bool btree_cursor_valid(const btree_cursor_t *c);
sl_slice_t btree_cursor_key(const btree_cursor_t *c);
sl_slice_t btree_cursor_value(const btree_cursor_t *c);
/* Moves to the next key. The tree must not change while a cursor is open (it
 * keeps its leaf pinned); key and value slices last until the next step. */
int btree_cursor_next(btree_cursor_t *c, sl_err_t *err);
void btree_cursor_close(btree_cursor_t *c);

/* ---- inspection ---- */

void btree_get_stats(btree_t *t, btree_stats_t *out);
/* The buffer pool's counters alone (no walk): cheap enough to read around one query. */
void btree_pool_stats(btree_t *t, pager_stats_t *out);
/* Verifies every invariant above; SL_CORRUPT naming the page and what is wrong. */
int btree_check(btree_t *t, sl_err_t *err);
/* Prints the tree (page kinds, keys per page) — for gdb: btree_dump(t, stderr). */
void btree_dump(btree_t *t, FILE *out);

/* One node, as btree_nodes shows it (first and last are valid during the call). */
typedef struct btree_node {
	uint32_t pgno, depth;  /* depth 0 = the root */
	bool leaf;
	uint32_t keys;         /* cells on the page */
	uint32_t used, usable; /* bytes in use of the bytes a page offers */
	sl_slice_t first, last; /* its smallest and largest key (empty when it has none) */
} btree_node_t;

/* Returns SL_OK to go on; anything else stops the walk and is returned. */
typedef int (*btree_node_fn)(void *ctx, const btree_node_t *node);

/*
 * Visits the nodes down to max_depth, depth first, children left to right (so
 * the nodes of one depth come in key order): what inspect --svg draws and
 * btree_dump prints. SL_CORRUPT for a page that cannot be read.
 */
int btree_nodes(btree_t *t, uint32_t max_depth, btree_node_fn fn, void *ctx, sl_err_t *err);

#endif
