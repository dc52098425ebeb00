/*
 * ts_parse.h — reading time-series input: series names, timestamps, CSV lines.
 *
 * A series is a metric name and a set of labels, written as Prometheus writes
 * it:
 *
 *   cpu_seconds{host="a",mode="user"}      or just   up
 *
 * The metric name is letters, digits, '_', '.' and ':' (not starting with a
 * digit); a label name letters, digits and '_' (not starting with a digit); a
 * label value any UTF-8 in double quotes, with \" \\ and \n escaped. The same
 * series can be written with its labels in any order, so every series is kept
 * in one canonical form: labels sorted by name, no spaces, values escaped the
 * same way. A label with an empty value is the same as no label (as in
 * Prometheus) and is dropped; a label named twice is an error.
 *
 * Timestamps are integers or RFC 3339 times (2023-11-14T22:13:20.5Z, or with
 * an offset +01:00). An integer's unit is given (s, ms, us, ns) or, when not,
 * read from its number of digits, as clocks print them: 10 digits seconds, 13
 * milliseconds, 16 microseconds, 19 nanoseconds; any other length is refused
 * as ambiguous. Every timestamp is converted to the store's unit (refused when
 * it does not fit 64 bits or loses precision that way: 1.5 s is not a whole
 * number of seconds).
 *
 * An InfluxDB line-protocol line is
 *
 *   measurement[,tag=value...] field=value[,field=value...] timestamp
 *
 * with `\,`, `\=` and `\ ` escaping those characters in names and tag values.
 * Each field becomes one point of the series measurement_field{tag="value",...}
 * (the mapping Prometheus's InfluxDB exporters use); a character a metric or
 * label name cannot hold becomes '_'. Field values are floats, integers (12i,
 * 12u) or booleans (t, true, f, false, any case: 1 and 0); a string field is
 * refused. The timestamp is required (a file of points carries its times) and
 * is in nanoseconds unless a unit is given, as in InfluxDB.
 *
 * A CSV line is `timestamp,series,value`. The series may hold commas (between
 * its labels), so the line is split at its first and last commas; a series in
 * CSV quotes ("...", with "" for a quote) is unquoted first. The value is a
 * decimal or one of NaN, +Inf, -Inf.
 */
#ifndef SL_TS_PARSE_H
#define SL_TS_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/slice.h"

typedef enum ts_unit { TS_UNIT_S, TS_UNIT_MS, TS_UNIT_US, TS_UNIT_NS, TS_UNIT_AUTO } ts_unit_t;

#define TS_WHY_BYTES 128   /* the size of the why buffers below */
#define TS_MAX_SERIES 4096 /* bytes in a canonical series */

/* "s", "ms", "us", "ns" (and "auto"); false for anything else. */
bool ts_unit_parse(const char *text, ts_unit_t *out);
const char *ts_unit_name(ts_unit_t unit);

/* A timestamp as RFC 3339 in UTC, with the unit's precision (the number itself
 * when it is out of the calendar's range). */
void ts_format_time(int64_t t, ts_unit_t unit, char *out, size_t n);

/*
 * Parses a series into its canonical form (appended to out, which is cleared
 * first). false with the reason in why (TS_WHY_BYTES) for a malformed one.
 */
bool ts_series_parse(sl_slice_t text, buf_t *out, char *why);

/*
 * Parses a timestamp into the store's unit `store`. `given` is the integers'
 * unit or TS_UNIT_AUTO; *seen (may be NULL) gets the unit the text was read in
 * (an RFC 3339 time counts as ns). false with the reason in why.
 */
bool ts_time_parse(sl_slice_t text, ts_unit_t given, ts_unit_t store, int64_t *ts,
		   ts_unit_t *seen, char *why);

/* Parses a value: a decimal, NaN, +Inf or -Inf. false with the reason in why. */
bool ts_value_parse(sl_slice_t text, double *v, char *why);

/* One CSV data line (without its newline; a trailing \r is dropped). */
typedef struct ts_csv_point {
	int64_t ts;        /* in the store's unit */
	double value;
	ts_unit_t seen;    /* the unit the timestamp was read in */
} ts_csv_point_t;

/*
 * The three fields of a CSV line (the series still as written, perhaps in
 * CSV quotes): false with the reason in why.
 */
bool ts_csv_split(sl_slice_t line, sl_slice_t f[3], char *why);

/* A CSV series field (unquoted when quoted) in canonical form into series. */
bool ts_csv_series(sl_slice_t raw, buf_t *series, char *why);

/*
 * A duration: 90s, 1m, 1h30m, 250ms (units ns us ms s m h d w), or a bare
 * number in the store's unit; into the store's unit (refused when not a whole
 * number of it, negative or too long). false with the reason in why.
 */
bool ts_duration_parse(const char *text, ts_unit_t unit, int64_t *out, char *why);

/* The series goes to series (canonical). false with the reason in why. */
bool ts_csv_line(sl_slice_t line, ts_unit_t given, ts_unit_t store, ts_csv_point_t *p,
		 buf_t *series, char *why);

#define TS_LP_MAX_FIELDS 64

/*
 * One line-protocol line: *n points (at most TS_LP_MAX_FIELDS), all at *ts,
 * series[i] (canonical; the caller's array of buf_t) with values[i]. `given`
 * is the timestamps' unit (TS_UNIT_AUTO means ns, InfluxDB's default). false
 * with the reason in why, and then nothing of the line is to be applied.
 */
bool ts_lp_line(sl_slice_t line, ts_unit_t given, ts_unit_t store, int64_t *ts, buf_t *series,
		double *values, size_t *n, char *why);

#endif
