/*
 * ts_int.h — the time-series store's insides, shared by ts.c (open, writes,
 * cuts, merges), ts_head.c (the head in memory) and ts_read.c (queries).
 */
#ifndef SL_TS_INT_H
#define SL_TS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/wal.h"
#include "kv/ts.h"
#include "kv/ts_index.h"
#include "kv/ts_seg.h"
#include "kv/ts_wal.h"

#define TS_OOO_FOLD 512  /* out-of-order points a series holds before they are merged in */

/* One series in the head. Allocated on its own: the chunk writer points into it. */
typedef struct ts_hser {
	buf_t chunks;            /* finished chunks, back to back, in time order */
	ts_chunk_writer_t w;     /* the open chunk, after them (w.points == 0: none) */
	ts_point_t *ooo;         /* out-of-order and duplicate points, in arrival order */
	uint32_t nooo, cooo;
	int64_t last;            /* the newest timestamp in the chunks; INT64_MIN: none */
	int64_t min;             /* the oldest timestamp held; INT64_MAX: none */
	uint64_t points;         /* points held (a duplicate counts until merged in) */
	int64_t plast;           /* ts_add's view of last during batch pepoch */
	uint32_t pepoch;
	uint32_t named;          /* the log file epoch that named this series */
} ts_hser_t;

typedef struct ts_head {
	ts_index_t *ix;          /* series ids, and the label index */
	ts_hser_t **ser;         /* per id */
	uint32_t cap;
	int64_t min, max;        /* the oldest and newest timestamps; INT64_MAX, INT64_MIN
	                            when empty (min is exact again after ts_head_rescan) */
	uint64_t points, ooo;
} ts_head_t;

int ts_head_init(ts_head_t *h, sl_err_t *err);
void ts_head_free(ts_head_t *h);

/* The id of a series (canonical), added when new. */
int ts_head_series(ts_head_t *h, sl_slice_t name, uint32_t *id, sl_err_t *err);

/* Adds a point: in order when later than the series' last, else to its out-of-order points. */
int ts_head_add(ts_head_t *h, uint32_t id, int64_t ts, double v, sl_err_t *err);

/*
 * Takes a whole chunk as it is (the saved head's, at open: no decoding). Its
 * points must all follow the series' last, and the series must have no open
 * chunk or out-of-order points (SL_INVALID otherwise). The chunk's header
 * checksum is checked; its payload is checked when it is decoded.
 */
int ts_head_adopt(ts_head_t *h, uint32_t id, sl_slice_t chunk, sl_err_t *err);

/*
 * The series' points with from <= ts < to, duplicates resolved (the last
 * written wins), appended to *pts in time order. chunks (may be NULL) counts
 * the chunks decoded.
 */
int ts_head_points(const ts_head_t *h, uint32_t id, int64_t from, int64_t to, ts_point_t **pts,
		   size_t *n, size_t *cap, uint64_t *chunks, sl_err_t *err);

/* Replaces the series' points by pts[0..n) (increasing). */
int ts_head_reset(ts_head_t *h, uint32_t id, const ts_point_t *pts, size_t n, sl_err_t *err);

/* Recomputes min and max after series were reset. */
void ts_head_rescan(ts_head_t *h);

/* Bytes of compressed points and out-of-order points held. */
uint64_t ts_head_bytes(const ts_head_t *h);

/* The ids of the series with points, sorted by name, into *ids (malloc'd). */
int ts_head_sorted(const ts_head_t *h, uint32_t **ids, size_t *n, sl_err_t *err);

typedef struct ts_walfile {
	uint32_t num;
	int64_t max;             /* its newest timestamp; INT64_MIN when it holds none */
} ts_walfile_t;

struct ts {
	env_t *env;
	char *dir;
	ts_opts_t opts;
	trace_t trace;
	env_lock_t *lock;
	ts_unit_t unit;
	int64_t block, window, retention, slack; /* in the store's unit */
	int64_t down_after, down_step;           /* downsampling, in the store's unit; 0 = off */
	ts_head_t head;
	ts_seg_t **segs;         /* by time */
	size_t nsegs, capsegs;
	int64_t floor;           /* the end of the last cut: older points are refused */
	uint64_t next_seq;
	wal_t *wal;              /* the log being written (NULL when read-only) */
	ts_walfile_t *wals;      /* the logs on disk, oldest first; the last is wal */
	size_t nwals;
	uint32_t epoch;          /* bumped per log file: series named in it hold it */
	uint32_t batch;          /* bumped per ts_add */
	ts_wal_rec_t rec;
	buf_t recbuf;
	bool broken;             /* a write failed midway: writes are refused */
	sl_err_t broken_err;
	uint64_t accepted, refused, out_of_order, cuts, compactions, dropped, downsampled;
};

/* Segment file names. */
void ts_seg_name(const ts_t *db, uint64_t seq, char *out, size_t n);

#endif
