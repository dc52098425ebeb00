/* ts_index.c — the label index in memory (see ts_index.h). */
#include "kv/ts_index.h"

#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"
#include "engine/checksum.h"
#include "engine/vec.h"

/* An open-addressing map from byte strings (kept in an arena) to numbers. */
typedef struct ts_map {
	buf_t arena;             /* the keys, one after another */
	uint32_t *off, *len;     /* per entry: its key in the arena */
	uint32_t n, cap;         /* entries */
	uint32_t *slots;         /* entry + 1; 0 = empty */
	uint32_t nslots;         /* a power of two, at least twice n */
} ts_map_t;

static sl_slice_t ts_map_key(const ts_map_t *m, uint32_t e)
{
	return sl_slice(m->arena.data + m->off[e], m->len[e]);
}

/* The slot holding key, or the empty slot where it would go. */
static uint32_t ts_map_slot(const ts_map_t *m, sl_slice_t key)
{
	uint32_t mask = m->nslots - 1, i = (uint32_t)checksum_xxh3(key.data, key.len, 0) & mask;
	while (m->slots[i] != 0 && sl_slice_cmp(ts_map_key(m, m->slots[i] - 1), key) != 0)
		i = (i + 1) & mask;
	return i;
}

static bool ts_map_find(const ts_map_t *m, sl_slice_t key, uint32_t *e)
{
	if (m->nslots == 0)
		return false;
	uint32_t s = m->slots[ts_map_slot(m, key)];
	if (s == 0)
		return false;
	*e = s - 1;
	return true;
}

/* The entry of key, added when new (*added says so). false when out of memory. */
static bool ts_map_put(ts_map_t *m, sl_slice_t key, uint32_t *e, bool *added)
{
	*added = false;
	if (ts_map_find(m, key, e))
		return true;
	if (2 * (m->n + 1) > m->nslots) {
		uint32_t ns = m->nslots ? 2 * m->nslots : 64;
		uint32_t *slots = calloc(ns, sizeof *slots), *old = m->slots;
		if (slots == NULL)
			return false;
		m->slots = slots;
		m->nslots = ns;
		for (uint32_t i = 0; i < m->n; i++)
			m->slots[ts_map_slot(m, ts_map_key(m, i))] = i + 1;
		free(old);
	}
	if (m->n == m->cap) {
		uint32_t cap = m->cap ? 2 * m->cap : 64;
		uint32_t *off = realloc(m->off, cap * sizeof *off);
		if (off == NULL)
			return false;
		m->off = off;
		uint32_t *len = realloc(m->len, cap * sizeof *len);
		if (len == NULL)
			return false;
		m->len = len;
		m->cap = cap;
	}
	uint32_t at = (uint32_t)m->arena.len;
	buf_append(&m->arena, key.data, key.len);
	if (!buf_ok(&m->arena))
		return false;
	m->off[m->n] = at;
	m->len[m->n] = (uint32_t)key.len;
	m->slots[ts_map_slot(m, key)] = m->n + 1;
	*e = m->n++;
	*added = true;
	return true;
}

static void ts_map_free(ts_map_t *m)
{
	buf_free(&m->arena);
	free(m->off);
	free(m->len);
	free(m->slots);
	memset(m, 0, sizeof *m);
}

struct ts_index {
	ts_map_t series;         /* canonical form -> id (the entry number is the id) */
	ts_map_t pairs;          /* "name\0value" -> its entry in lists */
	u32s_t *lists;         /* per pair: the ids of the series holding it */
	uint32_t nlists;
};

ts_index_t *ts_index_new(void)
{
	return calloc(1, sizeof(ts_index_t));
}

void ts_index_free(ts_index_t *ix)
{
	if (ix == NULL)
		return;
	ts_map_free(&ix->series);
	ts_map_free(&ix->pairs);
	for (uint32_t i = 0; i < ix->nlists; i++)
		free(ix->lists[i].v);
	free(ix->lists);
	free(ix);
}

uint32_t ts_index_count(const ts_index_t *ix) { return ix->series.n; }

sl_slice_t ts_index_series(const ts_index_t *ix, uint32_t id) { return ts_map_key(&ix->series, id); }

uint32_t ts_index_pairs(const ts_index_t *ix) { return ix->pairs.n; }

sl_slice_t ts_index_pair(const ts_index_t *ix, uint32_t i, const uint32_t **ids, size_t *n)
{
	*ids = ix->lists[i].v;
	*n = ix->lists[i].n;
	return ts_map_key(&ix->pairs, i);
}

bool ts_index_find(const ts_index_t *ix, sl_slice_t series, uint32_t *id)
{
	return ts_map_find(&ix->series, series, id);
}

/* The pair key "name\0value" into key. */
static void ts_pair_key(buf_t *key, const char *name, size_t nlen, const uint8_t *value, size_t vlen)
{
	buf_clear(key);
	buf_append(key, name, nlen);
	buf_append(key, "", 1);
	buf_append(key, value, vlen);
}

/* Adds id to the list of one pair. */
static bool ts_index_post(ts_index_t *ix, const buf_t *key, uint32_t id)
{
	uint32_t e;
	bool added;
	if (!buf_ok(key) || !ts_map_put(&ix->pairs, buf_slice(key), &e, &added))
		return false;
	if (added) {
		u32s_t *lists = realloc(ix->lists, (ix->nlists + 1) * sizeof *lists);
		if (lists == NULL)
			return false;
		ix->lists = lists;
		memset(&ix->lists[ix->nlists++], 0, sizeof(u32s_t));
	}
	return u32s_push(&ix->lists[e], id);
}

int ts_index_add(ts_index_t *ix, sl_slice_t series, uint32_t *id, sl_err_t *err)
{
	bool added;
	if (!ts_map_put(&ix->series, series, id, &added))
		return sl_errf(err, SL_NOMEM, "ts index: out of memory");
	if (!added)
		return SL_OK;
	/* Post the new series under its name and each of its labels. */
	buf_t key = { 0 }, value = { 0 }, name = { 0 };
	const uint8_t *end = series.data + series.len;
	const uint8_t *brace = memchr(series.data, '{', series.len);
	size_t nlen = brace ? (size_t)(brace - series.data) : series.len;
	ts_pair_key(&key, "__name__", 8, series.data, nlen);
	bool ok = ts_index_post(ix, &key, *id);
	/* The canonical form: name{a="x",b="y"}; a value's escapes never leave a bare '"'. */
	for (const uint8_t *p = brace ? brace + 1 : end; ok && p < end && *p != '}';) {
		const uint8_t *eq = memchr(p, '=', (size_t)(end - p));
		if (eq == NULL)
			break;
		buf_set(&name, p, (size_t)(eq - p));
		buf_append(&name, "", 1);
		ts_series_label(series, (const char *)name.data, &value);
		ts_pair_key(&key, (const char *)name.data, name.len - 1, value.data, value.len);
		ok = buf_ok(&name) && ts_index_post(ix, &key, *id);
		for (p = eq + 2; p < end && *p != '"'; p++)
			if (*p == '\\')
				p++;
		p = p + 1 < end && p[1] == ',' ? p + 2 : p + 1;
	}
	buf_free(&key);
	buf_free(&value);
	buf_free(&name);
	return ok ? SL_OK : sl_errf(err, SL_NOMEM, "ts index: out of memory");
}

/* Intersects the sorted list b into a (in place). */
static void ts_intersect(u32s_t *a, const u32s_t *b)
{
	size_t i = 0, j = 0, out = 0;
	while (i < a->n && j < b->n) {
		if (a->v[i] < b->v[j])
			i++;
		else if (a->v[i] > b->v[j])
			j++;
		else {
			a->v[out++] = a->v[i++];
			j++;
		}
	}
	a->n = out;
}

int ts_index_select(const ts_index_t *ix, const ts_selector_t *sel, uint32_t **ids, size_t *n,
		    ts_index_stats_t *st, sl_err_t *err)
{
	ts_index_stats_t dummy;
	st = st ? st : &dummy;
	memset(st, 0, sizeof *st);
	u32s_t cand = { 0 };
	bool have = false, ok = true;
	buf_t key = { 0 };
	/* Candidates: the intersection of the lists of the equality matchers with a value. */
	for (size_t i = 0; ok && i < sel->n; i++) {
		const ts_matcher_t *m = &sel->m[i];
		if (m->op != TS_EQ || m->value[0] == '\0')
			continue;
		ts_pair_key(&key, m->name, strlen(m->name), (const uint8_t *)m->value, strlen(m->value));
		uint32_t e;
		st->lists++;
		if (!ts_map_find(&ix->pairs, buf_slice(&key), &e)) {
			cand.n = 0; /* no series holds this pair */
			have = true;
			break;
		}
		if (!have) {
			for (size_t k = 0; ok && k < ix->lists[e].n; k++)
				ok = u32s_push(&cand, ix->lists[e].v[k]);
			have = true;
		} else {
			ts_intersect(&cand, &ix->lists[e]);
		}
	}
	/* Without one, every series is a candidate. */
	for (uint32_t k = 0; ok && !have && k < ix->series.n; k++)
		ok = u32s_push(&cand, k);
	buf_free(&key);
	st->candidates = (uint32_t)cand.n;
	/* The other matchers, tested on each candidate by name. */
	size_t out = 0;
	for (size_t k = 0; ok && k < cand.n; k++) {
		st->tested++;
		if (ts_select_match(sel, ts_index_series(ix, cand.v[k])))
			cand.v[out++] = cand.v[k];
	}
	if (!ok) {
		free(cand.v);
		return sl_errf(err, SL_NOMEM, "ts index: out of memory");
	}
	*ids = cand.v;
	*n = out;
	return SL_OK;
}
