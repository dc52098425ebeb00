/*
 * table_int.h — what table.c (schema, rows, writes, log, check) and
 * table_query.c (statistics, planner, execution, EXPLAIN) share.
 */
#ifndef SL_TABLE_INT_H
#define SL_TABLE_INT_H

#include "engine/wal.h"
#include "index/btree.h"
#include "index/hash.h"
#include "kv/table.h"

#define TABLE_NAME_MAX 32
#define TABLE_MCV 32        /* most common values kept per indexed column */
#define TABLE_HIST 32       /* histogram buckets per indexed numeric column */
#define TABLE_MAX_KEY 900   /* bytes of an index or primary key (the B+tree's limit is 1000) */

typedef struct table_col {
	char name[TABLE_NAME_MAX];
	table_type_t type;
} table_col_t;

typedef struct table_index {
	char name[TABLE_NAME_MAX];
	table_index_kind_t kind;
	int cols[TABLE_MAX_COLUMNS], ncols;
	int incl[TABLE_MAX_COLUMNS], nincl;
	int where_null;            /* partial: the column that must be NULL; -1 = every row */
	btree_t *bt;               /* TABLE_BTREE */
	hash_t *hx;                /* TABLE_HASH */
} table_index_t;

/* What table_analyze learned about one column. */
typedef struct table_colstats {
	uint64_t nulls, distinct;
	uint64_t mcv_hash[TABLE_MCV], mcv_count[TABLE_MCV]; /* by the value's key encoding */
	int nmcv;
	double hist[TABLE_HIST + 1]; /* numeric: equi-depth bucket bounds */
	bool has_hist;
} table_colstats_t;

struct table {
	char *dir;
	env_t *env;
	bool own_env;
	env_lock_t *lock;
	table_col_t cols[TABLE_MAX_COLUMNS];
	int ncols;
	int pk[TABLE_MAX_COLUMNS], npk;
	table_index_t ix[TABLE_MAX_INDEXES];
	int nix;
	btree_t *primary;
	wal_t *log;
	sl_sync_t sync;
	uint64_t rows;             /* live rows */
	sl_err_t err;
	/* statistics (table_analyze) */
	bool analyzed;
	table_colstats_t cs[TABLE_MAX_COLUMNS];
	double leaf_pages[TABLE_MAX_INDEXES + 1]; /* [0] primary, [1 + i] index i */
	double height[TABLE_MAX_INDEXES + 1];
};

/* ---- encodings (table.c) ---- */

/* Appends value v of a column as a key part: 00 for NULL, or 01 and its codec_key encoding. */
void tb_key_put(buf_t *b, const table_value_t *v);
/* Decodes one key part of a column of type `type`; TEXT bytes go to text. 0 when malformed. */
size_t tb_key_get(const uint8_t *p, const uint8_t *end, table_type_t type, table_value_t *v,
		  buf_t *text);
/* The key of row in the primary B+tree, and in B+tree index ix (columns, then the primary key). */
void tb_primary_key(const table_t *t, const table_value_t *row, buf_t *out);
void tb_index_key(const table_t *t, const table_index_t *ix, const table_value_t *row, buf_t *out);
/* A row's columns (all of them, or the n in cols) in the row encoding. */
void tb_row_put(buf_t *b, const table_value_t *row, const int *cols, int n);
/* Decodes the row encoding into row[cols[i]] (cols NULL: every column); TEXT points into p. */
int tb_row_get(const uint8_t *p, const uint8_t *end, const int *cols, int n, table_value_t *row);

/* Whether row belongs in index ix (a partial index holds only rows whose column is NULL). */
bool tb_index_holds(const table_index_t *ix, const table_value_t *row);

/* A value's ordering against another of the same column (NULL first), for sorting. */
int tb_value_cmp(const table_value_t *a, const table_value_t *b);

/* Parses "a,b" into column numbers; SL_INVALID naming an unknown column. */
int tb_parse_columns(const table_t *t, const char *list, int *cols, int *n, sl_err_t *err);

/* Pages the pool of structure s touched so far: [0] primary, [1 + i] index i. */
uint64_t tb_pages_touched(table_t *t, int s);

#endif
