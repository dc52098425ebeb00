/*
 * btree_int.h — what the B+tree's own files share (btree.c, btree_page.c,
 * btree_check.c); the public face is btree.h.
 */
#ifndef SL_BTREE_INT_H
#define SL_BTREE_INT_H

#include "engine/codec.h"
#include "engine/slotted.h"
#include "index/btree.h"
#include "index/oplog.h"

/* Page header offsets (see the table in btree.h): a slotted page (engine/slotted.h)
 * with 2-byte slots, whose owner's 8 bytes hold the links. */
enum {
	PG_KIND = SLOTTED_KIND,
	PG_N = SLOTTED_N,
	PG_CELL_START = SLOTTED_CELL_START,
	PG_FRAG = SLOTTED_FRAG,
	PG_LINK = SLOTTED_OWNER,      /* leaf: right sibling; internal: leftmost child */
	PG_LINK2 = SLOTTED_OWNER + 4, /* leaf: left sibling */
	PG_SLOTS = SLOTTED_SLOTS,
};

/* Metadata offsets in the pager's owner area. */
enum { META_MAGIC = 0, META_VERSION = 8, META_ROOT = 12, META_HEIGHT = 16, META_KEYS = 20 };

struct btree {
	pager_t *pager;        /* pages, the log, checkpoints */
	uint32_t usable;       /* U: bytes of a page the tree may use */
	slotted_t page;        /* the page layout: U, 2-byte slots, bt_cell_size */
	uint32_t max_cell;     /* largest leaf cell kept inline (U - 16) / 4 - 2 */
	uint32_t max_key;      /* largest key accepted */
	uint32_t root;         /* root page */
	uint32_t height;       /* levels, the leaves included */
	uint64_t keys;         /* entries */
	trace_t *trace;        /* narration (points at no_trace when none given) */
	trace_t no_trace;      /* the "off" hook */
	bool replaying;        /* applying the log at open: do not log again */
	bool bulk;             /* in btree_bulk_load: new pages go home at once */
	oplog_t log;           /* the logged write path (index/oplog.h) */
	buf_t scratch;         /* a page image being rebuilt */
	buf_t cells;           /* cell bytes gathered for a split or merge */
	uint8_t *cellbuf;      /* the leaf cell being inserted (max_cell + 32 bytes) */
	btree_stats_t st;      /* counters (height, keys and pages filled in on demand) */
};

/* A root-to-leaf path: the page and the child index taken at each level. */
typedef struct bt_path {
	uint32_t pgno[BTREE_MAX_HEIGHT]; /* pgno[0] = root */
	uint32_t idx[BTREE_MAX_HEIGHT];  /* child taken (0 = leftmost) */
	int depth;                        /* entries used; pgno[depth-1] is the leaf */
} bt_path_t;

/* ---- page field access (btree_page.c has the cell-level helpers) ---- */

static inline uint8_t pg_kind(const uint8_t *d) { return d[PG_KIND]; }
static inline uint32_t pg_n(const uint8_t *d) { return slotted_n(d); }
static inline uint32_t pg_cell_start(const uint8_t *d) { return slotted_cell_start(d); }
static inline uint32_t pg_frag(const uint8_t *d) { return slotted_frag(d); }
static inline uint32_t pg_link(const uint8_t *d) { return codec_get_u32(d + PG_LINK); }
static inline uint32_t pg_link2(const uint8_t *d) { return codec_get_u32(d + PG_LINK2); }
static inline uint32_t pg_slot(const uint8_t *d, uint32_t i) { return codec_get_u16(d + PG_SLOTS + 2 * i); }
static inline void pg_set_link(uint8_t *d, uint32_t v) { codec_put_u32(d + PG_LINK, v); }
static inline void pg_set_link2(uint8_t *d, uint32_t v) { codec_put_u32(d + PG_LINK2, v); }

/* A decoded cell. */
typedef struct bt_cell {
	sl_slice_t key;      /* the key bytes, inside the page */
	uint32_t size;       /* bytes the cell takes (slot not included) */
	uint32_t child;      /* internal: the child page */
	uint64_t vlen;       /* leaf: value length */
	bool overflow;       /* leaf: value in an overflow chain */
	uint32_t ov_pgno;    /* leaf, overflow: first overflow page */
	const uint8_t *value;/* leaf, inline: the value bytes */
} bt_cell_t;

/* btree_page.c */
bool bt_page_sane(const btree_t *t, const uint8_t *d);
bool bt_cell_decode(const btree_t *t, const uint8_t *d, uint32_t i, bt_cell_t *c);
uint32_t bt_search(const btree_t *t, const uint8_t *d, sl_slice_t key, bool *found, bool *bad);
uint32_t bt_page_free(const btree_t *t, const uint8_t *d);
uint32_t bt_page_used(const btree_t *t, const uint8_t *d);
void bt_page_init(const btree_t *t, uint8_t *d, uint8_t kind);
void bt_page_layout(btree_t *t);
/* SL_OK, SL_FULL (does not fit: split) or SL_CORRUPT (a cell of d does not decode). */
int bt_page_insert(btree_t *t, uint8_t *d, uint32_t i, const uint8_t *cell, uint32_t size);
/* SL_OK or SL_CORRUPT; later slots move down, keeping key order. */
int bt_page_remove(btree_t *t, uint8_t *d, uint32_t i);
uint32_t bt_internal_cell_encode(uint8_t *out, sl_slice_t key, uint32_t child);
uint32_t bt_child_at(const btree_t *t, const uint8_t *d, uint32_t idx, bool *bad);

/* btree.c: reads page pgno, checking its header; the caller unpins. */
int bt_fetch(btree_t *t, uint32_t pgno, page_t **out, sl_err_t *err);
int bt_corrupt(btree_t *t, uint32_t pgno, const char *what, sl_err_t *err);

#endif
