/*
 * postings.h — compressed postings lists: sorted document ids, each with a term
 * frequency, in blocks of 128.
 *
 * A postings list says where a term occurs: the ids of the documents that hold
 * it, in increasing order, and how often each holds it. The inverted index keeps
 * one per term (index/inverted, to come), the time-series store one per label
 * pair (kv/ts, to come). Lists are long — the commonest words of a corpus occur
 * in most of its documents — so how many bytes a posting costs decides the size
 * of an index, and how fast a list can be skipped through decides how fast an
 * AND query runs. Hence the two ideas of this module, the ones Lucene and PISA
 * use:
 *
 *   - Blocks of 128 postings, bit-packed. Store the gaps between doc ids, not the
 *     ids (in a list of n ids out of N documents, gaps average N/n), and store
 *     each gap of a block in the same number of bits: as many as its largest gap
 *     needs. Unpacking 128 values of one width is a tight loop with no branch per
 *     value, which a varint per gap is not.
 *   - A header per block that a skip can read without unpacking: the block's last
 *     doc id and its largest term frequency. advance(target) hops from header to
 *     header until it finds the block that can hold target, then unpacks only
 *     that one; the largest tf bounds the block's best score, which is what
 *     block-max pruning needs to pass over blocks that cannot reach the top k.
 *
 * Format (integers little-endian; a list is one byte string, stored by its owner):
 *
 *   list header, 5 bytes
 *     +0  u32 count     postings in the list
 *     +4  u8  flags     bit 0: term frequencies stored (else every tf is 1)
 *   then ceil(count / 128) blocks; every block holds 128 postings but the last:
 *
 *   block header, 20 bytes
 *     +0  u8  n         postings in the block, 1..128
 *     +1  u8  doc_bits  bits per doc gap, 0..32
 *     +2  u8  tf_bits   bits per (tf - 1), 0..32 (0 when tfs are not stored)
 *     +3  u8  impact    the largest impact among the block's postings: a byte
 *                       the owner gives each posting, larger = the posting can
 *                       score more (the inverted index: its BM25 term score,
 *                       coded); 0 when the owner gives none
 *     +4  u32 last_doc  the block's last doc id (what a skip compares)
 *     +8  u32 max_tf    the block's largest tf (1 when tfs are not stored)
 *     +12 u16 bytes     payload bytes after the header
 *     +14 u16 hcheck    low 16 bits of XXH3(header bytes 0..13, seed = block offset)
 *     +16 u32 pcheck    low 32 bits of XXH3(payload, seed = block offset)
 *   payload: n gaps of doc_bits each, then n values (tf - 1) of tf_bits each, one
 *   bit stream (engine/codec: low bits first), zero-padded to a whole byte.
 *
 *   A gap is doc - base, where base is 0 for the list's first doc and prev + 1
 *   after it (prev = the doc before, across blocks too): ids strictly increase,
 *   so gaps never go negative. "Block offset" is the header's offset in the list,
 *   so a block moved elsewhere, or a copy of one inside a payload, cannot pass.
 *
 * Invariants (postings_iter reports a break of any of them as SL_CORRUPT):
 *   1. Doc ids strictly increase along the list; tf >= 1.
 *   2. A block's last_doc is the id of its last posting, and the last_docs of
 *      successive blocks increase; its max_tf is its largest tf.
 *   3. Every block but the last holds 128 postings; the counts add up to count.
 *   4. bytes = ceil(n * (doc_bits + tf_bits) / 8); the list ends with the last
 *      block.
 *   A skip trusts a header only after checking hcheck and invariant 2 against the
 *   header before it, so damage to a header it hops over is caught too, not
 *   turned into a wrong answer.
 */
#ifndef SL_POSTINGS_H
#define SL_POSTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/slice.h"
#include "engine/status.h"

#define POSTINGS_BLOCK 128          /* postings per block */
#define POSTINGS_LIST_HEADER 5      /* bytes */
#define POSTINGS_BLOCK_HEADER 20    /* bytes */
#define POSTINGS_HAS_TF 0x01        /* list flag, on disk — never renumber */

/* ---- writing ---- */

typedef struct postings_writer {
	buf_t *out;                        /* the list is appended here */
	size_t start;                      /* its offset in out */
	bool with_tf;                      /* store term frequencies */
	uint32_t count;                    /* postings added */
	uint64_t next_base;                /* the smallest doc id the next add may take
	                                      (2^32 after doc 2^32 - 1: none may follow) */
	uint64_t block_base;               /* the gap base of the block's first posting */
	uint32_t docs[POSTINGS_BLOCK];     /* the block being filled */
	uint32_t tfs[POSTINGS_BLOCK];
	uint8_t impacts[POSTINGS_BLOCK];
	uint8_t block_impact;              /* the largest of them, when packed */
	unsigned n;                        /* postings in it */
	buf_t payload;                     /* scratch for packing a block */
} postings_writer_t;

/* Starts a list at the end of out (which the caller owns and keeps alive). */
void postings_writer_init(postings_writer_t *w, buf_t *out, bool with_tf);

/*
 * Adds a posting. doc must exceed the previous doc (the first may be 0) and tf
 * must be >= 1 (ignored without tfs); SL_INVALID otherwise, with nothing added.
 */
int postings_writer_add(postings_writer_t *w, uint32_t doc, uint32_t tf, sl_err_t *err);

/*
 * The same, with the posting's impact: a byte the owner chooses, larger for a
 * posting that can score more (the inverted index codes its BM25 term score).
 * Each block header keeps the largest impact of its postings, so a reader can
 * bound the block's scores without unpacking it (block-max pruning).
 */
int postings_writer_add_impact(postings_writer_t *w, uint32_t doc, uint32_t tf, uint8_t impact,
			       sl_err_t *err);

/* Writes the last block and the count; SL_NOMEM if out could not grow. Frees scratch. */
int postings_writer_finish(postings_writer_t *w, sl_err_t *err);

/* ---- reading ---- */

typedef struct postings_iter {
	const uint8_t *list;               /* the list's bytes */
	size_t len;                        /* and their number */
	uint32_t count;                    /* postings in the list */
	bool with_tf;                      /* tfs are stored */
	size_t next_off;                   /* offset of the header after the current block */
	uint32_t blocks_left;              /* blocks after the current one */
	uint64_t base;                     /* the next block's gap base (last doc + 1) */
	uint32_t prev_last;                /* last_doc of the current block's header */
	uint32_t docs[POSTINGS_BLOCK];     /* the current block, unpacked */
	uint32_t tfs[POSTINGS_BLOCK];
	unsigned n, i;                     /* its postings, and the current one */
	uint32_t block_max_tf;             /* its header's max_tf */
	uint8_t block_impact;              /* and impact */
	bool pending;                      /* a shallow move read the next block's header
	                                      only: the block fields below describe it, and
	                                      docs[] is stale until advance unpacks it */
	uint32_t pend_last, pend_max_tf;
	uint8_t pend_impact;
	bool valid;                        /* positioned on a posting */
	uint32_t unpacked;                 /* blocks unpacked so far (the rest were skipped) */
	int status;                        /* SL_OK, or SL_CORRUPT once damage was met */
} postings_iter_t;

/*
 * Positions it on the first posting of list (not valid when the list is empty).
 * SL_CORRUPT (with a message naming the offset) when the list header or first
 * block is damaged. The list's bytes must outlive the iterator.
 */
int postings_iter_init(postings_iter_t *it, sl_slice_t list, sl_err_t *err);

/*
 * Positions it on the first of n postings already in memory (n <= 128, docs
 * strictly increasing, tfs >= 1; checked: SL_CORRUPT otherwise): a list short
 * enough that its owner keeps it inline (the inverted index's dictionary does)
 * is then walked like any other. The arrays are copied.
 */
int postings_iter_init_array(postings_iter_t *it, const uint32_t *docs, const uint32_t *tfs,
			     unsigned n, sl_err_t *err);

/* Moves to the next posting; not valid past the last. SL_CORRUPT on damage. */
int postings_iter_next(postings_iter_t *it, sl_err_t *err);

/*
 * Moves to the first posting whose doc is >= target (never backwards: a target
 * at or below the current doc stays put). Reads only the headers of the blocks
 * it passes over. Not valid when no such posting exists. SL_CORRUPT on damage.
 */
int postings_iter_advance(postings_iter_t *it, uint32_t target, sl_err_t *err);

static inline bool postings_iter_valid(const postings_iter_t *it) { return it->valid; }
/* The current posting. REQUIRES: valid, and no shallow move since the last advance. */
static inline uint32_t postings_iter_doc(const postings_iter_t *it) { return it->docs[it->i]; }
static inline uint32_t postings_iter_tf(const postings_iter_t *it) { return it->tfs[it->i]; }
/*
 * Positions it on the block that holds the first posting >= target, reading
 * block headers only (none is unpacked): the block_* accessors then describe
 * that block, so a caller can decide from its bounds whether the block is worth
 * unpacking (block-max pruning); postings_iter_advance unpacks it. Not valid when
 * no posting >= target exists. SL_CORRUPT on a damaged header.
 */
int postings_iter_shallow(postings_iter_t *it, uint32_t target, sl_err_t *err);

/* The current (or shallowly reached) block's last doc, largest tf and largest
 * impact: the bounds block-max pruning uses. */
static inline uint32_t postings_iter_block_last(const postings_iter_t *it)
{
	return it->pending ? it->pend_last : it->prev_last;
}
static inline uint32_t postings_iter_block_max_tf(const postings_iter_t *it)
{
	return it->pending ? it->pend_max_tf : it->block_max_tf;
}
static inline uint8_t postings_iter_block_impact(const postings_iter_t *it)
{
	return it->pending ? it->pend_impact : it->block_impact;
}

/* The current block's number in the list, from 0 (what a positions stream kept
 * block by block beside the list follows). */
static inline uint32_t postings_iter_block_index(const postings_iter_t *it)
{
	return (it->count + POSTINGS_BLOCK - 1) / POSTINGS_BLOCK - it->blocks_left - 1;
}

/* The number of postings in an encoded list (0 when too short to say). */
uint32_t postings_count(sl_slice_t list);

#endif
