/*
 * peer.h — what the peer adapters share.
 *
 * Each adapter (peer_leveldb.c, peer_lmdb.c, ...) wraps another engine's C API in
 * the store interface, so the harness drives it exactly as it drives ours. An
 * adapter is compiled only when its Debian package is installed (the Makefile
 * probes for the header), and configures its engine the way that engine's own
 * users run it (shared/PEERS.md; docs/bench.md lists each setting).
 */
#ifndef SL_PEER_H
#define SL_PEER_H

#include <stdint.h>

#include "engine/store.h"

/*
 * Makes the store directory, or checks the one that is there: every file in it
 * must match one of `files`, the space-separated shell patterns of the names
 * peer `name` writes (its first pattern marks a store of that kind), else
 * SL_INVALID names the stranger — as our stores refuse another store's
 * directory instead of writing beside its files. With opts->no_create a
 * directory without the marker is SL_NOTFOUND, before the engine can make
 * anything there.
 */
int peer_prepare_dir(const char *dir, const store_opts_t *opts, const char *name,
		     const char *files, sl_err_t *err);

/* The expected key count the harness passes as params "expected_keys=N" (or dflt). */
uint64_t peer_expected_keys(const store_opts_t *opts, uint64_t dflt);

/* Adds disk_bytes (the directory's files) to a stats list. */
void peer_stats_disk(const char *dir, stats_list_t *out);

extern const store_ops_t peer_leveldb_ops;
extern const store_ops_t peer_rocksdb_ops;
extern const store_ops_t peer_lmdb_ops;
extern const store_ops_t peer_sqlite_ops;
extern const store_ops_t peer_kyoto_hash_ops;
extern const store_ops_t peer_kyoto_tree_ops;

#endif
