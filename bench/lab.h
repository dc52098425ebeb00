/*
 * lab.h — `storelab lab`: design lessons answered by measurement.
 *
 *   storelab lab shard [--keys N] [--nodes N] [--seed S] [--dir DIR] [--format text|markdown]
 *   storelab lab rides [--rows N] [--seed S] [--dir DIR] [--format text|markdown]
 *
 * A lab builds real stores, runs a scripted series of questions on them and
 * prints, for each, a small table and a one-line conclusion drawn from the
 * numbers it just measured (never written in advance). `--format markdown`
 * prints the same tables as Markdown, which is how docs/sharding.md was made.
 *
 * The tables share one printer (lab_table_*), so every lab reads alike.
 */
#ifndef SL_LAB_H
#define SL_LAB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

int lab_main(int argc, char **argv);

/* What every lab takes from the command line. */
typedef struct lab_cfg {
	uint64_t keys;     /* the data size (shard: keys; rides: trips) */
	uint32_t nodes;    /* shard: the node count most lessons use */
	uint64_t seed;
	const char *dir;   /* where the scratch stores go (a fresh folder inside it) */
	bool markdown;     /* tables as Markdown instead of aligned text */
	char work[4096];   /* the scratch folder, made by lab_main and removed after */
} lab_cfg_t;

/* ---- tables ---- */

#define LAB_MAX_COLS 9
#define LAB_MAX_ROWS 16

typedef struct lab_table {
	const char *title;
	const char *head[LAB_MAX_COLS];
	char cell[LAB_MAX_ROWS][LAB_MAX_COLS][40];
	int ncols, nrows;
} lab_table_t;

/* Starts a table with a title and column heads (NULL-terminated). */
void lab_table_init(lab_table_t *t, const char *title, const char *const *heads);
/* Appends a row; cells are printf-formatted one by one with lab_cell. */
int lab_table_row(lab_table_t *t);
void lab_cell(lab_table_t *t, int row, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Prints the table, then the conclusion line (printf-formatted). */
void lab_table_print(const lab_table_t *t, const lab_cfg_t *cfg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The sharding lab (bench/lab_shard.c). */
int lab_shard(const lab_cfg_t *cfg);

/* The index design lab (bench/lab_rides.c): cfg->keys trips. */
int lab_rides(const lab_cfg_t *cfg);

#endif
