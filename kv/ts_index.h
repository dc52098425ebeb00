/*
 * ts_index.h — the time-series label index: series ids, and which series hold
 * each label pair.
 *
 * A query names its series by labels (kv/ts_select), and a store may hold
 * hundreds of thousands of series: reading every series name to test a
 * selector would cost as much as the query. So, as an inverted index keeps a
 * postings list per term, this keeps one per label pair — `host="a"` -> the
 * ids of the series with that label, in increasing order — and the metric
 * name is the pair `__name__="cpu"`. A selector's equality matchers intersect
 * their lists; the other matchers (!=, =~, !~) are then tested on the few
 * series left, by name.
 *
 * Series get ids in the order they are first seen, stable for the life of the
 * index. This is the index in memory (the head's, and the one a segment
 * writer fills); segment files store its lists with index/postings.
 */
#ifndef SL_TS_INDEX_H
#define SL_TS_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/slice.h"
#include "engine/status.h"
#include "kv/ts_select.h"

typedef struct ts_index ts_index_t;

ts_index_t *ts_index_new(void);
void ts_index_free(ts_index_t *ix);

/* The id of a series (canonical form, kv/ts_parse.h), made when new. SL_NOMEM possible. */
int ts_index_add(ts_index_t *ix, sl_slice_t series, uint32_t *id, sl_err_t *err);

/* The id of a series already in the index: false when it is not. */
bool ts_index_find(const ts_index_t *ix, sl_slice_t series, uint32_t *id);

/* A series' canonical form. REQUIRES: id < ts_index_count(ix). */
sl_slice_t ts_index_series(const ts_index_t *ix, uint32_t id);
uint32_t ts_index_count(const ts_index_t *ix);

/*
 * The label pairs, in the order first seen: their number, and pair i's key
 * ("name\0value", the metric name as __name__) with its ids (increasing).
 * Segment files write these lists to disk (kv/ts_seg.h).
 */
uint32_t ts_index_pairs(const ts_index_t *ix);
sl_slice_t ts_index_pair(const ts_index_t *ix, uint32_t i, const uint32_t **ids, size_t *n);

/* What a selection cost: lists intersected, series tested by name. */
typedef struct ts_index_stats {
	uint32_t lists, candidates, tested;
} ts_index_stats_t;

/*
 * The ids of the series sel selects, increasing, into *ids (malloc'd, the
 * caller frees) and *n. SL_NOMEM possible.
 */
int ts_index_select(const ts_index_t *ix, const ts_selector_t *sel, uint32_t **ids, size_t *n,
		    ts_index_stats_t *st, sl_err_t *err);

#endif
