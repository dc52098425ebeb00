/* table.c — tables: the schema, row and key encodings, writes through one log, checks (see table.h). */
#include "kv/table_int.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/checksum.h"
#include "engine/codec.h"
#include "engine/store.h"

#define TABLE_LOG "table.log"
#define TABLE_SCHEMA "table.schema"
#define TABLE_CHECKPOINT_BYTES (8u << 20)

/* ---------------------------------------------------------------- encodings */

void tb_key_put(buf_t *b, const table_value_t *v)
{
	uint8_t marker = v->type == TABLE_NULL ? 0x00 : 0x01;
	buf_append(b, &marker, 1);
	if (v->type == TABLE_INT)
		codec_key_put_i64(b, v->i);
	else if (v->type == TABLE_FLOAT)
		codec_key_put_f64(b, v->f);
	else if (v->type == TABLE_TEXT)
		codec_key_put_bytes(b, v->s.data, v->s.len);
}

size_t tb_key_get(const uint8_t *p, const uint8_t *end, table_type_t type, table_value_t *v,
		  buf_t *text)
{
	if (p >= end)
		return 0;
	*v = tv_null();
	if (*p == 0x00)
		return 1;
	size_t n = 0;
	if (type == TABLE_INT) {
		v->type = TABLE_INT;
		n = codec_key_get_i64(p + 1, end, &v->i);
	} else if (type == TABLE_FLOAT) {
		v->type = TABLE_FLOAT;
		n = codec_key_get_f64(p + 1, end, &v->f);
	} else {
		buf_clear(text);
		n = codec_key_get_bytes(p + 1, end, text);
		*v = tv_text(buf_slice(text));
	}
	return n == 0 || *p != 0x01 ? 0 : n + 1;
}

void tb_primary_key(const table_t *t, const table_value_t *row, buf_t *out)
{
	buf_clear(out);
	for (int i = 0; i < t->npk; i++)
		tb_key_put(out, &row[t->pk[i]]);
}

void tb_index_key(const table_t *t, const table_index_t *ix, const table_value_t *row, buf_t *out)
{
	buf_clear(out);
	for (int i = 0; i < ix->ncols; i++)
		tb_key_put(out, &row[ix->cols[i]]);
	for (int i = 0; ix->kind == TABLE_BTREE && i < t->npk; i++)
		tb_key_put(out, &row[t->pk[i]]);
}

void tb_row_put(buf_t *b, const table_value_t *row, const int *cols, int n)
{
	for (int i = 0; i < n; i++) {
		const table_value_t *v = &row[cols ? cols[i] : i];
		uint8_t type = (uint8_t)v->type;
		buf_append(b, &type, 1);
		if (v->type == TABLE_INT) {
			codec_buf_put_varint(b, codec_zigzag(v->i));
		} else if (v->type == TABLE_FLOAT) {
			uint64_t bits;
			memcpy(&bits, &v->f, sizeof bits);
			codec_buf_put_u64(b, bits);
		} else if (v->type == TABLE_TEXT) {
			codec_buf_put_varint(b, v->s.len);
			buf_append(b, v->s.data, v->s.len);
		}
	}
}

int tb_row_get(const uint8_t *p, const uint8_t *end, const int *cols, int n, table_value_t *row)
{
	for (int i = 0; i < n; i++) {
		table_value_t *v = &row[cols ? cols[i] : i];
		if (p >= end)
			return SL_CORRUPT;
		uint8_t type = *p++;
		uint64_t x = 0;
		size_t got = 1;
		*v = tv_null();
		if (type == TABLE_INT) {
			got = codec_get_varint(p, end, &x);
			*v = tv_int(codec_unzigzag(x));
		} else if (type == TABLE_FLOAT && end - p >= 8) {
			x = codec_get_u64(p);
			double d;
			memcpy(&d, &x, sizeof d);
			*v = tv_float(d);
			got = 8;
		} else if (type == TABLE_TEXT) {
			got = codec_get_varint(p, end, &x);
			if (got == 0 || x > (uint64_t)(end - p - got))
				return SL_CORRUPT;
			*v = tv_text(sl_slice(p + got, (size_t)x));
			got += x;
		} else if (type != TABLE_NULL) {
			return SL_CORRUPT;
		} else {
			got = 0;
		}
		if (got == 0 && type != TABLE_NULL)
			return SL_CORRUPT;
		p += got;
	}
	return p == end ? SL_OK : SL_CORRUPT;
}

bool tb_index_holds(const table_index_t *ix, const table_value_t *row)
{
	return ix->where_null < 0 || row[ix->where_null].type == TABLE_NULL;
}

int tb_value_cmp(const table_value_t *a, const table_value_t *b)
{
	if (a->type == TABLE_NULL || b->type == TABLE_NULL)
		return (b->type == TABLE_NULL) - (a->type == TABLE_NULL);
	if (a->type == TABLE_INT)
		return (a->i > b->i) - (a->i < b->i);
	if (a->type == TABLE_FLOAT)
		return (a->f > b->f) - (a->f < b->f);
	return sl_slice_cmp(a->s, b->s);
}

uint64_t tb_pages_touched(table_t *t, int s)
{
	pager_stats_t ps;
	if (s == 0) {
		btree_pool_stats(t->primary, &ps);
	} else if (t->ix[s - 1].kind == TABLE_BTREE) {
		btree_pool_stats(t->ix[s - 1].bt, &ps);
	} else {
		hash_stats_t hs;
		hash_get_stats(t->ix[s - 1].hx, &hs);
		ps = hs.pager;
	}
	return ps.hits + ps.misses;
}

/* ---------------------------------------------------------------- the schema */

static bool tb_name_ok(const char *s, size_t n)
{
	if (n == 0 || n >= TABLE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* The next comma-separated item of *p, trimmed: [*start, *start + *len). */
static bool tb_next_item(const char **p, const char **start, size_t *len)
{
	const char *s = *p;
	if (s == NULL || *s == '\0')
		return false;
	size_t n = strcspn(s, ",");
	*p = s + n + (s[n] == ',');
	while (n > 0 && isspace((unsigned char)*s))
		s++, n--;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	*start = s;
	*len = n;
	return true;
}

static int tb_find(const table_t *t, const char *name, size_t n)
{
	for (int i = 0; i < t->ncols; i++)
		if (strlen(t->cols[i].name) == n && strncmp(t->cols[i].name, name, n) == 0)
			return i;
	return -1;
}

int table_columns(const table_t *t) { return t->ncols; }

int table_column(const table_t *t, const char *name) { return tb_find(t, name, strlen(name)); }

int tb_parse_columns(const table_t *t, const char *list, int *cols, int *n, sl_err_t *err)
{
	const char *p = list, *s;
	size_t len;
	*n = 0;
	while (tb_next_item(&p, &s, &len)) {
		int c = tb_find(t, s, len);
		if (c < 0)
			return sl_errf(err, SL_INVALID, "table: no column '%.*s'", (int)len, s);
		for (int i = 0; i < *n; i++)
			if (cols[i] == c)
				return sl_errf(err, SL_INVALID, "table: column '%.*s' listed twice",
					       (int)len, s);
		cols[(*n)++] = c;
	}
	return *n ? SL_OK : sl_errf(err, SL_INVALID, "table: an empty column list");
}

static int tb_parse_schema_columns(table_t *t, const char *spec, sl_err_t *err)
{
	static const char *const types[] = { "", "INT", "FLOAT", "TEXT" };
	const char *p = spec, *s;
	size_t len;
	while (tb_next_item(&p, &s, &len)) {
		size_t name_len = strcspn(s, " \t");
		if (name_len > len)
			name_len = len;
		const char *type = s + name_len;
		size_t type_len = len - name_len;
		while (type_len > 0 && isspace((unsigned char)*type))
			type++, type_len--;
		if (!tb_name_ok(s, name_len) || t->ncols == TABLE_MAX_COLUMNS)
			return sl_errf(err, SL_INVALID, "table: bad column '%.*s' (a name of letters, "
				       "digits and _, then INT, FLOAT or TEXT; at most %d columns)",
				       (int)len, s, TABLE_MAX_COLUMNS);
		if (tb_find(t, s, name_len) >= 0)
			return sl_errf(err, SL_INVALID, "table: column '%.*s' defined twice",
				       (int)name_len, s);
		table_type_t ty = TABLE_NULL;
		for (int k = 1; k <= 3; k++)
			if (strlen(types[k]) == type_len && strncasecmp(type, types[k], type_len) == 0)
				ty = (table_type_t)k;
		if (ty == TABLE_NULL)
			return sl_errf(err, SL_INVALID, "table: column '%.*s' has type '%.*s'; "
				       "expected INT, FLOAT or TEXT", (int)name_len, s, (int)type_len,
				       type);
		snprintf(t->cols[t->ncols].name, TABLE_NAME_MAX, "%.*s", (int)name_len, s);
		t->cols[t->ncols++].type = ty;
	}
	return t->ncols ? SL_OK : sl_errf(err, SL_INVALID, "table: no columns");
}

static int tb_parse_index(table_t *t, const table_index_def_t *d, table_index_t *ix, sl_err_t *err)
{
	memset(ix, 0, sizeof *ix);
	ix->where_null = -1;
	if (d->name == NULL || !tb_name_ok(d->name, strlen(d->name)))
		return sl_errf(err, SL_INVALID, "table: index name '%s' (letters, digits and _)",
			       d->name ? d->name : "(none)");
	for (int i = 0; i < t->nix; i++)
		if (strcmp(t->ix[i].name, d->name) == 0)
			return sl_errf(err, SL_INVALID, "table: two indexes named '%s'", d->name);
	if (strcmp(d->name, "scan") == 0 || strcmp(d->name, "primary") == 0)
		return sl_errf(err, SL_INVALID, "table: '%s' names an access path; pick another "
			       "index name", d->name);
	snprintf(ix->name, sizeof ix->name, "%s", d->name);
	ix->kind = d->kind;
	if (d->kind != TABLE_BTREE && d->kind != TABLE_HASH)
		return sl_errf(err, SL_INVALID, "table: index %s: unknown kind", d->name);
	int rc = tb_parse_columns(t, d->columns, ix->cols, &ix->ncols, err);
	if (rc == SL_OK && d->include != NULL && d->kind == TABLE_HASH)
		return sl_errf(err, SL_INVALID, "table: index %s: a hash index keeps only primary "
			       "keys; it cannot include columns", d->name);
	if (rc == SL_OK && d->include != NULL)
		rc = tb_parse_columns(t, d->include, ix->incl, &ix->nincl, err);
	if (rc == SL_OK && d->where_null != NULL) {
		ix->where_null = table_column(t, d->where_null);
		if (ix->where_null < 0)
			rc = sl_errf(err, SL_INVALID, "table: index %s: partial on unknown column '%s'",
				     d->name, d->where_null);
	}
	return rc;
}

static int tb_parse_def(table_t *t, const table_def_t *def, sl_err_t *err)
{
	if (def == NULL || def->columns == NULL || def->primary_key == NULL)
		return sl_errf(err, SL_INVALID, "table: a definition needs columns and a primary key");
	int rc = tb_parse_schema_columns(t, def->columns, err);
	if (rc == SL_OK)
		rc = tb_parse_columns(t, def->primary_key, t->pk, &t->npk, err);
	if (rc == SL_OK && def->nindexes > TABLE_MAX_INDEXES)
		rc = sl_errf(err, SL_INVALID, "table: %zu indexes; at most %d", def->nindexes,
			     TABLE_MAX_INDEXES);
	for (size_t i = 0; rc == SL_OK && i < def->nindexes; i++) {
		rc = tb_parse_index(t, &def->indexes[i], &t->ix[t->nix], err);
		t->nix += rc == SL_OK;
	}
	return rc;
}

/* The definition as canonical text: what table.schema holds and a reopen must match. */
static void tb_schema_text(const table_t *t, buf_t *out)
{
	static const char *const types[] = { "", "INT", "FLOAT", "TEXT" };
	char line[512];
	for (int i = 0; i < t->ncols; i++) {
		snprintf(line, sizeof line, "column %s %s\n", t->cols[i].name, types[t->cols[i].type]);
		buf_append(out, line, strlen(line));
	}
	buf_append(out, "primary", 7);
	for (int i = 0; i < t->npk; i++) {
		snprintf(line, sizeof line, " %s", t->cols[t->pk[i]].name);
		buf_append(out, line, strlen(line));
	}
	for (int i = 0; i < t->nix; i++) {
		const table_index_t *ix = &t->ix[i];
		snprintf(line, sizeof line, "\nindex %s %s on", ix->name,
			 ix->kind == TABLE_HASH ? "hash" : "btree");
		buf_append(out, line, strlen(line));
		for (int k = 0; k < ix->ncols + ix->nincl; k++) {
			int c = k < ix->ncols ? ix->cols[k] : ix->incl[k - ix->ncols];
			snprintf(line, sizeof line, "%s%s", k == ix->ncols ? " include " : " ",
				 t->cols[c].name);
			buf_append(out, line, strlen(line));
		}
		if (ix->where_null >= 0) {
			snprintf(line, sizeof line, " where %s is null", t->cols[ix->where_null].name);
			buf_append(out, line, strlen(line));
		}
	}
	buf_append(out, "\n", 1);
}

/* Writes table.schema on creation; on reopen, the definition must be the same. */
static int tb_schema_agree(table_t *t, bool created)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/" TABLE_SCHEMA, t->dir);
	buf_t want = BUF_INIT;
	buf_append(&want, TABLE_SCHEMA_MAGIC "\n", sizeof TABLE_SCHEMA_MAGIC);
	tb_schema_text(t, &want);
	char sum[32];
	snprintf(sum, sizeof sum, "%016" PRIx64 "\n", checksum_xxh3(want.data, want.len, 0));
	int rc = SL_OK;
	if (created) {
		buf_append(&want, sum, strlen(sum));
		rc = env_write_atomic(t->env, path, want.data, want.len, &t->err);
	} else {
		buf_t have = BUF_INIT;
		rc = env_read_all(t->env, path, 1 << 16, &have, &t->err);
		size_t n = have.len;
		const char *text = (const char *)have.data;
		if (rc == SL_OK && (n < 17 || memcmp(text + n - 17, sum, 17) != 0 ||
				    n - 17 != want.len || memcmp(text, want.data, want.len) != 0))
			rc = sl_errf(&t->err, SL_INVALID, "%s: the table was made with another "
				     "definition (or the file is damaged); it holds:\n%.*s", path,
				     n >= 17 ? (int)(n - 17) : (int)n, text ? text : "");
		buf_free(&have);
	}
	buf_free(&want);
	return rc;
}

/* ---------------------------------------------------------------- open and close */

static int tb_open_structures(table_t *t, const table_opts_t *opts)
{
	char path[4200];
	btree_opts_t bo = { .cache_bytes = opts->cache_bytes, .sync = SL_SYNC_NONE, .create = true };
	snprintf(path, sizeof path, "%s/table-primary.db", t->dir);
	int rc = btree_open(t->env, path, &bo, &t->primary, &t->err);
	for (int i = 0; rc == SL_OK && i < t->nix; i++) {
		table_index_t *ix = &t->ix[i];
		if (ix->kind == TABLE_BTREE) {
			snprintf(path, sizeof path, "%s/table-ix-%s.db", t->dir, ix->name);
			rc = btree_open(t->env, path, &bo, &ix->bt, &t->err);
		} else {
			hash_opts_t ho = { .cache_bytes = opts->cache_bytes, .sync = SL_SYNC_NONE,
					   .create = true };
			snprintf(path, sizeof path, "%s/table-ix-%s.hash", t->dir, ix->name);
			rc = hash_open(t->env, path, &ho, &ix->hx, &t->err);
		}
	}
	return rc;
}

/* Every structure synced, then the log emptied: what the log held is now in the files. */
static int tb_checkpoint(table_t *t)
{
	int rc = btree_sync(t->primary, &t->err);
	for (int i = 0; rc == SL_OK && i < t->nix; i++)
		rc = t->ix[i].bt ? btree_sync(t->ix[i].bt, &t->err) : hash_sync(t->ix[i].hx, &t->err);
	return rc == SL_OK ? wal_reset(t->log, &t->err) : rc;
}

static int tb_apply(table_t *t, sl_slice_t rec);

/* Replays the whole log (see table.h: blind writes, so any prefix already applied is fine). */
static int tb_recover(table_t *t)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/" TABLE_LOG, t->dir);
	if (!env_exists(path))
		return wal_create(t->env, path, &t->log, &t->err);
	wal_reader_t *r;
	int rc = wal_reader_open(t->env, path, &r, &t->err);
	sl_slice_t rec;
	uint64_t off;
	while (rc == SL_OK && (rc = wal_reader_next(r, &rec, &off, &t->err)) == SL_OK)
		rc = tb_apply(t, rec);
	uint64_t end = rc == SL_NOTFOUND ? wal_reader_tail(r)->valid_end : 0;
	if (rc == SL_NOTFOUND)
		rc = SL_OK;
	if (r != NULL)
		wal_reader_close(r);
	if (rc == SL_OK)
		rc = wal_open(t->env, path, end, &t->log, &t->err);
	return rc == SL_OK ? tb_checkpoint(t) : rc;
}

static void tb_count_rows(table_t *t)
{
	btree_stats_t st;
	btree_get_stats(t->primary, &st);
	t->rows = st.keys;
}

int table_open(const char *dir, const table_def_t *def, const table_opts_t *opts, table_t **out,
	       sl_err_t *err)
{
	*out = NULL;
	table_t *t = calloc(1, sizeof *t);
	if (t == NULL)
		return sl_errf(err, SL_NOMEM, "table: out of memory");
	t->dir = strdup(dir);
	t->env = opts->env ? opts->env : env_new();
	t->own_env = opts->env == NULL;
	t->sync = opts->sync;
	int rc = t->dir && t->env ? tb_parse_def(t, def, &t->err) : SL_NOMEM;
	char schema[4200];
	snprintf(schema, sizeof schema, "%s/" TABLE_SCHEMA, dir);
	bool exists = env_exists(schema);
	if (rc == SL_OK && !exists && !opts->create)
		rc = sl_errf(&t->err, SL_NOTFOUND, "%s: no table there", dir);
	store_opts_t so = { .no_create = !opts->create };
	if (rc == SL_OK)
		rc = store_dir_prepare(t->env, dir, &so, "table", "table", &t->lock, &t->err);
	if (rc == SL_OK)
		rc = tb_schema_agree(t, !exists);
	if (rc == SL_OK)
		rc = tb_open_structures(t, opts);
	if (rc == SL_OK)
		rc = tb_recover(t);
	if (rc == SL_OK && t->sync == SL_SYNC_BATCH)
		rc = wal_sync_every(t->log, 10, &t->err);
	if (rc != SL_OK) {
		*err = t->err;
		if (rc == SL_NOMEM && err->msg[0] == '\0')
			sl_errf(err, SL_NOMEM, "table: out of memory");
		table_close(t);
		return rc;
	}
	tb_count_rows(t);
	*out = t;
	return SL_OK;
}

int table_close(table_t *t)
{
	if (t == NULL)
		return SL_OK;
	int rc = t->log && t->primary ? tb_checkpoint(t) : SL_OK;
	wal_close(t->log, NULL);
	btree_close(t->primary, NULL);
	for (int i = 0; i < t->nix; i++) {
		btree_close(t->ix[i].bt, NULL);
		if (t->ix[i].hx)
			hash_close(t->ix[i].hx, NULL);
	}
	env_unlock(t->lock);
	if (t->own_env)
		env_free(t->env);
	free(t->dir);
	free(t);
	return rc;
}

const char *table_errmsg(const table_t *t) { return t->err.msg; }

uint64_t table_structure_bytes(table_t *t, int index)
{
	if (index >= 0 && t->ix[index].kind == TABLE_HASH) {
		hash_stats_t hs;
		uint64_t overflow = 0;
		hash_get_stats(t->ix[index].hx, &hs);
		hash_load_factor(t->ix[index].hx, &overflow);
		return (hs.buckets + hs.chained_pages + overflow) * 4096;
	}
	btree_stats_t st;
	btree_get_stats(index < 0 ? t->primary : t->ix[index].bt, &st);
	if (st.pages_counted)
		return (st.leaf_pages + st.internal_pages + st.overflow_pages) * BTREE_DEFAULT_PAGE_SIZE;
	/* Too big to walk (over 64 Ki pages): the file's size, which a checkpoint has filled. */
	char path[4200];
	if (index < 0)
		snprintf(path, sizeof path, "%s/table-primary.db", t->dir);
	else
		snprintf(path, sizeof path, "%s/table-ix-%s.db", t->dir, t->ix[index].name);
	env_file_t *f;
	if (env_open(t->env, path, ENV_READ, &f, NULL) != SL_OK)
		return 0;
	uint64_t n = env_size(f);
	env_close(f, NULL);
	return n;
}

/* ---------------------------------------------------------------- writes */

/* A hash index's list of primary keys with `pk` added (add) or taken out. */
static int tb_hash_list(table_t *t, table_index_t *ix, sl_slice_t key, sl_slice_t pk, bool add,
			batch_t *b)
{
	buf_t list = BUF_INIT, out = BUF_INIT;
	int rc = hash_get(ix->hx, key, &list, &t->err);
	if (rc == SL_NOTFOUND)
		rc = SL_OK;
	/* Each primary key in the list is self-delimiting: walk it column by column. */
	const uint8_t *p = list.data, *end = list.data + list.len;
	table_value_t v;
	buf_t text = BUF_INIT;
	while (rc == SL_OK && p < end) {
		const uint8_t *start = p;
		for (int i = 0; i < t->npk && p; i++) {
			size_t n = tb_key_get(p, end, t->cols[t->pk[i]].type, &v, &text);
			p = n ? p + n : NULL;
		}
		if (p == NULL) {
			rc = sl_errf(&t->err, SL_CORRUPT, "table: index %s: a damaged list of keys",
				     ix->name);
			break;
		}
		if (!sl_slice_eq(sl_slice(start, (size_t)(p - start)), pk))
			buf_append(&out, start, (size_t)(p - start));
	}
	if (add)
		buf_append(&out, pk.data, pk.len);
	if (rc == SL_OK && out.len > HASH_MAX_VALUE)
		rc = sl_errf(&t->err, SL_INVALID, "table: index %s: more rows share these values than "
			     "a hash entry holds (%zu bytes of keys); use a B+tree index", ix->name,
			     out.len);
	if (rc == SL_OK && out.len)
		batch_put(b, key, buf_slice(&out));
	else if (rc == SL_OK)
		batch_del(b, key);
	buf_free(&text);
	buf_free(&list);
	buf_free(&out);
	return rc;
}

/* Index ix's part of a change from row old to row new (either NULL: insert, delete). */
static int tb_index_change(table_t *t, table_index_t *ix, const table_value_t *old,
			   const table_value_t *new_row, batch_t *b)
{
	bool was = old && tb_index_holds(ix, old), is = new_row && tb_index_holds(ix, new_row);
	buf_t ok = BUF_INIT, nk = BUF_INIT, pk = BUF_INIT, val = BUF_INIT;
	if (was)
		tb_index_key(t, ix, old, &ok);
	if (is)
		tb_index_key(t, ix, new_row, &nk);
	tb_primary_key(t, new_row ? new_row : old, &pk);
	bool same = was && is && sl_slice_eq(buf_slice(&ok), buf_slice(&nk));
	int rc = SL_OK;
	if (is && nk.len > TABLE_MAX_KEY)
		rc = sl_errf(&t->err, SL_INVALID, "table: index %s: an entry of %zu bytes; keys are "
			     "at most %u", ix->name, nk.len, TABLE_MAX_KEY);
	else if (ix->kind == TABLE_BTREE) {
		if (was && !same)
			batch_del(b, buf_slice(&ok));
		if (is) {
			tb_row_put(&val, new_row, ix->incl, ix->nincl);
			batch_put(b, buf_slice(&nk), buf_slice(&val));
		}
	} else if (!same) {
		if (was)
			rc = tb_hash_list(t, ix, buf_slice(&ok), buf_slice(&pk), false, b);
		if (rc == SL_OK && is)
			rc = tb_hash_list(t, ix, buf_slice(&nk), buf_slice(&pk), true, b);
	}
	buf_free(&ok);
	buf_free(&nk);
	buf_free(&pk);
	buf_free(&val);
	return rc;
}

/* One record of the log from the structures' batches (those with operations). */
static void tb_record(const batch_t *parts, int n, buf_t *rec)
{
	for (int s = 0; s < n; s++) {
		if (parts[s].count == 0)
			continue;
		uint8_t id = (uint8_t)s;
		buf_append(rec, &id, 1);
		codec_buf_put_varint(rec, parts[s].rep.len);
		buf_append(rec, parts[s].rep.data, parts[s].rep.len);
	}
}

/* Applies a log record to the structures. */
static int tb_apply(table_t *t, sl_slice_t rec)
{
	const uint8_t *p = rec.data, *end = rec.data + rec.len;
	int rc = SL_OK;
	while (rc == SL_OK && p < end) {
		uint8_t s = *p++;
		uint64_t len;
		size_t got = codec_get_varint(p, end, &len);
		if (s > t->nix || got == 0 || len > (uint64_t)(end - p - got))
			return sl_errf(&t->err, SL_CORRUPT, "table: a log record does not decode");
		batch_t b = { .rep = { (uint8_t *)p + got, (size_t)len, (size_t)len, false },
			      .count = len >= 4 ? codec_get_u32(p + got) : 0 };
		if (s == 0)
			rc = btree_write(t->primary, &b, &t->err);
		else if (t->ix[s - 1].kind == TABLE_BTREE)
			rc = btree_write(t->ix[s - 1].bt, &b, &t->err);
		else
			rc = hash_write(t->ix[s - 1].hx, &b, &t->err);
		p += got + len;
	}
	return rc;
}

/* Logs then applies the change old -> new_row (old NULL: insert; new_row NULL: delete). */
static int tb_change(table_t *t, const table_value_t *old, const table_value_t *new_row)
{
	batch_t parts[TABLE_MAX_INDEXES + 1];
	for (int s = 0; s <= t->nix; s++)
		batch_init(&parts[s]);
	buf_t key = BUF_INIT, val = BUF_INIT, rec = BUF_INIT;
	tb_primary_key(t, new_row ? new_row : old, &key);
	if (new_row) {
		tb_row_put(&val, new_row, NULL, t->ncols);
		batch_put(&parts[0], buf_slice(&key), buf_slice(&val));
	} else {
		batch_del(&parts[0], buf_slice(&key));
	}
	int rc = SL_OK;
	for (int i = 0; rc == SL_OK && i < t->nix; i++)
		rc = tb_index_change(t, &t->ix[i], old, new_row, &parts[1 + i]);
	if (rc == SL_OK) {
		tb_record(parts, t->nix + 1, &rec);
		rc = buf_ok(&rec) ? wal_append(t->log, rec.data, rec.len, t->sync == SL_SYNC_ALWAYS,
					       &t->err)
				  : sl_errf(&t->err, SL_NOMEM, "table: out of memory");
	}
	if (rc == SL_OK)
		rc = tb_apply(t, buf_slice(&rec));
	if (rc == SL_OK && wal_size(t->log) > TABLE_CHECKPOINT_BYTES)
		rc = tb_checkpoint(t);
	for (int s = 0; s <= t->nix; s++)
		batch_free(&parts[s]);
	buf_free(&key);
	buf_free(&val);
	buf_free(&rec);
	return rc;
}

/* A row's values must match its columns' types, and the primary key must not be NULL. */
static int tb_check_row(table_t *t, const table_value_t *row)
{
	for (int i = 0; i < t->ncols; i++)
		if (row[i].type != TABLE_NULL && row[i].type != t->cols[i].type)
			return sl_errf(&t->err, SL_INVALID, "table: column %s takes %s values",
				       t->cols[i].name, t->cols[i].type == TABLE_INT ? "INT"
						: t->cols[i].type == TABLE_FLOAT ? "FLOAT" : "TEXT");
	for (int i = 0; i < t->npk; i++)
		if (row[t->pk[i]].type == TABLE_NULL)
			return sl_errf(&t->err, SL_INVALID, "table: primary key column %s is NULL",
				       t->cols[t->pk[i]].name);
	buf_t key = BUF_INIT, val = BUF_INIT;
	tb_primary_key(t, row, &key);
	tb_row_put(&val, row, NULL, t->ncols);
	int rc = SL_OK;
	if (key.len > TABLE_MAX_KEY / 2)
		rc = sl_errf(&t->err, SL_INVALID, "table: a primary key of %zu bytes; at most %u",
			     key.len, TABLE_MAX_KEY / 2);
	else if (val.len > BTREE_MAX_VALUE)
		rc = sl_errf(&t->err, SL_INVALID, "table: a row of %zu bytes; at most %u", val.len,
			     BTREE_MAX_VALUE);
	buf_free(&key);
	buf_free(&val);
	return rc;
}

/* The row stored under row's primary key: SL_OK with old[] (TEXT into *bytes), or SL_NOTFOUND. */
static int tb_stored(table_t *t, const table_value_t *pkrow, table_value_t *old, buf_t *bytes)
{
	buf_t key = BUF_INIT;
	tb_primary_key(t, pkrow, &key);
	int rc = btree_get(t->primary, buf_slice(&key), bytes, &t->err);
	buf_free(&key);
	if (rc == SL_OK && tb_row_get(bytes->data, bytes->data + bytes->len, NULL, t->ncols, old) !=
				   SL_OK)
		rc = sl_errf(&t->err, SL_CORRUPT, "table: a stored row does not decode");
	return rc;
}

int table_insert(table_t *t, const table_value_t *row)
{
	table_value_t old[TABLE_MAX_COLUMNS];
	buf_t bytes = BUF_INIT;
	int rc = tb_check_row(t, row);
	if (rc == SL_OK) {
		rc = tb_stored(t, row, old, &bytes);
		rc = rc == SL_OK ? sl_errf(&t->err, SL_INVALID, "table: a row with that primary "
					   "key exists") : rc == SL_NOTFOUND ? SL_OK : rc;
	}
	if (rc == SL_OK)
		rc = tb_change(t, NULL, row);
	t->rows += rc == SL_OK;
	buf_free(&bytes);
	return rc;
}

int table_update(table_t *t, const table_value_t *row)
{
	table_value_t old[TABLE_MAX_COLUMNS];
	buf_t bytes = BUF_INIT;
	int rc = tb_check_row(t, row);
	if (rc == SL_OK)
		rc = tb_stored(t, row, old, &bytes);
	if (rc == SL_NOTFOUND)
		sl_errf(&t->err, SL_NOTFOUND, "table: no row with that primary key");
	if (rc == SL_OK)
		rc = tb_change(t, old, row);
	buf_free(&bytes);
	return rc;
}

int table_delete(table_t *t, const table_value_t *pk)
{
	table_value_t row[TABLE_MAX_COLUMNS], old[TABLE_MAX_COLUMNS];
	for (int i = 0; i < t->ncols; i++)
		row[i] = tv_null();
	for (int i = 0; i < t->npk; i++)
		row[t->pk[i]] = pk[i];
	buf_t bytes = BUF_INIT;
	int rc = tb_stored(t, row, old, &bytes);
	if (rc == SL_NOTFOUND)
		sl_errf(&t->err, SL_NOTFOUND, "table: no row with that primary key");
	if (rc == SL_OK)
		rc = tb_change(t, old, NULL);
	t->rows -= rc == SL_OK;
	buf_free(&bytes);
	return rc;
}

/* ---------------------------------------------------------------- check */

/* Whether hash index ix's list under key holds pk. */
static int tb_hash_has(table_t *t, table_index_t *ix, sl_slice_t key, sl_slice_t pk)
{
	buf_t list = BUF_INIT;
	int rc = hash_get(ix->hx, key, &list, &t->err);
	bool found = false;
	for (size_t i = 0; rc == SL_OK && !found && i + pk.len <= list.len; i++)
		found = memcmp(list.data + i, pk.data, pk.len) == 0;
	buf_free(&list);
	return rc == SL_OK && found ? SL_OK : SL_NOTFOUND;
}

/* Every row's entries are where they belong, with the right covered values. */
static int tb_check_rows(table_t *t, uint64_t *expected)
{
	btree_cursor_t *c;
	int rc = btree_seek(t->primary, NULL, &c, &t->err);
	buf_t key = BUF_INIT, pk = BUF_INIT, got = BUF_INIT, want = BUF_INIT;
	table_value_t row[TABLE_MAX_COLUMNS];
	while (rc == SL_OK && btree_cursor_valid(c)) {
		sl_slice_t v = btree_cursor_value(c);
		if (tb_row_get(v.data, v.data + v.len, NULL, t->ncols, row) != SL_OK)
			rc = sl_errf(&t->err, SL_CORRUPT, "table: a row does not decode");
		tb_primary_key(t, row, &pk);
		for (int i = 0; rc == SL_OK && i < t->nix; i++) {
			table_index_t *ix = &t->ix[i];
			if (!tb_index_holds(ix, row))
				continue;
			expected[i]++;
			tb_index_key(t, ix, row, &key);
			buf_clear(&want);
			tb_row_put(&want, row, ix->incl, ix->nincl);
			rc = ix->kind == TABLE_HASH ? tb_hash_has(t, ix, buf_slice(&key), buf_slice(&pk))
						    : btree_get(ix->bt, buf_slice(&key), &got, &t->err);
			if (rc == SL_OK && ix->kind == TABLE_BTREE && !sl_slice_eq(buf_slice(&got),
										buf_slice(&want)))
				rc = SL_NOTFOUND;
			if (rc == SL_NOTFOUND)
				rc = sl_errf(&t->err, SL_CORRUPT, "table: index %s lacks (or holds a "
					     "stale) entry for a row", ix->name);
		}
		if (rc == SL_OK)
			rc = btree_cursor_next(c, &t->err);
	}
	btree_cursor_close(c);
	buf_free(&key);
	buf_free(&pk);
	buf_free(&got);
	buf_free(&want);
	return rc;
}

/* Sums the primary keys held in one hash list. */
static int tb_count_list(void *ctx, sl_slice_t key, sl_slice_t value)
{
	(void)key;
	uint64_t *c = ctx;
	c[1] += value.len; /* bytes of keys; compared against the rows' keys' bytes */
	c[0]++;
	return SL_OK;
}

/* No index holds more entries than the rows imply. */
static int tb_check_counts(table_t *t, const uint64_t *expected, uint64_t pk_bytes_total[])
{
	for (int i = 0; i < t->nix; i++) {
		table_index_t *ix = &t->ix[i];
		uint64_t have = 0;
		if (ix->kind == TABLE_BTREE) {
			btree_stats_t st;
			btree_get_stats(ix->bt, &st);
			have = st.keys;
		} else {
			uint64_t c[2] = { 0, 0 };
			int rc = hash_foreach(ix->hx, tb_count_list, c, &t->err);
			if (rc != SL_OK)
				return rc;
			if (c[1] != pk_bytes_total[i])
				return sl_errf(&t->err, SL_CORRUPT, "table: index %s holds %" PRIu64
					       " bytes of primary keys; the rows imply %" PRIu64,
					       ix->name, c[1], pk_bytes_total[i]);
			continue;
		}
		if (have != expected[i])
			return sl_errf(&t->err, SL_CORRUPT, "table: index %s holds %" PRIu64
				       " entries; the rows imply %" PRIu64, ix->name, have, expected[i]);
	}
	return SL_OK;
}

/* The bytes of primary keys each hash index should hold, from the rows. */
static int tb_hash_bytes(table_t *t, uint64_t *bytes)
{
	btree_cursor_t *c;
	int rc = btree_seek(t->primary, NULL, &c, &t->err);
	table_value_t row[TABLE_MAX_COLUMNS];
	buf_t pk = BUF_INIT;
	while (rc == SL_OK && btree_cursor_valid(c)) {
		sl_slice_t v = btree_cursor_value(c);
		rc = tb_row_get(v.data, v.data + v.len, NULL, t->ncols, row);
		tb_primary_key(t, row, &pk);
		for (int i = 0; rc == SL_OK && i < t->nix; i++)
			if (t->ix[i].kind == TABLE_HASH && tb_index_holds(&t->ix[i], row))
				bytes[i] += pk.len;
		if (rc == SL_OK)
			rc = btree_cursor_next(c, &t->err);
	}
	btree_cursor_close(c);
	buf_free(&pk);
	return rc;
}

int table_check(table_t *t)
{
	int rc = btree_check(t->primary, &t->err);
	for (int i = 0; rc == SL_OK && i < t->nix; i++)
		rc = t->ix[i].bt ? btree_check(t->ix[i].bt, &t->err) : hash_check(t->ix[i].hx, &t->err);
	uint64_t expected[TABLE_MAX_INDEXES] = { 0 }, bytes[TABLE_MAX_INDEXES] = { 0 };
	if (rc == SL_OK)
		rc = tb_check_rows(t, expected);
	if (rc == SL_OK)
		rc = tb_hash_bytes(t, bytes);
	if (rc == SL_OK)
		rc = tb_check_counts(t, expected, bytes);
	return rc;
}
