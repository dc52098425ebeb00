/*
 * btree_store.h — the B+tree as the store "btree" of the store interface.
 *
 * Files in the store directory: LOCK, btree.db (the paged file), btree.db-log
 * (the operation log) and btree.db-dwb (the checkpoint's double-write buffer).
 * Options: sync, cache_bytes (default 64 MiB), page_size (default 8192, BTREE_DEFAULT_PAGE_SIZE).
 */
#ifndef SL_BTREE_STORE_H
#define SL_BTREE_STORE_H

#include "engine/store.h"

extern const store_ops_t btree_store_ops;

#endif
