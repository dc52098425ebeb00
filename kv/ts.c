/*
 * ts.c — the time-series store: open and recovery, writes through the log,
 * cutting the head into segments, merging them, retention, close.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/checksum.h"
#include "engine/codec.h"
#include "engine/vec.h"
#include "kv/ts_down.h"
#include "kv/ts_int.h"

#define TS_META_VERSION 1
#define TS_META_BYTES 28
#define TS_HEAD_FILE "head.tsseg"
#define TS_MAX_LEVELS 3          /* merged ranges reach block * ratio^3 */

#define TS_TRACE(db, ...)                                                                          \
	do {                                                                                       \
		if (trace_on(&(db)->trace))                                                        \
			trace_emit(&(db)->trace, __VA_ARGS__);                                     \
	} while (0)

ts_unit_t ts_unit(const ts_t *db) { return db->unit; }
int64_t ts_block(const ts_t *db) { return db->block; }

/* Milliseconds in the store's unit (saturating). */
static int64_t ts_from_ms(int64_t ms, ts_unit_t unit)
{
	static const int64_t mul[] = { 0, 1, 1000, 1000000 };
	if (unit == TS_UNIT_S)
		return ms / 1000 > 0 ? ms / 1000 : 1;
	return ms > INT64_MAX / mul[unit] ? INT64_MAX : ms * mul[unit];
}

static void ts_path(const ts_t *db, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", db->dir, name);
}

void ts_seg_name(const ts_t *db, uint64_t seq, char *out, size_t n)
{
	snprintf(out, n, "%s/seg-%08" PRIu64 ".tsseg", db->dir, seq);
}

static void ts_wal_name(const ts_t *db, uint32_t num, char *out, size_t n)
{
	snprintf(out, n, "%s/wal-%08u.log", db->dir, num);
}

/* ---------------------------------------------------------------- META */

static int ts_meta_write(ts_t *db, sl_err_t *err)
{
	uint8_t m[TS_META_BYTES] = { 0 };
	memcpy(m, TS_META_MAGIC, 8);
	codec_put_u32(m + 8, TS_META_VERSION);
	m[12] = (uint8_t)db->unit;
	codec_put_u64(m + 16, (uint64_t)db->block);
	codec_put_u32(m + 24, checksum_xxh3_32(m, 24, 0));
	char path[4096];
	ts_path(db, "META", path, sizeof path);
	return env_write_atomic(db->env, path, m, sizeof m, err);
}

static int ts_meta_read(ts_t *db, sl_err_t *err)
{
	char path[4096];
	ts_path(db, "META", path, sizeof path);
	env_file_t *f;
	uint8_t m[TS_META_BYTES];
	int rc = env_open(db->env, path, ENV_READ, &f, err);
	if (rc != SL_OK)
		return rc;
	rc = env_pread(f, m, sizeof m, 0, NULL, err);
	env_close(f, NULL);
	if (rc != SL_OK)
		return rc;
	if (memcmp(m, TS_META_MAGIC, 8) != 0 || codec_get_u32(m + 24) != checksum_xxh3_32(m, 24, 0))
		return sl_errf(err, SL_CORRUPT, "%s: not a time-series store's META (bad magic or checksum)",
			       path);
	if (codec_get_u32(m + 8) != TS_META_VERSION || m[12] > TS_UNIT_NS ||
	    (int64_t)codec_get_u64(m + 16) <= 0)
		return sl_errf(err, SL_CORRUPT, "%s: unknown version %u, unit %u or block", path,
			       codec_get_u32(m + 8), m[12]);
	db->unit = (ts_unit_t)m[12];
	db->block = (int64_t)codec_get_u64(m + 16);
	return SL_OK;
}

/* ---------------------------------------------------------------- segments */

static int ts_segs_insert(ts_t *db, ts_seg_t *s, sl_err_t *err)
{
	if (db->nsegs == db->capsegs) {
		size_t cap = db->capsegs ? 2 * db->capsegs : 16;
		ts_seg_t **segs = realloc(db->segs, cap * sizeof *segs);
		if (segs == NULL)
			return sl_errf(err, SL_NOMEM, "ts: out of memory");
		db->segs = segs;
		db->capsegs = cap;
	}
	size_t at = db->nsegs;
	while (at > 0 && ts_seg_meta(db->segs[at - 1])->mint > ts_seg_meta(s)->mint)
		at--;
	memmove(db->segs + at + 1, db->segs + at, (db->nsegs - at) * sizeof *db->segs);
	db->segs[at] = s;
	db->nsegs++;
	return SL_OK;
}

/* Closes segs[i, j) and deletes their files; the caller syncs the directory. */
static int ts_segs_drop(ts_t *db, size_t i, size_t j, sl_err_t *err)
{
	int rc = SL_OK;
	for (size_t k = i; k < j; k++) {
		char path[4096];
		snprintf(path, sizeof path, "%s", ts_seg_path(db->segs[k]));
		ts_seg_close(db->segs[k]);
		if (!db->opts.read_only && rc == SL_OK)
			rc = env_unlink(db->env, path, err);
	}
	memmove(db->segs + i, db->segs + j, (db->nsegs - j) * sizeof *db->segs);
	db->nsegs -= j - i;
	return rc;
}

/* Whether seq is a parent of a segment present: a merge finished, its clean-up did not. */
static bool ts_is_parent(const ts_t *db, uint64_t seq)
{
	for (size_t i = 0; i < db->nsegs; i++) {
		const ts_seg_meta_t *m = ts_seg_meta(db->segs[i]);
		for (uint32_t k = 0; k < m->nparents; k++)
			if (m->parents[k] == seq)
				return true;
	}
	return false;
}

static int ts_segs_load(ts_t *db, char **names, size_t count, sl_err_t *err)
{
	int rc = SL_OK;
	for (size_t i = 0; rc == SL_OK && i < count; i++) {
		if (strncmp(names[i], "seg-", 4) != 0 || strstr(names[i], ".tsseg") == NULL ||
		    strstr(names[i], ".tmp") != NULL)
			continue;
		char path[4096];
		ts_seg_t *s;
		ts_path(db, names[i], path, sizeof path);
		rc = ts_seg_open(db->env, path, &s, err);
		if (rc == SL_OK && ts_seg_meta(s)->unit != db->unit) {
			rc = sl_errf(err, SL_CORRUPT, "%s: unit %s, the store's is %s", path,
				     ts_unit_name((ts_unit_t)ts_seg_meta(s)->unit), ts_unit_name(db->unit));
			ts_seg_close(s);
		} else if (rc == SL_OK && (rc = ts_segs_insert(db, s, err)) != SL_OK) {
			ts_seg_close(s);
		}
	}
	/* Parents a finished merge left behind, then the order. */
	for (size_t i = 0; rc == SL_OK && i < db->nsegs;) {
		const ts_seg_meta_t *m = ts_seg_meta(db->segs[i]);
		db->next_seq = m->seq >= db->next_seq ? m->seq + 1 : db->next_seq;
		for (uint32_t k = 0; k < m->nparents; k++)
			db->next_seq = m->parents[k] >= db->next_seq ? m->parents[k] + 1 : db->next_seq;
		if (ts_is_parent(db, m->seq)) {
			TS_TRACE(db, "open: %s was merged into a later segment; deleting it",
				 ts_seg_path(db->segs[i]));
			rc = ts_segs_drop(db, i, i + 1, err);
		} else {
			i++;
		}
	}
	for (size_t i = 1; rc == SL_OK && i < db->nsegs; i++)
		if (ts_seg_meta(db->segs[i])->mint < ts_seg_meta(db->segs[i - 1])->maxt)
			rc = sl_errf(err, SL_CORRUPT, "%s and %s overlap in time",
				     ts_seg_path(db->segs[i - 1]), ts_seg_path(db->segs[i]));
	db->floor = db->nsegs > 0 ? ts_seg_meta(db->segs[db->nsegs - 1])->maxt : INT64_MIN;
	return rc;
}

/* ---------------------------------------------------------------- the head's files */

/*
 * One series of the saved head: its chunks taken as they are when all are at
 * or after the floor (the usual case), else decoded and the older points
 * (already in a segment: a cut came after the save) left out.
 */
static int ts_head_load_series(ts_t *db, ts_seg_t *s, uint32_t i, ts_point_t **pts, size_t *cap,
			       sl_err_t *err)
{
	const ts_chunk_ref_t *refs;
	size_t nref = ts_seg_chunks(s, i, &refs), n = 0;
	uint32_t id;
	int rc = ts_head_series(&db->head, ts_seg_series(s, i), &id, err);
	if (rc == SL_OK && nref > 0 && refs[0].first >= db->floor) {
		for (size_t k = 0; rc == SL_OK && k < nref; k++) {
			sl_slice_t chunk;
			rc = ts_seg_chunk(s, &refs[k], &chunk, err);
			if (rc == SL_OK)
				rc = ts_head_adopt(&db->head, id, chunk, err);
		}
		return rc;
	}
	if (rc == SL_OK)
		rc = ts_seg_read(s, i, db->floor, INT64_MAX, pts, &n, cap, NULL, err);
	for (size_t k = 0; rc == SL_OK && k < n; k++)
		rc = ts_head_add(&db->head, id, (*pts)[k].ts, (*pts)[k].v, err);
	return rc;
}

/* Loads the saved head's points at or after the floor. */
static int ts_head_load(ts_t *db, sl_err_t *err)
{
	char path[4096];
	ts_path(db, TS_HEAD_FILE, path, sizeof path);
	if (!env_exists(path))
		return SL_OK;
	ts_seg_t *s = NULL;
	int rc = ts_seg_open(db->env, path, &s, err);
	if (rc == SL_OK && (ts_seg_meta(s)->unit != db->unit || !(ts_seg_meta(s)->flags & TS_SEG_HEAD)))
		rc = sl_errf(err, SL_CORRUPT, "%s: not this store's saved head", path);
	ts_point_t *pts = NULL;
	size_t cap = 0;
	for (uint32_t i = 0; rc == SL_OK && i < ts_seg_series_count(s); i++)
		rc = ts_head_load_series(db, s, i, &pts, &cap, err);
	TS_TRACE(db, "open: saved head %s: %" PRIu64 " points", path, db->head.points);
	free(pts);
	ts_seg_close(s);
	return rc;
}

typedef struct ts_replay {
	ts_t *db;
	u32s_t refs;             /* log ref -> head id + 1 (0: not named) */
	ts_walfile_t *file;
	uint64_t points;
} ts_replay_t;

static int ts_replay_def(void *ctx, uint32_t ref, sl_slice_t name, sl_err_t *err)
{
	ts_replay_t *r = ctx;
	uint32_t id;
	int rc = ts_head_series(&r->db->head, name, &id, err);
	if (rc != SL_OK)
		return rc;
	if (ref >= r->refs.n) {
		if (!u32s_reserve(&r->refs, (size_t)ref + 1))
			return sl_errf(err, SL_NOMEM, "ts: out of memory");
		memset(r->refs.v + r->refs.n, 0, ((size_t)ref + 1 - r->refs.n) * sizeof *r->refs.v);
		r->refs.n = (size_t)ref + 1;
	}
	r->refs.v[ref] = id + 1;
	return SL_OK;
}

static int ts_replay_point(void *ctx, uint32_t ref, int64_t ts, double v, sl_err_t *err)
{
	ts_replay_t *r = ctx;
	if (ref >= r->refs.n || r->refs.v[ref] == 0)
		return sl_errf(err, SL_CORRUPT, "ts log record: a point of series ref %u, never named", ref);
	r->file->max = ts > r->file->max ? ts : r->file->max;
	if (ts < r->db->floor)
		return SL_OK; /* already in a segment */
	r->points++;
	return ts_head_add(&r->db->head, r->refs.v[ref] - 1, ts, v, err);
}

static int ts_replay_file(ts_t *db, ts_walfile_t *file, sl_err_t *err)
{
	char path[4096];
	ts_wal_name(db, file->num, path, sizeof path);
	wal_reader_t *rd;
	int rc = wal_reader_open(db->env, path, &rd, err);
	if (rc != SL_OK)
		return rc;
	ts_replay_t r = { .db = db, .file = file };
	ts_wal_visitor_t v = { ts_replay_def, ts_replay_point, &r };
	sl_slice_t rec;
	uint64_t off;
	while ((rc = wal_reader_next(rd, &rec, &off, err)) == SL_OK) {
		rc = ts_wal_decode(rec, &v, err);
		if (rc != SL_OK) {
			sl_err_prefix(err, "%s at offset %" PRIu64 ": ", path, off);
			break;
		}
	}
	const wal_tail_t *tail = wal_reader_tail(rd);
	if (rc == SL_NOTFOUND) {
		rc = SL_OK;
		TS_TRACE(db, "open: replayed %s: %" PRIu64 " points%s%s", path, r.points,
			 tail->dropped ? "; torn tail dropped: " : "", tail->why);
	}
	wal_reader_close(rd);
	u32s_free(&r.refs);
	return rc;
}

static int ts_wals_load(ts_t *db, char **names, size_t count, sl_err_t *err)
{
	int rc = SL_OK;
	for (size_t i = 0; rc == SL_OK && i < count; i++) {
		unsigned num;
		char tail;
		if (sscanf(names[i], "wal-%8u.lo%c", &num, &tail) != 2 || tail != 'g' ||
		    strlen(names[i]) != 16)
			continue;
		ts_walfile_t *w = realloc(db->wals, (db->nwals + 1) * sizeof *w);
		if (w == NULL)
			return sl_errf(err, SL_NOMEM, "ts: out of memory");
		db->wals = w;
		db->wals[db->nwals] = (ts_walfile_t){ num, INT64_MIN };
		rc = ts_replay_file(db, &db->wals[db->nwals++], err);
	}
	return rc;
}

/* Starts the next log file; series are named afresh in it. */
static int ts_wal_start(ts_t *db, sl_err_t *err)
{
	uint32_t num = db->nwals > 0 ? db->wals[db->nwals - 1].num + 1 : 1;
	ts_walfile_t *w = realloc(db->wals, (db->nwals + 1) * sizeof *w);
	if (w == NULL)
		return sl_errf(err, SL_NOMEM, "ts: out of memory");
	db->wals = w;
	char path[4096];
	ts_wal_name(db, num, path, sizeof path);
	int rc = wal_create(db->env, path, &db->wal, err);
	if (rc == SL_OK && db->opts.sync == SL_SYNC_BATCH)
		rc = wal_sync_every(db->wal, db->opts.batch_ms ? db->opts.batch_ms : 10, err);
	if (rc != SL_OK) {
		wal_close(db->wal, NULL);
		db->wal = NULL;
		return rc;
	}
	db->wals[db->nwals++] = (ts_walfile_t){ num, INT64_MIN };
	db->epoch++;
	return SL_OK;
}

/* Deletes the logs before the current one whose points are all older than keep_before. */
static int ts_wals_trim(ts_t *db, int64_t keep_before, bool all, sl_err_t *err)
{
	size_t out = 0;
	int rc = SL_OK;
	for (size_t i = 0; i < db->nwals; i++) {
		bool current = db->wal != NULL && i + 1 == db->nwals;
		if (rc == SL_OK && !current && (all || db->wals[i].max < keep_before)) {
			char path[4096];
			ts_wal_name(db, db->wals[i].num, path, sizeof path);
			rc = env_unlink(db->env, path, err);
			if (rc == SL_NOTFOUND)
				rc = SL_OK;
			if (rc == SL_OK)
				continue;
		}
		db->wals[out++] = db->wals[i];
	}
	db->nwals = out;
	return rc == SL_OK ? env_sync_dir(db->env, db->dir, err) : rc;
}

/* ---------------------------------------------------------------- cutting */

/*
 * Writes the head's points of every series with from <= ts < to into a new
 * segment [mint, maxt) at path. ids: the series, sorted by name.
 */
static int ts_head_write(ts_t *db, const char *path, const ts_seg_meta_t *meta, const uint32_t *ids,
			 size_t n, int64_t from, int64_t to, sl_err_t *err)
{
	ts_seg_writer_t *w;
	int rc = ts_seg_writer_open(db->env, path, meta, &w, err);
	if (rc != SL_OK)
		return rc;
	ts_point_t *pts = NULL;
	size_t cap = 0;
	for (size_t i = 0; rc == SL_OK && i < n; i++) {
		size_t np = 0;
		rc = ts_head_points(&db->head, ids[i], from, to, &pts, &np, &cap, NULL, err);
		if (rc == SL_OK && np > 0)
			rc = ts_seg_writer_add(w, ts_index_series(db->head.ix, ids[i]), pts, np, err);
	}
	free(pts);
	if (rc != SL_OK) {
		ts_seg_writer_abort(w);
		return rc;
	}
	return ts_seg_writer_finish(w, err);
}

/* Moves the block [b, e) out of the head into a segment. */
static int ts_cut(ts_t *db, int64_t b, int64_t e, sl_err_t *err)
{
	uint32_t *ids;
	size_t n;
	int rc = ts_head_sorted(&db->head, &ids, &n, err);
	if (rc != SL_OK)
		return rc;
	char path[4096];
	ts_seg_meta_t meta = { .mint = b, .maxt = e, .seq = db->next_seq++, .unit = (uint8_t)db->unit };
	ts_seg_name(db, meta.seq, path, sizeof path);
	rc = ts_head_write(db, path, &meta, ids, n, INT64_MIN, e, err);
	ts_seg_t *s = NULL;
	if (rc == SL_OK)
		rc = ts_seg_open(db->env, path, &s, err);
	if (rc == SL_OK && (rc = ts_segs_insert(db, s, err)) != SL_OK)
		ts_seg_close(s);
	/* The segment is durable: only now may the head let go of the points. */
	ts_point_t *pts = NULL;
	size_t cap = 0;
	for (size_t i = 0; rc == SL_OK && i < n; i++) {
		size_t np = 0;
		rc = ts_head_points(&db->head, ids[i], e, INT64_MAX, &pts, &np, &cap, NULL, err);
		if (rc == SL_OK)
			rc = ts_head_reset(&db->head, ids[i], pts, np, err);
	}
	free(pts);
	free(ids);
	if (rc == SL_OK) {
		db->floor = e;
		db->cuts++;
		ts_head_rescan(&db->head);
		TS_TRACE(db, "cut: block [%" PRId64 ", %" PRId64 ") -> %s (%" PRIu64 " points); %" PRIu64
			 " points stay in the head", b, e, path, ts_seg_points(s), db->head.points);
	}
	return rc;
}

/* ---------------------------------------------------------------- merging */

static int ts_slice_cmp(const void *a, const void *b)
{
	return sl_slice_cmp(*(const sl_slice_t *)a, *(const sl_slice_t *)b);
}

/* Every series name of segs[i, j), sorted, without repeats, into *names (malloc'd). */
static int ts_merge_names(ts_t *db, size_t i, size_t j, sl_slice_t **names, size_t *n, sl_err_t *err)
{
	size_t all = 0;
	for (size_t k = i; k < j; k++)
		all += ts_seg_series_count(db->segs[k]);
	*names = malloc((all + 1) * sizeof **names);
	if (*names == NULL)
		return sl_errf(err, SL_NOMEM, "ts: out of memory");
	*n = 0;
	for (size_t k = i; k < j; k++)
		for (uint32_t id = 0; id < ts_seg_series_count(db->segs[k]); id++)
			(*names)[(*n)++] = ts_seg_series(db->segs[k], id);
	qsort(*names, *n, sizeof **names, ts_slice_cmp);
	size_t out = 0;
	for (size_t k = 0; k < *n; k++)
		if (out == 0 || sl_slice_cmp((*names)[k], (*names)[out - 1]) != 0)
			(*names)[out++] = (*names)[k];
	*n = out;
	return SL_OK;
}

/* Writes segs[i, j) (neighbours in time) as one segment, then deletes them. */
static int ts_merge(ts_t *db, size_t i, size_t j, sl_err_t *err)
{
	uint64_t parents[64];
	assert(j - i <= 64);
	for (size_t k = i; k < j; k++)
		parents[k - i] = ts_seg_meta(db->segs[k])->seq;
	ts_seg_meta_t meta = { .mint = ts_seg_meta(db->segs[i])->mint,
			       .maxt = ts_seg_meta(db->segs[j - 1])->maxt,
			       .seq = db->next_seq++, .unit = (uint8_t)db->unit,
			       .interval_ms = ts_seg_meta(db->segs[i])->interval_ms,
			       .parents = parents, .nparents = (uint32_t)(j - i) };
	char path[4096];
	ts_seg_name(db, meta.seq, path, sizeof path);
	sl_slice_t *names = NULL;
	size_t n = 0;
	int rc = ts_merge_names(db, i, j, &names, &n, err);
	if (rc != SL_OK)
		return rc;
	ts_seg_writer_t *w = NULL;
	rc = ts_seg_writer_open(db->env, path, &meta, &w, err);
	ts_point_t *pts = NULL;
	size_t cap = 0;
	for (size_t k = 0; rc == SL_OK && k < n; k++) {
		size_t np = 0;
		uint32_t id;
		for (size_t s = i; rc == SL_OK && s < j; s++)
			if (ts_seg_find(db->segs[s], names[k], &id))
				rc = ts_seg_read(db->segs[s], id, INT64_MIN, INT64_MAX, &pts, &np, &cap, NULL, err);
		if (rc == SL_OK)
			rc = ts_seg_writer_add(w, names[k], pts, np, err);
	}
	free(pts);
	free(names);
	if (rc != SL_OK) {
		ts_seg_writer_abort(w);
		return rc;
	}
	ts_seg_t *s;
	rc = ts_seg_writer_finish(w, err);
	if (rc == SL_OK)
		rc = ts_seg_open(db->env, path, &s, err);
	if (rc != SL_OK)
		return rc;
	TS_TRACE(db, "merge: %zu segments [%" PRId64 ", %" PRId64 ") -> %s", j - i, meta.mint,
		 meta.maxt, path);
	rc = ts_segs_drop(db, i, j, err);
	if (rc == SL_OK)
		rc = ts_segs_insert(db, s, err);
	else
		ts_seg_close(s);
	db->compactions++;
	return rc == SL_OK ? env_sync_dir(db->env, db->dir, err) : rc;
}

/*
 * Merges neighbours: at level k, the segments inside one aligned window of
 * block * ratio^k, once the window lies wholly before the floor (no later cut
 * can add to it).
 */
static int ts_compact(ts_t *db, sl_err_t *err)
{
	int64_t ratio = db->opts.compact_ratio ? db->opts.compact_ratio : 3, win = db->block;
	for (int level = 1; level <= TS_MAX_LEVELS && !db->opts.no_compact; level++) {
		if (win > INT64_MAX / ratio)
			break;
		win *= ratio;
		for (size_t i = 0; i < db->nsegs;) {
			int64_t w0 = ts_align_down(ts_seg_meta(db->segs[i])->mint, win);
			size_t j = i;
			while (j < db->nsegs && j - i < 64 && ts_seg_meta(db->segs[j])->mint >= w0 &&
			       ts_seg_meta(db->segs[j])->maxt - w0 <= win &&
			       ts_seg_meta(db->segs[j])->interval_ms == ts_seg_meta(db->segs[i])->interval_ms)
				j++; /* (summaries merge only with summaries of the same interval) */
			if (j - i >= 2 && w0 <= db->floor - win) {
				int rc = ts_merge(db, i, j, err);
				if (rc != SL_OK)
					return rc;
				i++;
			} else {
				i = j > i ? j : i + 1;
			}
		}
	}
	return SL_OK;
}

/* The newest point the store holds: retention and downsampling count back from it. */
static int64_t ts_newest(const ts_t *db)
{
	if (db->head.max != INT64_MIN)
		return db->head.max;
	return db->floor == INT64_MIN ? INT64_MIN : db->floor - 1;
}

/* Rewrites the raw segments older than the downsampling age as interval summaries. */
static int ts_downsample(ts_t *db, sl_err_t *err)
{
	int64_t newest = ts_newest(db);
	if (db->down_after <= 0 || db->nsegs == 0 || newest < INT64_MIN + db->down_after)
		return SL_OK;
	for (size_t i = 0; i < db->nsegs; i++) {
		const ts_seg_meta_t *m = ts_seg_meta(db->segs[i]);
		if (m->interval_ms != 0 || m->maxt > newest - db->down_after)
			continue;
		uint64_t parent = m->seq;
		ts_seg_meta_t meta = { .mint = m->mint, .maxt = m->maxt, .seq = db->next_seq++,
				       .unit = (uint8_t)db->unit,
				       .interval_ms = (uint32_t)(db->opts.downsample_ms ? db->opts.downsample_ms : 300000),
				       .parents = &parent, .nparents = 1 };
		char path[4096];
		ts_seg_name(db, meta.seq, path, sizeof path);
		ts_seg_t *s;
		int rc = ts_down_write(db->env, db->segs[i], path, &meta, db->down_step, err);
		if (rc == SL_OK)
			rc = ts_seg_open(db->env, path, &s, err);
		if (rc != SL_OK)
			return rc;
		TS_TRACE(db, "downsample: %s -> %s, %" PRIu64 " points -> %" PRIu64 " summary points",
			 ts_seg_path(db->segs[i]), path, ts_seg_points(db->segs[i]), ts_seg_points(s));
		rc = ts_segs_drop(db, i, i + 1, err);
		if (rc == SL_OK)
			rc = ts_segs_insert(db, s, err);
		else
			ts_seg_close(s);
		if (rc == SL_OK)
			rc = env_sync_dir(db->env, db->dir, err);
		if (rc != SL_OK)
			return rc;
		db->downsampled++;
	}
	return SL_OK;
}

/* Deletes the segments that end before the newest point minus the retention. */
static int ts_retain(ts_t *db, sl_err_t *err)
{
	if (db->retention <= 0 || db->nsegs == 0)
		return SL_OK;
	int64_t newest = ts_newest(db);
	if (newest < INT64_MIN + db->retention)
		return SL_OK;
	size_t j = 0;
	while (j < db->nsegs && ts_seg_meta(db->segs[j])->maxt <= newest - db->retention)
		j++;
	if (j == 0)
		return SL_OK;
	TS_TRACE(db, "retention: dropping %zu segments that end before %" PRId64, j,
		 newest - db->retention);
	db->dropped += j;
	int rc = ts_segs_drop(db, 0, j, err);
	return rc == SL_OK ? env_sync_dir(db->env, db->dir, err) : rc;
}

/* Cuts the blocks that can take no more points; then merges, retention, logs. */
static int ts_maintain_due(ts_t *db, sl_err_t *err)
{
	int rc = SL_OK;
	uint64_t cuts = db->cuts;
	while (rc == SL_OK && db->head.points > 0) {
		int64_t b = ts_align_down(db->head.min, db->block);
		if (b > INT64_MAX - db->block - db->slack || db->head.max < b + db->block + db->slack)
			break;
		rc = ts_cut(db, b, b + db->block, err);
	}
	if (rc == SL_OK && db->cuts > cuts)
		rc = ts_compact(db, err);
	if (rc == SL_OK)
		rc = ts_retain(db, err);
	if (rc == SL_OK)
		rc = ts_downsample(db, err);
	if (rc == SL_OK && db->cuts > cuts) {
		rc = wal_close(db->wal, err);
		db->wal = NULL;
		if (rc == SL_OK)
			rc = ts_wal_start(db, err);
		if (rc == SL_OK)
			rc = ts_wals_trim(db, db->floor, false, err);
	}
	if (rc != SL_OK && !db->broken) {
		db->broken = true;
		db->broken_err = *err;
	}
	return rc;
}

int ts_maintain(ts_t *db, sl_err_t *err)
{
	if (db->opts.read_only)
		return sl_errf(err, SL_READONLY, "ts %s: opened read-only", db->dir);
	return ts_maintain_due(db, err);
}

/* ---------------------------------------------------------------- open and close */

static int ts_opts_check(const ts_opts_t *o, sl_err_t *err)
{
	if (o->block_ms < 0 || o->window_ms < 0 || o->retention_ms < 0)
		return sl_errf(err, SL_INVALID, "ts: negative block, window or retention");
	if (o->block_ms != 0 && o->block_ms < 1000)
		return sl_errf(err, SL_INVALID, "ts: a block of %" PRId64 " ms; at least 1000", o->block_ms);
	if (o->downsample_after_ms < 0 || o->downsample_ms < 0 || o->downsample_ms > UINT32_MAX)
		return sl_errf(err, SL_INVALID, "ts: a negative or too long downsampling age or interval");
	if (o->compact_ratio == 1 || o->compact_ratio > 64)
		return sl_errf(err, SL_INVALID, "ts: compaction ratio %u; 2..64", o->compact_ratio);
	return SL_OK;
}

/* The META file: read it, or make it for a new store. */
static int ts_open_meta(ts_t *db, const ts_opts_t *opts, sl_err_t *err)
{
	char path[4096];
	ts_path(db, "META", path, sizeof path);
	if (env_exists(path))
		return ts_meta_read(db, err);
	if (!opts->create || opts->read_only)
		return sl_errf(err, SL_NOTFOUND, "%s: no time-series store here (no META)", db->dir);
	if (opts->unit == NULL)
		db->unit = TS_UNIT_MS;
	else if (!ts_unit_parse(opts->unit, &db->unit) || db->unit == TS_UNIT_AUTO)
		return sl_errf(err, SL_INVALID, "ts: unit %s; the units are s, ms, us and ns", opts->unit);
	db->block = ts_from_ms(opts->block_ms ? opts->block_ms : 2 * 3600 * 1000, db->unit);
	return ts_meta_write(db, err);
}

/* Segments, the saved head and the logs, in that order; stray .tmp files go. */
static int ts_open_files(ts_t *db, sl_err_t *err)
{
	char **names;
	size_t count;
	int rc = env_list_dir(db->env, db->dir, &names, &count, err);
	if (rc != SL_OK)
		return rc;
	for (size_t i = 0; rc == SL_OK && !db->opts.read_only && i < count; i++) {
		size_t len = strlen(names[i]);
		if (len > 4 && strcmp(names[i] + len - 4, ".tmp") == 0) {
			char path[4096];
			ts_path(db, names[i], path, sizeof path);
			rc = env_unlink(db->env, path, err);
		}
	}
	if (rc == SL_OK)
		rc = ts_segs_load(db, names, count, err);
	if (rc == SL_OK)
		rc = ts_head_load(db, err);
	if (rc == SL_OK)
		rc = ts_wals_load(db, names, count, err);
	env_list_free(names, count);
	return rc;
}

static void ts_free(ts_t *db)
{
	for (size_t i = 0; i < db->nsegs; i++)
		ts_seg_close(db->segs[i]);
	free(db->segs);
	wal_close(db->wal, NULL);
	free(db->wals);
	ts_head_free(&db->head);
	ts_wal_rec_free(&db->rec);
	buf_free(&db->recbuf);
	env_unlock(db->lock);
	free(db->dir);
	free(db);
}

int ts_open(env_t *env, const char *dir, const ts_opts_t *opts, ts_t **out, sl_err_t *err)
{
	int rc = ts_opts_check(opts, err);
	if (rc != SL_OK)
		return rc;
	ts_t *db = calloc(1, sizeof *db);
	if (db == NULL || (db->dir = strdup(dir)) == NULL) {
		free(db);
		return sl_errf(err, SL_NOMEM, "ts: out of memory");
	}
	db->env = env;
	db->opts = *opts;
	if (opts->trace != NULL)
		db->trace = *opts->trace;
	db->next_seq = 1;
	rc = ts_head_init(&db->head, err);
	if (rc == SL_OK && opts->create && !opts->read_only)
		rc = env_mkdir(env, dir, err);
	else if (rc == SL_OK && !env_exists(dir))
		rc = sl_errf(err, SL_NOTFOUND, "%s: no time-series store here (no such directory)", dir);
	char path[4096];
	ts_path(db, "LOCK", path, sizeof path);
	if (rc == SL_OK)
		rc = env_lock_mode(env, path, opts->read_only, &db->lock, err);
	if (rc == SL_OK)
		rc = ts_open_meta(db, opts, err);
	if (rc == SL_OK) {
		db->window = opts->strict_order ? 0 : ts_from_ms(opts->window_ms ? opts->window_ms : 600000, db->unit);
		db->retention = opts->retention_ms ? ts_from_ms(opts->retention_ms, db->unit) : 0;
		db->slack = db->window > db->block / 2 ? db->window : db->block / 2;
		db->down_after = opts->downsample_after_ms ? ts_from_ms(opts->downsample_after_ms, db->unit) : 0;
		db->down_step = ts_from_ms(opts->downsample_ms ? opts->downsample_ms : 300000, db->unit);
		if (db->down_after > 0 && db->block % db->down_step != 0)
			rc = sl_errf(err, SL_INVALID, "ts: a downsampling interval of %" PRId64 " %s does not "
				     "divide the block (%" PRId64 ")", db->down_step, ts_unit_name(db->unit), db->block);
	}
	if (rc == SL_OK)
		rc = ts_open_files(db, err);
	if (rc == SL_OK && !opts->read_only)
		rc = ts_wal_start(db, err);
	if (rc == SL_OK && !opts->read_only)
		rc = ts_maintain_due(db, err);
	if (rc != SL_OK) {
		ts_free(db);
		return rc;
	}
	TS_TRACE(db, "open: %zu segments, %" PRIu64 " points in the head; points before %" PRId64
		 " are refused (the last cut)", db->nsegs, db->head.points,
		 db->floor == INT64_MIN ? (int64_t)0 : db->floor);
	*out = db;
	return SL_OK;
}

/* Writes the head to head.tsseg (or removes it when the head is empty). */
static int ts_head_save(ts_t *db, sl_err_t *err)
{
	char path[4096];
	ts_path(db, TS_HEAD_FILE, path, sizeof path);
	if (db->head.points == 0) {
		int rc = env_unlink(db->env, path, err);
		return rc == SL_NOTFOUND ? SL_OK : rc;
	}
	uint32_t *ids;
	size_t n;
	int rc = ts_head_sorted(&db->head, &ids, &n, err);
	if (rc != SL_OK)
		return rc;
	ts_seg_meta_t meta = { .mint = db->head.min, .maxt = db->head.max + 1, .unit = (uint8_t)db->unit,
			       .flags = TS_SEG_HEAD };
	rc = ts_head_write(db, path, &meta, ids, n, INT64_MIN, INT64_MAX, err);
	free(ids);
	return rc;
}

int ts_close(ts_t *db, sl_err_t *err)
{
	if (db == NULL)
		return SL_OK;
	int rc = SL_OK;
	if (!db->opts.read_only && !db->broken) {
		rc = ts_head_save(db, err);
		/* The saved head holds every point of the logs that is not in a segment. */
		if (rc == SL_OK)
			rc = wal_close(db->wal, err);
		db->wal = NULL;
		if (rc == SL_OK)
			rc = ts_wals_trim(db, 0, true, err);
	}
	ts_free(db);
	return rc;
}

int ts_sync(ts_t *db, sl_err_t *err)
{
	if (db->wal == NULL)
		return SL_OK;
	return wal_sync(db->wal, err);
}

/* ---------------------------------------------------------------- writing */

/* Why a point cannot be accepted now, or NULL. Moves the batch's view of the series' last. */
static const char *ts_refuse(ts_t *db, ts_hser_t *s, int64_t ts, int64_t newest, bool *ooo)
{
	int64_t last = s->pepoch == db->batch ? s->plast : s->last;
	*ooo = ts <= last;
	if (ts < db->floor)
		return "older than the last segment cut";
	if (*ooo && (db->window == 0 || newest == INT64_MIN || ts < newest - db->window))
		return db->window == 0 ? "out of order" : "older than the out-of-order window";
	if (!*ooo) {
		s->plast = ts;
		s->pepoch = db->batch;
	}
	return NULL;
}

/* Puts the accepted points into the log record, naming series new to this log file. */
static void ts_log_point(ts_t *db, uint32_t id, const ts_sample_t *p)
{
	ts_hser_t *s = db->head.ser[id];
	if (s->named != db->epoch) {
		ts_wal_rec_def(&db->rec, id, ts_index_series(db->head.ix, id));
		s->named = db->epoch;
	}
	ts_wal_rec_point(&db->rec, id, p->ts, p->v);
}

/* Series ids for the batch, checking each new name is canonical. */
static int ts_add_ids(ts_t *db, const ts_sample_t *p, size_t n, uint32_t *ids, sl_err_t *err)
{
	buf_t canon = BUF_INIT;
	int rc = SL_OK;
	for (size_t i = 0; rc == SL_OK && i < n; i++) {
		if (ts_index_find(db->head.ix, p[i].series, &ids[i]))
			continue;
		char why[TS_WHY_BYTES];
		buf_t raw = BUF_INIT;
		if (!ts_series_parse(p[i].series, &canon, why) || !sl_slice_eq(buf_slice(&canon), p[i].series))
			rc = sl_errf(err, SL_INVALID, "ts: point %zu: series %.*s is not in canonical form%s%s",
				     i, (int)(p[i].series.len > 200 ? 200 : p[i].series.len),
				     (const char *)p[i].series.data, canon.len ? "" : ": ", canon.len ? "" : why);
		else if (ts_down_raw(p[i].series, &raw))
			rc = sl_errf(err, SL_INVALID, "ts: point %zu: the label " TS_DOWN_LABEL
				     " is reserved (it names downsampled summaries)", i);
		else
			rc = ts_head_series(&db->head, p[i].series, &ids[i], err);
		buf_free(&raw);
	}
	buf_free(&canon);
	return rc;
}

int ts_add(ts_t *db, const ts_sample_t *p, size_t n, uint8_t *refused, size_t *nrefused,
	   sl_err_t *err)
{
	*nrefused = 0;
	if (db->opts.read_only)
		return sl_errf(err, SL_READONLY, "ts %s: opened read-only", db->dir);
	if (db->broken) {
		*err = db->broken_err;
		return sl_err_prefix(err, "ts %s refuses writes after an earlier failure: ", db->dir);
	}
	uint32_t *ids = malloc((n + 1) * sizeof *ids);
	uint8_t *flags = refused ? refused : calloc(n + 1, 1);
	if (ids == NULL || flags == NULL) {
		free(ids);
		if (flags != refused)
			free(flags);
		return sl_errf(err, SL_NOMEM, "ts: out of memory");
	}
	int rc = ts_add_ids(db, p, n, ids, err);
	/* Decide every point first: the log must hold exactly what is applied. */
	db->batch++;
	ts_wal_rec_reset(&db->rec);
	int64_t newest = db->head.max;
	size_t ooo = 0;
	for (size_t i = 0; rc == SL_OK && i < n; i++) {
		bool late;
		flags[i] = ts_refuse(db, db->head.ser[ids[i]], p[i].ts, newest, &late) != NULL;
		*nrefused += flags[i];
		ooo += !flags[i] && late;
		if (!flags[i]) {
			ts_log_point(db, ids[i], &p[i]);
			newest = p[i].ts > newest ? p[i].ts : newest;
		}
	}
	if (rc == SL_OK && db->rec.npts > 0) {
		rc = ts_wal_rec_finish(&db->rec, &db->recbuf, err);
		if (rc == SL_OK)
			rc = wal_append(db->wal, db->recbuf.data, db->recbuf.len,
					db->opts.sync == SL_SYNC_ALWAYS, err);
		if (rc != SL_OK) {
			db->broken = true; /* the log's state is unknown, and series were named in it */
			db->broken_err = *err;
		}
	}
	for (size_t i = 0; rc == SL_OK && i < n; i++)
		if (!flags[i])
			rc = ts_head_add(&db->head, ids[i], p[i].ts, p[i].v, err);
	if (rc == SL_OK && db->rec.npts > 0) {
		ts_walfile_t *f = &db->wals[db->nwals - 1];
		f->max = newest > f->max ? newest : f->max;
		db->accepted += db->rec.npts;
		db->refused += *nrefused;
		db->out_of_order += ooo;
		rc = ts_maintain_due(db, err);
	} else if (rc != SL_OK && !db->broken && db->rec.npts > 0) {
		db->broken = true; /* logged but not all applied: reopen replays the log */
		db->broken_err = *err;
	}
	free(ids);
	if (flags != refused)
		free(flags);
	return rc;
}
