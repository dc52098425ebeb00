/*
 * ts_seg.h — time-series segment files: every series' points over one span of
 * time, in Gorilla chunks, with the label index that finds the series.
 *
 * A segment is immutable and covers the half-open time range [mint, maxt).
 * The store cuts one from its head for every block of time (2 hours by
 * default), merges neighbours into longer ranges, and drops the oldest whole
 * when they pass the retention limit: deleting a file is the cheapest delete
 * there is, which is why a time-series store partitions by time. The head
 * itself is saved as a segment at close (flag TS_SEG_HEAD).
 *
 * Inside, series are sorted by their canonical name (kv/ts_parse.h); a series'
 * position in that order is its local id. Each series' points are cut into
 * chunks (kv/ts_chunk.h) of at most TS_SEG_CHUNK_POINTS points, and a chunk
 * table keeps each chunk's time range, so a reader decodes only the chunks
 * that overlap its query. The label index maps every label pair to the
 * postings list (index/postings) of the local ids that hold it, exactly as an
 * inverted index maps a term to its documents.
 *
 * File format (integers little-endian, varints LEB128, zz = zigzag varint):
 *
 *   header, 48 bytes
 *     +0  "SLTSSEG\0"       magic
 *     +8  u32 version       TS_SEG_VERSION
 *     +12 u8  unit          timestamp unit (kv/ts_parse.h's ts_unit_t)
 *     +13 u8  flags         bit 0: a saved head (TS_SEG_HEAD)
 *     +14 u16 zero
 *     +16 i64 mint          every point has mint <= ts < maxt
 *     +24 i64 maxt
 *     +32 u64 seq           the segment's number in its store
 *     +40 u32 interval      0: raw points; else the segment holds per-interval
 *                           summaries of this many milliseconds (kv/ts_down.h)
 *     +44 u32 check         low 32 bits of XXH3(bytes 0..43)
 *   chunks, back to back, series after series in local id order
 *   series table, at series_off: per series in local id order
 *     varint name length, name (canonical, strictly increasing bytewise)
 *     varint chunks, then per chunk:
 *       varint bytes        the chunk's size (header included)
 *       zz     first - prev the first timestamp, as a change from the previous
 *                           chunk's last one (from mint for a series' first)
 *       varint last - first
 *       varint points
 *   label table, at labels_off: per pair, keys strictly increasing
 *     varint key length, key "name\0value" (the metric name is __name__)
 *     varint list length, a postings list without tfs of the local ids
 *   parents, at parents_off: varint count, then count u64 seqs: the segments a
 *     compaction merged into this one (the store deletes any of them still
 *     present when it opens: the merge finished, the clean-up did not)
 *   footer, 48 bytes
 *     +0  u64 series_off    (the chunks end here)
 *     +8  u64 labels_off
 *     +16 u64 parents_off
 *     +24 u32 series        count
 *     +28 u32 pairs         count
 *     +32 u64 points        in all chunks
 *     +40 u32 check         low 32 bits of XXH3(series_off .. footer +39)
 *     +44 "SLTE"
 *
 * Invariants (ts_seg_open and ts_check report a break as SL_CORRUPT):
 *   1. header and footer checks match; 48 <= series_off <= labels_off <=
 *      parents_off = file size - 48 - the parents' bytes.
 *   2. chunks tile [48, series_off) in table order; each chunk's table entry
 *      agrees with its header (checked when the chunk is read); mint <= first
 *      <= last < maxt; a series' chunks follow each other in time.
 *   3. every local id is in the list of __name__ and of each of its labels.
 */
#ifndef SL_TS_SEG_H
#define SL_TS_SEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/env.h"
#include "engine/slice.h"
#include "engine/status.h"
#include "kv/ts_chunk.h"
#include "kv/ts_index.h"
#include "kv/ts_select.h"

#define TS_SEG_MAGIC "SLTSSEG"
#define TS_SEG_VERSION 1
#define TS_SEG_HEADER 48
#define TS_SEG_FOOTER 48
#define TS_SEG_HEAD 0x01           /* flag, on disk — never renumber */
#define TS_SEG_CHUNK_POINTS 2048   /* points per chunk at most */

typedef struct ts_seg_meta {
	int64_t mint, maxt;     /* [mint, maxt) */
	uint64_t seq;
	uint8_t unit, flags;
	uint32_t interval_ms;    /* 0: raw points; else summaries (kv/ts_down.h) */
	const uint64_t *parents; /* writer: the merged segments; reader: see ts_seg_parent */
	uint32_t nparents;
} ts_seg_meta_t;

/* ---- writing ---- */

typedef struct ts_seg_writer ts_seg_writer_t;

/* Starts writing path (through path.tmp; nothing is at path until finish). */
int ts_seg_writer_open(env_t *env, const char *path, const ts_seg_meta_t *meta,
		       ts_seg_writer_t **out, sl_err_t *err);

/*
 * Adds a series: its canonical name (greater than the previous series') and
 * its n >= 1 points, timestamps strictly increasing inside [mint, maxt).
 * SL_INVALID for anything else, with nothing added.
 */
int ts_seg_writer_add(ts_seg_writer_t *w, sl_slice_t name, const ts_point_t *pts, size_t n,
		      sl_err_t *err);

/*
 * Writes the tables and the footer, syncs the file, renames it into place and
 * syncs the directory; frees w whatever happens (on error nothing is at path).
 */
int ts_seg_writer_finish(ts_seg_writer_t *w, sl_err_t *err);

/* Gives up: removes path.tmp and frees w (NULL is a no-op). */
void ts_seg_writer_abort(ts_seg_writer_t *w);

/* ---- reading ---- */

typedef struct ts_seg ts_seg_t;

typedef struct ts_chunk_ref {
	uint64_t off;          /* in the file */
	uint32_t bytes, points;
	int64_t first, last;   /* timestamps */
} ts_chunk_ref_t;

/* Opens and maps path, checking header, footer and tables. */
int ts_seg_open(env_t *env, const char *path, ts_seg_t **out, sl_err_t *err);
void ts_seg_close(ts_seg_t *s);

const ts_seg_meta_t *ts_seg_meta(const ts_seg_t *s);
uint32_t ts_seg_series_count(const ts_seg_t *s);
uint64_t ts_seg_points(const ts_seg_t *s);
uint64_t ts_seg_bytes(const ts_seg_t *s);
const char *ts_seg_path(const ts_seg_t *s);

/* A series' canonical name. REQUIRES: id < ts_seg_series_count(s). */
sl_slice_t ts_seg_series(const ts_seg_t *s, uint32_t id);

/* The local id of a series by name (binary search); false when absent. */
bool ts_seg_find(const ts_seg_t *s, sl_slice_t name, uint32_t *id);

/* A series' chunks, in time order: *refs (owned by s) and their number. */
size_t ts_seg_chunks(const ts_seg_t *s, uint32_t id, const ts_chunk_ref_t **refs);

/* The bytes of one chunk (mapped; valid while s is open). */
int ts_seg_chunk(ts_seg_t *s, const ts_chunk_ref_t *ref, sl_slice_t *chunk, sl_err_t *err);

/*
 * Decodes the points of series id with from <= ts < to, appending them to
 * *pts (grown with realloc; *n in, *n out), reading only the chunks that
 * overlap. *chunks (may be NULL) is incremented by the chunks decoded.
 */
int ts_seg_read(ts_seg_t *s, uint32_t id, int64_t from, int64_t to, ts_point_t **pts,
		size_t *n, size_t *cap, uint64_t *chunks, sl_err_t *err);

/*
 * The local ids of the series sel selects, increasing, into *ids (malloc'd)
 * and *n: the equality matchers' postings are intersected, the rest tested by
 * name, as ts_index_select does in memory.
 */
int ts_seg_select(ts_seg_t *s, const ts_selector_t *sel, uint32_t **ids, size_t *n,
		  ts_index_stats_t *st, sl_err_t *err);

/* Checks every chunk and the label index against the series names (invariants 2, 3). */
int ts_seg_check(ts_seg_t *s, sl_err_t *err);

/* The label pairs: count, and pair i's key ("name\0value") and postings list. */
uint32_t ts_seg_pairs(const ts_seg_t *s);
void ts_seg_pair(const ts_seg_t *s, uint32_t i, sl_slice_t *key, sl_slice_t *list);

#endif
