/*
 * shard.h — a store split across N stores ("nodes") by a partitioner.
 *
 * The store "shard" keeps its keys in N stores of one of the kit's kinds (lsm,
 * btree, hash or ref), each in a directory of its own — on one machine here, but
 * each could be a machine — and sends every key to the node kv/partition says
 * owns it. Gets, puts and deletes go to one node; a scan goes to the nodes whose
 * keys it may cover — one or two under range partitioning, every node under the
 * hash kinds, whose node iterators are then merged in key order — and the stats
 * count that fan-out. Nodes can be added and removed while the store holds data
 * (rebalancing, below), and under range partitioning a range that grows past
 * `split` keys splits in two at its median key (or the key space is split up
 * front at quantiles of a sample: shard_presplit).
 *
 * Spec: shard:n=8:by=ring:store=lsm (the params, each optional):
 *   n=N          nodes at creation (default 4; range: the number of ranges the
 *                expected keys should spread over — see split)
 *   by=KIND      mod, ring, jump, rendezvous or range (default ring)
 *   store=NAME   the store each node runs: lsm, btree, hash or ref (default lsm)
 *   vnodes=V     ring: points per node (default 64)
 *   pkey=B       hash kinds: hash only the first B bytes of a key (default 0: all)
 *   split=KEYS   range: split a range holding more keys (default expected_keys/n,
 *                or 100000)
 * n, by, store, vnodes and pkey are fixed when the store is created (the map
 * below keeps them); given again at open, they must agree.
 *
 * Files in the store's directory:
 *
 *   LOCK           flock'ed while open
 *   shard.map      the shard map, replaced whole (written as shard.map.tmp,
 *                  synced, renamed, directory synced)
 *   shard.intent   a batch that spans nodes, while it is being applied
 *   shard-NNNNNN/  node NNNNNN's store (its id, six decimal digits)
 *
 * shard.map, little-endian:
 *
 *   +0   magic    u32  "SHRD" (0x44524853)
 *   +4   version  u16  1
 *   +6   kind     u8   partitioner (partition.h's part_kind_t)
 *   +7   flags    u8   bit 0: TIDY — a move was under way; at open, delete from
 *                      every node the keys it does not own, then clear the flag
 *   +8   vnodes   u32
 *   +12  pkey     u32
 *   +16  next_id  u32  the id the next node gets
 *   +20  n        u32  nodes
 *   +24  split    u64  range: keys per range before it splits
 *   +32  store    u8 length, then that many bytes: the nodes' store name
 *        ids      n x u32, in slot order (range: in key order)
 *        splits   range: n - 1 x (varint length, bytes), ascending
 *   end  check    u64  XXH3 of every byte before it
 *
 * shard.intent: the encoded batch (engine/batch.h), then its u64 XXH3.
 *
 * Rebalancing (shard_add_node, shard_remove_node, range splits) moves exactly
 * the keys whose owner changes, in four durable steps:
 *   1. the map is rewritten with TIDY set (same nodes);
 *   2. every key whose owner changes is copied to its new owner, and every
 *      receiving node is synced;
 *   3. the map is rewritten with the new nodes (TIDY still set) — the switch:
 *      from here readers look for the moved keys at their new owners;
 *   4. the moved keys are deleted from their old owners, a departed node's
 *      directory is removed, the nodes are synced, and TIDY is cleared.
 * A crash before 3 leaves the old map (stray copies at the new owners are
 * invisible, and tidied at the next open); after 3, the new map with every
 * moved key already durable at its owner. The invariant outside a move: every
 * node holds only keys it owns, which store_check verifies key by key.
 *
 * A batch that touches one node is that node's batch. A batch that spans nodes
 * is made atomic with an intent: written and synced as shard.intent, applied
 * node by node, the nodes synced, then the intent deleted; an open that finds
 * an intent applies it again (each of its operations is idempotent, and it is
 * the last write the store took). That costs fsyncs at every sync level — the
 * price of atomic writes across partitions, which distributed stores pay with
 * two-phase commit.
 *
 * Sync levels pass through to the nodes. At none and batch a power cut may take
 * back a tail of each node's writes, and the tails can differ: a later write on
 * one node may survive where an earlier one on another did not, as in any
 * partitioned store without a shared log.
 */
#ifndef SL_SHARD_H
#define SL_SHARD_H

#include <stdint.h>

#include "engine/store.h"
#include "kv/partition.h"

extern const store_ops_t shard_store_ops;

/* What one rebalancing did. */
typedef struct shard_move_report {
	uint32_t node;          /* the node added or removed */
	uint64_t keys_scanned;  /* keys read to find the ones that move */
	uint64_t keys_moved;    /* keys whose owner changed: copied, then deleted */
	uint64_t bytes_moved;   /* their key + value bytes */
	double seconds;         /* wall time of the whole move */
} shard_move_report_t;

/*
 * Adds a node and moves to it the keys it now owns (under mod, also the keys
 * that change owner among the old nodes). Under range partitioning the biggest
 * range is split at its median key and the new node takes the upper half.
 */
int shard_add_node(store_t *s, shard_move_report_t *report);

/*
 * Range partitioning: splits the key space into `ranges` ranges at quantiles of
 * `sample` (n keys, any order; sorted in place) — pre-splitting, as Bigtable and
 * HBase allow, so that a bulk load goes straight to its nodes rather than into
 * one range that splits as it grows. Keys already stored move to their new
 * owners as in any rebalancing (report as there). The first nodes keep their
 * ids; the rest are new. SL_INVALID under the hash kinds, or when the sample
 * has fewer than `ranges` distinct keys.
 */
int shard_presplit(store_t *s, sl_slice_t *sample, size_t n, uint32_t ranges,
		   shard_move_report_t *report);

/* Removes node id, moving its keys to their new owners (mod: every key that changes owner). */
int shard_remove_node(store_t *s, uint32_t id, shard_move_report_t *report);

/* The partitioner in use (valid until the next add, remove or split). */
const part_t *shard_partitioner(store_t *s);

/* Per node, in slot order: keys held (counted by a scan) and operations sent to it. */
typedef struct shard_node_info {
	uint32_t id;
	uint64_t keys;
	uint64_t ops;
} shard_node_info_t;

/* Fills info[0..n-1] for the store's n nodes (n = shard_partitioner(s)->n). */
int shard_node_info(store_t *s, shard_node_info_t *info);

/* ---- the map file, decoded (for storelab inspect) ---- */

#define SHARD_MAP_MAGIC "SHRD"       /* the file's first 4 bytes */
#define SHARD_MAP_MAGIC_U32 0x44524853u
#define SHARD_MAP_VERSION 1
#define SHARD_MAP_TIDY 0x01
#define SHARD_STORE_NAME_MAX 31

typedef struct shard_map {
	uint8_t kind, flags;                  /* part_kind_t; SHARD_MAP_TIDY */
	uint32_t vnodes, pkey, next_id, n;
	uint64_t split;
	char store[SHARD_STORE_NAME_MAX + 1]; /* the nodes' store name */
	uint32_t *ids;                        /* n, in slot order */
	sl_slice_t *splits;                   /* range: n - 1, pointing into the file's bytes */
} shard_map_t;

/* Decodes a map file's bytes (path names it in messages); SL_CORRUPT when damaged.
 * On success release *m with shard_map_free. */
int shard_map_decode(sl_slice_t file, const char *path, shard_map_t *m, sl_err_t *err);
void shard_map_free(shard_map_t *m);

#endif
