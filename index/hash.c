/*
 * hash.c — extendible hashing on the pager (format and rules in hash.h).
 *
 * Breakpoints worth setting: hash_get, hx_insert, hx_split, hx_double.
 */
#include "index/hash.h"

#include <stdlib.h>
#include <string.h>

#include "engine/checksum.h"
#include "engine/codec.h"
#include "engine/slotted.h"
#include "index/oplog.h"
#include "index/overflow.h"

/* A bucket is a slotted page (engine/slotted.h) whose slots also hold each
 * entry's hash, the owner byte its local depth, the owner's bytes its chain. */
enum { HB_KIND = SLOTTED_KIND, HB_DEPTH = SLOTTED_AUX, HB_N = SLOTTED_N,
       HB_CELL_START = SLOTTED_CELL_START, HB_FRAG = SLOTTED_FRAG, HB_NEXT = SLOTTED_OWNER,
       HB_SLOTS = SLOTTED_SLOTS };
enum { HD_NEXT = 4, HD_COUNT = 8, HD_ENTRIES = 12 };
enum { META_MAGIC = 0, META_VERSION = 8, META_DEPTH = 12, META_DIR = 16, META_SEED = 20,
       META_KEYS = 28, META_BUCKETS = 36 };
#define HB_SLOT_BYTES 10
#define HASH_KIND_BUCKET 1   /* on disk — never renumber */
#define HASH_KIND_DIR 2
#define HASH_DEFAULT_SEED UINT64_C(0x9e3779b97f4a7c15)

struct hash {
	pager_t *pager;       /* pages, the log, checkpoints */
	uint32_t usable;      /* U */
	slotted_t bucket;     /* the bucket layout: U, 10-byte slots, kvcell sizes */
	uint32_t max_cell;    /* largest cell kept inline: (U - 16) / 4 - slot */
	uint32_t max_key;     /* largest key accepted */
	uint64_t seed;        /* hash seed, from the metadata */
	uint32_t gdepth;      /* global depth G */
	uint32_t max_depth;   /* G never grows past this */
	uint32_t *dir;        /* 2^G bucket page numbers, in memory */
	uint32_t *dirpages;   /* the directory's pages, in chain order */
	uint32_t ndirpages;   /* how many */
	uint32_t per_dirpage; /* entries one directory page holds */
	uint64_t keys;        /* entries */
	uint64_t buckets;     /* bucket pages at the heads of chains */
	trace_t *trace;       /* narration */
	trace_t no_trace;     /* the "off" hook */
	bool replaying;       /* applying the log at open */
	oplog_t log;          /* the logged write path (index/oplog.h) */
	buf_t scratch;        /* a page image being rebuilt */
	buf_t cells;          /* cells gathered for a split */
	uint8_t *cellbuf;     /* one cell being encoded (max_cell + 32 bytes) */
	hash_stats_t st;      /* counters */
};

uint32_t hash_max_key(uint32_t page_size)
{
	uint32_t usable = page_size - PAGER_TRAILER_BYTES;
	uint32_t k = (usable - HB_SLOTS) / 4 - HB_SLOT_BYTES - 16;
	return k > 1000 ? 1000 : k;
}

static int hx_corrupt(hash_t *h, uint32_t pgno, const char *what, sl_err_t *err)
{
	return sl_errf(err, SL_CORRUPT, "%s: page %u: %s", pager_path(h->pager), pgno, what);
}

static uint64_t hx_hash(const hash_t *h, sl_slice_t key)
{
	return checksum_xxh3(key.data, key.len, h->seed);
}

static uint32_t hx_slot(const hash_t *h, uint64_t hv)
{
	return (uint32_t)(hv & ((UINT64_C(1) << h->gdepth) - 1));
}

/* ---------------------------------------------------------------- bucket pages */

static inline uint32_t hb_off(const uint8_t *d, uint32_t i) { return codec_get_u16(d + HB_SLOTS + HB_SLOT_BYTES * i); }
static inline uint64_t hb_hash(const uint8_t *d, uint32_t i) { return codec_get_u64(d + HB_SLOTS + HB_SLOT_BYTES * i + 2); }

static bool hb_sane(const hash_t *h, const uint8_t *d)
{
	return d[HB_KIND] == HASH_KIND_BUCKET && d[HB_DEPTH] <= HASH_MAX_DEPTH &&
	       slotted_sane(&h->bucket, d);
}

static void hb_init(const hash_t *h, uint8_t *d, uint32_t depth)
{
	slotted_init(&h->bucket, d, HASH_KIND_BUCKET);
	d[HB_DEPTH] = (uint8_t)depth;
}

static bool hb_cell(const hash_t *h, const uint8_t *d, uint32_t i, kvcell_t *c)
{
	uint32_t off = hb_off(d, i);
	if (off < slotted_cell_start(d) || off >= h->usable)
		return false;
	return kvcell_decode(d + off, d + h->usable, c);
}

/* The slotted page's question: how long is the entry at off? */
static bool hb_cell_size(const void *ctx, const uint8_t *d, uint32_t off, uint32_t *size)
{
	const hash_t *h = ctx;
	kvcell_t c;
	if (!kvcell_decode(d + off, d + h->usable, &c))
		return false;
	*size = c.size;
	return true;
}

/* Adds a cell (slots are unordered: it goes last) with its hash in the slot:
 * SL_OK, SL_FULL when it does not fit, SL_CORRUPT when a cell of d does not decode. */
static int hb_insert(hash_t *h, uint8_t *d, uint64_t hv, const uint8_t *cell, uint32_t size)
{
	uint32_t n = slotted_n(d);
	int rc = slotted_insert(&h->bucket, d, n, cell, size);
	if (rc == SL_OK)
		codec_put_u64(slotted_slot(&h->bucket, d, n) + 2, hv);
	return rc;
}

/* Looks key up in one bucket page; the index of its entry, or -1. */
static int64_t hb_find(const hash_t *h, const uint8_t *d, uint64_t hv, sl_slice_t key, bool *bad)
{
	*bad = false;
	for (uint32_t i = 0; i < slotted_n(d); i++) {
		if (hb_hash(d, i) != hv)
			continue;
		kvcell_t c;
		if (!hb_cell(h, d, i, &c)) {
			*bad = true;
			return -1;
		}
		if (sl_slice_eq(c.key, key))
			return i;
	}
	return -1;
}

uint32_t hash_bucket_bytes(const hash_t *h)
{
	return h->usable;
}

bool hash_bucket_decodes(const hash_t *h, const uint8_t *d, const char **why)
{
	if (!hb_sane(h, d)) {
		*why = "the bucket header is out of range";
		return false;
	}
	for (uint32_t i = 0; i < slotted_n(d); i++) {
		kvcell_t c;
		bool bad;
		if (!hb_cell(h, d, i, &c)) {
			*why = "an entry does not decode";
			return false;
		}
		if (hb_find(h, d, hb_hash(d, i), c.key, &bad) < 0 || bad) {
			*why = "an entry cannot be found by its stored hash";
			return false;
		}
	}
	return true;
}

static int hx_fetch(hash_t *h, uint32_t pgno, page_t **out, sl_err_t *err)
{
	int rc = pager_get(h->pager, pgno, out, err);
	if (rc == SL_OK && !hb_sane(h, page_data(*out))) {
		pager_unpin(h->pager, *out);
		return hx_corrupt(h, pgno, "not a bucket page (bad kind, depth, count or cell area)", err);
	}
	return rc;
}

/* ---------------------------------------------------------------- the directory */

static void hx_meta_save(hash_t *h)
{
	uint8_t *m = pager_meta(h->pager);
	memset(m, 0, 48);
	memcpy(m + META_MAGIC, HASH_MAGIC, 7);
	codec_put_u32(m + META_VERSION, HASH_VERSION);
	codec_put_u32(m + META_DEPTH, h->gdepth);
	codec_put_u32(m + META_DIR, h->ndirpages ? h->dirpages[0] : 0);
	codec_put_u64(m + META_SEED, h->seed);
	codec_put_u64(m + META_KEYS, h->keys);
	codec_put_u64(m + META_BUCKETS, h->buckets);
	pager_meta_dirty(h->pager);
}

/* Writes directory entries [from, to) into their pages. */
static int hx_dir_write(hash_t *h, uint64_t from, uint64_t to, sl_err_t *err)
{
	for (uint64_t i = from; i < to;) {
		uint32_t pi = (uint32_t)(i / h->per_dirpage);
		page_t *pg;
		int rc = pager_get(h->pager, h->dirpages[pi], &pg, err);
		if (rc != SL_OK)
			return rc;
		uint8_t *d = page_data(pg);
		uint64_t end = (uint64_t)(pi + 1) * h->per_dirpage;
		for (; i < to && i < end; i++)
			codec_put_u32(d + HD_ENTRIES + 4 * (i % h->per_dirpage), h->dir[i]);
		pager_mark_dirty(h->pager, pg);
		pager_unpin(h->pager, pg);
	}
	return SL_OK;
}

/* Makes sure the directory has pages for `entries` entries, chained. */
static int hx_dir_grow_pages(hash_t *h, uint64_t entries, sl_err_t *err)
{
	uint32_t need = (uint32_t)((entries + h->per_dirpage - 1) / h->per_dirpage);
	uint32_t *grown = realloc(h->dirpages, need * sizeof *grown);
	if (grown == NULL)
		return sl_errf(err, SL_NOMEM, "hash: out of memory for the directory");
	h->dirpages = grown;
	while (h->ndirpages < need) {
		page_t *pg;
		int rc = pager_alloc(h->pager, &pg, err);
		if (rc != SL_OK)
			return rc;
		uint8_t *d = page_data(pg);
		d[0] = HASH_KIND_DIR;
		codec_put_u32(d + HD_COUNT, h->per_dirpage);
		uint32_t pgno = page_pgno(pg);
		pager_unpin(h->pager, pg);
		if (h->ndirpages > 0) {
			page_t *prev;
			if ((rc = pager_get(h->pager, h->dirpages[h->ndirpages - 1], &prev, err)) != SL_OK)
				return rc;
			codec_put_u32(page_data(prev) + HD_NEXT, pgno);
			pager_mark_dirty(h->pager, prev);
			pager_unpin(h->pager, prev);
		}
		h->dirpages[h->ndirpages++] = pgno;
	}
	return SL_OK;
}

/* Reads the directory chain into memory. */
static int hx_dir_load(hash_t *h, uint32_t first, sl_err_t *err)
{
	uint64_t entries = UINT64_C(1) << h->gdepth;
	uint32_t npages = (uint32_t)((entries + h->per_dirpage - 1) / h->per_dirpage);
	h->dir = malloc(entries * sizeof *h->dir);
	h->dirpages = malloc(npages * sizeof *h->dirpages);
	if (h->dir == NULL || h->dirpages == NULL)
		return sl_errf(err, SL_NOMEM, "hash: out of memory for the directory");
	uint32_t pgno = first;
	for (uint64_t i = 0; i < entries;) {
		page_t *pg;
		int rc = pgno ? pager_get(h->pager, pgno, &pg, err)
			      : hx_corrupt(h, 0, "directory chain ends early", err);
		if (rc != SL_OK)
			return rc;
		const uint8_t *d = page_data(pg);
		bool ok = d[0] == HASH_KIND_DIR && codec_get_u32(d + HD_COUNT) == h->per_dirpage;
		for (uint32_t k = 0; ok && k < h->per_dirpage && i < entries; k++, i++)
			h->dir[i] = codec_get_u32(d + HD_ENTRIES + 4 * k);
		uint32_t next = codec_get_u32(d + HD_NEXT);
		pager_unpin(h->pager, pg);
		if (!ok)
			return hx_corrupt(h, pgno, "not a directory page", err);
		h->dirpages[h->ndirpages++] = pgno;
		pgno = next;
	}
	return SL_OK;
}

/* Doubles the directory: entry j + 2^G starts as a copy of entry j. */
static int hx_double(hash_t *h, sl_err_t *err)
{
	uint64_t old = UINT64_C(1) << h->gdepth;
	uint32_t *grown = realloc(h->dir, 2 * old * sizeof *grown);
	if (grown == NULL)
		return sl_errf(err, SL_NOMEM, "hash: out of memory for the directory");
	h->dir = grown;
	memcpy(h->dir + old, h->dir, old * sizeof *h->dir);
	int rc = hx_dir_grow_pages(h, 2 * old, err);
	if (rc != SL_OK)
		return rc;
	h->gdepth++;
	h->st.doublings++;
	if (trace_on(h->trace))
		trace_emit(h->trace, "directory doubles to %llu entries (global depth %u)",
			   (unsigned long long)(2 * old), h->gdepth);
	return hx_dir_write(h, old, 2 * old, err);
}

/* Points every directory entry of the bucket (pattern, depth) whose bit `depth`
 * is `bit` at pgno. */
static int hx_dir_point(hash_t *h, uint64_t pattern, uint32_t depth, uint32_t bit, uint32_t pgno,
			sl_err_t *err)
{
	uint64_t stride = UINT64_C(1) << (depth + 1), entries = UINT64_C(1) << h->gdepth;
	uint64_t start = pattern | ((uint64_t)bit << depth);
	for (uint64_t j = start; j < entries; j += stride) {
		h->dir[j] = pgno;
		int rc = hx_dir_write(h, j, j + 1, err);
		if (rc != SL_OK)
			return rc;
	}
	return SL_OK;
}

/* ---------------------------------------------------------------- splitting */

/* Splits the bucket the directory entry idx points at on its bit d. */
static int hx_split(hash_t *h, uint64_t idx, sl_err_t *err)
{
	page_t *pp, *qp = NULL;
	int rc = hx_fetch(h, h->dir[idx], &pp, err);
	if (rc != SL_OK)
		return rc;
	uint8_t *p = page_data(pp);
	uint32_t d = p[HB_DEPTH], n = slotted_n(p);
	if (codec_get_u32(p + HB_NEXT) != 0 || d >= h->gdepth) {
		pager_unpin(h->pager, pp);
		return hx_corrupt(h, page_pgno(pp), "bucket to split has a chain or full depth", err);
	}
	/* Copy the page out, then deal its entries to the two halves by bit d. */
	buf_set(&h->cells, p, h->usable);
	if (!buf_ok(&h->cells) || (rc = pager_alloc(h->pager, &qp, err)) != SL_OK) {
		pager_unpin(h->pager, pp);
		return rc != SL_OK ? rc : sl_errf(err, SL_NOMEM, "hash: out of memory");
	}
	const uint8_t *img = h->cells.data;
	uint8_t *q = page_data(qp);
	hb_init(h, p, d + 1);
	hb_init(h, q, d + 1);
	for (uint32_t i = 0; i < n; i++) {
		kvcell_t c;
		if (!hb_cell(h, img, i, &c)) {
			rc = hx_corrupt(h, page_pgno(pp), "an entry does not decode", err);
			break;
		}
		uint64_t hv = hb_hash(img, i);
		/* Half of what one page held fits an empty page — unless the cells overlap. */
		if (hb_insert(h, (hv >> d) & 1 ? q : p, hv, img + hb_off(img, i), c.size) != SL_OK) {
			rc = hx_corrupt(h, page_pgno(pp), "entries add up to more than a page (they overlap)",
					err);
			break;
		}
	}
	uint64_t pattern = idx & ((UINT64_C(1) << d) - 1);
	uint32_t qpgno = page_pgno(qp), ppgno = page_pgno(pp), nq = slotted_n(q);
	if (rc != SL_OK) {
		/* Damage: the bucket goes back as it was (still reporting itself damaged to
		 * check and to gets), and the new page back to the free list. */
		memcpy(p, img, h->usable);
		pager_unpin(h->pager, pp);
		pager_unpin(h->pager, qp);
		pager_free(h->pager, qpgno, NULL);
		return rc;
	}
	pager_mark_dirty(h->pager, pp);
	pager_unpin(h->pager, pp);
	pager_unpin(h->pager, qp);
	rc = hx_dir_point(h, pattern, d, 1, qpgno, err);
	h->buckets++;
	h->st.splits++;
	if (trace_on(h->trace))
		trace_emit(h->trace, "split bucket %u (local depth %u): %u entries stay, %u move to "
			   "new bucket %u", ppgno, d, n - nq, nq, qpgno);
	return rc;
}

/* ---------------------------------------------------------------- operations */

/* Removes key from its bucket chain if it is there (freeing an overflow value). */
/* Unlinks an emptied chained page (not a bucket's head) and frees it. */
static int hx_unchain(hash_t *h, uint32_t prev, uint32_t pgno, uint32_t next, sl_err_t *err)
{
	page_t *pp;
	int rc = hx_fetch(h, prev, &pp, err);
	if (rc != SL_OK)
		return rc;
	codec_put_u32(page_data(pp) + HB_NEXT, next);
	pager_mark_dirty(h->pager, pp);
	pager_unpin(h->pager, pp);
	return pager_free(h->pager, pgno, err);
}

/* Removes key from its bucket chain if it is there (freeing an overflow value,
 * and a chained page it leaves empty). */
/* Removes key's entry from the bucket page d, freeing its overflow pages: *removed
 * when there was one, *bad when an entry of d does not decode. */
static int hb_remove_key(hash_t *h, uint8_t *d, uint64_t hv, sl_slice_t key, bool *removed,
			 bool *bad, sl_err_t *err)
{
	*removed = false;
	int64_t i = hb_find(h, d, hv, key, bad);
	kvcell_t c;
	if (i < 0 || !hb_cell(h, d, (uint32_t)i, &c))
		return SL_OK;
	int rc = c.overflow ? overflow_free(h->pager, c.ov_pgno, err) : SL_OK;
	*bad = slotted_remove(&h->bucket, d, (uint32_t)i, false) != SL_OK;
	*removed = !*bad;
	return rc;
}

static int hx_remove(hash_t *h, uint64_t hv, sl_slice_t key, bool *removed, sl_err_t *err)
{
	*removed = false;
	uint32_t prev = 0;
	for (uint32_t pgno = h->dir[hx_slot(h, hv)], hops = 0; pgno != 0; hops++) {
		page_t *pg;
		int rc = hops > pager_page_count(h->pager) ? hx_corrupt(h, pgno, "chain loops", err)
							   : hx_fetch(h, pgno, &pg, err);
		if (rc != SL_OK)
			return rc;
		uint8_t *d = page_data(pg);
		bool bad;
		rc = hb_remove_key(h, d, hv, key, removed, &bad, err);
		if (*removed || bad)
			pager_mark_dirty(h->pager, pg);
		uint32_t next = codec_get_u32(d + HB_NEXT), n = slotted_n(d);
		pager_unpin(h->pager, pg);
		if (bad)
			return hx_corrupt(h, pgno, "an entry does not decode", err);
		if (rc == SL_OK && *removed && n == 0 && prev != 0)
			rc = hx_unchain(h, prev, pgno, next, err);
		if (rc != SL_OK || *removed)
			return rc;
		prev = pgno;
		pgno = next;
	}
	return SL_OK;
}

/*
 * The bucket at directory entry idx is empty: fold it into its buddy (the bucket
 * that differs in bit d-1) when the buddy has the same depth and no chain. The
 * buddy's depth drops to d-1, every entry of either points at it, and the empty
 * page goes back to the free list.
 */
static int hx_merge(hash_t *h, uint64_t idx, sl_err_t *err)
{
	page_t *ep, *bp;
	int rc = hx_fetch(h, h->dir[idx], &ep, err);
	if (rc != SL_OK)
		return rc;
	uint32_t d = page_data(ep)[HB_DEPTH], epgno = page_pgno(ep);
	bool empty = slotted_n(page_data(ep)) == 0 && codec_get_u32(page_data(ep) + HB_NEXT) == 0;
	pager_unpin(h->pager, ep);
	if (!empty || d == 0)
		return SL_OK;
	uint64_t pattern = idx & ((UINT64_C(1) << (d - 1)) - 1);
	uint64_t buddy = (idx & ((UINT64_C(1) << d) - 1)) ^ (UINT64_C(1) << (d - 1));
	if ((rc = hx_fetch(h, h->dir[buddy], &bp, err)) != SL_OK)
		return rc;
	uint8_t *b = page_data(bp);
	bool fits = b[HB_DEPTH] == d && codec_get_u32(b + HB_NEXT) == 0;
	if (fits) {
		b[HB_DEPTH] = (uint8_t)(d - 1);
		pager_mark_dirty(h->pager, bp);
	}
	uint32_t bpgno = page_pgno(bp);
	bool buddy_empty = slotted_n(b) == 0;
	pager_unpin(h->pager, bp);
	if (!fits)
		return SL_OK;
	if ((rc = hx_dir_point(h, pattern, d - 1, 0, bpgno, err)) == SL_OK)
		rc = hx_dir_point(h, pattern, d - 1, 1, bpgno, err);
	if (rc == SL_OK)
		rc = pager_free(h->pager, epgno, err);
	h->buckets--;
	h->st.merges++;
	if (trace_on(h->trace))
		trace_emit(h->trace, "bucket %u emptied: merged into its buddy %u (local depth %u)",
			   epgno, bpgno, d - 1);
	/* Two empty buddies make an empty bucket one level up: fold on. */
	return rc == SL_OK && buddy_empty ? hx_merge(h, idx, err) : rc;
}

/* Puts the cell into the first page of the chain with room; *done when it did. */
static int hx_place(hash_t *h, uint64_t hv, const uint8_t *cell, uint32_t size, bool *done,
		    uint32_t *last, sl_err_t *err)
{
	*done = false;
	for (uint32_t pgno = h->dir[hx_slot(h, hv)]; pgno != 0;) {
		page_t *pg;
		int rc = hx_fetch(h, pgno, &pg, err);
		if (rc != SL_OK)
			return rc;
		uint8_t *d = page_data(pg);
		rc = hb_insert(h, d, hv, cell, size);
		*done = rc == SL_OK;
		if (*done)
			pager_mark_dirty(h->pager, pg);
		*last = pgno;
		pgno = codec_get_u32(d + HB_NEXT);
		pager_unpin(h->pager, pg);
		if (rc == SL_CORRUPT)
			return hx_corrupt(h, *last, "an entry does not decode", err);
		if (*done)
			return SL_OK;
	}
	return SL_OK;
}

/* Hangs a new page off the end of a chain (keys agreeing on all usable bits). */
static int hx_chain(hash_t *h, uint32_t last, sl_err_t *err)
{
	page_t *tail, *np;
	int rc = hx_fetch(h, last, &tail, err);
	if (rc != SL_OK)
		return rc;
	if ((rc = pager_alloc(h->pager, &np, err)) == SL_OK) {
		hb_init(h, page_data(np), page_data(tail)[HB_DEPTH]);
		codec_put_u32(page_data(tail) + HB_NEXT, page_pgno(np));
		pager_mark_dirty(h->pager, tail);
		pager_unpin(h->pager, np);
		h->st.chained_pages++;
	}
	pager_unpin(h->pager, tail);
	return rc;
}

/*
 * The common put in one visit of its bucket: the bucket has no chain, so the key
 * can only be on its head page; an old entry is removed there and the new cell
 * placed there when it fits. *done when it was; *removed when an old entry went.
 */
static int hx_insert_head(hash_t *h, uint64_t hv, sl_slice_t key, const uint8_t *cell,
			  uint32_t size, bool *removed, bool *done, sl_err_t *err)
{
	*removed = *done = false;
	uint32_t pgno = h->dir[hx_slot(h, hv)];
	page_t *pg;
	int rc = hx_fetch(h, pgno, &pg, err);
	if (rc != SL_OK)
		return rc;
	uint8_t *d = page_data(pg);
	bool bad = false;
	if (codec_get_u32(d + HB_NEXT) == 0) {
		rc = hb_remove_key(h, d, hv, key, removed, &bad, err);
		int irc = rc == SL_OK && !bad ? hb_insert(h, d, hv, cell, size) : SL_FULL;
		bad |= irc == SL_CORRUPT;
		*done = irc == SL_OK;
		if (*removed || *done)
			pager_mark_dirty(h->pager, pg);
	}
	pager_unpin(h->pager, pg);
	return bad ? hx_corrupt(h, pgno, "an entry does not decode", err) : rc;
}

static int hx_insert(hash_t *h, sl_slice_t key, sl_slice_t value, sl_err_t *err)
{
	uint64_t hv = hx_hash(h, key);
	uint8_t *cell = h->cellbuf;
	uint32_t n = 0;
	bool removed = false, done = false;
	int rc = kvcell_make(h->pager, h->max_cell, key, value, false, cell, &n, err);
	if (rc == SL_OK)
		rc = hx_insert_head(h, hv, key, cell, n, &removed, &done, err);
	/* A chained bucket, or a full one: remove from wherever the key is, then place,
	 * splitting a full bucket (the directory doubling first if it must). */
	if (rc == SL_OK && !done && !removed)
		rc = hx_remove(h, hv, key, &removed, err);
	while (rc == SL_OK && !done) {
		uint32_t last = 0;
		rc = hx_place(h, hv, cell, (uint32_t)n, &done, &last, err);
		if (rc != SL_OK || done)
			break;
		page_t *head;
		if ((rc = hx_fetch(h, h->dir[hx_slot(h, hv)], &head, err)) != SL_OK)
			break;
		uint32_t d = page_data(head)[HB_DEPTH];
		bool chained = codec_get_u32(page_data(head) + HB_NEXT) != 0;
		pager_unpin(h->pager, head);
		if (!chained && d < h->gdepth)
			rc = hx_split(h, hx_slot(h, hv), err);
		else if (!chained && h->gdepth < h->max_depth)
			rc = hx_double(h, err);
		else
			rc = hx_chain(h, last, err);
	}
	if (rc == SL_OK && !removed)
		h->keys++;
	return rc;
}

static int hx_delete(hash_t *h, sl_slice_t key, sl_err_t *err)
{
	bool removed;
	uint64_t hv = hx_hash(h, key);
	int rc = hx_remove(h, hv, key, &removed, err);
	if (rc == SL_OK && removed) {
		h->keys--;
		rc = hx_merge(h, hx_slot(h, hv), err);
	}
	return rc;
}

int hash_get(hash_t *h, sl_slice_t key, buf_t *value, sl_err_t *err)
{
	uint64_t hv = hx_hash(h, key);
	uint64_t idx = hx_slot(h, hv);
	h->st.gets++;
	if (trace_on(h->trace))
		trace_emit(h->trace, "hash %016llx -> directory slot %llu of %llu -> bucket page %u",
			   (unsigned long long)hv, (unsigned long long)idx,
			   (unsigned long long)(UINT64_C(1) << h->gdepth), h->dir[idx]);
	for (uint32_t pgno = h->dir[idx], hops = 0; pgno != 0; hops++) {
		page_t *pg;
		int rc = hops > pager_page_count(h->pager) ? hx_corrupt(h, pgno, "chain loops", err)
							   : hx_fetch(h, pgno, &pg, err);
		if (rc != SL_OK)
			return rc;
		h->st.get_pages++;
		const uint8_t *d = page_data(pg);
		bool bad;
		int64_t i = hb_find(h, d, hv, key, &bad);
		kvcell_t c;
		if (i >= 0 && hb_cell(h, d, (uint32_t)i, &c)) {
			buf_clear(value);
			rc = kvcell_value(h->pager, &c, value, err);
			if (trace_on(h->trace))
				trace_emit(h->trace, "page %u: %u entries; slot %lld holds the key", pgno,
					   slotted_n(d), (long long)i);
			pager_unpin(h->pager, pg);
			return rc;
		}
		uint32_t next = codec_get_u32(d + HB_NEXT);
		pager_unpin(h->pager, pg);
		if (bad)
			return hx_corrupt(h, pgno, "an entry does not decode", err);
		pgno = next;
	}
	if (trace_on(h->trace))
		trace_emit(h->trace, "bucket page %u: no entry with this hash and key", h->dir[idx]);
	return SL_NOTFOUND;
}

/* ---------------------------------------------------------------- logged writes */

static int hx_apply(void *ctx, sl_slice_t rep, sl_err_t *err)
{
	hash_t *h = ctx;
	batch_reader_t r;
	int rc = batch_reader_init(&r, rep, err);
	int op;
	sl_slice_t k, v;
	while (rc == SL_OK && (rc = batch_reader_next(&r, &op, &k, &v, err)) == SL_OK)
		rc = op == BATCH_OP_PUT ? hx_insert(h, k, v, err) : hx_delete(h, k, err);
	if (rc != SL_NOTFOUND)
		return rc;
	hx_meta_save(h);
	return SL_OK;
}

static int hx_check_sizes(void *ctx, sl_slice_t key, sl_slice_t value, bool put,
			  sl_err_t *err)
{
	const hash_t *h = ctx;
	if (key.len > h->max_key)
		return sl_errf(err, SL_INVALID, "hash: key of %zu bytes exceeds the %u-byte limit",
			       key.len, h->max_key);
	if (put && value.len > HASH_MAX_VALUE)
		return sl_errf(err, SL_INVALID, "hash: value of %zu bytes exceeds the %u-byte limit",
			       value.len, HASH_MAX_VALUE);
	return SL_OK;
}

int hash_put(hash_t *h, sl_slice_t key, sl_slice_t value, sl_err_t *err)
{
	return oplog_put(&h->log, key, value, err);
}

int hash_del(hash_t *h, sl_slice_t key, sl_err_t *err)
{
	return oplog_del(&h->log, key, err);
}

int hash_write(hash_t *h, const batch_t *b, sl_err_t *err)
{
	return oplog_write(&h->log, b, err);
}

int hash_sync(hash_t *h, sl_err_t *err)
{
	return pager_log_sync(h->pager, err);
}

/* ---------------------------------------------------------------- open/close */

/* A new index: one bucket, a one-entry directory (global depth 0). */
static int hx_create(hash_t *h, uint64_t seed, sl_err_t *err)
{
	page_t *b;
	int rc = pager_alloc(h->pager, &b, err);
	if (rc != SL_OK)
		return rc;
	hb_init(h, page_data(b), 0);
	h->seed = seed ? seed : HASH_DEFAULT_SEED;
	h->gdepth = 0;
	h->buckets = 1;
	h->dir = malloc(sizeof *h->dir);
	if (h->dir == NULL) {
		pager_unpin(h->pager, b);
		return sl_errf(err, SL_NOMEM, "hash: out of memory");
	}
	h->dir[0] = page_pgno(b);
	pager_unpin(h->pager, b);
	rc = hx_dir_grow_pages(h, 1, err);
	if (rc == SL_OK)
		rc = hx_dir_write(h, 0, 1, err);
	hx_meta_save(h);
	return rc == SL_OK ? pager_checkpoint(h->pager, err) : rc;
}

static int hx_load(hash_t *h, uint64_t seed, sl_err_t *err)
{
	const uint8_t *m = pager_meta(h->pager);
	static const uint8_t zero[8];
	if (memcmp(m, zero, 8) == 0 && pager_page_count(h->pager) == 1)
		return hx_create(h, seed, err);
	if (memcmp(m + META_MAGIC, HASH_MAGIC, 7) != 0)
		return sl_errf(err, SL_CORRUPT, "%s: not a hash index (its paged file belongs to "
			       "another structure)", pager_path(h->pager));
	uint32_t version = codec_get_u32(m + META_VERSION);
	if (version != HASH_VERSION)
		return sl_errf(err, SL_NOTSUP, "%s: hash format version %u, this build reads %u",
			       pager_path(h->pager), version, HASH_VERSION);
	h->gdepth = codec_get_u32(m + META_DEPTH);
	h->seed = codec_get_u64(m + META_SEED);
	h->keys = codec_get_u64(m + META_KEYS);
	h->buckets = codec_get_u64(m + META_BUCKETS);
	if (h->gdepth > HASH_MAX_DEPTH)
		return sl_errf(err, SL_CORRUPT, "%s: global depth %u in the metadata",
			       pager_path(h->pager), h->gdepth);
	return hx_dir_load(h, codec_get_u32(m + META_DIR), err);
}

int hash_open(env_t *env, const char *path, const hash_opts_t *opts, hash_t **out,
	      sl_err_t *err)
{
	*out = NULL;
	hash_opts_t o = opts ? *opts : (hash_opts_t){ 0 };
	uint32_t ps = o.page_size ? o.page_size : PAGER_DEFAULT_PAGE_SIZE;
	/* Room for one operation's dirty pages: a value's overflow chain and a split. */
	uint64_t min_cache = (4 * (HASH_MAX_VALUE / (ps - 64) + 1) + 128) * ps;
	uint64_t cache = o.cache_bytes ? o.cache_bytes : pager_default_cache();
	pager_opts_t po = { .page_size = ps, .cache_bytes = cache < min_cache ? min_cache : cache,
			    .create = o.create, .logged = true, .sync = o.sync,
			    .batch_ms = o.batch_ms, .read_only = o.read_only };
	hash_t *h = calloc(1, sizeof *h);
	if (h == NULL)
		return sl_errf(err, SL_NOMEM, "hash: out of memory");
	h->trace = o.trace ? o.trace : &h->no_trace;
	h->max_depth = o.max_depth && o.max_depth < HASH_MAX_DEPTH ? o.max_depth : HASH_MAX_DEPTH;
	int rc = pager_open(env, path, &po, &h->pager, err);
	oplog_init(&h->log, h->pager, hx_check_sizes, hx_apply, h);
	if (rc == SL_OK) {
		h->usable = pager_usable_size(h->pager);
		h->max_cell = (h->usable - HB_SLOTS) / 4 - HB_SLOT_BYTES;
		h->max_key = hash_max_key(pager_page_size(h->pager));
		h->per_dirpage = (h->usable - HD_ENTRIES) / 4;
		h->cellbuf = malloc(h->max_cell + 32);
		rc = buf_extend(&h->scratch, h->usable) && h->cellbuf
			     ? SL_OK : sl_errf(err, SL_NOMEM, "hash: out of memory");
		h->bucket = (slotted_t){ h->usable, HB_SLOT_BYTES, hb_cell_size, h, h->scratch.data };
	}
	if (rc == SL_OK)
		rc = hx_load(h, o.seed, err);
	if (rc == SL_OK) {
		h->replaying = true;
		rc = pager_replay(h->pager, hx_apply, h, err);
		h->replaying = false;
	}
	if (rc != SL_OK) {
		if (h->pager)
			pager_set_broken(h->pager);
		hash_close(h, NULL);
		return rc;
	}
	*out = h;
	return SL_OK;
}

int hash_close(hash_t *h, sl_err_t *err)
{
	if (h == NULL)
		return SL_OK;
	int rc = pager_close(h->pager, err);
	free(h->dir);
	free(h->dirpages);
	free(h->cellbuf);
	oplog_free(&h->log);
	buf_free(&h->scratch);
	buf_free(&h->cells);
	free(h);
	return rc;
}

/* ---------------------------------------------------------------- buckets */

uint32_t hash_global_depth(const hash_t *h)
{
	return h->gdepth;
}

/* Adds up one bucket's chain into b. */
static int hx_bucket_sum(hash_t *h, hash_bucket_t *b, sl_err_t *err)
{
	for (uint32_t pgno = b->pgno; pgno != 0;) {
		page_t *pg;
		int rc = hx_fetch(h, pgno, &pg, err);
		if (rc != SL_OK)
			return rc;
		const uint8_t *d = page_data(pg);
		b->pages++;
		b->entries += slotted_n(d);
		b->used += SLOTTED_SLOTS + slotted_used(&h->bucket, d);
		b->usable += h->usable;
		pgno = codec_get_u32(d + HB_NEXT);
		pager_unpin(h->pager, pg);
	}
	return SL_OK;
}

/*
 * Calls fn once per bucket with its head page, pattern, depth and directory
 * entries (pages, entries and bytes left 0): a bucket of depth d owns the
 * entries j ≡ pattern (mod 2^d), and is visited at j = pattern.
 */
static int hx_each_head(hash_t *h, hash_bucket_fn fn, void *ctx, sl_err_t *err)
{
	uint64_t entries = UINT64_C(1) << h->gdepth;
	int rc = SL_OK;
	for (uint64_t j = 0; rc == SL_OK && j < entries; j++) {
		page_t *pg;
		if ((rc = hx_fetch(h, h->dir[j], &pg, err)) != SL_OK)
			break;
		hash_bucket_t b = { .pgno = h->dir[j], .pattern = j, .depth = page_data(pg)[HB_DEPTH] };
		pager_unpin(h->pager, pg);
		if (j >= (UINT64_C(1) << b.depth))
			continue;
		b.slots = UINT64_C(1) << (h->gdepth - b.depth);
		rc = fn(ctx, &b);
	}
	return rc;
}

typedef struct hx_sum {
	hash_t *h;
	hash_bucket_fn fn;
	void *ctx;
	sl_err_t *err;
} hx_sum_t;

static int hx_sum_visit(void *ctx, const hash_bucket_t *head)
{
	hx_sum_t *s = ctx;
	hash_bucket_t b = *head;
	int rc = hx_bucket_sum(s->h, &b, s->err);
	return rc == SL_OK ? s->fn(s->ctx, &b) : rc;
}

int hash_buckets(hash_t *h, hash_bucket_fn fn, void *ctx, sl_err_t *err)
{
	hx_sum_t s = { h, fn, ctx, err };
	return hx_each_head(h, hx_sum_visit, &s, err);
}

/* ---------------------------------------------------------------- foreach */

/* Every entry of one bucket chain, in no order. */
static int hx_foreach_bucket(hash_t *h, uint32_t head, hash_visit_fn visit, void *ctx,
			     buf_t *value, sl_err_t *err)
{
	for (uint32_t pgno = head; pgno != 0;) {
		page_t *pg;
		int rc = hx_fetch(h, pgno, &pg, err);
		if (rc != SL_OK)
			return rc;
		const uint8_t *d = page_data(pg);
		for (uint32_t i = 0; rc == SL_OK && i < slotted_n(d); i++) {
			kvcell_t c;
			if (!hb_cell(h, d, i, &c)) {
				rc = hx_corrupt(h, pgno, "an entry does not decode", err);
				break;
			}
			buf_clear(value);
			rc = kvcell_value(h->pager, &c, value, err);
			if (rc == SL_OK)
				rc = visit(ctx, c.key, buf_slice(value));
		}
		pgno = codec_get_u32(d + HB_NEXT);
		pager_unpin(h->pager, pg);
		if (rc != SL_OK)
			return rc;
	}
	return SL_OK;
}

typedef struct hx_foreach {
	hash_t *h;
	hash_visit_fn visit;
	void *ctx;
	buf_t value;
	sl_err_t *err;
} hx_foreach_t;

static int hx_foreach_visit(void *ctx, const hash_bucket_t *b)
{
	hx_foreach_t *fe = ctx;
	return hx_foreach_bucket(fe->h, b->pgno, fe->visit, fe->ctx, &fe->value, fe->err);
}

int hash_foreach(hash_t *h, hash_visit_fn visit, void *ctx, sl_err_t *err)
{
	hx_foreach_t fe = { h, visit, ctx, BUF_INIT, err };
	int rc = hx_each_head(h, hx_foreach_visit, &fe, err); /* the chain is walked once, here */
	buf_free(&fe.value);
	return rc;
}

/* ---------------------------------------------------------------- check, stats */

typedef struct hx_walk {
	hash_t *h;
	sl_err_t *err;
	uint8_t *seen;        /* pages reached */
	uint8_t *depth;       /* bucket heads: local depth, per page number */
	uint64_t *pattern;    /* bucket heads: low-bits pattern */
	uint32_t *refs;       /* bucket heads: directory entries pointing here */
	uint64_t keys, heads; /* entries and bucket heads found */
	uint64_t overflow;    /* overflow value pages */
	double used;          /* bytes in use in bucket pages */
	uint64_t pages;       /* bucket pages */
} hx_walk_t;

static int hx_mark(void *ctx, uint32_t pgno)
{
	hx_walk_t *w = ctx;
	if (pgno == 0 || pgno >= pager_page_count(w->h->pager))
		return hx_corrupt(w->h, pgno, "page number out of range", w->err);
	if (w->seen[pgno]++)
		return hx_corrupt(w->h, pgno, "page reached twice", w->err);
	return SL_OK;
}

/* Invariants 2 and 3 for one page of a bucket's chain. */
static int hx_walk_page(hx_walk_t *w, uint32_t pgno, uint32_t d, uint64_t pattern, uint32_t *next)
{
	hash_t *h = w->h;
	page_t *pg;
	int rc = hx_mark(w, pgno);
	if (rc == SL_OK)
		rc = hx_fetch(h, pgno, &pg, w->err);
	if (rc != SL_OK)
		return rc;
	uint8_t *copy = malloc(h->usable);
	if (copy == NULL) {
		pager_unpin(h->pager, pg);
		return sl_errf(w->err, SL_NOMEM, "hash check: out of memory");
	}
	memcpy(copy, page_data(pg), h->usable);
	pager_unpin(h->pager, pg);
	const char *why;
	if (!hash_bucket_decodes(h, copy, &why))
		rc = hx_corrupt(h, pgno, why, w->err);
	uint64_t mask = (UINT64_C(1) << d) - 1, live = 0;
	for (uint32_t i = 0; rc == SL_OK && i < slotted_n(copy); i++) {
		kvcell_t c;
		if (!hb_cell(h, copy, i, &c))
			rc = hx_corrupt(h, pgno, "an entry does not decode", w->err);
		else if (hx_hash(h, c.key) != hb_hash(copy, i))
			rc = hx_corrupt(h, pgno, "an entry's stored hash is not its key's", w->err);
		else if ((hb_hash(copy, i) & mask) != pattern)
			rc = hx_corrupt(h, pgno, "an entry lies in the wrong bucket", w->err);
		else if (c.overflow) {
			rc = overflow_walk(h->pager, c.ov_pgno, c.vlen, hx_mark, w, w->err);
			w->overflow += overflow_pages_for(h->pager, c.vlen);
		}
		for (uint32_t j = 0; rc == SL_OK && j < i; j++) {
			kvcell_t o;
			if (hb_hash(copy, j) == hb_hash(copy, i) && hb_cell(h, copy, j, &o) &&
			    sl_slice_eq(o.key, c.key))
				rc = hx_corrupt(h, pgno, "a key appears twice", w->err);
		}
		live += c.size + HB_SLOT_BYTES;
	}
	if (rc == SL_OK && copy[HB_DEPTH] != d)
		rc = hx_corrupt(h, pgno, "a chained page's depth differs from its bucket's", w->err);
	if (rc == SL_OK && slotted_cell_start(copy) + live - HB_SLOT_BYTES * slotted_n(copy) + slotted_frag(copy) !=
			   h->usable)
		rc = hx_corrupt(h, pgno, "cell bytes and fragmentation do not add up", w->err);
	w->keys += slotted_n(copy);
	w->used += (double)live;
	w->pages++;
	*next = codec_get_u32(copy + HB_NEXT);
	free(copy);
	return rc;
}

/* Invariant 1 for directory entry j, walking its bucket the first time it is seen. */
static int hx_walk_entry(hx_walk_t *w, uint64_t j)
{
	hash_t *h = w->h;
	uint32_t head = h->dir[j];
	if (head == 0 || head >= pager_page_count(h->pager))
		return hx_corrupt(h, head, "a directory entry points outside the file", w->err);
	if (w->refs[head]++ > 0) {
		uint64_t mask = (UINT64_C(1) << w->depth[head]) - 1;
		return (j & mask) == w->pattern[head]
			       ? SL_OK
			       : hx_corrupt(h, head, "directory entries disagree with the bucket's bits", w->err);
	}
	page_t *pg;
	int rc = hx_fetch(h, head, &pg, w->err);
	if (rc != SL_OK)
		return rc;
	uint32_t d = page_data(pg)[HB_DEPTH];
	pager_unpin(h->pager, pg);
	if (d > h->gdepth)
		return hx_corrupt(h, head, "local depth exceeds the global depth", w->err);
	w->depth[head] = (uint8_t)d;
	w->pattern[head] = j & ((UINT64_C(1) << d) - 1);
	w->heads++;
	for (uint32_t pgno = head; rc == SL_OK && pgno != 0;)
		rc = hx_walk_page(w, pgno, d, w->pattern[head], &pgno);
	return rc;
}

int hash_check(hash_t *h, sl_err_t *err)
{
	uint32_t count = pager_page_count(h->pager);
	hx_walk_t w = { .h = h, .err = err };
	w.seen = calloc(count, 1);
	w.depth = calloc(count, 1);
	w.pattern = calloc(count, sizeof *w.pattern);
	w.refs = calloc(count, sizeof *w.refs);
	uint8_t *is_free = calloc(count, 1);
	int rc = w.seen && w.depth && w.pattern && w.refs && is_free
			 ? SL_OK : sl_errf(err, SL_NOMEM, "hash check: out of memory");
	for (uint32_t i = 0; rc == SL_OK && i < h->ndirpages; i++)
		rc = hx_mark(&w, h->dirpages[i]);
	uint64_t entries = UINT64_C(1) << h->gdepth;
	for (uint64_t j = 0; rc == SL_OK && j < entries; j++)
		rc = hx_walk_entry(&w, j);
	for (uint32_t p = 1; rc == SL_OK && p < count; p++)
		if (w.refs[p] && w.refs[p] != (UINT64_C(1) << (h->gdepth - w.depth[p])))
			rc = hx_corrupt(h, p, "bucket is not pointed at by 2^(G-d) directory entries", err);
	if (rc == SL_OK && (w.keys != h->keys || w.heads != h->buckets))
		rc = sl_errf(err, SL_CORRUPT, "%s: %llu keys in %llu buckets, metadata says %llu in %llu",
			     pager_path(h->pager), (unsigned long long)w.keys,
			     (unsigned long long)w.heads, (unsigned long long)h->keys,
			     (unsigned long long)h->buckets);
	if (rc == SL_OK)
		rc = pager_check(h->pager, is_free, err);
	for (uint32_t p = 1; rc == SL_OK && p < count; p++)
		if (w.seen[p] == is_free[p])
			rc = hx_corrupt(h, p, w.seen[p] ? "page is both used and free"
							 : "page is neither used nor free", err);
	free(w.seen);
	free(w.depth);
	free(w.pattern);
	free(w.refs);
	free(is_free);
	return rc;
}

void hash_get_stats(hash_t *h, hash_stats_t *out)
{
	*out = h->st;
	out->global_depth = h->gdepth;
	out->buckets = h->buckets;
	out->keys = h->keys;
	pager_get_stats(h->pager, &out->pager);
}

double hash_load_factor(hash_t *h, uint64_t *overflow_pages)
{
	/* A walk of every bucket: cheap next to a benchmark phase, not next to a put. */
	uint32_t count = pager_page_count(h->pager);
	double load = 0;
	hx_walk_t w = { .h = h, .err = NULL };
	w.seen = calloc(count, 1);
	w.depth = calloc(count, 1);
	w.pattern = calloc(count, sizeof *w.pattern);
	w.refs = calloc(count, sizeof *w.refs);
	uint64_t entries = UINT64_C(1) << h->gdepth;
	int rc = w.seen && w.depth && w.pattern && w.refs ? SL_OK : SL_NOMEM;
	for (uint64_t j = 0; rc == SL_OK && j < entries; j++)
		rc = hx_walk_entry(&w, j);
	if (rc == SL_OK && w.pages > 0)
		load = w.used / ((double)w.pages * (h->usable - HB_SLOTS));
	if (overflow_pages != NULL)
		*overflow_pages = w.overflow;
	free(w.seen);
	free(w.depth);
	free(w.pattern);
	free(w.refs);
	return load;
}

static int hx_dump_bucket(void *ctx, const hash_bucket_t *b)
{
	fprintf(ctx, "  bucket page %u: pattern %llx, depth %u, %llu directory entries, %u entries, "
		"%u page%s, %.0f%% full\n", b->pgno, (unsigned long long)b->pattern, b->depth,
		(unsigned long long)b->slots, b->entries, b->pages, b->pages == 1 ? "" : "s",
		100.0 * b->used / b->usable);
	return SL_OK;
}

void hash_dump(hash_t *h, FILE *out)
{
	fprintf(out, "hash: global depth %u (%llu directory entries in %u pages), %llu buckets, "
		"%llu keys, seed %016llx\n", h->gdepth, (unsigned long long)(UINT64_C(1) << h->gdepth),
		h->ndirpages, (unsigned long long)h->buckets, (unsigned long long)h->keys,
		(unsigned long long)h->seed);
	sl_err_t err;
	if (hash_buckets(h, hx_dump_bucket, out, &err) != SL_OK)
		fprintf(out, "  stopped: %s\n", err.msg);
}
