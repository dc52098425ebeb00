/*
 * workload.h — what a benchmark does to a store: keys, values, distributions
 * and the named workloads.
 *
 * Everything is made from a seed, so two runs with the same options are the same
 * workload, key for key.
 *
 * Keys are fixed width: key i is the decimal number i, zero-padded to key_size
 * bytes ("0000000000000042" at 16 bytes), as db_bench makes them. Values come
 * from a pool of random bytes made compressible to a chosen ratio (0.5 = lz4 or
 * snappy can halve them, as db_bench's default): a value is value_size bytes of
 * the pool at a random offset, so making one costs nothing.
 *
 * Distributions pick which existing key an operation touches:
 *   uniform  every key alike;
 *   zipfian  key popularity follows Zipf's law with theta 0.99 (rank r is chosen
 *            with probability proportional to 1 / r^0.99), the hot ranks then
 *            scattered over the key space by a hash, as YCSB's scrambled
 *            zipfian does — so hot keys are not all neighbours;
 *   latest   zipfian over recency: the most recently inserted keys are hottest
 *            (YCSB workload D).
 *
 * Workloads (db_bench phases and the YCSB core workloads):
 *   fillseq       insert keys 0..n-1 in order into a fresh store
 *   fillrandom    insert keys 0..n-1 in a random order into a fresh store
 *   readrandom    n gets of existing keys (per --dist)
 *   readmissing   n gets of keys that were never written, interleaved with the
 *                 written ones (the key's last digit replaced by 'x')
 *   scan          n/10 scans: seek to a key, read the next scan_length entries
 *   overwrite     n puts of existing keys (per --dist) with new values
 *   deleterandom  delete every key once, in a random order
 *   ycsb-a..f     the YCSB mixes: A 50% read / 50% update; B 95/5; C 100% read;
 *                 D 95% read / 5% insert, latest; E 95% scan / 5% insert;
 *                 F 50% read / 50% read-modify-write. Zipfian unless --dist says.
 *   mix           the mix given by storelab advise.
 */
#ifndef SL_WORKLOAD_H
#define SL_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum dist {
	DIST_UNIFORM,
	DIST_ZIPFIAN,
	DIST_LATEST,
	DIST_DEFAULT_, /* the workload's own default (zipfian for YCSB) */
} dist_t;

/* The operation kinds, also the per-kind latency groups of a mixed workload. */
typedef enum op_kind {
	OP_READ,
	OP_UPDATE,
	OP_INSERT,
	OP_SCAN,
	OP_RMW,
	OP_DELETE,
	OP_KINDS_,
} op_kind_t;

const char *op_kind_name(op_kind_t k);

typedef enum phase_kind {
	PHASE_FILLSEQ,
	PHASE_FILLRANDOM,
	PHASE_READRANDOM,
	PHASE_READMISSING,
	PHASE_SCAN,
	PHASE_OVERWRITE,
	PHASE_DELETERANDOM,
	PHASE_MIX,
} phase_kind_t;

/* Proportions of each operation kind in a mixed workload (sum 1). */
typedef struct mix {
	double p[OP_KINDS_]; /* indexed by op_kind_t */
} mix_t;

typedef struct workload_def {
	const char *name;    /* as on the command line */
	phase_kind_t kind;   /* what it does */
	mix_t mix;           /* for PHASE_MIX */
	dist_t dist;         /* default distribution */
	const char *summary; /* one line for --help */
} workload_def_t;

/* The named workloads, in the order --help lists them. */
size_t workload_defs(const workload_def_t **list);
const workload_def_t *workload_find(const char *name);

/* true for workloads that start from an empty store. */
static inline bool workload_is_fill(const workload_def_t *w)
{
	return w->kind == PHASE_FILLSEQ || w->kind == PHASE_FILLRANDOM;
}

const char *dist_name(dist_t d);
int dist_parse(const char *text, dist_t *out); /* 0, or -1 when unknown */

/* ---- random numbers ---- */

typedef struct wl_rng {
	uint64_t state; /* splitmix64 */
} wl_rng_t;

static inline uint64_t wl_next(wl_rng_t *r)
{
	uint64_t z = (r->state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (the modulo bias is below 2^-40 for n < 2^24). */
static inline uint64_t wl_below(wl_rng_t *r, uint64_t n)
{
	return wl_next(r) % n;
}

/* Uniform in [0, 1). */
static inline double wl_unit(wl_rng_t *r)
{
	return (double)(wl_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- zipfian (Gray et al., "Quickly generating billion-record synthetic
 * databases", the generator YCSB uses) ---- */

typedef struct zipf {
	uint64_t n;     /* items: ranks 0..n-1 */
	double theta;   /* skew, 0.99 */
	double alpha;   /* 1 / (1 - theta) */
	double zetan;   /* sum over i = 1..n of 1 / i^theta */
	double zeta2;   /* the same for n = 2 */
	double eta;     /* the generator's correction factor for n */
} zipf_t;

void zipf_init(zipf_t *z, uint64_t n, double theta);
/* Extends the item count to n (>= current), updating zeta incrementally. */
void zipf_grow(zipf_t *z, uint64_t n);
/* A rank in [0, n): 0 is the most popular. */
uint64_t zipf_next(const zipf_t *z, wl_rng_t *r);
/* The exact probability of rank r under Zipf's law, for tests. */
double zipf_probability(const zipf_t *z, uint64_t rank);

/* ---- keys and values ---- */

#define WL_MAX_KEY_SIZE 1024
#define WL_VALUE_POOL_BYTES (1u << 20)

/* Writes key number i, zero-padded decimal, in key_size bytes. */
void wl_key(uint64_t i, unsigned key_size, uint8_t *out);

/* Decimal digits needed for the largest key index of a run. */
unsigned wl_digits(uint64_t max_index);

typedef struct value_pool {
	uint8_t *bytes;    /* WL_VALUE_POOL_BYTES + value_size bytes */
	size_t value_size; /* bytes per value */
} value_pool_t;

/* Fills a pool whose data compresses to about `ratio` of its size. 0 or -1. */
int value_pool_init(value_pool_t *vp, size_t value_size, double ratio, uint64_t seed);
const uint8_t *value_pool_next(const value_pool_t *vp, wl_rng_t *r);
void value_pool_free(value_pool_t *vp);

/* ---- choosing keys during a run ---- */

/*
 * The key chooser of a run: which key indices exist (0..live_hi-1, plus inserts
 * made so far), and the distribution over them.
 */
typedef struct chooser {
	dist_t dist;      /* uniform, zipfian or latest */
	uint64_t count;   /* keys that exist: indices 0..count-1 */
	zipf_t zipf;      /* over count items (zipfian and latest) */
} chooser_t;

void chooser_init(chooser_t *c, dist_t dist, uint64_t count);
/* Records that key index `count` was inserted (keys grow by one). */
void chooser_add(chooser_t *c);
/* An existing key index. */
uint64_t chooser_next(chooser_t *c, wl_rng_t *r);

/* A random permutation of 0..n-1 (Fisher-Yates); NULL when out of memory. */
uint32_t *wl_permutation(uint64_t n, uint64_t seed);

/* Picks an operation kind from a mix. */
op_kind_t mix_pick(const mix_t *m, wl_rng_t *r);

#endif
