/*
 * lsm_read.c — the LSM store's read side: snapshots, gets, user iterators and
 * the figures (see lsm.h). A reader takes the store's mutex only to pin the
 * memtables and version of one moment (a "view"); the search itself runs
 * without it, beside writers and the background thread.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/bloom.h"
#include "kv/lsm_int.h"

/* ================================================================ reading */

uint64_t lsm_smallest_snapshot(const lsm_t *db)
{
	const struct lsm_snapshot *oldest = db->snapshots.next;
	return oldest == &db->snapshots ? db->last_seq : oldest->seq;
}

lsm_snapshot_t *lsm_snapshot(lsm_t *db)
{
	lsm_snapshot_t *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	pthread_mutex_lock(&db->mu);
	s->seq = db->last_seq;
	/* Appended at the newest end: the list stays in sequence order. */
	s->prev = db->snapshots.prev;
	s->next = &db->snapshots;
	s->prev->next = s;
	db->snapshots.prev = s;
	pthread_mutex_unlock(&db->mu);
	return s;
}

void lsm_snapshot_release(lsm_t *db, lsm_snapshot_t *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&db->mu);
	s->prev->next = s->next;
	s->next->prev = s->prev;
	pthread_mutex_unlock(&db->mu);
	free(s);
}

uint64_t lsm_snapshot_seq(const lsm_snapshot_t *snap) { return snap->seq; }

/* What a reader pins: the memtables and version of one moment. */
typedef struct lsm_view {
	memtable_t *mem, *imm;
	lsm_version_t *v;
	uint64_t seq;
} lsm_view_t;

static void lsm_view_take(lsm_t *db, const lsm_snapshot_t *snap, lsm_view_t *view)
{
	pthread_mutex_lock(&db->mu);
	view->mem = db->mem;
	memtable_ref(view->mem);
	view->imm = db->imm;
	if (view->imm)
		memtable_ref(view->imm);
	view->v = db->current;
	lsm_version_ref(view->v);
	view->seq = snap ? snap->seq : db->last_seq;
	pthread_mutex_unlock(&db->mu);
}

static void lsm_view_drop(lsm_t *db, lsm_view_t *view)
{
	memtable_unref(view->mem);
	memtable_unref(view->imm);
	pthread_mutex_lock(&db->mu);
	lsm_version_unref(db, view->v);
	pthread_mutex_unlock(&db->mu);
}

static void lsm_trace_key(const lsm_t *db, const char *what, sl_slice_t key) /* for lsm_get */
{
	char shown[128];
	trace_emit_at(db->trace, "lsm_get", "%s \"%s\"", what, trace_bytes(shown, sizeof shown, key.data,
								   key.len, 40));
}

/* Probes one table with the get's seek key; SL_NOTFOUND sends the search on. */
static int lsm_get_file(lsm_t *db, lsm_file_t *f, int level, sl_slice_t seek, uint64_t hash,
			buf_t *value, bool *deleted, sl_err_t *err)
{
	sst_probe_t probe;
	tally_add(&db->rc, LSM_RC_FILES, 1);
	int rc = sst_get(f->table, seek, hash, value, deleted, &probe, err);
	if (probe.filtered)
		tally_add(&db->rc, LSM_RC_FILTERED, 1);
	else if (rc == SL_NOTFOUND)
		tally_add(&db->rc, LSM_RC_FALSE_POSITIVE, 1);
	if (probe.block_read)
		tally_add(&db->rc, LSM_RC_BLOCKS_READ, 1);
	if (trace_on(db->trace)) {
		if (probe.filtered)
			trace_emit(db->trace, "  L%d lsm-%06" PRIu64 ".sst: bloom filter says no", level,
				   f->number);
		else
			trace_emit(db->trace, "  L%d lsm-%06" PRIu64 ".sst: bloom says maybe; block at "
				   "%" PRIu64 " (%s): %s", level, f->number, probe.block_off,
				   probe.block_read ? "read from the file" : "in the cache",
				   rc == SL_OK ? (*deleted ? "a tombstone" : "found")
					       : rc == SL_NOTFOUND ? "not there (a false positive)"
								   : "error");
	}
	return rc;
}

/* Searches the tables of v, level by level and run by run, newest first. */
static int lsm_get_tables(lsm_t *db, const lsm_version_t *v, sl_slice_t seek, uint64_t seq,
			  buf_t *value, bool *deleted, sl_err_t *err)
{
	sl_slice_t key = lsm_ikey_user(seek);
	uint64_t hash = bloom_hash(key);
	tally_add(&db->rc, LSM_RC_GETS, 1);
	for (int l = 0; l < LSM_LEVELS; l++) {
		const lsm_level_t *lv = &v->levels[l];
		for (size_t r = 0; r < lv->n; r++) {
			lsm_file_t *f = lsm_run_find(&lv->runs[r], key);
			if (f == NULL) {
				if (trace_on(db->trace) && lv->runs[r].n)
					trace_emit(db->trace, "  L%d run %zu: no table's key range "
						   "holds the key", l, r);
				continue;
			}
			if (seq < f->min_seq)
				continue; /* every entry is newer than the reader */
			int rc = lsm_get_file(db, f, l, seek, hash, value, deleted, err);
			if (rc != SL_NOTFOUND)
				return rc;
		}
	}
	return SL_NOTFOUND;
}

int lsm_get(lsm_t *db, const lsm_snapshot_t *snap, sl_slice_t key, buf_t *value, sl_err_t *err)
{
	lsm_view_t view;
	lsm_view_take(db, snap, &view);
	bool deleted = false;
	int rc = SL_NOTFOUND;
	/* One seek key for every memtable and table the get consults. */
	uint8_t small[256];
	buf_t big = BUF_INIT;
	sl_slice_t seek = lsm_seek_key(key, view.seq, small, sizeof small, &big);
	if (trace_on(db->trace))
		lsm_trace_key(db, "get", key);
	if (memtable_get(view.mem, seek, value, &deleted)) {
		rc = SL_OK;
		if (trace_on(db->trace))
			trace_emit(db->trace, "  memtable: %s", deleted ? "a tombstone" : "found");
	} else if (view.imm && memtable_get(view.imm, seek, value, &deleted)) {
		rc = SL_OK;
		if (trace_on(db->trace))
			trace_emit(db->trace, "  immutable memtable: %s", deleted ? "a tombstone" : "found");
	} else {
		if (trace_on(db->trace))
			trace_emit(db->trace, "  memtables: no entry");
		rc = lsm_get_tables(db, view.v, seek, view.seq, value, &deleted, err);
	}
	buf_free(&big);
	lsm_view_drop(db, &view);
	if (rc == SL_OK && deleted)
		rc = SL_NOTFOUND;
	if (rc == SL_NOTFOUND && err)
		sl_errf(err, SL_NOTFOUND, "lsm: key not found");
	return rc;
}

/* ================================================================ user iterators */

struct lsm_iter {
	lsm_t *db;
	lsm_view_t view;
	lsm_merge_t *merge;
	buf_t key;          /* the current user key */
	sl_slice_t value;   /* points into the merged child's entry */
	bool valid;
	int status;
	sl_err_t err;
	buf_t end;          /* lsm_iter_set_end: no key at or past it is visited */
	bool has_end;
};

int lsm_iter_new(lsm_t *db, const lsm_snapshot_t *snap, lsm_iter_t **out, sl_err_t *err)
{
	*out = NULL;
	lsm_iter_t *it = calloc(1, sizeof *it);
	if (it == NULL)
		return sl_errf(err, SL_NOMEM, "lsm: out of memory");
	it->db = db;
	lsm_view_take(db, snap, &it->view);
	int rc = lsm_merge_new(&it->merge);
	if (rc == SL_OK)
		rc = lsm_merge_add_mem(it->merge, it->view.mem);
	if (rc == SL_OK && it->view.imm)
		rc = lsm_merge_add_mem(it->merge, it->view.imm);
	for (int l = 0; l < LSM_LEVELS && rc == SL_OK; l++)
		for (size_t r = 0; r < it->view.v->levels[l].n && rc == SL_OK; r++)
			rc = lsm_merge_add_run(it->merge, &it->view.v->levels[l].runs[r]);
	if (rc != SL_OK) {
		lsm_iter_free(it);
		return sl_errf(err, rc, "lsm: out of memory for an iterator");
	}
	*out = it;
	return SL_OK;
}

/*
 * From the merged stream's position, finds the next user key whose newest
 * version visible at the reader's sequence is a value. With skip set, every
 * entry of user key `it->key` is passed over first (it was just returned).
 */
static void lsm_iter_settle(lsm_iter_t *it, bool skip)
{
	lsm_merge_t *m = it->merge;
	it->valid = false;
	for (; lsm_merge_valid(m); lsm_merge_next(m)) {
		sl_slice_t ik = lsm_merge_key(m);
		sl_slice_t user = lsm_ikey_user(ik);
		if (it->has_end && sl_slice_cmp(user, buf_slice(&it->end)) >= 0)
			break; /* past the bound: do not wade through what lies beyond */
		if (lsm_ikey_seq(ik) > it->view.seq)
			continue; /* written after the reader's moment */
		if (skip && sl_slice_cmp(user, buf_slice(&it->key)) <= 0)
			continue; /* an older version of a key already decided */
		buf_set(&it->key, user.data, user.len);
		skip = true;
		if (lsm_ikey_type(ik) == LSM_TYPE_DEL)
			continue; /* deleted: hide it and every older version */
		it->value = lsm_merge_value(m);
		it->valid = buf_ok(&it->key);
		return;
	}
	it->status = lsm_merge_status(m, &it->err);
}

void lsm_iter_seek(lsm_iter_t *it, const sl_slice_t *start)
{
	if (start == NULL) {
		lsm_merge_first(it->merge);
	} else {
		uint8_t small[256];
		buf_t big = BUF_INIT;
		lsm_merge_seek(it->merge, lsm_seek_key(*start, it->view.seq, small, sizeof small, &big));
		buf_free(&big);
	}
	lsm_iter_settle(it, false);
}

void lsm_iter_set_end(lsm_iter_t *it, const sl_slice_t *end)
{
	it->has_end = end != NULL;
	if (end != NULL)
		buf_set(&it->end, end->data, end->len);
}

void lsm_iter_next(lsm_iter_t *it)
{
	assert(it->valid);
	lsm_merge_next(it->merge);
	lsm_iter_settle(it, true);
}

bool lsm_iter_valid(const lsm_iter_t *it) { return it->valid; }
sl_slice_t lsm_iter_key(const lsm_iter_t *it) { return buf_slice(&it->key); }
sl_slice_t lsm_iter_value(const lsm_iter_t *it) { return it->value; }

int lsm_iter_status(const lsm_iter_t *it, sl_err_t *err)
{
	if (it->status != SL_OK && err)
		*err = it->err;
	return it->status;
}

void lsm_iter_free(lsm_iter_t *it)
{
	if (it == NULL)
		return;
	lsm_merge_free(it->merge);
	lsm_view_drop(it->db, &it->view);
	buf_free(&it->key);
	buf_free(&it->end);
	free(it);
}

void lsm_get_stats(lsm_t *db, lsm_stats_t *out)
{
	*out = (lsm_stats_t){ 0 };
	pthread_mutex_lock(&db->mu);
	for (int l = 0; l < LSM_LEVELS; l++) {
		out->levels[l] = db->level_stats[l];
		const lsm_level_t *lv = &db->current->levels[l];
		out->levels[l].files = lsm_level_files(lv);
		out->levels[l].runs = lv->n;
		out->levels[l].bytes = lsm_level_bytes(lv);
	}
	out->last_seq = db->last_seq;
	out->memtable_bytes = memtable_bytes(db->mem);
	out->wal_bytes = db->wal_bytes;
	out->flushes = db->flushes;
	out->compactions = db->compactions;
	out->trivial_moves = db->trivial_moves;
	out->flushes_in_compaction = db->flushes_in_compaction;
	out->stall_ns = db->stall_ns;
	out->slowdowns = db->slowdowns;
	out->stops = db->stops;
	out->write_groups = db->write_groups;
	out->grouped_writes = db->grouped_writes;
	for (struct lsm_snapshot *s = db->snapshots.next; s != &db->snapshots; s = s->next)
		out->snapshots++;
	pthread_mutex_unlock(&db->mu);
	out->gets = tally_sum(&db->rc, LSM_RC_GETS);
	out->get_files = tally_sum(&db->rc, LSM_RC_FILES);
	out->get_filtered = tally_sum(&db->rc, LSM_RC_FILTERED);
	out->get_false_positive = tally_sum(&db->rc, LSM_RC_FALSE_POSITIVE);
	out->get_blocks_read = tally_sum(&db->rc, LSM_RC_BLOCKS_READ);
	cache_stats_t cs;
	cache_get_stats(db->cache, &cs);
	out->cache_hits = cs.hits;
	out->cache_misses = cs.misses;
	out->cache_bytes = cs.used_bytes;
}
