/*
 * tsv.h — reading a corpus: one document per line, `id<TAB>text`.
 *
 * The commands that index (storelab index, bench --suite fts) read corpora
 * through this, so every one reports a bad line the same way: with the file
 * name, the line number and what is wrong — no tab, an empty or over-long id,
 * text that is not UTF-8 (with the byte offset in the line). A line ends at
 * "\n" (a "\r" before it is dropped); the last may lack it.
 */
#ifndef SL_TSV_H
#define SL_TSV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/slice.h"

typedef struct tsv {
	FILE *f;
	const char *path;
	uint64_t line;           /* number of the line read last, from 1 */
	uint64_t bytes;          /* bytes read so far (for a progress bar) */
	uint64_t size;           /* the file's size, 0 when unknown */
	char *line_buf;          /* getline's buffer */
	size_t line_cap;
	sl_slice_t id, text;     /* the current document (into buf) */
	char error[256];         /* why the current line is bad, "" when it is fine */
} tsv_t;

/* Opens path; false with a message in t->error when it cannot be read. */
bool tsv_open(tsv_t *t, const char *path);

/*
 * Reads the next line: 1 for a document (id, text set), 0 at the end, -1 for a
 * malformed line (t->error says "FILE:LINE: why"; reading may go on) and -2 for
 * a read error.
 */
int tsv_next(tsv_t *t);

void tsv_close(tsv_t *t);

#endif
