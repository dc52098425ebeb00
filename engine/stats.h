/*
 * stats.h — what a store counts, and the amplification figures derived from it.
 *
 * Every store, ours and the peers' adapters alike, reports its figures as a list
 * of name/value pairs (store_stats), so the CLI and the benchmark print any store
 * without knowing what it is. Three groups of figures:
 *
 *   user.*    what the caller asked for: puts, gets, dels, scans, bytes of keys
 *             and values written, bytes of values returned. Counted once, in the
 *             store interface's wrappers, so no store can count differently.
 *   device.*  what reached the file interface: the env counters (bytes read and
 *             written, syncs).
 *   own       each store's structural figures (tree height, levels, load factor).
 *
 * Derived (docs/substrate.md explains each with an example):
 *
 *   write_amp = device.bytes_written / user.bytes_written
 *   read_amp  = device.bytes_read / user.bytes_read
 *   space_amp = disk_bytes / live_bytes     (bytes of files / bytes of live keys+values)
 *
 * A figure whose denominator is 0 is reported as 0.
 */
#ifndef SL_STATS_H
#define SL_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/env.h"
#include "engine/tally.h"

#define STATS_NAME_BYTES 48

typedef struct stats_item {
	char name[STATS_NAME_BYTES]; /* "device.bytes_written", "btree.height", ... */
	double value;                /* counts are exact up to 2^53 */
} stats_item_t;

typedef struct stats_list {
	stats_item_t *items; /* n of them, in the order added */
	size_t n;            /* items in use */
	size_t cap;          /* items allocated */
} stats_list_t;

#define STATS_LIST_INIT { NULL, 0, 0 }

/* Adds (or replaces) name = value; a failed allocation drops the item silently. */
void stats_list_add(stats_list_t *l, const char *name, double value);

/* Finds name; false when absent. */
bool stats_list_get(const stats_list_t *l, const char *name, double *value);

/* Prints "name=value name=value ..." on one line (no newline). */
void stats_list_print(const stats_list_t *l, FILE *out);

void stats_list_free(stats_list_t *l);

/* The user-side counters a store handle keeps, fields of a tally (stores may be shared). */
enum stats_field {
	STAT_PUTS,               /* put calls, and puts inside batches */
	STAT_GETS,               /* get calls */
	STAT_GET_HITS,           /* gets that found the key */
	STAT_DELS,               /* del calls, and dels inside batches */
	STAT_SCANS,              /* scan calls */
	STAT_USER_BYTES_WRITTEN, /* key + value bytes of puts, key bytes of dels */
	STAT_USER_BYTES_READ,    /* value bytes returned by gets, key+value by scans */
	STAT_FIELDS_
};
typedef tally_t stats_counters_t;

static inline void stats_count(stats_counters_t *c, enum stats_field f, uint64_t n)
{
	tally_add(c, f, n);
}

static inline uint64_t stats_load(const stats_counters_t *c, enum stats_field f)
{
	return tally_sum(c, f);
}

/* Adds the user.* figures of c. */
void stats_add_user(stats_list_t *l, const stats_counters_t *c);

/* Adds the device.* figures of io, and disk_bytes and live_bytes. */
void stats_add_device(stats_list_t *l, const env_counters_t *io, uint64_t disk_bytes,
		      uint64_t live_bytes);

/* write/read/space amplification from the figures already in l (recomputed). */
void stats_add_derived(stats_list_t *l);

#endif
