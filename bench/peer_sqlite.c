/*
 * peer_sqlite.c — SQLite as the store "sqlite": a B-tree in one file.
 *
 * Configuration (shared/PEERS.md): CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB)
 * WITHOUT ROWID (the table is then one B-tree keyed by k), prepared statements
 * reused. Every write commits a transaction of its own (a single put or delete
 * is a batch of one; `--batch N` groups N writes into one store_write, hence one
 * transaction). Sync none -> journal_mode=WAL, synchronous=OFF; always ->
 * synchronous=FULL; batch -> WAL, synchronous=FULL. Reads run inside a transaction reused for up to 1,000
 * operations, as LMDB's reads reuse theirs (PEERS.md): outside one, every SELECT
 * would take and drop the WAL read lock. The page cache stays at SQLite's
 * default unless --cache is given (then PRAGMA cache_size is set to it).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/fts_bench.h"
#include "bench/peer.h"
#include "bench/ts_bench.h"
#include "kv/ts_index.h"

#define SQLITE_READS_PER_TXN 1000 /* reads sharing one transaction */

typedef struct sq {
	store_t base;         /* must be first */
	char *dir;
	sqlite3 *db;
	sqlite3_stmt *put, *get, *del, *scan_from, *scan_all;
	bool in_txn;          /* a BEGIN is open */
	unsigned txn_ops;     /* reads in it */
	sl_sync_t sync;
} sq_t;

static sq_t *sq_of(store_t *s) { return (sq_t *)s; }

static int sq_fail(store_t *s, const char *what)
{
	sq_t *q = sq_of(s);
	int e = sqlite3_errcode(q->db);
	int code = e == SQLITE_CORRUPT || e == SQLITE_NOTADB ? SL_CORRUPT
		 : e == SQLITE_FULL ? SL_FULL : e == SQLITE_TOOBIG ? SL_INVALID : SL_IO;
	return sl_errf(&s->err, code, "sqlite %s: %s", what, sqlite3_errmsg(q->db));
}

static int sq_exec(sq_t *q, const char *sql)
{
	return sqlite3_exec(q->db, sql, NULL, NULL, NULL) == SQLITE_OK ? SL_OK
								       : sq_fail(&q->base, sql);
}

static int sq_commit(sq_t *q)
{
	if (!q->in_txn)
		return SL_OK;
	q->in_txn = false;
	q->txn_ops = 0;
	return sq_exec(q, "COMMIT");
}

/* Opens a transaction for the next operation unless one is open. */
static int sq_begin(sq_t *q)
{
	if (q->in_txn)
		return SL_OK;
	int rc = sq_exec(q, "BEGIN");
	q->in_txn = rc == SL_OK;
	return rc;
}

/* Commits after every write (with the reads before it), or after 1,000 reads. */
static int sq_after(sq_t *q, bool write)
{
	if (write || ++q->txn_ops >= SQLITE_READS_PER_TXN)
		return sq_commit(q);
	return SL_OK;
}

static int sq_close(store_t *s)
{
	sq_t *q = sq_of(s);
	int rc = q->db ? sq_commit(q) : SL_OK;
	sqlite3_stmt *stmts[] = { q->put, q->get, q->del, q->scan_from, q->scan_all };
	for (size_t i = 0; i < 5; i++)
		sqlite3_finalize(stmts[i]);
	sqlite3_close(q->db);
	free(q->dir);
	free(q);
	return rc;
}

static int sq_prepare(sq_t *q, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(q->db, sql, -1, st, NULL) != SQLITE_OK)
		return sq_fail(&q->base, "prepare");
	return SL_OK;
}

static int sq_setup(sq_t *q, const store_opts_t *opts)
{
	int rc = sq_exec(q, opts->sync == SL_SYNC_ALWAYS ? "PRAGMA synchronous=FULL"
			 : opts->sync == SL_SYNC_BATCH ? "PRAGMA synchronous=FULL"
						       : "PRAGMA synchronous=OFF");
	if (rc == SL_OK && !opts->read_only) /* the mode is kept in the file once set */
		rc = sq_exec(q, "PRAGMA journal_mode=WAL");
	if (rc == SL_OK && opts->cache_bytes) {
		char sql[64];
		snprintf(sql, sizeof sql, "PRAGMA cache_size=-%llu",
			 (unsigned long long)(opts->cache_bytes / 1024));
		rc = sq_exec(q, sql);
	}
	if (rc == SL_OK && !opts->read_only)
		rc = sq_exec(q, "CREATE TABLE IF NOT EXISTS kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID");
	if (rc == SL_OK)
		rc = sq_prepare(q, "INSERT OR REPLACE INTO kv(k, v) VALUES (?, ?)", &q->put);
	if (rc == SL_OK)
		rc = sq_prepare(q, "SELECT v FROM kv WHERE k = ?", &q->get);
	if (rc == SL_OK)
		rc = sq_prepare(q, "DELETE FROM kv WHERE k = ?", &q->del);
	if (rc == SL_OK)
		rc = sq_prepare(q, "SELECT k, v FROM kv WHERE k >= ? ORDER BY k", &q->scan_from);
	if (rc == SL_OK)
		rc = sq_prepare(q, "SELECT k, v FROM kv ORDER BY k", &q->scan_all);
	return rc;
}

static int sq_open(const char *dir, const store_opts_t *opts, store_t **out, sl_err_t *err)
{
	*out = NULL;
	int rc = peer_prepare_dir(dir, opts, "sqlite", "kv.sqlite kv.sqlite-wal kv.sqlite-shm kv.sqlite-journal", err);
	if (rc != SL_OK)
		return rc;
	sq_t *q = calloc(1, sizeof *q);
	if (q == NULL)
		return sl_errf(err, SL_NOMEM, "sqlite: out of memory");
	store_init_base(&q->base, &peer_sqlite_ops, opts);
	q->dir = strdup(dir);
	q->sync = opts->sync;
	char path[4096], wal[4200], uri[4300];
	snprintf(path, sizeof path, "%s/kv.sqlite", dir);
	snprintf(wal, sizeof wal, "%s-wal", path);
	const char *name = path;
	int flags = opts->read_only ? SQLITE_OPEN_READONLY
		    : SQLITE_OPEN_READWRITE | (opts->no_create ? 0 : SQLITE_OPEN_CREATE);
	/*
	 * Read-only, a WAL database still makes its -shm index (and an empty -wal).
	 * With no -wal left (closed cleanly: everything is in the main file) it can
	 * be opened immutable, which writes nothing; with one, SQLite must use it.
	 */
	if (opts->read_only && !env_exists(wal)) {
		snprintf(uri, sizeof uri, "file:%s?immutable=1", path);
		name = uri;
		flags |= SQLITE_OPEN_URI;
	}
	if (sqlite3_open_v2(name, &q->db, flags, NULL) != SQLITE_OK)
		rc = sl_errf(err, SL_IO, "sqlite open %s: %s", path, sqlite3_errmsg(q->db));
	else if (sq_setup(q, opts) != SL_OK)
		rc = sl_errf(err, q->base.err.code, "%s", q->base.err.msg);
	if (rc != SL_OK) {
		sq_close(&q->base);
		return rc;
	}
	*out = &q->base;
	return SL_OK;
}

/* Binds the slices (NULL data becomes a zero-length blob, not SQL NULL). */
static void sq_bind(sqlite3_stmt *st, int i, sl_slice_t s)
{
	sqlite3_bind_blob(st, i, s.len ? (const void *)s.data : "", (int)s.len, SQLITE_STATIC);
}

/* Runs a one-shot write statement. */
static int sq_step_write(sq_t *q, sqlite3_stmt *st, const char *what)
{
	int e = sqlite3_step(st);
	sqlite3_reset(st);
	return e == SQLITE_DONE ? SL_OK : sq_fail(&q->base, what);
}

static int sq_put(store_t *s, sl_slice_t k, sl_slice_t v)
{
	sq_t *q = sq_of(s);
	int rc = sq_begin(q);
	if (rc != SL_OK)
		return rc;
	sq_bind(q->put, 1, k);
	sq_bind(q->put, 2, v);
	rc = sq_step_write(q, q->put, "put");
	return rc == SL_OK ? sq_after(q, true) : rc;
}

static int sq_del(store_t *s, sl_slice_t k)
{
	sq_t *q = sq_of(s);
	int rc = sq_begin(q);
	if (rc != SL_OK)
		return rc;
	sq_bind(q->del, 1, k);
	rc = sq_step_write(q, q->del, "del");
	return rc == SL_OK ? sq_after(q, true) : rc;
}

static int sq_write(store_t *s, const batch_t *b)
{
	sq_t *q = sq_of(s);
	batch_reader_t r;
	int rc = batch_reader_init(&r, batch_bytes(b), &s->err);
	if (rc == SL_OK)
		rc = sq_commit(q);
	if (rc == SL_OK)
		rc = sq_exec(q, "BEGIN");
	int op;
	sl_slice_t k, v;
	while (rc == SL_OK && (rc = batch_reader_next(&r, &op, &k, &v, &s->err)) == SL_OK) {
		sqlite3_stmt *st = op == BATCH_OP_PUT ? q->put : q->del;
		sq_bind(st, 1, k);
		if (op == BATCH_OP_PUT)
			sq_bind(st, 2, v);
		rc = sq_step_write(q, st, "write");
	}
	if (rc != SL_NOTFOUND) {
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return sq_exec(q, "COMMIT");
}

static int sq_get(store_t *s, sl_slice_t k, buf_t *value)
{
	sq_t *q = sq_of(s);
	int rc = sq_begin(q);
	if (rc != SL_OK)
		return rc;
	sq_bind(q->get, 1, k);
	int e = sqlite3_step(q->get);
	rc = SL_NOTFOUND;
	if (e == SQLITE_ROW) {
		buf_set(value, sqlite3_column_blob(q->get, 0), (size_t)sqlite3_column_bytes(q->get, 0));
		rc = buf_ok(value) ? SL_OK : SL_NOMEM;
	} else if (e != SQLITE_DONE) {
		rc = sq_fail(s, "get");
	}
	sqlite3_reset(q->get);
	int after = sq_after(q, false);
	return rc == SL_OK || rc == SL_NOTFOUND ? (after == SL_OK ? rc : after) : rc;
}

typedef struct sq_iter {
	store_iter_t base;  /* must be first */
	sqlite3_stmt *st;   /* the store's scan statement, stepping */
} sq_iter_t;

static int sq_iter_next(store_iter_t *base)
{
	sq_iter_t *it = (sq_iter_t *)base;
	int e = sqlite3_step(it->st);
	it->base.valid = e == SQLITE_ROW;
	if (e == SQLITE_ROW) {
		it->base.key = sl_slice(sqlite3_column_blob(it->st, 0),
					(size_t)sqlite3_column_bytes(it->st, 0));
		it->base.value = sl_slice(sqlite3_column_blob(it->st, 1),
					  (size_t)sqlite3_column_bytes(it->st, 1));
	} else if (e != SQLITE_DONE) {
		it->base.status = sq_fail(it->base.store, "scan");
	}
	return it->base.status;
}

static void sq_iter_close(store_iter_t *base)
{
	sq_iter_t *it = (sq_iter_t *)base;
	sqlite3_reset(it->st);
	free(it);
}

static const store_iter_ops_t sq_iter_ops = { sq_iter_next, sq_iter_close };

static int sq_seek(store_t *s, const sl_slice_t *start, store_iter_t **out)
{
	sq_t *q = sq_of(s);
	int rc = sq_begin(q);
	if (rc != SL_OK)
		return rc;
	q->txn_ops++; /* committed, if due, by the next operation: the scan is open now */
	sq_iter_t *it = calloc(1, sizeof *it);
	if (it == NULL)
		return sl_errf(&s->err, SL_NOMEM, "sqlite: out of memory");
	it->base.ops = &sq_iter_ops;
	it->base.store = s;
	it->st = start ? q->scan_from : q->scan_all;
	if (start)
		sq_bind(it->st, 1, *start);
	sq_iter_next(&it->base);
	*out = &it->base;
	return SL_OK;
}

static int sq_sync(store_t *s)
{
	sq_t *q = sq_of(s);
	int rc = sq_commit(q);
	/* With synchronous=OFF nothing is ever fsynced: a checkpoint under FULL is. */
	if (rc == SL_OK && q->sync == SL_SYNC_NONE)
		rc = sq_exec(q, "PRAGMA synchronous=FULL; PRAGMA wal_checkpoint(FULL); "
				"PRAGMA synchronous=OFF");
	return rc;
}

static int sq_stats(store_t *s, stats_list_t *out)
{
	peer_stats_disk(sq_of(s)->dir, out);
	return SL_OK;
}

const store_ops_t peer_sqlite_ops = {
	.name = "sqlite",
	.summary = "SQLite (peer): WITHOUT ROWID table, one B-tree, WAL mode",
	.caps = STORE_CAN_SCAN | STORE_IS_PEER,
	.max_key_bytes = 1000000000,   /* SQLITE_MAX_LENGTH */
	.max_value_bytes = 1000000000,
	.open = sq_open,
	.close = sq_close,
	.put = sq_put,
	.get = sq_get,
	.del = sq_del,
	.write = sq_write,
	.seek = sq_seek,
	.sync = sq_sync,
	.stats = sq_stats,
	.check = NULL,
};

/* ================================================================ FTS5 (the fts suite) */

/*
 * SQLite's full-text index, as its users would set it up to search text they
 * keep elsewhere: a contentless FTS5 table (the index only, like ours) with the
 * default unicode61 tokenizer (remove_diacritics 1, as ours), positions kept
 * (detail=full, the default), and an ordinary table mapping rowids to the
 * external ids. The whole corpus goes in one transaction, then the index is
 * optimized (merged into one segment, as FTS5's manual advises after a bulk
 * load) and the log checkpointed, both timed with the build; a query is
 * `... MATCH ? ORDER BY bm25(...) LIMIT k` (bm25's k1 1.2, b 0.75, as ours).
 */
typedef struct fts5 {
	sqlite3 *db;
	sqlite3_stmt *ins, *ins_id, *query, *id_of;
	sqlite3_int64 next;
} fts5_t;

static int fts5_err(fts5_t *f, const char *what, char *err, size_t n)
{
	snprintf(err, n, "fts5: %s: %s", what, f->db ? sqlite3_errmsg(f->db) : "cannot open");
	return -1;
}

static int fts5_open(const char *dir, void **h, char *err, size_t n)
{
	fts5_t *f = calloc(1, sizeof *f);
	char path[4096];
	snprintf(path, sizeof path, "%s/fts5.db", dir);
	if (f == NULL || sqlite3_open(path, &f->db) != SQLITE_OK) {
		if (f != NULL)
			sqlite3_close(f->db);
		free(f);
		snprintf(err, n, "fts5: cannot open %s", path);
		return -1;
	}
	*h = f;
	if (sqlite3_exec(f->db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			 "CREATE VIRTUAL TABLE IF NOT EXISTS docs USING fts5(body, content='', "
			 "tokenize='unicode61 remove_diacritics 1');"
			 "CREATE TABLE IF NOT EXISTS ids(n INTEGER PRIMARY KEY, id TEXT);"
			 "BEGIN;",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(f->db, "INSERT INTO docs(rowid, body) VALUES(?, ?)", -1, &f->ins,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(f->db, "INSERT INTO ids(n, id) VALUES(?, ?)", -1, &f->ins_id,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(f->db, "SELECT rowid, bm25(docs) FROM docs WHERE docs MATCH ? "
			       "ORDER BY bm25(docs) LIMIT ?", -1, &f->query, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(f->db, "SELECT id FROM ids WHERE n = ?", -1, &f->id_of, NULL) !=
		    SQLITE_OK)
		return fts5_err(f, "setup", err, n);
	return 0;
}

static int fts5_add(void *h, sl_slice_t id, sl_slice_t text, char *err, size_t n)
{
	fts5_t *f = h;
	f->next++;
	sqlite3_bind_int64(f->ins, 1, f->next);
	sqlite3_bind_text(f->ins, 2, (const char *)text.data, (int)text.len, SQLITE_STATIC);
	sqlite3_bind_int64(f->ins_id, 1, f->next);
	sqlite3_bind_text(f->ins_id, 2, (const char *)id.data, (int)id.len, SQLITE_STATIC);
	int ok = sqlite3_step(f->ins) == SQLITE_DONE && sqlite3_step(f->ins_id) == SQLITE_DONE;
	sqlite3_reset(f->ins);
	sqlite3_reset(f->ins_id);
	return ok ? 0 : fts5_err(f, "insert", err, n);
}

static int fts5_commit(void *h, char *err, size_t n)
{
	fts5_t *f = h;
	/* After a bulk load FTS5's documentation has the index's segments merged into
	 * one ('optimize'), which makes its queries fastest; then the log is folded
	 * into the database file (a checkpoint), so the size on disk is the index's. */
	return sqlite3_exec(f->db,
			    "COMMIT; INSERT INTO docs(docs) VALUES('optimize');"
			    "PRAGMA wal_checkpoint(TRUNCATE);",
			    NULL, NULL, NULL) == SQLITE_OK
		       ? 0
		       : fts5_err(f, "commit", err, n);
}

/* Each word quoted (FTS5's string syntax), so no word reads as an operator. */
static void fts5_query(int kind, const char *words, buf_t *out)
{
	buf_clear(out);
	bool open = false;
	for (const char *p = words;; p++) {
		if (*p == ' ' || *p == '\0') {
			if (open && kind != FTS_PHRASE)
				buf_append(out, "\"", 1), open = false;
			if (*p == '\0')
				break;
			if (kind == FTS_PHRASE)
				buf_append(out, " ", 1);
			continue;
		}
		if (!open && (kind != FTS_PHRASE || out->len == 0)) {
			if (out->len > 0)
				buf_append(out, kind == FTS_OR ? " OR " : " ", kind == FTS_OR ? 4 : 1);
			buf_append(out, "\"", 1);
			open = true;
		}
		if (*p == '"')
			buf_append(out, "\"", 1);
		buf_append(out, p, 1);
	}
	if (open)
		buf_append(out, "\"", 1);
	buf_append(out, "", 1);
}

static int fts5_search(void *h, const char *query, size_t k, fts_hit_t *hits, size_t *nhits,
		       char *err, size_t n)
{
	fts5_t *f = h;
	*nhits = 0;
	sqlite3_bind_text(f->query, 1, query, -1, SQLITE_STATIC);
	sqlite3_bind_int64(f->query, 2, (sqlite3_int64)k);
	int rc;
	while ((rc = sqlite3_step(f->query)) == SQLITE_ROW) {
		fts_hit_t *hit = &hits[(*nhits)++];
		hit->score = -sqlite3_column_double(f->query, 1); /* FTS5 negates: smaller is better */
		sqlite3_bind_int64(f->id_of, 1, sqlite3_column_int64(f->query, 0));
		const unsigned char *id = sqlite3_step(f->id_of) == SQLITE_ROW
						  ? sqlite3_column_text(f->id_of, 0)
						  : NULL;
		snprintf(hit->id, sizeof hit->id, "%s", id ? (const char *)id : "?");
		sqlite3_reset(f->id_of);
	}
	sqlite3_reset(f->query);
	return rc == SQLITE_DONE ? 0 : fts5_err(f, "query", err, n);
}

static void fts5_close(void *h)
{
	fts5_t *f = h;
	sqlite3_finalize(f->ins);
	sqlite3_finalize(f->ins_id);
	sqlite3_finalize(f->query);
	sqlite3_finalize(f->id_of);
	sqlite3_close(f->db);
	free(f);
}

const fts_ops_t peer_fts5_ops = {
	.name = "fts5", .open = fts5_open, .add = fts5_add, .commit = fts5_commit,
	.query = fts5_query, .search = fts5_search, .close = fts5_close,
};

/* ================================================================ scan (the fts suite's baseline) */

/*
 * What search costs without an index: the documents in an ordinary SQLite
 * table, and every query a full scan with LIKE (case-insensitive for ASCII):
 * each word a substring test, a phrase one test of the words with single
 * spaces. It finds substrings, not words ("cat" matches "concatenate"), cannot
 * rank (the first k matches in table order come back, scored 0), and reads all
 * 26 MB of text for every query.
 */
typedef struct scan {
	sqlite3 *db;
	sqlite3_stmt *ins;
	sqlite3_int64 next;
} scan_t;

static int scan_open(const char *dir, void **h, char *err, size_t n)
{
	scan_t *s = calloc(1, sizeof *s);
	char path[4096];
	snprintf(path, sizeof path, "%s/scan.db", dir);
	if (s == NULL || sqlite3_open(path, &s->db) != SQLITE_OK ||
	    sqlite3_exec(s->db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			 "CREATE TABLE IF NOT EXISTS docs(n INTEGER PRIMARY KEY, id TEXT, body TEXT);"
			 "BEGIN;",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "INSERT INTO docs(n, id, body) VALUES(?, ?, ?)", -1, &s->ins,
			       NULL) != SQLITE_OK) {
		snprintf(err, n, "scan: setup: %s", s && s->db ? sqlite3_errmsg(s->db) : "out of memory");
		if (s != NULL)
			sqlite3_close(s->db);
		free(s);
		return -1;
	}
	*h = s;
	return 0;
}

static int scan_add(void *h, sl_slice_t id, sl_slice_t text, char *err, size_t n)
{
	scan_t *s = h;
	sqlite3_bind_int64(s->ins, 1, ++s->next);
	sqlite3_bind_text(s->ins, 2, (const char *)id.data, (int)id.len, SQLITE_STATIC);
	sqlite3_bind_text(s->ins, 3, (const char *)text.data, (int)text.len, SQLITE_STATIC);
	int ok = sqlite3_step(s->ins) == SQLITE_DONE;
	sqlite3_reset(s->ins);
	if (!ok)
		snprintf(err, n, "scan: insert: %s", sqlite3_errmsg(s->db));
	return ok ? 0 : -1;
}

static int scan_commit(void *h, char *err, size_t n)
{
	scan_t *s = h;
	if (sqlite3_exec(s->db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);", NULL, NULL, NULL) ==
	    SQLITE_OK)
		return 0;
	snprintf(err, n, "scan: commit: %s", sqlite3_errmsg(s->db));
	return -1;
}

/* The query as the SQL condition itself (the words carry no quotes: they are tokens). */
static void scan_query(int kind, const char *words, buf_t *out)
{
	buf_clear(out);
	buf_append(out, "body LIKE '%", 12);
	for (const char *p = words; *p; p++) {
		if (*p == ' ' && kind != FTS_PHRASE)
			buf_append(out, kind == FTS_OR ? "%' OR body LIKE '%" : "%' AND body LIKE '%", 18);
		else if (*p != '\'' && *p != '%' && *p != '_')
			buf_append(out, p, 1);
	}
	buf_append(out, "%'", 3); /* with the NUL */
}

static int scan_search(void *h, const char *query, size_t k, fts_hit_t *hits, size_t *nhits,
		       char *err, size_t n)
{
	scan_t *s = h;
	char sql[2048];
	snprintf(sql, sizeof sql, "SELECT id FROM docs WHERE %s LIMIT %zu", query, k);
	sqlite3_stmt *st;
	*nhits = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, n, "scan: %s", sqlite3_errmsg(s->db));
		return -1;
	}
	while (*nhits < k && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(hits[*nhits].id, sizeof hits[*nhits].id, "%s", sqlite3_column_text(st, 0));
		hits[(*nhits)++].score = 0;
	}
	sqlite3_finalize(st);
	return 0;
}

static void scan_close(void *h)
{
	scan_t *s = h;
	sqlite3_finalize(s->ins);
	sqlite3_close(s->db);
	free(s);
}

const fts_ops_t peer_scan_ops = {
	.name = "scan", .open = scan_open, .add = scan_add, .commit = scan_commit,
	.query = scan_query, .search = scan_search, .close = scan_close,
};

/* ---------------------------------------------------------------- sqlite-ts */

/*
 * SQLite holding time series as a user would lay them out: a series table,
 * and the points in a WITHOUT ROWID table whose primary key is (series, ts),
 * so one series' range is one range of the B-tree. A batch of points is one
 * transaction (PEERS.md's settings for SQLite: WAL, synchronous OFF at sync
 * none, FULL otherwise); INSERT OR REPLACE gives the last write of a
 * timestamp, as our store does. Series ids are kept in memory (ts_index).
 */
typedef struct sqts {
	sqlite3 *db;
	sqlite3_stmt *put, *series, *one, *all;
	ts_index_t *ids;
} sqts_t;

static int sqts_err(sqts_t *q, const char *what, char *err, size_t n)
{
	snprintf(err, n, "sqlite-ts: %s: %s", what, q->db ? sqlite3_errmsg(q->db) : "cannot open");
	return -1;
}

static int sqts_open(const char *dir, sl_sync_t sync, void **h, char *err, size_t n)
{
	sqts_t *q = calloc(1, sizeof *q);
	char path[4200];
	snprintf(path, sizeof path, "%s/ts.db", dir);
	if (q == NULL || (q->ids = ts_index_new()) == NULL || sqlite3_open(path, &q->db) != SQLITE_OK) {
		snprintf(err, n, "sqlite-ts: cannot open %s", path);
		*h = q;
		return -1;
	}
	*h = q;
	char setup[512];
	snprintf(setup, sizeof setup,
		 "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;"
		 "CREATE TABLE IF NOT EXISTS series(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
		 "CREATE TABLE IF NOT EXISTS points(series INTEGER NOT NULL, ts INTEGER NOT NULL, "
		 "value REAL, PRIMARY KEY(series, ts)) WITHOUT ROWID;",
		 sync == SL_SYNC_NONE ? "OFF" : "FULL");
	if (sqlite3_exec(q->db, setup, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(q->db, "INSERT OR REPLACE INTO points VALUES(?1, ?2, ?3)", -1, &q->put, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(q->db, "INSERT INTO series(id, name) VALUES(?1, ?2)", -1, &q->series, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(q->db, "SELECT (ts - ?1) / ?2, avg(value) FROM points WHERE series = ?3 "
			      "AND ts >= ?1 AND ts < ?4 GROUP BY 1", -1, &q->one, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(q->db, "SELECT series, (ts - ?1) / ?2, avg(value) FROM points "
			      "WHERE ts >= ?1 AND ts < ?3 GROUP BY 1, 2", -1, &q->all, NULL) != SQLITE_OK)
		return sqts_err(q, "setup", err, n);
	return 0;
}

static int sqts_add(void *h, const ts_sample_t *p, size_t n, char *err, size_t en)
{
	sqts_t *q = h;
	if (sqlite3_exec(q->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return sqts_err(q, "begin", err, en);
	for (size_t i = 0; i < n; i++) {
		uint32_t id;
		sl_err_t e;
		if (!ts_index_find(q->ids, p[i].series, &id)) {
			if (ts_index_add(q->ids, p[i].series, &id, &e) != SL_OK)
				return sqts_err(q, e.msg, err, en);
			sqlite3_bind_int64(q->series, 1, id);
			sqlite3_bind_text(q->series, 2, (const char *)p[i].series.data, (int)p[i].series.len,
					  SQLITE_STATIC);
			int rc = sqlite3_step(q->series);
			sqlite3_reset(q->series);
			if (rc != SQLITE_DONE)
				return sqts_err(q, "insert series", err, en);
		}
		sqlite3_bind_int64(q->put, 1, id);
		sqlite3_bind_int64(q->put, 2, p[i].ts);
		sqlite3_bind_double(q->put, 3, p[i].v);
		int rc = sqlite3_step(q->put);
		sqlite3_reset(q->put);
		if (rc != SQLITE_DONE)
			return sqts_err(q, "insert", err, en);
	}
	return sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : sqts_err(q, "commit", err, en);
}

/* Everything into the database file (the WAL checkpointed and emptied). */
static int sqts_finish(void *h, char *err, size_t n)
{
	sqts_t *q = h;
	return sqlite3_exec(q->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) == SQLITE_OK
		       ? 0 : sqts_err(q, "checkpoint", err, n);
}

static int sqts_query(void *h, const char *series, int64_t from, int64_t to, int64_t step,
		      double *sum, uint64_t *windows, char *err, size_t n)
{
	sqts_t *q = h;
	sqlite3_stmt *st = series ? q->one : q->all;
	uint32_t id = 0;
	if (series != NULL && !ts_index_find(q->ids, sl_slice_str(series), &id))
		return 0;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, step);
	sqlite3_bind_int64(st, 3, series ? (int64_t)id : to);
	if (series != NULL)
		sqlite3_bind_int64(st, 4, to);
	int rc, col = series ? 1 : 2;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*sum += sqlite3_column_double(st, col);
		(*windows)++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sqts_err(q, "query", err, n);
}

static void sqts_close(void *h)
{
	sqts_t *q = h;
	if (q == NULL)
		return;
	sqlite3_finalize(q->put);
	sqlite3_finalize(q->series);
	sqlite3_finalize(q->one);
	sqlite3_finalize(q->all);
	sqlite3_close(q->db);
	ts_index_free(q->ids);
	free(q);
}

const ts_bench_ops_t peer_sqlite_ts_ops = {
	.name = "sqlite-ts", .open = sqts_open, .add = sqts_add, .finish = sqts_finish,
	.query = sqts_query, .close = sqts_close,
};
