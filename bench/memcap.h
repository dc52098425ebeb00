/*
 * memcap.h — a memory cgroup for `bench --memory LIMIT`: every phase of a
 * store runs inside one, so the store's own memory *and the page cache of its
 * files* count against the same limit.
 *
 * That is the fair way to compare a store with its own buffer pool against
 * one that reads through a memory map (LMDB, Kyoto): capping only the pool
 * would leave the map the whole page cache. The kernel charges page-cache
 * pages to the cgroup of the process that first touched them, and reclaims
 * them when the cgroup reaches its limit, as it would on a machine that
 * small. Swap is switched off for the cgroup where the kernel allows it.
 * Stores size their default caches from the limit (env_memory_bytes).
 *
 * Works with cgroup v2 (memory.max, memory.swap.max) and v1 (memory.limit_in_
 * bytes, memory.memsw.limit_in_bytes), under the cgroup the process is in;
 * making one needs root (or a delegated subtree): otherwise a clear error.
 */
#ifndef SL_MEMCAP_H
#define SL_MEMCAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct memcap {
	char path[1024];         /* the cgroup's directory; "" when none */
	int v2;                  /* 1: cgroup v2, 0: v1 */
} memcap_t;

/* Makes a fresh cgroup limited to limit bytes. 0, or -1 with why in err. */
int memcap_create(memcap_t *m, uint64_t limit, char *err, size_t n);

/* Moves the calling process into it (a phase's child, before it opens its store). */
int memcap_enter(const memcap_t *m, char *err, size_t n);

/* Removes the cgroup (its processes have ended); harmless when none was made. */
void memcap_destroy(memcap_t *m);

#endif
