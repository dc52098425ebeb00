/* hash_store.c — the store interface over the hash index (see hash_store.h). */
#include "index/hash_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/hash.h"

typedef struct hs_store {
	store_t base;      /* must be first */
	store_home_t home; /* directory, env, lock */
	hash_t *index;     /* the index */
} hs_store_t;

static hs_store_t *hs_of(store_t *s) { return (hs_store_t *)s; }

static int hs_close(store_t *s)
{
	hs_store_t *b = hs_of(s);
	int rc = hash_close(b->index, &s->err);
	store_home_close(&b->home);
	free(b);
	return rc;
}

static int hs_open(const char *dir, const store_opts_t *opts, store_t **out, sl_err_t *err)
{
	*out = NULL;
	hs_store_t *b = calloc(1, sizeof *b);
	if (b == NULL)
		return sl_errf(err, SL_NOMEM, "hash: out of memory");
	store_init_base(&b->base, &hash_store_ops, opts);
	char path[4200], seed[32];
	hash_opts_t ho = { .page_size = opts->page_size, .cache_bytes = opts->cache_bytes,
			   .sync = opts->sync, .batch_ms = opts->batch_ms,
			   .create = !opts->no_create, .read_only = opts->read_only,
			   .trace = &b->base.trace };
	if (store_opts_param(opts, "seed", seed, sizeof seed))
		ho.seed = strtoull(seed, NULL, 0);
	int rc = store_home_open(&b->home, dir, opts, "hash", "hash.db", err);
	snprintf(path, sizeof path, "%s/hash.db", dir);
	if (rc == SL_OK)
		rc = hash_open(b->home.env, path, &ho, &b->index, err);
	if (rc != SL_OK) {
		hs_close(&b->base);
		return rc;
	}
	*out = &b->base;
	return SL_OK;
}

static int hs_put(store_t *s, sl_slice_t k, sl_slice_t v)
{
	return hash_put(hs_of(s)->index, k, v, &s->err);
}

static int hs_get(store_t *s, sl_slice_t k, buf_t *v)
{
	return hash_get(hs_of(s)->index, k, v, &s->err);
}

static int hs_del(store_t *s, sl_slice_t k)
{
	return hash_del(hs_of(s)->index, k, &s->err);
}

static int hs_write(store_t *s, const batch_t *b)
{
	return hash_write(hs_of(s)->index, b, &s->err);
}

static int hs_sync(store_t *s)
{
	return hash_sync(hs_of(s)->index, &s->err);
}

/* A hash index has no order to scan in: say so, and why. */
static int hs_seek(store_t *s, const sl_slice_t *start, store_iter_t **out)
{
	(void)start;
	*out = NULL;
	return sl_errf(&s->err, SL_NOTSUP, "hash: no ordered scans — keys are placed by their "
		       "hash, so neighbouring keys sit in unrelated buckets (use the btree store)");
}

static int hs_each(store_t *s, store_visit_fn visit, void *ctx)
{
	return hash_foreach(hs_of(s)->index, visit, ctx, &s->err);
}

static int hs_stats(store_t *s, stats_list_t *out)
{
	hs_store_t *b = hs_of(s);
	hash_stats_t st;
	hash_get_stats(b->index, &st);
	store_home_stats(&b->home, out);
	stats_list_add(out, "hash.global_depth", st.global_depth);
	stats_list_add(out, "hash.directory_entries", (double)(UINT64_C(1) << st.global_depth));
	stats_list_add(out, "hash.buckets", (double)st.buckets);
	stats_list_add(out, "hash.keys", (double)st.keys);
	uint64_t overflow = 0;
	stats_list_add(out, "hash.load_factor", hash_load_factor(b->index, &overflow));
	stats_list_add(out, "hash.overflow_pages", (double)overflow);
	stats_list_add(out, "hash.chained_pages", (double)st.chained_pages);
	stats_list_add(out, "hash.pages_per_get", st.gets ? (double)st.get_pages / (double)st.gets : 0);
	stats_list_add(out, "hash.splits", (double)st.splits);
	stats_list_add(out, "hash.merges", (double)st.merges);
	stats_list_add(out, "hash.doublings", (double)st.doublings);
	stats_list_add(out, "hash.cache_hits", (double)st.pager.hits);
	stats_list_add(out, "hash.cache_misses", (double)st.pager.misses);
	stats_list_add(out, "hash.checkpoints", (double)st.pager.checkpoints);
	return SL_OK;
}

static int hs_check(store_t *s)
{
	return hash_check(hs_of(s)->index, &s->err);
}

const store_ops_t hash_store_ops = {
	.name = "hash",
	.summary = "extendible hash index on the pager: one page read per lookup, no scans",
	.caps = 0,
	.max_key_bytes = 992, /* hash_max_key(4096) at the default page size (sc_edges checks it) */
	.max_value_bytes = HASH_MAX_VALUE,
	.params = "seed",
	.open = hs_open,
	.close = hs_close,
	.put = hs_put,
	.get = hs_get,
	.del = hs_del,
	.write = hs_write,
	.seek = hs_seek,
	.each = hs_each,
	.sync = hs_sync,
	.stats = hs_stats,
	.check = hs_check,
};
