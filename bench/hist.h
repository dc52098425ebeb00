/*
 * hist.h — a log-linear latency histogram.
 *
 * Recording a latency must cost little next to a get (a few hundred ns), so it is
 * one array increment: no sorting, no allocation. Values (nanoseconds) below 64
 * get a bucket each; above, every power of two [2^e, 2^(e+1)) is cut into 32
 * equal sub-buckets. So a bucket is never wider than 1/32 of its lower bound, and
 * a percentile read back is within about 3 % of the exact one, for any value up
 * to 2^63 ns. This is the idea of HdrHistogram, at a fixed precision.
 *
 *   value v          bucket
 *   0 .. 63          v
 *   >= 64            e = floor(log2 v), s = e - 5, (s + 1) * 32 + (v >> s) - 32
 *
 * Histograms of several threads or runs merge by adding counts.
 */
#ifndef SL_HIST_H
#define SL_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 5
#define HIST_SUB (1u << HIST_SUB_BITS)        /* sub-buckets per power of two */
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB) /* up to 2^64 - 1 */

typedef struct hist {
	uint64_t counts[HIST_BUCKETS]; /* values recorded per bucket */
	uint64_t n;                    /* values recorded */
	uint64_t min_ns;               /* exact smallest value */
	uint64_t max_ns;               /* exact largest value */
	double sum_ns;                 /* for the mean */
} hist_t;

void hist_init(hist_t *h);

static inline unsigned hist_bucket(uint64_t v)
{
	if (v < 2 * HIST_SUB)
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v);
	unsigned s = e - HIST_SUB_BITS;
	return (s + 1) * HIST_SUB + (unsigned)(v >> s) - HIST_SUB;
}

static inline void hist_record(hist_t *h, uint64_t ns)
{
	h->counts[hist_bucket(ns)]++;
	h->n++;
	h->sum_ns += (double)ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	if (ns < h->min_ns)
		h->min_ns = ns;
}

/* Adds the counts of src into dst. */
void hist_merge(hist_t *dst, const hist_t *src);

/* The value below which fraction q (0..1) of the recorded values fall, in ns:
 * the middle of the bucket that holds that rank (exact min/max at the ends). */
uint64_t hist_percentile(const hist_t *h, double q);

/* Lowest value a bucket holds, and the lowest of the next (for tests). */
uint64_t hist_bucket_low(unsigned b);

#endif
