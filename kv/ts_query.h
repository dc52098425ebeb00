/*
 * ts_query.h — range queries over the time-series store: a selector, a time
 * range cut into steps, and an aggregate per step.
 *
 *   ts query DIR 'cpu{mode="user"}' --from T --to T --step 1m --agg avg
 *
 * reads the selected series' points in [from, to) (kv/ts.h: only the chunks
 * that overlap are decoded) and, per series, folds the points of each window
 * [from + k*step, from + (k+1)*step) into one number:
 *
 *   min, max, sum, count, avg, last   of the window's values
 *   rate   the counter's increase per second between the window's first and
 *          last points: the sum of the rises from point to point, where a
 *          fall is a counter reset and the new value is the rise (as
 *          Prometheus counts it), divided by the time between those points.
 *          A window needs two points; unlike Prometheus's rate() it does not
 *          extrapolate to the window's edges.
 *
 * A window without points has no value (not zero). Across series, the per-
 * series values of each window are combined again (sum, min, max, avg,
 * count) into one row per group of series that share the values of the
 * `by` labels — PromQL's `sum by (host) (rate(...))` — or into one row for
 * all series when no label is given.
 */
#ifndef SL_TS_QUERY_H
#define SL_TS_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv/ts.h"

typedef enum ts_agg {
	TS_AGG_MIN, TS_AGG_MAX, TS_AGG_SUM, TS_AGG_COUNT, TS_AGG_AVG, TS_AGG_LAST, TS_AGG_RATE,
	TS_AGG_NONE, /* across: no combining, one row per series */
} ts_agg_t;

/* "min", "max", ... "rate" (and "none"); false for anything else. */
bool ts_agg_parse(const char *text, ts_agg_t *out);
const char *ts_agg_name(ts_agg_t agg);

#define TS_QUERY_MAX_CELLS (1u << 26) /* rows x steps a result may hold */

typedef struct ts_query {
	const char *selector;
	int64_t from, to;       /* [from, to), in the store's unit */
	int64_t step;           /* > 0; 0 = one window for the whole range */
	ts_agg_t agg;           /* per series and window (not TS_AGG_NONE) */
	ts_agg_t across;        /* sum, min, max, avg or count over series; TS_AGG_NONE: per series */
	const char *by;         /* with across: comma-separated label names; NULL or "" = one group */
} ts_query_t;

typedef struct ts_result {
	size_t rows, steps;
	char **names;           /* per row: the series (canonical), or the group as {l="v",...} */
	double *v;              /* rows x steps, row-major */
	uint8_t *has;           /* the same: 1 where the window has a value */
	int64_t from, step;     /* window k starts at from + k * step */
	ts_read_stats_t st;
} ts_result_t;

/* Runs q into res (the caller frees it with ts_result_free, also after an error). */
int ts_query_run(ts_t *db, const ts_query_t *q, ts_result_t *res, sl_err_t *err);
void ts_result_free(ts_result_t *res);

#endif
