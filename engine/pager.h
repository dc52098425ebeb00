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
 *      160  ...  zero
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
 * Durability: pager_flush writes dirty pages, then the header, then (when asked)
 * fsyncs. A crash between flushes can leave a mix of old and new pages; the page
 * transactions of the B+tree issue add a log of page images on top of this.
 */
#ifndef SL_PAGER_H
#define SL_PAGER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/env.h"
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

typedef struct pager pager_t;
typedef struct pager_frame page_t;

typedef struct pager_opts {
	uint32_t page_size;   /* for a new file; 0 = PAGER_DEFAULT_PAGE_SIZE */
	uint64_t cache_bytes; /* buffer pool size; 0 = 8 MiB */
	bool create;          /* create the file when it does not exist */
} pager_opts_t;

typedef struct pager_stats {
	uint64_t hits;        /* pager_get found the page in the pool */
	uint64_t misses;      /* pager_get had to read the page */
	uint64_t evictions;   /* frames reused for another page */
	uint64_t page_reads;  /* pages read from the file */
	uint64_t page_writes; /* pages written to the file, header included */
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

/* Releases one pin on page. */
void pager_unpin(pager_t *p, page_t *page);

/* Records that the caller changed the page's bytes (while holding a pin). */
void pager_mark_dirty(pager_t *p, page_t *page);

/* Pins a new zero-filled dirty page: from the free list, else at the file's end. */
int pager_alloc(pager_t *p, page_t **out, sl_err_t *err);

/* Puts pgno on the free list. It must not be pinned. */
int pager_free(pager_t *p, uint32_t pgno, sl_err_t *err);

/* Writes every dirty page and the header; fsyncs when sync is true. */
int pager_flush(pager_t *p, bool sync, sl_err_t *err);

/* The page's content bytes (usable_size of them) and its number. */
uint8_t *page_data(page_t *page);
uint32_t page_pgno(const page_t *page);

uint32_t pager_page_size(const pager_t *p);
uint32_t pager_usable_size(const pager_t *p); /* page size minus the trailer */
uint32_t pager_page_count(const pager_t *p);
uint32_t pager_free_count(const pager_t *p);
uint32_t pager_frames(const pager_t *p);

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

#endif
