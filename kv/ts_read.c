/*
 * ts_read.c — reading the time-series store: which series a selector names in
 * each source (the segments that overlap the range, then the head), and their
 * points, merged by series name; plus stats and the consistency check.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kv/ts_down.h"
#include "kv/ts_int.h"

/* What a read gathers of one series: summaries (older), then points. */
typedef struct ts_read_buf {
	ts_summary_t *sums;
	size_t ns, scap;
	ts_point_t *pts;
	size_t n, cap;
} ts_read_buf_t;

/* A selected series of one source: the name series merge by, and its id there. */
typedef struct ts_item {
	sl_slice_t name;
	uint32_t id;
} ts_item_t;

/* One source of a read: a segment or the head, with its selected series sorted by name. */
typedef struct ts_src {
	ts_seg_t *seg;           /* NULL: the head */
	bool summary;            /* a downsampled segment: items name the series summarised */
	ts_item_t *items;
	buf_t arena;             /* a summary segment's series names */
	size_t n, at;
} ts_src_t;

static int ts_item_cmp(const void *a, const void *b)
{
	return sl_slice_cmp(((const ts_item_t *)a)->name, ((const ts_item_t *)b)->name);
}

/*
 * A summary segment's selection: the selector plus __agg__="count" picks one
 * summary series per series summarised; the items name the latter.
 */
static int ts_src_summary(ts_src_t *s, const ts_selector_t *sel, uint32_t **ids, size_t *n,
			  ts_index_stats_t *is, sl_err_t *err)
{
	ts_matcher_t *m = malloc((sel->n + 1) * sizeof *m);
	if (m == NULL)
		return sl_errf(err, SL_NOMEM, "ts: out of memory");
	memcpy(m, sel->m, sel->n * sizeof *m); /* shallow: the regexes stay the caller's */
	m[sel->n] = (ts_matcher_t){ .name = TS_DOWN_LABEL, .value = "count", .op = TS_EQ };
	ts_selector_t with = { m, sel->n + 1 };
	int rc = ts_seg_select(s->seg, &with, ids, n, is, err);
	free(m);
	size_t *off = rc == SL_OK ? malloc((*n + 1) * sizeof *off) : NULL;
	buf_t raw = BUF_INIT;
	if (rc == SL_OK && off == NULL)
		rc = sl_errf(err, SL_NOMEM, "ts: out of memory");
	for (size_t i = 0; rc == SL_OK && i < *n; i++) {
		off[i] = s->arena.len;
		if (!ts_down_raw(ts_seg_series(s->seg, (*ids)[i]), &raw))
			rc = sl_errf(err, SL_CORRUPT, "%s: a summary series without its label", ts_seg_path(s->seg));
		buf_append(&s->arena, raw.data, raw.len);
	}
	if (rc == SL_OK && !buf_ok(&s->arena))
		rc = sl_errf(err, SL_NOMEM, "ts: out of memory");
	for (size_t i = 0; rc == SL_OK && i < *n; i++) /* the arena has stopped moving */
		s->items[i] = (ts_item_t){ sl_slice(s->arena.data + off[i],
						    (i + 1 < *n ? off[i + 1] : s->arena.len) - off[i]), (*ids)[i] };
	free(off);
	buf_free(&raw);
	return rc;
}

/* Selects in one source and sorts its items by name. */
static int ts_src_select(ts_t *db, ts_src_t *s, const ts_selector_t *sel, ts_index_stats_t *is,
			 sl_err_t *err)
{
	uint32_t *ids = NULL;
	size_t n = 0;
	int rc = s->summary ? SL_OK
		 : s->seg ? ts_seg_select(s->seg, sel, &ids, &n, is, err)
			  : ts_index_select(db->head.ix, sel, &ids, &n, is, err);
	if (s->summary) {
		uint32_t all = ts_seg_series_count(s->seg);
		s->items = malloc((all + 1) * sizeof *s->items);
		rc = s->items ? ts_src_summary(s, sel, &ids, &n, is, err)
			      : sl_errf(err, SL_NOMEM, "ts: out of memory");
	} else if (rc == SL_OK) {
		s->items = malloc((n + 1) * sizeof *s->items);
		for (size_t i = 0; s->items && i < n; i++)
			s->items[i] = (ts_item_t){ s->seg ? ts_seg_series(s->seg, ids[i])
							  : ts_index_series(db->head.ix, ids[i]), ids[i] };
		rc = s->items ? SL_OK : sl_errf(err, SL_NOMEM, "ts: out of memory");
	}
	free(ids);
	s->n = rc == SL_OK ? n : 0;
	if (rc == SL_OK)
		qsort(s->items, n, sizeof *s->items, ts_item_cmp);
	return rc;
}

/* The sources overlapping [from, to), each with the series sel selects in it. */
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
			if (m->maxt <= from || m->mint >= to) {
				if (trace_on(&db->trace))
					trace_emit(&db->trace, "%s holds [%" PRId64 ", %" PRId64 "): outside "
						   "the range, not read", ts_seg_path(db->segs[i]), m->mint,
						   m->maxt);
				continue;
			}
			s->seg = db->segs[i];
			s->summary = m->interval_ms != 0;
			st->segments++;
		} else if (db->head.points == 0 || db->head.max < from || db->head.min >= to) {
			continue;
		}
		(*nsrc)++;
		rc = ts_src_select(db, s, sel, &is, err);
		st->lists += is.lists;
		st->candidates += is.candidates;
		if (rc == SL_OK && trace_on(&db->trace))
			trace_emit(&db->trace, "%s: %" PRIu32 " postings lists intersected -> %zu series",
				   s->seg ? ts_seg_path(s->seg) : "the head", is.lists, s->n);
	}
	return rc;
}

/* Reads one series of a segment: the chunks whose time range misses [from, to) are skipped. */
static int ts_read_seg_series(ts_t *db, ts_seg_t *seg, uint32_t id, int64_t from, int64_t to,
			      ts_read_buf_t *b, ts_read_stats_t *st, sl_err_t *err)
{
	uint64_t before = st->chunks;
	int rc = ts_seg_read(seg, id, from, to, &b->pts, &b->n, &b->cap, &st->chunks, err);
	if (rc == SL_OK && trace_on(&db->trace)) {
		const ts_chunk_ref_t *refs;
		size_t all = ts_seg_chunks(seg, id, &refs);
		sl_slice_t name = ts_seg_series(seg, id);
		trace_emit_at(&db->trace, "ts_seg_read", "%s, series %.*s: %" PRIu64 " of %zu chunks "
			      "decoded, %" PRIu64 " skipped (their time range misses the query's)",
			      ts_seg_path(seg), (int)name.len, (const char *)name.data,
			      st->chunks - before, all, all - (st->chunks - before));
	}
	return rc;
}

/* Reads one series from every source that holds it, in time order. */
static int ts_read_series(ts_t *db, ts_src_t *src, size_t nsrc, sl_slice_t name, int64_t from,
			  int64_t to, ts_read_buf_t *b, ts_read_stats_t *st, sl_err_t *err)
{
	int rc = SL_OK;
	b->n = b->ns = 0;
	for (size_t k = 0; rc == SL_OK && k < nsrc; k++) {
		ts_src_t *s = &src[k];
		if (s->at == s->n || sl_slice_cmp(s->items[s->at].name, name) != 0)
			continue;
		uint32_t id = s->items[s->at++].id;
		if (s->summary)
			rc = ts_down_read(s->seg, id, from, to, &b->sums, &b->ns, &b->scap, err);
		else if (s->seg)
			rc = ts_read_seg_series(db, s->seg, id, from, to, b, st, err);
		else
			rc = ts_head_points(&db->head, id, from, to, &b->pts, &b->n, &b->cap, &st->chunks, err);
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
	size_t nsrc = 0;
	int rc = ts_sources(db, sel, from, to, src, &nsrc, st, err);
	ts_read_buf_t b = { 0 };
	/* Series by name: the smallest name any source is on, from every source on it. */
	while (rc == SL_OK) {
		sl_slice_t name = { NULL, 0 };
		for (size_t k = 0; k < nsrc; k++)
			if (src[k].at < src[k].n &&
			    (name.data == NULL || sl_slice_cmp(src[k].items[src[k].at].name, name) < 0))
				name = src[k].items[src[k].at].name;
		if (name.data == NULL)
			break;
		rc = ts_read_series(db, src, nsrc, name, from, to, &b, st, err);
		st->series++;
		st->points += b.n;
		st->summaries += b.ns;
		if (rc == SL_OK && b.n + b.ns > 0)
			rc = fn(ctx, name, b.sums, b.ns, b.pts, b.n);
	}
	if (trace_on(&db->trace))
		trace_emit(&db->trace,
			   "read [%" PRId64 ", %" PRId64 "): %" PRIu64 " segments and %s; %" PRIu64
			   " postings lists -> %" PRIu64 " candidates; %" PRIu64 " series, %" PRIu64
			   " chunks decoded, %" PRIu64 " points, %" PRIu64 " interval summaries",
			   from, to, st->segments, nsrc > st->segments ? "the head" : "not the head",
			   st->lists, st->candidates, st->series, st->chunks, st->points, st->summaries);
	for (size_t k = 0; k < nsrc; k++) {
		free(src[k].items);
		buf_free(&src[k].arena);
	}
	free(src);
	free(b.pts);
	free(b.sums);
	return rc;
}

int ts_segments(ts_t *db, ts_segment_fn fn, void *ctx)
{
	int rc = SL_OK;
	for (size_t i = 0; i < db->nsegs && rc == SL_OK; i++) {
		ts_seg_t *s = db->segs[i];
		const ts_seg_meta_t *m = ts_seg_meta(s);
		ts_segment_t info = { ts_seg_path(s), m->mint, m->maxt, m->interval_ms,
				      ts_seg_series_count(s), ts_seg_points(s), ts_seg_bytes(s) };
		rc = fn(ctx, &info);
	}
	if (rc == SL_OK && db->head.points > 0) {
		ts_segment_t head = { NULL, db->head.min, db->head.max + 1, 0,
				      ts_index_count(db->head.ix), db->head.points,
				      ts_head_bytes(&db->head) };
		rc = fn(ctx, &head);
	}
	return rc;
}

static int ts_dump_segment(void *ctx, const ts_segment_t *s)
{
	fprintf(ctx, "  %s: [%" PRId64 ", %" PRId64 "), %" PRIu64 " series, %" PRIu64 " %s, %.1f KiB\n",
		s->path ? s->path : "head (memory)", s->mint, s->maxt, s->series, s->points,
		s->interval_ms ? "summaries" : "points", (double)s->bytes / 1024);
	return SL_OK;
}

void ts_dump(ts_t *db, FILE *out)
{
	fprintf(out, "ts %s: %zu segments, %zu logs; points before %" PRId64 " are refused\n",
		db->dir, db->nsegs, db->nwals, db->floor);
	ts_segments(db, ts_dump_segment, out);
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
		buf_t raw = BUF_INIT; /* a summary segment counts the series it summarises */
		for (uint32_t k = 0; all && k < ts_seg_series_count(s); k++)
			if (ts_seg_meta(s)->interval_ms == 0)
				ts_index_add(all, ts_seg_series(s, k), &id, NULL);
			else if (ts_down_raw(ts_seg_series(s, k), &raw))
				ts_index_add(all, buf_slice(&raw), &id, NULL);
		buf_free(&raw);
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
	out->downsampled = db->downsampled;
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
