/* lsm_compact.c — flushes and compactions, and the background thread that runs them. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/lsm_int.h"

/* One compaction: its inputs, where the output goes, and what may be dropped. */
typedef struct lsm_compaction {
	int level;               /* the level compacted */
	int out_level;           /* where its output goes */
	uint64_t out_run;        /* the run id of the output */
	lsm_file_t **inputs;     /* the tables merged (pointers into the version) */
	int *input_levels;       /* the level of each */
	size_t ninputs;
	lsm_run_t *runs;         /* the inputs as sorted runs, for the merging iterator */
	size_t nruns;
	bool bottom;             /* no older data for these keys below: tombstones can go */
	bool move;               /* one table, nothing to merge with: move it down */
} lsm_compaction_t;

static sst_opts_t lsm_sst_opts(const lsm_t *db)
{
	return (sst_opts_t){ .block_bytes = db->opts.block_bytes,
			     .bloom_bits = db->opts.no_bloom ? 0 : db->opts.bloom_bits,
			     .compress = !db->opts.no_compress,
			     .compress_min_pct = db->opts.compress_min_pct };
}

void lsm_bg_fail(lsm_t *db, int rc, const sl_err_t *err)
{
	if (db->bg_rc != SL_OK)
		return;
	db->bg_rc = rc;
	sl_errf(&db->bg_err, rc, "lsm: background work stopped (writes refused until the "
		"store is reopened): %s", err->msg);
	pthread_cond_broadcast(&db->bg_cv);
}

/*
 * The tables a flush or a compaction writes: the one being built and those
 * finished (each an lsm_file_t with its table open, one reference held here).
 */
typedef struct lsm_out {
	lsm_t *db;
	sst_builder_t *b;
	uint64_t number;
	lsm_file_t **files;      /* finished outputs */
	size_t n, cap;
	uint64_t bytes;          /* written */
} lsm_out_t;

/* Starts output table `number`. */
static int lsm_out_start(lsm_out_t *o, uint64_t number, sl_err_t *err)
{
	char path[4200];
	o->number = number;
	lsm_file_path(o->db, number, "sst", path, sizeof path);
	sst_opts_t so = lsm_sst_opts(o->db);
	return sst_builder_open(o->db->env, path, &so, &o->b, err);
}

/* Starts the next output table of a compaction, under a fresh file number. */
static int lsm_out_open(lsm_out_t *o, sl_err_t *err)
{
	pthread_mutex_lock(&o->db->mu);
	uint64_t number = o->db->next_file++;
	pthread_mutex_unlock(&o->db->mu);
	return lsm_out_start(o, number, err);
}

/* Appends f to the finished outputs. */
static bool lsm_out_keep(lsm_out_t *o, lsm_file_t *f)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 4;
		lsm_file_t **files = realloc(o->files, cap * sizeof *files);
		if (files == NULL)
			return false;
		o->files = files;
		o->cap = cap;
	}
	o->files[o->n++] = f;
	return true;
}

/* Finishes the open table and opens it for reading as a new lsm_file_t. */
static int lsm_out_close(lsm_out_t *o, sl_err_t *err)
{
	uint64_t bytes;
	sst_props_t props;
	int rc = sst_builder_finish(o->b, &bytes, &props, err);
	o->b = NULL;
	if (rc != SL_OK)
		return rc;
	lsm_file_t *f = lsm_file_new(o->number);
	if (f == NULL || !lsm_out_keep(o, f)) {
		sst_props_free(&props);
		free(f);
		return sl_errf(err, SL_NOMEM, "lsm: out of memory");
	}
	f->bytes = bytes;
	f->smallest = props.smallest;
	f->largest = props.largest;
	f->min_seq = props.min_seq;
	f->max_seq = props.max_seq;
	o->bytes += bytes;
	char path[4200];
	lsm_file_path(o->db, o->number, "sst", path, sizeof path);
	return sst_open(o->db->env, path, o->number, o->db->cache, &f->table, err);
}

/*
 * Gives up on the outputs: the table being built is removed, finished ones are
 * left on disk. They are not installed, but a manifest edit naming them may
 * have reached the disk even when its fsync failed, so deleting them could
 * break the store; the next open deletes every table no edit names.
 */
static void lsm_out_abandon(lsm_out_t *o)
{
	sst_builder_abandon(o->b);
	for (size_t i = 0; i < o->n; i++)
		lsm_file_unref(o->db, o->files[i]);
	free(o->files);
}

int lsm_write_l0(lsm_t *db, memtable_t *mem, uint64_t number, lsm_edit_t *edit,
		 uint64_t *bytes, sl_err_t *err)
{
	lsm_out_t o = { .db = db };
	int rc = lsm_out_start(&o, number, err);
	memtable_iter_t it;
	memtable_iter_init(&it, mem);
	for (memtable_iter_first(&it); rc == SL_OK && memtable_iter_valid(&it); memtable_iter_next(&it))
		rc = sst_builder_add(o.b, memtable_iter_key(&it), memtable_iter_value(&it), err);
	if (rc == SL_OK)
		rc = lsm_out_close(&o, err);
	if (rc == SL_OK)
		rc = lsm_edit_add(edit, 0, o.files[0]->max_seq, o.files[0]);
	if (rc != SL_OK) {
		lsm_out_abandon(&o);
		return rc;
	}
	*bytes = o.bytes;
	lsm_file_unref(db, o.files[0]); /* the edit holds it */
	free(o.files);
	return SL_OK;
}

/* Does the edit both remove and add table `number` (a move between levels)? */
static bool lsm_edit_moves(const lsm_edit_t *e, uint64_t number)
{
	bool added = false, deleted = false;
	for (size_t j = 0; j < e->nadds; j++)
		added = added || e->adds[j].file->number == number;
	for (size_t j = 0; j < e->ndels; j++)
		deleted = deleted || e->dels[j].number == number;
	return added && deleted;
}

/*
 * Applies edit to the current version, makes it durable in the manifest and
 * installs the result. Tables the edit removes are marked obsolete, so their
 * files go when the last reader lets go of them. REQUIRES mu (released while
 * the manifest is written: only the background actor changes versions).
 */
static int lsm_install(lsm_t *db, lsm_edit_t *edit, sl_err_t *err)
{
	edit->has_next = true;
	edit->next_file = db->next_file;
	edit->has_seq = true;
	edit->last_seq = db->last_seq;
	lsm_version_t *v = lsm_version_apply(db->current, edit);
	if (v == NULL)
		return sl_errf(err, SL_NOMEM, "lsm: out of memory for a version");
	bool fresh = false; /* does the edit name new files? */
	for (size_t i = 0; i < edit->nadds; i++)
		fresh = fresh || !lsm_edit_moves(edit, edit->adds[i].file->number);
	pthread_mutex_unlock(&db->mu);
	/* The new tables' names must be durable before an edit that needs them is. */
	int rc = fresh ? env_sync_dir(db->env, db->dir, err) : SL_OK;
	if (rc == SL_OK)
		rc = lsm_manifest_append(db, edit, err);
	pthread_mutex_lock(&db->mu);
	if (rc != SL_OK) {
		lsm_version_unref(db, v);
		return rc;
	}
	for (size_t i = 0; i < edit->ndels; i++) {
		bool moved = lsm_edit_moves(edit, edit->dels[i].number);
		const lsm_level_t *lv = &db->current->levels[edit->dels[i].level];
		for (size_t r = 0; r < lv->n && !moved; r++)
			for (size_t k = 0; k < lv->runs[r].n; k++)
				if (lv->runs[r].files[k]->number == edit->dels[i].number)
					lv->runs[r].files[k]->obsolete = true;
	}
	lsm_version_unref(db, db->current);
	db->current = v;
	if (edit->has_log && edit->log_number > db->log_number)
		db->log_number = edit->log_number;
	pthread_cond_broadcast(&db->bg_cv);
	return SL_OK;
}

/* Flushes the immutable memtable to a level-0 table. REQUIRES mu and db->imm. */
static int lsm_flush_imm(lsm_t *db, sl_err_t *err)
{
	memtable_t *imm = db->imm;
	uint64_t old_log = db->log_number, new_log = db->wal_number, bytes = 0;
	lsm_edit_t edit = { .has_log = true, .log_number = new_log };
	uint64_t number = db->next_file++;
	pthread_mutex_unlock(&db->mu);
	int rc = lsm_write_l0(db, imm, number, &edit, &bytes, err);
	pthread_mutex_lock(&db->mu);
	if (rc == SL_OK)
		rc = lsm_install(db, &edit, err);
	if (rc != SL_OK) {
		lsm_edit_free(&edit); /* the table stays on disk: see lsm_out_abandon */
		return rc;
	}
	lsm_edit_free(&edit);
	if (trace_on(db->trace))
		trace_emit(db->trace, "flush: %" PRIu64 " entries -> L0 lsm-%06" PRIu64 ".sst "
			   "(%" PRIu64 " bytes)", memtable_count(imm), number, bytes);
	db->imm = NULL;
	atomic_store(&db->imm_waiting, false);
	memtable_unref(imm);
	db->flushes++;
	db->level_stats[0].written_bytes += bytes;
	/* The flushed memtable's log is no longer needed by anyone. */
	char path[4200];
	for (uint64_t n = old_log; n < new_log; n++) {
		lsm_file_path(db, n, "log", path, sizeof path);
		if (env_exists(path))
			env_unlink(db->env, path, NULL);
	}
	return SL_OK;
}

/* ================================================================ picking */

/* The size level l may reach before it is compacted (leveled). */
static uint64_t lsm_level_max_bytes(const lsm_t *db, int l)
{
	uint64_t max = db->opts.level1_bytes;
	for (int i = 1; i < l; i++)
		max *= db->opts.ratio;
	return max;
}

/* How urgently level l wants compacting: >= 1 means now. */
static double lsm_level_score(const lsm_t *db, const lsm_version_t *v, int l)
{
	const lsm_level_t *lv = &v->levels[l];
	if (db->opts.policy == LSM_TIERED)
		return (double)lv->n / db->opts.tier_runs;
	if (l == LSM_LEVELS - 1)
		return 0; /* the last level has nowhere to go */
	if (l == 0)
		return (double)lv->n / db->opts.l0_trigger;
	return (double)lsm_level_bytes(lv) / (double)lsm_level_max_bytes(db, l);
}

/* The level most in need of compaction, or -1. */
static int lsm_pick_level(const lsm_t *db, const lsm_version_t *v)
{
	int best = -1;
	double best_score = 1.0;
	for (int l = 0; l < LSM_LEVELS; l++) {
		double s = lsm_level_score(db, v, l);
		if (s >= best_score) {
			best = l;
			best_score = s;
		}
	}
	return best;
}

bool lsm_needs_compaction(const lsm_t *db, const lsm_version_t *v)
{
	return lsm_pick_level(db, v) >= 0;
}

static bool lsm_overlaps(const lsm_file_t *f, sl_slice_t lo, sl_slice_t hi)
{
	return sl_slice_cmp(lsm_ikey_user(buf_slice(&f->largest)), lo) >= 0 &&
	       sl_slice_cmp(lsm_ikey_user(buf_slice(&f->smallest)), hi) <= 0;
}

static bool lsm_compaction_take(lsm_compaction_t *c, lsm_file_t *f, int level)
{
	lsm_file_t **in = realloc(c->inputs, (c->ninputs + 1) * sizeof *in);
	int *lv = realloc(c->input_levels, (c->ninputs + 1) * sizeof *lv);
	if (in)
		c->inputs = in;
	if (lv)
		c->input_levels = lv;
	if (in == NULL || lv == NULL)
		return false;
	c->inputs[c->ninputs] = f;
	c->input_levels[c->ninputs++] = level;
	return true;
}

/* The user-key range [lo, hi] the inputs span. */
static void lsm_compaction_range(const lsm_compaction_t *c, sl_slice_t *lo, sl_slice_t *hi)
{
	for (size_t i = 0; i < c->ninputs; i++) {
		sl_slice_t s = lsm_ikey_user(buf_slice(&c->inputs[i]->smallest));
		sl_slice_t l = lsm_ikey_user(buf_slice(&c->inputs[i]->largest));
		if (i == 0 || sl_slice_cmp(s, *lo) < 0)
			*lo = s;
		if (i == 0 || sl_slice_cmp(l, *hi) > 0)
			*hi = l;
	}
}

/* Takes every table of level l overlapping [lo, hi]. */
static bool lsm_take_overlapping(lsm_compaction_t *c, const lsm_version_t *v, int l, sl_slice_t lo,
				 sl_slice_t hi)
{
	const lsm_level_t *lv = &v->levels[l];
	for (size_t r = 0; r < lv->n; r++)
		for (size_t i = 0; i < lv->runs[r].n; i++)
			if (lsm_overlaps(lv->runs[r].files[i], lo, hi) &&
			    !lsm_compaction_take(c, lv->runs[r].files[i], l))
				return false;
	return true;
}

static bool lsm_take_level(lsm_compaction_t *c, const lsm_version_t *v, int l)
{
	const lsm_level_t *lv = &v->levels[l];
	for (size_t r = 0; r < lv->n; r++)
		for (size_t i = 0; i < lv->runs[r].n; i++)
			if (!lsm_compaction_take(c, lv->runs[r].files[i], l))
				return false;
	return true;
}

/* Bytes of the tables of level l that overlap f's key range. */
static uint64_t lsm_overlap_bytes(const lsm_version_t *v, int l, const lsm_file_t *f)
{
	sl_slice_t lo = lsm_ikey_user(buf_slice(&f->smallest)), hi = lsm_ikey_user(buf_slice(&f->largest));
	uint64_t n = 0;
	for (size_t r = 0; r < v->levels[l].n; r++)
		for (size_t i = 0; i < v->levels[l].runs[r].n; i++)
			if (lsm_overlaps(v->levels[l].runs[r].files[i], lo, hi))
				n += v->levels[l].runs[r].files[i]->bytes;
	return n;
}

/*
 * Leveled, level >= 1: the table whose push down costs least — the smallest
 * ratio of bytes it overlaps in the next level to its own bytes (RocksDB's
 * "min overlapping ratio"). Pushing a table down rewrites what it overlaps, so
 * this keeps write amplification down; ties go to the table after the level's
 * compact pointer, so the key space is still swept round-robin.
 */
static lsm_file_t *lsm_next_victim(lsm_t *db, const lsm_version_t *v, int l)
{
	const lsm_run_t *run = &v->levels[l].runs[0];
	size_t start = 0;
	while (start < run->n && db->compact_pointer[l].len != 0 &&
	       lsm_ikey_cmp(buf_slice(&run->files[start]->largest), buf_slice(&db->compact_pointer[l])) <= 0)
		start++;
	lsm_file_t *best = NULL;
	double best_ratio = 0;
	for (size_t k = 0; k < run->n; k++) {
		lsm_file_t *f = run->files[(start + k) % run->n];
		double ratio = (double)lsm_overlap_bytes(v, l + 1, f) / (double)(f->bytes + 1);
		if (best == NULL || ratio < best_ratio) {
			best = f;
			best_ratio = ratio;
		}
	}
	return best;
}

static uint64_t lsm_inputs_max_seq(const lsm_compaction_t *c)
{
	uint64_t m = 0;
	for (size_t i = 0; i < c->ninputs; i++)
		if (c->inputs[i]->max_seq > m)
			m = c->inputs[i]->max_seq;
	return m;
}

/* No table below out_level overlaps [lo, hi]: nothing older can hide under a tombstone. */
static bool lsm_is_bottom(const lsm_compaction_t *c, const lsm_version_t *v, sl_slice_t lo,
			  sl_slice_t hi)
{
	for (int l = c->out_level + 1; l < LSM_LEVELS; l++) {
		const lsm_level_t *lv = &v->levels[l];
		for (size_t r = 0; r < lv->n; r++)
			for (size_t i = 0; i < lv->runs[r].n; i++)
				if (lsm_overlaps(lv->runs[r].files[i], lo, hi))
					return false;
	}
	/* Tiered: older runs of the output level that are not inputs hold older data too. */
	const lsm_level_t *out = &v->levels[c->out_level];
	for (size_t r = 0; r < out->n; r++)
		for (size_t i = 0; i < out->runs[r].n; i++) {
			bool input = false;
			for (size_t k = 0; k < c->ninputs && !input; k++)
				input = c->inputs[k] == out->runs[r].files[i];
			if (!input && lsm_overlaps(out->runs[r].files[i], lo, hi))
				return false;
		}
	return true;
}

static void lsm_compaction_free(lsm_compaction_t *c)
{
	for (size_t r = 0; r < c->nruns; r++)
		free(c->runs[r].files);
	free(c->runs);
	free(c->inputs);
	free(c->input_levels);
	memset(c, 0, sizeof *c);
}

/* Groups the inputs by the run they sit in (for the merging iterator). */
static bool lsm_compaction_runs(lsm_compaction_t *c, const lsm_version_t *v)
{
	for (int l = 0; l < LSM_LEVELS; l++)
		for (size_t r = 0; r < v->levels[l].n; r++) {
			const lsm_run_t *run = &v->levels[l].runs[r];
			lsm_run_t part = { .id = run->id };
			for (size_t i = 0; i < run->n; i++)
				for (size_t k = 0; k < c->ninputs; k++)
					if (c->inputs[k] == run->files[i]) {
						lsm_file_t **f = realloc(part.files, (part.n + 1) * sizeof *f);
						if (f == NULL) {
							free(part.files);
							return false;
						}
						part.files = f;
						part.files[part.n++] = run->files[i];
					}
			if (part.n == 0)
				continue;
			lsm_run_t *runs = realloc(c->runs, (c->nruns + 1) * sizeof *runs);
			if (runs == NULL) {
				free(part.files);
				return false;
			}
			c->runs = runs;
			c->runs[c->nruns++] = part;
		}
	return true;
}

/* Chooses the next compaction of v; false when none is due (or out of memory). */
static bool lsm_pick(lsm_t *db, const lsm_version_t *v, lsm_compaction_t *c)
{
	memset(c, 0, sizeof *c);
	int l = lsm_pick_level(db, v);
	if (l < 0)
		return false;
	c->level = l;
	c->out_level = l + 1 < LSM_LEVELS ? l + 1 : l;
	bool ok;
	sl_slice_t lo = { 0 }, hi = { 0 };
	if (db->opts.policy == LSM_TIERED) {
		ok = lsm_take_level(c, v, l); /* every run of the level, merged into one */
		c->out_run = lsm_inputs_max_seq(c);
	} else {
		if (l == 0) {
			ok = lsm_take_level(c, v, 0);
		} else {
			lsm_file_t *f = lsm_next_victim(db, v, l);
			ok = lsm_compaction_take(c, f, l);
			buf_set(&db->compact_pointer[l], f->largest.data, f->largest.len);
		}
		lsm_compaction_range(c, &lo, &hi);
		size_t before = c->ninputs;
		ok = ok && lsm_take_overlapping(c, v, c->out_level, lo, hi);
		const lsm_level_t *out = &v->levels[c->out_level];
		c->out_run = out->n ? out->runs[0].id : lsm_inputs_max_seq(c);
		/* One table and nothing below it to merge with: just relink it a level down. */
		c->move = ok && before == 1 && c->ninputs == 1;
	}
	lsm_compaction_range(c, &lo, &hi);
	c->bottom = lsm_is_bottom(c, v, lo, hi);
	if (!ok || !lsm_compaction_runs(c, v)) {
		lsm_compaction_free(c);
		return false;
	}
	return true;
}

/* ================================================================ running */

/* Should the entry ik be dropped from the output? Updates the per-key state. */
typedef struct lsm_dropper {
	buf_t user;          /* the user key of the previous entry */
	bool any;
	uint64_t newer_seq;  /* sequence of the previous (newer) entry of this key; MAX if none */
	uint64_t horizon;    /* the oldest sequence a reader may still read at */
	bool bottom;
} lsm_dropper_t;

static bool lsm_drop(lsm_dropper_t *d, sl_slice_t ik, bool *new_key)
{
	sl_slice_t user = lsm_ikey_user(ik);
	uint64_t seq = lsm_ikey_seq(ik);
	*new_key = !d->any || !sl_slice_eq(user, buf_slice(&d->user));
	if (*new_key) {
		buf_set(&d->user, user.data, user.len);
		d->any = true;
		d->newer_seq = UINT64_MAX;
	}
	bool drop;
	if (d->newer_seq <= d->horizon)
		drop = true; /* a newer version is visible to every reader: this one never is */
	else
		drop = d->bottom && lsm_ikey_type(ik) == LSM_TYPE_DEL && seq <= d->horizon;
		/* a tombstone every reader sees, with nothing older below it to hide */
	d->newer_seq = seq;
	return drop;
}

/*
 * A memtable frozen while a compaction runs would wait for the whole merge —
 * seconds, for a big one — and the writers behind it with it. So the merge
 * looks every few thousand entries, and flushes a waiting memtable in the
 * middle (as LevelDB does). The flush only adds a level-0 table that is not one
 * of the compaction's inputs, so the compaction's own edit still applies.
 * Called without mu.
 */
static int lsm_flush_between(lsm_t *db, sl_err_t *err)
{
	int rc = SL_OK;
	pthread_mutex_lock(&db->mu);
	if (db->imm != NULL) {
		rc = lsm_flush_imm(db, err);
		db->flushes_in_compaction += rc == SL_OK;
	}
	pthread_mutex_unlock(&db->mu);
	return rc;
}

/* Merges the inputs into new tables of at most file_bytes each. Runs without mu. */
static int lsm_merge_inputs(lsm_t *db, const lsm_compaction_t *c, uint64_t horizon, lsm_out_t *o,
			    uint64_t *dropped, sl_err_t *err)
{
	lsm_merge_t *m;
	int rc = lsm_merge_new(&m);
	if (rc == SL_OK)
		lsm_merge_readahead(m, LSM_COMPACTION_READAHEAD);
	for (size_t r = 0; r < c->nruns && rc == SL_OK; r++)
		rc = lsm_merge_add_run(m, &c->runs[r]);
	if (rc != SL_OK) {
		lsm_merge_free(m);
		return sl_errf(err, rc, "lsm: out of memory for a compaction");
	}
	lsm_dropper_t d = { .horizon = horizon, .bottom = c->bottom };
	uint64_t n = 0;
	for (lsm_merge_first(m); rc == SL_OK && lsm_merge_valid(m); lsm_merge_next(m)) {
		sl_slice_t ik = lsm_merge_key(m);
		bool new_key;
		if (lsm_drop(&d, ik, &new_key)) {
			(*dropped)++;
			continue;
		}
		/* Cut between user keys only: a key's versions stay in one table. */
		if (o->b && new_key && sst_builder_bytes(o->b) >= db->opts.file_bytes)
			rc = lsm_out_close(o, err);
		if (rc == SL_OK && o->b == NULL)
			rc = lsm_out_open(o, err);
		if (rc == SL_OK)
			rc = sst_builder_add(o->b, ik, lsm_merge_value(m), err);
		if (++n % 4096 != 0)
			continue;
		if (db->closing)
			rc = sl_errf(err, SL_BUSY, "lsm: compaction abandoned: the store is closing");
		else if (atomic_load(&db->imm_waiting))
			rc = lsm_flush_between(db, err);
	}
	if (rc == SL_OK)
		rc = lsm_merge_status(m, err);
	if (rc == SL_OK && o->b)
		rc = lsm_out_close(o, err);
	lsm_merge_free(m);
	buf_free(&d.user);
	return rc;
}

static void lsm_trace_compaction(lsm_t *db, const lsm_compaction_t *c, const lsm_out_t *o,
				 uint64_t dropped)
{
	char line[900];
	size_t at = (size_t)snprintf(line, sizeof line, "compact L%d -> L%d%s: in", c->level,
				     c->out_level, c->bottom ? " (bottom: tombstones dropped)" : "");
	for (size_t i = 0; i < c->ninputs && at < sizeof line - 40; i++)
		at += (size_t)snprintf(line + at, sizeof line - at, " L%d:%06" PRIu64, c->input_levels[i],
				       c->inputs[i]->number);
	at += (size_t)snprintf(line + at, sizeof line - at, "; out");
	for (size_t i = 0; i < o->n && at < sizeof line - 40; i++)
		at += (size_t)snprintf(line + at, sizeof line - at, " %06" PRIu64, o->files[i]->number);
	snprintf(line + at, sizeof line - at, "; %" PRIu64 " entries dropped", dropped);
	trace_emit_at(db->trace, "lsm_compact", "%s", line);
}

/* Runs compaction c on the current version. REQUIRES mu (released while merging). */
static int lsm_compact(lsm_t *db, lsm_compaction_t *c, sl_err_t *err)
{
	lsm_edit_t edit = { 0 };
	uint64_t in_bytes = 0, dropped = 0;
	int rc = SL_OK;
	for (size_t i = 0; i < c->ninputs && rc == SL_OK; i++) {
		rc = lsm_edit_del(&edit, c->input_levels[i], c->inputs[i]->number);
		in_bytes += c->inputs[i]->bytes;
	}
	lsm_out_t o = { .db = db };
	if (rc == SL_OK && c->move) {
		rc = lsm_edit_add(&edit, c->out_level, c->out_run, c->inputs[0]);
		if (rc == SL_OK && trace_on(db->trace))
			trace_emit(db->trace, "move lsm-%06" PRIu64 ".sst L%d -> L%d: nothing below "
				   "overlaps it, so it is relinked, not rewritten", c->inputs[0]->number,
				   c->level, c->out_level);
	} else if (rc == SL_OK) {
		uint64_t horizon = lsm_smallest_snapshot(db);
		lsm_version_t *v = db->current;
		lsm_version_ref(v); /* the inputs stay alive while we read them */
		pthread_mutex_unlock(&db->mu);
		rc = lsm_merge_inputs(db, c, horizon, &o, &dropped, err);
		pthread_mutex_lock(&db->mu);
		lsm_version_unref(db, v);
		for (size_t i = 0; i < o.n && rc == SL_OK; i++)
			rc = lsm_edit_add(&edit, c->out_level, c->out_run, o.files[i]);
	}
	if (rc == SL_OK && trace_on(db->trace) && !c->move)
		lsm_trace_compaction(db, c, &o, dropped); /* while the inputs are still live */
	if (rc == SL_OK)
		rc = lsm_install(db, &edit, err);
	if (rc == SL_OK) {
		lsm_level_stats_t *ls = &db->level_stats[c->out_level];
		ls->compactions++;
		if (c->move) {
			db->trivial_moves++;
		} else {
			ls->read_bytes += in_bytes;
			ls->written_bytes += o.bytes;
			db->compactions++;
		}
		for (size_t i = 0; i < o.n; i++)
			lsm_file_unref(db, o.files[i]); /* the version holds them */
		free(o.files);
	} else {
		lsm_out_abandon(&o);
	}
	lsm_edit_free(&edit);
	return rc;
}

/* ================================================================ the background */

bool lsm_bg_step(lsm_t *db)
{
	if (db->bg_rc != SL_OK || db->closing)
		return false;
	sl_err_t err = { 0 };
	int rc;
	db->bg_busy = true;
	if (db->imm != NULL) {
		rc = lsm_flush_imm(db, &err);
	} else {
		lsm_compaction_t c;
		if (!lsm_pick(db, db->current, &c)) {
			db->bg_busy = false;
			return false;
		}
		rc = lsm_compact(db, &c, &err);
		lsm_compaction_free(&c);
	}
	db->bg_busy = false;
	if (rc == SL_BUSY && db->closing)
		rc = SL_OK; /* abandoned for close: the inputs are still live, nothing lost */
	if (rc != SL_OK)
		lsm_bg_fail(db, rc, &err);
	pthread_cond_broadcast(&db->bg_cv);
	return rc == SL_OK;
}

void lsm_bg_schedule(lsm_t *db)
{
	if (db->opts.deterministic)
		while (lsm_bg_step(db))
			;
	else
		pthread_cond_broadcast(&db->bg_cv);
}

void *lsm_bg_main(void *arg)
{
	lsm_t *db = arg;
	pthread_mutex_lock(&db->mu);
	while (!db->closing) {
		if (!lsm_bg_step(db) && !db->closing)
			pthread_cond_wait(&db->bg_cv, &db->mu);
	}
	pthread_mutex_unlock(&db->mu);
	return NULL;
}
