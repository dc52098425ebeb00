/*
 * storecheck.h — checks any key-value store gets, driven through the store
 * interface: a differential run against the reference store, a SIGKILL crash
 * loop, and a sweep of flipped bytes through a store's main file.
 *
 * Each store's suite calls these with its own name and page size, and adds
 * the checks that only make sense for it.
 */
#ifndef SL_STORECHECK_H
#define SL_STORECHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/store.h"

/*
 * Store params (store_opts.params) for every open below except the reference
 * store's, e.g. a tiny memtable; NULL = none. The string must outlive the calls.
 */
void sc_set_params(const char *params);

/* Opens `name` in dir (page_size 0 = the store's default; "ref" opens in memory). */
store_t *sc_open(const char *name, const char *dir, uint32_t page_size, sl_sync_t sync);

/* Fails the test with the store's message unless store_check passes. */
void sc_check(store_t *s);

/*
 * Random puts (keys of 0 to max_key bytes with shared prefixes, values from
 * empty to several KiB), deletes, gets and — when the store can — scans, each
 * checked against the reference store; the store is closed and reopened at
 * random points and checked after every phase.
 */
void sc_differential(const char *name, const char *dir, uint32_t page_size, uint32_t max_key,
		     uint64_t ops, uint64_t keyspace, uint64_t seed);

/*
 * Forks writers that report each acknowledged put; kills each with SIGKILL at a
 * random moment; reopens and checks every acknowledged put is there. Rounds take
 * the sync levels in turn (none, batch, always): at every level a write has
 * reached the OS before it is acknowledged, so a process crash loses none.
 * Returns the number of acknowledged puts checked.
 */
uint64_t sc_crash(const char *name, const char *dir, uint32_t page_size, uint64_t rounds,
		  uint64_t seed);

/*
 * Crash points: for nth = 1, 1+step, ... up to max, a writer (sync always) is
 * killed by its env at the nth call of op on a file whose path contains `part`
 * (env_crash_set) — mid-flush, mid-compaction, mid-checkpoint, wherever `part`
 * and op point. Each time the store is reopened and checked and every
 * acknowledged put verified. Returns how many points fired (a point beyond the
 * writer's 4,000 puts does not); *acked_total adds up the puts verified.
 */
uint64_t sc_crash_at(const char *name, const char *dir, uint32_t page_size, env_op_t op,
		     const char *part, uint64_t max, uint64_t step, uint64_t *acked_total);

/*
 * sc_crash_at's plan for a store on the pager (512-byte pages) whose file is
 * `file`: mid-write of a checkpoint's double-write copy (file-dwb), of its
 * in-place page writes, and before the operation log's fsync (file-log).
 * Prints a summary; returns the points that fired.
 */
uint64_t sc_paged_crash_points(const char *name, const char *dir, const char *file);

/*
 * Makes sc_power_loss cut the power only at sync always (the four loss modes still
 * take turns), for a store that promises no order across its parts at none and
 * batch: a sharded store's nodes each lose their own tail.
 */
void sc_set_power_loss_always(bool on);

/* What the simulated power cuts of sc_power_loss did, added up. */
typedef struct sc_loss_totals {
	uint64_t rounds, changes_lost, changes_kept, torn, zeroed, files_vanished;
	uint64_t acked[3], lost[3]; /* acknowledged puts and those lost, at none, batch, always */
} sc_loss_totals_t;

/*
 * Like sc_crash, but the writer's env tracks unsynced changes and the writer
 * ends with a simulated power cut (env_power_loss; the modes take turns:
 * drop, prefix, tear, zero) after a random number of acknowledged puts, at each
 * sync level in turn. Reopens and checks the store: at always every
 * acknowledged put is there; at none and batch the cut may take back a tail of
 * them, never one in the middle. First, one put at sync batch is left idle for
 * batch_ms and must survive a cut that drops everything unsynced. Prints a
 * summary and returns the puts acknowledged; totals (may be NULL) receives
 * what the cuts did and cost.
 */
uint64_t sc_power_loss(const char *name, const char *dir, uint32_t page_size, uint64_t rounds,
		       uint64_t seed, sc_loss_totals_t *totals);

/*
 * Fault injection: for each point of a plan (the nth write failing with ENOSPC
 * or short, the nth fsync, open or rename failing with EIO — sticky, and once
 * more for fsync as a single failure), a fresh store takes puts with sync always
 * until one fails. The failure must be SL_IO / SL_FULL / SL_READONLY with a
 * message; no put may succeed afterwards (after a single failed fsync the store
 * must answer SL_READONLY: it never retries an fsync and reports success); after
 * a reopen on a healthy disk every acknowledged put is there and the store
 * checks out. Then, at each sync level, the log's nth write fails (ENOSPC or
 * EIO): the put whose log write failed must be the one that reports it (none is
 * acknowledged and then lost, none fails for an earlier put's write). Returns
 * the points tried; *fired = how many faults actually fired.
 */
uint64_t sc_fault_sweep(const char *name, const char *dir, uint32_t page_size, uint64_t *fired);

/*
 * Bad input at the edges: the empty key, binary keys and values, the longest
 * key and largest value the store declares (and one byte past them, alone and
 * inside a batch, which must then apply nothing), a second
 * opener (SL_BUSY), the directory of store `other_kind` (SL_INVALID naming
 * `name`), a full disk (SL_FULL, nothing acknowledged lost).
 */
void sc_edges(const char *name, const char *dir, const char *other_kind, uint32_t page_size);

/*
 * Read-only opening (store_opts_t.read_only): a store filled until its disk is
 * full (a peer: filled and closed) opens read-only with every write failing,
 * reads back every acknowledged put, refuses a put, shares with a second
 * read-only handle, refuses a writer (ours), and leaves its directory byte for
 * byte as it was. A peer with no read-only open must answer SL_NOTSUP.
 */
void sc_read_only(const char *name, const char *dir, uint32_t page_size);

/*
 * Writes n entries, then flips one byte at a time at offsets step apart through
 * `file` (in dir): each reopen either reports SL_CORRUPT or serves every get
 * correctly or with SL_CORRUPT, and store_check reports SL_CORRUPT.
 */
void sc_corrupt_sweep(const char *name, const char *dir, const char *file, uint32_t page_size,
		      uint64_t step);

#endif
