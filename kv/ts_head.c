/*
 * ts_head.c — the head: every series' newest points, in memory, compressed.
 *
 * A series appends its in-order points to an open Gorilla chunk; a full
 * chunk (TS_SEG_CHUNK_POINTS) joins the finished ones in one byte buffer. A
 * point at or before the series' last goes to a small array of out-of-order
 * points instead (a chunk cannot take a point out of order); reads merge the
 * two, and once TS_OOO_FOLD of them are waiting they are merged into freshly
 * written chunks, so the head stays compressed.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kv/ts_int.h"

int ts_head_init(ts_head_t *h, sl_err_t *err)
{
	memset(h, 0, sizeof *h);
	h->min = INT64_MAX;
	h->max = INT64_MIN;
	h->ix = ts_index_new();
	return h->ix ? SL_OK : sl_errf(err, SL_NOMEM, "ts head: out of memory");
}

static void ts_hser_clear(ts_hser_t *s)
{
	if (s->w.points > 0)
		ts_chunk_writer_finish(&s->w, NULL); /* frees its bits (into chunks, freed next) */
	buf_free(&s->chunks);
	free(s->ooo);
	s->ooo = NULL;
	s->nooo = s->cooo = 0;
	s->last = INT64_MIN;
	s->min = INT64_MAX;
	s->points = 0;
	buf_t scratch = BUF_INIT;
	s->chunks = scratch;
	ts_chunk_writer_init(&s->w, &s->chunks);
}

void ts_head_free(ts_head_t *h)
{
	uint32_t n = h->ix ? ts_index_count(h->ix) : 0;
	for (uint32_t i = 0; i < n && h->ser; i++) {
		if (h->ser[i] == NULL)
			continue;
		ts_hser_clear(h->ser[i]);
		free(h->ser[i]);
	}
	free(h->ser);
	ts_index_free(h->ix);
	memset(h, 0, sizeof *h);
}

int ts_head_series(ts_head_t *h, sl_slice_t name, uint32_t *id, sl_err_t *err)
{
	int rc = ts_index_add(h->ix, name, id, err);
	if (rc != SL_OK || (*id < h->cap && h->ser[*id] != NULL))
		return rc;
	if (*id >= h->cap) {
		uint32_t cap = h->cap ? 2 * h->cap : 256;
		ts_hser_t **ser = realloc(h->ser, cap * sizeof *ser);
		if (ser == NULL)
			return sl_errf(err, SL_NOMEM, "ts head: out of memory");
		memset(ser + h->cap, 0, (cap - h->cap) * sizeof *ser);
		h->ser = ser;
		h->cap = cap;
	}
	ts_hser_t *s = calloc(1, sizeof *s);
	if (s == NULL)
		return sl_errf(err, SL_NOMEM, "ts head: out of memory");
	ts_hser_clear(s);
	h->ser[*id] = s;
	return SL_OK;
}

/* Appends a point later than the series' last to its open chunk. */
static int ts_head_append(ts_hser_t *s, int64_t ts, double v, sl_err_t *err)
{
	if (s->w.points == TS_SEG_CHUNK_POINTS) {
		int rc = ts_chunk_writer_finish(&s->w, err);
		if (rc != SL_OK)
			return rc;
		ts_chunk_writer_init(&s->w, &s->chunks);
	}
	int rc = ts_chunk_writer_add(&s->w, ts, v, err);
	if (rc == SL_OK)
		s->last = ts;
	return rc;
}

/* Merges the out-of-order points into the chunks: decode all, rewrite all. */
static int ts_head_fold(ts_head_t *h, uint32_t id, sl_err_t *err)
{
	ts_point_t *pts = NULL;
	size_t n = 0, cap = 0;
	int rc = ts_head_points(h, id, INT64_MIN, INT64_MAX, &pts, &n, &cap, NULL, err);
	if (rc == SL_OK)
		rc = ts_head_reset(h, id, pts, n, err);
	free(pts);
	return rc;
}

int ts_head_add(ts_head_t *h, uint32_t id, int64_t ts, double v, sl_err_t *err)
{
	ts_hser_t *s = h->ser[id];
	int rc;
	if (ts > s->last) {
		rc = ts_head_append(s, ts, v, err);
	} else {
		if (s->nooo == s->cooo) {
			uint32_t cap = s->cooo ? 2 * s->cooo : 8;
			ts_point_t *p = realloc(s->ooo, cap * sizeof *p);
			if (p == NULL)
				return sl_errf(err, SL_NOMEM, "ts head: out of memory");
			s->ooo = p;
			s->cooo = cap;
		}
		s->ooo[s->nooo++] = (ts_point_t){ ts, v };
		h->ooo++;
		rc = SL_OK;
	}
	if (rc != SL_OK)
		return rc;
	s->points++;
	h->points++;
	s->min = ts < s->min ? ts : s->min;
	h->min = ts < h->min ? ts : h->min;
	h->max = ts > h->max ? ts : h->max;
	return s->nooo >= TS_OOO_FOLD ? ts_head_fold(h, id, err) : SL_OK;
}

int ts_head_adopt(ts_head_t *h, uint32_t id, sl_slice_t chunk, sl_err_t *err)
{
	ts_hser_t *s = h->ser[id];
	ts_chunk_info_t info;
	int rc = ts_chunk_info(chunk, &info, err);
	if (rc != SL_OK)
		return sl_err_prefix(err, "ts head: ");
	if (s->w.points > 0 || s->nooo > 0 || info.first_ts <= s->last || info.bytes != chunk.len)
		return sl_errf(err, SL_INVALID, "ts head: a chunk adopted out of order");
	buf_append(&s->chunks, chunk.data, chunk.len);
	if (!buf_ok(&s->chunks))
		return sl_errf(err, SL_NOMEM, "ts head: out of memory");
	s->last = info.last_ts;
	s->min = info.first_ts < s->min ? info.first_ts : s->min;
	s->points += info.points;
	h->points += info.points;
	h->min = info.first_ts < h->min ? info.first_ts : h->min;
	h->max = info.last_ts > h->max ? info.last_ts : h->max;
	return SL_OK;
}

/* Decodes one chunk's points in [from, to) onto *pts. */
static int ts_head_chunk(sl_slice_t chunk, int64_t from, int64_t to, ts_point_t **pts, size_t *n,
			 size_t *cap, uint64_t *chunks, sl_err_t *err)
{
	ts_chunk_iter_t it;
	int rc = ts_chunk_iter_init(&it, chunk, err);
	if (rc != SL_OK)
		return rc;
	if (it.info.last_ts < from || it.info.first_ts >= to)
		return SL_OK;
	if (chunks != NULL)
		(*chunks)++;
	return ts_chunk_iter_range(&it, from, to, pts, n, cap, err);
}

typedef struct ts_ooo_ref {
	ts_point_t p;
	uint32_t order;          /* arrival: among equal timestamps the latest wins */
} ts_ooo_ref_t;

static int ts_ooo_cmp(const void *a, const void *b)
{
	const ts_ooo_ref_t *x = a, *y = b;
	if (x->p.ts != y->p.ts)
		return x->p.ts < y->p.ts ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * Merges the out-of-order points in range into the in-order run pts[base..*n):
 * for a timestamp both hold, the out-of-order point is the later write.
 */
static int ts_head_merge(const ts_hser_t *s, int64_t from, int64_t to, ts_point_t **pts,
			 size_t base, size_t *n, size_t *cap, sl_err_t *err)
{
	ts_ooo_ref_t *o = malloc((s->nooo + 1) * sizeof *o);
	size_t no = 0, na = *n - base;
	if (o == NULL)
		return sl_errf(err, SL_NOMEM, "ts head: out of memory");
	for (uint32_t i = 0; i < s->nooo; i++)
		if (s->ooo[i].ts >= from && s->ooo[i].ts < to)
			o[no++] = (ts_ooo_ref_t){ s->ooo[i], i };
	if (no == 0) { /* none in the range: the in-order run stands */
		free(o);
		return SL_OK;
	}
	qsort(o, no, sizeof *o, ts_ooo_cmp);
	ts_point_t *a = malloc((na + 1) * sizeof *a);
	if (a == NULL || !ts_points_reserve(pts, cap, base + na + no)) {
		free(o);
		free(a);
		return sl_errf(err, SL_NOMEM, "ts head: out of memory");
	}
	if (na > 0)
		memcpy(a, *pts + base, na * sizeof *a);
	size_t i = 0, j = 0, out = base;
	while (i < na || j < no) {
		/* The out-of-order run of one timestamp: its last point stands for it. */
		if (j < no && (i == na || o[j].p.ts <= a[i].ts)) {
			while (j + 1 < no && o[j + 1].p.ts == o[j].p.ts)
				j++;
			if (i < na && a[i].ts == o[j].p.ts)
				i++;
			(*pts)[out++] = o[j++].p;
		} else {
			(*pts)[out++] = a[i++];
		}
	}
	*n = out;
	free(o);
	free(a);
	return SL_OK;
}

int ts_head_points(const ts_head_t *h, uint32_t id, int64_t from, int64_t to, ts_point_t **pts,
		   size_t *n, size_t *cap, uint64_t *chunks, sl_err_t *err)
{
	const ts_hser_t *s = h->ser[id];
	size_t base = *n;
	int rc = SL_OK;
	ts_chunk_info_t info;
	for (size_t off = 0; rc == SL_OK && off < s->chunks.len; off += info.bytes) {
		sl_slice_t rest = sl_slice(s->chunks.data + off, s->chunks.len - off);
		rc = ts_chunk_info(rest, &info, err);
		if (rc == SL_OK)
			rc = ts_head_chunk(sl_slice(rest.data, info.bytes), from, to, pts, n, cap, chunks, err);
	}
	if (rc == SL_OK && s->w.points > 0 && s->last >= from && s->w.first_ts < to) {
		buf_t open = BUF_INIT;
		rc = ts_chunk_writer_peek(&s->w, &open, err);
		if (rc == SL_OK)
			rc = ts_head_chunk(buf_slice(&open), from, to, pts, n, cap, chunks, err);
		buf_free(&open);
	}
	if (rc == SL_OK && s->nooo > 0)
		rc = ts_head_merge(s, from, to, pts, base, n, cap, err);
	return rc == SL_OK ? SL_OK : sl_err_prefix(err, "ts head: ");
}

int ts_head_reset(ts_head_t *h, uint32_t id, const ts_point_t *pts, size_t n, sl_err_t *err)
{
	ts_hser_t *s = h->ser[id];
	h->points -= s->points;
	h->ooo -= s->nooo;
	ts_hser_clear(s);
	for (size_t i = 0; i < n; i++) {
		assert(i == 0 || pts[i].ts > pts[i - 1].ts);
		int rc = ts_head_append(s, pts[i].ts, pts[i].v, err);
		if (rc != SL_OK)
			return rc;
	}
	s->points = n;
	s->min = n > 0 ? pts[0].ts : INT64_MAX;
	h->points += n;
	return SL_OK;
}

void ts_head_rescan(ts_head_t *h)
{
	h->min = INT64_MAX;
	h->max = INT64_MIN;
	for (uint32_t i = 0; i < ts_index_count(h->ix); i++) {
		const ts_hser_t *s = h->ser[i];
		h->min = s->min < h->min ? s->min : h->min;
		h->max = s->last > h->max ? s->last : h->max;
		for (uint32_t k = 0; k < s->nooo; k++)
			h->max = s->ooo[k].ts > h->max ? s->ooo[k].ts : h->max;
	}
}

uint64_t ts_head_bytes(const ts_head_t *h)
{
	uint64_t bytes = 0;
	for (uint32_t i = 0; i < ts_index_count(h->ix); i++) {
		const ts_hser_t *s = h->ser[i];
		bytes += s->chunks.len + s->nooo * sizeof(ts_point_t);
		if (s->w.points > 0)
			bytes += ts_chunk_writer_bytes(&s->w);
	}
	return bytes;
}

static int ts_id_cmp(const void *a, const void *b, void *ix)
{
	return sl_slice_cmp(ts_index_series(ix, *(const uint32_t *)a),
			    ts_index_series(ix, *(const uint32_t *)b));
}

int ts_head_sorted(const ts_head_t *h, uint32_t **ids, size_t *n, sl_err_t *err)
{
	uint32_t all = ts_index_count(h->ix);
	*ids = malloc((all + 1) * sizeof **ids);
	if (*ids == NULL)
		return sl_errf(err, SL_NOMEM, "ts head: out of memory");
	*n = 0;
	for (uint32_t i = 0; i < all; i++)
		if (h->ser[i]->points > 0)
			(*ids)[(*n)++] = i;
	qsort_r(*ids, *n, sizeof **ids, ts_id_cmp, h->ix);
	return SL_OK;
}
