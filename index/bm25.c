/* bm25.c — Okapi BM25 (formulas in bm25.h). */
#include "index/bm25.h"

#include <assert.h>
#include <math.h>

bm25_t bm25_params(uint64_t docs, uint64_t tokens)
{
	double avgdl = docs > 0 && tokens > 0 ? (double)tokens / (double)docs : 1.0;
	return (bm25_t){ .k1 = 1.2, .b = 0.75, .idf = BM25_IDF_FTS5, .docs = docs, .avgdl = avgdl };
}

double bm25_idf(const bm25_t *p, uint64_t n)
{
	assert(n <= p->docs);
	double ratio = ((double)p->docs - (double)n + 0.5) / ((double)n + 0.5);
	if (p->idf == BM25_IDF_LUCENE)
		return log(1.0 + ratio);
	double idf = log(ratio);
	return idf > 1e-6 ? idf : 1e-6; /* a term in most documents: almost nothing, never less */
}

double bm25_term(const bm25_t *p, double idf, uint32_t tf, uint32_t dl)
{
	double norm = p->k1 * (1.0 - p->b + p->b * (double)dl / p->avgdl);
	return idf * (double)tf * (p->k1 + 1.0) / ((double)tf + norm);
}
