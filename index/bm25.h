/*
 * bm25.h — Okapi BM25, the relevance score of search engines.
 *
 * A document scores for a query term by how often it holds the term (tf),
 * damped so the tenth occurrence adds far less than the first, and normalised by
 * its length (a long document holds every word more often), and the term weighs
 * by how rare it is among the N documents (idf): a word in every document says
 * nothing about any of them. A query's score is the sum over its terms:
 *
 *   score(d) = sum over terms t of  idf(t) * tf (k1 + 1) / (tf + k1 (1 - b + b |d| / avgdl))
 *
 * with |d| the document's length in tokens, avgdl the mean length, k1 = 1.2 (how
 * fast tf saturates) and b = 0.75 (how much length counts), the values FTS5,
 * Lucene and Xapian ship with.
 *
 * Two idfs are in use; n is the number of documents holding the term:
 *   FTS5    log((N - n + 0.5) / (n + 0.5)), floored at 1e-6 — negative for a term in
 *           more than half the documents, hence the floor: such a term then adds
 *           almost nothing (the kit's default, so rankings compare with FTS5's);
 *   Lucene  log(1 + (N - n + 0.5) / (n + 0.5)) — always positive, so a common term
 *           still adds a little, and ties between documents that differ only in
 *           common words are broken by them.
 * (FTS5 reports the score negated, so that ORDER BY bm25() ascending is best
 * first; these functions return it positive, larger is better.)
 *
 * The score of a document is bounded by the score it would have with the
 * block's largest tf and the shortest length seen (bm25_term with those): what
 * block-max pruning compares with the top k's threshold.
 */
#ifndef SL_BM25_H
#define SL_BM25_H

#include <stdint.h>

typedef enum bm25_idf {
	BM25_IDF_FTS5,   /* log((N - n + 0.5) / (n + 0.5)), at least 1e-6 */
	BM25_IDF_LUCENE, /* log(1 + (N - n + 0.5) / (n + 0.5)) */
} bm25_idf_t;

typedef struct bm25 {
	double k1;          /* tf saturation; 1.2 */
	double b;           /* length normalisation; 0.75 */
	bm25_idf_t idf;     /* which idf */
	uint64_t docs;      /* N: documents in the collection */
	double avgdl;       /* their mean length in tokens (> 0) */
} bm25_t;

/* The usual parameters (k1 1.2, b 0.75, FTS5's idf) for a collection of docs documents
 * totalling tokens tokens. */
bm25_t bm25_params(uint64_t docs, uint64_t tokens);

/* idf of a term held by n of the collection's documents (n <= N). */
double bm25_idf(const bm25_t *p, uint64_t n);

/* One term's contribution: the term's idf, its tf in a document of length dl tokens. */
double bm25_term(const bm25_t *p, double idf, uint32_t tf, uint32_t dl);

#endif
