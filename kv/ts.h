/*
 * ts.h — the time-series store: points of many series, kept by time.
 *
 * A series is a metric name and labels, `cpu_seconds{host="a",mode="user"}`
 * (kv/ts_parse.h gives its canonical form); a point is an int64 timestamp
 * and a float64 value. The store is built the way Prometheus's is:
 *
 *   head      the newest points of every series, in memory, already
 *             compressed as Gorilla chunks (kv/ts_chunk.h), with a label
 *             index (kv/ts_index.h). Every batch of points is appended to a
 *             write-ahead log before it is acknowledged (engine/wal.h, at the
 *             kit's sync levels), so a crash loses nothing acknowledged.
 *   segments  immutable files (kv/ts_seg.h), one per block of time (2 hours
 *             of data by default): when the head's newest point is a block
 *             and a slack past the start of its oldest block, that block is
 *             cut out of the head into a segment. Neighbouring segments are
 *             merged into longer ranges (x3, up to 54 blocks), and retention
 *             deletes whole segments past the limit: no tombstones, no
 *             rewriting. Optionally, segments past a downsampling age are
 *             rewritten as per-interval summaries (kv/ts_down.h).
 *
 * Writes and their rules:
 *   - A point later than its series' last is appended in order.
 *   - A point at or before its series' last (out of order, or a duplicate
 *     timestamp) is accepted when it is within the out-of-order window of
 *     the head's newest point; a duplicate replaces the earlier value (last
 *     write wins). With the window off (strict_order), such a point is
 *     refused.
 *   - A point before the end of the last cut segment, or older than the
 *     window allows, is refused: ts_add counts it and flags it, and applies
 *     the batch's other points.
 *
 * Closing saves the head as a segment file (head.tsseg) and empties the log,
 * so a closed store holds only compressed points; opening loads it back and
 * replays any log after it. Reopening is idempotent: replaying a write whose
 * effect the saved head already holds changes nothing (last write wins).
 *
 * Directory:
 *   META              magic "SLTSMETA", u32 version, u8 unit, 3 zero bytes,
 *                     i64 block (in the store's unit), u32 low 32 bits of
 *                     XXH3(bytes 0..23): 28 bytes, fixed at creation
 *   LOCK              one writer (or readers sharing it)
 *   seg-NNNNNNNN.tsseg  segments, NNNNNNNN = seq in decimal
 *   head.tsseg        the head as saved at the last close (flag TS_SEG_HEAD)
 *   wal-NNNNNNNN.log  logs, replayed in number order; a new one at each open
 *                     and after each cut; a log is deleted once every point
 *                     in it is in a segment
 *
 * Log record (the WAL payload; kv/ts_wal.h): the series this log file has not
 * named yet, each with the number later records use for it, then the points.
 */
#ifndef SL_TS_H
#define SL_TS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/env.h"
#include "engine/slice.h"
#include "engine/status.h"
#include "engine/trace.h"
#include "kv/ts_chunk.h"
#include "kv/ts_parse.h"
#include "kv/ts_select.h"

#define TS_META_MAGIC "SLTSMETA" /* 8 bytes, the META file's first */

typedef struct ts_opts {
	sl_sync_t sync;         /* durability of writes */
	uint32_t batch_ms;      /* SL_SYNC_BATCH: longest wait for an fsync; 0 = 10 ms */
	bool create;            /* create the store when missing */
	bool read_only;         /* write nothing: queries only (a shared lock) */
	const char *unit;       /* at creation: timestamp unit "s", "ms", "us", "ns"; NULL = ms */
	int64_t block_ms;       /* at creation: time a segment covers; 0 = 2 h */
	int64_t window_ms;      /* out-of-order window; 0 = 10 min */
	bool strict_order;      /* no out-of-order window: only later points accepted */
	int64_t retention_ms;   /* drop segments older than this; 0 = keep all */
	int64_t downsample_after_ms; /* segments older than this become per-interval
	                            summaries (kv/ts_down.h); 0 = never */
	int64_t downsample_ms;  /* the summaries' interval; 0 = 5 min; must divide the block */
	uint32_t compact_ratio; /* blocks merged per compaction level; 0 = 3 */
	bool no_compact;        /* never merge segments */
	const trace_t *trace;   /* narration; NULL = none */
} ts_opts_t;

typedef struct ts ts_t;

/* One point to add: the series in canonical form, a timestamp in the store's unit. */
typedef struct ts_sample {
	sl_slice_t series;
	int64_t ts;
	double v;
} ts_sample_t;

int ts_open(env_t *env, const char *dir, const ts_opts_t *opts, ts_t **out, sl_err_t *err);

/* Saves the head (unless read-only), closes and frees db; NULL is a no-op. */
int ts_close(ts_t *db, sl_err_t *err);

/*
 * Adds n points as one log record: when it returns SL_OK they are durable at
 * the store's sync level. Refused points (see above) are not applied; their
 * number goes to *nrefused and, when refused is not NULL, refused[i] is set to
 * 1 for each (0 for the others). Then cuts, merges and retention run as due.
 */
int ts_add(ts_t *db, const ts_sample_t *s, size_t n, uint8_t *refused, size_t *nrefused,
	   sl_err_t *err);

/* fsync of the log. */
int ts_sync(ts_t *db, sl_err_t *err);

/* Cuts every whole block the head holds that can take no more points, merges, applies retention. */
int ts_maintain(ts_t *db, sl_err_t *err);

/* The store's timestamp unit and block (in that unit), fixed at creation. */
ts_unit_t ts_unit(const ts_t *db);
int64_t ts_block(const ts_t *db);

/* ---- reading ---- */

/* What a read cost (the trace of a query prints it). */
typedef struct ts_read_stats {
	uint64_t lists;         /* postings lists read (label pairs) */
	uint64_t candidates;    /* series the lists left */
	uint64_t series;        /* series selected, in any source */
	uint64_t segments;      /* segments that overlapped the range */
	uint64_t chunks;        /* chunks decoded */
	uint64_t points;        /* points returned */
	uint64_t summaries;     /* interval summaries returned (downsampled data) */
} ts_read_stats_t;

struct ts_summary;              /* kv/ts_down.h */

/*
 * Receives one selected series with what it holds in the range: ns interval
 * summaries of downsampled data (kv/ts_down.h; intervals that start in the
 * range), then n points, all in time order, ns + n >= 1. Returns SL_OK to go
 * on, anything else to stop (the read then returns it).
 */
typedef int (*ts_read_fn)(void *ctx, sl_slice_t series, const struct ts_summary *sums, size_t ns,
			  const ts_point_t *pts, size_t n);

/*
 * Calls fn for every series sel selects that has points in [from, to), in
 * increasing order of canonical name. st may be NULL.
 */
int ts_read(ts_t *db, const ts_selector_t *sel, int64_t from, int64_t to, ts_read_fn fn, void *ctx,
	    ts_read_stats_t *st, sl_err_t *err);

/* ---- inspection ---- */

typedef struct ts_stats {
	uint64_t series;          /* in the head's index and the segments, counted once */
	uint64_t head_series, head_points, head_bytes, ooo_points;
	uint64_t segments, segment_points, segment_bytes;
	uint64_t wal_files, wal_bytes;
	uint64_t accepted, refused, out_of_order;  /* since open */
	uint64_t cuts, compactions, dropped, downsampled; /* since open */
	int64_t mint, maxt;       /* oldest point and one past the newest; 0, 0 when empty */
} ts_stats_t;

void ts_get_stats(ts_t *db, ts_stats_t *out);

/* One segment, or the head, as ts_segments shows it. */
typedef struct ts_segment {
	const char *path;         /* NULL: the head (in memory, saved at close) */
	int64_t mint, maxt;       /* [mint, maxt) in the store's unit; the head's newest + 1 */
	uint32_t interval_ms;     /* 0: raw points; else a downsampled segment's interval */
	uint64_t series, points;  /* points: summaries in a downsampled segment */
	uint64_t bytes;
} ts_segment_t;

typedef int (*ts_segment_fn)(void *ctx, const ts_segment_t *s);

/* Visits the segments by time, then the head when it holds points (what inspect
 * --svg draws on a time axis). */
int ts_segments(ts_t *db, ts_segment_fn fn, void *ctx);

/* Prints the segments and the head — for gdb: `call ts_dump(db, stderr)`. */
void ts_dump(ts_t *db, FILE *out);

/* Checks every segment (ts_seg_check), their order, and the head's series. */
int ts_check(ts_t *db, sl_err_t *err);

#endif
