/*
 * btree_check.c — btree_check, the invariant walker (numbered in btree.h),
 * btree_get_stats and btree_dump.
 */
#include <stdlib.h>
#include <string.h>

#include "index/btree_int.h"
#include "index/overflow.h"

typedef struct bt_walk {
	btree_t *t;
	sl_err_t *err;
	uint8_t *seen;        /* pages reached (tree and overflow) */
	uint64_t entries;     /* leaf cells */
	uint32_t prev_leaf;   /* the leaf before the next one, left to right */
	buf_t last_key;       /* the last key of the previous leaf */
	bool have_last;       /* last_key is set */
	uint64_t leaves, internals, overflows;
	double fill;          /* sum of used fractions */
} bt_walk_t;

static int bt_walk_fail(bt_walk_t *w, uint32_t pgno, const char *what)
{
	return bt_corrupt(w->t, pgno, what, w->err);
}

/* Invariant 6 for one page: in range and not reached before. */
static int bt_walk_mark(bt_walk_t *w, uint32_t pgno)
{
	if (pgno == 0 || pgno >= pager_page_count(w->t->pager))
		return bt_walk_fail(w, pgno, "page number out of range");
	if (w->seen[pgno])
		return bt_walk_fail(w, pgno, "page reached twice");
	w->seen[pgno] = 1;
	return SL_OK;
}

/* Invariant 5: cells inside the cell area, not overlapping, bytes accounted for. */
static int bt_walk_cells(bt_walk_t *w, uint32_t pgno, const uint8_t *d)
{
	btree_t *t = w->t;
	uint32_t n = pg_n(d), live = 0;
	uint8_t *used = calloc(t->usable, 1);
	if (used == NULL)
		return sl_errf(w->err, SL_NOMEM, "btree check: out of memory");
	int rc = SL_OK;
	for (uint32_t i = 0; i < n && rc == SL_OK; i++) {
		bt_cell_t c;
		if (!bt_cell_decode(t, d, i, &c)) {
			rc = bt_walk_fail(w, pgno, "a cell does not decode");
			break;
		}
		uint32_t off = pg_slot(d, i);
		for (uint32_t b = off; b < off + c.size && rc == SL_OK; b++)
			if (used[b]++)
				rc = bt_walk_fail(w, pgno, "two cells overlap");
		live += c.size;
	}
	if (rc == SL_OK && pg_cell_start(d) + live + pg_frag(d) != t->usable)
		rc = bt_walk_fail(w, pgno, "cell bytes, fragmentation and free space do not add up");
	free(used);
	return rc;
}

/* Invariant 1 and 2 for one page: keys increase, and lie in [lo, hi). */
static int bt_walk_keys(bt_walk_t *w, uint32_t pgno, const uint8_t *d, const sl_slice_t *lo,
			const sl_slice_t *hi)
{
	bt_cell_t prev = { 0 }, c;
	for (uint32_t i = 0; i < pg_n(d); i++) {
		bt_cell_decode(w->t, d, i, &c);
		if (i > 0 && sl_slice_cmp(prev.key, c.key) >= 0)
			return bt_walk_fail(w, pgno, "keys out of order within the page");
		if ((lo && sl_slice_cmp(c.key, *lo) < 0) || (hi && sl_slice_cmp(c.key, *hi) >= 0))
			return bt_walk_fail(w, pgno, "a key lies outside its parent's separators");
		prev = c;
	}
	return SL_OK;
}

static int bt_walk_visit(void *ctx, uint32_t pgno)
{
	bt_walk_t *w = ctx;
	w->overflows++;
	return bt_walk_mark(w, pgno);
}

static int bt_walk_overflow(bt_walk_t *w, const bt_cell_t *c)
{
	return overflow_walk(w->t->pager, c->ov_pgno, c->vlen, bt_walk_visit, w, w->err);
}

/* Invariants 1 (across leaves), 4 and 7 for one leaf. */
static int bt_walk_leaf(bt_walk_t *w, uint32_t pgno, const uint8_t *d)
{
	if (pg_link2(d) != w->prev_leaf)
		return bt_walk_fail(w, pgno, "left sibling link does not point at the previous leaf");
	for (uint32_t i = 0; i < pg_n(d); i++) {
		bt_cell_t c;
		bt_cell_decode(w->t, d, i, &c);
		if (i == 0 && w->have_last && sl_slice_cmp(buf_slice(&w->last_key), c.key) >= 0)
			return bt_walk_fail(w, pgno, "keys out of order across leaves");
		if (c.overflow) {
			int rc = bt_walk_overflow(w, &c);
			if (rc != SL_OK)
				return rc;
		}
		if (i + 1 == pg_n(d)) {
			buf_set(&w->last_key, c.key.data, c.key.len);
			w->have_last = true;
		}
	}
	w->entries += pg_n(d);
	w->leaves++;
	w->prev_leaf = pgno;
	return SL_OK;
}

static int bt_walk(bt_walk_t *w, uint32_t pgno, uint32_t depth, const sl_slice_t *lo,
		   const sl_slice_t *hi, uint32_t *right_link);

static int bt_walk_children(bt_walk_t *w, uint32_t pgno, const uint8_t *d, uint32_t depth,
			    const sl_slice_t *lo, const sl_slice_t *hi)
{
	uint32_t n = pg_n(d), link = 0;
	int rc = SL_OK;
	for (uint32_t i = 0; i <= n && rc == SL_OK; i++) {
		bt_cell_t a, b;
		bool bad;
		if (i > 0)
			bt_cell_decode(w->t, d, i - 1, &a);
		if (i < n)
			bt_cell_decode(w->t, d, i, &b);
		uint32_t child = bt_child_at(w->t, d, i, &bad);
		/* The previous leaf's right link must be the first leaf under this child. */
		rc = bt_walk(w, child, depth + 1, i > 0 ? &a.key : lo, i < n ? &b.key : hi, &link);
	}
	(void)pgno;
	return rc;
}

static int bt_walk(bt_walk_t *w, uint32_t pgno, uint32_t depth, const sl_slice_t *lo,
		   const sl_slice_t *hi, uint32_t *right_link)
{
	btree_t *t = w->t;
	int rc = bt_walk_mark(w, pgno);
	if (rc != SL_OK)
		return rc;
	page_t *pg;
	if ((rc = bt_fetch(t, pgno, &pg, w->err)) != SL_OK)
		return rc;
	/* Copy the page: the walk below fetches other pages and may evict this one. */
	uint8_t *d = malloc(t->usable);
	if (d == NULL) {
		pager_unpin(t->pager, pg);
		return sl_errf(w->err, SL_NOMEM, "btree check: out of memory");
	}
	memcpy(d, page_data(pg), t->usable);
	pager_unpin(t->pager, pg);
	bool leaf = pg_kind(d) == BTREE_KIND_LEAF;
	if (leaf != (depth + 1 == t->height))
		rc = bt_walk_fail(w, pgno, "leaves are not all at the tree's height");
	if (rc == SL_OK)
		rc = bt_walk_cells(w, pgno, d);
	if (rc == SL_OK)
		rc = bt_walk_keys(w, pgno, d, lo, hi);
	if (rc == SL_OK && leaf && *right_link != 0 && *right_link != pgno)
		rc = bt_walk_fail(w, pgno, "the previous leaf's right link skips this leaf");
	w->fill += (double)bt_page_used(t, d) / (t->usable - PG_SLOTS);
	if (rc == SL_OK && leaf) {
		rc = bt_walk_leaf(w, pgno, d);
		*right_link = pg_link(d);
	} else if (rc == SL_OK) {
		w->internals++;
		if (pg_n(d) == 0)
			rc = bt_walk_fail(w, pgno, "internal page without a separator");
		else
			rc = bt_walk_children(w, pgno, d, depth, lo, hi);
	}
	free(d);
	return rc;
}

int btree_check(btree_t *t, sl_err_t *err)
{
	uint32_t count = pager_page_count(t->pager);
	bt_walk_t w = { .t = t, .err = err };
	w.seen = calloc(count, 1);
	uint8_t *is_free = calloc(count, 1);
	if (w.seen == NULL || is_free == NULL) {
		free(w.seen);
		free(is_free);
		return sl_errf(err, SL_NOMEM, "btree check: out of memory");
	}
	uint32_t link = 0;
	int rc = bt_walk(&w, t->root, 0, NULL, NULL, &link);
	if (rc == SL_OK && link != 0)
		rc = bt_walk_fail(&w, link, "the last leaf has a right sibling");
	if (rc == SL_OK && w.entries != t->keys)
		rc = sl_errf(err, SL_CORRUPT, "%s: leaves hold %llu entries, metadata says %llu",
			     pager_path(t->pager), (unsigned long long)w.entries,
			     (unsigned long long)t->keys);
	if (rc == SL_OK)
		rc = pager_check(t->pager, is_free, err);
	for (uint32_t p = 1; rc == SL_OK && p < count; p++)
		if (w.seen[p] == is_free[p])
			rc = bt_walk_fail(&w, p, w.seen[p] ? "page is both in the tree and free"
							   : "page is neither in the tree nor free");
	buf_free(&w.last_key);
	free(w.seen);
	free(is_free);
	return rc;
}

void btree_pool_stats(btree_t *t, pager_stats_t *out)
{
	pager_get_stats(t->pager, out);
}

void btree_get_stats(btree_t *t, btree_stats_t *out)
{
	*out = t->st;
	out->height = t->height;
	out->keys = t->keys;
	out->free_pages = pager_free_count(t->pager);
	pager_get_stats(t->pager, &out->pager);
	/* Page counts need a walk: done up to 64 Ki pages (a few ms), else left out. */
	if (pager_page_count(t->pager) <= 65536) {
		uint32_t count = pager_page_count(t->pager);
		bt_walk_t w = { .t = t, .err = NULL };
		w.seen = calloc(count, 1);
		uint32_t link = 0;
		if (w.seen && bt_walk(&w, t->root, 0, NULL, NULL, &link) == SL_OK) {
			out->leaf_pages = w.leaves;
			out->internal_pages = w.internals;
			out->overflow_pages = w.overflows;
			out->avg_fill = w.fill / (double)(w.leaves + w.internals);
			out->pages_counted = true;
		}
		buf_free(&w.last_key);
		free(w.seen);
	}
}

/* Visits page pgno at depth, then (above max_depth) its children. */
static int bt_node_visit(btree_t *t, uint32_t pgno, uint32_t depth, uint32_t max_depth,
			 btree_node_fn fn, void *ctx, sl_err_t *err)
{
	page_t *pg;
	int rc = bt_fetch(t, pgno, &pg, err);
	if (rc != SL_OK)
		return rc;
	uint8_t *d = malloc(t->usable); /* a copy: the children's fetches may evict the page */
	if (d == NULL) {
		pager_unpin(t->pager, pg);
		return sl_errf(err, SL_NOMEM, "btree: out of memory");
	}
	memcpy(d, page_data(pg), t->usable);
	pager_unpin(t->pager, pg);
	btree_node_t node = { .pgno = pgno, .depth = depth, .leaf = pg_kind(d) == BTREE_KIND_LEAF,
			      .keys = pg_n(d), .usable = t->usable };
	node.used = t->usable - bt_page_free(t, d);
	bt_cell_t c;
	if (node.keys > 0 && bt_cell_decode(t, d, 0, &c))
		node.first = c.key;
	if (node.keys > 0 && bt_cell_decode(t, d, node.keys - 1, &c))
		node.last = c.key;
	rc = fn(ctx, &node);
	for (uint32_t i = 0; rc == SL_OK && !node.leaf && depth < max_depth && i <= node.keys; i++) {
		bool bad;
		uint32_t child = bt_child_at(t, d, i, &bad);
		rc = bad ? bt_corrupt(t, pgno, "a child pointer out of range", err)
			 : bt_node_visit(t, child, depth + 1, max_depth, fn, ctx, err);
	}
	free(d);
	return rc;
}

int btree_nodes(btree_t *t, uint32_t max_depth, btree_node_fn fn, void *ctx, sl_err_t *err)
{
	return bt_node_visit(t, t->root, 0, max_depth, fn, ctx, err);
}

static int bt_dump_node(void *ctx, const btree_node_t *n)
{
	char first[40], last[40];
	trace_bytes(first, sizeof first, n->first.data, n->first.len, 12);
	trace_bytes(last, sizeof last, n->last.data, n->last.len, 12);
	fprintf(ctx, "%*spage %u: %s, %u keys [%s .. %s], %u bytes free\n", (int)n->depth * 2 + 2,
		"", n->pgno, n->leaf ? "leaf" : "internal", n->keys, first, last, n->usable - n->used);
	return SL_OK;
}

void btree_dump(btree_t *t, FILE *out)
{
	fprintf(out, "btree: root %u, height %u, %llu keys\n", t->root, t->height,
		(unsigned long long)t->keys);
	sl_err_t err;
	if (btree_nodes(t, UINT32_MAX, bt_dump_node, out, &err) != SL_OK)
		fprintf(out, "  stopped: %s\n", err.msg);
}
