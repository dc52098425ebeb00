/*
 * ts_wal.h — the time-series store's log records: which series, which points.
 *
 * Each batch of ts_add is one record of the store's write-ahead log
 * (engine/wal.h frames and checksums it). A series name is long and repeats
 * in every batch, so a log file names each series once, the first time one of
 * its records needs it, with a number (its "ref"); later records give only
 * the ref. Refs are local to one log file, so a file can be replayed, or
 * deleted, without the others.
 *
 * Record (varints LEB128, zz = zigzag varint):
 *   varint defs, then per def:   varint ref, varint name length, name
 *   varint points, then per point:
 *     varint ref
 *     zz     ts - previous ts   (the record's previous point; 0 before the first)
 *     u64    the value's bits, little-endian
 *
 * A decoder meets a ref no def named, or a record that ends early or runs on,
 * as SL_CORRUPT: the log's checksums make that a bug or an attack, not a torn
 * write, and it is reported, not guessed around.
 */
#ifndef SL_TS_WAL_H
#define SL_TS_WAL_H

#include <stdint.h>

#include "engine/buf.h"
#include "engine/slice.h"
#include "engine/status.h"

typedef struct ts_wal_rec {
	buf_t defs, pts;       /* the two parts, without their counts */
	uint64_t ndefs, npts;
	int64_t prev_ts;
} ts_wal_rec_t;

/* Empties r for the next record (keeps its memory). */
void ts_wal_rec_reset(ts_wal_rec_t *r);
void ts_wal_rec_free(ts_wal_rec_t *r);
void ts_wal_rec_def(ts_wal_rec_t *r, uint32_t ref, sl_slice_t name);
void ts_wal_rec_point(ts_wal_rec_t *r, uint32_t ref, int64_t ts, double v);

/* The record's bytes into out (cleared first); SL_NOMEM possible. */
int ts_wal_rec_finish(ts_wal_rec_t *r, buf_t *out, sl_err_t *err);

/* What a decoder calls; either returns SL_OK to go on. */
typedef struct ts_wal_visitor {
	int (*def)(void *ctx, uint32_t ref, sl_slice_t name, sl_err_t *err);
	int (*point)(void *ctx, uint32_t ref, int64_t ts, double v, sl_err_t *err);
	void *ctx;
} ts_wal_visitor_t;

/* Walks one record. SL_CORRUPT for a malformed one (the visitor may have seen part of it). */
int ts_wal_decode(sl_slice_t rec, const ts_wal_visitor_t *v, sl_err_t *err);

#endif
