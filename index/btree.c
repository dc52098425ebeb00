/*
 * btree.c — opening, the log, lookups and cursors of the B+tree (btree.h).
 * The changes (insert, split, delete, merge) are in btree_write.c.
 */
#include <stdlib.h>
#include <string.h>

#include "index/btree_int.h"
#include "index/btree_write.h"
#include "index/overflow.h"

uint32_t btree_max_key(uint32_t page_size)
{
	uint32_t usable = page_size - PAGER_TRAILER_BYTES;
	uint32_t max_cell = (usable - PG_SLOTS) / 4 - 2;
	/* Room for the varints and a child or overflow pointer next to the key. */
	uint32_t k = max_cell - 16;
	return k > 1000 ? 1000 : k;
}

int bt_corrupt(btree_t *t, uint32_t pgno, const char *what, sl_err_t *err)
{
	return sl_errf(err, SL_CORRUPT, "%s: page %u: %s", pager_path(t->pager), pgno, what);
}

int bt_fetch(btree_t *t, uint32_t pgno, page_t **out, sl_err_t *err)
{
	int rc = pager_get(t->pager, pgno, out, err);
	if (rc != SL_OK)
		return rc;
	if (!bt_page_sane(t, page_data(*out))) {
		pager_unpin(t->pager, *out);
		*out = NULL;
		return bt_corrupt(t, pgno, "not a B+tree page (bad kind, count or cell area)", err);
	}
	return SL_OK;
}

/* ---------------------------------------------------------------- metadata */

static void bt_meta_save(btree_t *t)
{
	uint8_t *m = pager_meta(t->pager);
	memcpy(m + META_MAGIC, BTREE_MAGIC, 8);
	codec_put_u32(m + META_VERSION, BTREE_VERSION);
	codec_put_u32(m + META_ROOT, t->root);
	codec_put_u32(m + META_HEIGHT, t->height);
	codec_put_u64(m + META_KEYS, t->keys);
	pager_meta_dirty(t->pager);
}

void bt_meta_changed(btree_t *t)
{
	bt_meta_save(t);
}

/* Reads the metadata of an existing tree, or starts a new one (an empty root leaf). */
static int bt_meta_load(btree_t *t, sl_err_t *err)
{
	const uint8_t *m = pager_meta(t->pager);
	static const uint8_t zero[8];
	if (memcmp(m + META_MAGIC, zero, 8) == 0 && pager_page_count(t->pager) == 1) {
		page_t *root;
		int rc = pager_alloc(t->pager, &root, err);
		if (rc != SL_OK)
			return rc;
		bt_page_init(t, page_data(root), BTREE_KIND_LEAF);
		t->root = page_pgno(root);
		t->height = 1;
		t->keys = 0;
		pager_unpin(t->pager, root);
		bt_meta_save(t);
		return pager_checkpoint(t->pager, err);
	}
	if (memcmp(m + META_MAGIC, BTREE_MAGIC, 8) != 0)
		return sl_errf(err, SL_CORRUPT, "%s: not a B+tree (its paged file belongs to "
			       "another structure)", pager_path(t->pager));
	uint32_t version = codec_get_u32(m + META_VERSION);
	if (version != BTREE_VERSION)
		return sl_errf(err, SL_NOTSUP, "%s: B+tree format version %u, this build reads %u",
			       pager_path(t->pager), version, BTREE_VERSION);
	t->root = codec_get_u32(m + META_ROOT);
	t->height = codec_get_u32(m + META_HEIGHT);
	t->keys = codec_get_u64(m + META_KEYS);
	if (t->height == 0 || t->height > BTREE_MAX_HEIGHT || t->root == 0 ||
	    t->root >= pager_page_count(t->pager))
		return sl_errf(err, SL_CORRUPT, "%s: metadata says root %u, height %u",
			       pager_path(t->pager), t->root, t->height);
	return SL_OK;
}

/* ---------------------------------------------------------------- open/close */

/* Frames one operation may dirty: a split per level plus a value's overflow chain. */
static uint64_t bt_min_cache(uint32_t page_size)
{
	uint64_t ov_pages = BTREE_MAX_VALUE / (page_size - PAGER_TRAILER_BYTES - OVERFLOW_DATA) + 1;
	return (4 * ov_pages + 4 * BTREE_MAX_HEIGHT + 64) * page_size;
}

static int bt_alloc(btree_t **out, const btree_opts_t *o, sl_err_t *err)
{
	btree_t *t = calloc(1, sizeof *t);
	if (t == NULL)
		return sl_errf(err, SL_NOMEM, "btree: out of memory");
	t->trace = o->trace ? o->trace : &t->no_trace;
	*out = t;
	return SL_OK;
}

static int bt_size_buffers(btree_t *t, sl_err_t *err)
{
	t->usable = pager_usable_size(t->pager);
	t->max_cell = (t->usable - PG_SLOTS) / 4 - 2;
	t->max_key = btree_max_key(pager_page_size(t->pager));
	t->cellbuf = malloc(t->max_cell + 32);
	if (buf_extend(&t->scratch, t->usable) == NULL || t->cellbuf == NULL)
		return sl_errf(err, SL_NOMEM, "btree: out of memory");
	bt_page_layout(t);
	return SL_OK;
}

int btree_open(env_t *env, const char *path, const btree_opts_t *opts, btree_t **out,
	       sl_err_t *err)
{
	*out = NULL;
	btree_opts_t o = opts ? *opts : (btree_opts_t){ 0 };
	uint32_t ps = o.page_size ? o.page_size : BTREE_DEFAULT_PAGE_SIZE;
	uint64_t cache = o.cache_bytes ? o.cache_bytes : pager_default_cache();
	if (cache < bt_min_cache(ps))
		cache = bt_min_cache(ps);
	pager_opts_t po = { .page_size = ps, .cache_bytes = cache, .create = o.create,
			    .logged = true, .sync = o.sync, .batch_ms = o.batch_ms,
			    .read_only = o.read_only };
	btree_t *t = NULL;
	int rc = bt_alloc(&t, &o, err);
	if (rc != SL_OK)
		return rc;
	rc = pager_open(env, path, &po, &t->pager, err);
	oplog_init(&t->log, t->pager, bt_check_sizes, bt_apply_batch, t);
	if (rc == SL_OK)
		rc = bt_size_buffers(t, err);
	if (rc == SL_OK)
		rc = bt_meta_load(t, err);
	if (rc == SL_OK) {
		t->replaying = true;
		rc = pager_replay(t->pager, bt_apply_batch, t, err);
		t->replaying = false;
	}
	if (rc != SL_OK) {
		if (t->pager)
			pager_set_broken(t->pager); /* write nothing home */
		btree_close(t, NULL);
		return rc;
	}
	*out = t;
	return SL_OK;
}

int btree_close(btree_t *t, sl_err_t *err)
{
	if (t == NULL)
		return SL_OK;
	int rc = pager_close(t->pager, err);
	oplog_free(&t->log);
	buf_free(&t->scratch);
	buf_free(&t->cells);
	free(t->cellbuf);
	free(t);
	return rc;
}

int btree_sync(btree_t *t, sl_err_t *err)
{
	return pager_log_sync(t->pager, err);
}

/* ---------------------------------------------------------------- descent */

/*
 * Walks from the root to the leaf that holds (or would hold) key, recording
 * the path; returns the leaf pinned. With key NULL, takes the leftmost path.
 */
int bt_descend(btree_t *t, const sl_slice_t *key, bt_path_t *path, page_t **leaf,
	       sl_err_t *err)
{
	uint32_t pgno = t->root;
	path->depth = 0;
	for (uint32_t level = 0; level < t->height; level++) {
		page_t *pg;
		int rc = bt_fetch(t, pgno, &pg, err);
		if (rc != SL_OK)
			return rc;
		const uint8_t *d = page_data(pg);
		bool is_leaf = level + 1 == t->height;
		path->pgno[path->depth] = pgno;
		if (is_leaf != (pg_kind(d) == BTREE_KIND_LEAF)) {
			pager_unpin(t->pager, pg);
			return bt_corrupt(t, pgno, "page kind does not match its depth", err);
		}
		if (is_leaf) {
			path->idx[path->depth++] = 0;
			*leaf = pg;
			return SL_OK;
		}
		bool found = false, bad = false;
		uint32_t i = key ? bt_search(t, d, *key, &found, &bad) : 0;
		uint32_t idx = found ? i + 1 : i;
		uint32_t child = bad ? 0 : bt_child_at(t, d, idx, &bad);
		if (trace_on(t->trace))
			trace_emit(t->trace, "page %u: internal, %u keys; binary search picks child %u "
				   "(page %u)", pgno, pg_n(d), idx, child);
		pager_unpin(t->pager, pg);
		if (bad || child == 0)
			return bt_corrupt(t, pgno, "a cell does not decode", err);
		path->idx[path->depth++] = idx;
		pgno = child;
		t->st.get_pages++;
	}
	return bt_corrupt(t, t->root, "tree deeper than its height", err);
}

/* ---------------------------------------------------------------- values */

/* Appends the value of a decoded leaf cell to out (following an overflow chain). */
int bt_value_read(btree_t *t, const bt_cell_t *c, buf_t *out, sl_err_t *err)
{
	kvcell_t kv = { c->key, c->vlen, c->overflow, c->ov_pgno, c->value, c->size };
	return kvcell_value(t->pager, &kv, out, err);
}

int bt_locate(btree_t *t, sl_slice_t key, bt_path_t *path, page_t **leaf, bt_hit_t *hit,
	      sl_err_t *err)
{
	*hit = (bt_hit_t){ 0 };
	int rc = bt_descend(t, &key, path, leaf, err);
	if (rc != SL_OK)
		return rc;
	const uint8_t *d = page_data(*leaf);
	bool bad;
	hit->slot = bt_search(t, d, key, &hit->found, &bad);
	if (bad || (hit->found && !bt_cell_decode(t, d, hit->slot, &hit->cell))) {
		rc = bt_corrupt(t, page_pgno(*leaf), "a leaf cell does not decode", err);
		pager_unpin(t->pager, *leaf);
		*leaf = NULL;
	}
	return rc;
}

int btree_get(btree_t *t, sl_slice_t key, buf_t *value, sl_err_t *err)
{
	bt_path_t path;
	page_t *leaf;
	bt_hit_t hit;
	t->st.gets++;
	t->st.get_pages++;
	int rc = bt_locate(t, key, &path, &leaf, &hit, err);
	if (rc != SL_OK)
		return rc;
	if (trace_on(t->trace))
		trace_emit(t->trace, "page %u: leaf, %u keys; binary search %s at slot %u",
			   page_pgno(leaf), pg_n(page_data(leaf)),
			   hit.found ? "finds the key" : "misses", hit.slot);
	if (hit.found) {
		buf_clear(value);
		rc = bt_value_read(t, &hit.cell, value, err);
	} else {
		rc = SL_NOTFOUND;
	}
	pager_unpin(t->pager, leaf);
	return rc;
}

/* ---------------------------------------------------------------- cursors */

/*
 * A cursor keeps its leaf pinned between steps, so stepping within a leaf is a
 * slot increment with no page lookup, and an inline key and value are handed
 * out as slices of the page itself (only overflow values are copied). This
 * made 100-entry scans about 3x faster than fetching and copying per entry.
 */
struct btree_cursor {
	btree_t *t;       /* the tree */
	page_t *page;     /* the current leaf, pinned; NULL when not on one */
	uint32_t idx;     /* current cell in it */
	bool valid;       /* on an entry */
	sl_slice_t key;   /* the current key, inside the page */
	sl_slice_t value; /* the current value, inside the page or ovvalue */
	buf_t ovvalue;    /* an overflow value, reassembled */
};

/* Publishes the entry at idx, moving right past the end of a leaf. */
static int bt_cursor_load(btree_cursor_t *c, sl_err_t *err)
{
	btree_t *t = c->t;
	c->valid = false;
	for (uint32_t hops = 0; c->page != NULL; hops++) {
		const uint8_t *d = page_data(c->page);
		if (c->idx < pg_n(d)) {
			bt_cell_t cell;
			if (!bt_cell_decode(t, d, c->idx, &cell))
				return bt_corrupt(t, page_pgno(c->page), "a leaf cell does not decode", err);
			c->key = cell.key;
			c->value = sl_slice(cell.value, (size_t)cell.vlen);
			if (cell.overflow) {
				buf_clear(&c->ovvalue);
				int rc = bt_value_read(t, &cell, &c->ovvalue, err);
				if (rc != SL_OK)
					return rc;
				c->value = buf_slice(&c->ovvalue);
			}
			c->valid = true;
			return SL_OK;
		}
		uint32_t right = pg_link(d), here = page_pgno(c->page);
		pager_unpin(t->pager, c->page);
		c->page = NULL;
		c->idx = 0;
		if (right == 0)
			return SL_OK;
		if (hops > pager_page_count(t->pager))
			return bt_corrupt(t, here, "the leaf chain loops", err);
		int rc = bt_fetch(t, right, &c->page, err);
		if (rc != SL_OK)
			return rc;
		/* A scan that reached this leaf will likely want the next one too. */
		pager_prefetch(t->pager, pg_link(page_data(c->page)));
	}
	return SL_OK;
}

int btree_seek(btree_t *t, const sl_slice_t *start, btree_cursor_t **out, sl_err_t *err)
{
	btree_cursor_t *c = calloc(1, sizeof *c);
	if (c == NULL)
		return sl_errf(err, SL_NOMEM, "btree: out of memory");
	c->t = t;
	bt_path_t path;
	page_t *leaf;
	int rc = bt_descend(t, start, &path, &leaf, err);
	if (rc == SL_OK) {
		bool found, bad = false;
		c->page = leaf;
		pager_prefetch(t->pager, pg_link(page_data(leaf)));
		c->idx = start ? bt_search(t, page_data(leaf), *start, &found, &bad) : 0;
		rc = bad ? bt_corrupt(t, page_pgno(leaf), "a leaf cell does not decode", err)
			 : bt_cursor_load(c, err);
	}
	*out = c;
	return rc;
}

bool btree_cursor_valid(const btree_cursor_t *c) { return c->valid; }
sl_slice_t btree_cursor_key(const btree_cursor_t *c) { return c->key; }
sl_slice_t btree_cursor_value(const btree_cursor_t *c) { return c->value; }

int btree_cursor_next(btree_cursor_t *c, sl_err_t *err)
{
	if (!c->valid)
		return SL_OK;
	c->idx++;
	return bt_cursor_load(c, err);
}

void btree_cursor_close(btree_cursor_t *c)
{
	if (c == NULL)
		return;
	if (c->page != NULL)
		pager_unpin(c->t->pager, c->page);
	buf_free(&c->ovvalue);
	free(c);
}
