/*
 * lsm_iter.c — the merging iterator: many sorted sources read as one.
 *
 * Each source (a memtable, or a sorted run of tables) is already in internal-key
 * order; the merge keeps one cursor per source and always yields the smallest
 * current key among them. With a handful of sources a linear scan for the
 * smallest beats a heap, and reads more plainly. Internal keys never tie (no two
 * entries share a sequence number), so the order is total.
 *
 * One shortcut, because scans spend most steps inside one source (most data
 * lives in the last level): the merge remembers the runner-up, the source with
 * the second-smallest key. After stepping the current source, one comparison
 * with the runner-up tells whether it is still the smallest; only when it is
 * not are all sources compared again.
 *
 * A run's cursor walks its tables one after another, opening the next table's
 * iterator when the previous one ends: the tables of a run do not overlap, so
 * their concatenation is sorted.
 */
#include <assert.h>
#include <stdlib.h>

#include "kv/lsm_int.h"

typedef struct lsm_child {
	bool is_mem;
	memtable_iter_t mem;       /* is_mem */
	const lsm_run_t *run;      /* !is_mem */
	size_t file;               /* index of the table being read */
	sst_iter_t *table;         /* its iterator, NULL past the end */
	bool valid;
} lsm_child_t;

struct lsm_merge {
	lsm_child_t *kids;
	size_t n, cap;
	lsm_child_t *cur;          /* the child with the smallest key; NULL = not valid */
	lsm_child_t *second;       /* the child with the next smallest key; NULL = none */
	size_t readahead;          /* passed to every table iterator (lsm_merge_readahead) */
	int status;
	sl_err_t err;
};

int lsm_merge_new(lsm_merge_t **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? SL_OK : SL_NOMEM;
}

static lsm_child_t *lsm_merge_push(lsm_merge_t *m)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		lsm_child_t *k = realloc(m->kids, cap * sizeof *k);
		if (k == NULL)
			return NULL;
		m->kids = k;
		m->cap = cap;
	}
	lsm_child_t *c = &m->kids[m->n++];
	*c = (lsm_child_t){ 0 };
	return c;
}

void lsm_merge_readahead(lsm_merge_t *m, size_t bytes)
{
	m->readahead = bytes;
}

int lsm_merge_add_mem(lsm_merge_t *m, memtable_t *mem)
{
	lsm_child_t *c = lsm_merge_push(m);
	if (c == NULL)
		return SL_NOMEM;
	c->is_mem = true;
	memtable_iter_init(&c->mem, mem);
	return SL_OK;
}

int lsm_merge_add_run(lsm_merge_t *m, const lsm_run_t *r)
{
	if (r->n == 0)
		return SL_OK;
	lsm_child_t *c = lsm_merge_push(m);
	if (c == NULL)
		return SL_NOMEM;
	c->run = r;
	return SL_OK;
}

/* ---- one child ---- */

static void lsm_child_fail(lsm_merge_t *m, lsm_child_t *c)
{
	if (m->status == SL_OK)
		m->status = sst_iter_status(c->table, &m->err);
	c->valid = false;
}

/* Opens table i of the run (closing the previous one); false past the last. */
static bool lsm_child_open(lsm_merge_t *m, lsm_child_t *c, size_t i)
{
	sst_iter_free(c->table);
	c->table = NULL;
	c->file = i;
	if (i >= c->run->n)
		return false;
	if (sst_iter_new(c->run->files[i]->table, &c->table) != SL_OK) {
		if (m->status == SL_OK)
			m->status = sl_errf(&m->err, SL_NOMEM, "lsm: out of memory for an iterator");
		return false;
	}
	sst_iter_readahead(c->table, m->readahead);
	return true;
}

/* After a step inside a table: move to the next tables while this one is exhausted. */
static void lsm_child_settle(lsm_merge_t *m, lsm_child_t *c)
{
	while (!sst_iter_valid(c->table)) {
		if (sst_iter_status(c->table, NULL) != SL_OK) {
			lsm_child_fail(m, c);
			return;
		}
		if (!lsm_child_open(m, c, c->file + 1)) {
			c->valid = false;
			return;
		}
		sst_iter_first(c->table);
	}
	c->valid = true;
}

static void lsm_child_first(lsm_merge_t *m, lsm_child_t *c)
{
	if (c->is_mem) {
		memtable_iter_first(&c->mem);
		c->valid = memtable_iter_valid(&c->mem);
		return;
	}
	c->valid = false;
	if (lsm_child_open(m, c, 0)) {
		sst_iter_first(c->table);
		lsm_child_settle(m, c);
	}
}

static void lsm_child_seek(lsm_merge_t *m, lsm_child_t *c, sl_slice_t ikey)
{
	if (c->is_mem) {
		memtable_iter_seek(&c->mem, ikey);
		c->valid = memtable_iter_valid(&c->mem);
		return;
	}
	/* The first table whose largest key is >= ikey; the ones before end too early. */
	size_t lo = 0, hi = c->run->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (lsm_ikey_cmp(buf_slice(&c->run->files[mid]->largest), ikey) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	c->valid = false;
	if (lsm_child_open(m, c, lo)) {
		sst_iter_seek(c->table, ikey);
		lsm_child_settle(m, c);
	}
}

static void lsm_child_next(lsm_merge_t *m, lsm_child_t *c)
{
	if (c->is_mem) {
		memtable_iter_next(&c->mem);
		c->valid = memtable_iter_valid(&c->mem);
		return;
	}
	sst_iter_next(c->table);
	lsm_child_settle(m, c);
}

static sl_slice_t lsm_child_key(const lsm_child_t *c)
{
	return c->is_mem ? memtable_iter_key(&c->mem) : sst_iter_key(c->table);
}

/* ---- the merge ---- */

static void lsm_merge_pick(lsm_merge_t *m)
{
	m->cur = m->second = NULL;
	if (m->status != SL_OK)
		return; /* a damaged source: stop rather than yield a wrong order */
	sl_slice_t best = { 0 }, next = { 0 };
	for (size_t i = 0; i < m->n; i++) {
		lsm_child_t *c = &m->kids[i];
		if (!c->valid)
			continue;
		sl_slice_t k = lsm_child_key(c);
		if (m->cur == NULL || lsm_ikey_cmp(k, best) < 0) {
			m->second = m->cur;
			next = best;
			m->cur = c;
			best = k;
		} else if (m->second == NULL || lsm_ikey_cmp(k, next) < 0) {
			m->second = c;
			next = k;
		}
	}
}

void lsm_merge_first(lsm_merge_t *m)
{
	for (size_t i = 0; i < m->n; i++)
		lsm_child_first(m, &m->kids[i]);
	lsm_merge_pick(m);
}

void lsm_merge_seek(lsm_merge_t *m, sl_slice_t ikey)
{
	for (size_t i = 0; i < m->n; i++)
		lsm_child_seek(m, &m->kids[i], ikey);
	lsm_merge_pick(m);
}

void lsm_merge_next(lsm_merge_t *m)
{
	assert(m->cur != NULL);
	lsm_child_next(m, m->cur);
	if (m->status == SL_OK && m->cur->valid &&
	    (m->second == NULL || lsm_ikey_cmp(lsm_child_key(m->cur), lsm_child_key(m->second)) < 0))
		return; /* still the smallest: the others have not moved */
	lsm_merge_pick(m);
}

bool lsm_merge_valid(const lsm_merge_t *m) { return m->cur != NULL; }
sl_slice_t lsm_merge_key(const lsm_merge_t *m) { return lsm_child_key(m->cur); }

sl_slice_t lsm_merge_value(const lsm_merge_t *m)
{
	return m->cur->is_mem ? memtable_iter_value(&m->cur->mem) : sst_iter_value(m->cur->table);
}

int lsm_merge_status(const lsm_merge_t *m, sl_err_t *err)
{
	if (m->status != SL_OK && err)
		*err = m->err;
	return m->status;
}

void lsm_merge_free(lsm_merge_t *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		sst_iter_free(m->kids[i].table);
	free(m->kids);
	free(m);
}
