/*
 * pager_int.h — what pager.c and pager_log.c share; nothing outside the pager
 * includes it (the public face is pager.h).
 */
#ifndef SL_PAGER_INT_H
#define SL_PAGER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/pager.h"
#include "engine/wal.h"

/* Header page field offsets (see the table in pager.h). */
enum {
	HDR_MAGIC = 0,
	HDR_VERSION = 8,
	HDR_PAGE_SIZE = 12,
	HDR_PAGE_COUNT = 16,
	HDR_FREE_HEAD = 20,
	HDR_FREE_COUNT = 24,
	HDR_CKPT_SEQ = 160, /* u64: the last logged operation the file includes */
};

#define FREE_TAG "FREE"
#define FREE_NEXT_OFF 4

typedef struct pager_slot {
	uint32_t pgno;  /* page held by the frame */
	uint32_t frame; /* frame index + 1; 0 = empty slot */
} pager_slot_t;

struct pager_frame {
	uint32_t pgno;  /* page held, 0 when the frame is empty */
	uint32_t pins;  /* callers using the bytes now */
	bool dirty;     /* bytes differ from the file */
	bool ref;       /* clock reference bit: used since the hand last passed */
	uint8_t *data;  /* page_size bytes */
};

struct pager {
	env_t *env;
	env_file_t *file;
	uint32_t page_size;   /* bytes per page */
	uint32_t page_count;  /* pages in the file, header included */
	uint32_t free_head;   /* first free page, 0 = none */
	uint32_t free_count;  /* pages on the free list */
	uint8_t meta[PAGER_META_BYTES]; /* owner's metadata */
	bool header_dirty;    /* header fields changed since the last flush */

	page_t *frames;       /* the buffer pool: maxframes entries, the first nframes in use */
	uint8_t *arena;       /* the frames' page bytes, frame i at i * page_size: reserved
	                         address space, memory only where a frame was used */
	uint32_t nframes;     /* frames in use so far (the pool grows up to maxframes) */
	uint32_t maxframes;   /* the pool's size */
	uint32_t hand;        /* clock hand: next frame to consider */
	pager_slot_t *slots;  /* hash table: page number -> frame */
	uint32_t nslots;      /* power of two, >= 2 * nframes (doubled as the pool grows) */
	uint8_t *scratch;     /* one page, for the header and for pager_check */
	pager_stats_t stats;
	uint32_t dirty_count; /* frames holding a dirty page */

	/* The operation log and checkpoints (pager_log.c); logged = false leaves
	 * all of it unused and dirty pages are simply written back on eviction. */
	bool logged;          /* opened with a log: no dirty page goes home early */
	sl_sync_t sync;       /* when log appends are fsynced */
	uint32_t batch_ms;    /* SL_SYNC_BATCH: longest delay before an fsync */
	uint64_t log_limit;   /* checkpoint when the log passes this many bytes, or the
	                         dirty pages' bytes when more (pager_log_limit) */
	wal_t *log;           /* <path>-log: the operations since the checkpoint */
	env_file_t *dwb;      /* <path>-dwb: the double-write buffer of a checkpoint */
	uint64_t dwb_salt;    /* the salt of the buffer's current contents */
	uint64_t dwb_writes;  /* buffers written by this handle (part of each salt) */
	uint8_t *dwb_stage;   /* slots gathered here and written in runs */
	size_t dwb_stage_size;
	uint64_t seq;         /* sequence number of the last logged operation */
	uint64_t ckpt_seq;    /* the last operation the file on disk includes */
	bool broken;          /* a log or checkpoint write failed: refuse changes */
	bool read_only;       /* opened with opts.read_only: nothing is ever written */
	buf_t record;         /* scratch for encoding log records */
};

uint64_t pager_offset(const pager_t *p, uint32_t pgno);
void pager_seal(const pager_t *p, uint8_t *data, uint32_t pgno);
/* Whether a page_size image of page pgno carries its own checksum. */
bool pager_sealed_at(const uint8_t *data, uint32_t page_size, uint32_t pgno);
void pager_encode_header(pager_t *p, uint8_t *h);
int pager_read_header(pager_t *p, sl_err_t *err);
int pager_write_frame(pager_t *p, page_t *f, sl_err_t *err);
/* pager_write_frame for a frame sealed since its last change (a checkpoint's). */
int pager_write_sealed(pager_t *p, page_t *f, sl_err_t *err);
/* The dirty frames in page order; *n of them. The caller frees the array. */
page_t **pager_dirty_frames(pager_t *p, uint32_t *n);

/* pager_log.c */
int pager_log_open(pager_t *p, const char *path, sl_err_t *err);
void pager_log_close(pager_t *p, bool clean);

/* pager_dwb.c */
/* Opens <path>-dwb and copies a complete buffer home — before the header is read,
 * since the header page may be one of the pages it repairs. */
int pager_dwb_open(pager_t *p, const char *path, sl_err_t *err);
/* Seals the dirty pages and the header (into p->scratch) and writes them all to
 * the buffer, synced. */
int pager_dwb_write(pager_t *p, page_t **dirty, uint32_t n, sl_err_t *err);
/* Marks the buffer as holding nothing to repair: its pages are home and synced. */
int pager_dwb_done(pager_t *p, sl_err_t *err);
/* Closes the buffer; after a clean close also empties it. */
void pager_dwb_close(pager_t *p, bool clean);

#endif
