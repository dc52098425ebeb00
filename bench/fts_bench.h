/*
 * fts_bench.h — the fts suite of `storelab bench`: build a search index from a
 * corpus, then run a file of queries, on our inverted index and on the peers
 * (SQLite FTS5 and Xapian when built), each in a child process of its own.
 *
 * A queries file holds `KIND<TAB>words` lines, KIND one of term, and, or,
 * phrase; each store writes the words in its own syntax. The report has, per
 * store, the workload `build` (docs_per_sec, index_bytes) and `query` (qps,
 * lat_us over the whole file), plus `query-term`, `query-and`, `query-or`,
 * `query-phrase`, and the mean top-k overlap of each store's hits with those of
 * the first store named.
 */
#ifndef SL_FTS_BENCH_H
#define SL_FTS_BENCH_H

#include <stddef.h>

#include "engine/buf.h"
#include "engine/slice.h"

enum { FTS_TERM, FTS_AND, FTS_OR, FTS_PHRASE, FTS_KINDS };

typedef struct fts_hit {
	char id[128];
	double score;
} fts_hit_t;

/* A search engine as the fts suite drives it. Every function returns 0 or -1 with err set. */
typedef struct fts_ops {
	const char *name;
	int (*open)(const char *dir, void **h, char *err, size_t n);
	int (*add)(void *h, sl_slice_t id, sl_slice_t text, char *err, size_t n);
	int (*commit)(void *h, char *err, size_t n);
	/* The query of kind over words (space-separated), in the engine's syntax, into out. */
	void (*query)(int kind, const char *words, buf_t *out);
	int (*search)(void *h, const char *query, size_t k, fts_hit_t *hits, size_t *nhits,
		      char *err, size_t n);
	void (*close)(void *h);
} fts_ops_t;

#ifdef SL_PEER_SQLITE
extern const fts_ops_t peer_fts5_ops;
extern const fts_ops_t peer_scan_ops;   /* no index: a substring scan of a SQLite table */
#endif
#ifdef SL_PEER_XAPIAN
extern const fts_ops_t peer_xapian_ops;
#endif

int fts_bench_main(int argc, char **argv);

#endif
