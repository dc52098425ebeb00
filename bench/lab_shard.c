/*
 * lab_shard.c — `storelab lab shard`: partitioning measured on real stores.
 *
 * Five lessons, each on fresh sharded stores (kv/shard, lsm nodes, sync none)
 * in the lab's scratch folder:
 *   1. keys moved when a node joins and when one leaves, per partitioner;
 *   2. load balance: keys and zipfian gets per node, against virtual nodes;
 *   3. a hot key: what more nodes cannot fix;
 *   4. range vs hash partitioning for range scans (nodes opened per scan);
 *   5. the sharding key of a ride-sharing trips table.
 * Every conclusion is printed from the figures of this run.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/harness.h"
#include "bench/lab.h"
#include "bench/workload.h"
#include "engine/store.h"
#include "kv/shard.h"

#define LAB_VALUE_BYTES 100
#define LAB_SCANS 2000
#define LAB_SCAN_LENGTH 100

static double lab_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Opens store `name` with params in a fresh folder `sub` of the scratch folder. */
static store_t *lab_open(const lab_cfg_t *cfg, const char *sub, const char *name,
			 const char *params)
{
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/%s", cfg->work, sub);
	harness_rmrf(dir);
	store_opts_t o = { .sync = SL_SYNC_NONE, .params = params };
	store_t *s = NULL;
	sl_err_t err = { 0 };
	if (store_open(name, dir, &o, &s, &err) != SL_OK)
		fprintf(stderr, "storelab lab: open %s (%s): %s\n", name, params, err.msg);
	return s;
}

static void lab_close(const lab_cfg_t *cfg, store_t *s, const char *sub)
{
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/%s", cfg->work, sub);
	store_close(s);
	harness_rmrf(dir);
}

/* Keys 0..n-1 (16-byte zero-padded decimals) with 100-byte values, in random order. */
static int lab_load(store_t *s, uint64_t n, uint64_t seed)
{
	uint32_t *perm = wl_permutation(n, seed);
	if (perm == NULL)
		return SL_NOMEM;
	uint8_t key[16], value[LAB_VALUE_BYTES];
	int rc = SL_OK;
	for (uint64_t i = 0; rc == SL_OK && i < n; i++) {
		wl_key(perm[i], sizeof key, key);
		for (size_t j = 0; j < sizeof value; j++)
			value[j] = (uint8_t)('a' + (perm[i] + j) % 26);
		rc = store_put(s, sl_slice(key, sizeof key), sl_slice(value, sizeof value));
	}
	free(perm);
	if (rc != SL_OK)
		fprintf(stderr, "storelab lab: loading: %s\n", store_errmsg(s));
	return rc;
}

/* ---------------------------------------------------------------- 1. keys moved */

/* Range: the empty store split into cfg->nodes ranges at quantiles of a 1 % sample
 * of the keys to come, as an operator pre-splits a table before a bulk load. */
static int lab_presplit(const lab_cfg_t *cfg, store_t *s)
{
	size_t n = cfg->keys / 100 > 100 ? cfg->keys / 100 : 100;
	uint8_t *keys = malloc(n * 16);
	sl_slice_t *sample = malloc(n * sizeof *sample);
	wl_rng_t rng = { cfg->seed ^ 0x5a3e };
	int rc = keys && sample ? SL_OK : SL_NOMEM;
	for (size_t i = 0; rc == SL_OK && i < n; i++) {
		wl_key(wl_below(&rng, cfg->keys), 16, keys + i * 16);
		sample[i] = sl_slice(keys + i * 16, 16);
	}
	shard_move_report_t rep;
	if (rc == SL_OK)
		rc = shard_presplit(s, sample, n, cfg->nodes, &rep);
	free(keys);
	free(sample);
	return rc;
}

/* A store of cfg->keys keys over cfg->nodes nodes partitioned by `kind`
 * (range: pre-split from a sample). */
static store_t *lab_sharded(const lab_cfg_t *cfg, const char *sub, const char *kind,
			    const char *extra)
{
	char params[256];
	snprintf(params, sizeof params, "by=%s,n=%u,store=lsm,split=%" PRIu64 "%s", kind,
		 cfg->nodes, cfg->keys * 4, extra);
	store_t *s = lab_open(cfg, sub, "shard", params);
	if (s != NULL && strcmp(kind, "range") == 0 && lab_presplit(cfg, s) != SL_OK) {
		fprintf(stderr, "storelab lab: splitting: %s\n", store_errmsg(s));
		lab_close(cfg, s, sub);
		return NULL;
	}
	if (s != NULL && lab_load(s, cfg->keys, cfg->seed) != SL_OK) {
		lab_close(cfg, s, sub);
		return NULL;
	}
	return s;
}

static int lesson_moves(const lab_cfg_t *cfg)
{
	static const char *const heads[] = { "partitioner", "join: keys moved", "share", "ideal",
					     "MB moved", "seconds", "leave: keys moved", "share",
					     NULL };
	lab_table_t t;
	char title[160];
	snprintf(title, sizeof title, "1. Keys moved: %u -> %u nodes (join), then node 3 leaves",
		 cfg->nodes, cfg->nodes + 1);
	lab_table_init(&t, title, heads);
	double share[PART_KINDS], leave[PART_KINDS], ideal = 1.0 / (cfg->nodes + 1);
	for (int k = 0; k < PART_KINDS; k++) {
		const char *kind = part_kind_name((part_kind_t)k);
		store_t *s = lab_sharded(cfg, "moves", kind, "");
		shard_move_report_t join, out;
		if (s == NULL || shard_add_node(s, &join) != SL_OK ||
		    shard_remove_node(s, shard_partitioner(s)->ids[3], &out) != SL_OK) {
			fprintf(stderr, "storelab lab: moving: %s\n", s ? store_errmsg(s) : "no store");
			return -1;
		}
		lab_close(cfg, s, "moves");
		share[k] = (double)join.keys_moved / (double)cfg->keys;
		leave[k] = (double)out.keys_moved / (double)cfg->keys;
		int r = lab_table_row(&t);
		lab_cell(&t, r, 0, "%s", kind);
		lab_cell(&t, r, 1, "%" PRIu64, join.keys_moved);
		lab_cell(&t, r, 2, "%.1f%%", 100 * share[k]);
		/* mod: every key whose h mod N != h mod (N+1); range: half of one range */
		double want = k == PART_MOD ? 1 - ideal : k == PART_RANGE ? 0.5 / cfg->nodes : ideal;
		lab_cell(&t, r, 3, "%.1f%%", 100 * want);
		lab_cell(&t, r, 4, "%.1f", (double)join.bytes_moved / 1e6);
		lab_cell(&t, r, 5, "%.2f", join.seconds);
		lab_cell(&t, r, 6, "%" PRIu64, out.keys_moved);
		lab_cell(&t, r, 7, "%.1f%%", 100 * leave[k]);
	}
	double lo = fmin(share[PART_RING], fmin(share[PART_JUMP], share[PART_RENDEZVOUS]));
	double hi = fmax(share[PART_RING], fmax(share[PART_JUMP], share[PART_RENDEZVOUS]));
	lab_table_print(&t, cfg, "a join moved %.0f%% of the keys under mod, %.1f-%.1f%% under ring, "
			"jump and rendezvous (ideal %.1f%%), %.1f%% under range (half of one range); "
			"a middle node leaving moved %.0f%% under jump and %.0f%% under mod, against "
			"%.0f%% under ring", 100 * share[PART_MOD], 100 * lo, 100 * hi, 100 * ideal,
			100 * share[PART_RANGE], 100 * leave[PART_JUMP], 100 * leave[PART_MOD],
			100 * leave[PART_RING]);
	return 0;
}

/* ---------------------------------------------------------------- 2 and 3. balance */

/* Key index of zipfian rank r: ranks scattered over the keys, as YCSB scrambles them. */
static uint64_t lab_scatter(uint64_t rank, uint64_t n)
{
	uint64_t x = rank * UINT64_C(0x9e3779b97f4a7c15);
	x ^= x >> 29;
	return x % n;
}

/* Per node of s: keys, and the gets of a zipfian run of cfg->keys gets. */
typedef struct lab_balance {
	double keys_max, keys_min, ops_max; /* over the mean */
	double hot_share;                   /* the hottest key's share of the gets */
	double busiest_share;               /* the busiest node's share of the gets */
} lab_balance_t;

/* max / mean and min / mean of the keys per node. */
static void lab_key_spread(const shard_node_info_t *info, uint32_t n, double *max, double *min)
{
	uint64_t hi = 0, lo = UINT64_MAX, sum = 0;
	for (uint32_t i = 0; i < n; i++) {
		hi = info[i].keys > hi ? info[i].keys : hi;
		lo = info[i].keys < lo ? info[i].keys : lo;
		sum += info[i].keys;
	}
	double mean = sum ? (double)sum / n : 1;
	*max = (double)hi / mean;
	*min = (double)lo / mean;
}

static int lab_measure_balance(const lab_cfg_t *cfg, store_t *s, lab_balance_t *out)
{
	uint32_t n = shard_partitioner(s)->n;
	shard_node_info_t *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
	int rc = a && b ? shard_node_info(s, a) : SL_NOMEM;
	zipf_t z;
	zipf_init(&z, cfg->keys, 0.99);
	wl_rng_t rng = { cfg->seed };
	uint64_t hot = 0;
	uint8_t key[16];
	buf_t v = BUF_INIT;
	for (uint64_t i = 0; rc == SL_OK && i < cfg->keys; i++) {
		uint64_t rank = zipf_next(&z, &rng);
		hot += rank == 0;
		wl_key(lab_scatter(rank, cfg->keys), sizeof key, key);
		rc = store_get(s, sl_slice(key, sizeof key), &v);
	}
	if (rc == SL_OK)
		rc = shard_node_info(s, b);
	uint64_t omax = 0;
	for (uint32_t i = 0; rc == SL_OK && i < n; i++)
		omax = b[i].ops - a[i].ops > omax ? b[i].ops - a[i].ops : omax;
	*out = (lab_balance_t){ 0, 0, (double)omax * n / (double)cfg->keys,
				(double)hot / (double)cfg->keys, (double)omax / (double)cfg->keys };
	if (rc == SL_OK)
		lab_key_spread(b, n, &out->keys_max, &out->keys_min);
	if (rc != SL_OK)
		fprintf(stderr, "storelab lab: balance: %s\n", store_errmsg(s));
	buf_free(&v);
	free(a);
	free(b);
	return rc;
}

static int lesson_balance(const lab_cfg_t *cfg)
{
	static const char *const heads[] = { "partitioner", "max/mean keys", "min/mean keys",
					     "max/mean gets (zipfian)", NULL };
	static const struct { const char *kind, *extra, *label; } rows[] = {
		{ "ring", ",vnodes=1", "ring, 1 vnode" },
		{ "ring", ",vnodes=4", "ring, 4 vnodes" },
		{ "ring", ",vnodes=16", "ring, 16 vnodes" },
		{ "ring", ",vnodes=64", "ring, 64 vnodes" },
		{ "ring", ",vnodes=256", "ring, 256 vnodes" },
		{ "jump", "", "jump" },
		{ "rendezvous", "", "rendezvous" },
		{ "mod", "", "mod" },
	};
	lab_table_t t;
	char title[160];
	snprintf(title, sizeof title, "2. Load balance over %u nodes against virtual nodes", cfg->nodes);
	lab_table_init(&t, title, heads);
	lab_balance_t bal[8];
	for (int i = 0; i < 8; i++) {
		store_t *s = lab_sharded(cfg, "balance", rows[i].kind, rows[i].extra);
		if (s == NULL || lab_measure_balance(cfg, s, &bal[i]) != SL_OK)
			return -1;
		lab_close(cfg, s, "balance");
		int r = lab_table_row(&t);
		lab_cell(&t, r, 0, "%s", rows[i].label);
		lab_cell(&t, r, 1, "%.2f", bal[i].keys_max);
		lab_cell(&t, r, 2, "%.2f", bal[i].keys_min);
		lab_cell(&t, r, 3, "%.2f", bal[i].ops_max);
	}
	/* Among the partitioners that spread keys within 1.2x, how uneven were the gets? */
	double ops_lo = INFINITY, ops_hi = 0;
	for (int i = 0; i < 8; i++)
		if (bal[i].keys_max < 1.2) {
			ops_lo = fmin(ops_lo, bal[i].ops_max);
			ops_hi = fmax(ops_hi, bal[i].ops_max);
		}
	lab_table_print(&t, cfg, "the busiest node holds %.2fx the mean keys with 1 point per node, "
			"%.2fx with 256, %.2fx under jump; yet where keys were spread within 1.2x, "
			"the busiest node still served %.2f-%.2fx the mean zipfian gets: popularity, "
			"not placement", bal[0].keys_max, bal[4].keys_max, bal[5].keys_max, ops_lo,
			ops_hi);
	return 0;
}

static int lesson_hot_key(const lab_cfg_t *cfg)
{
	static const char *const heads[] = { "nodes", "hottest key's share", "busiest node's share",
					     "max/mean gets", "floor: hot share x nodes", NULL };
	lab_table_t t;
	lab_table_init(&t, "3. A hot key (zipfian gets, ring with 64 vnodes)", heads);
	static const uint32_t counts[] = { 2, 4, 8, 16, 32 };
	lab_balance_t last = { 0 };
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		lab_cfg_t c = *cfg;
		c.nodes = counts[i];
		store_t *s = lab_sharded(&c, "hot", "ring", "");
		if (s == NULL || lab_measure_balance(&c, s, &last) != SL_OK)
			return -1;
		lab_close(cfg, s, "hot");
		int r = lab_table_row(&t);
		lab_cell(&t, r, 0, "%u", counts[i]);
		lab_cell(&t, r, 1, "%.1f%%", 100 * last.hot_share);
		lab_cell(&t, r, 2, "%.1f%%", 100 * last.busiest_share);
		lab_cell(&t, r, 3, "%.2f", last.ops_max);
		lab_cell(&t, r, 4, "%.2f", last.hot_share * counts[i]);
	}
	lab_table_print(&t, cfg, "one key takes %.1f%% of the gets, so with 32 nodes its node still "
			"does %.1f%% of them (%.1fx the mean): more nodes cannot spread one key — "
			"replicate it, cache it, or split it into key#1..key#k",
			100 * last.hot_share, 100 * last.busiest_share, last.ops_max);
	return 0;
}

/* ---------------------------------------------------------------- 4. scans */

/* LAB_SCANS scans of LAB_SCAN_LENGTH keys from random starts: scans/s and nodes per scan. */
static int lab_scans(const lab_cfg_t *cfg, store_t *s, double *per_sec, double *nodes)
{
	wl_rng_t rng = { cfg->seed ^ 0x5ca4 };
	uint8_t key[16];
	int rc = SL_OK;
	double t0 = lab_now();
	for (int i = 0; rc == SL_OK && i < LAB_SCANS; i++) {
		wl_key(wl_below(&rng, cfg->keys), sizeof key, key);
		sl_slice_t start = sl_slice(key, sizeof key);
		store_iter_t *it = NULL;
		rc = store_scan(s, &start, NULL, &it);
		for (int j = 0; rc == SL_OK && j < LAB_SCAN_LENGTH && store_iter_valid(it); j++)
			rc = store_iter_next(it);
		store_iter_close(it);
	}
	*per_sec = LAB_SCANS / (lab_now() - t0);
	stats_list_t l = STATS_LIST_INIT;
	*nodes = 1;
	store_stats(s, &l);
	stats_list_get(&l, "shard.nodes_per_scan", nodes);
	stats_list_free(&l);
	if (rc != SL_OK)
		fprintf(stderr, "storelab lab: scans: %s\n", store_errmsg(s));
	return rc;
}

static int lesson_scans(const lab_cfg_t *cfg)
{
	static const char *const heads[] = { "store", "nodes per scan", "scans/s", NULL };
	lab_table_t t;
	char title[160];
	snprintf(title, sizeof title, "4. Range scans of %d keys: range vs hash partitioning, %u nodes",
		 LAB_SCAN_LENGTH, cfg->nodes);
	lab_table_init(&t, title, heads);
	/* Both stores hold the same keys on nodes of the same size, so only the
	 * partitioning differs (an unsharded store would not compare fairly: at
	 * the lab's size each node's share fits in its memtable, the whole does not). */
	const char *labels[2] = { "shard by ring", "shard by range" };
	double rate[2], nodes[2];
	for (int i = 0; i < 2; i++) {
		store_t *s = lab_sharded(cfg, "scans", i == 0 ? "ring" : "range", "");
		if (s == NULL || lab_scans(cfg, s, &rate[i], &nodes[i]) != SL_OK)
			return -1;
		lab_close(cfg, s, "scans");
		int r = lab_table_row(&t);
		lab_cell(&t, r, 0, "%s", labels[i]);
		lab_cell(&t, r, 1, "%.2f", nodes[i]);
		lab_cell(&t, r, 2, "%.0f", rate[i]);
	}
	lab_table_print(&t, cfg, "a scan opened %.2f nodes under range and %.2f under ring, and ran "
			"%.1fx as fast: range partitioning keeps neighbours together, hash "
			"partitioning merges every node's iterator", nodes[1], nodes[0],
			rate[1] / rate[0]);
	return 0;
}

/* ---------------------------------------------------------------- 5. the trips table */

#define LAB_CITIES 40
#define LAB_RIDER_QUERIES 10
#define LAB_CITY_QUERIES 5

typedef struct lab_trip {
	uint32_t city, rider;
} lab_trip_t;

/* Trips with a few big cities (city c has weight 1/(c+1)) and heavy riders (zipfian). */
static lab_trip_t *lab_trips(const lab_cfg_t *cfg, uint32_t riders)
{
	lab_trip_t *trips = malloc(cfg->keys * sizeof *trips);
	if (trips == NULL)
		return NULL;
	double cdf[LAB_CITIES], sum = 0;
	for (int c = 0; c < LAB_CITIES; c++)
		cdf[c] = (sum += 1.0 / (c + 1));
	zipf_t z;
	zipf_init(&z, riders, 0.99);
	wl_rng_t rng = { cfg->seed ^ 0x7219 };
	for (uint64_t i = 0; i < cfg->keys; i++) {
		double u = wl_unit(&rng) * sum;
		uint32_t c = 0;
		while (c + 1 < LAB_CITIES && cdf[c] < u)
			c++;
		trips[i] = (lab_trip_t){ c, (uint32_t)lab_scatter(zipf_next(&z, &rng), riders) };
	}
	return trips;
}

/* The three keys a trip can be stored under: by trip id, by rider, by city. */
enum { BY_TRIP, BY_RIDER, BY_CITY };
static const char *const scheme_names[3] = { "trip id", "rider id", "city" };
static const char *const scheme_params[3] = { "", ",pkey=8", ",pkey=4" };

static size_t lab_trip_key(int scheme, uint64_t trip, const lab_trip_t *t, char *out)
{
	if (scheme == BY_RIDER)
		return (size_t)sprintf(out, "%08u%010" PRIu64, t->rider, trip);
	if (scheme == BY_CITY)
		return (size_t)sprintf(out, "%04u%010" PRIu64, t->city, trip);
	return (size_t)sprintf(out, "%010" PRIu64, trip);
}

/* What one kind of query cost under one scheme, per query. */
typedef struct lab_query_cost {
	double nodes, rows, ms;
} lab_query_cost_t;

static double lab_scan_nodes(store_t *s, double *scans)
{
	stats_list_t l = STATS_LIST_INIT;
	double per = 0;
	store_stats(s, &l);
	stats_list_get(&l, "shard.nodes_per_scan", &per);
	stats_list_free(&l);
	return per * *scans;
}

/*
 * The trips of rider (want_city false) or city `id`: a scan of one key prefix
 * when the scheme's key starts with that attribute, or else a scan of every
 * trip, keeping those whose value names it.
 */
static int lab_query(store_t *s, int scheme, bool want_city, uint32_t id, uint64_t *rows)
{
	char lo[16], hi[16];
	bool by_prefix = (scheme == BY_RIDER && !want_city) || (scheme == BY_CITY && want_city);
	int w = scheme == BY_RIDER ? 8 : 4;
	sl_slice_t start = sl_slice(lo, (size_t)sprintf(lo, "%0*u", w, id));
	/* The prefix scan's end: the first key past every key that starts with lo
	 * ("00009979" -> "0000997:"), not the next id ("00009980"), which would let
	 * in keys such as "0000997:..." of another partition key. */
	memcpy(hi, lo, sizeof hi);
	hi[w - 1]++;
	sl_slice_t end = sl_slice(hi, (size_t)w);
	store_iter_t *it = NULL;
	int rc = by_prefix ? store_scan(s, &start, &end, &it) : store_scan(s, NULL, NULL, &it);
	for (; rc == SL_OK && store_iter_valid(it); rc = store_iter_next(it)) {
		if (by_prefix) {
			(*rows)++;
			continue;
		}
		unsigned city, rider;
		sl_slice_t v = store_iter_value(it);
		if (v.len < 13 || sscanf((const char *)v.data, "%4u %8u", &city, &rider) != 2)
			continue;
		(*rows) += (want_city ? city : rider) == id;
	}
	store_iter_close(it);
	return rc;
}

/* Runs `count` queries of one kind (ids taken from random trips: busy riders and
 * big cities are asked about more, as in life) and averages their cost. */
static int lab_queries(store_t *s, int scheme, bool want_city, const lab_trip_t *trips,
		       uint64_t ntrips, int count, double *scans, lab_query_cost_t *out)
{
	wl_rng_t rng = { 0x9e37 + (uint64_t)want_city };
	double nodes0 = lab_scan_nodes(s, scans), t0 = lab_now();
	uint64_t rows = 0, matched = 0;
	int rc = SL_OK;
	for (int q = 0; rc == SL_OK && q < count; q++) {
		const lab_trip_t *t = &trips[wl_below(&rng, ntrips)];
		bool full = !((scheme == BY_RIDER && !want_city) || (scheme == BY_CITY && want_city));
		uint64_t before = matched;
		rc = lab_query(s, scheme, want_city, want_city ? t->city : t->rider, &matched);
		rows += full ? ntrips : matched - before;
		(*scans)++;
	}
	out->ms = (lab_now() - t0) * 1000 / count;
	out->nodes = (lab_scan_nodes(s, scans) - nodes0) / count;
	out->rows = (double)rows / count;
	return rc;
}

static int lab_load_trips(store_t *s, int scheme, const lab_trip_t *trips, uint64_t n)
{
	char key[32], value[LAB_VALUE_BYTES];
	int rc = SL_OK;
	for (uint64_t i = 0; rc == SL_OK && i < n; i++) {
		int len = snprintf(value, sizeof value, "%04u %08u fare=%u.%02u status=done",
				   trips[i].city, trips[i].rider, (unsigned)(5 + i % 60),
				   (unsigned)(i % 100));
		rc = store_put(s, sl_slice(key, lab_trip_key(scheme, i, &trips[i], key)),
			       sl_slice(value, (size_t)len));
	}
	return rc;
}

static int lesson_trips(const lab_cfg_t *cfg)
{
	static const char *const heads[] = { "key", "rider's trips: nodes", "rows read", "ms",
					     "city's trips: nodes", "rows read", "ms",
					     "max/mean trips per node", NULL };
	lab_table_t t;
	char title[160];
	uint32_t riders = cfg->keys / 20 > 10 ? (uint32_t)(cfg->keys / 20) : 10;
	snprintf(title, sizeof title, "5. Sharding key of a trips table: %" PRIu64 " trips, %u riders, "
		 "%d cities, ring over %u nodes", cfg->keys, riders, LAB_CITIES, cfg->nodes);
	lab_table_init(&t, title, heads);
	lab_trip_t *trips = lab_trips(cfg, riders);
	lab_query_cost_t rider[3], city[3];
	double skew[3];
	for (int scheme = 0; trips != NULL && scheme < 3; scheme++) {
		char params[128];
		snprintf(params, sizeof params, "by=ring,n=%u,store=lsm%s", cfg->nodes,
			 scheme_params[scheme]);
		store_t *s = lab_open(cfg, "trips", "shard", params);
		double scans = 0, least;
		shard_node_info_t info[64];
		if (s == NULL || lab_load_trips(s, scheme, trips, cfg->keys) != SL_OK ||
		    lab_queries(s, scheme, false, trips, cfg->keys, LAB_RIDER_QUERIES, &scans,
				&rider[scheme]) != SL_OK ||
		    lab_queries(s, scheme, true, trips, cfg->keys, LAB_CITY_QUERIES, &scans,
				&city[scheme]) != SL_OK ||
		    shard_node_info(s, info) != SL_OK) {
			fprintf(stderr, "storelab lab: trips: %s\n", s ? store_errmsg(s) : "no store");
			free(trips);
			return -1;
		}
		lab_key_spread(info, cfg->nodes, &skew[scheme], &least);
		lab_close(cfg, s, "trips");
		int r = lab_table_row(&t);
		lab_cell(&t, r, 0, "%s", scheme_names[scheme]);
		lab_cell(&t, r, 1, "%.1f", rider[scheme].nodes);
		lab_cell(&t, r, 2, "%.0f", rider[scheme].rows);
		lab_cell(&t, r, 3, "%.2f", rider[scheme].ms);
		lab_cell(&t, r, 4, "%.1f", city[scheme].nodes);
		lab_cell(&t, r, 5, "%.0f", city[scheme].rows);
		lab_cell(&t, r, 6, "%.2f", city[scheme].ms);
		lab_cell(&t, r, 7, "%.2f", skew[scheme]);
	}
	free(trips);
	if (trips == NULL)
		return -1;
	lab_table_print(&t, cfg, "keyed by rider, a rider's trips came from %.0f node reading %.0f rows "
			"(%.0f nodes and %.0f rows keyed by trip id); keyed by city, a city's trips "
			"came from one node, but the busiest node holds %.2fx the mean trips (%.2fx "
			"by rider): shard on what your hottest query names, when its values are many "
			"and even", rider[BY_RIDER].nodes, rider[BY_RIDER].rows, rider[BY_TRIP].nodes,
			rider[BY_TRIP].rows, skew[BY_CITY], skew[BY_RIDER]);
	return 0;
}

int lab_shard(const lab_cfg_t *cfg)
{
	printf(cfg->markdown ? "## storelab lab shard: %" PRIu64 " keys, %u nodes, lsm nodes, seed %"
			       PRIu64 "\n"
			     : "storelab lab shard: %" PRIu64 " keys, %u nodes, lsm nodes, seed %"
			       PRIu64 "\n",
	       cfg->keys, cfg->nodes, cfg->seed);
	double t0 = lab_now();
	int (*const lessons[])(const lab_cfg_t *) = { lesson_moves, lesson_balance, lesson_hot_key,
						       lesson_scans, lesson_trips };
	for (size_t i = 0; i < sizeof lessons / sizeof lessons[0]; i++)
		if (lessons[i](cfg) != 0)
			return -1;
	printf(cfg->markdown ? "\n(%.0f s)\n" : "\n(%.0f s)\n", lab_now() - t0);
	return 0;
}
