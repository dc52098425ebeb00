/*
 * table.h — tables with secondary indexes on the kit's B+tree and hash index,
 * a planner that picks an access path from statistics, and EXPLAIN ANALYZE.
 *
 * A table has a fixed schema of typed, nullable columns (INT: int64, FLOAT:
 * double, TEXT: bytes) and a primary key of one or more columns. Its rows live
 * in a primary B+tree clustered by that key; each secondary index is a B+tree
 * on a column list (optionally covering more columns, optionally partial: only
 * rows whose given column IS NULL — the soft-delete pattern), or a hash index
 * on a column list, for equality only. An insert, update or delete changes the
 * row and every index entry it implies in one record of the table's log, so a
 * crash never leaves an index out of step with the rows.
 *
 * Keys are order-preserving encodings (engine/codec's codec_key_*), so a
 * B+tree over them sorts as the values do:
 *
 *   column in a key   00 for NULL, or 01 then the value: INT codec_key_put_i64,
 *                     FLOAT codec_key_put_f64, TEXT codec_key_put_bytes —
 *                     NULL sorts first, and each column ends where its decoder
 *                     says, so a tuple compares column by column
 *   primary entry     key: the primary key's columns; value: the row
 *   B+tree index      key: the index's columns, then the primary key's (unique
 *                     even when the columns repeat); value: the covered columns
 *                     (empty when none) — an index-only scan reads nothing else
 *   hash index        key: the index's columns; value: the primary keys of every
 *                     row with those values, one after another
 *   a row / covered   per column: a type byte (0 NULL, 1 INT, 2 FLOAT, 3 TEXT),
 *   columns           then INT: zigzag varint, FLOAT: 8 bytes little-endian,
 *                     TEXT: varint length + bytes
 *
 * Files in the table's directory:
 *
 *   LOCK                 flock'ed while open
 *   table.schema         "SLTABLE1" and a newline, the definition as canonical
 *                        text (a line per column, the primary key, a line per
 *                        index), then the XXH3 of all before it, 16 hex digits
 *   table.log            the redo log (engine/wal): one record per row change,
 *                        holding every structure's part of it (storelab inspect
 *                        lists the parts of each):
 *                          per part: structure (u8: 0 primary, 1 + index number)
 *                                    | varint length | batch (engine/batch.h)
 *   table-primary.db     the primary B+tree
 *   table-ix-NAME.db     a B+tree index; table-ix-NAME.hash a hash index
 *
 * Durability: the log follows the sync level; the structures run at level none
 * behind it. A change is logged, then applied; when the log passes 8 MiB (and
 * at close) every structure is synced and the log emptied. An open replays the
 * whole log: every operation in it is a blind put or delete of a whole entry,
 * so replaying it over structures that hold any prefix of it ends in the same
 * state — the state after the last record.
 *
 * Queries (table_query) are conjunctions of column comparisons with a
 * projection, ORDER BY columns, LIMIT, OFFSET and keyset pagination (`after`
 * the cursor a previous page returned). table_analyze gathers the planner's
 * statistics: rows; per column the distinct and NULL counts and the most
 * common values; per indexed numeric column an equi-depth histogram of 32
 * buckets. The planner estimates the pages each usable path would touch and
 * the rows it would test — a full scan, the primary key, each index,
 * index-only when the index covers the query — picks the cheapest (pages +
 * TABLE_ROW_COST x rows) and reports all of them; the result then holds what
 * the query really touched, beside the estimate.
 */
#ifndef SL_TABLE_H
#define SL_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/buf.h"
#include "engine/env.h"
#include "engine/slice.h"
#include "engine/status.h"

#define TABLE_SCHEMA_MAGIC "SLTABLE1" /* table.schema's first 8 bytes */
#define TABLE_MAX_COLUMNS 32
#define TABLE_MAX_INDEXES 16
#define TABLE_MAX_PATHS (TABLE_MAX_INDEXES + 2)
/*
 * The planner's price of decoding and testing one row, in page touches. With the
 * pages in the pool, a touch costs a fraction of a microsecond, and so does a row:
 * measured on the rides lab, a scan spent ~0.09 us per row and an index lookup
 * ~0.2 us per page touched, so a row is worth about a quarter of a page — which
 * is why an index that returns 0.5 % of the rows beats a scan that touches fewer
 * pages but tests every row.
 */
#define TABLE_ROW_COST 0.25

typedef enum table_type {
	TABLE_NULL = 0, /* a value's type when it is NULL; on disk — never renumber */
	TABLE_INT = 1,
	TABLE_FLOAT = 2,
	TABLE_TEXT = 3,
} table_type_t;

typedef struct table_value {
	table_type_t type; /* TABLE_NULL for NULL */
	int64_t i;
	double f;
	sl_slice_t s;
} table_value_t;

static inline table_value_t tv_null(void) { return (table_value_t){ TABLE_NULL, 0, 0, { 0 } }; }
static inline table_value_t tv_int(int64_t v) { return (table_value_t){ TABLE_INT, v, 0, { 0 } }; }
static inline table_value_t tv_float(double v) { return (table_value_t){ TABLE_FLOAT, 0, v, { 0 } }; }
static inline table_value_t tv_text(sl_slice_t v) { return (table_value_t){ TABLE_TEXT, 0, 0, v }; }

typedef enum table_index_kind { TABLE_BTREE, TABLE_HASH } table_index_kind_t;

typedef struct table_index_def {
	const char *name;         /* letters, digits, '_' */
	table_index_kind_t kind;
	const char *columns;      /* "city,start_time" */
	const char *include;      /* B+tree: more columns kept in each entry (covering); NULL = none */
	const char *where_null;   /* partial: only rows where this column IS NULL; NULL = all rows */
} table_index_def_t;

typedef struct table_def {
	const char *columns;      /* "id INT, city TEXT, fare FLOAT, deleted_at INT" */
	const char *primary_key;  /* "id", or several: "rider,id" */
	const table_index_def_t *indexes;
	size_t nindexes;
} table_def_t;

typedef struct table_opts {
	sl_sync_t sync;           /* of the table's log */
	uint64_t cache_bytes;     /* each structure's buffer pool; 0 = the pager's default */
	bool create;              /* make the table when the directory holds none */
	env_t *env;               /* NULL = the table makes its own */
} table_opts_t;

typedef struct table table_t;

/*
 * Opens the table in dir (creating it with opts->create), replaying its log.
 * def must describe it: an existing table made with another definition is
 * SL_INVALID, naming the difference. A bad definition is SL_INVALID naming
 * what is wrong (an unknown type or column, a duplicate name, a hash index
 * with included columns, ...).
 */
int table_open(const char *dir, const table_def_t *def, const table_opts_t *opts, table_t **out,
	       sl_err_t *err);
int table_close(table_t *t);
const char *table_errmsg(const table_t *t);

/* The number of columns, and the index of column `name` (-1 when none). */
int table_columns(const table_t *t);
int table_column(const table_t *t, const char *name);

/*
 * Row changes; row holds a value per column, in schema order (a value of the
 * wrong type is SL_INVALID). insert: SL_INVALID when the primary key exists;
 * update: replaces the row with the same primary key, SL_NOTFOUND when none;
 * delete: pk holds the primary key's values, in its order.
 */
int table_insert(table_t *t, const table_value_t *row);
int table_update(table_t *t, const table_value_t *row);
int table_delete(table_t *t, const table_value_t *pk);

/* Gathers the planner's statistics by reading the whole table. */
int table_analyze(table_t *t);

/* Every index holds exactly the entries the rows imply, and nothing else. */
int table_check(table_t *t);

/* ---- queries ---- */

typedef enum table_cmp { TQ_EQ, TQ_LT, TQ_LE, TQ_GT, TQ_GE, TQ_IS_NULL, TQ_NOT_NULL } table_cmp_t;

typedef struct table_pred {
	const char *column;
	table_cmp_t op;
	table_value_t value;      /* unused by IS NULL and IS NOT NULL */
} table_pred_t;

typedef struct table_query {
	const table_pred_t *where; /* all must hold */
	size_t nwhere;
	const char *select;       /* the columns wanted; NULL = all */
	const char *order_by;     /* ascending, by these columns; NULL = any order */
	uint64_t limit;           /* 0 = no limit */
	uint64_t offset;          /* rows to skip first */
	sl_slice_t after;         /* keyset pagination: a previous result's cursor */
	const char *force;        /* "scan", "primary" or an index's name; NULL = the planner's */
} table_query_t;

/* One access path the planner weighed. */
typedef struct table_path_est {
	char name[64];            /* "scan", "primary", "index ix", "index-only ix", "hash ix" */
	double pages, rows;       /* estimated pages touched, rows examined */
	double cost;              /* pages + TABLE_ROW_COST x rows: what the planner minimises */
	bool usable;              /* false: it cannot answer the query (reason in name) */
} table_path_est_t;

typedef struct table_result {
	table_path_est_t chosen;
	table_path_est_t paths[TABLE_MAX_PATHS];
	size_t npaths;
	uint64_t index_pages;     /* pages touched in index structures (pool hits + reads) */
	uint64_t table_pages;     /* pages touched in the primary B+tree */
	uint64_t rows_examined;   /* entries read and tested */
	uint64_t rows_returned;
	bool sorted;              /* no path gave ORDER BY's order: rows were sorted in memory */
	double seconds;
	buf_t cursor;             /* pass as the next query's `after` for the next page */
} table_result_t;

/* Called for each result row: row[c] for every column c; columns not selected are NULL. */
typedef int (*table_row_fn)(void *ctx, const table_value_t *row);

/* Plans, runs and measures q; fn may be NULL (count only). Release res with table_result_free. */
int table_query(table_t *t, const table_query_t *q, table_row_fn fn, void *ctx,
		table_result_t *res);
void table_result_free(table_result_t *res);

/* EXPLAIN ANALYZE: the chosen path, the alternatives, then what was measured. */
void table_explain(const table_result_t *res, FILE *out);

/* Bytes of the pages the primary (index -1) or index i occupies (its pages times
 * the page size: the pages may still sit in the pool and the log, not the file). */
uint64_t table_structure_bytes(table_t *t, int index);

#endif
