/*
 * ts_bench.h — the ts suite of `storelab bench`: ingest a CSV of points into
 * each store, then range-aggregate it, on our time-series store and on what a
 * user would otherwise reach for: SQLite with a (series, ts) primary key
 * (sqlite-ts) and the kit's own LSM holding each point as a key (lsm-ts).
 * Each store runs in a child process of its own.
 *
 * Workloads (DESIGN.md names them): `ingest` (points_per_sec, bytes_per_point
 * on disk after ingest, indexes included), `query` (a per-minute average over
 * one series for the whole range, every series in turn: qps, lat_us) and
 * `query_all` (the same over every series at once).
 */
#ifndef SL_TS_BENCH_H
#define SL_TS_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "engine/env.h"
#include "kv/ts.h"

/* A store as the ts suite drives it. Every function returns 0 or -1 with err set. */
typedef struct ts_bench_ops {
	const char *name;
	int (*open)(const char *dir, sl_sync_t sync, void **h, char *err, size_t n);
	/* Adds n points (series canonical, ms timestamps) as one batch / transaction. */
	int (*add)(void *h, const ts_sample_t *p, size_t n, char *err, size_t en);
	/* Makes everything durable and settled, as a user would before measuring the disk. */
	int (*finish)(void *h, char *err, size_t n);
	/*
	 * The average of each step window of [from, to) over the named series (NULL =
	 * every series); *sum adds up the averages and *windows counts them, so the
	 * stores' answers can be compared.
	 */
	int (*query)(void *h, const char *series, int64_t from, int64_t to, int64_t step, double *sum,
		     uint64_t *windows, char *err, size_t n);
	void (*close)(void *h);
} ts_bench_ops_t;

#ifdef SL_PEER_SQLITE
extern const ts_bench_ops_t peer_sqlite_ts_ops;
#endif

int ts_bench_main(int argc, char **argv);

#endif
