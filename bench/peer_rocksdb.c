/*
 * peer_rocksdb.c — RocksDB through its C API, as the store "rocksdb".
 *
 * Configuration (shared/PEERS.md): block-based tables with a 10-bit bloom
 * filter. PEERS.md asks for the C API defaults and for the tuned profile
 * (rocksdb_options_increase_parallelism + optimize_level_style_compaction), the
 * better of the two kept: params "profile=defaults" or "profile=tuned" choose,
 * and the default is the one docs/bench.md measured as better.
 * Sync: none -> sync = false; always -> sync = true on every write; batch ->
 * sync = true on write batches; single writes are synced within batch_ms by the
 * store wrappers' timer (rdb_timer_sync: rocksdb_flush_wal, engine/syncer).
 */
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/peer.h"

#define ROCKSDB_DEFAULT_PROFILE "tuned"

typedef struct rdb {
	store_t base;                     /* must be first */
	char *dir;
	rocksdb_t *db;
	rocksdb_options_t *options;
	rocksdb_block_based_table_options_t *table;
	rocksdb_cache_t *cache;           /* NULL = RocksDB's default */
	rocksdb_writeoptions_t *wo;       /* single puts and deletes */
	rocksdb_writeoptions_t *wo_batch; /* write batches */
	rocksdb_readoptions_t *ro;
} rdb_t;

static rdb_t *rdb_of(store_t *s) { return (rdb_t *)s; }

static int rdb_check(store_t *s, char *e, const char *what)
{
	if (e == NULL)
		return SL_OK;
	int code = strstr(e, "Corruption") ? SL_CORRUPT : strstr(e, "IO error") ? SL_IO : SL_INVALID;
	sl_errf(&s->err, code, "rocksdb %s: %s", what, e);
	rocksdb_free(e);
	return code;
}

static int rdb_close(store_t *s)
{
	rdb_t *r = rdb_of(s);
	if (r->db)
		rocksdb_close(r->db);
	if (r->options)
		rocksdb_options_destroy(r->options);
	if (r->table)
		rocksdb_block_based_options_destroy(r->table);
	if (r->cache)
		rocksdb_cache_destroy(r->cache);
	if (r->wo)
		rocksdb_writeoptions_destroy(r->wo);
	if (r->wo_batch)
		rocksdb_writeoptions_destroy(r->wo_batch);
	if (r->ro)
		rocksdb_readoptions_destroy(r->ro);
	free(r->dir);
	free(r);
	return SL_OK;
}

static void rdb_configure(rdb_t *r, const store_opts_t *opts)
{
	char profile[16] = ROCKSDB_DEFAULT_PROFILE;
	store_opts_param(opts, "profile", profile, sizeof profile);
	r->options = rocksdb_options_create();
	rocksdb_options_set_create_if_missing(r->options, !opts->no_create);
	if (strcmp(profile, "tuned") == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		rocksdb_options_increase_parallelism(r->options, cpus > 0 ? (int)cpus : 2);
		/* 512 MiB of memtables, the C++ API's default budget for this call — or a
		 * quarter of the memory this process may use when that is less (a run
		 * under --memory: env_memory_bytes reads the cgroup's limit), as our
		 * stores size their pools; 512 MiB in a 256 MiB cgroup is an OOM kill. */
		uint64_t budget = env_memory_bytes() / 4;
		rocksdb_options_optimize_level_style_compaction(r->options,
								budget < (512u << 20) ? budget : 512u << 20);
	}
	r->table = rocksdb_block_based_options_create();
	rocksdb_block_based_options_set_filter_policy(r->table, rocksdb_filterpolicy_create_bloom(10));
	if (opts->cache_bytes) {
		r->cache = rocksdb_cache_create_lru(opts->cache_bytes);
		rocksdb_block_based_options_set_block_cache(r->table, r->cache);
	}
	rocksdb_options_set_block_based_table_factory(r->options, r->table);
	r->wo = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(r->wo, opts->sync == SL_SYNC_ALWAYS);
	r->wo_batch = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(r->wo_batch, opts->sync != SL_SYNC_NONE);
	r->ro = rocksdb_readoptions_create();
}

static int rdb_open(const char *dir, const store_opts_t *opts, store_t **out, sl_err_t *err)
{
	*out = NULL;
	int rc = peer_prepare_dir(dir, opts, "rocksdb", "CURRENT IDENTITY LOCK LOG LOG.old* MANIFEST-* OPTIONS-* *.sst *.log *.dbtmp", err);
	if (rc != SL_OK)
		return rc;
	rdb_t *r = calloc(1, sizeof *r);
	if (r == NULL)
		return sl_errf(err, SL_NOMEM, "rocksdb: out of memory");
	store_init_base(&r->base, &peer_rocksdb_ops, opts);
	r->dir = strdup(dir);
	rdb_configure(r, opts);
	char *e = NULL;
	r->db = opts->read_only ? rocksdb_open_for_read_only(r->options, dir, 0, &e)
				: rocksdb_open(r->options, dir, &e);
	if (e != NULL) {
		rc = sl_errf(err, SL_IO, "rocksdb open %s: %s", dir, e);
		rocksdb_free(e);
		rdb_close(&r->base);
		return rc;
	}
	*out = &r->base;
	return SL_OK;
}

static int rdb_put(store_t *s, sl_slice_t k, sl_slice_t v)
{
	char *e = NULL;
	rocksdb_put(rdb_of(s)->db, rdb_of(s)->wo, (const char *)k.data, k.len,
		    (const char *)v.data, v.len, &e);
	return rdb_check(s, e, "put");
}

static int rdb_get(store_t *s, sl_slice_t k, buf_t *value)
{
	char *e = NULL;
	size_t len = 0;
	char *v = rocksdb_get(rdb_of(s)->db, rdb_of(s)->ro, (const char *)k.data, k.len, &len, &e);
	if (e != NULL)
		return rdb_check(s, e, "get");
	if (v == NULL)
		return SL_NOTFOUND;
	buf_set(value, v, len);
	rocksdb_free(v);
	return buf_ok(value) ? SL_OK : SL_NOMEM;
}

static int rdb_del(store_t *s, sl_slice_t k)
{
	char *e = NULL;
	rocksdb_delete(rdb_of(s)->db, rdb_of(s)->wo, (const char *)k.data, k.len, &e);
	return rdb_check(s, e, "delete");
}

static int rdb_write(store_t *s, const batch_t *b)
{
	batch_reader_t rd;
	int rc = batch_reader_init(&rd, batch_bytes(b), &s->err);
	if (rc != SL_OK)
		return rc;
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	int op;
	sl_slice_t k, v;
	while ((rc = batch_reader_next(&rd, &op, &k, &v, &s->err)) == SL_OK) {
		if (op == BATCH_OP_PUT)
			rocksdb_writebatch_put(wb, (const char *)k.data, k.len, (const char *)v.data,
					       v.len);
		else
			rocksdb_writebatch_delete(wb, (const char *)k.data, k.len);
	}
	char *e = NULL;
	if (rc == SL_NOTFOUND)
		rocksdb_write(rdb_of(s)->db, rdb_of(s)->wo_batch, wb, &e);
	rocksdb_writebatch_destroy(wb);
	return rc == SL_NOTFOUND ? rdb_check(s, e, "write") : rc;
}

typedef struct rdb_iter {
	store_iter_t base;        /* must be first */
	rocksdb_iterator_t *it;
} rdb_iter_t;

static int rdb_iter_publish(rdb_iter_t *it)
{
	it->base.valid = rocksdb_iter_valid(it->it);
	if (it->base.valid) {
		size_t kl, vl;
		const char *k = rocksdb_iter_key(it->it, &kl);
		const char *v = rocksdb_iter_value(it->it, &vl);
		it->base.key = sl_slice(k, kl);
		it->base.value = sl_slice(v, vl);
		return SL_OK;
	}
	char *e = NULL;
	rocksdb_iter_get_error(it->it, &e);
	if (e != NULL)
		it->base.status = rdb_check(it->base.store, e, "iterator");
	return it->base.status;
}

static int rdb_iter_next(store_iter_t *base)
{
	rdb_iter_t *it = (rdb_iter_t *)base;
	rocksdb_iter_next(it->it);
	return rdb_iter_publish(it);
}

static void rdb_iter_close(store_iter_t *base)
{
	rdb_iter_t *it = (rdb_iter_t *)base;
	rocksdb_iter_destroy(it->it);
	free(it);
}

static const store_iter_ops_t rdb_iter_ops = { rdb_iter_next, rdb_iter_close };

static int rdb_seek(store_t *s, const sl_slice_t *start, store_iter_t **out)
{
	rdb_iter_t *it = calloc(1, sizeof *it);
	if (it == NULL)
		return sl_errf(&s->err, SL_NOMEM, "rocksdb: out of memory");
	it->base.ops = &rdb_iter_ops;
	it->base.store = s;
	it->it = rocksdb_create_iterator(rdb_of(s)->db, rdb_of(s)->ro);
	if (start)
		rocksdb_iter_seek(it->it, (const char *)start->data, start->len);
	else
		rocksdb_iter_seek_to_first(it->it);
	rdb_iter_publish(it);
	*out = &it->base;
	return SL_OK;
}

/* The WAL written and fsynced; thread-safe (timer_sync). */
static int rdb_timer_sync(store_t *s, sl_err_t *err)
{
	char *e = NULL;
	rocksdb_flush_wal(rdb_of(s)->db, 1, &e);
	int rc = e ? sl_errf(err, SL_IO, "rocksdb sync: %s", e) : SL_OK;
	rocksdb_free(e);
	return rc;
}

static int rdb_sync(store_t *s)
{
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(wo, 1);
	char *e = NULL;
	rocksdb_write(rdb_of(s)->db, wo, wb, &e);
	rocksdb_writeoptions_destroy(wo);
	rocksdb_writebatch_destroy(wb);
	return rdb_check(s, e, "sync");
}

static int rdb_stats(store_t *s, stats_list_t *out)
{
	rdb_t *r = rdb_of(s);
	peer_stats_disk(r->dir, out);
	for (int level = 0; level < 7; level++) {
		char prop[64], name[48];
		snprintf(prop, sizeof prop, "rocksdb.num-files-at-level%d", level);
		char *v = rocksdb_property_value(r->db, prop);
		if (v == NULL)
			continue;
		snprintf(name, sizeof name, "rocksdb.L%d_files", level);
		stats_list_add(out, name, atof(v));
		rocksdb_free(v);
	}
	return SL_OK;
}

const store_ops_t peer_rocksdb_ops = {
	.name = "rocksdb",
	.summary = "RocksDB (peer): LSM tree, block-based tables, bloom 10 bits/key",
	.caps = STORE_CAN_SCAN | STORE_THREAD_SAFE | STORE_IS_PEER,
	.params = "profile",
	.open = rdb_open,
	.close = rdb_close,
	.put = rdb_put,
	.get = rdb_get,
	.del = rdb_del,
	.write = rdb_write,
	.seek = rdb_seek,
	.sync = rdb_sync,
	.timer_sync = rdb_timer_sync,
	.stats = rdb_stats,
	.check = NULL,
};
