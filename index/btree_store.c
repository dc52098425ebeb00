/* btree_store.c — the store interface over the B+tree (see btree_store.h). */
#include "index/btree_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/btree.h"

typedef struct bt_store {
	store_t base;      /* must be first */
	store_home_t home; /* directory, env, lock */
	btree_t *tree;     /* the index */
} bt_store_t;

static bt_store_t *bts_of(store_t *s) { return (bt_store_t *)s; }

static int bts_close(store_t *s)
{
	bt_store_t *b = bts_of(s);
	int rc = btree_close(b->tree, &s->err);
	store_home_close(&b->home);
	free(b);
	return rc;
}

static int bts_open(const char *dir, const store_opts_t *opts, store_t **out, sl_err_t *err)
{
	*out = NULL;
	bt_store_t *b = calloc(1, sizeof *b);
	if (b == NULL)
		return sl_errf(err, SL_NOMEM, "btree: out of memory");
	store_init_base(&b->base, &btree_store_ops, opts);
	char path[4200];
	int rc = store_home_open(&b->home, dir, opts, "btree", "btree.db", err);
	snprintf(path, sizeof path, "%s/btree.db", dir);
	btree_opts_t bo = { .page_size = opts->page_size, .cache_bytes = opts->cache_bytes,
			    .sync = opts->sync, .batch_ms = opts->batch_ms,
			    .create = !opts->no_create, .read_only = opts->read_only,
			    .trace = &b->base.trace };
	if (rc == SL_OK)
		rc = btree_open(b->home.env, path, &bo, &b->tree, err);
	if (rc != SL_OK) {
		bts_close(&b->base);
		return rc;
	}
	*out = &b->base;
	return SL_OK;
}

static int bts_put(store_t *s, sl_slice_t k, sl_slice_t v)
{
	return btree_put(bts_of(s)->tree, k, v, &s->err);
}

static int bts_get(store_t *s, sl_slice_t k, buf_t *v)
{
	return btree_get(bts_of(s)->tree, k, v, &s->err);
}

static int bts_del(store_t *s, sl_slice_t k)
{
	return btree_del(bts_of(s)->tree, k, &s->err);
}

static int bts_write(store_t *s, const batch_t *b)
{
	return btree_write(bts_of(s)->tree, b, &s->err);
}

static int bts_sync(store_t *s)
{
	return btree_sync(bts_of(s)->tree, &s->err);
}

typedef struct bts_iter {
	store_iter_t base;     /* must be first */
	btree_cursor_t *cur;
} bts_iter_t;

static void bts_iter_publish(bts_iter_t *it)
{
	it->base.valid = btree_cursor_valid(it->cur);
	if (it->base.valid) {
		it->base.key = btree_cursor_key(it->cur);
		it->base.value = btree_cursor_value(it->cur);
	}
}

static int bts_iter_next(store_iter_t *base)
{
	bts_iter_t *it = (bts_iter_t *)base;
	int rc = btree_cursor_next(it->cur, &base->store->err);
	if (rc != SL_OK)
		base->status = rc;
	bts_iter_publish(it);
	return rc;
}

static void bts_iter_close(store_iter_t *base)
{
	bts_iter_t *it = (bts_iter_t *)base;
	btree_cursor_close(it->cur);
	free(it);
}

static const store_iter_ops_t bts_iter_ops = { bts_iter_next, bts_iter_close };

static int bts_seek(store_t *s, const sl_slice_t *start, store_iter_t **out)
{
	bts_iter_t *it = calloc(1, sizeof *it);
	if (it == NULL)
		return sl_errf(&s->err, SL_NOMEM, "btree: out of memory");
	it->base.ops = &bts_iter_ops;
	it->base.store = s;
	it->base.status = btree_seek(bts_of(s)->tree, start, &it->cur, &s->err);
	bts_iter_publish(it);
	if (it->base.status != SL_OK)
		it->base.valid = false;
	*out = &it->base;
	return SL_OK;
}

static int bts_stats(store_t *s, stats_list_t *out)
{
	bt_store_t *b = bts_of(s);
	btree_stats_t st;
	btree_get_stats(b->tree, &st);
	store_home_stats(&b->home, out);
	stats_list_add(out, "btree.height", st.height);
	stats_list_add(out, "btree.keys", (double)st.keys);
	if (st.pages_counted) {
		stats_list_add(out, "btree.leaf_pages", (double)st.leaf_pages);
		stats_list_add(out, "btree.internal_pages", (double)st.internal_pages);
		stats_list_add(out, "btree.overflow_pages", (double)st.overflow_pages);
		stats_list_add(out, "btree.avg_fill", st.avg_fill);
	}
	stats_list_add(out, "btree.free_pages", (double)st.free_pages);
	stats_list_add(out, "btree.pages_per_get",
		       st.gets ? (double)st.get_pages / (double)st.gets : 0);
	stats_list_add(out, "btree.splits", (double)st.splits);
	stats_list_add(out, "btree.merges", (double)st.merges);
	stats_list_add(out, "btree.redistributions", (double)st.redistributions);
	stats_list_add(out, "btree.cache_hits", (double)st.pager.hits);
	stats_list_add(out, "btree.cache_misses", (double)st.pager.misses);
	stats_list_add(out, "btree.page_reads", (double)st.pager.page_reads);
	stats_list_add(out, "btree.checkpoints", (double)st.pager.checkpoints);
	return SL_OK;
}

static int bts_check(store_t *s)
{
	return btree_check(bts_of(s)->tree, &s->err);
}

const store_ops_t btree_store_ops = {
	.name = "btree",
	.summary = "B+tree on the pager: slotted pages, operation log + double-write checkpoints",
	.caps = STORE_CAN_SCAN,
	.max_key_bytes = 1000,
	.max_value_bytes = BTREE_MAX_VALUE,
	.open = bts_open,
	.close = bts_close,
	.put = bts_put,
	.get = bts_get,
	.del = bts_del,
	.write = bts_write,
	.seek = bts_seek,
	.sync = bts_sync,
	.stats = bts_stats,
	.check = bts_check,
};
