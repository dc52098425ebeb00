/*
 * table_query.c — statistics, the planner, query execution and EXPLAIN ANALYZE
 * for tables (see table.h).
 *
 * A query is planned in three steps a learner can follow in a debugger:
 *   tq_resolve   names become column numbers, values are type-checked;
 *   tq_plan      every access path is weighed (tq_weigh) and the cheapest
 *                usable one chosen, or the forced one checked;
 *   tq_run       the chosen path is walked: seek to the low bound, step to the
 *                high one, test every predicate, skip OFFSET rows, stop at LIMIT
 *                when the path yields ORDER BY's order (or sort in memory when
 *                it does not), and count pages, rows examined and returned.
 */
#include "kv/table_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/checksum.h"

enum { P_SCAN, P_PRIMARY, P_INDEX, P_HASH };

typedef struct tq_pred {
	int col;
	table_cmp_t op;
	table_value_t v;
} tq_pred_t;

/* One access path: its key columns, what the predicates bind, what it costs. */
typedef struct tq_path {
	int kind, ix;               /* P_*; the index for P_INDEX and P_HASH */
	int cols[2 * TABLE_MAX_COLUMNS], ncols;
	int neq;                    /* leading key columns bound by = or IS NULL */
	int lo, hi;                 /* predicates bounding column neq from below / above; -1 */
	bool index_only, ordered;
	table_path_est_t est;
} tq_path_t;

typedef struct tq_plan {
	tq_pred_t preds[TABLE_MAX_COLUMNS * 2];
	int npreds;
	int select[TABLE_MAX_COLUMNS], nselect;
	int order[TABLE_MAX_COLUMNS], norder;
	tq_path_t paths[TABLE_MAX_PATHS];
	int npaths, chosen;
} tq_plan_t;

static double tq_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- statistics */

/* Counts per distinct value (by the hash of its key encoding), open addressing. */
typedef struct tq_counts {
	uint64_t *hash, *count;
	size_t cap, n;
} tq_counts_t;

static int tq_counts_init(tq_counts_t *c, uint64_t rows)
{
	c->cap = 16;
	while (c->cap < 2 * rows + 16)
		c->cap *= 2;
	c->hash = calloc(c->cap, sizeof *c->hash);
	c->count = calloc(c->cap, sizeof *c->count);
	c->n = 0;
	return c->hash && c->count ? SL_OK : SL_NOMEM;
}

static void tq_counts_add(tq_counts_t *c, uint64_t h)
{
	h |= 1; /* 0 marks an empty slot */
	size_t i = h & (c->cap - 1);
	while (c->hash[i] != 0 && c->hash[i] != h)
		i = (i + 1) & (c->cap - 1);
	c->n += c->hash[i] == 0;
	c->hash[i] = h;
	c->count[i]++;
}

static void tq_counts_free(tq_counts_t *c)
{
	free(c->hash);
	free(c->count);
}

static uint64_t tq_value_hash(const table_value_t *v)
{
	buf_t b = BUF_INIT;
	tb_key_put(&b, v);
	uint64_t h = checksum_xxh3(b.data, b.len, 0) | 1;
	buf_free(&b);
	return h;
}

/* The most common values: the TABLE_MCV largest counts. */
static void tq_mcv(const tq_counts_t *c, table_colstats_t *cs)
{
	cs->nmcv = 0;
	for (size_t i = 0; i < c->cap; i++) {
		if (c->hash[i] == 0)
			continue;
		int at = cs->nmcv < TABLE_MCV ? cs->nmcv++ : TABLE_MCV - 1;
		if (at == TABLE_MCV - 1 && cs->nmcv == TABLE_MCV && c->count[i] <= cs->mcv_count[at])
			continue;
		while (at > 0 && cs->mcv_count[at - 1] < c->count[i]) {
			cs->mcv_hash[at] = cs->mcv_hash[at - 1];
			cs->mcv_count[at] = cs->mcv_count[at - 1];
			at--;
		}
		cs->mcv_hash[at] = c->hash[i];
		cs->mcv_count[at] = c->count[i];
	}
}

static int tq_double_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Whether column c leads or belongs to the primary key or an index. */
static bool tq_indexed(const table_t *t, int c)
{
	for (int i = 0; i < t->npk; i++)
		if (t->pk[i] == c)
			return true;
	for (int i = 0; i < t->nix; i++)
		for (int k = 0; k < t->ix[i].ncols; k++)
			if (t->ix[i].cols[k] == c)
				return true;
	return false;
}

/* Equi-depth bounds of a numeric column: TABLE_HIST buckets with as many values each. */
static void tq_histogram(double *vals, size_t n, table_colstats_t *cs)
{
	cs->has_hist = n > 0;
	if (n == 0)
		return;
	qsort(vals, n, sizeof *vals, tq_double_cmp);
	for (int b = 0; b <= TABLE_HIST; b++)
		cs->hist[b] = vals[b == TABLE_HIST ? n - 1 : (size_t)b * n / TABLE_HIST];
}

/* The structures' shapes: leaf pages and height (for the page estimates). */
static void tq_shapes(table_t *t)
{
	for (int s = 0; s <= t->nix; s++) {
		btree_t *bt = s == 0 ? t->primary : t->ix[s - 1].bt;
		if (bt == NULL) { /* a hash index: one bucket page per lookup */
			hash_stats_t hs;
			hash_get_stats(t->ix[s - 1].hx, &hs);
			t->leaf_pages[s] = (double)hs.buckets;
			t->height[s] = 1;
			continue;
		}
		btree_stats_t st;
		btree_get_stats(bt, &st);
		t->height[s] = st.height ? st.height : 1;
		t->leaf_pages[s] = st.pages_counted ? (double)st.leaf_pages
			: (double)table_structure_bytes(t, s - 1) / BTREE_DEFAULT_PAGE_SIZE * 0.99;
		if (t->leaf_pages[s] < 1)
			t->leaf_pages[s] = 1;
	}
}

int table_analyze(table_t *t)
{
	tq_counts_t counts[TABLE_MAX_COLUMNS];
	double *nums[TABLE_MAX_COLUMNS];
	size_t nnum[TABLE_MAX_COLUMNS] = { 0 };
	int rc = SL_OK;
	for (int c = 0; c < t->ncols; c++) {
		memset(&t->cs[c], 0, sizeof t->cs[c]);
		nums[c] = t->cols[c].type != TABLE_TEXT && tq_indexed(t, c)
				  ? malloc((t->rows + 1) * sizeof(double)) : NULL;
		if (tq_counts_init(&counts[c], t->rows) != SL_OK)
			rc = SL_NOMEM;
	}
	btree_cursor_t *cur = NULL;
	if (rc == SL_OK)
		rc = btree_seek(t->primary, NULL, &cur, &t->err);
	table_value_t row[TABLE_MAX_COLUMNS];
	while (rc == SL_OK && btree_cursor_valid(cur)) {
		sl_slice_t v = btree_cursor_value(cur);
		rc = tb_row_get(v.data, v.data + v.len, NULL, t->ncols, row);
		for (int c = 0; rc == SL_OK && c < t->ncols; c++) {
			if (row[c].type == TABLE_NULL) {
				t->cs[c].nulls++;
				continue;
			}
			tq_counts_add(&counts[c], tq_value_hash(&row[c]));
			if (nums[c] != NULL && nnum[c] <= t->rows)
				nums[c][nnum[c]++] = row[c].type == TABLE_INT ? (double)row[c].i : row[c].f;
		}
		if (rc == SL_OK)
			rc = btree_cursor_next(cur, &t->err);
	}
	btree_cursor_close(cur);
	for (int c = 0; c < t->ncols; c++) {
		if (rc == SL_OK) {
			t->cs[c].distinct = counts[c].n;
			tq_mcv(&counts[c], &t->cs[c]);
			tq_histogram(nums[c], nums[c] ? nnum[c] : 0, &t->cs[c]);
		}
		tq_counts_free(&counts[c]);
		free(nums[c]);
	}
	if (rc == SL_NOMEM)
		return sl_errf(&t->err, SL_NOMEM, "table: out of memory for statistics");
	if (rc == SL_OK) {
		tq_shapes(t);
		t->analyzed = true;
	}
	return rc;
}

/* ---------------------------------------------------------------- selectivity */

static double tq_rows(const table_t *t) { return t->rows ? (double)t->rows : 1; }

/* The share of rows whose column c equals v (NULL: IS NULL). */
static double tq_sel_eq(const table_t *t, int c, const table_value_t *v)
{
	const table_colstats_t *cs = &t->cs[c];
	double rows = tq_rows(t);
	if (!t->analyzed)
		return 0.05; /* no statistics: a guess, as every planner must */
	if (v->type == TABLE_NULL)
		return cs->nulls / rows;
	uint64_t h = tq_value_hash(v), common = 0;
	for (int i = 0; i < cs->nmcv; i++) {
		if (cs->mcv_hash[i] == h)
			return cs->mcv_count[i] / rows;
		common += cs->mcv_count[i];
	}
	double rest = rows - cs->nulls - (double)common;
	double others = cs->distinct > (uint64_t)cs->nmcv ? (double)(cs->distinct - cs->nmcv) : 1;
	return rest > 0 ? rest / others / rows : 0.5 / rows;
}

/* Where x falls in the histogram, as a share of the non-NULL values below it. */
static double tq_hist_at(const table_colstats_t *cs, double x)
{
	if (x <= cs->hist[0])
		return 0;
	if (x >= cs->hist[TABLE_HIST])
		return 1;
	int b = 0;
	while (b < TABLE_HIST && cs->hist[b + 1] < x)
		b++;
	double w = cs->hist[b + 1] - cs->hist[b];
	double in = w > 0 ? (x - cs->hist[b]) / w : 0.5;
	return (b + in) / TABLE_HIST;
}

static double tq_num(const table_value_t *v) { return v->type == TABLE_INT ? (double)v->i : v->f; }

/* The share of rows whose column c lies within the bounds lo / hi (each may be NULL). */
static double tq_sel_range(const table_t *t, int c, const tq_pred_t *lo, const tq_pred_t *hi)
{
	const table_colstats_t *cs = &t->cs[c];
	if (!t->analyzed || !cs->has_hist)
		return lo && hi ? 0.1 : 0.3;
	double from = lo ? tq_hist_at(cs, tq_num(&lo->v)) : 0;
	double to = hi ? tq_hist_at(cs, tq_num(&hi->v)) : 1;
	double nonnull = 1 - cs->nulls / tq_rows(t);
	double s = (to - from) * nonnull;
	return s > 0.5 / tq_rows(t) ? s : 0.5 / tq_rows(t);
}

/* ---------------------------------------------------------------- resolving */

static int tq_list(const table_t *t, const char *list, int *cols, int *n, sl_err_t *err)
{
	if (list == NULL) {
		*n = 0;
		return SL_OK;
	}
	return tb_parse_columns(t, list, cols, n, err);
}

static int tq_resolve(table_t *t, const table_query_t *q, tq_plan_t *pl)
{
	memset(pl, 0, sizeof *pl);
	if (q->nwhere > TABLE_MAX_COLUMNS * 2)
		return sl_errf(&t->err, SL_INVALID, "table: more than %d predicates",
			       TABLE_MAX_COLUMNS * 2);
	for (size_t i = 0; i < q->nwhere; i++) {
		const table_pred_t *p = &q->where[i];
		int c = p->column ? table_column(t, p->column) : -1;
		if (c < 0)
			return sl_errf(&t->err, SL_INVALID, "table: WHERE names no column '%s'",
				       p->column ? p->column : "(none)");
		bool nullness = p->op == TQ_IS_NULL || p->op == TQ_NOT_NULL;
		if ((unsigned)p->op > TQ_NOT_NULL ||
		    (!nullness && p->value.type != t->cols[c].type))
			return sl_errf(&t->err, SL_INVALID, "table: WHERE %s: compare with a value "
				       "of the column's type", p->column);
		pl->preds[pl->npreds++] = (tq_pred_t){ c, p->op, p->value };
	}
	int rc = tq_list(t, q->select, pl->select, &pl->nselect, &t->err);
	if (rc == SL_OK && q->select == NULL)
		for (int c = 0; c < t->ncols; c++)
			pl->select[pl->nselect++] = c;
	if (rc == SL_OK)
		rc = tq_list(t, q->order_by, pl->order, &pl->norder, &t->err);
	return rc;
}

static bool tq_holds(const tq_pred_t *p, const table_value_t *v)
{
	if (p->op == TQ_IS_NULL || p->op == TQ_NOT_NULL)
		return (v->type == TABLE_NULL) == (p->op == TQ_IS_NULL);
	if (v->type == TABLE_NULL)
		return false; /* a comparison with NULL is never true */
	int c = tb_value_cmp(v, &p->v);
	switch (p->op) {
	case TQ_EQ: return c == 0;
	case TQ_LT: return c < 0;
	case TQ_LE: return c <= 0;
	case TQ_GT: return c > 0;
	case TQ_GE: return c >= 0;
	default: return false;
	}
}

/* ---------------------------------------------------------------- weighing paths */

/* Binds the path's leading columns: equalities first, then one range. */
static void tq_bind(const tq_plan_t *pl, tq_path_t *p)
{
	p->lo = p->hi = -1;
	p->neq = 0;
	for (; p->neq < p->ncols; p->neq++) {
		int eq = -1;
		for (int i = 0; i < pl->npreds; i++)
			if (pl->preds[i].col == p->cols[p->neq] &&
			    (pl->preds[i].op == TQ_EQ || pl->preds[i].op == TQ_IS_NULL))
				eq = i;
		if (eq < 0)
			break;
	}
	if (p->neq == p->ncols)
		return;
	for (int i = 0; i < pl->npreds; i++) {
		if (pl->preds[i].col != p->cols[p->neq])
			continue;
		table_cmp_t op = pl->preds[i].op;
		if (op == TQ_GT || op == TQ_GE)
			p->lo = i;
		if (op == TQ_LT || op == TQ_LE)
			p->hi = i;
	}
}

/* Whether walking the path yields ORDER BY's order (columns bound by = may be skipped). */
static bool tq_orders(const tq_plan_t *pl, const tq_path_t *p)
{
	int at = p->neq;
	for (int i = 0; i < pl->norder; i++) {
		bool bound = false;
		for (int k = 0; k < p->neq; k++)
			bound = bound || p->cols[k] == pl->order[i];
		if (bound)
			continue;
		if (at >= p->ncols || p->cols[at] != pl->order[i])
			return false;
		at++;
	}
	return true;
}

/* Whether every column the query reads is in the index entry (its columns, included ones, the primary key). */
static bool tq_covers(const table_t *t, const tq_plan_t *pl, const table_index_t *ix)
{
	bool have[TABLE_MAX_COLUMNS] = { false };
	for (int k = 0; k < ix->ncols; k++)
		have[ix->cols[k]] = true;
	for (int k = 0; k < ix->nincl; k++)
		have[ix->incl[k]] = true;
	for (int k = 0; k < t->npk; k++)
		have[t->pk[k]] = true;
	for (int i = 0; i < pl->npreds; i++)
		if (!have[pl->preds[i].col])
			return false;
	for (int i = 0; i < pl->nselect; i++)
		if (!have[pl->select[i]])
			return false;
	for (int i = 0; i < pl->norder; i++)
		if (!have[pl->order[i]])
			return false;
	return ix->kind == TABLE_BTREE;
}

/* Whether the query asks only for rows a partial index holds (its column IS NULL). */
static bool tq_partial_ok(const tq_plan_t *pl, const table_index_t *ix)
{
	if (ix->where_null < 0)
		return true;
	for (int i = 0; i < pl->npreds; i++)
		if (pl->preds[i].col == ix->where_null && pl->preds[i].op == TQ_IS_NULL)
			return true;
	return false;
}

/* Rows the path examines: the structure's rows narrowed by what its bounds bind. */
static double tq_path_rows(const table_t *t, const tq_plan_t *pl, const tq_path_t *p)
{
	double rows = tq_rows(t);
	if (p->kind >= P_INDEX && t->ix[p->ix].where_null >= 0)
		rows *= t->analyzed ? t->cs[t->ix[p->ix].where_null].nulls / tq_rows(t) : 0.5;
	if (p->kind == P_SCAN)
		return rows;
	for (int k = 0; k < p->neq; k++)
		for (int i = 0; i < pl->npreds; i++)
			if (pl->preds[i].col == p->cols[k] &&
			    (pl->preds[i].op == TQ_EQ || pl->preds[i].op == TQ_IS_NULL)) {
				rows *= tq_sel_eq(t, p->cols[k], pl->preds[i].op == TQ_EQ
							 ? &pl->preds[i].v : &(table_value_t){ 0 });
				break;
			}
	if (p->lo >= 0 || p->hi >= 0)
		rows *= tq_sel_range(t, p->cols[p->neq], p->lo >= 0 ? &pl->preds[p->lo] : NULL,
				     p->hi >= 0 ? &pl->preds[p->hi] : NULL);
	return rows;
}

/* Pages the path touches for `rows` rows: the descent, the leaves, the row lookups. */
static double tq_path_pages(const table_t *t, const tq_path_t *p, double rows)
{
	int s = p->kind >= P_INDEX ? 1 + p->ix : 0;
	double per_leaf = tq_rows(t) / t->leaf_pages[s];
	double lookups = p->kind >= P_INDEX && !p->index_only ? rows * t->height[0] : 0;
	if (p->kind == P_HASH)
		return 1 + lookups;
	return t->height[s] + rows / (per_leaf > 1 ? per_leaf : 1) + lookups;
}

/* Estimates one path; est.usable false (and why, in its name) when it cannot answer. */
static void tq_weigh(const table_t *t, const table_query_t *q, const tq_plan_t *pl, tq_path_t *p)
{
	const table_index_t *ix = p->kind >= P_INDEX ? &t->ix[p->ix] : NULL;
	tq_bind(pl, p);
	if (p->kind == P_SCAN) /* it walks the primary tree in key order, bound by nothing */
		p->neq = 0, p->lo = p->hi = -1;
	p->ordered = pl->norder == 0 || (p->kind != P_HASH && tq_orders(pl, p));
	p->index_only = ix != NULL && tq_covers(t, pl, ix);
	const char *label = p->kind == P_SCAN ? "scan" : p->kind == P_PRIMARY ? "primary"
			    : p->kind == P_HASH ? "hash" : p->index_only ? "index-only" : "index";
	snprintf(p->est.name, sizeof p->est.name, "%s%s%s", label, ix ? " " : "", ix ? ix->name : "");
	bool bound = p->neq > 0 || p->lo >= 0 || p->hi >= 0;
	p->est.usable = p->kind == P_SCAN || (p->kind == P_HASH && p->neq == p->ncols) ||
			(p->kind != P_HASH && (bound || (pl->norder > 0 && p->ordered)));
	if (ix != NULL && !tq_partial_ok(pl, ix))
		p->est.usable = false;
	p->est.rows = tq_path_rows(t, pl, p);
	/* Walking in ORDER BY's order, LIMIT stops the walk early. */
	double need = p->est.rows;
	if (q->limit && p->ordered && q->offset + q->limit < need)
		need = (double)(q->offset + q->limit);
	p->est.pages = tq_path_pages(t, p, need);
	p->est.rows = need;
	p->est.cost = p->est.pages + TABLE_ROW_COST * need;
}

/* The candidate paths: scan, primary, then every index. */
static void tq_paths(const table_t *t, tq_plan_t *pl)
{
	tq_path_t *p = &pl->paths[pl->npaths++];
	p->kind = P_SCAN;
	for (int k = 0; k < t->npk; k++)
		p->cols[p->ncols++] = t->pk[k];
	p = &pl->paths[pl->npaths++];
	p->kind = P_PRIMARY;
	for (int k = 0; k < t->npk; k++)
		p->cols[p->ncols++] = t->pk[k];
	for (int i = 0; i < t->nix; i++) {
		p = &pl->paths[pl->npaths++];
		p->kind = t->ix[i].kind == TABLE_HASH ? P_HASH : P_INDEX;
		p->ix = i;
		for (int k = 0; k < t->ix[i].ncols; k++)
			p->cols[p->ncols++] = t->ix[i].cols[k];
		for (int k = 0; p->kind == P_INDEX && k < t->npk; k++)
			p->cols[p->ncols++] = t->pk[k];
	}
}

/* Whether path p is the one `force` names ("scan", "primary" or an index's name). */
static bool tq_named(const table_t *t, const tq_path_t *p, const char *force)
{
	if (p->kind == P_SCAN || p->kind == P_PRIMARY)
		return strcmp(force, p->kind == P_SCAN ? "scan" : "primary") == 0;
	return strcmp(force, t->ix[p->ix].name) == 0;
}

static int tq_plan(table_t *t, const table_query_t *q, tq_plan_t *pl)
{
	tq_paths(t, pl);
	if (!t->analyzed)
		tq_shapes(t);
	int forced = -1;
	if (q->after.len > 0)
		forced = q->after.data[0] < pl->npaths ? q->after.data[0] : -2;
	if (forced == -2)
		return sl_errf(&t->err, SL_INVALID, "table: the cursor names no path of this table");
	pl->chosen = -1;
	for (int i = 0; i < pl->npaths; i++) {
		tq_path_t *p = &pl->paths[i];
		tq_weigh(t, q, pl, p);
		if (q->force != NULL && forced < 0 && tq_named(t, p, q->force))
			forced = i;
		if (p->est.usable && (pl->chosen < 0 || p->est.cost < pl->paths[pl->chosen].est.cost))
			pl->chosen = i;
	}
	if (q->force != NULL && forced < 0)
		return sl_errf(&t->err, SL_INVALID, "table: no path named '%s' (scan, primary or "
			       "an index)", q->force);
	if (q->after.len > 0 && q->force != NULL && !tq_named(t, &pl->paths[forced], q->force))
		return sl_errf(&t->err, SL_INVALID, "table: the cursor belongs to path %s, not %s",
			       pl->paths[forced].est.name, q->force);
	if (forced >= 0 && !pl->paths[forced].est.usable)
		return sl_errf(&t->err, SL_INVALID, "table: path %s cannot answer this query (it "
			       "needs a condition on its first column, every column by = for a "
			       "hash, and IS NULL on a partial index's column)",
			       pl->paths[forced].est.name);
	if (forced >= 0)
		pl->chosen = forced;
	if (q->after.len > 0 && (pl->paths[pl->chosen].kind == P_HASH || !pl->paths[pl->chosen].ordered))
		return sl_errf(&t->err, SL_INVALID, "table: keyset pagination needs a path that "
			       "yields ORDER BY's order");
	return SL_OK;
}

/* ---------------------------------------------------------------- running */

/* The walk's state: where it is, what it found, what it may still return. */
typedef struct tq_run {
	table_t *t;
	const table_query_t *q;
	tq_plan_t *pl;
	tq_path_t *p;
	table_row_fn fn;
	void *ctx;
	table_result_t *res;
	uint64_t skip;              /* OFFSET rows still to skip */
	buf_t text[TABLE_MAX_COLUMNS]; /* TEXT values decoded from keys */
	buf_t row_bytes;            /* a row fetched from the primary tree */
	buf_t *sorted;              /* rows kept to sort (when the path does not order) */
	size_t nsorted, capsorted;
	bool done;
} tq_run_t;

/* Key bounds of the path's walk: [lo, hi); has_hi false = to the end. */
static void tq_bounds(const tq_run_t *r, buf_t *lo, buf_t *hi, bool *has_hi)
{
	const tq_plan_t *pl = r->pl;
	const tq_path_t *p = r->p;
	buf_clear(lo);
	for (int k = 0; k < p->neq; k++)
		for (int i = 0; i < pl->npreds; i++)
			if (pl->preds[i].col == p->cols[k] &&
			    (pl->preds[i].op == TQ_EQ || pl->preds[i].op == TQ_IS_NULL)) {
				table_value_t v = pl->preds[i].op == TQ_EQ ? pl->preds[i].v : tv_null();
				tb_key_put(lo, &v);
				break;
			}
	buf_set(hi, lo->data, lo->len);
	if (p->lo >= 0) {
		tb_key_put(lo, &pl->preds[p->lo].v);
		if (pl->preds[p->lo].op == TQ_GT)
			buf_append(lo, "\xff", 1); /* past every key that continues this value */
	} else if (p->hi >= 0) {
		buf_append(lo, "\x01", 1); /* a range excludes NULLs, which sort first */
	}
	if (p->hi >= 0) {
		tb_key_put(hi, &pl->preds[p->hi].v);
		if (pl->preds[p->hi].op == TQ_LE)
			buf_append(hi, "\xff", 1);
	} else if (hi->len > 0) {
		buf_append(hi, "\xff", 1); /* every key that starts with the bound prefix */
	}
	*has_hi = hi->len > 0;
}

static int tq_row_cmp(const void *a, const void *b, void *ctx);

/* Hands a matching row to the caller, after OFFSET, up to LIMIT. */
static int tq_emit(tq_run_t *r, const table_value_t *row, sl_slice_t key)
{
	if (r->skip > 0) {
		r->skip--;
		return SL_OK;
	}
	table_value_t out[TABLE_MAX_COLUMNS];
	for (int c = 0; c < r->t->ncols; c++)
		out[c] = tv_null();
	for (int i = 0; i < r->pl->nselect; i++)
		out[r->pl->select[i]] = row[r->pl->select[i]];
	r->res->rows_returned++;
	buf_clear(&r->res->cursor);
	uint8_t path = (uint8_t)(r->p - r->pl->paths);
	buf_append(&r->res->cursor, &path, 1);
	buf_append(&r->res->cursor, key.data, key.len);
	int rc = r->fn ? r->fn(r->ctx, out) : SL_OK;
	if (r->q->limit && r->res->rows_returned >= r->q->limit)
		r->done = true;
	return rc;
}

/* A row that passed every predicate: returned now, or kept to be sorted. */
static int tq_found(tq_run_t *r, const table_value_t *row, sl_slice_t key)
{
	if (r->p->ordered)
		return tq_emit(r, row, key);
	if (r->nsorted == r->capsorted) {
		size_t cap = r->capsorted ? 2 * r->capsorted : 64;
		buf_t *grown = realloc(r->sorted, cap * sizeof *grown);
		if (grown == NULL)
			return sl_errf(&r->t->err, SL_NOMEM, "table: out of memory to sort");
		r->sorted = grown;
		r->capsorted = cap;
	}
	r->sorted[r->nsorted] = (buf_t)BUF_INIT;
	tb_row_put(&r->sorted[r->nsorted++], row, NULL, r->t->ncols);
	return SL_OK;
}

/* Tests every predicate; rows that pass go on. */
static int tq_test(tq_run_t *r, const table_value_t *row, sl_slice_t key)
{
	r->res->rows_examined++;
	for (int i = 0; i < r->pl->npreds; i++)
		if (!tq_holds(&r->pl->preds[i], &row[r->pl->preds[i].col]))
			return SL_OK;
	return tq_found(r, row, key);
}

/* Fetches the row under primary key `pk` from the primary tree into row. */
static int tq_fetch(tq_run_t *r, sl_slice_t pk, table_value_t *row)
{
	int rc = btree_get(r->t->primary, pk, &r->row_bytes, &r->t->err);
	if (rc == SL_NOTFOUND)
		rc = sl_errf(&r->t->err, SL_CORRUPT, "table: an index names a row that is not there");
	if (rc == SL_OK)
		rc = tb_row_get(r->row_bytes.data, r->row_bytes.data + r->row_bytes.len, NULL,
				r->t->ncols, row);
	return rc == SL_CORRUPT && r->t->err.msg[0] == 0
		       ? sl_errf(&r->t->err, SL_CORRUPT, "table: a row does not decode") : rc;
}

/* An index entry: its columns and the primary key from the key, included columns from
 * the value; then, unless the index covers the query, the row itself. */
static int tq_index_entry(tq_run_t *r, sl_slice_t key, sl_slice_t value, table_value_t *row)
{
	const table_t *t = r->t;
	const table_index_t *ix = &t->ix[r->p->ix];
	for (int c = 0; c < t->ncols; c++)
		row[c] = tv_null();
	const uint8_t *p = key.data, *end = key.data + key.len, *pk = NULL;
	for (int k = 0; k < r->p->ncols && p; k++) {
		if (k == ix->ncols)
			pk = p;
		int c = r->p->cols[k];
		size_t n = tb_key_get(p, end, t->cols[c].type, &row[c], &r->text[c]);
		p = n ? p + n : NULL;
	}
	if (p == NULL || pk == NULL ||
	    tb_row_get(value.data, value.data + value.len, ix->incl, ix->nincl, row) != SL_OK)
		return sl_errf(&r->t->err, SL_CORRUPT, "table: index %s: an entry does not decode",
			       ix->name);
	return r->p->index_only ? SL_OK : tq_fetch(r, sl_slice(pk, (size_t)(end - pk)), row);
}

/* Walks a B+tree path (scan, primary or index) from its low bound to its high one. */
static int tq_walk(tq_run_t *r)
{
	btree_t *bt = r->p->kind >= P_INDEX ? r->t->ix[r->p->ix].bt : r->t->primary;
	buf_t lo = BUF_INIT, hi = BUF_INIT;
	bool has_hi;
	tq_bounds(r, &lo, &hi, &has_hi);
	sl_slice_t after = r->q->after.len ? sl_slice(r->q->after.data + 1, r->q->after.len - 1)
					   : sl_slice(NULL, 0);
	sl_slice_t start = after.len && sl_slice_cmp(after, buf_slice(&lo)) > 0 ? after
										  : buf_slice(&lo);
	btree_cursor_t *c;
	int rc = btree_seek(bt, &start, &c, &r->t->err);
	table_value_t row[TABLE_MAX_COLUMNS];
	while (rc == SL_OK && !r->done && btree_cursor_valid(c)) {
		sl_slice_t key = btree_cursor_key(c), value = btree_cursor_value(c);
		if (has_hi && sl_slice_cmp(key, buf_slice(&hi)) >= 0)
			break;
		if (after.len && sl_slice_cmp(key, after) <= 0) {
			rc = btree_cursor_next(c, &r->t->err); /* the previous page's last row */
			continue;
		}
		if (r->p->kind >= P_INDEX)
			rc = tq_index_entry(r, key, value, row);
		else if (tb_row_get(value.data, value.data + value.len, NULL, r->t->ncols, row) != SL_OK)
			rc = sl_errf(&r->t->err, SL_CORRUPT, "table: a row does not decode");
		if (rc == SL_OK)
			rc = tq_test(r, row, key);
		if (rc == SL_OK)
			rc = btree_cursor_next(c, &r->t->err);
	}
	btree_cursor_close(c);
	buf_free(&lo);
	buf_free(&hi);
	return rc;
}

/* A hash path: the list of primary keys under the values, each row fetched. */
static int tq_hash(tq_run_t *r)
{
	const table_t *t = r->t;
	buf_t key = BUF_INIT, list = BUF_INIT;
	bool has_hi;
	buf_t hi = BUF_INIT;
	tq_bounds(r, &key, &hi, &has_hi);
	int rc = hash_get(t->ix[r->p->ix].hx, buf_slice(&key), &list, &r->t->err);
	if (rc == SL_NOTFOUND)
		rc = SL_OK;
	const uint8_t *p = list.data, *end = list.data + list.len;
	table_value_t row[TABLE_MAX_COLUMNS], v;
	while (rc == SL_OK && !r->done && p < end) {
		const uint8_t *start = p;
		for (int k = 0; k < t->npk && p; k++) {
			size_t n = tb_key_get(p, end, t->cols[t->pk[k]].type, &v, &r->text[0]);
			p = n ? p + n : NULL;
		}
		if (p == NULL) {
			rc = sl_errf(&r->t->err, SL_CORRUPT, "table: a hash entry does not decode");
			break;
		}
		sl_slice_t pk = sl_slice(start, (size_t)(p - start));
		rc = tq_fetch(r, pk, row);
		if (rc == SL_OK)
			rc = tq_test(r, row, pk);
	}
	buf_free(&key);
	buf_free(&hi);
	buf_free(&list);
	return rc;
}

static int tq_row_cmp(const void *a, const void *b, void *ctx)
{
	const tq_run_t *r = ctx;
	table_value_t x[TABLE_MAX_COLUMNS], y[TABLE_MAX_COLUMNS];
	const buf_t *ba = a, *bb = b;
	tb_row_get(ba->data, ba->data + ba->len, NULL, r->t->ncols, x);
	tb_row_get(bb->data, bb->data + bb->len, NULL, r->t->ncols, y);
	for (int i = 0; i < r->pl->norder; i++) {
		int c = tb_value_cmp(&x[r->pl->order[i]], &y[r->pl->order[i]]);
		if (c != 0)
			return c;
	}
	return 0;
}

/* Rows the path could not give in order: sorted, then OFFSET and LIMIT applied. */
static int tq_sort_and_emit(tq_run_t *r)
{
	if (r->nsorted > 1)
		qsort_r(r->sorted, r->nsorted, sizeof *r->sorted, tq_row_cmp, r);
	r->res->sorted = r->nsorted > 0;
	int rc = SL_OK;
	table_value_t row[TABLE_MAX_COLUMNS];
	for (size_t i = 0; rc == SL_OK && !r->done && i < r->nsorted; i++) {
		tb_row_get(r->sorted[i].data, r->sorted[i].data + r->sorted[i].len, NULL, r->t->ncols,
			   row);
		rc = tq_emit(r, row, sl_slice(NULL, 0));
	}
	buf_clear(&r->res->cursor); /* no cursor: the order came from a sort */
	return rc;
}

static void tq_run_free(tq_run_t *r)
{
	for (int c = 0; c < TABLE_MAX_COLUMNS; c++)
		buf_free(&r->text[c]);
	buf_free(&r->row_bytes);
	for (size_t i = 0; i < r->nsorted; i++)
		buf_free(&r->sorted[i]);
	free(r->sorted);
}

int table_query(table_t *t, const table_query_t *q, table_row_fn fn, void *ctx,
		table_result_t *res)
{
	memset(res, 0, sizeof *res);
	static tq_plan_t pl; /* large; a table handle is used by one thread at a time */
	int rc = tq_resolve(t, q, &pl);
	if (rc == SL_OK)
		rc = tq_plan(t, q, &pl);
	if (rc != SL_OK)
		return rc;
	res->chosen = pl.paths[pl.chosen].est;
	for (int i = 0; i < pl.npaths; i++)
		res->paths[res->npaths++] = pl.paths[i].est;
	uint64_t before[TABLE_MAX_INDEXES + 1];
	for (int s = 0; s <= t->nix; s++)
		before[s] = tb_pages_touched(t, s);
	tq_run_t r = { .t = t, .q = q, .pl = &pl, .p = &pl.paths[pl.chosen], .fn = fn,
		       .ctx = ctx, .res = res, .skip = q->offset };
	double t0 = tq_now();
	rc = r.p->kind == P_HASH ? tq_hash(&r) : tq_walk(&r);
	if (rc == SL_OK && !r.p->ordered)
		rc = tq_sort_and_emit(&r);
	res->seconds = tq_now() - t0;
	res->table_pages = tb_pages_touched(t, 0) - before[0];
	for (int s = 1; s <= t->nix; s++)
		res->index_pages += tb_pages_touched(t, s) - before[s];
	tq_run_free(&r);
	return rc;
}

void table_result_free(table_result_t *res)
{
	buf_free(&res->cursor);
}

void table_explain(const table_result_t *res, FILE *out)
{
	fprintf(out, "plan:    %-28s est. %.0f pages, %.0f rows, cost %.0f\n", res->chosen.name,
		res->chosen.pages, res->chosen.rows, res->chosen.cost);
	for (size_t i = 0; i < res->npaths; i++) {
		const table_path_est_t *p = &res->paths[i];
		if (strcmp(p->name, res->chosen.name) == 0)
			continue;
		if (p->usable)
			fprintf(out, "  also:  %-28s est. %.0f pages, %.0f rows, cost %.0f\n", p->name,
				p->pages, p->rows, p->cost);
		else
			fprintf(out, "  also:  %-28s cannot answer this query\n", p->name);
	}
	fprintf(out, "actual:  %llu pages (index %llu, table %llu), %llu rows examined, "
		"%llu returned%s, %.3f ms\n",
		(unsigned long long)(res->index_pages + res->table_pages),
		(unsigned long long)res->index_pages, (unsigned long long)res->table_pages,
		(unsigned long long)res->rows_examined, (unsigned long long)res->rows_returned,
		res->sorted ? " (sorted in memory)" : "", res->seconds * 1000);
}
