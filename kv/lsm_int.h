/*
 * lsm_int.h — what the LSM store's own files share: versions, edits and the
 * handle. Not for use outside kv/lsm*.c.
 *
 * A version is the set of live tables at one moment: per level, a list of
 * sorted runs (newest first), each a list of tables in key order. Versions are
 * immutable: a flush or compaction builds a new one from the current one plus an
 * edit and installs it. Readers take a reference on the version they start with,
 * so a compaction may replace tables under them; a table's file is deleted when
 * the last version holding it goes (its refs drop to 0).
 *
 * Locking: db->mu guards every field of lsm_t not marked otherwise, and the
 * reference counts of versions and files. It is never held across file I/O,
 * except for the small writes of creating a WAL when the memtable is switched.
 */
#ifndef SL_LSM_INT_H
#define SL_LSM_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "engine/cache.h"
#include "engine/stats.h"
#include "engine/wal.h"
#include "kv/lsm.h"
#include "kv/lsm_key.h"
#include "kv/memtable.h"
#include "kv/sstable.h"

#define LSM_MANIFEST "lsm.manifest"
#define LSM_MANIFEST_NEW "lsm.manifest.new"
/*
 * A compaction reads its inputs in order, through maps advised not to read
 * ahead (engine/env.h); it asks for this much ahead of each input itself. Past
 * the memory limit, without it, every 4 KiB page of an input was a device read
 * of its own and a 10 M-key fill in 256 MiB ran at a third of LevelDB's rate.
 */
#define LSM_COMPACTION_READAHEAD (1u << 20)

/* A live table. */
typedef struct lsm_file {
	uint64_t number;       /* lsm-<number>.sst */
	uint64_t bytes;        /* file size */
	buf_t smallest;        /* first internal key */
	buf_t largest;         /* last internal key */
	uint64_t min_seq, max_seq;
	uint32_t refs;         /* versions holding it (db->mu) */
	bool obsolete;         /* dropped from the tree: delete its file at refs 0 */
	sst_t *table;          /* open for reading for as long as the file lives */
} lsm_file_t;

typedef struct lsm_run {
	uint64_t id;           /* the largest sequence number in the run: newer = larger */
	lsm_file_t **files;    /* in key order, not overlapping */
	size_t n;
} lsm_run_t;

typedef struct lsm_level {
	lsm_run_t *runs;       /* newest first */
	size_t n;
} lsm_level_t;

typedef struct lsm_version {
	uint32_t refs;         /* db->mu */
	lsm_level_t levels[LSM_LEVELS];
} lsm_version_t;

/* A change to a version (also the manifest record that makes it durable). */
typedef struct lsm_edit_add {
	int level;
	uint64_t run;
	lsm_file_t *file;      /* holds a reference until the edit is freed */
} lsm_edit_add_t;

typedef struct lsm_edit_del {
	int level;
	uint64_t number;
} lsm_edit_del_t;

typedef struct lsm_edit {
	bool has_log, has_next, has_seq;
	uint64_t log_number, next_file, last_seq;
	lsm_edit_add_t *adds;
	size_t nadds, adds_cap;
	lsm_edit_del_t *dels;
	size_t ndels, dels_cap;
} lsm_edit_t;

/* A writer waiting in the group-commit queue. */
typedef struct lsm_writer {
	const batch_t *batch;
	bool done;
	int rc;
	sl_err_t err;
	pthread_cond_t cv;
	struct lsm_writer *next;
} lsm_writer_t;

struct lsm_snapshot {
	uint64_t seq;
	struct lsm_snapshot *prev, *next; /* the list of live snapshots, oldest first */
};

/* Counters bumped on the read path without the lock: fields of a tally (engine/tally.h). */
enum lsm_read_counter {
	LSM_RC_GETS,           /* gets that reached the tables */
	LSM_RC_FILES,          /* tables consulted */
	LSM_RC_FILTERED,       /* tables skipped by their bloom filter */
	LSM_RC_FALSE_POSITIVE, /* tables the filter let through that lacked the key */
	LSM_RC_BLOCKS_READ     /* data blocks read from files */
};

struct lsm {
	env_t *env;
	char *dir;
	lsm_opts_t opts;              /* with defaults filled in */
	const trace_t *trace;         /* opts.trace, or trace_off */
	trace_t trace_off;            /* never switched on */
	cache_t *cache;

	pthread_mutex_t mu;
	pthread_cond_t bg_cv;         /* background work finished, or more to do */
	memtable_t *mem;              /* taking writes */
	memtable_t *imm;              /* frozen, being flushed; NULL if none */
	wal_t *wal;                   /* the log of mem */
	uint64_t wal_number;
	lsm_version_t *current;
	wal_t *manifest;
	uint64_t next_file;
	uint64_t last_seq;            /* the last sequence number readers may see */
	uint64_t log_number;          /* the oldest WAL still needed */
	lsm_writer_t *writers, *writers_tail; /* the group-commit queue */
	buf_t group;                  /* the leader's WAL record (leader only) */
	batch_t group_batch;          /* writes of a group merged (leader only) */
	struct lsm_snapshot snapshots;/* list head */
	buf_t compact_pointer[LSM_LEVELS]; /* leveled: where the next compaction of a level starts */

	pthread_t bg;
	bool bg_started, bg_busy;
	_Atomic bool closing;         /* read by compactions without the lock */
	_Atomic bool imm_waiting;     /* imm awaits its flush: a running compaction
	                                 pauses to flush it (read without the lock) */
	int bg_rc;                    /* SL_OK, or the error that stopped background work */
	sl_err_t bg_err;
	int write_rc;                 /* SL_OK, or why writes are refused */
	sl_err_t write_err;

	lsm_level_stats_t level_stats[LSM_LEVELS];
	uint64_t wal_bytes, flushes, compactions, trivial_moves, flushes_in_compaction;
	uint64_t stall_ns, slowdowns, stops, write_groups, grouped_writes;
	tally_t rc;
};

/* ---- lsm_version.c ---- */
lsm_file_t *lsm_file_new(uint64_t number);
void lsm_file_unref(lsm_t *db, lsm_file_t *f);
lsm_version_t *lsm_version_new(void);
void lsm_version_ref(lsm_version_t *v);
void lsm_version_unref(lsm_t *db, lsm_version_t *v);
/* A new version: base with edit applied. NULL when out of memory. */
lsm_version_t *lsm_version_apply(const lsm_version_t *base, const lsm_edit_t *e);
uint64_t lsm_level_bytes(const lsm_level_t *l);
size_t lsm_level_files(const lsm_level_t *l);
/* The table of a run that may hold user key `key`, or NULL. */
lsm_file_t *lsm_run_find(const lsm_run_t *r, sl_slice_t key);

void lsm_edit_free(lsm_edit_t *e);
int lsm_edit_add(lsm_edit_t *e, int level, uint64_t run, lsm_file_t *f);
int lsm_edit_del(lsm_edit_t *e, int level, uint64_t number);
void lsm_edit_encode(const lsm_edit_t *e, buf_t *out);
/*
 * Decodes one manifest record into e, which starts zeroed (its files are new and
 * unopened): SL_OK, SL_CORRUPT for bytes that are no edit, SL_NOMEM. Either way
 * the caller frees e with lsm_edit_free. fuzz_edit feeds it arbitrary bytes.
 */
int lsm_edit_decode(sl_slice_t rec, lsm_edit_t *e);

/* Appends an edit to the manifest and fsyncs it. */
int lsm_manifest_append(lsm_t *db, const lsm_edit_t *e, sl_err_t *err);
/* Writes a manifest describing v whole, renames it into place and opens it for appends. */
int lsm_manifest_rewrite(lsm_t *db, const lsm_version_t *v, sl_err_t *err);
/* Replays the manifest into *v and db's counters; tables are opened. */
int lsm_manifest_recover(lsm_t *db, lsm_version_t **v, sl_err_t *err);

/* dir/lsm-<number>.<ext> into path. */
void lsm_file_path(const lsm_t *db, uint64_t number, const char *ext, char *path, size_t size);

/* ---- lsm_compact.c ---- */
/* Does one piece of background work (flush, else a compaction); false if none. REQUIRES mu. */
bool lsm_bg_step(lsm_t *db);
/* Wakes the background thread, or does the work inline when deterministic. REQUIRES mu. */
void lsm_bg_schedule(lsm_t *db);
void *lsm_bg_main(void *arg);
bool lsm_needs_compaction(const lsm_t *db, const lsm_version_t *v);
/* Writes mem into table `number`, adds it to level 0 in *edit; *bytes = its size. */
int lsm_write_l0(lsm_t *db, memtable_t *mem, uint64_t number, lsm_edit_t *edit,
		 uint64_t *bytes, sl_err_t *err);
/* Records an error that stops background work (and writes). REQUIRES mu. */
void lsm_bg_fail(lsm_t *db, int rc, const sl_err_t *err);

/* ---- lsm.c and lsm_read.c ---- */
uint64_t lsm_smallest_snapshot(const lsm_t *db); /* REQUIRES mu */
uint64_t lsm_now_ns(void);

/* ---- lsm_iter.c ---- */
/* A merging iterator over internal keys, for compaction and user iterators. */
typedef struct lsm_merge lsm_merge_t;
int lsm_merge_new(lsm_merge_t **out);
/* Table iterators of the merge read ahead (sst_iter_readahead); set before adding sources. */
void lsm_merge_readahead(lsm_merge_t *m, size_t bytes);
int lsm_merge_add_mem(lsm_merge_t *m, memtable_t *mem);
int lsm_merge_add_run(lsm_merge_t *m, const lsm_run_t *r);
void lsm_merge_first(lsm_merge_t *m);
void lsm_merge_seek(lsm_merge_t *m, sl_slice_t ikey);
void lsm_merge_next(lsm_merge_t *m);
bool lsm_merge_valid(const lsm_merge_t *m);
sl_slice_t lsm_merge_key(const lsm_merge_t *m);
sl_slice_t lsm_merge_value(const lsm_merge_t *m);
int lsm_merge_status(const lsm_merge_t *m, sl_err_t *err);
void lsm_merge_free(lsm_merge_t *m);

#endif
