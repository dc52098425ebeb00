/*
 * hash_store.h — the hash index as the store "hash" of the store interface.
 *
 * Files in the store directory: LOCK, hash.db (the paged file), hash.db-log and
 * hash.db-dwb (the pager's operation log and double-write buffer). No ordered
 * scans: store_scan answers SL_NOTSUP. Options: sync, cache_bytes (default
 * 64 MiB), page_size (default 4096); params "seed=N" for a new index.
 */
#ifndef SL_HASH_STORE_H
#define SL_HASH_STORE_H

#include "engine/store.h"

extern const store_ops_t hash_store_ops;

#endif
