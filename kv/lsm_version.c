/* lsm_version.c — versions, edits and the manifest of the LSM store (see lsm_int.h). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/codec.h"
#include "kv/lsm_int.h"

/* Manifest record tags (on disk — never renumber). */
enum {
	EDIT_LOG_NUMBER = 1,
	EDIT_NEXT_FILE = 2,
	EDIT_LAST_SEQ = 3,
	EDIT_DELETE = 4,
	EDIT_ADD = 5,
};

void lsm_file_path(const lsm_t *db, uint64_t number, const char *ext, char *path, size_t size)
{
	snprintf(path, size, "%s/lsm-%06llu.%s", db->dir, (unsigned long long)number, ext);
}

/* ================================================================ files */

lsm_file_t *lsm_file_new(uint64_t number)
{
	lsm_file_t *f = calloc(1, sizeof *f);
	if (f != NULL) {
		f->number = number;
		f->refs = 1;
	}
	return f;
}

void lsm_file_unref(lsm_t *db, lsm_file_t *f)
{
	assert(f->refs > 0);
	if (--f->refs > 0)
		return;
	/* Cached blocks may point into the table's map: drop them before the map goes. */
	if (db != NULL && db->cache != NULL)
		cache_erase_file(db->cache, f->number);
	sst_close(f->table);
	if (f->obsolete && db != NULL) {
		/* No version holds it: nothing can read it again. */
		char path[4200];
		lsm_file_path(db, f->number, "sst", path, sizeof path);
		env_unlink(db->env, path, NULL);
		if (trace_on(db->trace))
			trace_emit(db->trace, "delete lsm-%06llu.sst: no version uses it",
				   (unsigned long long)f->number);
	}
	buf_free(&f->smallest);
	buf_free(&f->largest);
	free(f);
}

/* ================================================================ versions */

lsm_version_t *lsm_version_new(void)
{
	lsm_version_t *v = calloc(1, sizeof *v);
	if (v != NULL)
		v->refs = 1;
	return v;
}

void lsm_version_ref(lsm_version_t *v) { v->refs++; }

void lsm_version_unref(lsm_t *db, lsm_version_t *v)
{
	if (v == NULL || --v->refs > 0)
		return;
	for (int l = 0; l < LSM_LEVELS; l++) {
		for (size_t r = 0; r < v->levels[l].n; r++) {
			lsm_run_t *run = &v->levels[l].runs[r];
			for (size_t i = 0; i < run->n; i++)
				lsm_file_unref(db, run->files[i]);
			free(run->files);
		}
		free(v->levels[l].runs);
	}
	free(v);
}

uint64_t lsm_level_bytes(const lsm_level_t *l)
{
	uint64_t n = 0;
	for (size_t r = 0; r < l->n; r++)
		for (size_t i = 0; i < l->runs[r].n; i++)
			n += l->runs[r].files[i]->bytes;
	return n;
}

size_t lsm_level_files(const lsm_level_t *l)
{
	size_t n = 0;
	for (size_t r = 0; r < l->n; r++)
		n += l->runs[r].n;
	return n;
}

lsm_file_t *lsm_run_find(const lsm_run_t *r, sl_slice_t key)
{
	/* The first table whose largest user key is >= key. */
	size_t lo = 0, hi = r->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sl_slice_cmp(lsm_ikey_user(buf_slice(&r->files[mid]->largest)), key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == r->n)
		return NULL;
	lsm_file_t *f = r->files[lo];
	if (sl_slice_cmp(lsm_ikey_user(buf_slice(&f->smallest)), key) > 0)
		return NULL;
	return f;
}

/* Adds f (taking a reference) to the run of `level` with id `run`, creating the run. */
static bool lsm_version_put(lsm_version_t *v, int level, uint64_t run, lsm_file_t *f)
{
	lsm_level_t *l = &v->levels[level];
	lsm_run_t *r = NULL;
	for (size_t i = 0; i < l->n && r == NULL; i++)
		if (l->runs[i].id == run)
			r = &l->runs[i];
	if (r == NULL) {
		lsm_run_t *runs = realloc(l->runs, (l->n + 1) * sizeof *runs);
		if (runs == NULL)
			return false;
		l->runs = runs;
		r = &l->runs[l->n++];
		*r = (lsm_run_t){ .id = run };
	}
	lsm_file_t **files = realloc(r->files, (r->n + 1) * sizeof *files);
	if (files == NULL)
		return false;
	r->files = files;
	r->files[r->n++] = f;
	f->refs++;
	return true;
}

static bool lsm_edit_deletes(const lsm_edit_t *e, int level, uint64_t number)
{
	for (size_t i = 0; i < e->ndels; i++)
		if (e->dels[i].level == level && e->dels[i].number == number)
			return true;
	return false;
}

static int lsm_run_cmp(const void *a, const void *b)
{
	uint64_t x = ((const lsm_run_t *)a)->id, y = ((const lsm_run_t *)b)->id;
	return (x < y) - (x > y); /* newest (largest id) first */
}

static int lsm_file_cmp(const void *a, const void *b)
{
	const lsm_file_t *x = *(lsm_file_t *const *)a, *y = *(lsm_file_t *const *)b;
	return lsm_ikey_cmp(buf_slice(&x->smallest), buf_slice(&y->smallest));
}

lsm_version_t *lsm_version_apply(const lsm_version_t *base, const lsm_edit_t *e)
{
	lsm_version_t *v = lsm_version_new();
	if (v == NULL)
		return NULL;
	bool ok = true;
	for (int l = 0; l < LSM_LEVELS && base; l++)
		for (size_t r = 0; r < base->levels[l].n; r++) {
			const lsm_run_t *run = &base->levels[l].runs[r];
			for (size_t i = 0; i < run->n; i++)
				if (!lsm_edit_deletes(e, l, run->files[i]->number))
					ok = ok && lsm_version_put(v, l, run->id, run->files[i]);
		}
	for (size_t i = 0; i < e->nadds; i++)
		ok = ok && lsm_version_put(v, e->adds[i].level, e->adds[i].run, e->adds[i].file);
	if (!ok) {
		lsm_version_unref(NULL, v);
		return NULL;
	}
	for (int l = 0; l < LSM_LEVELS; l++) {
		lsm_level_t *lv = &v->levels[l];
		if (lv->n > 1)
			qsort(lv->runs, lv->n, sizeof *lv->runs, lsm_run_cmp);
		for (size_t r = 0; r < lv->n; r++)
			if (lv->runs[r].n > 1)
				qsort(lv->runs[r].files, lv->runs[r].n, sizeof(lsm_file_t *), lsm_file_cmp);
	}
	return v;
}

/* ================================================================ edits */

void lsm_edit_free(lsm_edit_t *e)
{
	for (size_t i = 0; i < e->nadds; i++)
		lsm_file_unref(NULL, e->adds[i].file);
	free(e->adds);
	free(e->dels);
	memset(e, 0, sizeof *e);
}

int lsm_edit_add(lsm_edit_t *e, int level, uint64_t run, lsm_file_t *f)
{
	if (e->nadds == e->adds_cap) {
		size_t cap = e->adds_cap ? e->adds_cap * 2 : 8;
		lsm_edit_add_t *a = realloc(e->adds, cap * sizeof *a);
		if (a == NULL)
			return SL_NOMEM;
		e->adds = a;
		e->adds_cap = cap;
	}
	f->refs++;
	e->adds[e->nadds++] = (lsm_edit_add_t){ level, run, f };
	return SL_OK;
}

int lsm_edit_del(lsm_edit_t *e, int level, uint64_t number)
{
	if (e->ndels == e->dels_cap) {
		size_t cap = e->dels_cap ? e->dels_cap * 2 : 8;
		lsm_edit_del_t *d = realloc(e->dels, cap * sizeof *d);
		if (d == NULL)
			return SL_NOMEM;
		e->dels = d;
		e->dels_cap = cap;
	}
	e->dels[e->ndels++] = (lsm_edit_del_t){ level, number };
	return SL_OK;
}

static void put_bytes(buf_t *out, sl_slice_t s)
{
	codec_buf_put_varint(out, s.len);
	buf_append(out, s.data, s.len);
}

void lsm_edit_encode(const lsm_edit_t *e, buf_t *out)
{
	buf_clear(out);
	if (e->has_log) {
		codec_buf_put_varint(out, EDIT_LOG_NUMBER);
		codec_buf_put_varint(out, e->log_number);
	}
	if (e->has_next) {
		codec_buf_put_varint(out, EDIT_NEXT_FILE);
		codec_buf_put_varint(out, e->next_file);
	}
	if (e->has_seq) {
		codec_buf_put_varint(out, EDIT_LAST_SEQ);
		codec_buf_put_varint(out, e->last_seq);
	}
	for (size_t i = 0; i < e->ndels; i++) {
		codec_buf_put_varint(out, EDIT_DELETE);
		codec_buf_put_varint(out, (uint64_t)e->dels[i].level);
		codec_buf_put_varint(out, e->dels[i].number);
	}
	for (size_t i = 0; i < e->nadds; i++) {
		const lsm_file_t *f = e->adds[i].file;
		codec_buf_put_varint(out, EDIT_ADD);
		codec_buf_put_varint(out, (uint64_t)e->adds[i].level);
		codec_buf_put_varint(out, e->adds[i].run);
		codec_buf_put_varint(out, f->number);
		codec_buf_put_varint(out, f->bytes);
		put_bytes(out, buf_slice(&f->smallest));
		put_bytes(out, buf_slice(&f->largest));
		codec_buf_put_varint(out, f->min_seq);
		codec_buf_put_varint(out, f->max_seq);
	}
}

/* A cursor over a record, so decoding reads as a list of fields. */
typedef struct edit_reader {
	const uint8_t *p, *end;
	bool bad;
} edit_reader_t;

static uint64_t er_varint(edit_reader_t *r)
{
	uint64_t v = 0;
	size_t n = r->bad ? 0 : codec_get_varint(r->p, r->end, &v);
	if (n == 0)
		r->bad = true;
	r->p += n;
	return v;
}

static void er_bytes(edit_reader_t *r, buf_t *out)
{
	uint64_t n = er_varint(r);
	if (r->bad || n > (uint64_t)(r->end - r->p) || n < LSM_TRAILER_BYTES) {
		r->bad = true;
		return;
	}
	buf_set(out, r->p, n);
	r->p += n;
}

int lsm_edit_decode(sl_slice_t rec, lsm_edit_t *e)
{
	if (rec.len == 0)
		return SL_OK; /* an empty edit (and data may be NULL: no pointer arithmetic on it) */
	edit_reader_t r = { rec.data, rec.data + rec.len, false };
	while (!r.bad && r.p < r.end) {
		uint64_t tag = er_varint(&r), level;
		switch (tag) {
		case EDIT_LOG_NUMBER:
			e->has_log = true;
			e->log_number = er_varint(&r);
			break;
		case EDIT_NEXT_FILE:
			e->has_next = true;
			e->next_file = er_varint(&r);
			break;
		case EDIT_LAST_SEQ:
			e->has_seq = true;
			e->last_seq = er_varint(&r);
			break;
		case EDIT_DELETE:
			level = er_varint(&r);
			if (level >= LSM_LEVELS || lsm_edit_del(e, (int)level, er_varint(&r)) != SL_OK)
				r.bad = true;
			break;
		case EDIT_ADD: {
			level = er_varint(&r);
			uint64_t run = er_varint(&r);
			lsm_file_t *f = lsm_file_new(er_varint(&r));
			if (f == NULL)
				return SL_NOMEM;
			f->bytes = er_varint(&r);
			er_bytes(&r, &f->smallest);
			er_bytes(&r, &f->largest);
			f->min_seq = er_varint(&r);
			f->max_seq = er_varint(&r);
			if (level >= LSM_LEVELS || lsm_edit_add(e, (int)level, run, f) != SL_OK)
				r.bad = true;
			lsm_file_unref(NULL, f); /* the edit holds it now */
			break;
		}
		default:
			r.bad = true;
		}
	}
	return r.bad ? SL_CORRUPT : SL_OK;
}

/* ================================================================ the manifest */

static void lsm_manifest_paths(const lsm_t *db, char *path, char *fresh, size_t size)
{
	snprintf(path, size, "%s/%s", db->dir, LSM_MANIFEST);
	snprintf(fresh, size, "%s/%s", db->dir, LSM_MANIFEST_NEW);
}

int lsm_manifest_append(lsm_t *db, const lsm_edit_t *e, sl_err_t *err)
{
	buf_t rec = BUF_INIT;
	lsm_edit_encode(e, &rec);
	int rc = buf_ok(&rec) ? wal_append(db->manifest, rec.data, rec.len, true, err)
			      : sl_errf(err, SL_NOMEM, "manifest: out of memory");
	buf_free(&rec);
	return rc;
}

int lsm_manifest_rewrite(lsm_t *db, const lsm_version_t *v, sl_err_t *err)
{
	char path[4200], fresh[4200];
	lsm_manifest_paths(db, path, fresh, sizeof path);
	lsm_edit_t e = { .has_log = true, .log_number = db->log_number, .has_next = true,
			 .next_file = db->next_file, .has_seq = true, .last_seq = db->last_seq };
	int rc = SL_OK;
	for (int l = 0; l < LSM_LEVELS && rc == SL_OK; l++)
		for (size_t r = 0; r < v->levels[l].n; r++)
			for (size_t i = 0; i < v->levels[l].runs[r].n && rc == SL_OK; i++)
				rc = lsm_edit_add(&e, l, v->levels[l].runs[r].id,
						  v->levels[l].runs[r].files[i]);
	wal_t *w = NULL;
	if (rc == SL_OK)
		rc = wal_create(db->env, fresh, &w, err);
	else
		sl_errf(err, rc, "manifest: out of memory");
	if (rc == SL_OK) {
		db->manifest = w; /* lsm_manifest_append writes there */
		rc = lsm_manifest_append(db, &e, err);
		db->manifest = NULL;
	}
	uint64_t end = w ? wal_size(w) : 0;
	if (w != NULL) {
		int crc = wal_close(w, err);
		rc = rc == SL_OK ? crc : rc;
	}
	lsm_edit_free(&e);
	/* The rename is the commit point: before it the old manifest rules, after it the new. */
	if (rc == SL_OK)
		rc = env_rename(db->env, fresh, path, err);
	if (rc == SL_OK)
		rc = env_sync_dir(db->env, db->dir, err);
	if (rc == SL_OK)
		rc = wal_open(db->env, path, end, &db->manifest, err);
	return rc;
}

/* Opens the table of every file in v, checking it is there and is the size recorded. */
static int lsm_open_tables(lsm_t *db, lsm_version_t *v, sl_err_t *err)
{
	char path[4200];
	for (int l = 0; l < LSM_LEVELS; l++)
		for (size_t r = 0; r < v->levels[l].n; r++)
			for (size_t i = 0; i < v->levels[l].runs[r].n; i++) {
				lsm_file_t *f = v->levels[l].runs[r].files[i];
				lsm_file_path(db, f->number, "sst", path, sizeof path);
				if (!env_exists(path))
					return sl_errf(err, SL_CORRUPT, "%s: listed in %s at level %d "
						       "but missing", path, LSM_MANIFEST, l);
				int rc = sst_open(db->env, path, f->number, db->cache, &f->table, err);
				if (rc != SL_OK)
					return rc;
				if (sst_file_bytes(f->table) != f->bytes)
					return sl_errf(err, SL_CORRUPT, "%s: %llu bytes, the manifest "
						       "says %llu", path,
						       (unsigned long long)sst_file_bytes(f->table),
						       (unsigned long long)f->bytes);
			}
	return SL_OK;
}

int lsm_manifest_recover(lsm_t *db, lsm_version_t **out, sl_err_t *err)
{
	char path[4200], fresh[4200];
	lsm_manifest_paths(db, path, fresh, sizeof path);
	*out = NULL;
	wal_reader_t *r;
	int rc = wal_reader_open(db->env, path, &r, err);
	if (rc != SL_OK)
		return rc;
	lsm_version_t *v = lsm_version_new();
	bool have_next = false;
	sl_slice_t rec;
	uint64_t off;
	while (v != NULL && (rc = wal_reader_next(r, &rec, &off, err)) == SL_OK) {
		lsm_edit_t e = { 0 };
		rc = lsm_edit_decode(rec, &e);
		if (rc != SL_OK) {
			sl_errf(err, rc, "%s: the edit at offset %llu does not decode", path,
				(unsigned long long)off);
			lsm_edit_free(&e);
			break;
		}
		if (e.has_log)
			db->log_number = e.log_number;
		if (e.has_next)
			db->next_file = e.next_file, have_next = true;
		if (e.has_seq && e.last_seq > db->last_seq)
			db->last_seq = e.last_seq;
		lsm_version_t *next = lsm_version_apply(v, &e);
		lsm_edit_free(&e);
		lsm_version_unref(NULL, v);
		v = next;
	}
	wal_reader_close(r);
	if (v == NULL)
		return sl_errf(err, SL_NOMEM, "%s: out of memory", path);
	if (rc == SL_NOTFOUND) /* the clean end (a torn last edit was never acted on) */
		rc = have_next ? SL_OK : sl_errf(err, SL_CORRUPT, "%s: holds no complete edit", path);
	if (rc == SL_OK)
		rc = lsm_open_tables(db, v, err);
	if (rc != SL_OK) {
		lsm_version_unref(NULL, v);
		return rc;
	}
	*out = v;
	return SL_OK;
}
