/*
 * peer_kyoto.c — Kyoto Cabinet's HashDB and TreeDB, as "kyoto-hash" and
 * "kyoto-tree", through its C API (kclangc.h).
 *
 * Configuration (shared/PEERS.md): HashDB with bnum about twice the number of
 * keys (kv.kch#bnum=2*n); TreeDB with kv.kct#bnum=100000 (or n/10 if larger).
 * Sync none -> default open mode; always -> KCOAUTOSYNC (every update is synced);
 * batch -> a write batch runs in a hard (synced) transaction, and single writes
 * are synced within batch_ms by the store wrappers' timer (kc_timer_sync). A write batch is
 * one transaction (--batch N: N writes per transaction, PEERS.md). TreeDB keeps
 * dirty B+tree nodes in its own page cache, so a write outside a transaction has
 * not reached the OS when it returns and a process crash loses it (measured:
 * 1,927 of 4,618 acknowledged puts over 4 SIGKILLs); its single writes therefore
 * run in a transaction of their own, whose commit writes them out, as every
 * store's OK at --sync none promises. HashDB writes through its memory map.
 * A HashDB cursor walks in hash order, so kyoto-hash offers no ordered scan.
 */
#include <kclangc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/peer.h"

typedef struct kc {
	store_t base;   /* must be first */
	char *dir;
	KCDB *db;
	sl_sync_t sync;
	bool tree;      /* TreeDB: single writes need a transaction to reach the OS */
} kc_t;

static kc_t *kc_of(store_t *s) { return (kc_t *)s; }

static int kc_fail(store_t *s, const char *what)
{
	KCDB *db = kc_of(s)->db;
	int32_t e = kcdbecode(db);
	int code = e == KCEBROKEN ? SL_CORRUPT : e == KCEINVALID ? SL_INVALID : SL_IO;
	return sl_errf(&s->err, code, "kyoto %s: %s", what, kcdbemsg(db));
}

static int kc_close(store_t *s)
{
	kc_t *k = kc_of(s);
	int rc = SL_OK;
	if (k->db != NULL && !kcdbclose(k->db))
		rc = kc_fail(s, "close");
	if (k->db != NULL)
		kcdbdel(k->db);
	free(k->dir);
	free(k);
	return rc;
}

static int kc_open_kind(const char *dir, const store_opts_t *opts, const store_ops_t *ops,
			bool tree, store_t **out, sl_err_t *err)
{
	*out = NULL;
	/* Kyoto keeps its transaction log beside the file while a transaction runs. */
	int rc = peer_prepare_dir(dir, opts, ops->name, tree ? "kv.kct kv.kct.wal" : "kv.kch kv.kch.wal",
				  err);
	if (rc != SL_OK)
		return rc;
	kc_t *k = calloc(1, sizeof *k);
	if (k == NULL)
		return sl_errf(err, SL_NOMEM, "kyoto: out of memory");
	store_init_base(&k->base, ops, opts);
	k->dir = strdup(dir);
	k->sync = opts->sync;
	k->tree = tree;
	k->db = kcdbnew();
	uint64_t n = peer_expected_keys(opts, 1000000);
	uint64_t bnum = tree ? (n / 10 > 100000 ? n / 10 : 100000) : 2 * n;
	char path[4200];
	snprintf(path, sizeof path, "%s/kv.%s#bnum=%llu", dir, tree ? "kct" : "kch",
		 (unsigned long long)bnum);
	/* KCOTRYLOCK: a second writer gets an error at once instead of waiting forever. */
	uint32_t mode = (opts->read_only ? KCOREADER : KCOWRITER) | KCOTRYLOCK |
			(opts->no_create ? 0 : KCOCREATE);
	if (opts->sync == SL_SYNC_ALWAYS)
		mode |= KCOAUTOSYNC;
	if (!kcdbopen(k->db, path, mode)) {
		/* Under KCOTRYLOCK a lock held elsewhere fails the fcntl that takes it. */
		const char *msg = kcdbemsg(k->db);
		bool busy = kcdbecode(k->db) == KCESYSTEM &&
			    (strstr(msg, "fcntl") != NULL || strstr(msg, "lock") != NULL);
		rc = sl_errf(err, busy ? SL_BUSY : SL_IO, "kyoto open %s: %s%s", path, msg,
			     busy ? " (the store is open in another process)" : "");
		kc_close(&k->base);
		return rc;
	}
	*out = &k->base;
	return SL_OK;
}

static int kc_open_hash(const char *dir, const store_opts_t *opts, store_t **out, sl_err_t *err)
{
	return kc_open_kind(dir, opts, &peer_kyoto_hash_ops, false, out, err);
}

static int kc_open_tree(const char *dir, const store_opts_t *opts, store_t **out, sl_err_t *err)
{
	return kc_open_kind(dir, opts, &peer_kyoto_tree_ops, true, out, err);
}

static int kc_set(store_t *s, sl_slice_t k, sl_slice_t v)
{
	if (!kcdbset(kc_of(s)->db, (const char *)k.data, k.len, (const char *)v.data, v.len))
		return kc_fail(s, "put");
	return SL_OK;
}

static int kc_remove(store_t *s, sl_slice_t k)
{
	if (!kcdbremove(kc_of(s)->db, (const char *)k.data, k.len) &&
	    kcdbecode(kc_of(s)->db) != KCENOREC)
		return kc_fail(s, "del");
	return SL_OK;
}

/* Applies every operation of b inside one transaction (hard unless sync none). */
static int kc_write(store_t *s, const batch_t *b)
{
	kc_t *k = kc_of(s);
	batch_reader_t r;
	int rc = batch_reader_init(&r, batch_bytes(b), &s->err);
	if (rc != SL_OK)
		return rc;
	if (!kcdbbegintran(k->db, k->sync != SL_SYNC_NONE))
		return kc_fail(s, "begin transaction");
	int op;
	sl_slice_t key, v;
	while ((rc = batch_reader_next(&r, &op, &key, &v, &s->err)) == SL_OK) {
		rc = op == BATCH_OP_PUT ? kc_set(s, key, v) : kc_remove(s, key);
		if (rc != SL_OK)
			break;
	}
	bool commit = rc == SL_NOTFOUND;
	if (!kcdbendtran(k->db, commit) && commit)
		return kc_fail(s, "commit");
	return commit ? SL_OK : rc;
}

/* A single write: as it is (HashDB), or as a batch of one (TreeDB, see above). */
static int kc_single(store_t *s, sl_slice_t k, const sl_slice_t *v)
{
	if (!kc_of(s)->tree)
		return v ? kc_set(s, k, *v) : kc_remove(s, k);
	batch_t b;
	batch_init(&b);
	if (v)
		batch_put(&b, k, *v);
	else
		batch_del(&b, k);
	int rc = batch_status(&b);
	if (rc == SL_OK)
		rc = kc_write(s, &b);
	batch_free(&b);
	return rc;
}

static int kc_put(store_t *s, sl_slice_t k, sl_slice_t v)
{
	return kc_single(s, k, &v);
}

static int kc_get(store_t *s, sl_slice_t k, buf_t *value)
{
	size_t len;
	char *v = kcdbget(kc_of(s)->db, (const char *)k.data, k.len, &len);
	if (v == NULL)
		return kcdbecode(kc_of(s)->db) == KCENOREC ? SL_NOTFOUND : kc_fail(s, "get");
	buf_set(value, v, len);
	kcfree(v);
	return buf_ok(value) ? SL_OK : SL_NOMEM;
}

static int kc_del(store_t *s, sl_slice_t k)
{
	return kc_single(s, k, NULL);
}

typedef struct kc_iter {
	store_iter_t base;  /* must be first */
	KCCUR *cur;
	char *rec;          /* the current record (key, then value), from kccurget */
} kc_iter_t;

static int kc_iter_step(kc_iter_t *it)
{
	kcfree(it->rec);
	size_t kl, vl;
	const char *v;
	it->rec = kccurget(it->cur, &kl, &v, &vl, 1);
	it->base.valid = it->rec != NULL;
	if (it->rec != NULL) {
		it->base.key = sl_slice(it->rec, kl);
		it->base.value = sl_slice(v, vl);
	}
	return SL_OK;
}

static int kc_iter_next(store_iter_t *base)
{
	return kc_iter_step((kc_iter_t *)base);
}

static void kc_iter_close(store_iter_t *base)
{
	kc_iter_t *it = (kc_iter_t *)base;
	kcfree(it->rec);
	kccurdel(it->cur);
	free(it);
}

static const store_iter_ops_t kc_iter_ops = { kc_iter_next, kc_iter_close };

static int kc_seek(store_t *s, const sl_slice_t *start, store_iter_t **out)
{
	kc_iter_t *it = calloc(1, sizeof *it);
	if (it == NULL)
		return sl_errf(&s->err, SL_NOMEM, "kyoto: out of memory");
	it->base.ops = &kc_iter_ops;
	it->base.store = s;
	it->cur = kcdbcursor(kc_of(s)->db);
	bool ok = start ? kccurjumpkey(it->cur, (const char *)start->data, start->len)
			: kccurjump(it->cur);
	if (ok)
		kc_iter_step(it);
	*out = &it->base;
	return SL_OK;
}

static int kc_sync(store_t *s)
{
	return kcdbsync(kc_of(s)->db, 1, NULL, NULL) ? SL_OK : kc_fail(s, "sync");
}

/* kcdbsync under Kyoto's own locks: thread-safe (timer_sync). */
static int kc_timer_sync(store_t *s, sl_err_t *err)
{
	KCDB *db = kc_of(s)->db;
	return kcdbsync(db, 1, NULL, NULL) ? SL_OK
					  : sl_errf(err, SL_IO, "kyoto sync: %s", kcdbemsg(db));
}

static int kc_stats(store_t *s, stats_list_t *out)
{
	peer_stats_disk(kc_of(s)->dir, out);
	stats_list_add(out, "kyoto.records", (double)kcdbcount(kc_of(s)->db));
	return SL_OK;
}

const store_ops_t peer_kyoto_hash_ops = {
	.name = "kyoto-hash",
	.summary = "Kyoto Cabinet HashDB (peer): on-disk hash table, bnum 2x keys",
	.caps = STORE_THREAD_SAFE | STORE_IS_PEER,
	.open = kc_open_hash,
	.close = kc_close,
	.put = kc_put,
	.get = kc_get,
	.del = kc_del,
	.write = kc_write,
	.seek = NULL,
	.sync = kc_sync,
	.timer_sync = kc_timer_sync,
	.stats = kc_stats,
	.check = NULL,
};

const store_ops_t peer_kyoto_tree_ops = {
	.name = "kyoto-tree",
	.summary = "Kyoto Cabinet TreeDB (peer): B+tree on a hash of pages",
	.caps = STORE_CAN_SCAN | STORE_THREAD_SAFE | STORE_IS_PEER,
	.open = kc_open_tree,
	.close = kc_close,
	.put = kc_put,
	.get = kc_get,
	.del = kc_del,
	.write = kc_write,
	.seek = kc_seek,
	.sync = kc_sync,
	.timer_sync = kc_timer_sync,
	.stats = kc_stats,
	.check = NULL,
};
