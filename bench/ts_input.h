/*
 * ts_input.h — reading points from a file: CSV (`timestamp,series,value`
 * after a header line) or the InfluxDB line protocol (kv/ts_parse.h reads
 * each line). `storelab ts ingest` and `bench --suite ts` read through this,
 * so both report a bad line the same way: "FILE:LINE: why".
 *
 * A CSV file names the same few hundred series again on every line, and
 * putting a series in canonical form (parse, sort the labels, escape) costs
 * more than the rest of the line; so the reader keeps a table from each
 * series as written to its canonical form, and parses a name only the first
 * time it sees it.
 */
#ifndef SL_TS_INPUT_H
#define SL_TS_INPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/buf.h"
#include "engine/slice.h"
#include "kv/ts_parse.h"

typedef struct ts_canon ts_canon_t;

typedef struct ts_input {
	FILE *f;
	const char *path;
	bool lp;                 /* line protocol, else CSV */
	ts_unit_t given, store;  /* the timestamps' unit (or auto) and the store's */
	uint64_t line;           /* the line read last, from 1 */
	uint64_t bytes, size;    /* read so far, and the file's size (0 when unknown) */
	char *lbuf;
	size_t lcap;
	/* The current line's points (a line-protocol line has one per field). */
	size_t n;
	int64_t ts;
	double v[TS_LP_MAX_FIELDS];
	sl_slice_t series[TS_LP_MAX_FIELDS]; /* canonical; valid until the next call */
	buf_t lpser[TS_LP_MAX_FIELDS];
	uint64_t seen[4];        /* timestamps read in s, ms, us, ns */
	ts_canon_t *canon;
	char error[512];
} ts_input_t;

/*
 * Opens path ("-" = stdin) as format "csv", "lp" or NULL (CSV when the first
 * line is the header timestamp,series,value, else line protocol). false with
 * a message in in->error.
 */
bool ts_input_open(ts_input_t *in, const char *path, const char *format, ts_unit_t given,
		   ts_unit_t store);

/*
 * The next line's points: 1 (in->n >= 1 points), 0 at the end, -1 for a
 * malformed line (in->error says FILE:LINE: why; reading may go on), -2 for a
 * read error.
 */
int ts_input_next(ts_input_t *in);

void ts_input_close(ts_input_t *in);

#endif
