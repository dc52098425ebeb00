/* ref.c — the reference store: a treap made durable by a write-ahead log (see ref.h). */
#include "kv/ref.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/wal.h"

#define REF_LOG "ref.log"
#define REF_LOG_NEW "ref.log.new"
#define REF_COMPACT_MIN_BYTES (1u << 20)
#define REF_COMPACT_CHUNK_BYTES (64u << 10)

/* ---------------------------------------------------------------- the treap */

typedef struct ref_node {
	struct ref_node *left;  /* keys before this one */
	struct ref_node *right; /* keys after this one */
	uint64_t prio;          /* heap order: a parent's prio >= its children's */
	uint8_t *value;         /* value bytes (malloc'ed; NULL when empty) */
	size_t value_len;
	size_t key_len;
	uint8_t key[];          /* key bytes, inline */
} ref_node_t;

static sl_slice_t ref_node_key(const ref_node_t *n)
{
	return sl_slice(n->key, n->key_len);
}

/* Splits tree t into keys < key (*lo) and keys >= key (*hi). */
static void ref_split(ref_node_t *t, sl_slice_t key, ref_node_t **lo, ref_node_t **hi)
{
	if (t == NULL) {
		*lo = *hi = NULL;
	} else if (sl_slice_cmp(ref_node_key(t), key) < 0) {
		ref_split(t->right, key, &t->right, hi);
		*lo = t;
	} else {
		ref_split(t->left, key, lo, &t->left);
		*hi = t;
	}
}

/* Joins a and b, where every key of a sorts before every key of b. */
static ref_node_t *ref_merge(ref_node_t *a, ref_node_t *b)
{
	if (a == NULL)
		return b;
	if (b == NULL)
		return a;
	if (a->prio >= b->prio) {
		a->right = ref_merge(a->right, b);
		return a;
	}
	b->left = ref_merge(a, b->left);
	return b;
}

/* Inserts node n (its key absent from t); returns the new root. */
static ref_node_t *ref_insert(ref_node_t *t, ref_node_t *n)
{
	if (t == NULL)
		return n;
	if (n->prio > t->prio) {
		ref_split(t, ref_node_key(n), &n->left, &n->right);
		return n;
	}
	if (sl_slice_cmp(ref_node_key(n), ref_node_key(t)) < 0)
		t->left = ref_insert(t->left, n);
	else
		t->right = ref_insert(t->right, n);
	return t;
}

/* Removes key from t, handing the node back in *removed (NULL if absent). */
static ref_node_t *ref_erase(ref_node_t *t, sl_slice_t key, ref_node_t **removed)
{
	if (t == NULL)
		return NULL;
	int c = sl_slice_cmp(key, ref_node_key(t));
	if (c < 0) {
		t->left = ref_erase(t->left, key, removed);
		return t;
	}
	if (c > 0) {
		t->right = ref_erase(t->right, key, removed);
		return t;
	}
	*removed = t;
	return ref_merge(t->left, t->right);
}

static ref_node_t *ref_find(ref_node_t *t, sl_slice_t key)
{
	while (t != NULL) {
		int c = sl_slice_cmp(key, ref_node_key(t));
		if (c == 0)
			return t;
		t = c < 0 ? t->left : t->right;
	}
	return NULL;
}

static void ref_node_free(ref_node_t *n)
{
	free(n->value);
	free(n);
}

static void ref_free_tree(ref_node_t *t)
{
	while (t != NULL) {
		/* Rotate the left child up so the walk needs no recursion or stack. */
		if (t->left != NULL) {
			ref_node_t *l = t->left;
			t->left = l->right;
			l->right = t;
			t = l;
		} else {
			ref_node_t *r = t->right;
			ref_node_free(t);
			t = r;
		}
	}
}

/* ---------------------------------------------------------------- the store */

typedef struct ref_store {
	store_t base;         /* must be first */
	store_opts_t opts;    /* as opened (params not kept) */
	bool log_off;         /* memory only */
	char *dir;            /* the store's directory */
	env_t *env;           /* file layer */
	bool own_env;         /* env was made here */
	env_lock_t *lock;     /* LOCK file */
	wal_t *wal;           /* the log; NULL when log_off */
	ref_node_t *root;     /* the map */
	uint64_t prio_state;  /* xorshift state for node priorities */
	uint64_t entries;     /* keys in the map */
	uint64_t live_bytes;  /* key + value bytes in the map */
	uint64_t compactions; /* log rewrites done */
	bool broken;          /* memory and log may disagree: refuse writes */
	batch_t scratch;      /* encoding of single puts and dels */
} ref_store_t;

static ref_store_t *ref_of(store_t *s)
{
	return (ref_store_t *)s;
}

static uint64_t ref_next_prio(ref_store_t *r)
{
	uint64_t x = r->prio_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	r->prio_state = x;
	return x;
}

/* Sets key to value in the map. */
static int ref_map_put(ref_store_t *r, sl_slice_t key, sl_slice_t value)
{
	uint8_t *copy = NULL;
	if (value.len > 0) {
		copy = malloc(value.len);
		if (copy == NULL)
			return SL_NOMEM;
		memcpy(copy, value.data, value.len);
	}
	ref_node_t *n = ref_find(r->root, key);
	if (n != NULL) {
		r->live_bytes -= n->value_len;
		free(n->value);
	} else {
		n = malloc(sizeof *n + key.len);
		if (n == NULL) {
			free(copy);
			return SL_NOMEM;
		}
		n->left = n->right = NULL;
		n->prio = ref_next_prio(r);
		n->key_len = key.len;
		if (key.len)
			memcpy(n->key, key.data, key.len);
		r->root = ref_insert(r->root, n);
		r->entries++;
		r->live_bytes += key.len;
	}
	n->value = copy;
	n->value_len = value.len;
	r->live_bytes += value.len;
	return SL_OK;
}

static void ref_map_del(ref_store_t *r, sl_slice_t key)
{
	ref_node_t *gone = NULL;
	r->root = ref_erase(r->root, key, &gone);
	if (gone != NULL) {
		r->entries--;
		r->live_bytes -= gone->key_len + gone->value_len;
		ref_node_free(gone);
	}
}

/* Applies an encoded batch to the map. */
static int ref_apply(ref_store_t *r, sl_slice_t rep, sl_err_t *err)
{
	batch_reader_t rd;
	int rc = batch_reader_init(&rd, rep, err);
	int op;
	sl_slice_t k, v;
	while (rc == SL_OK && (rc = batch_reader_next(&rd, &op, &k, &v, err)) == SL_OK) {
		if (op == BATCH_OP_PUT)
			rc = ref_map_put(r, k, v);
		else
			ref_map_del(r, k);
		if (rc == SL_NOMEM)
			return sl_errf(err, rc, "ref: out of memory applying a batch");
	}
	return rc == SL_NOTFOUND ? SL_OK : rc;
}

static int ref_path(ref_store_t *r, const char *name, char *out, size_t size, sl_err_t *err)
{
	if (snprintf(out, size, "%s/%s", r->dir, name) >= (int)size)
		return sl_errf(err, SL_INVALID, "path too long: %s/%s", r->dir, name);
	return SL_OK;
}

/* ---------------------------------------------------------------- the log */

/* Sync level batch: the log w fsyncs itself every batch_ms (wal_sync_every). */
static int ref_log_timer(ref_store_t *r, wal_t *w, sl_err_t *err)
{
	if (r->opts.sync != SL_SYNC_BATCH)
		return SL_OK;
	return wal_sync_every(w, r->opts.batch_ms ? r->opts.batch_ms : 10, err);
}

/* Replays ref.log into the map and opens it for appending after its valid end. */
static int ref_replay(ref_store_t *r, const char *log_path, sl_err_t *err)
{
	wal_reader_t *rd;
	int rc = wal_reader_open(r->env, log_path, &rd, err);
	if (rc != SL_OK)
		return rc;
	sl_slice_t rec;
	uint64_t off;
	while ((rc = wal_reader_next(rd, &rec, &off, err)) == SL_OK) {
		rc = ref_apply(r, rec, err);
		if (rc != SL_OK) {
			sl_err_prefix(err, "%s: record at offset %llu", log_path,
				      (unsigned long long)off);
			break;
		}
	}
	uint64_t end = wal_reader_tail(rd)->valid_end;
	wal_reader_close(rd);
	if (rc != SL_NOTFOUND)
		return rc;
	if (r->opts.read_only)
		return SL_OK; /* the log is read; a torn tail stays as it is, nothing appends */
	rc = wal_open(r->env, log_path, end, &r->wal, err);
	return rc == SL_OK ? ref_log_timer(r, r->wal, err) : rc;
}

/* Appends one encoded batch; under sync always, fsyncs it (batch: the log's timer does). */
static int ref_log(ref_store_t *r, sl_slice_t rep)
{
	if (r->log_off)
		return SL_OK;
	return wal_append(r->wal, rep.data, rep.len, r->opts.sync == SL_SYNC_ALWAYS, &r->base.err);
}

/* Writes every live entry into a fresh log, in batches of about 64 KiB. */
static int ref_write_snapshot(ref_store_t *r, wal_t *w)
{
	batch_t b;
	batch_init(&b);
	int rc = SL_OK;
	/* In-order walk with an explicit stack of at most depth entries. */
	ref_node_t *stack[128];
	size_t depth = 0;
	ref_node_t *t = r->root;
	while (rc == SL_OK && (t != NULL || depth > 0)) {
		while (t != NULL && depth < 128) {
			stack[depth++] = t;
			t = t->left;
		}
		assert(t == NULL); /* a treap deeper than 128 is astronomically unlikely */
		t = stack[--depth];
		batch_put(&b, ref_node_key(t), sl_slice(t->value, t->value_len));
		if (b.rep.len >= REF_COMPACT_CHUNK_BYTES || (t->right == NULL && depth == 0)) {
			rc = batch_status(&b);
			if (rc == SL_OK)
				rc = wal_append(w, b.rep.data, b.rep.len, false, &r->base.err);
			batch_clear(&b);
		}
		t = t->right;
	}
	batch_free(&b);
	return rc;
}

/* Rewrites the log with only the live entries once it is mostly garbage. */
static int ref_maybe_compact(ref_store_t *r)
{
	uint64_t size = wal_size(r->wal);
	if (size < REF_COMPACT_MIN_BYTES || size < 2 * r->live_bytes + REF_COMPACT_MIN_BYTES)
		return SL_OK;
	char tmp[4096], path[4096];
	int rc = ref_path(r, REF_LOG_NEW, tmp, sizeof tmp, &r->base.err);
	if (rc == SL_OK)
		rc = ref_path(r, REF_LOG, path, sizeof path, &r->base.err);
	wal_t *w = NULL;
	if (rc == SL_OK)
		rc = wal_create(r->env, tmp, &w, &r->base.err);
	if (rc == SL_OK)
		rc = ref_log_timer(r, w, &r->base.err);
	if (rc == SL_OK)
		rc = ref_write_snapshot(r, w);
	if (rc == SL_OK)
		rc = wal_sync(w, &r->base.err);
	if (rc == SL_OK)
		rc = env_rename(r->env, tmp, path, &r->base.err);
	if (rc != SL_OK) {
		wal_close(w, NULL);
		env_unlink(r->env, tmp, NULL);
		return rc;
	}
	/* From the rename on, the new log is the log: switch even if the sync fails. */
	wal_close(r->wal, NULL);
	r->wal = w;
	rc = env_sync_dir(r->env, r->dir, &r->base.err);
	if (rc != SL_OK) {
		r->broken = true;
		return rc;
	}
	r->compactions++;
	return SL_OK;
}

/* ---------------------------------------------------------------- open/close */

/* A directory that holds files but no ref.log belongs to something else. */
static int ref_check_dir_kind(ref_store_t *r, sl_err_t *err)
{
	char **names;
	size_t n;
	int rc = env_list_dir(r->env, r->dir, &names, &n, err);
	if (rc != SL_OK)
		return rc;
	for (size_t i = 0; i < n && rc == SL_OK; i++) {
		if (strcmp(names[i], "LOCK") != 0 && strcmp(names[i], REF_LOG_NEW) != 0)
			rc = sl_errf(err, SL_INVALID,
				     "%s is not a ref store: it holds '%s' but no %s", r->dir,
				     names[i], REF_LOG);
	}
	env_list_free(names, n);
	return rc;
}

/* Opens the directory, takes the lock, replays or creates the log. */
static int ref_open_files(ref_store_t *r, sl_err_t *err)
{
	if (!env_exists(r->dir) && r->opts.no_create)
		return sl_errf(err, SL_NOTFOUND, "%s: no such store directory", r->dir);
	int rc = r->opts.read_only ? SL_OK : env_mkdir(r->env, r->dir, err);
	char lock[4096], log[4096], tmp[4096];
	if (rc == SL_OK)
		rc = ref_path(r, "LOCK", lock, sizeof lock, err);
	if (rc == SL_OK)
		rc = ref_path(r, REF_LOG, log, sizeof log, err);
	if (rc == SL_OK)
		rc = ref_path(r, REF_LOG_NEW, tmp, sizeof tmp, err);
	if (rc != SL_OK)
		return rc;
	/* Before the LOCK is made: a refused open leaves the directory as it was. */
	if (r->opts.no_create && !env_exists(log))
		return sl_errf(err, SL_NOTFOUND, "%s: no ref store here (no %s)", r->dir, REF_LOG);
	rc = env_lock_mode(r->env, lock, r->opts.read_only, &r->lock, err);
	if (rc != SL_OK)
		return rc;
	/* A compaction that did not reach its rename left a partial new log. */
	if (!r->opts.read_only)
		env_unlink(r->env, tmp, NULL);
	if (env_exists(log))
		return ref_replay(r, log, err);
	rc = ref_check_dir_kind(r, err);
	if (rc == SL_OK)
		rc = wal_create(r->env, log, &r->wal, err);
	return rc;
}

static int ref_close(store_t *s)
{
	ref_store_t *r = ref_of(s);
	int rc = SL_OK;
	if (r->wal != NULL && r->opts.sync != SL_SYNC_NONE && !r->broken)
		rc = wal_sync(r->wal, NULL);
	wal_close(r->wal, NULL);
	env_unlock(r->lock);
	if (r->own_env)
		env_free(r->env);
	ref_free_tree(r->root);
	batch_free(&r->scratch);
	free(r->dir);
	free(r);
	return rc;
}

static int ref_open(const char *dir, const store_opts_t *opts, store_t **out, sl_err_t *err)
{
	*out = NULL;
	ref_store_t *r = calloc(1, sizeof *r);
	if (r == NULL || (r->dir = strdup(dir)) == NULL) {
		free(r);
		return sl_errf(err, SL_NOMEM, "ref: out of memory");
	}
	store_init_base(&r->base, &ref_store_ops, opts);
	r->opts = *opts;
	r->opts.params = NULL;
	char val[16];
	r->log_off = store_opts_param(opts, "log", val, sizeof val) && strcmp(val, "off") == 0;
	r->prio_state = UINT64_C(0x9e3779b97f4a7c15);
	r->env = opts->env;
	if (r->env == NULL) {
		r->env = env_new();
		r->own_env = true;
	}
	batch_init(&r->scratch);
	int rc = r->env ? SL_OK : sl_errf(err, SL_NOMEM, "ref: out of memory");
	if (rc == SL_OK && !r->log_off)
		rc = ref_open_files(r, err);
	if (rc != SL_OK) {
		ref_close(&r->base);
		return rc;
	}
	*out = &r->base;
	return SL_OK;
}

/* ---------------------------------------------------------------- operations */

static int ref_check_sizes(ref_store_t *r, sl_slice_t key, sl_slice_t value)
{
	if (key.len > REF_MAX_KEY_BYTES)
		return sl_errf(&r->base.err, SL_INVALID, "ref: key of %zu bytes exceeds %u", key.len,
			       REF_MAX_KEY_BYTES);
	if (value.len > REF_MAX_VALUE_BYTES)
		return sl_errf(&r->base.err, SL_INVALID, "ref: value of %zu bytes exceeds %u",
			       value.len, REF_MAX_VALUE_BYTES);
	return SL_OK;
}

/* The write path shared by put, del and write: log, then apply, then maybe compact. */
static int ref_commit(ref_store_t *r, sl_slice_t rep)
{
	if (r->broken)
		return sl_errf(&r->base.err, SL_READONLY,
			       "ref %s: an earlier failure left the store read-only; reopen it", r->dir);
	int rc = ref_log(r, rep);
	if (rc != SL_OK)
		return rc;
	rc = ref_apply(r, rep, &r->base.err);
	if (rc != SL_OK) {
		r->broken = true; /* the log has the batch, memory only part of it */
		return rc;
	}
	if (trace_on(&r->base.trace))
		trace_emit(&r->base.trace, "ref: batch of %zu bytes logged and applied; %llu keys",
			   rep.len, (unsigned long long)r->entries);
	return r->log_off ? SL_OK : ref_maybe_compact(r);
}

static int ref_put(store_t *s, sl_slice_t key, sl_slice_t value)
{
	ref_store_t *r = ref_of(s);
	int rc = ref_check_sizes(r, key, value);
	if (rc != SL_OK)
		return rc;
	batch_clear(&r->scratch);
	batch_put(&r->scratch, key, value);
	if (batch_status(&r->scratch) != SL_OK)
		return sl_errf(&s->err, SL_NOMEM, "ref: out of memory");
	return ref_commit(r, batch_bytes(&r->scratch));
}

static int ref_del(store_t *s, sl_slice_t key)
{
	ref_store_t *r = ref_of(s);
	int rc = ref_check_sizes(r, key, sl_slice(NULL, 0));
	if (rc != SL_OK)
		return rc;
	batch_clear(&r->scratch);
	batch_del(&r->scratch, key);
	if (batch_status(&r->scratch) != SL_OK)
		return sl_errf(&s->err, SL_NOMEM, "ref: out of memory");
	return ref_commit(r, batch_bytes(&r->scratch));
}

static int ref_write(store_t *s, const batch_t *b)
{
	ref_store_t *r = ref_of(s);
	/* Validate every operation before logging any, so a bad batch changes nothing. */
	batch_reader_t rd;
	int rc = batch_reader_init(&rd, batch_bytes(b), &s->err);
	int op;
	sl_slice_t k, v;
	while (rc == SL_OK && (rc = batch_reader_next(&rd, &op, &k, &v, &s->err)) == SL_OK)
		rc = ref_check_sizes(r, k, v);
	if (rc != SL_NOTFOUND)
		return rc;
	return ref_commit(r, batch_bytes(b));
}

static int ref_get(store_t *s, sl_slice_t key, buf_t *value)
{
	ref_store_t *r = ref_of(s);
	ref_node_t *n = ref_find(r->root, key);
	if (trace_on(&s->trace))
		trace_emit(&s->trace, "ref: treap search for a %zu-byte key: %s", key.len,
			   n ? "found" : "not found");
	if (n == NULL)
		return SL_NOTFOUND;
	buf_set(value, n->value, n->value_len);
	if (!buf_ok(value))
		return sl_errf(&s->err, SL_NOMEM, "ref: out of memory copying a value");
	return SL_OK;
}

static int ref_sync(store_t *s)
{
	ref_store_t *r = ref_of(s);
	if (r->log_off)
		return SL_OK;
	return wal_sync(r->wal, &s->err);
}

/* ---------------------------------------------------------------- iterator */

/*
 * An in-order walk with an explicit stack: the top is the current node, and below
 * it the ancestors whose keys come after it. A treap's depth is O(log n) in
 * expectation, so the stack stays small; it grows on demand all the same.
 */
typedef struct ref_iter {
	store_iter_t base;   /* must be first */
	ref_node_t **stack;  /* pending nodes, top = current */
	size_t depth;        /* entries in stack */
	size_t cap;          /* stack capacity */
} ref_iter_t;

static bool ref_iter_push(ref_iter_t *it, ref_node_t *n)
{
	if (it->depth == it->cap) {
		size_t cap = it->cap ? it->cap * 2 : 64;
		ref_node_t **grown = realloc(it->stack, cap * sizeof *grown);
		if (grown == NULL)
			return false;
		it->stack = grown;
		it->cap = cap;
	}
	it->stack[it->depth++] = n;
	return true;
}

/* Publishes the top of the stack as the current entry. */
static void ref_iter_publish(ref_iter_t *it)
{
	it->base.valid = it->depth > 0;
	if (it->base.valid) {
		ref_node_t *n = it->stack[it->depth - 1];
		it->base.key = ref_node_key(n);
		it->base.value = sl_slice(n->value, n->value_len);
	}
}

static int ref_iter_fail(ref_iter_t *it)
{
	it->base.valid = false;
	it->base.status = SL_NOMEM;
	return SL_NOMEM;
}

static int ref_iter_next(store_iter_t *base)
{
	ref_iter_t *it = (ref_iter_t *)base;
	ref_node_t *n = it->stack[--it->depth];
	for (n = n->right; n != NULL; n = n->left)
		if (!ref_iter_push(it, n))
			return ref_iter_fail(it);
	ref_iter_publish(it);
	return SL_OK;
}

static void ref_iter_close(store_iter_t *base)
{
	ref_iter_t *it = (ref_iter_t *)base;
	free(it->stack);
	free(it);
}

static const store_iter_ops_t ref_iter_ops = { ref_iter_next, ref_iter_close };

static int ref_seek(store_t *s, const sl_slice_t *start, store_iter_t **out)
{
	ref_store_t *r = ref_of(s);
	ref_iter_t *it = calloc(1, sizeof *it);
	if (it == NULL)
		return sl_errf(&s->err, SL_NOMEM, "ref: out of memory");
	it->base.ops = &ref_iter_ops;
	/* Keep the path of nodes >= start; the last one kept is the lower bound. */
	for (ref_node_t *n = r->root; n != NULL;) {
		if (start == NULL || sl_slice_cmp(ref_node_key(n), *start) >= 0) {
			if (!ref_iter_push(it, n)) {
				ref_iter_close(&it->base);
				return sl_errf(&s->err, SL_NOMEM, "ref: out of memory");
			}
			n = n->left;
		} else {
			n = n->right;
		}
	}
	ref_iter_publish(it);
	*out = &it->base;
	return SL_OK;
}

/* ---------------------------------------------------------------- stats, check */

static int ref_stats(store_t *s, stats_list_t *out)
{
	ref_store_t *r = ref_of(s);
	env_counters_t io;
	env_counters(r->env, &io);
	uint64_t disk = r->wal ? wal_size(r->wal) : 0;
	stats_add_device(out, &io, disk, r->live_bytes);
	stats_list_add(out, "ref.entries", (double)r->entries);
	stats_list_add(out, "ref.log_bytes", (double)disk);
	stats_list_add(out, "ref.log_compactions", (double)r->compactions);
	return SL_OK;
}

typedef struct ref_check_state {
	uint64_t nodes;            /* nodes visited */
	uint64_t bytes;            /* key + value bytes visited */
	const ref_node_t *prev;    /* previous node in key order */
	const char *why;           /* first violation, NULL if none */
} ref_check_state_t;

/* In-order walk verifying key order (invariant 1) and heap order (invariant 2). */
static void ref_check_walk(const ref_node_t *n, ref_check_state_t *st)
{
	if (n == NULL || st->why != NULL)
		return;
	if ((n->left && n->left->prio > n->prio) || (n->right && n->right->prio > n->prio))
		st->why = "a child has a higher priority than its parent";
	ref_check_walk(n->left, st);
	if (st->prev && sl_slice_cmp(ref_node_key(st->prev), ref_node_key(n)) >= 0)
		st->why = "keys out of order";
	st->prev = n;
	st->nodes++;
	st->bytes += n->key_len + n->value_len;
	ref_check_walk(n->right, st);
}

static int ref_check(store_t *s)
{
	ref_store_t *r = ref_of(s);
	ref_check_state_t st = { 0, 0, NULL, NULL };
	ref_check_walk(r->root, &st);
	if (st.why == NULL && st.nodes != r->entries)
		st.why = "node count differs from the entry counter";
	if (st.why == NULL && st.bytes != r->live_bytes)
		st.why = "byte count differs from the live-bytes counter";
	if (st.why != NULL)
		return sl_errf(&s->err, SL_CORRUPT, "ref: %s", st.why);
	return SL_OK;
}

const store_ops_t ref_store_ops = {
	.name = "ref",
	.summary = "in-memory treap made durable by a write-ahead log (the test oracle)",
	.caps = STORE_BY_NAME | STORE_CAN_SCAN,
	.max_key_bytes = REF_MAX_KEY_BYTES,
	.max_value_bytes = REF_MAX_VALUE_BYTES,
	.params = "log",
	.open = ref_open,
	.close = ref_close,
	.put = ref_put,
	.get = ref_get,
	.del = ref_del,
	.write = ref_write,
	.seek = ref_seek,
	.sync = ref_sync,
	.stats = ref_stats,
	.check = ref_check,
};
