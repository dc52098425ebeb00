/* partition.c — the five partitioners (see partition.h). */
#include "kv/partition.h"

#include <stdlib.h>
#include <string.h>

#include "engine/checksum.h"
#include "engine/codec.h"

static const char *const part_names[PART_KINDS] = { "mod", "ring", "jump", "rendezvous",
						     "range" };

const char *part_kind_name(part_kind_t kind)
{
	return (unsigned)kind < PART_KINDS ? part_names[kind] : "?";
}

int part_kind_parse(const char *name, part_kind_t *out)
{
	for (int k = 0; k < PART_KINDS; k++)
		if (strcmp(name, part_names[k]) == 0) {
			*out = (part_kind_t)k;
			return SL_OK;
		}
	return SL_INVALID;
}

/* ---------------------------------------------------------------- hashing */

/* The hash every hash kind starts from: XXH3 of the partition key. */
static uint64_t part_hash(const part_t *p, sl_slice_t key)
{
	size_t n = p->pkey != 0 && key.len > p->pkey ? p->pkey : key.len;
	return checksum_xxh3(key.data, n, 0);
}

/* A 64-bit finaliser (splitmix64's): every input bit flips about half the output bits. */
static uint64_t part_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

/* Where point v of node id sits on the ring. */
static uint64_t part_point_at(uint32_t id, uint32_t v)
{
	uint8_t b[8];
	codec_put_u32(b, id);
	codec_put_u32(b + 4, v);
	return checksum_xxh3(b, sizeof b, 0x72696e67 /* "ring" */);
}

/* ---------------------------------------------------------------- the five owners */

/*
 * Jump consistent hash. The key's generator yields, bucket count after bucket
 * count, the next count at which the key would move to the newest bucket; the
 * key ends in the last bucket it jumped to below n. Each step skips ahead by a
 * random factor, so the loop runs O(log n) times.
 */
static uint32_t part_jump(uint64_t h, uint32_t n)
{
	int64_t bucket = -1, next = 0;
	while (next < (int64_t)n) {
		bucket = next;
		h = h * UINT64_C(2862933555777941757) + 1; /* a 64-bit LCG step */
		double u = (double)((h >> 33) + 1) / (double)(UINT64_C(1) << 31); /* in (0, 1] */
		next = (int64_t)((double)(bucket + 1) / u);
	}
	return (uint32_t)bucket;
}

/* The first ring point at or after h, going round past the top to the first point. */
static uint32_t part_ring_slot(const part_t *p, uint64_t h)
{
	size_t lo = 0, hi = (size_t)p->n * p->vnodes;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->ring[mid].at < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return p->ring[lo == (size_t)p->n * p->vnodes ? 0 : lo].slot;
}

/* The node whose score for this key is highest (ties, vanishingly rare, to the lower id). */
static uint32_t part_rendezvous_slot(const part_t *p, uint64_t h)
{
	uint32_t best = 0;
	uint64_t best_score = 0;
	for (uint32_t i = 0; i < p->n; i++) {
		uint64_t score = part_mix(h ^ p->weights[i]);
		if (i == 0 || score > best_score ||
		    (score == best_score && p->ids[i] < p->ids[best])) {
			best = i;
			best_score = score;
		}
	}
	return best;
}

/* The number of split points <= key: the slot of the range that holds it. */
static uint32_t part_range_slot(const part_t *p, sl_slice_t key)
{
	uint32_t lo = 0, hi = p->n - 1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (sl_slice_cmp(buf_slice(&p->splits[mid]), key) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint32_t part_slot(const part_t *p, sl_slice_t key)
{
	if (p->n == 1)
		return 0;
	switch (p->kind) {
	case PART_MOD: return (uint32_t)(part_hash(p, key) % p->n);
	case PART_RING: return part_ring_slot(p, part_hash(p, key));
	case PART_JUMP: return part_jump(part_hash(p, key), p->n);
	case PART_RENDEZVOUS: return part_rendezvous_slot(p, part_hash(p, key));
	case PART_RANGE: return part_range_slot(p, key);
	}
	return 0;
}

int part_slot_of(const part_t *p, uint32_t id)
{
	for (uint32_t i = 0; i < p->n; i++)
		if (p->ids[i] == id)
			return (int)i;
	return -1;
}

/* ---------------------------------------------------------------- building */

static int part_point_cmp(const void *a, const void *b)
{
	const part_point_t *x = a, *y = b;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/* The ring's points, or each node's rendezvous weight: what the kind precomputes. */
static int part_build_tables(part_t *p, sl_err_t *err)
{
	if (p->kind == PART_RING) {
		size_t count = (size_t)p->n * p->vnodes;
		p->ring = malloc(count * sizeof *p->ring);
		if (p->ring == NULL)
			return sl_errf(err, SL_NOMEM, "partition: out of memory for %zu ring points",
				       count);
		for (uint32_t i = 0; i < p->n; i++)
			for (uint32_t v = 0; v < p->vnodes; v++)
				p->ring[(size_t)i * p->vnodes + v] =
					(part_point_t){ part_point_at(p->ids[i], v), i };
		qsort(p->ring, count, sizeof *p->ring, part_point_cmp);
	} else if (p->kind == PART_RENDEZVOUS) {
		p->weights = malloc(p->n * sizeof *p->weights);
		if (p->weights == NULL)
			return sl_errf(err, SL_NOMEM, "partition: out of memory");
		for (uint32_t i = 0; i < p->n; i++)
			p->weights[i] = part_mix(p->ids[i] + UINT64_C(0x9e3779b97f4a7c15));
	}
	return SL_OK;
}

static int part_copy_splits(part_t *p, const sl_slice_t *splits, sl_err_t *err)
{
	if (p->n == 1)
		return SL_OK;
	if (splits == NULL)
		return sl_errf(err, SL_INVALID, "partition: range over %u nodes needs %u split keys",
			       p->n, p->n - 1);
	p->splits = calloc(p->n - 1, sizeof *p->splits);
	if (p->splits == NULL)
		return sl_errf(err, SL_NOMEM, "partition: out of memory");
	for (uint32_t i = 0; i + 1 < p->n; i++) {
		if (i > 0 && sl_slice_cmp(splits[i - 1], splits[i]) >= 0)
			return sl_errf(err, SL_INVALID, "partition: split keys %u and %u are not "
				       "strictly ascending", i - 1, i);
		buf_set(&p->splits[i], splits[i].data, splits[i].len);
		if (!buf_ok(&p->splits[i]))
			return sl_errf(err, SL_NOMEM, "partition: out of memory");
	}
	return SL_OK;
}

static int part_check_ids(const uint32_t *ids, uint32_t n, sl_err_t *err)
{
	if (n == 0 || n > PART_MAX_NODES)
		return sl_errf(err, SL_INVALID, "partition: %u nodes; expected 1 to %u", n,
			       PART_MAX_NODES);
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < i; j++)
			if (ids[i] == ids[j])
				return sl_errf(err, SL_INVALID, "partition: node id %u listed twice",
					       ids[i]);
	return SL_OK;
}

int part_init(part_t *p, part_kind_t kind, const uint32_t *ids, uint32_t n,
	      const sl_slice_t *splits, uint32_t vnodes, uint32_t pkey, sl_err_t *err)
{
	memset(p, 0, sizeof *p);
	if ((unsigned)kind >= PART_KINDS)
		return sl_errf(err, SL_INVALID, "partition: unknown kind %d", (int)kind);
	if (vnodes > PART_MAX_VNODES)
		return sl_errf(err, SL_INVALID, "partition: %u virtual nodes; at most %u", vnodes,
			       PART_MAX_VNODES);
	if (pkey > PART_MAX_PKEY)
		return sl_errf(err, SL_INVALID, "partition: a partition key of %u bytes; at most %u",
			       pkey, PART_MAX_PKEY);
	int rc = part_check_ids(ids, n, err);
	if (rc != SL_OK)
		return rc;
	p->kind = kind;
	p->n = n;
	p->vnodes = vnodes ? vnodes : PART_DEFAULT_VNODES;
	p->pkey = pkey;
	p->ids = malloc(n * sizeof *p->ids);
	if (p->ids == NULL)
		return sl_errf(err, SL_NOMEM, "partition: out of memory");
	memcpy(p->ids, ids, n * sizeof *ids);
	rc = kind == PART_RANGE ? part_copy_splits(p, splits, err) : part_build_tables(p, err);
	if (rc != SL_OK)
		part_free(p);
	return rc;
}

void part_free(part_t *p)
{
	if (p->splits != NULL)
		for (uint32_t i = 0; i + 1 < p->n; i++)
			buf_free(&p->splits[i]);
	free(p->splits);
	free(p->ring);
	free(p->weights);
	free(p->ids);
	memset(p, 0, sizeof *p);
}

/* The split keys of p as slices (n - 1 of them; NULL when none). */
static sl_slice_t *part_split_slices(const part_t *p, uint32_t extra)
{
	sl_slice_t *s = calloc(p->n + extra, sizeof *s);
	if (s != NULL && p->kind == PART_RANGE)
		for (uint32_t i = 0; i + 1 < p->n; i++)
			s[i] = buf_slice(&p->splits[i]);
	return s;
}

int part_with_node(const part_t *p, uint32_t id, sl_slice_t split_at, part_t *out,
		   sl_err_t *err)
{
	memset(out, 0, sizeof *out);
	uint32_t *ids = malloc((p->n + 1) * sizeof *ids);
	sl_slice_t *splits = part_split_slices(p, 1);
	int rc = ids && splits ? SL_OK : sl_errf(err, SL_NOMEM, "partition: out of memory");
	if (rc == SL_OK && p->kind == PART_RANGE) {
		/* The new range starts at split_at and is the slot right after the one it cuts. */
		uint32_t at = part_range_slot(p, split_at);
		sl_slice_t lo, hi;
		bool has_lo, has_hi;
		part_slot_range(p, at, &lo, &has_lo, &hi, &has_hi);
		if (has_lo && sl_slice_cmp(lo, split_at) == 0)
			rc = sl_errf(err, SL_INVALID, "partition: a range already starts at the "
				     "split key");
		memmove(ids + at + 2, p->ids + at + 1, (p->n - at - 1) * sizeof *ids);
		memcpy(ids, p->ids, (at + 1) * sizeof *ids);
		ids[at + 1] = id;
		if (p->n > 1)
			memmove(splits + at + 1, splits + at, (p->n - 1 - at) * sizeof *splits);
		splits[at] = split_at;
	} else if (rc == SL_OK) {
		memcpy(ids, p->ids, p->n * sizeof *ids);
		ids[p->n] = id;
	}
	if (rc == SL_OK)
		rc = part_init(out, p->kind, ids, p->n + 1, splits, p->vnodes, p->pkey, err);
	free(ids);
	free(splits);
	return rc;
}

int part_without_node(const part_t *p, uint32_t id, part_t *out, sl_err_t *err)
{
	memset(out, 0, sizeof *out);
	int slot = part_slot_of(p, id);
	if (slot < 0)
		return sl_errf(err, SL_INVALID, "partition: node %u is not a member", id);
	if (p->n == 1)
		return sl_errf(err, SL_INVALID, "partition: node %u is the only node", id);
	uint32_t *ids = malloc(p->n * sizeof *ids);
	sl_slice_t *splits = part_split_slices(p, 0);
	int rc = ids && splits ? SL_OK : sl_errf(err, SL_NOMEM, "partition: out of memory");
	if (rc == SL_OK) {
		memcpy(ids, p->ids, p->n * sizeof *ids);
		memmove(ids + slot, ids + slot + 1, (p->n - 1 - (uint32_t)slot) * sizeof *ids);
		/* Range: dropping the split that starts this range (the one that ends it,
		 * for the first) joins it to its neighbour. */
		uint32_t drop = slot > 0 ? (uint32_t)slot - 1 : 0;
		if (p->kind == PART_RANGE)
			memmove(splits + drop, splits + drop + 1,
				(p->n - 2 - drop) * sizeof *splits);
		rc = part_init(out, p->kind, ids, p->n - 1, splits, p->vnodes, p->pkey, err);
	}
	free(ids);
	free(splits);
	return rc;
}

void part_slot_range(const part_t *p, uint32_t slot, sl_slice_t *lo, bool *has_lo,
		     sl_slice_t *hi, bool *has_hi)
{
	bool range = p->kind == PART_RANGE;
	*has_lo = range && slot > 0;
	*has_hi = range && slot + 1 < p->n;
	*lo = *has_lo ? buf_slice(&p->splits[slot - 1]) : sl_slice(NULL, 0);
	*hi = *has_hi ? buf_slice(&p->splits[slot]) : sl_slice(NULL, 0);
}

/* Whether end <= the first key past every key that starts with start's first n bytes. */
static bool part_within_prefix(sl_slice_t start, sl_slice_t end, size_t n)
{
	uint8_t next[PART_MAX_PKEY];
	if (start.len < n)
		return false;
	/* The prefix's successor: trailing 0xff bytes dropped, the last one left plus one. */
	size_t len = n;
	while (len > 0 && start.data[len - 1] == 0xff)
		len--;
	if (len == 0)
		return false; /* an all-0xff prefix has no successor: its keys run to the end */
	memcpy(next, start.data, len);
	next[len - 1]++;
	return sl_slice_cmp(end, sl_slice(next, len)) <= 0;
}

bool part_single_owner(const part_t *p, const sl_slice_t *start, const sl_slice_t *end)
{
	if (p->n == 1)
		return true;
	if (start == NULL || end == NULL)
		return false;
	if (p->kind == PART_RANGE) {
		uint32_t slot = part_range_slot(p, *start);
		sl_slice_t lo, hi;
		bool has_lo, has_hi;
		part_slot_range(p, slot, &lo, &has_lo, &hi, &has_hi);
		return !has_hi || sl_slice_cmp(*end, hi) <= 0;
	}
	return p->pkey != 0 && part_within_prefix(*start, *end, p->pkey);
}
