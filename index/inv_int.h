/*
 * inv_int.h — the inverted index's parts, shared by its source files (not a
 * public interface): segment files (inv_seg.c), the in-memory buffer
 * (inv_buffer.c), queries (inv_query.c, inv_search.c) and the index itself
 * (inverted.c). The formats are drawn in inverted.h.
 */
#ifndef SL_INV_INT_H
#define SL_INV_INT_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/block.h"
#include "engine/buf.h"
#include "engine/codec.h"
#include "engine/env.h"
#include "engine/slice.h"
#include "engine/status.h"
#include "engine/vec.h"
#include "index/analyzer.h"
#include "index/bm25.h"
#include "index/inverted.h"
#include "index/postings.h"

#define INV_SEG_MAGIC INVERTED_SEG_MAGIC
#define INV_SEG_VERSION 1
#define INV_SEG_HEADER 16
#define INV_SEG_FOOTER 96
#define INV_FOOTER_MAGIC "SLIX"
#define INV_SEG_POSITIONS 0x01      /* segment flag, on disk */
#define INV_ID_BLOCK_ENTRIES 32     /* ids per id block */
#define INV_DICT_BLOCK_BYTES 4096   /* target dictionary block size (raw) */
#define INV_INLINE_DOCS 4           /* lists of at most this many postings live in the dictionary */
#define INV_TERM_LISTED 0           /* term entry kinds, on disk */
#define INV_TERM_INLINE 1
#define INV_END UINT32_MAX          /* "no more documents" */
#define INV_MAX_TERM 255            /* bytes in a term (longer tokens are cut) */

/*
 * A posting's impact: its BM25 score per unit of idf, tf (k1 + 1) / (tf + k1 (1
 * - b + b dl / avgdl)), computed at its segment's own mean length and coded in
 * a byte, rounded up: c / 255 of the most it can be (k1 + 1). Each postings
 * block keeps its largest impact (postings.h), which bounds the block's scores
 * without unpacking it. At query time the mean length is the whole index's
 * (A) rather than the segment's (As); a larger A only lowers every length's
 * weight, so the score is at most the coded one times max(1, A / As) (the
 * denominator shrinks by at most that factor). Assumes k1 1.2 and b 0.75, the
 * only values the index scores with.
 */
static inline uint8_t inv_impact_encode(const bm25_t *seg, uint32_t tf, uint32_t dl)
{
	double part = bm25_term(seg, 1.0, tf, dl) / (seg->k1 + 1.0); /* in (0, 1) */
	double c = ceil(part * 255.0 * (1.0 + 1e-9));
	return c >= 255 ? 255 : c < 1 ? 1 : (uint8_t)c;
}

static inline double inv_impact_decode(const bm25_t *seg, uint8_t c)
{
	return (seg->k1 + 1.0) * c / 255.0;
}

/* ---- segment writer ---- */

typedef struct inv_segw inv_segw_t;

int inv_segw_open(env_t *env, const char *path, bool positions, inv_segw_t **out, sl_err_t *err);
/* Adds the next document (local numbers count up from 0). */
int inv_segw_doc(inv_segw_t *w, sl_slice_t id, uint32_t len, sl_err_t *err);
/*
 * Adds a term, in increasing term order, with its n >= 1 postings: docs
 * increasing, tfs, and (with positions) the positions of every posting one
 * after another (sum of tfs values, each posting's increasing).
 */
int inv_segw_term(inv_segw_t *w, sl_slice_t term, const uint32_t *docs, const uint32_t *tfs,
		  const uint32_t *pos, uint32_t n, sl_err_t *err);
/* Writes the tables and footer, syncs and closes; frees w either way. */
int inv_segw_finish(inv_segw_t *w, uint64_t *file_bytes, sl_err_t *err);
/* Drops an unfinished segment and its file. */
void inv_segw_abandon(inv_segw_t *w);

/* ---- segment reader ---- */

typedef struct inv_seg {
	uint64_t number;
	char *path;
	env_file_t *file;
	const uint8_t *map;          /* the whole file, mapped */
	uint64_t size;
	uint32_t docs, flags, min_dl, id_blocks;
	uint64_t tokens, terms;
	bm25_t bm;                   /* BM25 at the segment's own statistics: its impacts' scale */
	uint64_t dict_off;
	uint32_t dict_len;
	block_t dict_index;
	uint64_t ids_off;
	uint32_t ids_len;
	block_t id_index;
	const uint8_t *doctab;       /* docs x (u32 length, u32 id rank) */
	const uint8_t *id_offs;      /* (id_blocks + 1) x u32 */
	const uint8_t *bloom;
	uint32_t bloom_len;
	/* deletions, as committed and as pending for the next commit */
	uint8_t *del;                /* committed bitmap, NULL when none */
	uint32_t ndel;
	uint64_t del_gen;
	uint8_t *del_pending;        /* changed since the commit (NULL: unchanged) */
	uint32_t ndel_pending;
	bool fresh;                  /* written, but no COMMIT names it yet */
	uint64_t live_tokens;        /* committed */
	uint64_t live_tokens_pending;
} inv_seg_t;

int inv_seg_open(env_t *env, const char *path, uint64_t number, inv_seg_t **out, sl_err_t *err);
void inv_seg_close(inv_seg_t *s);

static inline uint32_t inv_seg_doclen(const inv_seg_t *s, uint32_t doc)
{
	return codec_get_u32(s->doctab + 8 * (size_t)doc);
}
static inline bool inv_bit(const uint8_t *bits, uint32_t doc)
{
	return bits != NULL && (bits[doc >> 3] >> (doc & 7)) & 1;
}
/* Deleted as of the last commit (what searches see). */
static inline bool inv_seg_deleted(const inv_seg_t *s, uint32_t doc) { return inv_bit(s->del, doc); }

typedef struct inv_term_entry {
	uint32_t df, max_tf;
	int kind;                    /* INV_TERM_* */
	uint64_t off, bytes, pos_bytes; /* LISTED */
	buf_t inline_bytes;          /* INLINE: the postings' varints (owned) */
} inv_term_entry_t;

/* Looks term up: SL_OK with e filled, SL_NOTFOUND, or SL_CORRUPT. */
int inv_seg_lookup(inv_seg_t *s, sl_slice_t term, inv_term_entry_t *e, sl_err_t *err);
/* Decodes a dictionary value (the caller's bytes) into e. */
int inv_term_decode(inv_seg_t *s, sl_slice_t v, inv_term_entry_t *e, sl_err_t *err);

/* The local document with this id (SL_NOTFOUND when none, deleted or not). */
int inv_seg_find_id(inv_seg_t *s, sl_slice_t id, uint32_t *doc, sl_err_t *err);
/* The id of a local document, into out. */
int inv_seg_id(inv_seg_t *s, uint32_t doc, buf_t *out, sl_err_t *err);

/* Walks the dictionary in term order (merges and checks). */
typedef struct inv_dict_iter {
	inv_seg_t *seg;
	block_iter_t idx;            /* over the dictionary index */
	block_t blk;                 /* the current dictionary block */
	block_iter_t it;
	bool blk_open, valid;
} inv_dict_iter_t;

int inv_dict_iter_first(inv_dict_iter_t *d, inv_seg_t *s, sl_err_t *err);
int inv_dict_iter_next(inv_dict_iter_t *d, sl_err_t *err);
void inv_dict_iter_free(inv_dict_iter_t *d);

/* ---- a cursor over one term's postings in one segment, with positions ---- */

typedef struct inv_cursor {
	inv_seg_t *seg;
	postings_iter_t it;
	uint32_t df, max_tf;
	bool has_pos, listed;
	const uint8_t *pos, *pos_end; /* LISTED: the chunks; INLINE: the varints */
	buf_t inline_pos;            /* INLINE: positions, copied from the entry */
	int64_t chunk;               /* the chunk whose payload is at [pp, pend); -1 none */
	const uint8_t *next_chunk;   /* header of the chunk after it */
	const uint8_t *pp, *pend;
	unsigned pj;                 /* posting of the chunk pp points at */
} inv_cursor_t;

int inv_cursor_open(inv_cursor_t *c, inv_seg_t *s, const inv_term_entry_t *e, sl_err_t *err);
void inv_cursor_free(inv_cursor_t *c);
/* The positions of the current posting (tf of them) into pos. */
int inv_cursor_positions(inv_cursor_t *c, uint32_t *pos, sl_err_t *err);

/* ---- the in-memory buffer ---- */

typedef struct inv_buffer inv_buffer_t;

/* A buffer analyzing documents with the analyzer spec (index/analyzer.h). */
int inv_buffer_new(const char *analyzer, inv_buffer_t **out, sl_err_t *err);
void inv_buffer_free(inv_buffer_t *b);
/* Tokenizes and adds a document; SL_INVALID (nothing added) for bad UTF-8. */
int inv_buffer_add(inv_buffer_t *b, sl_slice_t id, sl_slice_t text, sl_err_t *err);
/* The buffered document with this id, not deleted: true and its number. */
bool inv_buffer_find(inv_buffer_t *b, sl_slice_t id, uint32_t *doc);
void inv_buffer_delete(inv_buffer_t *b, uint32_t doc);
uint32_t inv_buffer_docs(const inv_buffer_t *b);
uint64_t inv_buffer_bytes(const inv_buffer_t *b);
/* Writes the buffered documents (those not deleted since) as a segment. */
int inv_buffer_write(inv_buffer_t *b, env_t *env, const char *path, bool positions,
		     sl_err_t *err);
/* Empties it for the next documents. */
void inv_buffer_reset(inv_buffer_t *b);

/* ---- the index handle ---- */

struct inverted {
	env_t *env;
	char *dir;
	inverted_opts_t opts;
	env_lock_t *lock;
	inv_seg_t **segs;            /* live segments, oldest first */
	uint32_t nsegs;
	uint64_t generation;         /* of the last commit */
	uint64_t next_seg;           /* number of the next segment file */
	inv_buffer_t *buf;
	char analyzer[ANALYZER_SPEC_BYTES]; /* the index's, from its COMMIT */
	analyzer_t qan;              /* analyzes queries the same way */
	bool broken;                 /* a commit failed: writes refused */
	uint64_t flushes, merges;
	trace_t trace;               /* from opts.trace; fn NULL = off */
};

/* Narration, when on (see engine/trace.h): the arguments are computed only then. */
#define INV_TRACE(ix, ...)                                                                         \
	do {                                                                                       \
		if (trace_on(&(ix)->trace))                                                        \
			trace_emit(&(ix)->trace, __VA_ARGS__);                                     \
	} while (0)

/* ---- queries ---- */

typedef enum inv_qkind { INV_Q_TERM, INV_Q_PHRASE, INV_Q_AND, INV_Q_OR, INV_Q_NOT } inv_qkind_t;

typedef struct inv_qnode {
	inv_qkind_t kind;
	struct inv_qnode **kids;     /* AND, OR: n >= 2; NOT: {left, right} */
	unsigned nkids;
	int leaf;                    /* TERM, PHRASE: the leaf's number in query order */
	buf_t *terms;                /* TERM: 1, PHRASE: nterms >= 2 */
	uint32_t *offsets;           /* PHRASE: each term's position after the first's
	                                (j, or more where stop words were dropped) */
	unsigned nterms;
	bool positive;               /* not under a NOT's right side */
	int64_t cur;                 /* evaluation: the node's current match (-1: none yet) */
} inv_qnode_t;

typedef struct inv_query {
	inv_qnode_t *root;           /* NULL: nothing to search for */
	inv_qnode_t **leaves;        /* in query order */
	unsigned nleaves;
	unsigned nnodes;
} inv_query_t;

/*
 * Parses text, its words cut by the analyzer an (NULL: the default, plain
 * unicode61); SL_INVALID naming the column of a syntax error.
 */
int inv_query_parse(const char *text, analyzer_t *an, inv_query_t *q, sl_err_t *err);
void inv_query_free(inv_query_t *q);

/* Cuts a token to INV_MAX_TERM bytes at a UTF-8 boundary (long tokens still index). */
size_t inv_term_cut(const uint8_t *t, size_t len);

#endif
