/*
 * ts_down.h — downsampling: old points kept as per-interval summaries.
 *
 * Nobody reads last month's CPU at 100 ms. A store opened with a downsampling
 * age rewrites each segment older than it as one summary per series and
 * interval (5 minutes by default): how many points there were, their sum,
 * minimum and maximum, the first and the last point (time and value), and the
 * rise — the counter's increase between consecutive points inside the
 * interval, a fall counting as a reset, as rate() counts it. Seven numbers
 * stand for thousands of points, and every aggregate a query asks for can be
 * rebuilt from them exactly when its windows are whole intervals: count and
 * sum add up, min and max fold, avg is sum over count, last is the last
 * interval's last, and the rise of a window is the intervals' rises plus the
 * steps between one interval's last point and the next one's first.
 *
 * On disk a summary segment (kv/ts_seg.h, header `interval` != 0) is an
 * ordinary segment whose series are the summaries: series X becomes seven
 * series, X with the label __agg__ set to count, sum, min, max, rise (points at
 * the interval's start), first and last (at those points' own times). So
 * merges, checks, inspect and the label index need nothing new; readers
 * select with the extra matcher __agg__="count" and look the other six up by
 * name. The label __agg__ is therefore reserved: ts_add refuses it.
 */
#ifndef SL_TS_DOWN_H
#define SL_TS_DOWN_H

#include <stddef.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/slice.h"
#include "engine/status.h"
#include "kv/ts_chunk.h"
#include "kv/ts_seg.h"

#define TS_DOWN_LABEL "__agg__"

/* The seven summary series, in the order their names sort. */
typedef enum ts_down_part {
	TS_DOWN_COUNT, TS_DOWN_FIRST, TS_DOWN_LAST, TS_DOWN_MAX, TS_DOWN_MIN, TS_DOWN_RISE, TS_DOWN_SUM,
	TS_DOWN_PARTS_
} ts_down_part_t;

/* One interval of one series. */
typedef struct ts_summary {
	int64_t start;           /* the interval's start */
	int64_t first_ts, last_ts;
	double count, sum, min, max, first, last, rise;
} ts_summary_t;

/* The name of a summary series: the canonical series with __agg__="part" added, into out. */
bool ts_down_name(sl_slice_t series, ts_down_part_t part, buf_t *out);

/* The series a summary series summarises (its name without __agg__), into out. */
bool ts_down_raw(sl_slice_t name, buf_t *out);

/*
 * Summarises pts[0..n) (time order) per interval of `interval` (in the
 * store's unit, intervals aligned to multiples of it) into *out (malloc'd;
 * the caller frees) and *nout.
 */
int ts_down_summarize(const ts_point_t *pts, size_t n, int64_t interval, ts_summary_t **out,
		      size_t *nout, sl_err_t *err);

/*
 * Writes segment `from`'s series as summaries into a new segment at path
 * (meta: its range, seq, parents, interval).
 */
int ts_down_write(env_t *env, ts_seg_t *from, const char *path, const ts_seg_meta_t *meta,
		  int64_t interval, sl_err_t *err);

/*
 * The summaries of series `count_id` (a count series of summary segment s)
 * whose intervals start in [from, to), appended to *sums (grown; *n, *cap).
 */
int ts_down_read(ts_seg_t *s, uint32_t count_id, int64_t from, int64_t to, ts_summary_t **sums,
		 size_t *n, size_t *cap, sl_err_t *err);

#endif
