/*
 * btree_write.c — changing the B+tree: insert with splits, delete with merges
 * and redistribution, overflow chains, the logged public writes, bulk load.
 *
 * Breakpoints worth setting: bt_insert, bt_split_leaf, bt_insert_parent,
 * bt_split_internal, bt_delete, bt_rebalance.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "index/btree_write.h"
#include "index/overflow.h"

/* ---------------------------------------------------------------- gathering cells */

/* Cells of a page (plus one new cell at index at) copied out for rebuilding. */
typedef struct bt_cells {
	uint32_t n;           /* cells */
	uint32_t *off;        /* offset of cell i in t->cells */
	uint32_t *len;        /* its size */
	uint32_t total;       /* sum of sizes plus a 2-byte slot each */
} bt_cells_t;

static int bt_gather(btree_t *t, const uint8_t *d, uint32_t at, const uint8_t *cell,
		     uint32_t size, bt_cells_t *g, sl_err_t *err)
{
	uint32_t n = pg_n(d) + (cell != NULL);
	g->n = 0;
	g->total = 0;
	g->off = malloc((n + 1) * sizeof *g->off);
	g->len = malloc((n + 1) * sizeof *g->len);
	if (g->off == NULL || g->len == NULL)
		return sl_errf(err, SL_NOMEM, "btree: out of memory");
	buf_clear(&t->cells);
	for (uint32_t i = 0, src = 0; i < n; i++) {
		const uint8_t *p = cell;
		uint32_t len = size;
		if (cell == NULL || i != at) {
			bt_cell_t c;
			if (!bt_cell_decode(t, d, src, &c))
				return bt_corrupt(t, 0, "a cell does not decode during a split", err);
			p = d + pg_slot(d, src++);
			len = c.size;
		}
		g->off[g->n] = (uint32_t)t->cells.len;
		g->len[g->n++] = len;
		g->total += len + 2;
		buf_append(&t->cells, p, len);
	}
	/* Cells that decode one by one may still overlap: then they add up to more
	 * than a page holds, and no split could place them. */
	if (g->total - (cell != NULL ? size + 2 : 0) > t->usable - PG_SLOTS)
		return bt_corrupt(t, 0, "a page's cells add up to more than a page (they overlap)", err);
	return buf_ok(&t->cells) ? SL_OK : sl_errf(err, SL_NOMEM, "btree: out of memory");
}

/* Appends the cells of page d after those already gathered in g. */
static int bt_gather_more(btree_t *t, const uint8_t *d, bt_cells_t *g, sl_err_t *err)
{
	uint32_t n = g->n + pg_n(d);
	uint32_t *off = realloc(g->off, (n + 1) * sizeof *off);
	if (off != NULL)
		g->off = off;
	uint32_t *len = realloc(g->len, (n + 1) * sizeof *len);
	if (len != NULL)
		g->len = len;
	if (off == NULL || len == NULL)
		return sl_errf(err, SL_NOMEM, "btree: out of memory");
	uint32_t before = g->total;
	for (uint32_t i = 0; i < pg_n(d); i++) {
		bt_cell_t c;
		if (!bt_cell_decode(t, d, i, &c))
			return bt_corrupt(t, 0, "a cell does not decode while rebalancing", err);
		g->off[g->n] = (uint32_t)t->cells.len;
		g->len[g->n++] = c.size;
		g->total += c.size + 2;
		buf_append(&t->cells, d + pg_slot(d, i), c.size);
	}
	if (g->total - before > t->usable - PG_SLOTS)
		return bt_corrupt(t, 0, "a page's cells add up to more than a page (they overlap)", err);
	return buf_ok(&t->cells) ? SL_OK : sl_errf(err, SL_NOMEM, "btree: out of memory");
}

static void bt_cells_free(bt_cells_t *g)
{
	free(g->off);
	free(g->len);
}

/* Rewrites page d with cells [from, to) of g (kind and links kept by the caller).
 * SL_CORRUPT when they do not fit: bt_gather vouched for their total, so only
 * damage it could not see gets here. */
static int bt_fill(btree_t *t, uint8_t *d, uint8_t kind, const bt_cells_t *g, uint32_t from,
		   uint32_t to, sl_err_t *err)
{
	uint32_t link = pg_link(d), link2 = pg_link2(d);
	bt_page_init(t, d, kind);
	pg_set_link(d, link);
	pg_set_link2(d, link2);
	for (uint32_t i = from; i < to; i++)
		if (bt_page_insert(t, d, i - from, t->cells.data + g->off[i], g->len[i]) != SL_OK)
			return bt_corrupt(t, 0, "cells gathered from a page do not fit in one", err);
	return SL_OK;
}

/* The key of gathered cell i. */
static sl_slice_t bt_gathered_key(btree_t *t, const bt_cells_t *g, uint32_t i, uint8_t kind,
				  uint32_t *child)
{
	const uint8_t *p = t->cells.data + g->off[i], *end = p + g->len[i];
	uint64_t klen, vword;
	p += codec_get_varint(p, end, &klen);
	if (kind == BTREE_KIND_INTERNAL) {
		if (child)
			*child = codec_get_u32(p);
		return sl_slice(p + 4, (size_t)klen);
	}
	p += codec_get_varint(p, end, &vword);
	return sl_slice(p, (size_t)klen);
}

/* The shortest key s with left < s <= right (suffix truncation of separators). */
static sl_slice_t bt_shortest_separator(sl_slice_t left, sl_slice_t right)
{
	size_t n = 0;
	while (n < left.len && n < right.len && left.data[n] == right.data[n])
		n++;
	return sl_slice(right.data, n < right.len ? n + 1 : right.len);
}

/* ---------------------------------------------------------------- insert */

static int bt_insert_parent(btree_t *t, bt_path_t *path, int level, sl_slice_t sep,
			    uint32_t right, sl_err_t *err);

/* Links new right sibling r after leaf l (and before l's old right sibling). */
static int bt_link_leaves(btree_t *t, uint8_t *l, uint32_t lpgno, uint8_t *r, uint32_t rpgno,
			  sl_err_t *err)
{
	uint32_t next = pg_link(l);
	pg_set_link(r, next);
	pg_set_link2(r, lpgno);
	pg_set_link(l, rpgno);
	if (next == 0)
		return SL_OK;
	page_t *np;
	int rc = bt_fetch(t, next, &np, err);
	if (rc != SL_OK)
		return rc;
	pg_set_link2(page_data(np), rpgno);
	pager_mark_dirty(t->pager, np);
	pager_unpin(t->pager, np);
	return SL_OK;
}

/* Index where to cut gathered cells: the first k whose prefix holds half the bytes. */
static uint32_t bt_split_point(const bt_cells_t *g)
{
	uint32_t acc = 0, k = 0;
	while (k + 1 < g->n && acc + g->len[k] + 2 <= g->total / 2)
		acc += g->len[k++] + 2;
	return k == 0 ? 1 : k;
}

/*
 * The leaf (pinned, path level `level`) has no room for cell at slot at: move
 * half its bytes to a new right sibling — or, appending at the end of the
 * rightmost leaf, start the new page with the new cell alone.
 */
static int bt_split_leaf(btree_t *t, bt_path_t *path, int level, page_t *lp, uint32_t at,
			 const uint8_t *cell, uint32_t size, sl_err_t *err)
{
	uint8_t *l = page_data(lp);
	bool append = at == pg_n(l) && pg_link(l) == 0;
	bt_cells_t g;
	page_t *rp = NULL;
	int rc = bt_gather(t, l, at, cell, size, &g, err);
	if (rc == SL_OK)
		rc = pager_alloc(t->pager, &rp, err);
	if (rc != SL_OK)
		goto out;
	uint8_t *r = page_data(rp);
	uint32_t k = append ? g.n - 1 : bt_split_point(&g);
	bt_page_init(t, r, BTREE_KIND_LEAF);
	rc = bt_link_leaves(t, l, page_pgno(lp), r, page_pgno(rp), err);
	if (rc != SL_OK)
		goto out;
	pager_mark_dirty(t->pager, lp);
	if ((rc = bt_fill(t, l, BTREE_KIND_LEAF, &g, 0, k, err)) != SL_OK ||
	    (rc = bt_fill(t, r, BTREE_KIND_LEAF, &g, k, g.n, err)) != SL_OK)
		goto out;
	t->st.splits++;
	sl_slice_t sep = bt_shortest_separator(bt_gathered_key(t, &g, k - 1, BTREE_KIND_LEAF, NULL),
					       bt_gathered_key(t, &g, k, BTREE_KIND_LEAF, NULL));
	if (trace_on(t->trace))
		trace_emit(t->trace, "split leaf %u%s: %u keys stay, %u move to new page %u; "
			   "separator of %zu bytes goes up", page_pgno(lp), append ? " (append)" : "",
			   k, g.n - k, page_pgno(rp), sep.len);
	uint8_t *copy = malloc(sep.len + 1);
	if (copy == NULL) {
		rc = sl_errf(err, SL_NOMEM, "btree: out of memory");
		goto out;
	}
	memcpy(copy, sep.data, sep.len);
	uint32_t rpgno = page_pgno(rp);
	pager_unpin(t->pager, rp);
	rp = NULL;
	rc = bt_insert_parent(t, path, level - 1, sl_slice(copy, sep.len), rpgno, err);
	free(copy);
out:
	if (rp != NULL)
		pager_unpin(t->pager, rp);
	bt_cells_free(&g);
	return rc;
}

/* The root split: a new root above the old one and its new sibling. */
static int bt_grow_root(btree_t *t, sl_slice_t sep, uint32_t right, sl_err_t *err)
{
	page_t *np;
	int rc = pager_alloc(t->pager, &np, err);
	if (rc != SL_OK)
		return rc;
	uint8_t *d = page_data(np);
	bt_page_init(t, d, BTREE_KIND_INTERNAL);
	pg_set_link(d, t->root);
	uint32_t size = bt_internal_cell_encode(t->cellbuf, sep, right); /* sep <= max_key */
	rc = bt_page_insert(t, d, 0, t->cellbuf, size);
	assert(rc == SL_OK); /* one cell in an empty page */
	if (trace_on(t->trace))
		trace_emit(t->trace, "root split: new root %u above %u and %u; height %u", page_pgno(np),
			   t->root, right, t->height + 1);
	t->root = page_pgno(np);
	t->height++;
	pager_unpin(t->pager, np);
	bt_meta_changed(t);
	return SL_OK;
}

/*
 * Splits a full internal page: the cell at the byte midpoint moves up, its child
 * becomes the new right page's leftmost child.
 */
static int bt_split_internal(btree_t *t, bt_path_t *path, int level, page_t *pp, uint32_t at,
			     const uint8_t *cell, uint32_t size, sl_err_t *err)
{
	uint8_t *l = page_data(pp);
	bt_cells_t g;
	page_t *rp = NULL;
	int rc = bt_gather(t, l, at, cell, size, &g, err);
	if (rc == SL_OK)
		rc = pager_alloc(t->pager, &rp, err);
	if (rc != SL_OK)
		goto out;
	/* Cut by bytes, not count: keys vary in length. Both halves keep a key. */
	uint32_t m = bt_split_point(&g), mid_child;
	if (m + 2 > g.n)
		m = g.n - 2;
	sl_slice_t up = bt_gathered_key(t, &g, m, BTREE_KIND_INTERNAL, &mid_child);
	uint8_t *copy = malloc(up.len + 1);
	if (copy == NULL) {
		rc = sl_errf(err, SL_NOMEM, "btree: out of memory");
		goto out;
	}
	memcpy(copy, up.data, up.len);
	uint8_t *r = page_data(rp);
	bt_page_init(t, r, BTREE_KIND_INTERNAL);
	pg_set_link(r, mid_child);
	pager_mark_dirty(t->pager, pp);
	if ((rc = bt_fill(t, l, BTREE_KIND_INTERNAL, &g, 0, m, err)) != SL_OK ||
	    (rc = bt_fill(t, r, BTREE_KIND_INTERNAL, &g, m + 1, g.n, err)) != SL_OK) {
		free(copy);
		goto out;
	}
	t->st.splits++;
	if (trace_on(t->trace))
		trace_emit(t->trace, "split internal %u: %u keys stay, %u move to new page %u",
			   page_pgno(pp), m, g.n - m - 1, page_pgno(rp));
	uint32_t rpgno = page_pgno(rp);
	pager_unpin(t->pager, rp);
	rp = NULL;
	bt_cells_free(&g);
	rc = bt_insert_parent(t, path, level - 1, sl_slice(copy, up.len), rpgno, err);
	free(copy);
	return rc;
out:
	if (rp != NULL)
		pager_unpin(t->pager, rp);
	bt_cells_free(&g);
	return rc;
}

/* Inserts separator sep -> right into the internal page at path level `level`. */
static int bt_insert_parent(btree_t *t, bt_path_t *path, int level, sl_slice_t sep,
			    uint32_t right, sl_err_t *err)
{
	if (level < 0)
		return bt_grow_root(t, sep, right, err);
	page_t *pp;
	int rc = bt_fetch(t, path->pgno[level], &pp, err);
	if (rc != SL_OK)
		return rc;
	uint8_t *cell = malloc(sep.len + 16);
	if (cell == NULL) {
		pager_unpin(t->pager, pp);
		return sl_errf(err, SL_NOMEM, "btree: out of memory");
	}
	uint32_t size = bt_internal_cell_encode(cell, sep, right);
	uint32_t at = path->idx[level]; /* the new child goes right after the one we came from */
	rc = bt_page_insert(t, page_data(pp), at, cell, size);
	if (rc == SL_OK)
		pager_mark_dirty(t->pager, pp);
	else if (rc == SL_FULL)
		rc = bt_split_internal(t, path, level, pp, at, cell, size, err);
	else
		rc = bt_corrupt(t, page_pgno(pp), "a cell does not decode", err);
	free(cell);
	pager_unpin(t->pager, pp);
	return rc;
}

/* Builds the leaf cell for key/value, writing an overflow chain when needed. */
static int bt_make_leaf_cell(btree_t *t, sl_slice_t key, sl_slice_t value, uint8_t *out,
			     uint32_t *size, sl_err_t *err)
{
	return kvcell_make(t->pager, t->max_cell, key, value, t->bulk, out, size, err);
}

static int bt_insert(btree_t *t, sl_slice_t key, sl_slice_t value, sl_err_t *err)
{
	bt_path_t path;
	page_t *lp;
	bt_hit_t hit;
	int rc = bt_locate(t, key, &path, &lp, &hit, err);
	if (rc != SL_OK)
		return rc;
	uint8_t *d = page_data(lp);
	uint8_t *cell = t->cellbuf;
	uint32_t size = 0, at = hit.slot;
	bool found = hit.found;
	const bt_cell_t old = hit.cell;
	if (found && old.overflow && (rc = overflow_free(t->pager, old.ov_pgno, err)) != SL_OK)
		goto out;
	if ((rc = bt_make_leaf_cell(t, key, value, cell, &size, err)) != SL_OK)
		goto out;
	if (found && size <= old.size) {
		/* Update in place: the new cell overwrites the old one's first bytes. */
		uint32_t off = pg_slot(d, at);
		memcpy(d + off, cell, size);
		codec_put_u16(d + PG_FRAG, (uint16_t)(pg_frag(d) + old.size - size));
		pager_mark_dirty(t->pager, lp);
		goto out;
	}
	if (found && bt_page_remove(t, d, at) != SL_OK) {
		rc = bt_corrupt(t, page_pgno(lp), "a cell does not decode", err);
		goto out;
	}
	t->keys += !found;
	if (trace_on(t->trace))
		trace_emit(t->trace, "page %u: leaf, %u keys; %s at slot %u", page_pgno(lp), pg_n(d),
			   found ? "replace (grown value)" : "insert", at);
	pager_mark_dirty(t->pager, lp);
	rc = bt_page_insert(t, d, at, cell, size);
	if (rc == SL_FULL)
		rc = bt_split_leaf(t, &path, path.depth - 1, lp, at, cell, size, err);
	else if (rc == SL_CORRUPT)
		rc = bt_corrupt(t, page_pgno(lp), "a cell does not decode", err);
out:
	pager_unpin(t->pager, lp);
	return rc;
}

/* ---------------------------------------------------------------- delete */

static bool bt_underfull(const btree_t *t, const uint8_t *d)
{
	return bt_page_used(t, d) < (t->usable - PG_SLOTS) / 4;
}

/* Merges leaf r into leaf l (both pinned): l takes r's cells and its right link. */
static int bt_merge_leaves(btree_t *t, page_t *lp, page_t *rp, sl_err_t *err)
{
	uint8_t *l = page_data(lp), *r = page_data(rp);
	bt_cells_t g;
	int rc = bt_gather(t, r, 0, NULL, 0, &g, err);
	for (uint32_t i = 0; rc == SL_OK && i < g.n; i++)
		if (bt_page_insert(t, l, pg_n(l), t->cells.data + g.off[i], g.len[i]) != SL_OK)
			rc = bt_corrupt(t, page_pgno(lp), "a merge found a cell that does not decode", err);
	bt_cells_free(&g);
	if (rc != SL_OK)
		return rc;
	uint32_t next = pg_link(r);
	pg_set_link(l, next);
	pager_mark_dirty(t->pager, lp);
	if (next != 0) {
		page_t *np;
		rc = bt_fetch(t, next, &np, err);
		if (rc != SL_OK)
			return rc;
		pg_set_link2(page_data(np), page_pgno(lp));
		pager_mark_dirty(t->pager, np);
		pager_unpin(t->pager, np);
	}
	return SL_OK;
}

/* Merges internal r into l with the separator between them pulled down (the
 * caller checked that it all fits in one page). */
static int bt_merge_internal(btree_t *t, page_t *lp, page_t *rp, sl_slice_t sep, sl_err_t *err)
{
	uint8_t *l = page_data(lp), *r = page_data(rp);
	uint32_t size = bt_internal_cell_encode(t->cellbuf, sep, pg_link(r));
	bool ok = bt_page_insert(t, l, pg_n(l), t->cellbuf, size) == SL_OK;
	for (uint32_t i = 0; ok && i < pg_n(r); i++) {
		bt_cell_t c;
		ok = bt_cell_decode(t, r, i, &c) &&
		     bt_page_insert(t, l, pg_n(l), r + pg_slot(r, i), c.size) == SL_OK;
	}
	pager_mark_dirty(t->pager, lp);
	return ok ? SL_OK : bt_corrupt(t, page_pgno(rp), "a merge found a cell that does not decode", err);
}

/*
 * Evens out two leaves under one parent by moving cells from the fuller, then
 * replaces their separator. Skipped (returns false) when the new separator
 * would not fit in the parent: a leaf left under a quarter full is legal.
 */
static bool bt_redistribute(btree_t *t, page_t *lp, page_t *rp, page_t *pp, uint32_t sep_i,
			    sl_err_t *err, int *rc)
{
	uint8_t *l = page_data(lp), *r = page_data(rp), *p = page_data(pp);
	bt_cells_t g = { 0 };
	bt_cell_t old;
	*rc = bt_gather(t, l, 0, NULL, 0, &g, err);
	uint32_t nl = g.n;
	if (*rc == SL_OK)
		*rc = bt_gather_more(t, r, &g, err);
	bool done = false;
	if (*rc == SL_OK && bt_cell_decode(t, p, sep_i, &old)) {
		uint32_t k = bt_split_point(&g);
		sl_slice_t sep = bt_shortest_separator(bt_gathered_key(t, &g, k - 1, BTREE_KIND_LEAF, NULL),
						       bt_gathered_key(t, &g, k, BTREE_KIND_LEAF, NULL));
		uint32_t new_size = (uint32_t)(codec_varint_len(sep.len) + 4 + sep.len);
		if (k != nl && new_size <= old.size + bt_page_free(t, p)) {
			uint32_t size = bt_internal_cell_encode(t->cellbuf, sep, page_pgno(rp));
			if (bt_page_remove(t, p, sep_i) != SL_OK ||
			    bt_page_insert(t, p, sep_i, t->cellbuf, size) != SL_OK) {
				*rc = bt_corrupt(t, page_pgno(pp), "a cell does not decode", err);
				bt_cells_free(&g);
				return false;
			}
			pager_mark_dirty(t->pager, lp);
			pager_mark_dirty(t->pager, rp);
			pager_mark_dirty(t->pager, pp);
			if ((*rc = bt_fill(t, l, BTREE_KIND_LEAF, &g, 0, k, err)) == SL_OK)
				*rc = bt_fill(t, r, BTREE_KIND_LEAF, &g, k, g.n, err);
			t->st.redistributions++;
			done = *rc == SL_OK;
		}
	}
	bt_cells_free(&g);
	return done;
}

/*
 * The parent (pinned, at path level `level`) lost the child right of cell_i:
 * drop that cell. An emptied root hands the tree to its one child (*free_root
 * gets the old root, freed by the caller once unpinned); any other parent left
 * under a quarter full reports it in *underfull.
 */
static int bt_parent_lost_child(btree_t *t, int level, page_t *pp, uint32_t cell_i,
				uint32_t *free_root, bool *underfull, sl_err_t *err)
{
	uint8_t *p = page_data(pp);
	if (bt_page_remove(t, p, cell_i) != SL_OK)
		return bt_corrupt(t, page_pgno(pp), "a parent cell does not decode", err);
	pager_mark_dirty(t->pager, pp);
	if (level > 0) {
		*underfull = bt_underfull(t, p);
		return SL_OK;
	}
	if (pg_n(p) > 0)
		return SL_OK;
	*free_root = t->root;
	t->root = pg_link(p);
	t->height--;
	bt_meta_changed(t);
	if (trace_on(t->trace))
		trace_emit(t->trace, "root %u emptied: page %u is the root; height %u", *free_root,
			   t->root, t->height);
	return SL_OK;
}

/* Replaces parent cell sep_i with (key -> child): SL_OK, SL_FULL when it does not
 * fit (nothing changed), SL_CORRUPT when a cell does not decode. */
static int bt_replace_separator(btree_t *t, uint8_t *p, uint32_t sep_i, sl_slice_t key,
				uint32_t child)
{
	bt_cell_t old;
	uint32_t size = (uint32_t)(codec_varint_len(key.len) + 4 + key.len);
	if (!bt_cell_decode(t, p, sep_i, &old))
		return SL_CORRUPT;
	if (size > old.size + bt_page_free(t, p))
		return SL_FULL;
	bt_internal_cell_encode(t->cellbuf, key, child);
	int rc = bt_page_remove(t, p, sep_i);
	return rc == SL_OK ? bt_page_insert(t, p, sep_i, t->cellbuf, size) : rc;
}

/*
 * An internal page left without separators (only its leftmost child) that
 * cannot merge borrows one child from its neighbour through the parent, in
 * three steps: the neighbour's nearest key goes up in place of the parent's
 * separator, the separator comes down into the empty page with the borrowed
 * child, and the neighbour gives that child up. Skipped when the new separator
 * does not fit in the parent (an empty internal page is legal).
 */
static int bt_rotate_internal(btree_t *t, page_t *lp, page_t *rp, page_t *pp, uint32_t sep_i,
			      sl_err_t *err)
{
	uint8_t *l = page_data(lp), *r = page_data(rp), *p = page_data(pp);
	bool from_right = pg_n(l) == 0; /* else the right page is the empty one */
	page_t *giver = from_right ? rp : lp;
	uint8_t *g = page_data(giver);
	uint32_t gi = from_right ? 0 : pg_n(g) - 1;
	bt_cell_t sep, c;
	if (pg_n(g) < 2)
		return SL_OK; /* nothing to spare */
	if (!bt_cell_decode(t, p, sep_i, &sep))
		return bt_corrupt(t, page_pgno(pp), "a parent cell does not decode", err);
	if (!bt_cell_decode(t, g, gi, &c))
		return bt_corrupt(t, page_pgno(giver), "a cell does not decode", err);
	/* The keys live in pages about to change: copy them first. */
	uint8_t *down = malloc(sep.key.len + 16), *up = malloc(c.key.len + 1);
	int rc = down && up ? SL_OK : sl_errf(err, SL_NOMEM, "btree: out of memory");
	uint32_t moved = c.child, size = 0;
	if (rc == SL_OK) { /* 1. the giver's key goes up */
		memcpy(up, c.key.data, c.key.len);
		/* The separator comes down over r's leftmost child; the moved child becomes it. */
		size = bt_internal_cell_encode(down, sep.key, pg_link(r));
		rc = bt_replace_separator(t, p, sep_i, sl_slice(up, c.key.len), page_pgno(rp));
	}
	if (rc == SL_OK) { /* 2. the separator comes down, 3. the giver lets go */
		rc = bt_page_insert(t, from_right ? l : r, 0, down, size);
		if (rc == SL_OK) {
			pg_set_link(r, moved);
			rc = bt_page_remove(t, g, gi);
		}
		t->st.redistributions++;
	}
	pager_mark_dirty(t->pager, lp);
	pager_mark_dirty(t->pager, rp);
	pager_mark_dirty(t->pager, pp);
	free(down);
	free(up);
	if (rc == SL_FULL)
		return SL_OK; /* the parent had no room: the empty page stays (legal) */
	return rc == SL_CORRUPT ? bt_corrupt(t, page_pgno(pp), "a cell does not decode", err) : rc;
}

/* Can l and r (and, for internal pages, the separator) share one page? */
static bool bt_fits_one(const btree_t *t, const uint8_t *l, const uint8_t *r, uint32_t extra)
{
	return bt_page_used(t, l) + bt_page_used(t, r) + extra <= t->usable - PG_SLOTS;
}

/*
 * The page at path level `level` fell under a quarter full: merge it with a
 * neighbour under the same parent, or borrow from it (leaves), then fix the
 * parent, which may in turn fall under and rebalance further up.
 */
static int bt_rebalance(btree_t *t, bt_path_t *path, int level, sl_err_t *err)
{
	page_t *pp, *lp = NULL, *rp = NULL;
	uint32_t free_root = 0;
	bool parent_under = false;
	int rc = bt_fetch(t, path->pgno[level - 1], &pp, err);
	if (rc != SL_OK)
		return rc;
	uint8_t *p = page_data(pp);
	uint32_t idx = path->idx[level - 1];
	/* The pair: this page and its right neighbour, or its left one at the end. */
	uint32_t li = idx < pg_n(p) ? idx : idx - 1;
	bool bad1, bad2;
	uint32_t lpg = bt_child_at(t, p, li, &bad1), rpg = bt_child_at(t, p, li + 1, &bad2);
	if (bad1 || bad2 || pg_n(p) == 0) {
		pager_unpin(t->pager, pp);
		return bt_corrupt(t, page_pgno(pp), "a parent cell does not decode", err);
	}
	if ((rc = bt_fetch(t, lpg, &lp, err)) != SL_OK || (rc = bt_fetch(t, rpg, &rp, err)) != SL_OK)
		goto out;
	uint8_t *l = page_data(lp), *r = page_data(rp);
	bool leaf = pg_kind(l) == BTREE_KIND_LEAF;
	bt_cell_t sep;
	if (!bt_cell_decode(t, p, li, &sep)) {
		rc = bt_corrupt(t, page_pgno(pp), "a parent cell does not decode", err);
		goto out;
	}
	uint32_t sep_extra = leaf ? 0 : (uint32_t)(codec_varint_len(sep.key.len) + 4 + sep.key.len + 2);
	if (bt_fits_one(t, l, r, sep_extra)) {
		/* Merge: r's cells into l (the separator too, between internal pages; it is
		 * encoded before l changes, and the parent does not change until after). */
		rc = leaf ? bt_merge_leaves(t, lp, rp, err) : bt_merge_internal(t, lp, rp, sep.key, err);
		if (trace_on(t->trace))
			trace_emit(t->trace, "merge page %u into page %u", rpg, lpg);
		t->st.merges++;
		pager_unpin(t->pager, rp);
		rp = NULL;
		if (rc == SL_OK)
			rc = pager_free(t->pager, rpg, err);
		if (rc == SL_OK)
			rc = bt_parent_lost_child(t, level - 1, pp, li, &free_root, &parent_under, err);
	} else if (leaf) {
		if (bt_redistribute(t, lp, rp, pp, li, err, &rc) && trace_on(t->trace))
			trace_emit(t->trace, "redistribute between leaves %u and %u", lpg, rpg);
	} else if (pg_n(l) == 0 || pg_n(r) == 0) {
		rc = bt_rotate_internal(t, lp, rp, pp, li, err);
	}
out:
	if (lp)
		pager_unpin(t->pager, lp);
	if (rp)
		pager_unpin(t->pager, rp);
	pager_unpin(t->pager, pp);
	/* Freeing and climbing wait until nothing here is pinned. */
	if (rc == SL_OK && free_root != 0)
		rc = pager_free(t->pager, free_root, err);
	if (rc == SL_OK && parent_under)
		rc = bt_rebalance(t, path, level - 1, err);
	return rc;
}

static int bt_delete(btree_t *t, sl_slice_t key, sl_err_t *err)
{
	bt_path_t path;
	page_t *lp;
	bt_hit_t hit;
	int rc = bt_locate(t, key, &path, &lp, &hit, err);
	if (rc != SL_OK)
		return rc;
	if (!hit.found) {
		pager_unpin(t->pager, lp);
		return SL_OK;
	}
	uint8_t *d = page_data(lp);
	uint32_t at = hit.slot;
	const bt_cell_t c = hit.cell;
	if (c.overflow)
		rc = overflow_free(t->pager, c.ov_pgno, err);
	if (rc == SL_OK && bt_page_remove(t, d, at) != SL_OK)
		rc = bt_corrupt(t, page_pgno(lp), "a cell does not decode", err);
	if (rc != SL_OK) {
		pager_unpin(t->pager, lp);
		return rc;
	}
	pager_mark_dirty(t->pager, lp);
	t->keys--;
	if (trace_on(t->trace))
		trace_emit(t->trace, "page %u: leaf, delete slot %u; %u keys left", page_pgno(lp), at,
			   pg_n(d));
	bool rebalance = path.depth > 1 && bt_underfull(t, d);
	pager_unpin(t->pager, lp);
	if (rc == SL_OK && rebalance)
		rc = bt_rebalance(t, &path, path.depth - 1, err);
	return rc;
}

/* ---------------------------------------------------------------- logged writes */

int bt_apply_batch(void *ctx, sl_slice_t rep, sl_err_t *err)
{
	btree_t *t = ctx;
	batch_reader_t r;
	int rc = batch_reader_init(&r, rep, err);
	int op;
	sl_slice_t k, v;
	while (rc == SL_OK && (rc = batch_reader_next(&r, &op, &k, &v, err)) == SL_OK)
		rc = op == BATCH_OP_PUT ? bt_insert(t, k, v, err) : bt_delete(t, k, err);
	if (rc != SL_NOTFOUND)
		return rc;
	bt_meta_changed(t);
	return SL_OK;
}

int bt_check_sizes(void *ctx, sl_slice_t key, sl_slice_t value, bool put, sl_err_t *err)
{
	const btree_t *t = ctx;
	if (key.len > t->max_key)
		return sl_errf(err, SL_INVALID, "btree: key of %zu bytes exceeds the %u-byte limit",
			       key.len, t->max_key);
	if (put && value.len > BTREE_MAX_VALUE)
		return sl_errf(err, SL_INVALID, "btree: value of %zu bytes exceeds the %u-byte limit",
			       value.len, BTREE_MAX_VALUE);
	return SL_OK;
}

int btree_put(btree_t *t, sl_slice_t key, sl_slice_t value, sl_err_t *err)
{
	return oplog_put(&t->log, key, value, err);
}

int btree_del(btree_t *t, sl_slice_t key, sl_err_t *err)
{
	return oplog_del(&t->log, key, err);
}

int btree_write(btree_t *t, const batch_t *b, sl_err_t *err)
{
	return oplog_write(&t->log, b, err);
}

/* ---------------------------------------------------------------- bulk load */

/* One level of the tree being built bottom-up: the open page and what is done. */
typedef struct bt_level {
	page_t *page;          /* the page being filled (pinned), or NULL */
	buf_t firsts;          /* for each finished page: u32 pgno, u32 len, separator bytes */
	uint32_t pages;        /* pages finished on this level */
} bt_level_t;

/* Finishes a page: written home at once (it is past the checkpoint), unpinned. */
static int bt_bulk_finish(btree_t *t, page_t *pg, sl_err_t *err)
{
	int rc = pager_write_early(t->pager, pg, err);
	pager_unpin(t->pager, pg);
	return rc;
}

/* Records that finished page pgno begins at separator key (into lv->firsts). */
static void bt_bulk_note(bt_level_t *lv, uint32_t pgno, sl_slice_t key)
{
	codec_buf_put_u32(&lv->firsts, pgno);
	codec_buf_put_u32(&lv->firsts, (uint32_t)key.len);
	buf_append(&lv->firsts, key.data, key.len);
	lv->pages++;
}

/* Packs leaves left to right; each is closed when `limit` bytes are used. */
static int bt_bulk_leaves(btree_t *t, btree_next_fn next, void *ctx, uint32_t limit,
			  bt_level_t *lv, sl_err_t *err)
{
	uint8_t *cell = malloc(t->max_cell + 32);
	buf_t last = BUF_INIT;
	sl_slice_t k, v;
	int rc = cell ? SL_OK : sl_errf(err, SL_NOMEM, "btree: out of memory");
	while (rc == SL_OK && (rc = next(ctx, &k, &v)) == SL_OK) {
		if ((rc = bt_check_sizes(t, k, v, true, err)) != SL_OK)
			break;
		if (t->keys > 0 && sl_slice_cmp(buf_slice(&last), k) >= 0) {
			rc = sl_errf(err, SL_INVALID, "btree bulk load: keys are not in increasing order");
			break;
		}
		uint32_t size;
		if ((rc = bt_make_leaf_cell(t, k, v, cell, &size, err)) != SL_OK)
			break;
		uint8_t *d = lv->page ? page_data(lv->page) : NULL;
		if (d == NULL || bt_page_used(t, d) + size + 2 > limit ||
		    bt_page_insert(t, d, pg_n(d), cell, size) != SL_OK) {
			page_t *np;
			if ((rc = pager_alloc(t->pager, &np, err)) != SL_OK)
				break;
			bt_page_init(t, page_data(np), BTREE_KIND_LEAF);
			sl_slice_t sep = t->keys ? bt_shortest_separator(buf_slice(&last), k) : k;
			if (lv->page != NULL) {
				pg_set_link(page_data(lv->page), page_pgno(np));
				pg_set_link2(page_data(np), page_pgno(lv->page));
				if ((rc = bt_bulk_finish(t, lv->page, err)) != SL_OK)
					break;
			}
			bt_bulk_note(lv, page_pgno(np), sep);
			lv->page = np;
			rc = bt_page_insert(t, page_data(np), 0, cell, size); /* an empty page */
		}
		buf_set(&last, k.data, k.len);
		t->keys++;
	}
	free(cell);
	buf_free(&last);
	return rc == SL_NOTFOUND ? SL_OK : rc;
}

/* Builds the internal level above `below`; its first page's first key goes up. */
static int bt_bulk_internal(btree_t *t, bt_level_t *below, uint32_t limit, bt_level_t *lv,
			    sl_err_t *err)
{
	const uint8_t *p = below->firsts.data, *end = p + below->firsts.len;
	uint8_t *cell = malloc(t->max_cell + 32);
	int rc = cell ? SL_OK : sl_errf(err, SL_NOMEM, "btree: out of memory");
	for (; rc == SL_OK && p < end;) {
		uint32_t child = codec_get_u32(p), len = codec_get_u32(p + 4);
		sl_slice_t key = sl_slice(p + 8, len);
		p += 8 + len;
		uint32_t size = bt_internal_cell_encode(cell, key, child);
		uint8_t *d = lv->page ? page_data(lv->page) : NULL;
		if (d != NULL && bt_page_used(t, d) + size + 2 <= limit &&
		    bt_page_insert(t, d, pg_n(d), cell, size) == SL_OK)
			continue;
		/* Start a new page: this child is its leftmost, its key goes up a level. */
		page_t *np;
		if ((rc = pager_alloc(t->pager, &np, err)) != SL_OK)
			break;
		bt_page_init(t, page_data(np), BTREE_KIND_INTERNAL);
		pg_set_link(page_data(np), child);
		if (lv->page != NULL && (rc = bt_bulk_finish(t, lv->page, err)) != SL_OK)
			break;
		bt_bulk_note(lv, page_pgno(np), key);
		lv->page = np;
	}
	free(cell);
	return rc;
}

int btree_bulk_load(btree_t *t, btree_next_fn next, void *ctx, double fill, sl_err_t *err)
{
	if (t->keys != 0 || t->height != 1 || pager_free_count(t->pager) != 0)
		return sl_errf(err, SL_INVALID, "btree bulk load needs an empty tree with no free pages");
	if (!(fill >= 0.5 && fill <= 1.0))
		return sl_errf(err, SL_INVALID, "btree bulk load: fill %.2f is outside 0.5..1", fill);
	/* Everything built now is past the checkpoint, so it may go home at once. */
	int rc = pager_checkpoint(t->pager, err);
	uint32_t limit = (uint32_t)((t->usable - PG_SLOTS) * fill);
	bt_level_t levels[BTREE_MAX_HEIGHT] = { 0 };
	int h = 0;
	t->bulk = true;
	if (rc == SL_OK)
		rc = bt_bulk_leaves(t, next, ctx, limit, &levels[0], err);
	t->bulk = false;
	while (rc == SL_OK && levels[h].pages > 1 && h + 1 < BTREE_MAX_HEIGHT) {
		rc = bt_bulk_finish(t, levels[h].page, err);
		levels[h].page = NULL;
		if (rc == SL_OK)
			rc = bt_bulk_internal(t, &levels[h], limit, &levels[h + 1], err);
		h++;
	}
	uint32_t old_root = t->root;
	if (rc == SL_OK && levels[h].page != NULL) {
		t->root = page_pgno(levels[h].page);
		t->height = (uint32_t)h + 1;
		rc = bt_bulk_finish(t, levels[h].page, err);
		levels[h].page = NULL;
		if (rc == SL_OK)
			rc = pager_free(t->pager, old_root, err);
		if (rc == SL_OK)
			rc = pager_sync_file(t->pager, err);
		bt_meta_changed(t);
		/* The checkpoint's header switch is what makes the new tree the tree. */
		if (rc == SL_OK)
			rc = pager_checkpoint(t->pager, err);
	}
	for (int i = 0; i < BTREE_MAX_HEIGHT; i++) {
		if (levels[i].page != NULL)
			pager_unpin(t->pager, levels[i].page);
		buf_free(&levels[i].firsts);
	}
	if (rc != SL_OK)
		pager_set_broken(t->pager); /* reopening returns to the empty tree */
	return rc;
}
