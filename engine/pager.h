/*
 * pager.h — a file of fixed-size pages and the buffer pool that caches them.
 *
 * The B+tree and the hash index see their file as an array of pages numbered
 * 1, 2, 3, ...; the pager turns a page number into bytes in memory. It keeps
 * recently used pages in a buffer pool of a fixed number of frames (the size is
 * an option, in bytes), reads a page from the file on a miss, verifies its
 * checksum, and writes dirty pages back when they are evicted or flushed.
 *
 * Eviction uses the clock algorithm: each frame has a reference bit set on every
 * access; the clock hand sweeps the frames, clearing set bits and evicting the
 * first unpinned frame whose bit is already clear. It approximates LRU without
 * moving anything on a hit, so a hit costs a hash lookup and one store.
 *
 * A caller pins a page while it uses the bytes (pager_get / pager_alloc pin,
 * pager_unpin releases); a pinned frame is never evicted. Changing a page's bytes
 * requires pager_mark_dirty before the unpin.
 *
 * Freed pages go on a free list threaded through the free pages themselves and
 * are reused by pager_alloc before the file grows.
 *
 * File format (integers little-endian, page size P from 512 to 65536, a power of
 * two, chosen at creation and stored in the header):
 *
 *   page 0 — the file header
 *   offset size  field
 *        0    8  magic "SLPAGER\0"
 *        8    4  format version = 1
 *       12    4  page size P in bytes
 *       16    4  page count (pages in the file, header included)
 *       20    4  first free page (0 = free list empty)
 *       24    4  number of free pages
 *       28    4  reserved, 0
 *       32  128  owner's metadata (the B+tree keeps its root here, for example)
 *      160    8  checkpoint sequence: the last logged operation this file includes
 *      168  ...  zero
 *      P-8    8  page checksum
 *
 *   every page n >= 0 ends with the same trailer:
 *   +------------------------------------------+----------------+
 *   | P - 8 bytes of content (owner's layout)  | checksum (8)   |
 *   +------------------------------------------+----------------+
 *   checksum = XXH3(content, seed = n). Seeding with the page number catches a
 *   page written to the wrong place, not only flipped bits.
 *
 *   a free page's content: "FREE" (4 bytes) | next free page (4) | zeros
 *
 * Invariants:
 *   1. Every page 1..count-1 is either free (on the list exactly once) or owned.
 *   2. A frame's bytes equal the file's page unless the frame is dirty.
 *   3. A pinned frame is never evicted; a dirty frame is written before reuse.
 *
 * Durability. Without a log (opts.logged = false) pager_flush writes dirty pages,
 * then the header, and a crash between flushes can leave a mix of old and new
 * pages. With a log, changes are crash-safe, and this is how:
 *
 *   1. Before changing pages, the owner appends its operation to the log
 *      (pager_log_append: "put k v", in the owner's own encoding) with the next
 *      sequence number. That record is the operation's commit: once it is
 *      durable (at once under sync always), the operation survives any crash.
 *      Under every sync mode the record has reached the OS when the operation
 *      returns, so a process that dies loses nothing it was told succeeded.
 *   2. The changed pages stay dirty in the pool: no page goes home before a
 *      checkpoint ("no steal"), so the file on disk is always exactly the state
 *      of the last checkpoint.
 *   3. A checkpoint (pager_checkpoint, or pager_maybe_checkpoint between
 *      operations when the log passes its limit or half the frames are dirty;
 *      the limit is log_limit_bytes or the dirty pages' bytes, whichever is
 *      more, so a checkpoint writes at most two page bytes per byte logged)
 *      writes every dirty page and the header first to the double-write buffer
 *      <path>-dwb, syncs it, then writes them home, syncs the file, then marks
 *      the buffer as holding nothing to repair, then empties the log. A crash
 *      that tears pages at home leaves a whole copy in the buffer; a crash that
 *      tears the buffer leaves home untouched.
 *   4. Opening repairs home from a complete double-write buffer (before the
 *      header is read: the header page may be one it repairs), then the owner
 *      calls pager_replay, which hands it every logged operation newer than the
 *      header's checkpoint sequence, to apply again; then it checkpoints.
 *
 * Log records (payload of engine/wal records in <path>-log):
 *   operation:  type 1 (u8) | sequence (u64) | owner's bytes
 *
 * The double-write buffer <path>-dwb is rewritten in place by every checkpoint
 * (emptied only by a clean close): a 64-byte header, then one slot per page.
 *   offset size  field
 *        0    8  magic "SLPGDWB\0"
 *        8    4  format version = 1
 *       12    4  page size P
 *       16    8  salt: a number fresh for each checkpoint
 *       24    4  slots n (0 = nothing to repair)
 *       28    4  zero
 *       32    8  checkpoint sequence the pages carry (for inspect)
 *       40   16  zero
 *       56    8  XXH3(bytes 0..55)
 *   slot i at 64 + i * (16 + P):
 *        0    4  page number (0 = the file's header page)
 *        4    4  zero
 *        8    8  XXH3(page number | salt | the image's trailer checksum), 20 bytes
 *       16    P  the page image, sealed as at home
 *   The buffer is complete when its header checks out and every one of its n
 *   slots does, with the image's own checksum right. A slot left by an earlier
 *   checkpoint names another salt, so it fails; a header that lands before its
 *   slots (nothing orders them before the sync) names slots that fail — either
 *   way the buffer is incomplete, and incomplete means home was never touched.
 *   Rewriting in place instead of truncating and appending spares the kernel
 *   freeing and re-allocating the file's blocks at every checkpoint.
 *
 * Why the salt is not the checkpoint sequence: two checkpoints can carry the
 * same sequence (a bulk load changes pages without logging), and their slots
 * must still never pass for each other's.
 *
 * Why a logical log and not page images: an insert logs ~130 bytes instead of a
 * 4 KiB page, and a page changed by a thousand inserts between checkpoints goes
 * home twice instead of a thousand times. The price: replay re-executes
 * operations, so the owner must apply them exactly as it did the first time.
 */
#ifndef SL_PAGER_H
#define SL_PAGER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/env.h"
#include "engine/slice.h"
#include "engine/status.h"

#define PAGER_MAGIC "SLPAGER"     /* 8 bytes on disk with its NUL */
#define PAGER_VERSION 1           /* on disk — never renumber */
#define PAGER_DEFAULT_PAGE_SIZE 4096
#define PAGER_MIN_PAGE_SIZE 512
#define PAGER_MAX_PAGE_SIZE 65536
#define PAGER_TRAILER_BYTES 8     /* checksum at the end of every page */
#define PAGER_META_OFF 32         /* owner's metadata in the header page */
#define PAGER_META_BYTES 128
#define PAGER_MIN_FRAMES 8        /* smallest buffer pool, whatever the option says */
#define PAGER_DEFAULT_LOG_LIMIT (256ull << 20) /* log bytes that trigger a checkpoint */
#define PAGER_LOG_OP 1            /* log record type: on disk */
#define PAGER_DWB_MAGIC "SLPGDWB" /* 8 bytes on disk with its NUL */
#define PAGER_DWB_VERSION 1       /* on disk — never renumber */
#define PAGER_DWB_HEADER_BYTES 64
#define PAGER_DWB_SLOT_HEAD 16    /* page number and check before each image */

/*
 * The default pool size: a quarter of the memory this process may use
 * (env_memory_bytes: the machine's, or its memory cgroup's), at least 8 MiB,
 * at most 2^24 pages of 4 KiB. The pool takes memory only for the frames it
 * has used, so a small store costs little however large the bound.
 */
uint64_t pager_default_cache(void);

typedef struct pager pager_t;
typedef struct pager_frame page_t;

typedef struct pager_opts {
	uint32_t page_size;   /* for a new file; 0 = PAGER_DEFAULT_PAGE_SIZE */
	uint64_t cache_bytes; /* buffer pool size; 0 = pager_default_cache() */
	bool create;          /* create the file when it does not exist */
	bool logged;          /* keep an operation log and checkpoint (crash-safe) */
	sl_sync_t sync;       /* logged: when log appends are fsynced */
	uint32_t batch_ms;    /* logged, SL_SYNC_BATCH: longest fsync delay; 0 = 10 ms */
	uint64_t log_limit_bytes; /* logged: checkpoint past this or the dirty pages'
	                             bytes, whichever is more; 0 = 256 MiB */
	bool read_only;       /* read the file, write nothing: the log is replayed into the
	                         pool and stays there (never checkpointed); SL_FULL when its
	                         changes outgrow half the pool, SL_READONLY when a cut-short
	                         checkpoint needs repairing; changes are refused */
} pager_opts_t;

typedef struct pager_stats {
	uint64_t hits;        /* pager_get found the page in the pool */
	uint64_t misses;      /* pager_get had to read the page */
	uint64_t evictions;   /* frames reused for another page */
	uint64_t page_reads;  /* pages read from the file */
	uint64_t page_writes; /* pages written to the file, header included */
	uint64_t checkpoints; /* checkpoints taken */
	uint64_t log_records; /* operations logged */
} pager_stats_t;

/* Opens (or, with opts->create, creates) the paged file at path. */
int pager_open(env_t *env, const char *path, const pager_opts_t *opts, pager_t **out,
	       sl_err_t *err);

/* Flushes dirty pages (no fsync) and frees everything. No page may be pinned. */
int pager_close(pager_t *p, sl_err_t *err);

/*
 * Pins page pgno (1 <= pgno < page count) and returns it in *out. A number out of
 * range or a checksum mismatch is SL_CORRUPT naming the page and offset: page
 * numbers come from disk, so a bad one is bad data, not a bug.
 */
int pager_get(pager_t *p, uint32_t pgno, page_t **out, sl_err_t *err);

/* Hints that page pgno will be read soon: if it is in the pool, its first
 * cache lines start loading now. Never reads the file. */
void pager_prefetch(pager_t *p, uint32_t pgno);

/* Releases one pin on page. */
void pager_unpin(pager_t *p, page_t *page);

/* Records that the caller changed the page's bytes (while holding a pin). */
void pager_mark_dirty(pager_t *p, page_t *page);

/* Pins a new zero-filled dirty page: from the free list, else at the file's end. */
int pager_alloc(pager_t *p, page_t **out, sl_err_t *err);

/* Puts pgno on the free list. It must not be pinned. */
int pager_free(pager_t *p, uint32_t pgno, sl_err_t *err);

/* Writes every dirty page and the header; fsyncs when sync is true. With a log
 * this is a checkpoint. */
int pager_flush(pager_t *p, bool sync, sl_err_t *err);

/* ---- the operation log (opts.logged) ---- */

/*
 * Appends one operation (the owner's bytes) to the log, fsynced as the sync mode
 * says; after it returns SL_OK the owner applies the operation to its pages.
 * SL_READONLY once a log or checkpoint write has failed (reopen to recover).
 */
int pager_log_append(pager_t *p, const void *op, size_t len, sl_err_t *err);

/* fsyncs the log (the `sync` of the store interface). */
int pager_log_sync(pager_t *p, sl_err_t *err);

/* Called once after opening: hands every logged operation newer than the last
 * checkpoint to apply(ctx, op) in order, then checkpoints. */
typedef int (*pager_apply_fn)(void *ctx, sl_slice_t op, sl_err_t *err);
int pager_replay(pager_t *p, pager_apply_fn apply, void *ctx, sl_err_t *err);

/* Takes every dirty page home through the double-write buffer (see above). */
int pager_checkpoint(pager_t *p, sl_err_t *err);

/* Checkpoints when the log or the dirty pages have grown past their limits.
 * REQUIRES: between operations (no operation half applied). */
int pager_maybe_checkpoint(pager_t *p, sl_err_t *err);

uint32_t pager_dirty_count(const pager_t *p);

/*
 * Writes a pinned dirty page home now, ahead of any checkpoint. Only for pages
 * the last checkpoint cannot reach — pages past its page count, as a bulk load
 * makes — so that the file's checkpointed state is not disturbed.
 * REQUIRES: pgno >= the checkpoint's page count.
 */
int pager_write_early(pager_t *p, page_t *page, sl_err_t *err);

/* fsync of the paged file itself (after early writes, before their checkpoint). */
int pager_sync_file(pager_t *p, sl_err_t *err);

/*
 * Declares the pages inconsistent: an operation failed half applied. The pager
 * then refuses further log appends and checkpoints, and closing writes nothing
 * home, so reopening replays the log onto the last checkpoint instead.
 */
void pager_set_broken(pager_t *p);

/* The page's content bytes (usable_size of them) and its number. */
uint8_t *page_data(page_t *page);
uint32_t page_pgno(const page_t *page);

uint32_t pager_page_size(const pager_t *p);
uint32_t pager_usable_size(const pager_t *p); /* page size minus the trailer */
uint32_t pager_page_count(const pager_t *p);
uint32_t pager_free_count(const pager_t *p);
uint32_t pager_frames(const pager_t *p);
/* Frames the pool has taken so far (it grows to pager_frames as pages are needed). */
uint32_t pager_frames_used(const pager_t *p);

/* The owner's PAGER_META_BYTES of metadata; call pager_meta_dirty after changing it. */
uint8_t *pager_meta(pager_t *p);
void pager_meta_dirty(pager_t *p);

void pager_get_stats(const pager_t *p, pager_stats_t *out);
const char *pager_path(const pager_t *p);

/*
 * Flushes, then verifies every page checksum on disk and the free list (in range,
 * tagged FREE, no page twice, length equal to the header's count). When is_free is
 * not NULL it must have page_count bytes; it receives 1 for each free page, so an
 * owner can check that every page is either reachable or free.
 */
int pager_check(pager_t *p, uint8_t *is_free, sl_err_t *err);

/* Prints the header and the buffer pool's state (for gdb: call pager_dump(p, stderr)). */
void pager_dump(const pager_t *p, FILE *out);

/* Prints a double-write buffer's header and slots, and whether opening would copy
 * them home (storelab inspect). SL_CORRUPT for a file that is not one. */
int pager_dwb_dump(env_t *env, const char *path, FILE *out, sl_err_t *err);

#endif
