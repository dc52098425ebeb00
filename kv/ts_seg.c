/* ts_seg.c — time-series segment files (format in ts_seg.h). */
#include "kv/ts_seg.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/checksum.h"
#include "engine/codec.h"
#include "engine/vec.h"
#include "index/postings.h"

/* ---------------------------------------------------------------- writing */

struct ts_seg_writer {
	env_t *env;
	char *path, *tmp;
	env_file_t *f;
	ts_seg_meta_t meta;
	uint64_t *parents;
	buf_t tail;            /* the series table, then the other tables and the footer */
	buf_t chunks;          /* one series' chunks, before they are appended */
	buf_t last;            /* the previous series' name */
	ts_index_t *ix;        /* the label index of the series so far */
	uint32_t series;
	uint64_t points;
};

static void ts_seg_writer_free(ts_seg_writer_t *w)
{
	free(w->path);
	free(w->tmp);
	free(w->parents);
	buf_free(&w->tail);
	buf_free(&w->chunks);
	buf_free(&w->last);
	ts_index_free(w->ix);
	free(w);
}

static void ts_seg_header(uint8_t *h, const ts_seg_meta_t *m)
{
	memset(h, 0, TS_SEG_HEADER);
	memcpy(h, TS_SEG_MAGIC, 8);
	codec_put_u32(h + 8, TS_SEG_VERSION);
	h[12] = m->unit;
	h[13] = m->flags;
	codec_put_u64(h + 16, (uint64_t)m->mint);
	codec_put_u64(h + 24, (uint64_t)m->maxt);
	codec_put_u64(h + 32, m->seq);
	codec_put_u32(h + 40, m->interval_ms);
	codec_put_u32(h + 44, checksum_xxh3_32(h, 44, 0));
}

int ts_seg_writer_open(env_t *env, const char *path, const ts_seg_meta_t *meta,
		       ts_seg_writer_t **out, sl_err_t *err)
{
	if (meta->mint >= meta->maxt)
		return sl_errf(err, SL_INVALID, "%s: empty time range [%lld, %lld)", path,
			       (long long)meta->mint, (long long)meta->maxt);
	ts_seg_writer_t *w = calloc(1, sizeof *w);
	if (w == NULL)
		return sl_errf(err, SL_NOMEM, "%s: out of memory", path);
	w->env = env;
	w->meta = *meta;
	w->path = strdup(path);
	w->ix = ts_index_new();
	if (w->path != NULL && asprintf(&w->tmp, "%s.tmp", path) < 0)
		w->tmp = NULL;
	if (meta->nparents > 0) {
		w->parents = malloc(meta->nparents * sizeof *w->parents);
		if (w->parents != NULL)
			memcpy(w->parents, meta->parents, meta->nparents * sizeof *w->parents);
	}
	if (w->path == NULL || w->tmp == NULL || w->ix == NULL ||
	    (meta->nparents > 0 && w->parents == NULL)) {
		ts_seg_writer_free(w);
		return sl_errf(err, SL_NOMEM, "%s: out of memory", path);
	}
	w->meta.parents = w->parents;
	uint8_t h[TS_SEG_HEADER];
	ts_seg_header(h, meta);
	int rc = env_open(env, w->tmp, ENV_WRITE | ENV_CREATE | ENV_TRUNC, &w->f, err);
	if (rc == SL_OK)
		rc = env_append(w->f, h, sizeof h, err);
	if (rc != SL_OK) {
		ts_seg_writer_abort(w);
		return rc;
	}
	*out = w;
	return SL_OK;
}

/* Why the points cannot go into this segment, or NULL when they can. */
static const char *ts_seg_points_bad(const ts_seg_meta_t *m, const ts_point_t *pts, size_t n)
{
	if (n == 0)
		return "a series without points";
	for (size_t i = 0; i < n; i++) {
		if (pts[i].ts < m->mint || pts[i].ts >= m->maxt)
			return "a timestamp outside the segment's range";
		if (i > 0 && pts[i].ts <= pts[i - 1].ts)
			return "timestamps not strictly increasing";
	}
	return NULL;
}

/* Encodes pts[0..n) as one chunk and its entry in the series table. */
static int ts_seg_put_chunk(ts_seg_writer_t *w, const ts_point_t *pts, size_t n, int64_t *prev,
			    sl_err_t *err)
{
	ts_chunk_writer_t cw;
	size_t at = w->chunks.len;
	ts_chunk_writer_init(&cw, &w->chunks);
	for (size_t i = 0; i < n; i++) {
		int rc = ts_chunk_writer_add(&cw, pts[i].ts, pts[i].v, err);
		if (rc != SL_OK) {
			ts_chunk_writer_finish(&cw, NULL);
			return rc;
		}
	}
	int rc = ts_chunk_writer_finish(&cw, err);
	if (rc != SL_OK)
		return rc;
	codec_buf_put_varint(&w->tail, w->chunks.len - at);
	codec_buf_put_varint(&w->tail, codec_zigzag(pts[0].ts - *prev));
	codec_buf_put_varint(&w->tail, (uint64_t)(pts[n - 1].ts - pts[0].ts));
	codec_buf_put_varint(&w->tail, n);
	*prev = pts[n - 1].ts;
	return SL_OK;
}

int ts_seg_writer_add(ts_seg_writer_t *w, sl_slice_t name, const ts_point_t *pts, size_t n,
		      sl_err_t *err)
{
	const char *bad = ts_seg_points_bad(&w->meta, pts, n);
	if (bad == NULL && w->series > 0 && sl_slice_cmp(name, buf_slice(&w->last)) <= 0)
		bad = "series names not strictly increasing";
	if (bad != NULL)
		return sl_errf(err, SL_INVALID, "%s: %s (series %.*s)", w->path, bad, (int)name.len,
			       (const char *)name.data);
	uint32_t id;
	int rc = ts_index_add(w->ix, name, &id, err);
	if (rc != SL_OK)
		return rc;
	assert(id == w->series);
	size_t mark = w->tail.len, nchunks = (n + TS_SEG_CHUNK_POINTS - 1) / TS_SEG_CHUNK_POINTS;
	codec_buf_put_varint(&w->tail, name.len);
	buf_append(&w->tail, name.data, name.len);
	codec_buf_put_varint(&w->tail, nchunks);
	buf_clear(&w->chunks);
	int64_t prev = w->meta.mint;
	for (size_t i = 0; rc == SL_OK && i < n; i += TS_SEG_CHUNK_POINTS) {
		size_t k = n - i < TS_SEG_CHUNK_POINTS ? n - i : TS_SEG_CHUNK_POINTS;
		rc = ts_seg_put_chunk(w, pts + i, k, &prev, err);
	}
	if (rc == SL_OK && (!buf_ok(&w->tail) || !buf_ok(&w->chunks)))
		rc = sl_errf(err, SL_NOMEM, "%s: out of memory", w->path);
	if (rc == SL_OK)
		rc = env_append(w->f, w->chunks.data, w->chunks.len, err);
	if (rc != SL_OK) {
		w->tail.len = mark;
		return rc;
	}
	buf_set(&w->last, name.data, name.len);
	w->series++;
	w->points += n;
	return SL_OK;
}

typedef struct ts_pair_ref {
	sl_slice_t key;
	uint32_t i;
} ts_pair_ref_t;

static int ts_pair_ref_cmp(const void *a, const void *b)
{
	return sl_slice_cmp(((const ts_pair_ref_t *)a)->key, ((const ts_pair_ref_t *)b)->key);
}

/* The label table: every pair of the index, sorted, with its postings. */
static int ts_seg_put_labels(ts_seg_writer_t *w, sl_err_t *err)
{
	uint32_t np = ts_index_pairs(w->ix);
	ts_pair_ref_t *refs = malloc((np + 1) * sizeof *refs);
	if (refs == NULL)
		return sl_errf(err, SL_NOMEM, "%s: out of memory", w->path);
	for (uint32_t i = 0; i < np; i++) {
		const uint32_t *ids;
		size_t n;
		refs[i].key = ts_index_pair(w->ix, i, &ids, &n);
		refs[i].i = i;
	}
	qsort(refs, np, sizeof *refs, ts_pair_ref_cmp);
	buf_t list = BUF_INIT;
	int rc = SL_OK;
	for (uint32_t k = 0; rc == SL_OK && k < np; k++) {
		const uint32_t *ids;
		size_t n;
		ts_index_pair(w->ix, refs[k].i, &ids, &n);
		buf_clear(&list);
		postings_writer_t pw;
		postings_writer_init(&pw, &list, false);
		for (size_t j = 0; rc == SL_OK && j < n; j++)
			rc = postings_writer_add(&pw, ids[j], 1, err);
		int frc = postings_writer_finish(&pw, err);
		rc = rc == SL_OK ? frc : rc;
		codec_buf_put_varint(&w->tail, refs[k].key.len);
		buf_append(&w->tail, refs[k].key.data, refs[k].key.len);
		codec_buf_put_varint(&w->tail, list.len);
		buf_append(&w->tail, list.data, list.len);
	}
	buf_free(&list);
	free(refs);
	return rc;
}

int ts_seg_writer_finish(ts_seg_writer_t *w, sl_err_t *err)
{
	uint64_t series_off = env_size(w->f);
	uint64_t labels_off = series_off + w->tail.len;
	int rc = ts_seg_put_labels(w, err);
	uint64_t parents_off = series_off + w->tail.len;
	codec_buf_put_varint(&w->tail, w->meta.nparents);
	for (uint32_t i = 0; i < w->meta.nparents; i++)
		codec_buf_put_u64(&w->tail, w->parents[i]);
	uint8_t foot[TS_SEG_FOOTER];
	codec_put_u64(foot, series_off);
	codec_put_u64(foot + 8, labels_off);
	codec_put_u64(foot + 16, parents_off);
	codec_put_u32(foot + 24, w->series);
	codec_put_u32(foot + 28, ts_index_pairs(w->ix));
	codec_put_u64(foot + 32, w->points);
	buf_append(&w->tail, foot, 40);
	if (rc == SL_OK && !buf_ok(&w->tail))
		rc = sl_errf(err, SL_NOMEM, "%s: out of memory", w->path);
	if (rc == SL_OK) {
		uint8_t end[8];
		codec_put_u32(end, checksum_xxh3_32(w->tail.data, w->tail.len, 0));
		memcpy(end + 4, "SLTE", 4);
		buf_append(&w->tail, end, 8);
		rc = env_append(w->f, w->tail.data, w->tail.len, err);
	}
	if (rc == SL_OK)
		rc = env_sync(w->f, err);
	int crc = env_close(w->f, rc == SL_OK ? err : NULL);
	w->f = NULL;
	rc = rc == SL_OK ? crc : rc;
	if (rc == SL_OK)
		rc = env_rename(w->env, w->tmp, w->path, err);
	if (rc == SL_OK)
		rc = env_sync_parent(w->env, w->path, err);
	if (rc != SL_OK) {
		ts_seg_writer_abort(w);
		return rc;
	}
	ts_seg_writer_free(w);
	return SL_OK;
}

void ts_seg_writer_abort(ts_seg_writer_t *w)
{
	if (w == NULL)
		return;
	env_close(w->f, NULL);
	if (w->tmp != NULL)
		env_unlink(w->env, w->tmp, NULL);
	ts_seg_writer_free(w);
}

/* ---------------------------------------------------------------- reading */

struct ts_seg {
	env_file_t *f;
	const uint8_t *map;
	uint64_t size;
	ts_seg_meta_t meta;
	uint64_t *parents;
	uint32_t nseries, npairs;
	uint64_t points;
	sl_slice_t *names;       /* per series */
	uint32_t *first;         /* per series + 1: its first chunk in chunks */
	ts_chunk_ref_t *chunks;
	sl_slice_t *keys, *lists; /* per pair */
};

void ts_seg_close(ts_seg_t *s)
{
	if (s == NULL)
		return;
	env_close(s->f, NULL);
	free(s->parents);
	free(s->names);
	free(s->first);
	free(s->chunks);
	free(s->keys);
	free(s->lists);
	free(s);
}

const ts_seg_meta_t *ts_seg_meta(const ts_seg_t *s) { return &s->meta; }
uint32_t ts_seg_series_count(const ts_seg_t *s) { return s->nseries; }
uint64_t ts_seg_points(const ts_seg_t *s) { return s->points; }
uint64_t ts_seg_bytes(const ts_seg_t *s) { return s->size; }
const char *ts_seg_path(const ts_seg_t *s) { return env_path(s->f); }
sl_slice_t ts_seg_series(const ts_seg_t *s, uint32_t id) { return s->names[id]; }
uint32_t ts_seg_pairs(const ts_seg_t *s) { return s->npairs; }

void ts_seg_pair(const ts_seg_t *s, uint32_t i, sl_slice_t *key, sl_slice_t *list)
{
	*key = s->keys[i];
	*list = s->lists[i];
}

size_t ts_seg_chunks(const ts_seg_t *s, uint32_t id, const ts_chunk_ref_t **refs)
{
	*refs = s->chunks + s->first[id];
	return s->first[id + 1] - s->first[id];
}

static int ts_seg_bad(const ts_seg_t *s, const char *what, sl_err_t *err)
{
	return sl_errf(err, SL_CORRUPT, "%s: not a valid segment: %s", env_path(s->f), what);
}

/* A cursor over a table: varints and byte strings, refusing to read past end. */
typedef struct ts_cur {
	const uint8_t *p, *end;
	bool bad;
} ts_cur_t;

static uint64_t ts_cur_varint(ts_cur_t *c)
{
	uint64_t v = 0;
	size_t k = c->bad ? 0 : codec_get_varint(c->p, c->end, &v);
	if (k == 0) {
		c->bad = true;
		return 0;
	}
	c->p += k;
	return v;
}

static sl_slice_t ts_cur_bytes(ts_cur_t *c)
{
	uint64_t n = ts_cur_varint(c);
	if (c->bad || n > (uint64_t)(c->end - c->p)) {
		c->bad = true;
		return sl_slice(c->p, 0);
	}
	sl_slice_t s = sl_slice(c->p, (size_t)n);
	c->p += n;
	return s;
}

static int ts_seg_read_header(ts_seg_t *s, sl_err_t *err)
{
	const uint8_t *h = s->map;
	if (s->size < TS_SEG_HEADER + TS_SEG_FOOTER || memcmp(h, TS_SEG_MAGIC, 8) != 0)
		return ts_seg_bad(s, "no segment header", err);
	if (codec_get_u32(h + 44) != checksum_xxh3_32(h, 44, 0))
		return ts_seg_bad(s, "header checksum mismatch", err);
	if (codec_get_u32(h + 8) != TS_SEG_VERSION)
		return sl_errf(err, SL_CORRUPT, "%s: segment format version %u, this build reads %u",
			       env_path(s->f), codec_get_u32(h + 8), TS_SEG_VERSION);
	s->meta.unit = h[12];
	s->meta.flags = h[13];
	s->meta.mint = (int64_t)codec_get_u64(h + 16);
	s->meta.maxt = (int64_t)codec_get_u64(h + 24);
	s->meta.seq = codec_get_u64(h + 32);
	s->meta.interval_ms = codec_get_u32(h + 40);
	if (s->meta.mint >= s->meta.maxt || s->meta.unit > 3)
		return ts_seg_bad(s, "header holds an empty time range or an unknown unit", err);
	return SL_OK;
}

/* Reads one series' entry of the series table: its name and chunk references. */
static bool ts_seg_read_series(ts_seg_t *s, ts_cur_t *c, uint64_t *off, size_t *cap)
{
	uint32_t id = s->nseries;
	s->names[id] = ts_cur_bytes(c);
	uint64_t nchunks = ts_cur_varint(c);
	if (c->bad || nchunks == 0 || nchunks > (uint64_t)(c->end - c->p) ||
	    (id > 0 && sl_slice_cmp(s->names[id], s->names[id - 1]) <= 0))
		return false;
	uint32_t at = s->first[id];
	if (at + nchunks > *cap) {
		size_t ncap = 2 * (at + nchunks);
		ts_chunk_ref_t *r = realloc(s->chunks, ncap * sizeof *r);
		if (r == NULL)
			return false;
		s->chunks = r;
		*cap = ncap;
	}
	int64_t prev = s->meta.mint;
	for (uint64_t k = 0; k < nchunks && !c->bad; k++) {
		ts_chunk_ref_t *r = &s->chunks[at + k];
		uint64_t bytes = ts_cur_varint(c);
		int64_t first = (int64_t)((uint64_t)prev + (uint64_t)codec_unzigzag(ts_cur_varint(c)));
		uint64_t span = ts_cur_varint(c), points = ts_cur_varint(c);
		if (bytes < TS_CHUNK_HEADER || bytes > 0xffffffffu || points == 0 ||
		    points > TS_CHUNK_MAX_POINTS || first < s->meta.mint || first >= s->meta.maxt ||
		    span >= (uint64_t)s->meta.maxt - (uint64_t)first || (k > 0 && first <= prev))
			return false; /* (first in [mint, maxt): maxt - first cannot overflow unsigned) */
		*r = (ts_chunk_ref_t){ .off = *off, .bytes = (uint32_t)bytes, .points = (uint32_t)points,
				       .first = first, .last = first + (int64_t)span };
		prev = r->last;
		*off += bytes;
		s->points += points;
	}
	s->first[id + 1] = at + (uint32_t)nchunks;
	return !c->bad;
}

static int ts_seg_read_tables(ts_seg_t *s, uint64_t series_off, uint64_t labels_off,
			      uint64_t parents_off, uint64_t points, sl_err_t *err)
{
	size_t cap = 0;
	s->names = malloc((s->nseries + 1) * sizeof *s->names);
	s->first = calloc(s->nseries + 1, sizeof *s->first);
	s->keys = malloc((s->npairs + 1) * sizeof *s->keys);
	s->lists = malloc((s->npairs + 1) * sizeof *s->lists);
	if (!s->names || !s->first || !s->keys || !s->lists)
		return sl_errf(err, SL_NOMEM, "%s: out of memory", env_path(s->f));
	ts_cur_t c = { s->map + series_off, s->map + labels_off, false };
	uint32_t n = s->nseries;
	uint64_t off = TS_SEG_HEADER;
	for (s->nseries = 0; s->nseries < n; s->nseries++)
		if (!ts_seg_read_series(s, &c, &off, &cap))
			return ts_seg_bad(s, "series table", err);
	if (c.p != c.end || off != series_off || s->points != points)
		return ts_seg_bad(s, "series table does not tile the chunks", err);
	c = (ts_cur_t){ s->map + labels_off, s->map + parents_off, false };
	for (uint32_t i = 0; i < s->npairs; i++) {
		s->keys[i] = ts_cur_bytes(&c);
		s->lists[i] = ts_cur_bytes(&c);
		if (c.bad || (i > 0 && sl_slice_cmp(s->keys[i], s->keys[i - 1]) <= 0))
			return ts_seg_bad(s, "label table", err);
	}
	c = (ts_cur_t){ s->map + parents_off, s->map + s->size - TS_SEG_FOOTER, false };
	uint64_t np = ts_cur_varint(&c);
	if (c.bad || np > (uint64_t)(c.end - c.p) / 8 || (uint64_t)(c.end - c.p) != np * 8)
		return ts_seg_bad(s, "parents", err);
	s->parents = malloc((np + 1) * sizeof *s->parents);
	if (s->parents == NULL)
		return sl_errf(err, SL_NOMEM, "%s: out of memory", env_path(s->f));
	for (uint64_t i = 0; i < np; i++)
		s->parents[i] = codec_get_u64(c.p + 8 * i);
	s->meta.parents = s->parents;
	s->meta.nparents = (uint32_t)np;
	return SL_OK;
}

static int ts_seg_read_footer(ts_seg_t *s, sl_err_t *err)
{
	const uint8_t *f = s->map + s->size - TS_SEG_FOOTER;
	uint64_t series_off = codec_get_u64(f), labels_off = codec_get_u64(f + 8);
	uint64_t parents_off = codec_get_u64(f + 16), foot = s->size - TS_SEG_FOOTER;
	if (memcmp(f + 44, "SLTE", 4) != 0)
		return ts_seg_bad(s, "no footer", err);
	if (series_off < TS_SEG_HEADER || series_off > labels_off || labels_off > parents_off ||
	    parents_off > foot)
		return ts_seg_bad(s, "footer offsets out of order", err);
	if (codec_get_u32(f + 40) != checksum_xxh3_32(s->map + series_off, foot + 40 - series_off, 0))
		return ts_seg_bad(s, "tables checksum mismatch", err);
	s->nseries = codec_get_u32(f + 24);
	s->npairs = codec_get_u32(f + 28);
	if (s->nseries > foot - series_off || s->npairs > foot - labels_off)
		return ts_seg_bad(s, "footer counts exceed the tables", err);
	return ts_seg_read_tables(s, series_off, labels_off, parents_off, codec_get_u64(f + 32), err);
}

int ts_seg_open(env_t *env, const char *path, ts_seg_t **out, sl_err_t *err)
{
	ts_seg_t *s = calloc(1, sizeof *s);
	if (s == NULL)
		return sl_errf(err, SL_NOMEM, "%s: out of memory", path);
	int rc = env_open(env, path, ENV_READ, &s->f, err);
	if (rc == SL_OK) {
		s->size = env_size(s->f);
		rc = s->size < TS_SEG_HEADER + TS_SEG_FOOTER ? ts_seg_bad(s, "file too short", err)
							      : env_map(s->f, err);
	}
	if (rc == SL_OK)
		rc = env_read_mapped(s->f, 0, s->size, &s->map, err);
	if (rc == SL_OK)
		rc = ts_seg_read_header(s, err);
	if (rc == SL_OK)
		rc = ts_seg_read_footer(s, err);
	if (rc != SL_OK) {
		ts_seg_close(s);
		return rc;
	}
	*out = s;
	return SL_OK;
}

/* Binary search of sorted slices: the position of key, or false. */
static bool ts_slices_find(const sl_slice_t *v, uint32_t n, sl_slice_t key, uint32_t *at)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = sl_slice_cmp(v[mid], key);
		if (c == 0) {
			*at = mid;
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool ts_seg_find(const ts_seg_t *s, sl_slice_t name, uint32_t *id)
{
	return ts_slices_find(s->names, s->nseries, name, id);
}

int ts_seg_chunk(ts_seg_t *s, const ts_chunk_ref_t *ref, sl_slice_t *chunk, sl_err_t *err)
{
	const uint8_t *p;
	int rc = env_read_mapped(s->f, ref->off, ref->bytes, &p, err);
	if (rc == SL_OK)
		*chunk = sl_slice(p, ref->bytes);
	return rc;
}

/* Opens a chunk for decoding, checking that it is the one the table describes. */
static int ts_seg_chunk_iter(ts_seg_t *s, const ts_chunk_ref_t *ref, ts_chunk_iter_t *it,
			     sl_err_t *err)
{
	sl_slice_t chunk;
	int rc = ts_seg_chunk(s, ref, &chunk, err);
	if (rc == SL_OK)
		rc = ts_chunk_iter_init(it, chunk, err);
	if (rc == SL_OK && (it->info.points != ref->points || it->info.first_ts != ref->first ||
			    it->info.last_ts != ref->last || it->info.bytes != ref->bytes))
		rc = sl_errf(err, SL_CORRUPT, "%s: the chunk at offset %llu does not match its table entry",
			     env_path(s->f), (unsigned long long)ref->off);
	return rc;
}

int ts_seg_read(ts_seg_t *s, uint32_t id, int64_t from, int64_t to, ts_point_t **pts,
		size_t *n, size_t *cap, uint64_t *chunks, sl_err_t *err)
{
	const ts_chunk_ref_t *refs;
	size_t nref = ts_seg_chunks(s, id, &refs);
	for (size_t k = 0; k < nref; k++) {
		if (refs[k].last < from || refs[k].first >= to)
			continue;
		ts_chunk_iter_t it;
		int rc = ts_seg_chunk_iter(s, &refs[k], &it, err);
		if (rc != SL_OK)
			return rc;
		rc = ts_chunk_iter_range(&it, from, to, pts, n, cap, err);
		if (rc != SL_OK)
			return rc == SL_NOMEM ? rc : sl_err_prefix(err, "%s: ", env_path(s->f));
		if (chunks != NULL)
			(*chunks)++;
	}
	return SL_OK;
}

/* The postings list of a pair; false when no series holds it. */
static bool ts_seg_lookup(const ts_seg_t *s, const char *name, const char *value, sl_slice_t *list)
{
	buf_t key = BUF_INIT;
	buf_append(&key, name, strlen(name) + 1); /* "name\0value", as the table sorts them */
	buf_append(&key, value, strlen(value));
	uint32_t at;
	bool found = buf_ok(&key) && ts_slices_find(s->keys, s->npairs, buf_slice(&key), &at);
	if (found)
		*list = s->lists[at];
	buf_free(&key);
	return found;
}

/* Keeps in cand only the ids in list (both increasing). */
static int ts_seg_intersect(ts_seg_t *s, u32s_t *cand, sl_slice_t list, sl_err_t *err)
{
	postings_iter_t it;
	int rc = postings_iter_init(&it, list, err);
	size_t out = 0;
	for (size_t i = 0; rc == SL_OK && i < cand->n && postings_iter_valid(&it); i++) {
		rc = postings_iter_advance(&it, cand->v[i], err);
		if (rc == SL_OK && postings_iter_valid(&it) && postings_iter_doc(&it) == cand->v[i])
			cand->v[out++] = cand->v[i];
	}
	cand->n = out;
	return rc == SL_OK ? SL_OK : sl_err_prefix(err, "%s: label index: ", env_path(s->f));
}

/* Reads a whole postings list into cand (its ids must name series of s). */
static int ts_seg_list(ts_seg_t *s, sl_slice_t list, u32s_t *cand, sl_err_t *err)
{
	postings_iter_t it;
	int rc = postings_iter_init(&it, list, err);
	while (rc == SL_OK && postings_iter_valid(&it)) {
		if (postings_iter_doc(&it) >= s->nseries)
			return ts_seg_bad(s, "label index names a series past the table", err);
		if (!u32s_push(cand, postings_iter_doc(&it)))
			return sl_errf(err, SL_NOMEM, "%s: out of memory", env_path(s->f));
		rc = postings_iter_next(&it, err);
	}
	return rc == SL_OK ? SL_OK : sl_err_prefix(err, "%s: label index: ", env_path(s->f));
}

/* The candidates: the intersection of the equality matchers' lists, or every id. */
static int ts_seg_candidates(ts_seg_t *s, const ts_selector_t *sel, u32s_t *cand,
			     ts_index_stats_t *st, sl_err_t *err)
{
	bool have = false;
	for (size_t i = 0; i < sel->n; i++) {
		const ts_matcher_t *m = &sel->m[i];
		if (m->op != TS_EQ || m->value[0] == '\0')
			continue;
		sl_slice_t list;
		st->lists++;
		if (!ts_seg_lookup(s, m->name, m->value, &list)) {
			cand->n = 0;
			return SL_OK;
		}
		int rc = have ? ts_seg_intersect(s, cand, list, err) : ts_seg_list(s, list, cand, err);
		if (rc != SL_OK)
			return rc;
		have = true;
	}
	if (have)
		return SL_OK;
	if (!u32s_reserve(cand, s->nseries + 1))
		return sl_errf(err, SL_NOMEM, "%s: out of memory", env_path(s->f));
	for (uint32_t k = 0; k < s->nseries; k++)
		cand->v[cand->n++] = k;
	return SL_OK;
}

int ts_seg_select(ts_seg_t *s, const ts_selector_t *sel, uint32_t **ids, size_t *n,
		  ts_index_stats_t *st, sl_err_t *err)
{
	ts_index_stats_t dummy;
	st = st ? st : &dummy;
	memset(st, 0, sizeof *st);
	u32s_t cand = { 0 };
	int rc = ts_seg_candidates(s, sel, &cand, st, err);
	if (rc != SL_OK) {
		u32s_free(&cand);
		return rc;
	}
	st->candidates = (uint32_t)cand.n;
	size_t out = 0;
	for (size_t k = 0; k < cand.n; k++) {
		st->tested++;
		if (ts_select_match(sel, s->names[cand.v[k]]))
			cand.v[out++] = cand.v[k];
	}
	*ids = cand.v;
	*n = out;
	return SL_OK;
}

/* Invariant 3: the label index holds exactly the pairs the names hold. */
static int ts_seg_check_labels(ts_seg_t *s, sl_err_t *err)
{
	ts_index_t *ix = ts_index_new();
	if (ix == NULL)
		return sl_errf(err, SL_NOMEM, "%s: out of memory", env_path(s->f));
	int rc = SL_OK;
	for (uint32_t i = 0; rc == SL_OK && i < s->nseries; i++) {
		uint32_t id;
		rc = ts_index_add(ix, s->names[i], &id, err);
	}
	if (rc == SL_OK && ts_index_pairs(ix) != s->npairs)
		rc = ts_seg_bad(s, "the label index holds other pairs than the series names", err);
	u32s_t got = { 0 };
	for (uint32_t p = 0; rc == SL_OK && p < ts_index_pairs(ix); p++) {
		const uint32_t *ids;
		size_t n;
		sl_slice_t key = ts_index_pair(ix, p, &ids, &n), list;
		const char *name = (const char *)key.data;
		char *value = strndup(name + strlen(name) + 1, key.len - strlen(name) - 1);
		if (value == NULL) {
			rc = sl_errf(err, SL_NOMEM, "%s: out of memory", env_path(s->f));
			break;
		}
		got.n = 0;
		if (!ts_seg_lookup(s, name, value, &list))
			rc = ts_seg_bad(s, "a label pair of a series is missing from the label index", err);
		else if ((rc = ts_seg_list(s, list, &got, err)) == SL_OK &&
			 (got.n != n || memcmp(got.v, ids, n * sizeof *ids) != 0))
			rc = ts_seg_bad(s, "a label pair's postings differ from the series names", err);
		free(value);
	}
	u32s_free(&got);
	ts_index_free(ix);
	return rc;
}

int ts_seg_check(ts_seg_t *s, sl_err_t *err)
{
	for (uint32_t id = 0; id < s->nseries; id++) {
		const ts_chunk_ref_t *refs;
		size_t nref = ts_seg_chunks(s, id, &refs);
		int64_t prev = INT64_MIN;
		for (size_t k = 0; k < nref; k++) {
			ts_chunk_iter_t it;
			int rc = ts_seg_chunk_iter(s, &refs[k], &it, err);
			while (rc == SL_OK && ts_chunk_iter_next(&it, err)) {
				if (it.ts <= prev)
					return ts_seg_bad(s, "a series' timestamps do not increase", err);
				prev = it.ts;
			}
			if (rc == SL_OK && it.status != SL_OK)
				rc = sl_err_prefix(err, "%s: ", env_path(s->f));
			if (rc != SL_OK)
				return rc;
		}
	}
	return ts_seg_check_labels(s, err);
}
