/* stores.c — registers every store built into this binary (see stores.h). */
#include "bench/stores.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bench/peer.h"
#include "engine/store.h"
#include "index/btree_store.h"
#include "index/hash_store.h"
#include "kv/lsm_store.h"
#include "kv/shard.h"
#include "kv/ref.h"

void stores_register_all(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	store_register(&ref_store_ops);
	store_register(&btree_store_ops);
	store_register(&hash_store_ops);
	store_register(&lsm_store_ops);
	store_register(&shard_store_ops);
#ifdef SL_PEER_LEVELDB
	store_register(&peer_leveldb_ops);
#endif
#ifdef SL_PEER_ROCKSDB
	store_register(&peer_rocksdb_ops);
#endif
#ifdef SL_PEER_LMDB
	store_register(&peer_lmdb_ops);
#endif
#ifdef SL_PEER_SQLITE
	store_register(&peer_sqlite_ops);
#endif
#ifdef SL_PEER_KYOTO
	store_register(&peer_kyoto_hash_ops);
	store_register(&peer_kyoto_tree_ops);
#endif
}

/* Every peer the kit has an adapter for, built or not, with the package that builds it. */
static const char *const stores_peers[][2] = {
	{ "leveldb", "libleveldb-dev" },     { "rocksdb", "librocksdb-dev" },
	{ "lmdb", "liblmdb-dev" },           { "sqlite", "libsqlite3-dev" },
	{ "kyoto-hash", "libkyotocabinet-dev" }, { "kyoto-tree", "libkyotocabinet-dev" },
};

const char *stores_peer_name(size_t i)
{
	return i < sizeof stores_peers / sizeof stores_peers[0] ? stores_peers[i][0] : NULL;
}

const char *stores_peer_package(const char *name)
{
	for (size_t i = 0; stores_peer_name(i) != NULL; i++)
		if (strcmp(stores_peers[i][0], name) == 0)
			return stores_peers[i][1];
	return NULL;
}

const store_ops_t *stores_spec_lookup(const char *spec)
{
	char name[64];
	size_t n = strcspn(spec, ":");
	if (n >= sizeof name)
		return NULL;
	memcpy(name, spec, n);
	name[n] = 0;
	return store_lookup(name);
}

void stores_spec_params(const char *spec, char *out, size_t size)
{
	const char *colon = strchr(spec, ':');
	snprintf(out, size, "%s", colon ? colon + 1 : "");
	for (char *p = out; *p; p++)
		if (*p == ':')
			*p = ',';
}
