/* stores.c — registers every store built into this binary (see stores.h). */
#include "bench/stores.h"

#include <stdbool.h>
#include <string.h>

#include "engine/store.h"
#include "kv/ref.h"

void stores_register_all(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	store_register(&ref_store_ops);
}

const char *stores_peer_package(const char *name)
{
	static const char *const peers[][2] = {
		{ "leveldb", "libleveldb-dev" },     { "rocksdb", "librocksdb-dev" },
		{ "lmdb", "liblmdb-dev" },           { "sqlite", "libsqlite3-dev" },
		{ "kyoto-hash", "libkyotocabinet-dev" }, { "kyoto-tree", "libkyotocabinet-dev" },
	};
	for (size_t i = 0; i < sizeof peers / sizeof peers[0]; i++)
		if (strcmp(peers[i][0], name) == 0)
			return peers[i][1];
	return NULL;
}
