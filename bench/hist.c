/* hist.c — percentiles and merging for the log-linear histogram of hist.h. */
#include "bench/hist.h"

#include <string.h>

void hist_init(hist_t *h)
{
	memset(h, 0, sizeof *h);
	h->min_ns = UINT64_MAX;
}

void hist_merge(hist_t *dst, const hist_t *src)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		dst->counts[i] += src->counts[i];
	dst->n += src->n;
	dst->sum_ns += src->sum_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
	if (src->min_ns < dst->min_ns)
		dst->min_ns = src->min_ns;
}

uint64_t hist_bucket_low(unsigned b)
{
	if (b < 2 * HIST_SUB)
		return b;
	unsigned s = b / HIST_SUB - 1;
	uint64_t mantissa = HIST_SUB + b % HIST_SUB;
	return mantissa << s;
}

uint64_t hist_percentile(const hist_t *h, double q)
{
	if (h->n == 0)
		return 0;
	if (q <= 0)
		return h->min_ns;
	if (q >= 1)
		return h->max_ns;
	/* The rank of the value wanted, 1-based: ceil(q * n). */
	uint64_t rank = (uint64_t)(q * (double)h->n);
	if ((double)rank < q * (double)h->n)
		rank++;
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		seen += h->counts[b];
		if (seen < rank)
			continue;
		uint64_t lo = hist_bucket_low(b);
		uint64_t hi = b + 1 < HIST_BUCKETS ? hist_bucket_low(b + 1) - 1 : UINT64_MAX;
		uint64_t mid = lo + (hi - lo) / 2;
		/* Never report outside what was actually seen. */
		if (mid > h->max_ns)
			mid = h->max_ns;
		if (mid < h->min_ns)
			mid = h->min_ns;
		return mid;
	}
	return h->max_ns;
}
