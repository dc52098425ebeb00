/*
 * lsm_check.c — the LSM store's invariant checker (lsm_check).
 *
 * Checked on the live version:
 *   1. Within a run, tables are in key order and do not overlap in user keys.
 *   2. Leveled: every level below 0 is at most one run.
 *   3. Sequence order: reading runs in search order (level 0 newest first, then
 *      level 1, ...) meets newer data first. Level-0 runs (and, tiered, all runs)
 *      hold disjoint sequence ranges in decreasing order; leveled, level 0 is
 *      newer than everything below it.
 *   4. Every table exists, has the size the manifest recorded, and reads back
 *      whole: keys strictly increasing, its properties (count, first and last
 *      key, sequence range) equal to what it holds and to the manifest's copy,
 *      and no sequence above the store's last.
 */
#include <inttypes.h>
#include <stdio.h>

#include "engine/trace.h"
#include "kv/lsm_int.h"

/* Reads a whole table, checking it against its own properties and the manifest's record. */
static int lsm_check_table(const lsm_file_t *f, uint64_t last_seq, sl_err_t *err)
{
	const char *path = sst_path(f->table);
	const sst_props_t *p = sst_props(f->table);
	if (!sl_slice_eq(buf_slice(&p->smallest), buf_slice(&f->smallest)) ||
	    !sl_slice_eq(buf_slice(&p->largest), buf_slice(&f->largest)) ||
	    p->min_seq != f->min_seq || p->max_seq != f->max_seq)
		return sl_errf(err, SL_CORRUPT, "%s: key or sequence range differs from the manifest", path);
	if (f->max_seq > last_seq)
		return sl_errf(err, SL_CORRUPT, "%s: sequence %" PRIu64 " is beyond the store's last, "
			       "%" PRIu64, path, f->max_seq, last_seq);
	sst_iter_t *it;
	if (sst_iter_new(f->table, &it) != SL_OK)
		return sl_errf(err, SL_NOMEM, "out of memory");
	buf_t prev = BUF_INIT;
	uint64_t n = 0;
	int rc = SL_OK;
	for (sst_iter_first(it); sst_iter_valid(it) && rc == SL_OK; sst_iter_next(it), n++) {
		sl_slice_t k = sst_iter_key(it);
		uint64_t seq = lsm_ikey_seq(k);
		if (n > 0 && lsm_ikey_cmp(buf_slice(&prev), k) >= 0)
			rc = sl_errf(err, SL_CORRUPT, "%s: entry %" PRIu64 " is out of order", path, n);
		else if (n == 0 && !sl_slice_eq(k, buf_slice(&p->smallest)))
			rc = sl_errf(err, SL_CORRUPT, "%s: first key differs from its properties", path);
		else if (seq < p->min_seq || seq > p->max_seq)
			rc = sl_errf(err, SL_CORRUPT, "%s: entry %" PRIu64 " has sequence %" PRIu64
				     " outside the table's range", path, n, seq);
		buf_set(&prev, k.data, k.len);
	}
	if (rc == SL_OK)
		rc = sst_iter_status(it, err);
	if (rc == SL_OK && n != p->entries)
		rc = sl_errf(err, SL_CORRUPT, "%s: holds %" PRIu64 " entries, its properties say %"
			     PRIu64, path, n, p->entries);
	if (rc == SL_OK && n > 0 && !sl_slice_eq(buf_slice(&prev), buf_slice(&p->largest)))
		rc = sl_errf(err, SL_CORRUPT, "%s: last key differs from its properties", path);
	sst_iter_free(it);
	buf_free(&prev);
	return rc;
}

static int lsm_check_run(const lsm_run_t *r, int level, uint64_t last_seq, sl_err_t *err)
{
	for (size_t i = 0; i < r->n; i++) {
		const lsm_file_t *f = r->files[i];
		if (i > 0 && sl_slice_cmp(lsm_ikey_user(buf_slice(&r->files[i - 1]->largest)),
					  lsm_ikey_user(buf_slice(&f->smallest))) >= 0)
			return sl_errf(err, SL_CORRUPT, "L%d: lsm-%06" PRIu64 ".sst overlaps lsm-%06"
				       PRIu64 ".sst in one run", level, r->files[i - 1]->number, f->number);
		int rc = lsm_check_table(f, last_seq, err);
		if (rc != SL_OK)
			return rc;
	}
	return SL_OK;
}

static void lsm_run_seqs(const lsm_run_t *r, uint64_t *lo, uint64_t *hi)
{
	*lo = UINT64_MAX;
	*hi = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (r->files[i]->min_seq < *lo)
			*lo = r->files[i]->min_seq;
		if (r->files[i]->max_seq > *hi)
			*hi = r->files[i]->max_seq;
	}
}

/* Invariant 3: runs met in search order carry older and older sequences. */
static int lsm_check_order(const lsm_t *db, const lsm_version_t *v, sl_err_t *err)
{
	uint64_t floor = UINT64_MAX; /* every later run must lie below this */
	for (int l = 0; l < LSM_LEVELS; l++) {
		bool strict = l == 0 || db->opts.policy == LSM_TIERED;
		for (size_t r = 0; r < v->levels[l].n; r++) {
			uint64_t lo, hi;
			lsm_run_seqs(&v->levels[l].runs[r], &lo, &hi);
			if (hi >= floor)
				return sl_errf(err, SL_CORRUPT, "L%d run %zu holds sequence %" PRIu64
					       ", not older than the runs searched before it", l, r, hi);
			if (strict)
				floor = lo;
		}
		if (!strict && v->levels[l].n)
			return SL_OK; /* leveled below L0: levels overlap in sequence ranges */
	}
	return SL_OK;
}

int lsm_check(lsm_t *db, sl_err_t *err)
{
	pthread_mutex_lock(&db->mu);
	lsm_version_t *v = db->current;
	lsm_version_ref(v);
	uint64_t last_seq = db->last_seq, next_file = db->next_file;
	int rc = lsm_check_order(db, v, err);
	pthread_mutex_unlock(&db->mu);
	for (int l = 0; l < LSM_LEVELS && rc == SL_OK; l++) {
		const lsm_level_t *lv = &v->levels[l];
		if (db->opts.policy == LSM_LEVELED && l > 0 && lv->n > 1)
			rc = sl_errf(err, SL_CORRUPT, "L%d holds %zu runs; leveled allows one", l, lv->n);
		for (size_t r = 0; r < lv->n && rc == SL_OK; r++) {
			if (r > 0 && lv->runs[r - 1].id <= lv->runs[r].id)
				rc = sl_errf(err, SL_CORRUPT, "L%d: runs are not newest first", l);
			for (size_t i = 0; i < lv->runs[r].n && rc == SL_OK; i++)
				if (lv->runs[r].files[i]->number >= next_file)
					rc = sl_errf(err, SL_CORRUPT, "L%d: table number %" PRIu64
						     " is not below the next file number %" PRIu64, l,
						     lv->runs[r].files[i]->number, next_file);
			if (rc == SL_OK)
				rc = lsm_check_run(&lv->runs[r], l, last_seq, err);
		}
	}
	pthread_mutex_lock(&db->mu);
	lsm_version_unref(db, v);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

int lsm_tables(lsm_t *db, lsm_table_fn fn, void *ctx)
{
	pthread_mutex_lock(&db->mu);
	lsm_version_t *v = db->current;
	lsm_version_ref(v); /* the walk holds the version, not the lock */
	pthread_mutex_unlock(&db->mu);
	int rc = SL_OK;
	for (int l = 0; l < LSM_LEVELS && rc == SL_OK; l++)
		for (size_t r = 0; r < v->levels[l].n && rc == SL_OK; r++)
			for (size_t i = 0; i < v->levels[l].runs[r].n && rc == SL_OK; i++) {
				const lsm_file_t *f = v->levels[l].runs[r].files[i];
				lsm_table_t t = { l, r, f->number, f->bytes, f->min_seq, f->max_seq,
						  lsm_ikey_user(buf_slice(&f->smallest)),
						  lsm_ikey_user(buf_slice(&f->largest)) };
				rc = fn(ctx, &t);
			}
	pthread_mutex_lock(&db->mu);
	lsm_version_unref(db, v);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

/* One file of a run: its number, size, and first and last user keys with their sequences. */
static void lsm_dump_file(const lsm_file_t *f, FILE *out)
{
	char lo[48], hi[48];
	sl_slice_t a = buf_slice(&f->smallest), b = buf_slice(&f->largest);
	fprintf(out, "    lsm-%06" PRIu64 ".sst  %7.1f KiB  keys [%s .. %s]  seq %" PRIu64 "..%"
		PRIu64 "\n", f->number, (double)f->bytes / 1024,
		trace_bytes(lo, sizeof lo, a.data, lsm_ikey_user(a).len, 20),
		trace_bytes(hi, sizeof hi, b.data, lsm_ikey_user(b).len, 20), f->min_seq, f->max_seq);
}

void lsm_dump(lsm_t *db, FILE *out)
{
	pthread_mutex_lock(&db->mu);
	fprintf(out, "lsm: last sequence %" PRIu64 "; memtable %" PRIu64 " entries (%.1f KiB)",
		db->last_seq, memtable_count(db->mem), (double)memtable_bytes(db->mem) / 1024);
	if (db->imm != NULL)
		fprintf(out, "; frozen memtable %" PRIu64 " entries, being flushed",
			memtable_count(db->imm));
	fputc('\n', out);
	for (int l = 0; l < LSM_LEVELS; l++) {
		const lsm_level_t *lv = &db->current->levels[l];
		if (lv->n == 0)
			continue;
		fprintf(out, "L%d: %zu run%s, %" PRIu64 " files\n", l, lv->n, lv->n == 1 ? "" : "s",
			lsm_level_files(lv));
		for (size_t r = 0; r < lv->n; r++) {
			fprintf(out, "  run %" PRIu64 " (newest sequence in it), %zu file%s\n",
				lv->runs[r].id, lv->runs[r].n, lv->runs[r].n == 1 ? "" : "s");
			for (size_t i = 0; i < lv->runs[r].n; i++)
				lsm_dump_file(lv->runs[r].files[i], out);
		}
	}
	pthread_mutex_unlock(&db->mu);
}
