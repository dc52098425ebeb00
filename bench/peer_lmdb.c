/*
 * peer_lmdb.c — LMDB as the store "lmdb": a copy-on-write B+tree in an mmap.
 *
 * Configuration (shared/PEERS.md): map size 8 GiB, no read-ahead (MDB_NORDAHEAD: the
 * workloads read at random). Every write commits a write
 * transaction of its own (a single put or delete is a batch of one; `--batch N`
 * groups N writes into one store_write, hence one transaction). Sync none ->
 * MDB_NOSYNC; always -> default flags (each commit fsyncs); batch -> MDB_NOSYNC,
 * mdb_env_sync after each write batch, and within batch_ms of single writes (the
 * store wrappers' timer, lmdb_timer_sync). Reads reuse one read-only transaction
 * for up to 1,000 gets (reset and renewed, as LMDB's docs recommend); a write
 * resets it, so the next read sees the write.
 */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/peer.h"

#define LMDB_MAP_BYTES (8ull << 30)
#define LMDB_READS_PER_TXN 1000 /* gets sharing one read transaction */

typedef struct lmdb {
	store_t base;          /* must be first */
	char *dir;
	MDB_env *env;
	MDB_dbi dbi;
	env_lock_t *lock;      /* our flock on lock.mdb: one writer process per store */
	MDB_txn *wtxn;         /* the write transaction of the write under way, or NULL */
	MDB_txn *rtxn;         /* reusable read transaction, or NULL */
	bool rtxn_live;        /* rtxn is active (not reset) */
	unsigned rops;         /* gets in the live rtxn */
	unsigned iters;        /* iterators open on rtxn or wtxn */
	sl_sync_t sync;
} lmdb_t;

static lmdb_t *lmdb_of(store_t *s) { return (lmdb_t *)s; }

static int lmdb_fail(store_t *s, int e, const char *what)
{
	int code = e == MDB_BAD_VALSIZE ? SL_INVALID : e == MDB_MAP_FULL ? SL_FULL
		 : e == MDB_CORRUPTED || e == MDB_PAGE_NOTFOUND ? SL_CORRUPT : SL_IO;
	return sl_errf(&s->err, code, "lmdb %s: %s", what, mdb_strerror(e));
}

/* Commits the open write transaction, if any. */
static int lmdb_commit(lmdb_t *l)
{
	if (l->wtxn == NULL)
		return SL_OK;
	int e = mdb_txn_commit(l->wtxn);
	l->wtxn = NULL;
	return e ? lmdb_fail(&l->base, e, "commit") : SL_OK;
}

/* Makes sure a write transaction is open (parking the read transaction). */
static int lmdb_begin_write(lmdb_t *l)
{
	if (l->wtxn != NULL)
		return SL_OK;
	if (l->rtxn_live) {
		mdb_txn_reset(l->rtxn);
		l->rtxn_live = false;
	}
	int e = mdb_txn_begin(l->env, NULL, 0, &l->wtxn);
	return e ? lmdb_fail(&l->base, e, "begin write") : SL_OK;
}

/* The transaction reads go through: the write one if open, else the read one. */
static int lmdb_read_txn(lmdb_t *l, MDB_txn **out)
{
	if (l->wtxn != NULL) {
		*out = l->wtxn;
		return SL_OK;
	}
	if (l->rtxn_live && l->rops >= LMDB_READS_PER_TXN && l->iters == 0) {
		mdb_txn_reset(l->rtxn);
		l->rtxn_live = false;
	}
	int e = 0;
	if (!l->rtxn_live) {
		e = l->rtxn ? mdb_txn_renew(l->rtxn) : mdb_txn_begin(l->env, NULL, MDB_RDONLY, &l->rtxn);
		l->rtxn_live = e == 0;
		l->rops = 0;
	}
	l->rops++;
	*out = l->rtxn;
	return e ? lmdb_fail(&l->base, e, "begin read") : SL_OK;
}

static int lmdb_close(store_t *s)
{
	lmdb_t *l = lmdb_of(s);
	int rc = lmdb_commit(l);
	if (l->rtxn)
		mdb_txn_abort(l->rtxn);
	if (l->env)
		mdb_env_close(l->env);
	env_unlock(l->lock);
	free(l->dir);
	free(l);
	return rc;
}

static int lmdb_open(const char *dir, const store_opts_t *opts, store_t **out, sl_err_t *err)
{
	*out = NULL;
	int rc = peer_prepare_dir(dir, opts, "lmdb", "data.mdb lock.mdb", err);
	if (rc != SL_OK)
		return rc;
	lmdb_t *l = calloc(1, sizeof *l);
	if (l == NULL)
		return sl_errf(err, SL_NOMEM, "lmdb: out of memory");
	store_init_base(&l->base, &peer_lmdb_ops, opts);
	l->dir = strdup(dir);
	l->sync = opts->sync;
	/*
	 * LMDB lets several processes open one store, and a second writer waits for
	 * the first's write transaction — forever, if the first is a shell waiting
	 * for input. An flock on lock.mdb (LMDB itself uses fcntl locks there, which
	 * are independent of flock) makes a second opener fail at once, as ours do.
	 */
	char lock_path[4200];
	snprintf(lock_path, sizeof lock_path, "%s/lock.mdb", dir);
	rc = env_lock_mode(NULL, lock_path, opts->read_only, &l->lock, err);
	if (rc != SL_OK) {
		lmdb_close(&l->base);
		return rc;
	}
	/* Read-only: MDB_NOLOCK too, or LMDB would write its reader table into lock.mdb;
	 * our shared flock already keeps a writer process out meanwhile. MDB_NORDAHEAD:
	 * every workload here reads at random, and LMDB's docs advise it once the map
	 * outgrows memory, as under --memory: the kernel's read-ahead on each page
	 * fault then evicts pages other gets need (our own table maps read 890 MB/s
	 * that way, env.h). With the data in memory it changes nothing. */
	unsigned flags = (opts->sync == SL_SYNC_ALWAYS ? 0 : MDB_NOSYNC) | MDB_NORDAHEAD |
			 (opts->read_only ? MDB_RDONLY | MDB_NOLOCK : 0);
	MDB_txn *txn = NULL;
	int e = mdb_env_create(&l->env);
	if (e == 0)
		e = mdb_env_set_mapsize(l->env, LMDB_MAP_BYTES);
	if (e == 0)
		e = mdb_env_open(l->env, dir, flags, 0644);
	if (e == 0)
		e = mdb_txn_begin(l->env, NULL, opts->read_only ? MDB_RDONLY : 0, &txn);
	if (e == 0)
		e = mdb_dbi_open(txn, NULL, 0, &l->dbi);
	if (e == 0)
		e = mdb_txn_commit(txn);
	else if (txn)
		mdb_txn_abort(txn);
	if (e != 0) {
		rc = sl_errf(err, e == ENOENT ? SL_NOTFOUND : SL_IO, "lmdb open %s: %s", dir,
			     mdb_strerror(e));
		lmdb_close(&l->base);
		return rc;
	}
	*out = &l->base;
	return SL_OK;
}

static MDB_val lmdb_val(sl_slice_t s)
{
	MDB_val v = { s.len, (void *)s.data };
	return v;
}

static int lmdb_put(store_t *s, sl_slice_t k, sl_slice_t v)
{
	lmdb_t *l = lmdb_of(s);
	int rc = lmdb_begin_write(l);
	if (rc != SL_OK)
		return rc;
	MDB_val key = lmdb_val(k), val = lmdb_val(v);
	int e = mdb_put(l->wtxn, l->dbi, &key, &val, 0);
	if (e != 0)
		return lmdb_fail(s, e, "put");
	return lmdb_commit(l);
}

static int lmdb_del(store_t *s, sl_slice_t k)
{
	lmdb_t *l = lmdb_of(s);
	int rc = lmdb_begin_write(l);
	if (rc != SL_OK)
		return rc;
	MDB_val key = lmdb_val(k);
	int e = mdb_del(l->wtxn, l->dbi, &key, NULL);
	if (e != 0 && e != MDB_NOTFOUND)
		return lmdb_fail(s, e, "del");
	return lmdb_commit(l);
}

static int lmdb_write(store_t *s, const batch_t *b)
{
	lmdb_t *l = lmdb_of(s);
	batch_reader_t r;
	int rc = batch_reader_init(&r, batch_bytes(b), &s->err);
	if (rc == SL_OK)
		rc = lmdb_commit(l); /* the batch gets a transaction of its own */
	if (rc == SL_OK)
		rc = lmdb_begin_write(l);
	int op, e = 0;
	sl_slice_t k, v;
	while (rc == SL_OK && e == 0 && (rc = batch_reader_next(&r, &op, &k, &v, &s->err)) == SL_OK) {
		MDB_val key = lmdb_val(k), val = lmdb_val(v);
		e = op == BATCH_OP_PUT ? mdb_put(l->wtxn, l->dbi, &key, &val, 0)
				       : mdb_del(l->wtxn, l->dbi, &key, NULL);
		if (e == MDB_NOTFOUND)
			e = 0;
	}
	if (e != 0 || rc != SL_NOTFOUND) {
		if (l->wtxn)
			mdb_txn_abort(l->wtxn);
		l->wtxn = NULL;
		return e ? lmdb_fail(s, e, "write") : rc;
	}
	rc = lmdb_commit(l);
	if (rc == SL_OK && l->sync == SL_SYNC_BATCH && (e = mdb_env_sync(l->env, 1)) != 0)
		rc = lmdb_fail(s, e, "sync");
	return rc;
}

static int lmdb_get(store_t *s, sl_slice_t k, buf_t *value)
{
	lmdb_t *l = lmdb_of(s);
	MDB_txn *txn;
	int rc = lmdb_read_txn(l, &txn);
	if (rc != SL_OK)
		return rc;
	MDB_val key = lmdb_val(k), val;
	int e = mdb_get(txn, l->dbi, &key, &val);
	if (e == MDB_NOTFOUND)
		return SL_NOTFOUND;
	if (e != 0)
		return lmdb_fail(s, e, "get");
	buf_set(value, val.mv_data, val.mv_size);
	return buf_ok(value) ? SL_OK : SL_NOMEM;
}

typedef struct lmdb_iter {
	store_iter_t base;  /* must be first */
	MDB_cursor *cur;
} lmdb_iter_t;

static int lmdb_iter_step(lmdb_iter_t *it, MDB_val *key, MDB_cursor_op op)
{
	MDB_val val;
	int e = mdb_cursor_get(it->cur, key, &val, op);
	it->base.valid = e == 0;
	if (e == 0) {
		it->base.key = sl_slice(key->mv_data, key->mv_size);
		it->base.value = sl_slice(val.mv_data, val.mv_size);
	} else if (e != MDB_NOTFOUND) {
		it->base.status = lmdb_fail(it->base.store, e, "cursor");
	}
	return it->base.status;
}

static int lmdb_iter_next(store_iter_t *base)
{
	MDB_val key;
	return lmdb_iter_step((lmdb_iter_t *)base, &key, MDB_NEXT);
}

static void lmdb_iter_close(store_iter_t *base)
{
	lmdb_iter_t *it = (lmdb_iter_t *)base;
	mdb_cursor_close(it->cur);
	lmdb_of(base->store)->iters--;
	free(it);
}

static const store_iter_ops_t lmdb_iter_ops = { lmdb_iter_next, lmdb_iter_close };

static int lmdb_seek(store_t *s, const sl_slice_t *start, store_iter_t **out)
{
	lmdb_t *l = lmdb_of(s);
	MDB_txn *txn;
	int rc = lmdb_read_txn(l, &txn);
	if (rc != SL_OK)
		return rc;
	lmdb_iter_t *it = calloc(1, sizeof *it);
	if (it == NULL)
		return sl_errf(&s->err, SL_NOMEM, "lmdb: out of memory");
	int e = mdb_cursor_open(txn, l->dbi, &it->cur);
	if (e != 0) {
		free(it);
		return lmdb_fail(s, e, "cursor");
	}
	it->base.ops = &lmdb_iter_ops;
	it->base.store = s;
	l->iters++;
	MDB_val key = start ? lmdb_val(*start) : (MDB_val){ 0, NULL };
	lmdb_iter_step(it, &key, start ? MDB_SET_RANGE : MDB_FIRST);
	*out = &it->base;
	return SL_OK;
}

static int lmdb_sync(store_t *s)
{
	lmdb_t *l = lmdb_of(s);
	int rc = lmdb_commit(l);
	int e = rc == SL_OK ? mdb_env_sync(l->env, 1) : 0;
	return e ? lmdb_fail(s, e, "sync") : rc;
}

/* The map flushed to disk; mdb_env_sync is thread-safe (timer_sync). */
static int lmdb_timer_sync(store_t *s, sl_err_t *err)
{
	int e = mdb_env_sync(lmdb_of(s)->env, 1);
	return e ? sl_errf(err, SL_IO, "lmdb sync: %s", mdb_strerror(e)) : SL_OK;
}

static int lmdb_stats(store_t *s, stats_list_t *out)
{
	lmdb_t *l = lmdb_of(s);
	peer_stats_disk(l->dir, out);
	MDB_stat st;
	if (mdb_env_stat(l->env, &st) == 0) {
		stats_list_add(out, "lmdb.depth", st.ms_depth);
		stats_list_add(out, "lmdb.branch_pages", (double)st.ms_branch_pages);
		stats_list_add(out, "lmdb.leaf_pages", (double)st.ms_leaf_pages);
		stats_list_add(out, "lmdb.overflow_pages", (double)st.ms_overflow_pages);
	}
	return SL_OK;
}

const store_ops_t peer_lmdb_ops = {
	.name = "lmdb",
	.summary = "LMDB (peer): copy-on-write B+tree in a memory map",
	.caps = STORE_CAN_SCAN | STORE_IS_PEER,
	.max_key_bytes = 511, /* mdb_env_get_maxkeysize() of Debian's build */
	.open = lmdb_open,
	.close = lmdb_close,
	.put = lmdb_put,
	.get = lmdb_get,
	.del = lmdb_del,
	.write = lmdb_write,
	.seek = lmdb_seek,
	.sync = lmdb_sync,
	.timer_sync = lmdb_timer_sync,
	.stats = lmdb_stats,
	.check = NULL,
};
