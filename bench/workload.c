/* workload.c — generators and the named workloads of workload.h. */
#include "bench/workload.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const workload_def_t defs[] = {
	{ "fillseq", PHASE_FILLSEQ, { { 0 } }, DIST_UNIFORM, "insert n keys in key order into a fresh store" },
	{ "fillrandom", PHASE_FILLRANDOM, { { 0 } }, DIST_UNIFORM, "insert n keys in random order into a fresh store" },
	{ "readrandom", PHASE_READRANDOM, { { 0 } }, DIST_UNIFORM, "n gets of existing keys" },
	{ "readmissing", PHASE_READMISSING, { { 0 } }, DIST_UNIFORM, "n gets of keys never written" },
	{ "scan", PHASE_SCAN, { { 0 } }, DIST_UNIFORM, "n/10 scans: seek, then read the next scan-length entries" },
	{ "overwrite", PHASE_OVERWRITE, { { 0 } }, DIST_UNIFORM, "n puts of existing keys with new values" },
	{ "deleterandom", PHASE_DELETERANDOM, { { 0 } }, DIST_UNIFORM, "delete every key once, in random order" },
	{ "ycsb-a", PHASE_MIX, { { [OP_READ] = 0.5, [OP_UPDATE] = 0.5 } }, DIST_ZIPFIAN, "50% read, 50% update (session store)" },
	{ "ycsb-b", PHASE_MIX, { { [OP_READ] = 0.95, [OP_UPDATE] = 0.05 } }, DIST_ZIPFIAN, "95% read, 5% update (photo tagging)" },
	{ "ycsb-c", PHASE_MIX, { { [OP_READ] = 1.0 } }, DIST_ZIPFIAN, "100% read (user profile cache)" },
	{ "ycsb-d", PHASE_MIX, { { [OP_READ] = 0.95, [OP_INSERT] = 0.05 } }, DIST_LATEST, "95% read, 5% insert, latest keys hottest (status updates)" },
	{ "ycsb-e", PHASE_MIX, { { [OP_SCAN] = 0.95, [OP_INSERT] = 0.05 } }, DIST_ZIPFIAN, "95% short scan, 5% insert (threaded conversations)" },
	{ "ycsb-f", PHASE_MIX, { { [OP_READ] = 0.5, [OP_RMW] = 0.5 } }, DIST_ZIPFIAN, "50% read, 50% read-modify-write (user database)" },
};

size_t workload_defs(const workload_def_t **list)
{
	*list = defs;
	return sizeof defs / sizeof defs[0];
}

const workload_def_t *workload_find(const char *name)
{
	for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
		if (strcmp(defs[i].name, name) == 0)
			return &defs[i];
	return NULL;
}

const char *op_kind_name(op_kind_t k)
{
	static const char *const names[] = { "read", "update", "insert", "scan", "rmw", "delete" };
	return k < OP_KINDS_ ? names[k] : "?";
}

const char *dist_name(dist_t d)
{
	switch (d) {
	case DIST_UNIFORM: return "uniform";
	case DIST_ZIPFIAN: return "zipfian";
	case DIST_LATEST: return "latest";
	default: return "default";
	}
}

int dist_parse(const char *text, dist_t *out)
{
	for (dist_t d = DIST_UNIFORM; d <= DIST_LATEST; d++) {
		if (strcmp(text, dist_name(d)) == 0) {
			*out = d;
			return 0;
		}
	}
	return -1;
}

/* ---------------------------------------------------------------- zipfian */

static double zipf_zeta_range(uint64_t from, uint64_t to, double theta)
{
	double sum = 0;
	for (uint64_t i = from; i <= to; i++)
		sum += 1.0 / pow((double)i, theta);
	return sum;
}

static void zipf_update_eta(zipf_t *z)
{
	z->eta = (1.0 - pow(2.0 / (double)z->n, 1.0 - z->theta)) / (1.0 - z->zeta2 / z->zetan);
}

void zipf_init(zipf_t *z, uint64_t n, double theta)
{
	z->n = n ? n : 1;
	z->theta = theta;
	z->alpha = 1.0 / (1.0 - theta);
	z->zetan = zipf_zeta_range(1, z->n, theta);
	z->zeta2 = zipf_zeta_range(1, 2, theta);
	zipf_update_eta(z);
}

void zipf_grow(zipf_t *z, uint64_t n)
{
	if (n <= z->n)
		return;
	z->zetan += zipf_zeta_range(z->n + 1, n, z->theta);
	z->n = n;
	zipf_update_eta(z);
}

uint64_t zipf_next(const zipf_t *z, wl_rng_t *r)
{
	double u = wl_unit(r);
	double uz = u * z->zetan;
	if (uz < 1.0)
		return 0;
	if (uz < 1.0 + pow(0.5, z->theta))
		return z->n > 1 ? 1 : 0;
	uint64_t rank = (uint64_t)((double)z->n * pow(z->eta * u - z->eta + 1.0, z->alpha));
	return rank < z->n ? rank : z->n - 1;
}

double zipf_probability(const zipf_t *z, uint64_t rank)
{
	return 1.0 / pow((double)(rank + 1), z->theta) / z->zetan;
}

/* ---------------------------------------------------------------- keys, values */

void wl_key(uint64_t i, unsigned key_size, uint8_t *out)
{
	for (unsigned pos = key_size; pos > 0; pos--) {
		out[pos - 1] = (uint8_t)('0' + i % 10);
		i /= 10;
	}
}

unsigned wl_digits(uint64_t max_index)
{
	unsigned d = 1;
	while (max_index >= 10) {
		max_index /= 10;
		d++;
	}
	return d;
}

int value_pool_init(value_pool_t *vp, size_t value_size, double ratio, uint64_t seed)
{
	size_t total = WL_VALUE_POOL_BYTES + value_size;
	vp->bytes = malloc(total);
	vp->value_size = value_size;
	if (vp->bytes == NULL)
		return -1;
	/* Each 100-byte piece is `ratio` random bytes repeated to fill it, so a
	 * compressor finds the repeats and shrinks it to about `ratio`. */
	wl_rng_t r = { seed };
	size_t piece = 100;
	size_t fresh = (size_t)(piece * ratio);
	if (fresh < 1)
		fresh = 1;
	for (size_t off = 0; off < total; off += piece) {
		size_t n = total - off < piece ? total - off : piece;
		for (size_t i = 0; i < n; i++)
			vp->bytes[off + i] = i < fresh ? (uint8_t)(' ' + wl_below(&r, 95))
						       : vp->bytes[off + i % fresh];
	}
	return 0;
}

const uint8_t *value_pool_next(const value_pool_t *vp, wl_rng_t *r)
{
	return vp->bytes + wl_below(r, WL_VALUE_POOL_BYTES);
}

void value_pool_free(value_pool_t *vp)
{
	free(vp->bytes);
	vp->bytes = NULL;
}

/* ---------------------------------------------------------------- choosing */

void chooser_init(chooser_t *c, dist_t dist, uint64_t count)
{
	c->dist = dist;
	c->count = count;
	if (dist != DIST_UNIFORM)
		zipf_init(&c->zipf, count, 0.99);
}

void chooser_add(chooser_t *c)
{
	c->count++;
	if (c->dist != DIST_UNIFORM)
		zipf_grow(&c->zipf, c->count);
}

/* FNV-1a over the 8 bytes of v: scatters zipfian ranks over the key space. */
static uint64_t chooser_scramble(uint64_t v)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

uint64_t chooser_next(chooser_t *c, wl_rng_t *r)
{
	if (c->count == 0)
		return 0;
	switch (c->dist) {
	case DIST_ZIPFIAN:
		return chooser_scramble(zipf_next(&c->zipf, r)) % c->count;
	case DIST_LATEST:
		return c->count - 1 - zipf_next(&c->zipf, r);
	default:
		return wl_below(r, c->count);
	}
}

uint32_t *wl_permutation(uint64_t n, uint64_t seed)
{
	uint32_t *p = malloc((n ? n : 1) * sizeof *p);
	if (p == NULL)
		return NULL;
	for (uint64_t i = 0; i < n; i++)
		p[i] = (uint32_t)i;
	wl_rng_t r = { seed };
	for (uint64_t i = n; i > 1; i--) {
		uint64_t j = wl_below(&r, i);
		uint32_t t = p[i - 1];
		p[i - 1] = p[j];
		p[j] = t;
	}
	return p;
}

op_kind_t mix_pick(const mix_t *m, wl_rng_t *r)
{
	double u = wl_unit(r), acc = 0;
	op_kind_t last = OP_READ;
	for (op_kind_t k = 0; k < OP_KINDS_; k++) {
		if (m->p[k] <= 0)
			continue;
		acc += m->p[k];
		last = k;
		if (u < acc)
			return k;
	}
	return last;
}
