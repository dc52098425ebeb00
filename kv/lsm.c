/* lsm.c — the LSM store: opening and recovery, the write path with group commit (see lsm.h). */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/codec.h"
#include "kv/lsm_int.h"

#define LSM_GROUP_MAX_BYTES (1u << 20) /* a write group stops growing here */

uint64_t lsm_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int lsm_policy_parse(const char *text, lsm_policy_t *out)
{
	if (strcmp(text, "leveled") == 0)
		*out = LSM_LEVELED;
	else if (strcmp(text, "tiered") == 0)
		*out = LSM_TIERED;
	else
		return SL_INVALID;
	return SL_OK;
}

const char *lsm_policy_name(lsm_policy_t p) { return p == LSM_TIERED ? "tiered" : "leveled"; }

static void lsm_fill_defaults(lsm_opts_t *o)
{
#define LSM_DEFAULT(field, value) if (o->field == 0) o->field = (value)
	LSM_DEFAULT(memtable_bytes, LSM_MEMTABLE_BYTES);
	LSM_DEFAULT(file_bytes, 4u << 20);
	LSM_DEFAULT(level1_bytes, 32u << 20);
	LSM_DEFAULT(ratio, 10);
	LSM_DEFAULT(tier_runs, 4);
	LSM_DEFAULT(l0_trigger, 4);
	LSM_DEFAULT(l0_slowdown, 8);
	LSM_DEFAULT(l0_stop, 12);
	LSM_DEFAULT(block_bytes, 4096);
	LSM_DEFAULT(bloom_bits, 10);
	LSM_DEFAULT(cache_bytes, 8u << 20);
	LSM_DEFAULT(compress_min_pct, 25);
#undef LSM_DEFAULT
	if (o->l0_slowdown < o->l0_trigger)
		o->l0_slowdown = o->l0_trigger;
	if (o->l0_stop < o->l0_slowdown)
		o->l0_stop = o->l0_slowdown;
	if (o->ratio < 2)
		o->ratio = 2;
	if (o->tier_runs < 2)
		o->tier_runs = 2;
}

/* ================================================================ recovery */

/* Parses "lsm-<digits>.<ext>" into its number; false for any other name. */
static bool lsm_parse_name(const char *name, const char *ext, uint64_t *number)
{
	if (strncmp(name, "lsm-", 4) != 0)
		return false;
	char *end;
	unsigned long long n = strtoull(name + 4, &end, 10);
	if (end == name + 4 || *end != '.' || strcmp(end + 1, ext) != 0)
		return false;
	*number = n;
	return true;
}

static int lsm_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* The numbers of the files lsm-*.<ext> in the directory, sorted. */
static int lsm_list(lsm_t *db, const char *ext, uint64_t **nums, size_t *n, sl_err_t *err)
{
	char **names;
	size_t count;
	*nums = NULL;
	*n = 0;
	int rc = env_list_dir(db->env, db->dir, &names, &count, err);
	if (rc != SL_OK)
		return rc;
	*nums = calloc(count + 1, sizeof **nums);
	if (*nums == NULL) {
		env_list_free(names, count);
		return sl_errf(err, SL_NOMEM, "%s: out of memory", db->dir);
	}
	for (size_t i = 0; i < count; i++)
		if (lsm_parse_name(names[i], ext, &(*nums)[*n]))
			(*n)++;
	env_list_free(names, count);
	qsort(*nums, *n, sizeof **nums, lsm_u64_cmp);
	return SL_OK;
}

/* Applies one WAL record (first sequence | batch) to mem. */
static int lsm_apply_record(memtable_t *mem, sl_slice_t rec, uint64_t *last, sl_err_t *err)
{
	if (rec.len < 8)
		return sl_errf(err, SL_CORRUPT, "record of %zu bytes has no sequence number", rec.len);
	uint64_t seq = codec_get_u64(rec.data);
	batch_reader_t br;
	int rc = batch_reader_init(&br, sl_slice(rec.data + 8, rec.len - 8), err);
	int op;
	sl_slice_t k, v;
	while (rc == SL_OK && (rc = batch_reader_next(&br, &op, &k, &v, err)) == SL_OK) {
		if (k.len > LSM_MAX_KEY_BYTES || seq > LSM_MAX_SEQ)
			return sl_errf(err, SL_CORRUPT, "record holds an impossible key or sequence");
		rc = memtable_add(mem, seq, op == BATCH_OP_PUT ? LSM_TYPE_PUT : LSM_TYPE_DEL, k,
				  op == BATCH_OP_PUT ? v : sl_slice(NULL, 0));
		if (rc != SL_OK)
			return sl_errf(err, rc, "out of memory replaying the log");
		*last = seq++;
	}
	return rc == SL_NOTFOUND ? SL_OK : rc;
}

/*
 * Recovery, in three steps a reader can follow (and break on):
 *   lsm_replay_logs_check  the logs on disk against the manifest's oldest needed
 *   lsm_replay_log         one log's records into the memtable, in order
 *   lsm_replay_flush       a memtable that filled (or what is left at the end)
 *                          written as a level-0 table into the edit
 */

/* Step 3: *mem as a level-0 table in *edit, and a fresh memtable in its place. */
static int lsm_replay_flush(lsm_t *db, memtable_t **mem, lsm_edit_t *edit, const char *why,
			    sl_err_t *err)
{
	uint64_t bytes;
	int rc = lsm_write_l0(db, *mem, db->next_file++, edit, &bytes, err);
	if (rc == SL_OK && trace_on(db->trace))
		trace_emit(db->trace, "recover: %s: %" PRIu64 " entries -> L0 lsm-%06" PRIu64 ".sst", why,
			   memtable_count(*mem), db->next_file - 1);
	memtable_unref(*mem);
	*mem = rc == SL_OK ? memtable_new() : NULL;
	if (rc == SL_OK && *mem == NULL)
		rc = sl_errf(err, SL_NOMEM, "out of memory");
	return rc;
}

/*
 * Step 2: replays one log into *mem, flushing whenever *mem fills — unless
 * read-only, when it only grows.
 */
static int lsm_replay_log(lsm_t *db, uint64_t number, memtable_t **mem, lsm_edit_t *edit,
			  sl_err_t *err)
{
	char path[4200];
	lsm_file_path(db, number, "log", path, sizeof path);
	wal_reader_t *r;
	int rc = wal_reader_open(db->env, path, &r, err);
	if (rc == SL_CORRUPT && env_exists(path)) {
		/* A crash between creating the log and its header reaching the disk. */
		uint64_t bytes = 0;
		env_file_t *f;
		if (env_open(db->env, path, ENV_READ, &f, NULL) == SL_OK) {
			bytes = env_size(f);
			env_close(f, NULL);
		}
		if (bytes < WAL_HEADER_BYTES)
			return SL_OK;
	}
	sl_slice_t rec;
	uint64_t off, records = 0;
	while (rc == SL_OK && (rc = wal_reader_next(r, &rec, &off, err)) == SL_OK) {
		rc = lsm_apply_record(*mem, rec, &db->last_seq, err);
		if (rc != SL_OK)
			sl_err_prefix(err, "%s: offset %" PRIu64, path, off);
		records++;
		if (rc == SL_OK && !db->opts.read_only && memtable_bytes(*mem) >= db->opts.memtable_bytes)
			rc = lsm_replay_flush(db, mem, edit, "memtable full mid-log", err);
	}
	if (rc == SL_NOTFOUND)
		rc = SL_OK;
	if (rc == SL_OK && trace_on(db->trace))
		trace_emit(db->trace, "recover: replayed %" PRIu64 " records of %s%s%s", records, path,
			   wal_reader_tail(r)->dropped ? ", dropped a torn tail: " : "",
			   wal_reader_tail(r)->why);
	wal_reader_close(r);
	return rc;
}

/*
 * Step 1: the log the manifest names as the oldest needed is never deleted
 * while the manifest names it. If it is gone, an edit that moved past it was
 * lost from the manifest (a damaged last record) and its writes with it: say so.
 */
static int lsm_replay_logs_check(lsm_t *db, const uint64_t *nums, size_t n, sl_err_t *err)
{
	bool named_log_found = db->log_number == 0;
	for (size_t i = 0; i < n; i++)
		named_log_found = named_log_found || nums[i] == db->log_number;
	if (named_log_found)
		return SL_OK;
	return sl_errf(err, SL_CORRUPT, "%s/%s: names lsm-%06" PRIu64 ".log as the oldest log "
		       "needed, and it is gone: the manifest has lost edits", db->dir, LSM_MANIFEST,
		       db->log_number);
}

/*
 * Replays the WALs numbered log_number and up into memtables, flushing a
 * level-0 table whenever one fills (and for what is left at the end); the
 * tables go into *edit. Read-only, everything stays in one memtable, which
 * becomes db->mem.
 */
static int lsm_replay_logs(lsm_t *db, lsm_edit_t *edit, sl_err_t *err)
{
	uint64_t *nums;
	size_t n;
	int rc = lsm_list(db, "log", &nums, &n, err);
	memtable_t *mem = memtable_new();
	if (mem == NULL)
		rc = rc == SL_OK ? sl_errf(err, SL_NOMEM, "out of memory") : rc;
	if (rc == SL_OK)
		rc = lsm_replay_logs_check(db, nums, n, err);
	for (size_t i = 0; i < n && rc == SL_OK; i++) {
		if (nums[i] < db->log_number)
			continue;
		if (nums[i] >= db->next_file)
			db->next_file = nums[i] + 1;
		rc = lsm_replay_log(db, nums[i], &mem, edit, err);
	}
	if (rc == SL_OK && db->opts.read_only) {
		memtable_unref(db->mem); /* the fresh, empty one */
		db->mem = mem;
		mem = NULL;
	} else if (rc == SL_OK && memtable_count(mem) > 0) {
		rc = lsm_replay_flush(db, &mem, edit, "the rest of the logs, so they can go", err);
	}
	memtable_unref(mem);
	free(nums);
	return rc;
}

/* Deletes tables no version holds and logs older than log_number (leftovers of a crash). */
static void lsm_delete_strays(lsm_t *db)
{
	uint64_t *nums;
	size_t n;
	char path[4200];
	if (lsm_list(db, "log", &nums, &n, NULL) == SL_OK)
		for (size_t i = 0; i < n; i++)
			if (nums[i] < db->log_number) {
				lsm_file_path(db, nums[i], "log", path, sizeof path);
				env_unlink(db->env, path, NULL);
			}
	free(nums);
	if (lsm_list(db, "sst", &nums, &n, NULL) != SL_OK)
		return;
	for (size_t i = 0; i < n; i++) {
		bool live = false;
		const lsm_version_t *v = db->current;
		for (int l = 0; l < LSM_LEVELS && !live; l++)
			for (size_t r = 0; r < v->levels[l].n && !live; r++)
				for (size_t j = 0; j < v->levels[l].runs[r].n && !live; j++)
					live = v->levels[l].runs[r].files[j]->number == nums[i];
		if (!live) {
			lsm_file_path(db, nums[i], "sst", path, sizeof path);
			env_unlink(db->env, path, NULL);
		}
	}
	free(nums);
}

/*
 * Starts a fresh WAL for db->mem; REQUIRES mu (or no other thread yet).
 * The old log is synced first, whatever the sync level: otherwise a power cut
 * could take back the old log's unsynced tail while the new log's records
 * survive, and recovery would bring back later writes without earlier ones.
 * With the sync, a cut can only lose a tail of the writes (one fsync per
 * memtable, nothing per write).
 */
static int lsm_new_wal(lsm_t *db, sl_err_t *err)
{
	int rc = db->wal != NULL ? wal_sync(db->wal, err) : SL_OK;
	if (rc != SL_OK)
		return rc;
	char path[4200];
	uint64_t number = db->next_file++;
	lsm_file_path(db, number, "log", path, sizeof path);
	wal_t *w = NULL;
	rc = wal_create(db->env, path, &w, err);
	if (rc == SL_OK && db->opts.sync == SL_SYNC_BATCH)
		rc = wal_sync_every(w, db->opts.batch_ms ? db->opts.batch_ms : 10, err);
	if (rc != SL_OK) {
		wal_close(w, NULL);
		return rc;
	}
	if (db->wal != NULL) {
		sl_err_t ignored;
		wal_close(db->wal, &ignored); /* its records are in the memtable being flushed */
	}
	db->wal = w;
	db->wal_number = number;
	return SL_OK;
}

/* Deletes the logs among nums[0..n) that hold no record; returns how many are left. */
static size_t lsm_drop_empty_logs(lsm_t *db, const uint64_t *nums, size_t n)
{
	size_t left = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4200];
		lsm_file_path(db, nums[i], "log", path, sizeof path);
		env_file_t *f = NULL;
		bool empty = env_open(db->env, path, ENV_READ, &f, NULL) == SL_OK &&
			     env_size(f) <= WAL_HEADER_BYTES;
		if (f != NULL)
			env_close(f, NULL);
		if (empty && env_unlink(db->env, path, NULL) == SL_OK)
			continue;
		left++;
	}
	return left;
}

static int lsm_recover(lsm_t *db, sl_err_t *err)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", db->dir, LSM_MANIFEST);
	int rc;
	if (env_exists(path)) {
		rc = lsm_manifest_recover(db, &db->current, err);
	} else {
		uint64_t *nums;
		size_t nlog = 0, nsst = 0;
		rc = lsm_list(db, "log", &nums, &nlog, err);
		/* A crash during the very first open leaves a log with no record and no
		 * manifest yet (the log is made first): that is a store never written. */
		if (rc == SL_OK && !db->opts.read_only)
			nlog = lsm_drop_empty_logs(db, nums, nlog);
		free(nums);
		if (rc == SL_OK)
			rc = lsm_list(db, "sst", &nums, &nsst, err);
		if (rc == SL_OK)
			free(nums);
		if (rc == SL_OK && nlog + nsst > 0)
			return sl_errf(err, SL_CORRUPT, "%s: missing, yet the directory holds %zu "
				       "logs and %zu tables", path, nlog, nsst);
		if (rc == SL_OK && !db->opts.create)
			return sl_errf(err, SL_NOTFOUND, "%s: no LSM store here", db->dir);
		db->next_file = 1;
		db->current = lsm_version_new();
		if (rc == SL_OK && db->current == NULL)
			rc = sl_errf(err, SL_NOMEM, "out of memory");
	}
	if (rc != SL_OK)
		return rc;
	/* Whatever the logs hold becomes level-0 tables; then one fresh log. */
	lsm_edit_t edit = { 0 };
	rc = lsm_replay_logs(db, &edit, err);
	if (db->opts.read_only)
		return rc; /* recovered in memory; the files stay exactly as they were */
	if (rc == SL_OK)
		rc = lsm_new_wal(db, err);
	if (rc == SL_OK && edit.nadds > 0) {
		lsm_version_t *v = lsm_version_apply(db->current, &edit);
		if (v == NULL) {
			rc = sl_errf(err, SL_NOMEM, "out of memory");
		} else {
			lsm_version_unref(db, db->current);
			db->current = v;
		}
	}
	lsm_edit_free(&edit);
	db->log_number = db->wal_number;
	if (rc == SL_OK)
		rc = lsm_manifest_rewrite(db, db->current, err);
	if (rc == SL_OK)
		lsm_delete_strays(db);
	return rc;
}

/* ================================================================ open / close */

int lsm_open(env_t *env, const char *dir, const lsm_opts_t *opts, lsm_t **out, sl_err_t *err)
{
	*out = NULL;
	lsm_t *db = calloc(1, sizeof *db);
	if (db == NULL)
		return sl_errf(err, SL_NOMEM, "lsm: out of memory");
	db->env = env;
	db->dir = strdup(dir);
	db->opts = *opts;
	lsm_fill_defaults(&db->opts);
	db->trace = opts->trace ? opts->trace : &db->trace_off;
	db->cache = cache_new(db->opts.cache_bytes);
	db->mem = memtable_new();
	pthread_mutex_init(&db->mu, NULL);
	pthread_cond_init(&db->bg_cv, NULL);
	db->snapshots.next = db->snapshots.prev = &db->snapshots;
	batch_init(&db->group_batch);
	int rc = (db->dir && db->cache && db->mem) ? SL_OK
						   : sl_errf(err, SL_NOMEM, "lsm: out of memory");
	if (rc == SL_OK && db->opts.create && !db->opts.read_only)
		rc = env_mkdir(env, dir, err);
	if (rc == SL_OK)
		rc = lsm_recover(db, err);
	if (rc == SL_OK && !db->opts.deterministic && !db->opts.read_only) {
		if (pthread_create(&db->bg, NULL, lsm_bg_main, db) != 0)
			rc = sl_errf(err, SL_NOMEM, "lsm: cannot start the background thread");
		else
			db->bg_started = true;
	}
	if (rc != SL_OK) {
		lsm_close(db, NULL);
		return rc;
	}
	if (!db->opts.read_only) {
		pthread_mutex_lock(&db->mu);
		lsm_bg_schedule(db); /* a compaction may be due since the last run */
		pthread_mutex_unlock(&db->mu);
	}
	*out = db;
	return SL_OK;
}

int lsm_close(lsm_t *db, sl_err_t *err)
{
	if (db == NULL)
		return SL_OK;
	pthread_mutex_lock(&db->mu);
	db->closing = true;
	pthread_cond_broadcast(&db->bg_cv);
	pthread_mutex_unlock(&db->mu);
	if (db->bg_started)
		pthread_join(db->bg, NULL);
	assert(db->snapshots.next == &db->snapshots); /* every snapshot released */
	int rc = SL_OK;
	if (db->wal != NULL)
		rc = wal_close(db->wal, err); /* writes buffered records: they are acknowledged */
	if (db->manifest != NULL)
		wal_close(db->manifest, NULL);
	memtable_unref(db->mem);
	memtable_unref(db->imm);
	if (db->current)
		lsm_version_unref(db, db->current);
	for (int l = 0; l < LSM_LEVELS; l++)
		buf_free(&db->compact_pointer[l]);
	buf_free(&db->group);
	batch_free(&db->group_batch);
	cache_free(db->cache);
	pthread_cond_destroy(&db->bg_cv);
	pthread_mutex_destroy(&db->mu);
	free(db->dir);
	free(db);
	return rc;
}

/* ================================================================ writing */

/* L0 runs now (what the slow-down and stop thresholds count). REQUIRES mu. */
static size_t lsm_l0_runs(const lsm_t *db) { return db->current->levels[0].n; }

/*
 * Makes sure the memtable has room, switching to a fresh one (and a fresh WAL)
 * when it is full; delays or stops the writer while level 0 is too deep.
 * REQUIRES mu, and that the caller is the write leader.
 */
static int lsm_make_room(lsm_t *db, sl_err_t *err)
{
	bool delayed = false;
	for (;;) {
		if (db->write_rc != SL_OK) {
			if (err)
				*err = db->write_err;
			return db->write_rc;
		}
		if (db->bg_rc != SL_OK) {
			/* A writer is refused, whatever the background failure was. */
			if (err) {
				*err = db->bg_err;
				err->code = SL_READONLY;
			}
			return SL_READONLY;
		}
		size_t l0 = lsm_l0_runs(db);
		if (!delayed && l0 >= db->opts.l0_slowdown && !db->opts.deterministic) {
			/* Give compaction a millisecond, once per write: a gentle brake, not a wall. */
			uint64_t t0 = lsm_now_ns();
			pthread_mutex_unlock(&db->mu);
			struct timespec ms = { 0, 1000000 };
			nanosleep(&ms, NULL);
			pthread_mutex_lock(&db->mu);
			db->stall_ns += lsm_now_ns() - t0;
			db->slowdowns++;
			delayed = true;
			continue;
		}
		if (memtable_bytes(db->mem) < db->opts.memtable_bytes || memtable_count(db->mem) == 0)
			return SL_OK;
		if (db->imm != NULL || l0 >= db->opts.l0_stop) {
			/* The last memtable is still being flushed, or L0 is full: wait. */
			uint64_t t0 = lsm_now_ns();
			db->stops++;
			if (db->opts.deterministic)
				lsm_bg_step(db);
			else
				pthread_cond_wait(&db->bg_cv, &db->mu);
			db->stall_ns += lsm_now_ns() - t0;
			continue;
		}
		memtable_t *fresh = memtable_new();
		if (fresh == NULL)
			return sl_errf(err, SL_NOMEM, "lsm: out of memory for a memtable");
		int rc = lsm_new_wal(db, err);
		if (rc != SL_OK) {
			memtable_unref(fresh);
			return rc;
		}
		if (trace_on(db->trace))
			trace_emit(db->trace, "memtable full (%zu bytes, %" PRIu64 " entries): frozen "
				   "for flushing; new log lsm-%06" PRIu64 ".log", memtable_bytes(db->mem),
				   memtable_count(db->mem), db->wal_number);
		db->imm = db->mem;
		db->mem = fresh;
		atomic_store(&db->imm_waiting, true);
		lsm_bg_schedule(db);
	}
}

/* Inserts every operation of the encoded batch rep into mem, from sequence seq. */
static int lsm_insert_batch(memtable_t *mem, sl_slice_t rep, uint64_t seq, sl_err_t *err)
{
	batch_reader_t br;
	int rc = batch_reader_init(&br, rep, err), op;
	sl_slice_t k, v;
	while (rc == SL_OK && (rc = batch_reader_next(&br, &op, &k, &v, err)) == SL_OK) {
		rc = memtable_add(mem, seq++, op == BATCH_OP_PUT ? LSM_TYPE_PUT : LSM_TYPE_DEL, k,
				  op == BATCH_OP_PUT ? v : sl_slice(NULL, 0));
		if (rc != SL_OK)
			rc = sl_errf(err, rc, "lsm: out of memory in the memtable");
	}
	return rc == SL_NOTFOUND ? SL_OK : rc;
}

/*
 * Gathers the leader's batch and those queued behind it (up to 1 MiB) into one
 * batch; returns the last writer taken. REQUIRES mu.
 */
static lsm_writer_t *lsm_gather(lsm_t *db, lsm_writer_t *leader, const batch_t **group)
{
	lsm_writer_t *last = leader;
	*group = leader->batch;
	size_t bytes = leader->batch->rep.len;
	for (lsm_writer_t *w = leader->next; w != NULL; w = w->next) {
		if (w->batch == NULL || bytes + w->batch->rep.len > LSM_GROUP_MAX_BYTES)
			break;
		if (last == leader) {
			/* More than one: copy them into the group batch (ops after the count). */
			batch_clear(&db->group_batch);
			buf_append(&db->group_batch.rep, leader->batch->rep.data + 4,
				   leader->batch->rep.len - 4);
			db->group_batch.count = leader->batch->count;
			*group = &db->group_batch;
		}
		buf_append(&db->group_batch.rep, w->batch->rep.data + 4, w->batch->rep.len - 4);
		db->group_batch.count += w->batch->count;
		bytes += w->batch->rep.len;
		last = w;
	}
	if (*group == &db->group_batch)
		codec_put_u32(db->group_batch.rep.data, db->group_batch.count);
	return last;
}

/* Writes the group as one WAL record and inserts it into the memtable. Runs without mu. */
static int lsm_apply_group(lsm_t *db, const batch_t *group, uint64_t seq, bool sync, sl_err_t *err)
{
	buf_clear(&db->group);
	codec_buf_put_u64(&db->group, seq);
	buf_append(&db->group, group->rep.data, group->rep.len);
	if (!buf_ok(&db->group) || !buf_ok(&group->rep))
		return sl_errf(err, SL_NOMEM, "lsm: out of memory for a log record");
	int rc = wal_append(db->wal, db->group.data, db->group.len, sync, err);
	if (rc == SL_OK)
		rc = lsm_insert_batch(db->mem, buf_slice(&group->rep), seq, err);
	return rc;
}

/*
 * Joins the writer queue and waits until w is done (a leader wrote it) or at
 * the head (w leads). Returns true when w leads. REQUIRES mu.
 */
static bool lsm_queue_wait(lsm_t *db, lsm_writer_t *w)
{
	pthread_cond_init(&w->cv, NULL);
	if (db->writers_tail)
		db->writers_tail->next = w;
	else
		db->writers = w;
	db->writers_tail = w;
	while (!w->done && db->writers != w)
		pthread_cond_wait(&w->cv, &db->mu);
	return !w->done;
}

/*
 * The leader hands rc to every writer from the head up to last, takes them off
 * the queue and wakes the next leader. REQUIRES mu.
 */
static void lsm_queue_done(lsm_t *db, lsm_writer_t *leader, lsm_writer_t *last, int rc)
{
	for (lsm_writer_t *x = db->writers;;) {
		lsm_writer_t *next = x->next;
		if (x != leader) {
			x->rc = rc;
			x->err = leader->err;
			x->done = true;
			pthread_cond_signal(&x->cv);
		}
		if (x == last) {
			db->writers = next;
			break;
		}
		x = next;
	}
	if (db->writers == NULL)
		db->writers_tail = NULL;
	else
		pthread_cond_signal(&db->writers->cv);
}

/* After a failed log write or sync: whether the bytes reached the disk is unknown. */
static void lsm_refuse_writes(lsm_t *db, int rc, const sl_err_t *why)
{
	if (db->write_rc != SL_OK)
		return;
	db->write_rc = rc == SL_NOMEM ? SL_NOMEM : SL_READONLY;
	sl_errf(&db->write_err, db->write_rc, "lsm: writes refused until the store is reopened, "
		"after: %s", why->msg);
}

/* Returns w's result to the caller of lsm_write / lsm_sync. Releases mu. */
static int lsm_queue_leave(lsm_t *db, lsm_writer_t *w, int rc, sl_err_t *err)
{
	pthread_mutex_unlock(&db->mu);
	pthread_cond_destroy(&w->cv);
	if (rc != SL_OK && err)
		*err = w->err;
	return rc;
}

static int lsm_check_sizes(sl_slice_t key, size_t value_len, sl_err_t *err)
{
	if (key.len > LSM_MAX_KEY_BYTES)
		return sl_errf(err, SL_INVALID, "lsm: key of %zu bytes is over the %u-byte limit",
			       key.len, LSM_MAX_KEY_BYTES);
	if (value_len > LSM_MAX_VALUE_BYTES)
		return sl_errf(err, SL_INVALID, "lsm: value of %zu bytes is over the %u-byte limit",
			       value_len, LSM_MAX_VALUE_BYTES);
	return SL_OK;
}

/*
 * Bad input must be refused before it reaches the log: a record the log cannot
 * take would otherwise look like a failed write and leave the store read-only.
 */
static int lsm_check_batch(const batch_t *b, sl_err_t *err)
{
	if (batch_status(b) != SL_OK)
		return sl_errf(err, SL_NOMEM, "lsm: the batch ran out of memory while being built");
	if (b->rep.len > WAL_MAX_RECORD - 8)
		return sl_errf(err, SL_INVALID, "lsm: a batch of %zu bytes is over the %u-byte limit "
			       "of one log record", b->rep.len, WAL_MAX_RECORD - 8);
	batch_reader_t br;
	int rc = batch_reader_init(&br, batch_bytes(b), err), op;
	sl_slice_t k, v;
	while (rc == SL_OK && (rc = batch_reader_next(&br, &op, &k, &v, err)) == SL_OK)
		rc = lsm_check_sizes(k, op == BATCH_OP_PUT ? v.len : 0, err);
	return rc == SL_NOTFOUND ? SL_OK : rc;
}

/* Queues b and writes it (as leader or in a leader's group). REQUIRES: b checked. */
static int lsm_write_checked(lsm_t *db, const batch_t *b, sl_err_t *err)
{
	lsm_writer_t w = { .batch = b };
	pthread_mutex_lock(&db->mu);
	if (!lsm_queue_wait(db, &w)) /* a leader wrote our batch with its group */
		return lsm_queue_leave(db, &w, w.rc, err);
	/* We lead: write our batch and the ones queued behind it, as one record. */
	const batch_t *group;
	lsm_writer_t *last = &w;
	int rc = lsm_make_room(db, &w.err);
	if (rc == SL_OK) {
		last = lsm_gather(db, &w, &group);
		uint64_t seq = db->last_seq + 1;
		bool sync = db->opts.sync == SL_SYNC_ALWAYS; /* batch: the log's timer syncs */
		pthread_mutex_unlock(&db->mu);
		rc = lsm_apply_group(db, group, seq, sync, &w.err);
		pthread_mutex_lock(&db->mu);
		if (rc == SL_OK) {
			db->last_seq = seq + group->count - 1; /* readers may see the group now */
			db->wal_bytes += db->group.len;
			db->write_groups++;
			for (lsm_writer_t *x = &w; x != last->next; x = x->next)
				db->grouped_writes++;
		} else {
			lsm_refuse_writes(db, rc, &w.err);
		}
	}
	lsm_queue_done(db, &w, last, rc);
	return lsm_queue_leave(db, &w, rc, err);
}

int lsm_write(lsm_t *db, const batch_t *b, sl_err_t *err)
{
	if (db->opts.read_only)
		return sl_errf(err, SL_READONLY, "lsm %s: opened read-only", db->dir);
	if (b->count == 0)
		return SL_OK;
	int rc = lsm_check_batch(b, err);
	return rc == SL_OK ? lsm_write_checked(db, b, err) : rc;
}

int lsm_put(lsm_t *db, sl_slice_t key, sl_slice_t value, sl_err_t *err)
{
	int rc = lsm_check_sizes(key, value.len, err);
	if (rc != SL_OK)
		return rc;
	batch_t b;
	batch_init(&b);
	batch_put(&b, key, value);
	rc = batch_status(&b) == SL_OK ? lsm_write_checked(db, &b, err)
				       : sl_errf(err, SL_NOMEM, "lsm: out of memory");
	batch_free(&b);
	return rc;
}

int lsm_del(lsm_t *db, sl_slice_t key, sl_err_t *err)
{
	int rc = lsm_check_sizes(key, 0, err);
	if (rc != SL_OK)
		return rc;
	batch_t b;
	batch_init(&b);
	batch_del(&b, key);
	rc = batch_status(&b) == SL_OK ? lsm_write_checked(db, &b, err)
				       : sl_errf(err, SL_NOMEM, "lsm: out of memory");
	batch_free(&b);
	return rc;
}

int lsm_sync(lsm_t *db, sl_err_t *err)
{
	if (db->opts.read_only)
		return SL_OK; /* nothing was written */
	/* Through the writer queue: no leader may be appending while the log is synced. */
	lsm_writer_t w = { 0 };
	pthread_mutex_lock(&db->mu);
	if (!lsm_queue_wait(db, &w))
		return lsm_queue_leave(db, &w, w.rc, err);
	int rc = db->write_rc;
	if (rc != SL_OK) {
		w.err = db->write_err;
	} else {
		pthread_mutex_unlock(&db->mu);
		rc = wal_sync(db->wal, &w.err);
		pthread_mutex_lock(&db->mu);
		if (rc != SL_OK)
			lsm_refuse_writes(db, rc, &w.err);
	}
	lsm_queue_done(db, &w, &w, rc);
	return lsm_queue_leave(db, &w, rc, err);
}

/* ================================================================ maintenance */

int lsm_flush(lsm_t *db, sl_err_t *err)
{
	if (db->opts.read_only)
		return sl_errf(err, SL_READONLY, "lsm %s: opened read-only", db->dir);
	/* An empty batch cannot go through the queue; take the leader's role by hand. */
	lsm_writer_t w = { 0 };
	pthread_mutex_lock(&db->mu);
	if (!lsm_queue_wait(db, &w))
		return lsm_queue_leave(db, &w, w.rc, err);
	int rc = SL_OK;
	if (memtable_count(db->mem) > 0) {
		uint64_t budget = db->opts.memtable_bytes;
		db->opts.memtable_bytes = 1; /* "full" */
		rc = lsm_make_room(db, &w.err);
		db->opts.memtable_bytes = budget;
	}
	while (rc == SL_OK && db->imm != NULL && db->bg_rc == SL_OK) {
		if (db->opts.deterministic)
			lsm_bg_step(db);
		else
			pthread_cond_wait(&db->bg_cv, &db->mu);
	}
	if (rc == SL_OK && db->bg_rc != SL_OK) {
		rc = db->bg_rc;
		w.err = db->bg_err;
	}
	lsm_queue_done(db, &w, &w, rc);
	return lsm_queue_leave(db, &w, rc, err);
}

int lsm_compact_wait(lsm_t *db, sl_err_t *err)
{
	pthread_mutex_lock(&db->mu);
	while (db->bg_rc == SL_OK &&
	       (db->imm != NULL || db->bg_busy || lsm_needs_compaction(db, db->current))) {
		if (db->opts.deterministic)
			lsm_bg_step(db);
		else
			pthread_cond_wait(&db->bg_cv, &db->mu);
	}
	int rc = db->bg_rc;
	if (rc != SL_OK && err)
		*err = db->bg_err;
	pthread_mutex_unlock(&db->mu);
	return rc;
}
