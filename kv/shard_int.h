/*
 * shard_int.h — what shard.c (the store: map, routing, scans, batches) and
 * shard_move.c (rebalancing, range splits, tidying) share. Not a public header.
 */
#ifndef SL_SHARD_INT_H
#define SL_SHARD_INT_H

#include "kv/shard.h"

#define SHARD_MAP "shard.map"
#define SHARD_INTENT "shard.intent"

/* One node: its store and what the store above counts for it. */
typedef struct shard_node {
	uint32_t id;
	store_t *store;
	uint64_t ops;       /* gets, puts, dels and scans sent to it */
	uint64_t puts;      /* range: puts since its keys were last counted */
	uint64_t count_at;  /* range: count again once puts reaches this */
} shard_node_t;

typedef struct shard_store {
	store_t base;           /* must be first */
	store_home_t home;      /* directory, env, lock */
	part_t part;            /* who owns what */
	shard_node_t *nodes;    /* one per slot of part, in slot order */
	store_opts_t node_opts; /* how every node is opened */
	char node_params[64];   /* node_opts.params */
	char store_name[SHARD_STORE_NAME_MAX + 1];
	uint32_t next_id;       /* the id the next node gets */
	uint64_t split;         /* range: keys per range before it splits */
	bool tidy;              /* the map's TIDY flag: nodes may hold keys they do not own */
	bool failed;            /* a node's disk failed: writes are refused until a reopen */
	char failure[512];      /* what failed */
	/* figures for stats */
	uint64_t scans, scan_nodes; /* scans, and nodes they opened */
	uint64_t cross_batches;     /* batches that spanned nodes (each through an intent) */
	uint64_t moves, keys_moved, bytes_moved, splits;
} shard_store_t;

static inline shard_store_t *shard_of(store_t *s) { return (shard_store_t *)s; }

/* Writes the map (part, next_id, split, tidy) durably: tmp, sync, rename, sync dir. */
int shard_map_write(shard_store_t *st);

/* Opens (creating when new) the store of node id; its message lands in the handle on failure. */
int shard_node_open(shard_store_t *st, uint32_t id, store_t **out);

/* The directory of node id. */
void shard_node_dir(const shard_store_t *st, uint32_t id, char *out, size_t size);

/* Copies node's last message into the shard handle, naming the node; returns rc. */
int shard_node_err(shard_store_t *st, const shard_node_t *node, int rc);

/* n empty batches (batch_init'ed), or NULL when out of memory. */
batch_t *shard_batches_new(uint32_t n);

/* A walk over one node: counts its keys, and keeps the one at index `target`
 * (in key order for the nodes that scan: the median, when target is half). */
typedef struct shard_median {
	uint64_t count, target;
	buf_t key;
} shard_median_t;

/* Walks slot's node with m (target UINT64_MAX: only count). */
int shard_walk_node(shard_store_t *st, uint32_t slot, shard_median_t *m);

/* SL_OK, or SL_READONLY (with the message) once a node's disk has failed. */
int shard_may_write(shard_store_t *st);

/* Deletes from slot's node every key it does not own (*dropped counts them). */
int shard_drop_unowned(shard_store_t *st, uint32_t slot, uint64_t *dropped);

/* At open with TIDY set: drop what every node does not own, remove departed nodes. */
int shard_tidy(shard_store_t *st);

/* Range: after a put to slot, splits its range once it holds more than split keys. */
int shard_maybe_split(shard_store_t *st, uint32_t slot);

#endif
