/*
 * peer_leveldb.c — LevelDB through its C API, as the store "leveldb".
 *
 * Configuration (shared/PEERS.md): a bloom filter policy of 10 bits per key, the
 * default write buffer (4 MiB) and block cache (8 MiB, or --cache when given).
 * Sync: none -> WriteOptions.sync = false; always -> sync = true on every write;
 * batch -> sync = true on write batches, false on single puts and deletes, which
 * the store wrappers' timer syncs within batch_ms (ldb_timer_sync, engine/syncer).
 */
#include <leveldb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/peer.h"

typedef struct ldb {
	store_t base;                    /* must be first */
	char *dir;                       /* the database directory */
	leveldb_t *db;
	leveldb_options_t *options;
	leveldb_cache_t *cache;          /* NULL = LevelDB's default */
	leveldb_filterpolicy_t *filter;  /* bloom, 10 bits per key */
	leveldb_writeoptions_t *wo;      /* single puts and deletes */
	leveldb_writeoptions_t *wo_batch;/* write batches */
	leveldb_readoptions_t *ro;
} ldb_t;

static ldb_t *ldb_of(store_t *s) { return (ldb_t *)s; }

/* Turns a LevelDB error string into a status (and frees it). */
static int ldb_check(store_t *s, char *e, const char *what)
{
	if (e == NULL)
		return SL_OK;
	int code = strstr(e, "Corruption") ? SL_CORRUPT : strstr(e, "IO error") ? SL_IO : SL_INVALID;
	sl_errf(&s->err, code, "leveldb %s: %s", what, e);
	leveldb_free(e);
	return code;
}

static int ldb_close(store_t *s)
{
	ldb_t *l = ldb_of(s);
	if (l->db)
		leveldb_close(l->db);
	if (l->options)
		leveldb_options_destroy(l->options);
	if (l->filter)
		leveldb_filterpolicy_destroy(l->filter);
	if (l->cache)
		leveldb_cache_destroy(l->cache);
	if (l->wo)
		leveldb_writeoptions_destroy(l->wo);
	if (l->wo_batch)
		leveldb_writeoptions_destroy(l->wo_batch);
	if (l->ro)
		leveldb_readoptions_destroy(l->ro);
	free(l->dir);
	free(l);
	return SL_OK;
}

static int ldb_open(const char *dir, const store_opts_t *opts, store_t **out, sl_err_t *err)
{
	*out = NULL;
	if (opts->read_only) /* leveldb_open takes the LOCK and starts a new log */
		return sl_errf(err, SL_NOTSUP, "leveldb: its API has no read-only open, so it cannot "
			       "be read on a full disk or read-only media");
	int rc = peer_prepare_dir(dir, opts, "leveldb", "CURRENT LOCK LOG LOG.old MANIFEST-* *.ldb *.log *.dbtmp", err);
	if (rc != SL_OK)
		return rc;
	ldb_t *l = calloc(1, sizeof *l);
	if (l == NULL)
		return sl_errf(err, SL_NOMEM, "leveldb: out of memory");
	store_init_base(&l->base, &peer_leveldb_ops, opts);
	l->dir = strdup(dir);
	l->options = leveldb_options_create();
	leveldb_options_set_create_if_missing(l->options, !opts->no_create);
	l->filter = leveldb_filterpolicy_create_bloom(10);
	leveldb_options_set_filter_policy(l->options, l->filter);
	if (opts->cache_bytes) {
		l->cache = leveldb_cache_create_lru(opts->cache_bytes);
		leveldb_options_set_cache(l->options, l->cache);
	}
	l->wo = leveldb_writeoptions_create();
	leveldb_writeoptions_set_sync(l->wo, opts->sync == SL_SYNC_ALWAYS);
	l->wo_batch = leveldb_writeoptions_create();
	leveldb_writeoptions_set_sync(l->wo_batch, opts->sync != SL_SYNC_NONE);
	l->ro = leveldb_readoptions_create();
	char *e = NULL;
	l->db = leveldb_open(l->options, dir, &e);
	if (e != NULL) {
		rc = sl_errf(err, SL_IO, "leveldb open %s: %s", dir, e);
		leveldb_free(e);
		ldb_close(&l->base);
		return rc;
	}
	*out = &l->base;
	return SL_OK;
}

static int ldb_put(store_t *s, sl_slice_t k, sl_slice_t v)
{
	char *e = NULL;
	leveldb_put(ldb_of(s)->db, ldb_of(s)->wo, (const char *)k.data, k.len,
		    (const char *)v.data, v.len, &e);
	return ldb_check(s, e, "put");
}

static int ldb_get(store_t *s, sl_slice_t k, buf_t *value)
{
	char *e = NULL;
	size_t len = 0;
	char *v = leveldb_get(ldb_of(s)->db, ldb_of(s)->ro, (const char *)k.data, k.len, &len, &e);
	if (e != NULL)
		return ldb_check(s, e, "get");
	if (v == NULL)
		return SL_NOTFOUND;
	buf_set(value, v, len);
	leveldb_free(v);
	return buf_ok(value) ? SL_OK : SL_NOMEM;
}

static int ldb_del(store_t *s, sl_slice_t k)
{
	char *e = NULL;
	leveldb_delete(ldb_of(s)->db, ldb_of(s)->wo, (const char *)k.data, k.len, &e);
	return ldb_check(s, e, "delete");
}

static int ldb_write(store_t *s, const batch_t *b)
{
	batch_reader_t r;
	int rc = batch_reader_init(&r, batch_bytes(b), &s->err);
	if (rc != SL_OK)
		return rc;
	leveldb_writebatch_t *wb = leveldb_writebatch_create();
	int op;
	sl_slice_t k, v;
	while ((rc = batch_reader_next(&r, &op, &k, &v, &s->err)) == SL_OK) {
		if (op == BATCH_OP_PUT)
			leveldb_writebatch_put(wb, (const char *)k.data, k.len, (const char *)v.data,
					       v.len);
		else
			leveldb_writebatch_delete(wb, (const char *)k.data, k.len);
	}
	char *e = NULL;
	if (rc == SL_NOTFOUND)
		leveldb_write(ldb_of(s)->db, ldb_of(s)->wo_batch, wb, &e);
	leveldb_writebatch_destroy(wb);
	return rc == SL_NOTFOUND ? ldb_check(s, e, "write") : rc;
}

typedef struct ldb_iter {
	store_iter_t base;        /* must be first */
	leveldb_iterator_t *it;
} ldb_iter_t;

static int ldb_iter_publish(ldb_iter_t *it)
{
	it->base.valid = leveldb_iter_valid(it->it);
	if (it->base.valid) {
		size_t kl, vl;
		const char *k = leveldb_iter_key(it->it, &kl);
		const char *v = leveldb_iter_value(it->it, &vl);
		it->base.key = sl_slice(k, kl);
		it->base.value = sl_slice(v, vl);
		return SL_OK;
	}
	char *e = NULL;
	leveldb_iter_get_error(it->it, &e);
	if (e != NULL) {
		it->base.status = ldb_check(it->base.store, e, "iterator");
		return it->base.status;
	}
	return SL_OK;
}

static int ldb_iter_next(store_iter_t *base)
{
	ldb_iter_t *it = (ldb_iter_t *)base;
	leveldb_iter_next(it->it);
	return ldb_iter_publish(it);
}

static void ldb_iter_close(store_iter_t *base)
{
	ldb_iter_t *it = (ldb_iter_t *)base;
	leveldb_iter_destroy(it->it);
	free(it);
}

static const store_iter_ops_t ldb_iter_ops = { ldb_iter_next, ldb_iter_close };

static int ldb_seek(store_t *s, const sl_slice_t *start, store_iter_t **out)
{
	ldb_iter_t *it = calloc(1, sizeof *it);
	if (it == NULL)
		return sl_errf(&s->err, SL_NOMEM, "leveldb: out of memory");
	it->base.ops = &ldb_iter_ops;
	it->base.store = s;
	it->it = leveldb_create_iterator(ldb_of(s)->db, ldb_of(s)->ro);
	if (start)
		leveldb_iter_seek(it->it, (const char *)start->data, start->len);
	else
		leveldb_iter_seek_to_first(it->it);
	ldb_iter_publish(it);
	*out = &it->base;
	return SL_OK;
}

/* An empty synced batch makes everything before it durable; thread-safe (timer_sync). */
static int ldb_timer_sync(store_t *s, sl_err_t *err)
{
	leveldb_writebatch_t *wb = leveldb_writebatch_create();
	leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
	leveldb_writeoptions_set_sync(wo, 1);
	char *e = NULL;
	leveldb_write(ldb_of(s)->db, wo, wb, &e);
	leveldb_writeoptions_destroy(wo);
	leveldb_writebatch_destroy(wb);
	int rc = e ? sl_errf(err, SL_IO, "leveldb sync: %s", e) : SL_OK;
	leveldb_free(e);
	return rc;
}

static int ldb_sync(store_t *s)
{
	return ldb_timer_sync(s, &s->err);
}

static int ldb_stats(store_t *s, stats_list_t *out)
{
	ldb_t *l = ldb_of(s);
	peer_stats_disk(l->dir, out);
	for (int level = 0; level < 7; level++) {
		char prop[64], name[48];
		snprintf(prop, sizeof prop, "leveldb.num-files-at-level%d", level);
		char *v = leveldb_property_value(l->db, prop);
		if (v == NULL)
			continue;
		snprintf(name, sizeof name, "leveldb.L%d_files", level);
		stats_list_add(out, name, atof(v));
		leveldb_free(v);
	}
	return SL_OK;
}

const store_ops_t peer_leveldb_ops = {
	.name = "leveldb",
	.summary = "LevelDB (peer): LSM tree, bloom filters 10 bits/key",
	.caps = STORE_CAN_SCAN | STORE_THREAD_SAFE | STORE_IS_PEER,
	.open = ldb_open,
	.close = ldb_close,
	.put = ldb_put,
	.get = ldb_get,
	.del = ldb_del,
	.write = ldb_write,
	.seek = ldb_seek,
	.sync = ldb_sync,
	.timer_sync = ldb_timer_sync,
	.stats = ldb_stats,
	.check = NULL,
};
