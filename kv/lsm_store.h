/*
 * lsm_store.h — the LSM tree as the store "lsm" of the store interface.
 *
 * Files in the store directory: see kv/lsm.h. Options: sync, batch_ms,
 * cache_bytes (the block cache; default 8 MiB). Params (store_opts.params,
 * `--params` on the command line), each optional:
 *
 *   policy=leveled|tiered   compaction policy (default leveled)
 *   memtable=BYTES          memtable size (default 16M)
 *   file=BYTES              compaction output size (default 4M)
 *   level1=BYTES            leveled: level-1 size (default 32M)
 *   ratio=N                 leveled: growth per level (default 10)
 *   tier_runs=N             tiered: runs per level before a merge (default 4)
 *   l0_trigger=N, l0_slowdown=N, l0_stop=N   level-0 thresholds (4, 8, 12)
 *   block=BYTES             data block size (default 4K)
 *   bloom_bits=N            bloom filter bits per key, 0 = no filters (default 10)
 *   compress=on|off         lz4 data blocks (default on)
 *   compress_min=PCT        keep a block's lz4 form only if it saves PCT % (default 25)
 *   deterministic=on|off    flush and compact inline, no background thread
 *
 * BYTES take a k, m or g suffix (powers of 1024).
 */
#ifndef SL_LSM_STORE_H
#define SL_LSM_STORE_H

#include "engine/store.h"
#include "kv/lsm.h"

extern const store_ops_t lsm_store_ops;

/* Fills o from store options and params; SL_INVALID naming the bad param. */
int lsm_store_opts(const store_opts_t *opts, lsm_opts_t *o, sl_err_t *err);

/* The lsm_t behind an "lsm" store handle (for tests and tools that need snapshots). */
lsm_t *lsm_store_db(store_t *s);

#endif
