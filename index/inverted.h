/*
 * inverted.h — an on-disk inverted index with BM25 top-k search.
 *
 * A search engine answers "which documents hold these words, best first"
 * without reading the documents: for every term it keeps the sorted list of the
 * documents holding it (index/postings), and a query walks the lists of its
 * terms. This index is built the way Lucene builds its own:
 *
 *   - Documents (an external id and UTF-8 text) are cut into terms by the
 *     index's analyzer (index/analyzer: the tokenizer, optionally stop words
 *     and stemming, chosen when the index is made and recorded in COMMIT) and
 *     collected in an in-memory buffer. A commit writes the
 *     buffer out as an immutable *segment* file (a small index of its own) and
 *     then a new COMMIT file, atomically, naming the live segments. A crash at
 *     any moment leaves the last COMMIT and everything it names intact; what was
 *     added after it is gone (an add is acknowledged by the commit that follows).
 *   - Segments are never changed. Deleting a document sets its bit in a deleted-
 *     docs bitmap kept beside its segment (a new file per commit); an add with an
 *     id already in the index deletes the old document first (an update).
 *   - Many small segments make a query look each term up many times, so a
 *     tiered merge policy merges runs of INVERTED_MERGE_FACTOR neighbouring
 *     segments of about the same size into one, dropping deleted documents.
 *     Merging only neighbours keeps documents in the order they were added: a
 *     document's number (what ties between equal scores are broken by) never
 *     changes order.
 *   - A query is parsed into terms, phrases, AND, OR and NOT, and ranked with
 *     BM25 (index/bm25) over live documents; top-k uses a heap, and an OR of terms
 *     is evaluated with MaxScore pruning, which skips the documents that cannot
 *     enter the top k (see inverted_search).
 *
 * Files in the index directory:
 *
 *   COMMIT           the live state; replaced atomically (engine/env: write-
 *                    tmp, fsync, rename, fsync directory)
 *   NNNNNN.seg       a segment (NNNNNN: its number, 6+ decimal digits)
 *   NNNNNN_G.del     deleted-docs bitmap G of segment NNNNNN
 *   LOCK             held by the process that writes (shared by readers)
 *   Anything else matching these names and not in COMMIT is left over from a
 *   crash and removed by the next writer that opens the index.
 *
 * COMMIT (integers little-endian):
 *   +0   "SLINVCMT"   magic, 8 bytes
 *   +8   u32 version (1)            +12 u32 segment count S
 *   +16  u64 generation (commits so far)
 *   +24  u64 next segment number
 *   +32  u64 live documents         +40 u64 tokens in live documents
 *   +48  char[32] the analyzer's spec, NUL-padded ("unicode61", "unicode61 stop
 *        stem=english": index/analyzer.h): queries are analyzed with it
 *   +80  S entries of 32 bytes:
 *          u64 segment number | u32 documents (deleted included) | u32 deleted
 *          | u64 deleted-bitmap generation (0: no bitmap) | u64 live tokens
 *   then u64 XXH3 of everything before it.
 *
 * NNNNNN_G.del:
 *   +0 "SLINVDEL" | +8 u32 documents | +12 u32 deleted | bitmap, ceil(docs/8)
 *   bytes (bit d%8 of byte d/8 set: local document d is deleted) | u64 XXH3 of
 *   everything before it.
 *
 * NNNNNN.seg (written once, synced before a COMMIT names it):
 *
 *   +------------------------+ 0
 *   | header, 16 bytes       |  "SLINVSEG" | u32 version (1) | u32 flags
 *   +------------------------+           (bit 0: positions stored)
 *   | postings area          |  for each term not kept inline, in term order:
 *   |                        |    its postings list (index/postings.h; each
 *   |                        |    block's impact byte is its best BM25 score
 *   |                        |    per unit of idf, coded: inv_int.h), then,
 *   |                        |    with positions, one positions chunk per
 *   |                        |    postings block (below)
 *   +------------------------+ dict_off
 *   | dictionary blocks      |  engine/block blocks, lz4 when it pays:
 *   |                        |    term -> term entry (below)
 *   +------------------------+ dict_off + dict_len
 *   | dictionary index       |  one engine/block: the last term of each
 *   |                        |    dictionary block -> its offset from dict_off
 *   |                        |    (varint) | its stored length (varint)
 *   +------------------------+ ids_off
 *   | id blocks              |  engine/block blocks of INV_ID_BLOCK_ENTRIES
 *   |                        |    entries (the last may hold fewer): external
 *   |                        |    id -> local document (varint), sorted by id
 *   +------------------------+ ids_off + ids_len
 *   | id index               |  one engine/block: last id of each id block ->
 *   |                        |    block number (varint)
 *   +------------------------+ tables_off
 *   | document table         |  per local document: u32 length in tokens |
 *   |                        |    u32 rank of its id among the segment's ids
 *   | id block offsets       |  u32 x (id blocks + 1), from ids_off
 *   | id bloom filter        |  engine/bloom over the hashes of the ids
 *   +------------------------+ tables_off + tables_len
 *   | footer, 96 bytes       |
 *   +------------------------+
 *
 *   footer:
 *     +0  u32 documents        +4  u32 flags (as in the header)
 *     +8  u64 tokens           +16 u32 shortest document length
 *     +20 u32 id blocks        +24 u64 terms
 *     +32 u64 dict_off         +40 u32 dict_len     +44 u32 dict index length
 *     +48 u64 ids_off          +56 u32 ids_len      +60 u32 id index length
 *     +64 u64 tables_off       +72 u32 bloom length  +76 u32 zero
 *     +80 u64 XXH3 of the tables region (document table, offsets, bloom)
 *     +88 u32 XXH3-32 of footer bytes 0..87    +92 "SLIX" magic
 *
 *   term entry (varints):
 *     df | max tf | kind
 *     kind 0, a list in the postings area:
 *       offset of the list | its bytes | positions bytes after it
 *     kind 1, kept inline (df <= INV_INLINE_DOCS): for each posting
 *       doc gap (doc - previous doc - 1; the first: doc) | tf |
 *       with positions: tf position gaps (position - previous - 1; the first: position)
 *     (the dictionary block's checksum covers the inline postings)
 *
 *   positions chunk (one per postings block, with the block's postings in order):
 *     varint payload bytes | u32 XXH3-32 of the payload, seeded with the chunk's
 *     offset in the file | payload: for each posting, tf position gaps (varints)
 *
 * Invariants (inverted_check verifies them all):
 *   1. Terms strictly increase through the dictionary; the index's keys are the
 *      blocks' last terms. Every term has df >= 1 and its postings (docs < the
 *      segment's documents) hold exactly df entries with max tf as the largest.
 *   2. The lengths in the document table add up to the footer's tokens; the sum
 *      of every term's tfs equals it too (every token is in one list).
 *   3. Every id appears once; id and document table agree both ways.
 *   4. Positions of a posting strictly increase and are below its length.
 *   5. COMMIT's live counts match the segments and their bitmaps.
 */
#ifndef SL_INVERTED_H
#define SL_INVERTED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/env.h"
#include "engine/slice.h"
#include "engine/status.h"
#include "engine/trace.h"
#include "index/bm25.h"

#define INVERTED_SEG_MAGIC "SLINVSEG"  /* the first 8 bytes of each file kind */
#define INVERTED_COMMIT_MAGIC "SLINVCMT"
#define INVERTED_DEL_MAGIC "SLINVDEL"
#define INVERTED_MAX_ID 512            /* bytes in an external id */
#define INVERTED_MERGE_FACTOR 10       /* segments of one tier merged together */
#define INVERTED_BUFFER_DEFAULT (64u << 20) /* buffer bytes that trigger a flush */

typedef struct inverted_opts {
	bool create;             /* make the index when missing */
	bool read_only;          /* write nothing, take the lock shared */
	bool positions;          /* store positions (phrases); default on, see below */
	bool no_merge;           /* never merge by policy (inverted_merge still does) */
	uint64_t buffer_bytes;   /* a flush (a segment, not a commit) at this size; 0 = default */
	uint32_t merge_factor;   /* 0 = INVERTED_MERGE_FACTOR */
	bm25_idf_t idf;          /* the idf of scores (a query-time choice) */
	const char *analyzer;    /* a new index's analyzer (index/analyzer.h; NULL =
	                            "unicode61"); an existing one keeps its own, and
	                            naming another is SL_INVALID */
	bool exhaustive;         /* score every match: no MaxScore, no block-max (to see
	                            what pruning saves; the answers are the same) */
	bool explain;            /* results carry each term's statistics and each hit's
	                            tfs and length (storelab search --explain) */
	const trace_t *trace;    /* narration of adds, flushes, commits, merges and
	                            searches (engine/trace.h); NULL = none */
} inverted_opts_t;

/* The defaults: create, positions, FTS5's idf. */
inverted_opts_t inverted_defaults(void);

typedef struct inverted inverted_t;

int inverted_open(env_t *env, const char *dir, const inverted_opts_t *opts, inverted_t **out,
		  sl_err_t *err);
/* Closes without committing: what was added since the last commit is dropped. */
void inverted_close(inverted_t *ix);

/*
 * Adds a document (an update when id is in the index already: the old one is
 * deleted). SL_INVALID, with nothing added, for an empty or over-long id or text
 * that is not UTF-8. Visible to search after the next commit.
 */
int inverted_add(inverted_t *ix, sl_slice_t id, sl_slice_t text, sl_err_t *err);

/* Deletes the document with this id (*found says whether there was one). */
int inverted_delete(inverted_t *ix, sl_slice_t id, bool *found, sl_err_t *err);

/*
 * Makes every add and delete so far durable and visible: writes the buffer as a
 * segment, the bitmaps that changed, then COMMIT; merges afterwards when the
 * policy asks (and commits again). On failure the index stays at the last commit
 * and the handle refuses writes (SL_READONLY) until reopened.
 */
int inverted_commit(inverted_t *ix, sl_err_t *err);

/* Merges every segment into one (dropping deleted documents) and commits. */
int inverted_optimize(inverted_t *ix, sl_err_t *err);

/* ---- search ---- */

typedef struct inverted_hit {
	char *id;          /* external id, NUL-terminated (owned by the result) */
	double score;      /* BM25, larger is better */
	uint64_t doc;      /* document number: the order of adding, ties go to the smaller */
	uint32_t dl;       /* with explain: its length in tokens */
	uint32_t *tf;      /* with explain: each leaf's frequency in it (0: absent) */
} inverted_hit_t;

/* With explain: one term or phrase of the query (a leaf, in query order). */
typedef struct inverted_leaf {
	char *text;        /* its tokens, a phrase in quotes */
	uint64_t df;       /* live documents holding it */
	double idf;
	bool scores;       /* false under a NOT's right side */
} inverted_leaf_t;

typedef struct inverted_query_stats {
	uint64_t terms;          /* term lookups (per segment) */
	uint64_t postings;       /* postings in the lists looked up */
	uint64_t scored;         /* documents whose score was computed */
	uint64_t pruned;         /* candidate documents passed over by MaxScore */
	uint64_t blocks_skipped; /* postings blocks hopped over without unpacking */
} inverted_query_stats_t;

typedef struct inverted_result {
	inverted_hit_t *hits;    /* best first */
	size_t n;
	inverted_query_stats_t stats;
	inverted_leaf_t *leaves; /* with explain */
	size_t nleaves;
	uint64_t docs;           /* with explain: N, the live documents */
	double avgdl;            /* and their mean length */
} inverted_result_t;

/*
 * The k best documents for query (syntax: words, "quoted phrases", AND (also
 * implied between words), OR, NOT, parentheses; NOT binds tighter than AND, AND
 * than OR; words go through the index's tokenizer, and a word that becomes
 * several tokens is a phrase). Scores sum BM25 over the query's terms and
 * phrases that match the document (a phrase counts as one term: its frequency
 * is its occurrences, its idf from the documents holding it, as in FTS5); a
 * term under NOT's right side adds nothing. SL_INVALID with a message naming the
 * column for a malformed query.
 */
int inverted_search(inverted_t *ix, const char *query, size_t k, inverted_result_t *res,
		    sl_err_t *err);
void inverted_result_free(inverted_result_t *res);

/* ---- statistics and checking ---- */

typedef struct inverted_stats {
	uint64_t docs, deleted;  /* live documents; deleted ones still in segments */
	uint64_t tokens;         /* tokens of live documents */
	uint64_t segments;       /* live segments */
	uint64_t terms;          /* dictionary entries, summed over segments */
	uint64_t postings;       /* postings, summed over segments */
	uint64_t postings_bytes; /* bytes of the postings area (lists and positions) */
	uint64_t dict_bytes;     /* bytes of the dictionaries and their indexes */
	uint64_t file_bytes;     /* every file of the index */
	uint64_t flushes, merges;/* done by this handle */
	uint64_t generation;     /* commits so far */
} inverted_stats_t;

int inverted_stats(inverted_t *ix, inverted_stats_t *out, sl_err_t *err);

/* One live segment, as inverted_segments shows it. */
typedef struct inverted_segment {
	uint64_t number;         /* seg-<number> */
	uint32_t docs, deleted;  /* documents in it; of those, deleted (dropped at a merge) */
	uint64_t tokens, terms;  /* tokens of all its documents; dictionary entries */
	uint64_t bytes;          /* the file */
} inverted_segment_t;

typedef int (*inverted_segment_fn)(void *ctx, const inverted_segment_t *s);

/* Visits the committed segments, oldest first (what inspect --svg draws). */
int inverted_segments(inverted_t *ix, inverted_segment_fn fn, void *ctx);

/* Prints the commit and every segment — for gdb: `call inverted_dump(ix, stderr)`. */
void inverted_dump(inverted_t *ix, FILE *out);

/* Verifies every invariant of every live file (see above). SL_CORRUPT naming the first break. */
int inverted_check(inverted_t *ix, sl_err_t *err);

/* What one segment file holds (storelab inspect). */
typedef struct inverted_segment_info {
	uint64_t docs, tokens, terms;
	uint64_t inline_terms;       /* terms whose postings live in the dictionary */
	uint64_t postings;           /* sum of the terms' document frequencies */
	uint64_t postings_bytes;     /* the postings area: lists and positions */
	uint64_t positions_bytes;    /* of which positions */
	uint64_t listed_postings;    /* postings in lists of their own (not inline) */
	uint64_t packed_bytes;       /* those lists' bytes, bit-packed (headers included) */
	uint64_t varint_bytes;       /* what the same gaps and tfs take as a varint each */
	uint64_t dict_bytes, id_bytes, table_bytes, file_bytes;
	uint32_t dict_blocks, id_blocks, shortest_doc;
	bool positions;
} inverted_segment_info_t;

/*
 * Opens one segment file on its own, reads every byte of it and checks the
 * invariants that hold within a segment (1 to 4 above): SL_OK with info filled,
 * or SL_CORRUPT naming the first break (info then holds what was read).
 */
int inverted_inspect_segment(env_t *env, const char *path, inverted_segment_info_t *info,
			     sl_err_t *err);

#endif
