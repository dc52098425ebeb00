/*
 * partition.h — which node owns a key: five ways to split a key space.
 *
 * A sharded store (kv/shard.h) keeps N stores, "nodes", and must send every key
 * to exactly one of them. A partitioner is that choice, made from the key and
 * the node set only — never from where the key happens to be — so any reader
 * can find any key without asking anyone. The five here are the ones production
 * systems use, and they differ in what happens when a node joins or leaves:
 *
 *   mod         node[h(key) mod N]. Even, trivial — and adding one node changes
 *               the owner of about N/(N+1) of all keys, since almost every
 *               h mod N differs from h mod (N+1). The baseline to beat.
 *   ring        consistent hashing (Karger et al. 1997; Dynamo, Cassandra):
 *               each node puts V "virtual node" points on a 64-bit circle
 *               (XXH3 of its id and the point's number); a key belongs to the
 *               first point at or after h(key), going round. A new node takes
 *               over only the arcs just before its own points: about 1/(N+1) of
 *               the keys move, all of them to the newcomer. With V = 1 the arcs
 *               are very uneven; more points even them out (the lab measures it).
 *   jump        jump consistent hash (Lamping and Veach 2014): a loop that, for
 *               a key, walks the bucket counts 1, 2, ... at which the key would
 *               "jump" to the new bucket, with a pseudo-random generator seeded by
 *               h(key); the last jump below N is the bucket. No memory, perfectly
 *               even, 1/(N+1) moved on a join — but buckets are numbered, so only
 *               the last node can leave without reshuffling the others.
 *   rendezvous  highest random weight (Thaler and Ravishankar 1998; caches,
 *               Kafka-style assignment): every node scores the key with a hash
 *               of (key, node) and the highest score wins. A join steals only the
 *               keys the newcomer outscores everyone on (1/(N+1)); a leave hands
 *               each of the leaver's keys to its runner-up. Costs N hashes per key.
 *   range       sorted split points (Bigtable, HBase, CockroachDB, TiKV): node i
 *               owns the keys in [split[i-1], split[i]). Neighbouring keys stay
 *               together, so a range scan visits one or two nodes instead of all;
 *               a range that grows too big is split at its median key (the
 *               sharded store does it), and a hot range stays hot.
 *
 * The hash kinds hash either the whole key or its first `pkey` bytes — the
 * "partition key" of Cassandra and DynamoDB: with keys "rider|trip", hashing
 * only the rider puts all of a rider's trips on one node.
 *
 * Nodes have stable ids (uint32). A partitioner lists them in slots 0..n-1:
 * mod and jump use the slot number (so the list's order matters, and removing a
 * slot other than the last renumbers the rest), ring and rendezvous use only the
 * ids, range keeps its slots in key order. Nothing here touches a disk: the
 * sharded store saves the node list and split points in its map file.
 */
#ifndef SL_PARTITION_H
#define SL_PARTITION_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/slice.h"
#include "engine/status.h"

typedef enum part_kind {
	PART_MOD = 0, /* on disk in the shard map — never renumber */
	PART_RING = 1,
	PART_JUMP = 2,
	PART_RENDEZVOUS = 3,
	PART_RANGE = 4,
} part_kind_t;

#define PART_KINDS 5
#define PART_MAX_NODES 1024    /* enough for a lab on one machine */
#define PART_MAX_VNODES 4096   /* ring points per node */
#define PART_DEFAULT_VNODES 64 /* ring points per node unless told */
#define PART_MAX_PKEY 255      /* longest partition key */

/* One point of the ring: its place on the circle and the slot it belongs to. */
typedef struct part_point {
	uint64_t at;
	uint32_t slot;
} part_point_t;

typedef struct part {
	part_kind_t kind;
	uint32_t n;           /* nodes (slots) */
	uint32_t *ids;        /* ids[slot] */
	uint32_t vnodes;      /* ring: points per node */
	uint32_t pkey;        /* hash kinds: bytes of the key hashed; 0 = all of it */
	part_point_t *ring;   /* ring: n * vnodes points, sorted by `at` */
	uint64_t *weights;    /* rendezvous: a hash of each node's id, mixed with the key's */
	buf_t *splits;        /* range: n - 1 split keys, ascending */
} part_t;

/* The name ("mod", "ring", ...) of kind, and back; SL_INVALID for an unknown name. */
const char *part_kind_name(part_kind_t kind);
int part_kind_parse(const char *name, part_kind_t *out);

/*
 * Builds a partitioner over nodes ids[0..n-1] (distinct). splits: for range,
 * n - 1 strictly ascending keys (NULL when n is 1); ignored otherwise. vnodes:
 * ring points per node (0 = PART_DEFAULT_VNODES). SL_INVALID naming what is wrong.
 */
int part_init(part_t *p, part_kind_t kind, const uint32_t *ids, uint32_t n,
	      const sl_slice_t *splits, uint32_t vnodes, uint32_t pkey, sl_err_t *err);
void part_free(part_t *p);

/* The slot (0..n-1) whose node owns key. */
uint32_t part_slot(const part_t *p, sl_slice_t key);

/* The id of the node that owns key. */
static inline uint32_t part_owner(const part_t *p, sl_slice_t key)
{
	return p->ids[part_slot(p, key)];
}

/* The slot of node id, or -1 when it is not a member. */
int part_slot_of(const part_t *p, uint32_t id);

/*
 * The partitioner after node `id` joins: appended as the last slot; for range,
 * it takes the keys from split_at up to the end of the range that holds
 * split_at (its slot comes right after that range's). *out is a new partitioner.
 */
int part_with_node(const part_t *p, uint32_t id, sl_slice_t split_at, part_t *out,
		   sl_err_t *err);

/*
 * The partitioner after node `id` leaves: its slot is removed (later slots move
 * down one); for range, its keys go to the range before it (the one after, for
 * the first). SL_INVALID when id is not a member or is the last node.
 */
int part_without_node(const part_t *p, uint32_t id, part_t *out, sl_err_t *err);

/*
 * The key range of slot `slot` under range partitioning: [*lo, *hi), where
 * has_lo / has_hi false mean unbounded. For the hash kinds the whole key space.
 */
void part_slot_range(const part_t *p, uint32_t slot, sl_slice_t *lo, bool *has_lo,
		     sl_slice_t *hi, bool *has_hi);

/*
 * Whether every key in [start, end) has the same owner, and so a scan of it
 * needs one node: under range, the range lies inside one slot's; under the hash
 * kinds with pkey, start and end share a partition key (end at most the next
 * partition key after start's). end NULL = to the last key.
 */
bool part_single_owner(const part_t *p, const sl_slice_t *start, const sl_slice_t *end);

#endif
