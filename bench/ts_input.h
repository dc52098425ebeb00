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
#include "kv/ts.h"
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

/*
 * Points gathered from the input into batches for ts_add (or a benchmarked
 * store). The reader's series slices last only until its next line, so the
 * names are copied into one arena, and the samples point into it once the
 * batch is complete (ts_batch_samples). A line's points stay together: the
 * batch holds `target` points plus room for one more line.
 */
typedef struct ts_batch {
	ts_sample_t *p;
	uint64_t *lines;         /* the input line each point came from */
	uint32_t *off;           /* each point's series name in names */
	buf_t names;
	size_t n, target, cap;
} ts_batch_t;

bool ts_batch_init(ts_batch_t *b, size_t target);
void ts_batch_free(ts_batch_t *b);

/* Adds the current line's points; false when out of memory. */
bool ts_batch_add(ts_batch_t *b, const ts_input_t *in);

/* Whether the batch has reached its target and should be written. */
static inline bool ts_batch_full(const ts_batch_t *b) { return b->n >= b->target; }

/* The batch's samples, their series set (valid until the next add or clear). */
const ts_sample_t *ts_batch_samples(ts_batch_t *b);

static inline void ts_batch_clear(ts_batch_t *b)
{
	b->n = 0;
	buf_clear(&b->names);
}

#endif
