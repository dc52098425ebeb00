/* store.c — the registry and the counting wrappers of store.h. */
#include "engine/store.h"

#include <stdlib.h>
#include <string.h>

#include "engine/syncer.h"

#define STORE_REGISTRY_MAX 32

static const store_ops_t *registry[STORE_REGISTRY_MAX];
static size_t registry_count;

bool store_opts_param(const store_opts_t *opts, const char *name, char *out, size_t out_size)
{
	if (opts == NULL || opts->params == NULL)
		return false;
	size_t nlen = strlen(name);
	for (const char *p = opts->params; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			size_t vlen = len - nlen - 1;
			if (vlen >= out_size)
				vlen = out_size - 1;
			memcpy(out, p + nlen + 1, vlen);
			out[vlen] = '\0';
			return true;
		}
		p += len + (comma != NULL);
	}
	return false;
}

/* Whether the space-separated list holds the word name (len bytes). */
static bool store_word_in(const char *list, const char *name, size_t len)
{
	for (const char *p = list; p != NULL && *p;) {
		size_t n = strcspn(p, " ");
		if (n == len && strncmp(p, name, len) == 0)
			return true;
		p += n + (p[n] == ' ');
	}
	return false;
}

bool store_param_known(const store_ops_t *ops, const char *name, size_t name_len)
{
	return store_word_in(ops->params, name, name_len) ||
	       store_word_in(STORE_COMMON_PARAMS, name, name_len);
}

int store_params_check(const store_ops_t *ops, const char *params, sl_err_t *err)
{
	for (const char *p = params; p != NULL && *p;) {
		size_t len = strcspn(p, ",");
		size_t name_len = strcspn(p, "=,");
		if (name_len == len || name_len == 0)
			return sl_errf(err, SL_INVALID, "%s: param '%.*s' is not name=value", ops->name,
				       (int)len, p);
		if (!store_param_known(ops, p, name_len))
			return sl_errf(err, SL_INVALID, "%s: unknown param '%.*s'; it takes: %s",
				       ops->name, (int)name_len, p,
				       ops->params ? ops->params : "none of its own");
		p += len + (p[len] == ',');
	}
	return SL_OK;
}

/* Refuses a directory that holds another store's files. */
static int store_dir_check_kind(env_t *env, const char *dir, const char *kind,
				const char *prefix, sl_err_t *err)
{
	char **names = NULL;
	size_t n = 0;
	int rc = env_list_dir(env, dir, &names, &n, err);
	for (size_t i = 0; rc == SL_OK && i < n; i++)
		if (strcmp(names[i], "LOCK") != 0 && strncmp(names[i], prefix, strlen(prefix)) != 0)
			rc = sl_errf(err, SL_INVALID, "%s is not a %s store: it holds '%s'", dir, kind,
				     names[i]);
	env_list_free(names, n);
	return rc;
}

/* Whether dir holds a file whose name starts with prefix (a store of that kind). */
static bool store_dir_has(env_t *env, const char *dir, const char *prefix)
{
	char **names = NULL;
	size_t n = 0;
	bool found = false;
	if (env_list_dir(env, dir, &names, &n, NULL) != SL_OK)
		return false;
	for (size_t i = 0; i < n && !found; i++)
		found = strncmp(names[i], prefix, strlen(prefix)) == 0;
	env_list_free(names, n);
	return found;
}

int store_dir_prepare(env_t *env, const char *dir, const store_opts_t *opts, const char *kind,
		      const char *prefix, env_lock_t **lock, sl_err_t *err)
{
	*lock = NULL;
	if ((opts->no_create || opts->read_only) && !env_exists(dir))
		return sl_errf(err, SL_NOTFOUND, "%s: no such store directory", dir);
	/* Checked before the LOCK is made: a refused open leaves the directory as it was. */
	if ((opts->no_create || opts->read_only) && !store_dir_has(env, dir, prefix))
		return sl_errf(err, SL_NOTFOUND, "%s: no %s store there (no %s* file)", dir, kind,
			       prefix);
	int rc = opts->read_only ? SL_OK : env_mkdir(env, dir, err);
	char path[4200];
	if (snprintf(path, sizeof path, "%s/LOCK", dir) >= (int)sizeof path)
		return sl_errf(err, SL_INVALID, "store directory name too long: %s", dir);
	if (rc == SL_OK)
		rc = env_lock_mode(env, path, opts->read_only, lock, err);
	if (rc == SL_OK)
		rc = store_dir_check_kind(env, dir, kind, prefix, err);
	if (rc != SL_OK) {
		env_unlock(*lock);
		*lock = NULL;
	}
	return rc;
}

int store_home_open(store_home_t *home, const char *dir, const store_opts_t *opts,
		    const char *kind, const char *prefix, sl_err_t *err)
{
	memset(home, 0, sizeof *home);
	home->dir = strdup(dir);
	home->env = opts->env;
	if (home->env == NULL) {
		home->env = env_new();
		home->own_env = true;
	}
	if (home->dir == NULL || home->env == NULL)
		return sl_errf(err, SL_NOMEM, "%s: out of memory", kind);
	return store_dir_prepare(home->env, dir, opts, kind, prefix, &home->lock, err);
}

void store_home_close(store_home_t *home)
{
	env_unlock(home->lock);
	if (home->own_env)
		env_free(home->env);
	free(home->dir);
	memset(home, 0, sizeof *home);
}

void store_home_stats(store_home_t *home, stats_list_t *out)
{
	env_counters_t io;
	env_counters(home->env, &io);
	uint64_t disk = 0;
	env_dir_bytes(home->dir, &disk, NULL);
	stats_add_device(out, &io, disk, 0);
}

void store_init_base(store_t *s, const store_ops_t *ops, const store_opts_t *opts)
{
	memset(s, 0, sizeof *s);
	s->ops = ops;
	s->trace = opts->trace;
}

/* ---------------------------------------------------------------- registry */

int store_register(const store_ops_t *ops)
{
	if (store_lookup(ops->name) != NULL || registry_count == STORE_REGISTRY_MAX)
		return SL_INVALID;
	registry[registry_count++] = ops;
	return SL_OK;
}

const store_ops_t *store_lookup(const char *name)
{
	for (size_t i = 0; i < registry_count; i++)
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	return NULL;
}

size_t store_registered(const store_ops_t *const **list)
{
	*list = registry;
	return registry_count;
}

/* ---------------------------------------------------------------- wrappers */

/* The answer of every write on a store opened read-only. */
static int store_refuse_write(store_t *s)
{
	return sl_errf(&s->err, SL_READONLY, "%s: opened read-only; reopen without --read-only "
		       "to write", s->ops->name);
}

/* The sync timer's call (engine/syncer): the store's own thread-safe sync. */
static int store_timer_sync(void *ctx, sl_err_t *err)
{
	store_t *s = ctx;
	return s->ops->timer_sync(s, err);
}

/*
 * Before a write: refused when opened read-only, or when the sync timer failed
 * (whether those writes reached the disk is unknown: reopen, as after any failed
 * fsync).
 */
static int store_may_write(store_t *s)
{
	sl_err_t e;
	if (s->timer != NULL && syncer_failed(s->timer, &e))
		return sl_errf(&s->err, SL_READONLY, "%s: a background sync failed (%s); reopen to "
			       "continue", s->ops->name, e.msg);
	return s->read_only ? store_refuse_write(s) : SL_OK;
}

/* After a write that succeeded: the sync timer has something to sync. */
static void store_wrote(store_t *s)
{
	if (s->timer != NULL)
		syncer_note(s->timer);
}

int store_open(const char *name, const char *dir, const store_opts_t *opts, store_t **out,
	       sl_err_t *err)
{
	*out = NULL;
	const store_ops_t *ops = store_lookup(name);
	if (ops == NULL)
		return sl_errf(err, SL_INVALID, "no store named '%s'", name);
	if (opts != NULL && store_params_check(ops, opts->params, err) != SL_OK)
		return SL_INVALID;
	store_opts_t o = opts ? *opts : (store_opts_t){ 0 };
	o.no_create = o.no_create || o.read_only;
	int rc = ops->open(dir, &o, out, err);
	if (rc == SL_OK)
		(*out)->read_only = o.read_only;
	if (rc == SL_OK && o.sync == SL_SYNC_BATCH && ops->timer_sync && !o.read_only) {
		rc = syncer_start(o.batch_ms ? o.batch_ms : 10, store_timer_sync, *out,
				  &(*out)->timer, err);
		if (rc != SL_OK) {
			ops->close(*out);
			*out = NULL;
		}
	}
	return rc;
}

int store_close(store_t *s)
{
	if (s == NULL)
		return SL_OK;
	syncer_stop(s->timer); /* before the handle it syncs goes */
	s->timer = NULL;
	return s->ops->close(s);
}

int store_put(store_t *s, sl_slice_t key, sl_slice_t value)
{
	int rc = store_may_write(s);
	if (rc != SL_OK)
		return rc;
	rc = s->ops->put(s, key, value);
	if (rc == SL_OK) {
		store_wrote(s);
		stats_count(&s->counters, STAT_PUTS, 1);
		stats_count(&s->counters, STAT_USER_BYTES_WRITTEN, key.len + value.len);
	}
	return rc;
}

int store_get(store_t *s, sl_slice_t key, buf_t *value)
{
	int rc = s->ops->get(s, key, value);
	stats_count(&s->counters, STAT_GETS, 1);
	if (rc == SL_OK) {
		stats_count(&s->counters, STAT_GET_HITS, 1);
		stats_count(&s->counters, STAT_USER_BYTES_READ, value->len);
	}
	return rc;
}

int store_del(store_t *s, sl_slice_t key)
{
	int rc = store_may_write(s);
	if (rc != SL_OK)
		return rc;
	rc = s->ops->del(s, key);
	if (rc == SL_OK) {
		store_wrote(s);
		stats_count(&s->counters, STAT_DELS, 1);
		stats_count(&s->counters, STAT_USER_BYTES_WRITTEN, key.len);
	}
	return rc;
}

/* Adds a batch's operations to the counters (after it was applied). */
static void store_count_batch(store_t *s, const batch_t *b)
{
	batch_reader_t r;
	if (batch_reader_init(&r, batch_bytes(b), NULL) != SL_OK)
		return;
	int op;
	sl_slice_t k, v;
	while (batch_reader_next(&r, &op, &k, &v, NULL) == SL_OK) {
		stats_count(&s->counters, op == BATCH_OP_PUT ? STAT_PUTS : STAT_DELS, 1);
		stats_count(&s->counters, STAT_USER_BYTES_WRITTEN, k.len + v.len);
	}
}

int store_write(store_t *s, const batch_t *b)
{
	int rc = store_may_write(s);
	if (rc != SL_OK)
		return rc;
	if (batch_status(b) != SL_OK)
		return sl_errf(&s->err, SL_NOMEM, "batch: ran out of memory while it was built");
	rc = s->ops->write(s, b);
	if (rc == SL_OK) {
		store_wrote(s);
		store_count_batch(s, b);
	}
	return rc;
}

int store_sync(store_t *s)
{
	if (s->read_only)
		return SL_OK; /* nothing was written, nothing to make durable */
	return s->ops->sync(s);
}

/* Ends the iteration when the current key reached the end bound. The bytes
 * read are added up here and counted once at close: one atomic add per scan,
 * not per entry. */
static void store_iter_bound(store_iter_t *it)
{
	if (it->valid && it->has_end && sl_slice_cmp(it->key, buf_slice(&it->end)) >= 0)
		it->valid = false;
	if (it->valid)
		it->bytes_read += it->key.len + it->value.len;
}

int store_scan(store_t *s, const sl_slice_t *start, const sl_slice_t *end, store_iter_t **out)
{
	*out = NULL;
	/* A store without scans may still say why, through its seek. */
	if (s->ops->seek == NULL)
		return sl_errf(&s->err, SL_NOTSUP, "%s: ordered scans are not supported",
			       s->ops->name);
	store_iter_t *it = NULL;
	int rc = s->ops->seek_range != NULL ? s->ops->seek_range(s, start, end, &it)
					    : s->ops->seek(s, start, &it);
	if (rc != SL_OK)
		return rc;
	it->store = s;
	if (end != NULL) {
		it->has_end = true;
		buf_set(&it->end, end->data, end->len);
		if (!buf_ok(&it->end)) {
			store_iter_close(it);
			return sl_errf(&s->err, SL_NOMEM, "scan: out of memory");
		}
	}
	stats_count(&s->counters, STAT_SCANS, 1);
	store_iter_bound(it);
	*out = it;
	return it->status;
}

int store_each(store_t *s, store_visit_fn visit, void *ctx)
{
	if (s->ops->each != NULL)
		return s->ops->each(s, visit, ctx);
	store_iter_t *it = NULL;
	int rc = store_scan(s, NULL, NULL, &it);
	while (rc == SL_OK && store_iter_valid(it)) {
		rc = visit(ctx, store_iter_key(it), store_iter_value(it));
		if (rc == SL_OK)
			rc = store_iter_next(it);
	}
	store_iter_close(it);
	return rc;
}

int store_iter_next(store_iter_t *it)
{
	if (!it->valid)
		return it->status;
	int rc = it->ops->next(it);
	store_iter_bound(it);
	return rc;
}

void store_iter_close(store_iter_t *it)
{
	if (it == NULL)
		return;
	stats_count(&it->store->counters, STAT_USER_BYTES_READ, it->bytes_read);
	buf_free(&it->end);
	it->ops->close(it);
}

int store_stats(store_t *s, stats_list_t *out)
{
	stats_add_user(out, &s->counters);
	int rc = s->ops->stats(s, out);
	stats_add_derived(out);
	return rc;
}

int store_check(store_t *s)
{
	return s->ops->check ? s->ops->check(s) : SL_OK;
}

void store_trace(store_t *s, trace_fn fn, void *ctx)
{
	trace_set(&s->trace, fn, ctx);
}

const char *store_errmsg(const store_t *s)
{
	return s->err.code == SL_OK ? "" : s->err.msg;
}

const char *store_name(const store_t *s)
{
	return s->ops->name;
}

unsigned store_caps(const store_t *s)
{
	return s->ops->caps & ~s->caps_lost;
}
