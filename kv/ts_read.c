/*
 * ts_read.c — reading the time-series store: which series a selector names in
 * each source (the segments that overlap the range, then the head), and their
 * points, merged by series name; plus stats and the consistency check.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kv/ts_int.h"

/* One source of a read: a segment or the head, with its selected ids sorted by name. */
typedef struct ts_src {
	ts_seg_t *seg;           /* NULL: the head */
	uint32_t *ids;
	size_t n, at;
} ts_src_t;

static sl_slice_t ts_src_name(const ts_t *db, const ts_src_t *s)
{
	uint32_t id = s->ids[s->at];
	return s->seg ? ts_seg_series(s->seg, id) : ts_index_series(db->head.ix, id);
}

static int ts_head_cmp(const void *a, const void *b, void *ix)
{
	return sl_slice_cmp(ts_index_series(ix, *(const uint32_t *)a),
			    ts_index_series(ix, *(const uint32_t *)b));
}

/* The sources overlapping [from, to), each with the ids sel selects in it. */
static int ts_sources(ts_t *db, const ts_selector_t *sel, int64_t from, int64_t to, ts_src_t *src,
		      size_t *nsrc, ts_read_stats_t *st, sl_err_t *err)
{
	int rc = SL_OK;
	ts_index_stats_t is;
	*nsrc = 0;
	for (size_t i = 0; rc == SL_OK && i <= db->nsegs; i++) {
		ts_src_t *s = &src[*nsrc];
		memset(s, 0, sizeof *s);
		if (i < db->nsegs) {
			const ts_seg_meta_t *m = ts_seg_meta(db->segs[i]);
			if (m->maxt <= from || m->mint >= to)
				continue;
			s->seg = db->segs[i];
			st->segments++;
			rc = ts_seg_select(s->seg, sel, &s->ids, &s->n, &is, err);
		} else {
			if (db->head.points == 0 || db->head.max < from || db->head.min >= to)
				continue;
			rc = ts_index_select(db->head.ix, sel, &s->ids, &s->n, &is, err);
			if (rc == SL_OK)
				qsort_r(s->ids, s->n, sizeof *s->ids, ts_head_cmp, db->head.ix);
		}
		if (rc == SL_OK) {
			st->lists += is.lists;
			st->candidates += is.candidates;
			(*nsrc)++;
		}
	}
	return rc;
}

int ts_read(ts_t *db, const ts_selector_t *sel, int64_t from, int64_t to, ts_read_fn fn, void *ctx,
	    ts_read_stats_t *st, sl_err_t *err)
{
	ts_read_stats_t dummy;
	st = st ? st : &dummy;
	memset(st, 0, sizeof *st);
	ts_src_t *src = calloc(db->nsegs + 1, sizeof *src);
	if (src == NULL)
		return sl_errf(err, SL_NOMEM, "ts: out of memory");
	size_t nsrc = 0, n, cap = 0;
	int rc = ts_sources(db, sel, from, to, src, &nsrc, st, err);
	ts_point_t *pts = NULL;
	/* Series by name: the smallest name any source is on, from every source on it, in time order. */
	while (rc == SL_OK) {
		sl_slice_t name = { NULL, 0 };
		for (size_t k = 0; k < nsrc; k++)
			if (src[k].at < src[k].n &&
			    (name.data == NULL || sl_slice_cmp(ts_src_name(db, &src[k]), name) < 0))
				name = ts_src_name(db, &src[k]);
		if (name.data == NULL)
			break;
		n = 0;
		for (size_t k = 0; rc == SL_OK && k < nsrc; k++) {
			ts_src_t *s = &src[k];
			if (s->at == s->n || sl_slice_cmp(ts_src_name(db, s), name) != 0)
				continue;
			uint32_t id = s->ids[s->at++];
			rc = s->seg ? ts_seg_read(s->seg, id, from, to, &pts, &n, &cap, &st->chunks, err)
				    : ts_head_points(&db->head, id, from, to, &pts, &n, &cap, &st->chunks, err);
		}
		st->series++;
		st->points += n;
		if (rc == SL_OK && n > 0)
			rc = fn(ctx, name, pts, n);
	}
	if (trace_on(&db->trace))
		trace_emit(&db->trace,
			   "read [%" PRId64 ", %" PRId64 "): %" PRIu64 " segments and %s; %" PRIu64
			   " postings lists -> %" PRIu64 " candidates; %" PRIu64 " series, %" PRIu64
			   " chunks decoded, %" PRIu64 " points",
			   from, to, st->segments, nsrc > st->segments ? "the head" : "not the head",
			   st->lists, st->candidates, st->series, st->chunks, st->points);
	for (size_t k = 0; k < nsrc; k++)
		free(src[k].ids);
	free(src);
	free(pts);
	return rc;
}

void ts_get_stats(ts_t *db, ts_stats_t *out)
{
	memset(out, 0, sizeof *out);
	ts_index_t *all = ts_index_new();
	uint32_t id;
	for (size_t i = 0; i < db->nsegs; i++) {
		ts_seg_t *s = db->segs[i];
		out->segments++;
		out->segment_points += ts_seg_points(s);
		out->segment_bytes += ts_seg_bytes(s);
		for (uint32_t k = 0; all && k < ts_seg_series_count(s); k++)
			ts_index_add(all, ts_seg_series(s, k), &id, NULL);
	}
	for (uint32_t k = 0; all && k < ts_index_count(db->head.ix); k++) {
		if (db->head.ser[k]->points == 0)
			continue;
		out->head_series++;
		ts_index_add(all, ts_index_series(db->head.ix, k), &id, NULL);
	}
	out->series = all ? ts_index_count(all) : 0;
	ts_index_free(all);
	out->head_points = db->head.points;
	out->head_bytes = ts_head_bytes(&db->head);
	out->ooo_points = db->head.ooo;
	out->wal_files = db->nwals;
	out->wal_bytes = db->wal ? wal_size(db->wal) : 0;
	out->accepted = db->accepted;
	out->refused = db->refused;
	out->out_of_order = db->out_of_order;
	out->cuts = db->cuts;
	out->compactions = db->compactions;
	out->dropped = db->dropped;
	if (db->nsegs > 0 || db->head.points > 0) {
		out->mint = db->nsegs ? ts_seg_meta(db->segs[0])->mint : db->head.min;
		out->maxt = db->head.points ? db->head.max + 1 : ts_seg_meta(db->segs[db->nsegs - 1])->maxt;
	}
}

/* The head: every series' points increasing and at or after the floor. */
static int ts_check_head(ts_t *db, sl_err_t *err)
{
	ts_point_t *pts = NULL;
	size_t cap = 0;
	int rc = SL_OK;
	for (uint32_t id = 0; rc == SL_OK && id < ts_index_count(db->head.ix); id++) {
		size_t n = 0;
		rc = ts_head_points(&db->head, id, INT64_MIN, INT64_MAX, &pts, &n, &cap, NULL, err);
		for (size_t i = 0; rc == SL_OK && i < n; i++)
			if (pts[i].ts < db->floor || (i > 0 && pts[i].ts <= pts[i - 1].ts))
				rc = sl_errf(err, SL_CORRUPT, "ts head: series %.*s: point %zu at %" PRId64
					     " is out of order or before the floor %" PRId64,
					     (int)ts_index_series(db->head.ix, id).len,
					     (const char *)ts_index_series(db->head.ix, id).data, i,
					     pts[i].ts, db->floor);
	}
	free(pts);
	return rc;
}

int ts_check(ts_t *db, sl_err_t *err)
{
	for (size_t i = 0; i < db->nsegs; i++) {
		int rc = ts_seg_check(db->segs[i], err);
		if (rc != SL_OK)
			return rc;
		if (i > 0 && ts_seg_meta(db->segs[i])->mint < ts_seg_meta(db->segs[i - 1])->maxt)
			return sl_errf(err, SL_CORRUPT, "%s and %s overlap in time",
				       ts_seg_path(db->segs[i - 1]), ts_seg_path(db->segs[i]));
	}
	if (db->nsegs > 0 && db->floor != ts_seg_meta(db->segs[db->nsegs - 1])->maxt)
		return sl_errf(err, SL_CORRUPT, "ts: the floor %" PRId64 " is not the last segment's end",
			       db->floor);
	return ts_check_head(db, err);
}
