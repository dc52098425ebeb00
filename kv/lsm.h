/*
 * lsm.h — a log-structured merge tree: the write-optimised key-value store.
 *
 * Writes never update a file in place. Each write gets a sequence number, is
 * appended to the write-ahead log and inserted into the memtable (a skiplist in
 * memory). A full memtable is frozen and flushed, in sorted order, to a new
 * SSTable at level 0, while writes go on into a fresh memtable. Background
 * compaction merges tables into larger sorted runs further down, dropping the
 * versions no reader can see any more. A get looks in the memtables, then in each
 * level from newest to oldest, and stops at the first version it finds; bloom
 * filters let it skip almost every table that does not hold the key.
 *
 *   put ─► WAL ─► memtable ──(full)──► immutable memtable ──flush──► L0 tables
 *                                                                     │ compaction
 *   get ─► memtable ─► immutable ─► L0 (newest first) ─► L1 ─► ... ─► L6
 *
 * Shape of the tree — the two compaction policies (lsm_opts.policy):
 *   leveled  level 0 holds flushed tables (each its own sorted run); every deeper
 *            level is ONE sorted run of non-overlapping tables, `ratio` times
 *            bigger than the level above. A compaction merges a table into the
 *            overlapping tables of the next level. Few runs to read; data is
 *            rewritten about `ratio` times per level (more write amplification).
 *   tiered   every level holds up to `tier_runs` sorted runs; when a level has
 *            that many, all of them are merged into one new run in the next
 *            level. Each byte is written once per level (less write amplification)
 *            but a get may probe several runs per level (more read and space
 *            amplification).
 *
 * Files in the store's directory (N = a file number, 6+ decimal digits):
 *
 *   LOCK              flock'ed while open (a second opener gets SL_BUSY)
 *   lsm.manifest      a log (engine/wal format) of version edits: which tables
 *                     are live at which level and run, the oldest WAL still
 *                     needed, the next file number, the last sequence number.
 *                     Opening replays it; it is rewritten whole (to
 *                     lsm.manifest.new, then renamed over) at every open.
 *   lsm-N.log         a write-ahead log (engine/wal): one record per write group:
 *                       first sequence u64 LE | encoded batch (engine/batch.h)
 *   lsm-N.sst         an SSTable (kv/sstable.h)
 *
 *   manifest edit record: a series of (tag varint, fields) —
 *     1 log_number v        WALs numbered below v are no longer needed
 *     2 next_file v
 *     3 last_seq v
 *     4 delete: level v, file number v
 *     5 add: level v, run id v, file number v, file bytes v,
 *            smallest (len v, bytes), largest (len v, bytes), min_seq v, max_seq v
 *   (v = varint; tags on disk — never renumber). A run's id is the largest
 *   sequence number it holds, so newer runs have larger ids.
 *
 * Crash safety: a write is acknowledged after its WAL record is written (and
 * fsynced, with sync always). A table is fsynced before the manifest edit that
 * adds it, the edit is fsynced before the WAL or input tables it replaces are
 * deleted, and files are deleted only when no version (no reader) uses them.
 * Opening replays the manifest, then every WAL it still needs, and flushes what
 * the WALs held to a level-0 table.
 *
 * Threads: one lsm_t may be shared. Readers never wait for writers; concurrent
 * writers queue, and the writer at the head (the leader) writes the whole queue
 * as one WAL record with one fsync — group commit. Flushes and compactions run
 * on one background thread (or inline in the writer with `deterministic`, for
 * tests that must be repeatable); a compaction pauses to flush a memtable that
 * froze while it ran, so writers never wait out a whole merge.
 */
#ifndef SL_LSM_H
#define SL_LSM_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include "engine/batch.h"
#include "engine/buf.h"
#include "engine/env.h"
#include "engine/slice.h"
#include "engine/status.h"
#include "engine/trace.h"

#define LSM_LEVELS 7
#define LSM_MAX_KEY_BYTES (1u << 20)
#define LSM_MAX_VALUE_BYTES (64u << 20)

typedef enum lsm_policy {
	LSM_LEVELED, /* one sorted run per level below 0 */
	LSM_TIERED,  /* up to tier_runs sorted runs per level */
} lsm_policy_t;

/*
 * The default memtable: 16 MiB. Each flush makes one level-0 table of about this
 * size, and four of them are merged into level 1 at once, so the memtable sets
 * how much new data each rewrite of level 1 carries (docs/lsm.md section 4).
 */
#define LSM_MEMTABLE_BYTES (16u << 20)

typedef struct lsm_opts {
	sl_sync_t sync;          /* durability of writes (engine/env.h) */
	uint32_t batch_ms;       /* SL_SYNC_BATCH: longest delay before an fsync; 0 = 10 ms */
	bool create;             /* create the store when missing */
	bool read_only;          /* write nothing: the logs are replayed into the memtable
	                            (not into tables), no manifest is rewritten, no log made,
	                            no compaction runs; writes get SL_READONLY */
	bool deterministic;      /* no background thread: flush and compact inline */
	lsm_policy_t policy;     /* leveled (default) or tiered */
	uint64_t memtable_bytes; /* memtable size that triggers a flush; 0 = LSM_MEMTABLE_BYTES */
	uint64_t file_bytes;     /* target size of compaction outputs; 0 = 4 MiB */
	uint64_t level1_bytes;   /* leveled: size of level 1; 0 = 32 MiB */
	uint32_t ratio;          /* leveled: size ratio between levels; 0 = 10 */
	uint32_t tier_runs;      /* tiered: runs per level that trigger a merge; 0 = 4 */
	uint32_t l0_trigger;     /* leveled: L0 tables that trigger compaction; 0 = 4 */
	uint32_t l0_slowdown;    /* L0 runs at which each write is delayed 1 ms; 0 = 8 */
	uint32_t l0_stop;        /* L0 runs at which writes wait; 0 = 12 */
	uint32_t block_bytes;    /* data block size; 0 = 4 KiB */
	uint32_t bloom_bits;     /* bits per key of the filters; 0 = 10; set no_bloom for none */
	bool no_bloom;           /* tables without filters (to measure what they buy) */
	bool no_compress;        /* never lz4 data blocks */
	uint32_t compress_min_pct; /* lz4 kept for a block only if it saves this %; 0 = 25 */
	uint64_t cache_bytes;    /* block cache; 0 = 8 MiB */
	const trace_t *trace;    /* narration (store.h); NULL = none */
} lsm_opts_t;

typedef struct lsm lsm_t;
typedef struct lsm_snapshot lsm_snapshot_t;
typedef struct lsm_iter lsm_iter_t;

/*
 * Opens (or creates) the store in directory dir. The caller keeps other handles
 * out of dir: the "lsm" store (kv/lsm_store.h) holds its LOCK file.
 */
int lsm_open(env_t *env, const char *dir, const lsm_opts_t *opts, lsm_t **out, sl_err_t *err);
/*
 * Finishes the background job in progress, closes the log, frees db.
 * REQUIRES: every snapshot released and every iterator freed.
 */
int lsm_close(lsm_t *db, sl_err_t *err);

int lsm_put(lsm_t *db, sl_slice_t key, sl_slice_t value, sl_err_t *err);
int lsm_del(lsm_t *db, sl_slice_t key, sl_err_t *err);
/* Applies every operation of b atomically: a reader or a crash sees all or none. */
int lsm_write(lsm_t *db, const batch_t *b, sl_err_t *err);
/* Makes every acknowledged write durable. */
int lsm_sync(lsm_t *db, sl_err_t *err);

/* The value of key as of snap (NULL = now); SL_NOTFOUND when absent. */
int lsm_get(lsm_t *db, const lsm_snapshot_t *snap, sl_slice_t key, buf_t *value, sl_err_t *err);

/*
 * A snapshot: reads through it see exactly the writes acknowledged before it
 * was taken, however the store changes afterwards. Compaction keeps every
 * version a live snapshot can see. Release it when done.
 */
lsm_snapshot_t *lsm_snapshot(lsm_t *db);
void lsm_snapshot_release(lsm_t *db, lsm_snapshot_t *snap);
uint64_t lsm_snapshot_seq(const lsm_snapshot_t *snap);

/*
 * An iterator over the store as of snap (NULL = now), in key order, without
 * deleted or overwritten entries. It pins what it reads, so it stays valid while
 * writes and compactions go on.
 */
int lsm_iter_new(lsm_t *db, const lsm_snapshot_t *snap, lsm_iter_t **out, sl_err_t *err);
void lsm_iter_seek(lsm_iter_t *it, const sl_slice_t *start); /* NULL = first key */
/*
 * An exclusive upper bound (NULL = none), set before the seek: the iterator
 * ends at the first key at or past it, without reading on. Without one, the
 * step past a scan's last key would first pass over every deleted key that
 * follows — after a range delete, a whole run of tombstones.
 */
void lsm_iter_set_end(lsm_iter_t *it, const sl_slice_t *end);
void lsm_iter_next(lsm_iter_t *it);
bool lsm_iter_valid(const lsm_iter_t *it);
sl_slice_t lsm_iter_key(const lsm_iter_t *it);
sl_slice_t lsm_iter_value(const lsm_iter_t *it);
int lsm_iter_status(const lsm_iter_t *it, sl_err_t *err);
void lsm_iter_free(lsm_iter_t *it);

/* Flushes the memtable to level 0 and waits for it. */
int lsm_flush(lsm_t *db, sl_err_t *err);
/* Waits until no flush or compaction is pending (runs them inline when deterministic). */
int lsm_compact_wait(lsm_t *db, sl_err_t *err);

/* Checks the invariants of the live version and every table in it (reads them all). */
int lsm_check(lsm_t *db, sl_err_t *err);
/*
 * Prints the tree as it stands — the memtables, then every level's runs and
 * files with their key and sequence ranges and sizes — for gdb:
 * `call lsm_dump(db, stderr)`.
 */
void lsm_dump(lsm_t *db, FILE *out);

/* One table of the tree, as lsm_tables shows it (the keys are valid during the call). */
typedef struct lsm_table {
	int level;
	size_t run;               /* within the level, newest first */
	uint64_t number, bytes;   /* lsm-<number>.sst, its size */
	uint64_t min_seq, max_seq;
	sl_slice_t smallest, largest; /* its first and last user keys */
} lsm_table_t;

typedef int (*lsm_table_fn)(void *ctx, const lsm_table_t *t);

/* Visits every table of the current version, level by level, run by run, in key
 * order within a run (what inspect --svg draws); stops at fn's first non-SL_OK. */
int lsm_tables(lsm_t *db, lsm_table_fn fn, void *ctx);

/* Figures, for stats and docs (lsm.c fills them under the store's lock). */
typedef struct lsm_level_stats {
	uint64_t files, runs, bytes;
	uint64_t read_bytes;    /* read by compactions whose output went to this level */
	uint64_t written_bytes; /* written to this level by flushes and compactions */
	uint64_t compactions;   /* compactions into this level (moves included) */
} lsm_level_stats_t;

typedef struct lsm_stats {
	lsm_level_stats_t levels[LSM_LEVELS];
	uint64_t last_seq;
	uint64_t memtable_bytes;     /* the live memtable's arena */
	uint64_t wal_bytes;          /* bytes appended to WALs */
	uint64_t flushes, compactions, trivial_moves;
	uint64_t flushes_in_compaction; /* flushes a running compaction paused for */
	uint64_t gets, get_files;    /* gets that reached the tables, tables consulted */
	uint64_t get_filtered;       /* tables skipped by their bloom filter */
	uint64_t get_false_positive; /* tables the filter let through that lacked the key */
	uint64_t get_blocks_read;    /* data blocks read and verified (sst_probe_t.block_read) */
	uint64_t stall_ns;           /* time writers spent slowed down or stopped */
	uint64_t slowdowns, stops;
	uint64_t write_groups, grouped_writes; /* WAL records, and the writes they carried */
	uint64_t cache_hits, cache_misses, cache_bytes;
	uint64_t snapshots;          /* live snapshots */
} lsm_stats_t;

void lsm_get_stats(lsm_t *db, lsm_stats_t *out);

/* The policy named "leveled" or "tiered"; SL_INVALID otherwise. */
int lsm_policy_parse(const char *text, lsm_policy_t *out);
const char *lsm_policy_name(lsm_policy_t p);

#endif
