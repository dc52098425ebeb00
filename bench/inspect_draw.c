/*
 * inspect_draw.c — `storelab inspect DIR --svg FILE [--html FILE]`: a store drawn.
 *
 * Each structure is opened read-only through its own library and walked with
 * its visitor (btree_nodes, hash_buckets, lsm_tables, inverted_segments,
 * ts_segments); the picture is made of boxes whose fill is the page's, rows
 * that are the tree's levels, and axes that are the key space or time:
 *
 *   B+tree     the top three levels, a box per node with its fill and key range,
 *              a line from each node to its children; a level of more than
 *              DRAW_MAX_BOXES nodes becomes a histogram of their fill.
 *   hash       the directory's entries, each joined to its bucket, and the
 *              buckets with their local depth and fill (histogram when many).
 *   LSM        a row per run of each level, every table placed on the key axis
 *              by its key range, and each level's bytes as a bar to scale.
 *   inverted   the segments, oldest first, each as wide as its documents, the
 *              deleted ones shaded.
 *   ts         the segments and the head on a time axis.
 *
 * The HTML page is self-contained (the SVG inline, the structure's dump as text,
 * no script, no network): open it from disk.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/inspect.h"
#include "bench/report.h"
#include "engine/env.h"
#include "engine/trace.h"
#include "index/btree.h"
#include "index/hash.h"
#include "index/inverted.h"
#include "kv/lsm.h"
#include "kv/ts.h"
#include "kv/ts_parse.h"

#define DRAW_W 960            /* the picture's width */
#define DRAW_LEFT 110         /* the column of row labels */
#define DRAW_PLOT (DRAW_W - DRAW_LEFT - 20)
#define DRAW_MAX_BOXES 32     /* boxes of one row drawn one by one; more become a histogram */
#define DRAW_KEY 24           /* bytes of a key shown */

/* A picture being made: the SVG body and the dump, both in memory until the end. */
typedef struct draw {
	FILE *svg, *dump;
	char *svg_buf, *dump_buf;
	size_t svg_len, dump_len;
	double y;                 /* the top of the next row */
	char kind[32];
	char summary[512];
} draw_t;

/* ---------------------------------------------------------------- primitives */

static void draw_text(draw_t *d, double x, double y, int size, const char *anchor, const char *fmt,
		      ...) __attribute__((format(printf, 6, 7)));

static void draw_text(draw_t *d, double x, double y, int size, const char *anchor, const char *fmt,
		      ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	fprintf(d->svg, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"%s\">", x, y, size,
		anchor);
	report_xml_text(d->svg, text);
	fputs("</text>\n", d->svg);
}

/* A rectangle with a tooltip (shown by any SVG viewer on hover). */
static void draw_rect(draw_t *d, double x, double y, double w, double h, const char *fill,
		      const char *tip)
{
	fprintf(d->svg, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
		"stroke=\"#555\" stroke-width=\"0.5\"><title>", x, y, w > 0.5 ? w : 0.5, h, fill);
	report_xml_text(d->svg, tip);
	fputs("</title></rect>\n", d->svg);
}

static void draw_line(draw_t *d, double x1, double y1, double x2, double y2)
{
	fprintf(d->svg, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" "
		"stroke-width=\"0.7\"/>\n", x1, y1, x2, y2);
}

/* A page-like box: its outline, and its fill as a bar rising from the bottom. */
static void draw_fill_box(draw_t *d, double x, double y, double w, double h, double fill,
			  const char *color, const char *tip)
{
	draw_rect(d, x, y, w, h, "#fafafa", tip);
	double fh = h * (fill < 0 ? 0 : fill > 1 ? 1 : fill);
	draw_rect(d, x, y + h - fh, w, fh, color, tip);
}

/* Ten bars: how many of n boxes are 0-10 %, 10-20 % ... full. */
static void draw_fill_histogram(draw_t *d, const double *fill, size_t n, const char *color,
				const char *what)
{
	size_t bins[10] = { 0 }, most = 1;
	double sum = 0;
	for (size_t i = 0; i < n; i++) {
		int b = (int)(fill[i] * 10);
		bins[b < 0 ? 0 : b > 9 ? 9 : b]++;
		sum += fill[i];
	}
	for (int b = 0; b < 10; b++)
		most = bins[b] > most ? bins[b] : most;
	double bw = DRAW_PLOT / 10.0, h = 60;
	for (int b = 0; b < 10; b++) {
		char tip[128];
		snprintf(tip, sizeof tip, "%zu %s %d-%d %% full", bins[b], what, b * 10, b * 10 + 10);
		double bh = h * (double)bins[b] / (double)most;
		draw_rect(d, DRAW_LEFT + b * bw + 2, d->y + h - bh, bw - 4, bh, color, tip);
		draw_text(d, DRAW_LEFT + b * bw + bw / 2, d->y + h + 12, 10, "middle", "%d-%d%%", b * 10,
			  b * 10 + 10);
		if (bins[b] > 0)
			draw_text(d, DRAW_LEFT + b * bw + bw / 2, d->y + h - bh - 3, 10, "middle", "%zu",
				  bins[b]);
	}
	draw_text(d, DRAW_LEFT + DRAW_PLOT, d->y - 4, 11, "end", "%zu %s, mean fill %.0f%% (too many "
		  "to draw one by one: how full they are)", n, what, n ? 100 * sum / (double)n : 0);
	d->y += h + 30;
}

/* A key as text, cut to DRAW_KEY bytes. */
static const char *draw_key(char *out, size_t n, sl_slice_t key)
{
	return trace_bytes(out, n, key.data, key.len, DRAW_KEY);
}

/* A new zeroed element at the end of a growing array (*v, *n of *cap); NULL when out of memory. */
static void *draw_push(void *v, size_t *n, size_t *cap, size_t size)
{
	void **arr = v;
	if (*n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		void *grown = realloc(*arr, ncap * size);
		if (grown == NULL)
			return NULL;
		*arr = grown;
		*cap = ncap;
	}
	void *at = (char *)*arr + (*n)++ * size;
	memset(at, 0, size);
	return at;
}

/* ---------------------------------------------------------------- B+tree */

typedef struct draw_node {
	btree_node_t n;
	char first[DRAW_KEY * 4 + 8], last[DRAW_KEY * 4 + 8];
	int parent;               /* index of the node above, -1 for the root */
	double cx;                /* where it was drawn (its centre), when drawn */
} draw_node_t;

typedef struct draw_nodes {
	draw_node_t *v;
	size_t n, cap;
	int last_at[4];           /* the last node seen at each depth: the next one's parent */
} draw_nodes_t;

static int draw_collect_node(void *ctx, const btree_node_t *node)
{
	draw_nodes_t *ns = ctx;
	draw_node_t *d = draw_push(&ns->v, &ns->n, &ns->cap, sizeof *d);
	if (d == NULL)
		return SL_NOMEM;
	d->n = *node;
	draw_key(d->first, sizeof d->first, node->first);
	draw_key(d->last, sizeof d->last, node->last);
	d->n.first = d->n.last = (sl_slice_t){ NULL, 0 }; /* not valid after the call */
	d->parent = node->depth == 0 ? -1 : ns->last_at[node->depth - 1];
	ns->last_at[node->depth] = (int)ns->n - 1;
	return SL_OK;
}

/* One depth of the tree: a box per node, or their fill histogram when too many. */
static void draw_btree_row(draw_t *d, draw_nodes_t *ns, uint32_t depth, double parent_y)
{
	size_t count = 0;
	for (size_t i = 0; i < ns->n; i++)
		count += ns->v[i].n.depth == depth;
	draw_text(d, 8, d->y + 26, 12, "start", "depth %u", depth);
	if (count > DRAW_MAX_BOXES) {
		double *fill = malloc(count * sizeof *fill);
		size_t k = 0;
		for (size_t i = 0; fill && i < ns->n; i++)
			if (ns->v[i].n.depth == depth)
				fill[k++] = (double)ns->v[i].n.used / ns->v[i].n.usable;
		d->y += 14;
		if (fill)
			draw_fill_histogram(d, fill, count, "#4e79a7", "nodes");
		free(fill);
		return;
	}
	double slot = (double)DRAW_PLOT / (double)count, w = slot > 140 ? 120 : slot * 0.85;
	size_t k = 0;
	for (size_t i = 0; i < ns->n; i++) {
		draw_node_t *v = &ns->v[i];
		if (v->n.depth != depth)
			continue;
		double x = DRAW_LEFT + slot * (double)k++ + (slot - w) / 2;
		v->cx = x + w / 2;
		char tip[400];
		snprintf(tip, sizeof tip, "page %u: %s, %u keys [%s .. %s], %.0f%% full", v->n.pgno,
			 v->n.leaf ? "leaf" : "internal", v->n.keys, v->first, v->last,
			 100.0 * v->n.used / v->n.usable);
		draw_fill_box(d, x, d->y, w, 40, (double)v->n.used / v->n.usable,
			      v->n.leaf ? "#59a14f" : "#4e79a7", tip);
		if (v->parent >= 0 && ns->v[v->parent].cx > 0)
			draw_line(d, ns->v[v->parent].cx, parent_y, v->cx, d->y);
		if (w >= 40)
			draw_text(d, v->cx, d->y + 54, 10, "middle", "p%u: %u", v->n.pgno, v->n.keys);
		if (w >= 90)
			draw_text(d, v->cx, d->y + 66, 9, "middle", "%.12s..%.12s", v->first, v->last);
	}
	d->y += 80;
}

static int draw_btree(draw_t *d, const char *dir, sl_err_t *err)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/btree.db", dir);
	env_t *env = env_new();
	btree_opts_t o = { .read_only = true };
	btree_t *t = NULL;
	draw_nodes_t ns = { 0 };
	int rc = env ? btree_open(env, path, &o, &t, err) : SL_NOMEM;
	if (rc == SL_OK)
		rc = btree_nodes(t, 2, draw_collect_node, &ns, err);
	if (rc == SL_OK) {
		btree_stats_t st;
		btree_get_stats(t, &st);
		snprintf(d->summary, sizeof d->summary, "B+tree: %" PRIu64 " keys, height %u, %" PRIu64
			 " leaves and %" PRIu64 " internal pages, %.0f%% full on average%s",
			 st.keys, st.height, st.leaf_pages, st.internal_pages, 100 * st.avg_fill,
			 st.height > 3 ? "; the top three levels drawn" : "");
		double parent_y = 0;
		for (uint32_t depth = 0; depth < 3 && depth < st.height; depth++) {
			double top = d->y;
			draw_btree_row(d, &ns, depth, parent_y);
			parent_y = top + 40;
		}
		btree_dump(t, d->dump);
	}
	free(ns.v);
	sl_err_t ignored;
	if (t)
		btree_close(t, &ignored);
	env_free(env);
	return rc;
}

/* ---------------------------------------------------------------- hash */

typedef struct draw_buckets {
	hash_bucket_t *v;
	size_t n, cap;
} draw_buckets_t;

static int draw_collect_bucket(void *ctx, const hash_bucket_t *b)
{
	draw_buckets_t *bs = ctx;
	hash_bucket_t *at = draw_push(&bs->v, &bs->n, &bs->cap, sizeof *at);
	if (at == NULL)
		return SL_NOMEM;
	*at = *b;
	return SL_OK;
}

/* The directory's entries, each joined to its bucket below (few buckets only). */
static void draw_hash_directory(draw_t *d, const draw_buckets_t *bs, uint32_t gdepth)
{
	uint64_t entries = UINT64_C(1) << gdepth;
	double ew = (double)DRAW_PLOT / (double)entries, slot = (double)DRAW_PLOT / (double)bs->n;
	draw_text(d, 8, d->y + 14, 12, "start", "directory");
	draw_text(d, 8, d->y + 120, 12, "start", "buckets");
	for (uint64_t j = 0; j < entries; j++) {
		size_t b = 0; /* the bucket whose pattern is j's low depth bits */
		while (b < bs->n && (j & ((UINT64_C(1) << bs->v[b].depth) - 1)) != bs->v[b].pattern)
			b++;
		char tip[96];
		snprintf(tip, sizeof tip, "directory entry %" PRIu64 " -> bucket page %u", j,
			 b < bs->n ? bs->v[b].pgno : 0);
		draw_rect(d, DRAW_LEFT + ew * (double)j, d->y, ew, 20, "#e8e8e8", tip);
		draw_line(d, DRAW_LEFT + ew * ((double)j + 0.5), d->y + 20,
			  DRAW_LEFT + slot * ((double)b + 0.5), d->y + 100);
	}
	d->y += 100;
}

static void draw_hash_buckets(draw_t *d, const draw_buckets_t *bs)
{
	double slot = (double)DRAW_PLOT / (double)bs->n, w = slot > 140 ? 120 : slot * 0.85;
	for (size_t b = 0; b < bs->n; b++) {
		const hash_bucket_t *v = &bs->v[b];
		double x = DRAW_LEFT + slot * (double)b + (slot - w) / 2;
		char tip[200];
		snprintf(tip, sizeof tip, "bucket page %u: low %u hash bits %" PRIx64 ", %" PRIu64
			 " directory entries, %u entries in %u page(s), %.0f%% full", v->pgno, v->depth,
			 v->pattern, v->slots, v->entries, v->pages, 100.0 * v->used / v->usable);
		draw_fill_box(d, x, d->y, w, 40, (double)v->used / v->usable, "#f28e2b", tip);
		if (w >= 30)
			draw_text(d, x + w / 2, d->y + 54, 10, "middle", "d=%u", v->depth);
		if (w >= 50)
			draw_text(d, x + w / 2, d->y + 66, 10, "middle", "%u keys", v->entries);
	}
	d->y += 80;
}

static int draw_hash(draw_t *d, const char *dir, sl_err_t *err)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/hash.db", dir);
	env_t *env = env_new();
	hash_opts_t o = { .read_only = true };
	hash_t *h = NULL;
	draw_buckets_t bs = { 0 };
	int rc = env ? hash_open(env, path, &o, &h, err) : SL_NOMEM;
	if (rc == SL_OK)
		rc = hash_buckets(h, draw_collect_bucket, &bs, err);
	if (rc == SL_OK && bs.n > 0) {
		uint32_t g = hash_global_depth(h);
		hash_stats_t st;
		hash_get_stats(h, &st);
		snprintf(d->summary, sizeof d->summary, "extendible hash: %" PRIu64 " keys in %zu "
			 "buckets; a directory of %" PRIu64 " entries (global depth %u)", st.keys, bs.n,
			 UINT64_C(1) << g, g);
		if (bs.n <= DRAW_MAX_BOXES && g <= 8) {
			draw_hash_directory(d, &bs, g);
			draw_hash_buckets(d, &bs);
		} else {
			double *fill = malloc(bs.n * sizeof *fill);
			for (size_t b = 0; fill && b < bs.n; b++)
				fill[b] = (double)bs.v[b].used / bs.v[b].usable;
			draw_text(d, 8, d->y + 26, 12, "start", "buckets");
			d->y += 14;
			if (fill)
				draw_fill_histogram(d, fill, bs.n, "#f28e2b", "buckets");
			free(fill);
		}
		hash_dump(h, d->dump);
	}
	free(bs.v);
	sl_err_t ignored;
	if (h)
		hash_close(h, &ignored);
	env_free(env);
	return rc;
}

/* ---------------------------------------------------------------- LSM */

typedef struct draw_table {
	lsm_table_t t;
	buf_t lo, hi;             /* copies of the keys */
} draw_table_t;

typedef struct draw_tables {
	draw_table_t *v;
	size_t n, cap;
} draw_tables_t;

static int draw_collect_table(void *ctx, const lsm_table_t *t)
{
	draw_tables_t *ts = ctx;
	draw_table_t *d = draw_push(&ts->v, &ts->n, &ts->cap, sizeof *d);
	if (d == NULL)
		return SL_NOMEM;
	d->t = *t;
	buf_append(&d->lo, t->smallest.data, t->smallest.len);
	buf_append(&d->hi, t->largest.data, t->largest.len);
	return buf_ok(&d->lo) && buf_ok(&d->hi) ? SL_OK : SL_NOMEM;
}

/* The key space as a line: keys past their common prefix, read as big-endian fractions. */
typedef struct draw_keys {
	sl_slice_t lo, hi;
	size_t prefix;
	double span;
} draw_keys_t;

static double draw_key_value(const draw_keys_t *k, sl_slice_t key)
{
	double v = 0, scale = 1;
	for (size_t i = k->prefix; i < k->prefix + 8; i++) {
		scale /= 256;
		v += (i < key.len ? key.data[i] : 0) * scale;
	}
	return v;
}

static double draw_key_x(const draw_keys_t *k, sl_slice_t key)
{
	double f = k->span > 0 ? (draw_key_value(k, key) - draw_key_value(k, k->lo)) / k->span : 0.5;
	return DRAW_LEFT + DRAW_PLOT * (f < 0 ? 0 : f > 1 ? 1 : f);
}

static void draw_keys_init(draw_keys_t *k, const draw_tables_t *ts)
{
	k->lo = buf_slice(&ts->v[0].lo);
	k->hi = buf_slice(&ts->v[0].hi);
	for (size_t i = 1; i < ts->n; i++) {
		if (sl_slice_cmp(buf_slice(&ts->v[i].lo), k->lo) < 0)
			k->lo = buf_slice(&ts->v[i].lo);
		if (sl_slice_cmp(buf_slice(&ts->v[i].hi), k->hi) > 0)
			k->hi = buf_slice(&ts->v[i].hi);
	}
	k->prefix = 0;
	while (k->prefix < k->lo.len && k->prefix < k->hi.len && k->lo.data[k->prefix] == k->hi.data[k->prefix])
		k->prefix++;
	k->span = draw_key_value(k, k->hi) - draw_key_value(k, k->lo);
}

/* One run: its tables on the key axis. */
static void draw_lsm_run(draw_t *d, const draw_tables_t *ts, const draw_keys_t *k, int level,
			 size_t run, uint64_t biggest)
{
	for (size_t i = 0; i < ts->n; i++) {
		const draw_table_t *v = &ts->v[i];
		if (v->t.level != level || v->t.run != run)
			continue;
		char lo[DRAW_KEY * 4 + 8], hi[DRAW_KEY * 4 + 8], tip[300];
		snprintf(tip, sizeof tip, "lsm-%06" PRIu64 ".sst: L%d run %zu, %.1f KiB, keys [%s .. %s], "
			 "sequences %" PRIu64 "..%" PRIu64, v->t.number, level, run, v->t.bytes / 1024.0,
			 draw_key(lo, sizeof lo, buf_slice(&v->lo)), draw_key(hi, sizeof hi, buf_slice(&v->hi)),
			 v->t.min_seq, v->t.max_seq);
		double x0 = draw_key_x(k, buf_slice(&v->lo)), x1 = draw_key_x(k, buf_slice(&v->hi));
		double h = 6 + 16 * (double)v->t.bytes / (double)biggest; /* taller = bigger */
		draw_rect(d, x0, d->y + 22 - h, x1 - x0 < 2 ? 2 : x1 - x0, h, level == 0 ? "#e15759" : "#76b7b2", tip);
	}
}

/* The memtable: what the logs hold that no table does yet (replayed at this open). */
static void draw_lsm_memtable(draw_t *d, lsm_t *db)
{
	lsm_stats_t st;
	lsm_get_stats(db, &st);
	char tip[128];
	snprintf(tip, sizeof tip, "memtable: %.1f KiB (the logs' writes not yet in a table; the bar "
		 "is to the default %u MiB)", st.memtable_bytes / 1024.0, LSM_MEMTABLE_BYTES >> 20);
	draw_text(d, 8, d->y + 14, 12, "start", "memtable");
	double full = fmin(1.0, st.memtable_bytes / (double)LSM_MEMTABLE_BYTES);
	draw_rect(d, DRAW_LEFT, d->y + 2, DRAW_PLOT * full, 14, "#edc948", tip);
	draw_text(d, DRAW_LEFT + DRAW_PLOT, d->y + 14, 10, "end", "%.1f KiB", st.memtable_bytes / 1024.0);
	d->y += 30;
}

/* Each level: its name, size and a bar to scale, then a row per run. */
static void draw_lsm_levels(draw_t *d, const draw_tables_t *ts)
{
	uint64_t level_bytes[LSM_LEVELS] = { 0 }, biggest = 1, biggest_level = 1;
	size_t runs[LSM_LEVELS] = { 0 };
	for (size_t i = 0; i < ts->n; i++) {
		level_bytes[ts->v[i].t.level] += ts->v[i].t.bytes;
		biggest = ts->v[i].t.bytes > biggest ? ts->v[i].t.bytes : biggest;
		if (ts->v[i].t.run + 1 > runs[ts->v[i].t.level])
			runs[ts->v[i].t.level] = ts->v[i].t.run + 1;
	}
	for (int l = 0; l < LSM_LEVELS; l++)
		biggest_level = level_bytes[l] > biggest_level ? level_bytes[l] : biggest_level;
	draw_keys_t k;
	draw_keys_init(&k, ts);
	for (int l = 0; l < LSM_LEVELS; l++) {
		if (runs[l] == 0)
			continue;
		char tip[64];
		snprintf(tip, sizeof tip, "L%d: %.2f MB", l, level_bytes[l] / 1e6);
		draw_text(d, 8, d->y + 18, 12, "start", "L%d", l);
		draw_text(d, 34, d->y + 18, 10, "start", "%.2f MB", level_bytes[l] / 1e6);
		draw_rect(d, 8, d->y + 24, 90.0 * (double)level_bytes[l] / (double)biggest_level, 5,
			  "#555", tip);
		for (size_t r = 0; r < runs[l]; r++) {
			draw_lsm_run(d, ts, &k, l, r, biggest);
			d->y += 28;
		}
		d->y += 8;
	}
	char lo[DRAW_KEY * 4 + 8], hi[DRAW_KEY * 4 + 8];
	draw_text(d, DRAW_LEFT, d->y + 10, 10, "start", "%s", draw_key(lo, sizeof lo, k.lo));
	draw_text(d, DRAW_LEFT + DRAW_PLOT, d->y + 10, 10, "end", "%s", draw_key(hi, sizeof hi, k.hi));
	d->y += 24;
}

static int draw_lsm(draw_t *d, const char *dir, sl_err_t *err)
{
	env_t *env = env_new();
	lsm_opts_t o = { .read_only = true };
	lsm_t *db = NULL;
	draw_tables_t ts = { 0 };
	int rc = env ? lsm_open(env, dir, &o, &db, err) : SL_NOMEM;
	if (rc == SL_OK && (rc = lsm_tables(db, draw_collect_table, &ts)) != SL_OK)
		sl_errf(err, rc, "%s: out of memory", dir);
	if (rc == SL_OK) {
		snprintf(d->summary, sizeof d->summary, "LSM tree: %zu tables; each on the key axis by its "
			 "key range (taller = bigger); the bar under each level's name is its size, to "
			 "scale", ts.n);
		draw_lsm_memtable(d, db);
		if (ts.n > 0)
			draw_lsm_levels(d, &ts);
		lsm_dump(db, d->dump);
	}
	for (size_t i = 0; i < ts.n; i++) {
		buf_free(&ts.v[i].lo);
		buf_free(&ts.v[i].hi);
	}
	free(ts.v);
	sl_err_t ignored;
	if (db)
		lsm_close(db, &ignored);
	env_free(env);
	return rc;
}

/* ---------------------------------------------------------------- inverted index */

typedef struct draw_segs {
	inverted_segment_t *v;
	size_t n, cap;
} draw_segs_t;

static int draw_collect_segment(void *ctx, const inverted_segment_t *s)
{
	draw_segs_t *ss = ctx;
	inverted_segment_t *at = draw_push(&ss->v, &ss->n, &ss->cap, sizeof *at);
	if (at == NULL)
		return SL_NOMEM;
	*at = *s;
	return SL_OK;
}

static int draw_inverted(draw_t *d, const char *dir, sl_err_t *err)
{
	env_t *env = env_new();
	inverted_opts_t o = inverted_defaults();
	o.read_only = true;
	o.create = false;
	inverted_t *ix = NULL;
	draw_segs_t ss = { 0 };
	int rc = env ? inverted_open(env, dir, &o, &ix, err) : SL_NOMEM;
	if (rc == SL_OK && (rc = inverted_segments(ix, draw_collect_segment, &ss)) != SL_OK)
		sl_errf(err, rc, "%s: out of memory", dir);
	if (rc == SL_OK) {
		uint64_t docs = 0;
		for (size_t i = 0; i < ss.n; i++)
			docs += ss.v[i].docs;
		snprintf(d->summary, sizeof d->summary, "inverted index: %zu segments, oldest first, each "
			 "as wide as its documents (deleted ones shaded, dropped at the next merge)", ss.n);
		draw_text(d, 8, d->y + 26, 12, "start", "segments");
		double x = DRAW_LEFT;
		for (size_t i = 0; i < ss.n; i++) {
			const inverted_segment_t *s = &ss.v[i];
			double w = DRAW_PLOT * (double)s->docs / (double)(docs ? docs : 1);
			char tip[200];
			snprintf(tip, sizeof tip, "segment %06" PRIu64 ": %u documents (%u deleted), %" PRIu64
				 " tokens, %" PRIu64 " terms, %.1f KiB", s->number, s->docs, s->deleted,
				 s->tokens, s->terms, s->bytes / 1024.0);
			draw_rect(d, x, d->y, w, 40, "#b07aa1", tip);
			double dw = w * (double)s->deleted / (double)(s->docs ? s->docs : 1);
			if (dw > 0)
				draw_rect(d, x + w - dw, d->y, dw, 40, "#bab0ac", tip);
			if (w >= 60) {
				draw_text(d, x + w / 2, d->y + 54, 10, "middle", "%06" PRIu64, s->number);
				draw_text(d, x + w / 2, d->y + 66, 10, "middle", "%u docs, %" PRIu64 " terms",
					  s->docs, s->terms);
			}
			x += w;
		}
		d->y += 80;
		inverted_dump(ix, d->dump);
	}
	free(ss.v);
	inverted_close(ix);
	env_free(env);
	return rc;
}

/* ---------------------------------------------------------------- time series */

typedef struct draw_tseg {
	ts_segment_t s;
	char name[64];            /* the file's name, or "head" */
} draw_tseg_t;

typedef struct draw_tsegs {
	draw_tseg_t *v;
	size_t n, cap;
} draw_tsegs_t;

static int draw_collect_tseg(void *ctx, const ts_segment_t *s)
{
	draw_tsegs_t *ss = ctx;
	draw_tseg_t *d = draw_push(&ss->v, &ss->n, &ss->cap, sizeof *d);
	if (d == NULL)
		return SL_NOMEM;
	d->s = *s;
	const char *slash = s->path ? strrchr(s->path, '/') : NULL;
	snprintf(d->name, sizeof d->name, "%s", s->path ? (slash ? slash + 1 : s->path) : "head");
	d->s.path = NULL; /* not valid after the call: name holds it */
	return SL_OK;
}

/* Five times under the axis, as RFC 3339 to the second. */
static void draw_time_axis(draw_t *d, int64_t lo, int64_t hi, ts_unit_t unit)
{
	static const int64_t per_sec[] = { 1, 1000, 1000000, 1000000000 };
	draw_line(d, DRAW_LEFT, d->y, DRAW_LEFT + DRAW_PLOT, d->y);
	for (int i = 0; i <= 4; i++) {
		int64_t t = lo + (int64_t)((double)(hi - lo) * i / 4);
		char when[64];
		ts_format_time(t / per_sec[unit], TS_UNIT_S, when, sizeof when);
		double x = DRAW_LEFT + DRAW_PLOT * i / 4.0;
		draw_line(d, x, d->y, x, d->y + 4);
		draw_text(d, x, d->y + 16, 10, i == 0 ? "start" : i == 4 ? "end" : "middle", "%s", when);
	}
	d->y += 28;
}

static void draw_ts_segments(draw_t *d, const draw_tsegs_t *ss, ts_unit_t unit)
{
	int64_t lo = ss->v[0].s.mint, hi = ss->v[0].s.maxt;
	for (size_t i = 1; i < ss->n; i++) {
		lo = ss->v[i].s.mint < lo ? ss->v[i].s.mint : lo;
		hi = ss->v[i].s.maxt > hi ? ss->v[i].s.maxt : hi;
	}
	double span = hi > lo ? (double)(hi - lo) : 1;
	draw_text(d, 8, d->y + 26, 12, "start", "segments");
	for (size_t i = 0; i < ss->n; i++) {
		const ts_segment_t *s = &ss->v[i].s;
		const char *name = ss->v[i].name;
		bool head = strcmp(name, "head") == 0;
		double x0 = DRAW_LEFT + DRAW_PLOT * (double)(s->mint - lo) / span;
		double x1 = DRAW_LEFT + DRAW_PLOT * (double)(s->maxt - lo) / span;
		char a[64], b[64], tip[400];
		ts_format_time(s->mint, unit, a, sizeof a);
		ts_format_time(s->maxt, unit, b, sizeof b);
		snprintf(tip, sizeof tip, "%s: [%s, %s), %" PRIu64 " series, %" PRIu64 " %s, %.1f KiB",
			 name, a, b, s->series, s->points, s->interval_ms ? "summaries" : "points",
			 s->bytes / 1024.0);
		draw_rect(d, x0, d->y + (head ? 44 : 0), x1 - x0, 40,
			  head ? "#59a14f" : s->interval_ms ? "#f28e2b" : "#4e79a7", tip);
		if (x1 - x0 >= 70)
			draw_text(d, (x0 + x1) / 2, d->y + (head ? 44 : 0) + 24, 10, "middle",
				  "%s%" PRIu64 " pts", head ? "head: " : "", s->points);
	}
	d->y += 92;
	draw_time_axis(d, lo, hi, unit);
}

static int draw_ts(draw_t *d, const char *dir, sl_err_t *err)
{
	env_t *env = env_new();
	ts_opts_t o = { .read_only = true };
	ts_t *db = NULL;
	draw_tsegs_t ss = { 0 };
	int rc = env ? ts_open(env, dir, &o, &db, err) : SL_NOMEM;
	if (rc == SL_OK && (rc = ts_segments(db, draw_collect_tseg, &ss)) != SL_OK)
		sl_errf(err, rc, "%s: out of memory", dir);
	if (rc == SL_OK) {
		size_t segs = 0;
		for (size_t i = 0; i < ss.n; i++)
			segs += strcmp(ss.v[i].name, "head") != 0;
		snprintf(d->summary, sizeof d->summary, "time series: %zu segments and the head on a "
			 "time axis (blue raw points, orange downsampled summaries, green the head)",
			 segs);
		if (ss.n > 0)
			draw_ts_segments(d, &ss, ts_unit(db));
		ts_dump(db, d->dump);
	}
	free(ss.v);
	sl_err_t ignored;
	if (db)
		ts_close(db, &ignored);
	env_free(env);
	return rc;
}

/* ---------------------------------------------------------------- the store's kind */

typedef int (*draw_fn)(draw_t *d, const char *dir, sl_err_t *err);

/* Which structure dir holds, by the file that names it. */
static draw_fn draw_kind(const char *dir, char *kind, size_t n)
{
	static const struct {
		const char *file, *kind;
		draw_fn fn;
	} kinds[] = {
		{ "btree.db", "btree", draw_btree },   { "hash.db", "hash", draw_hash },
		{ "lsm.manifest", "lsm", draw_lsm },   { "COMMIT", "inverted index", draw_inverted },
		{ "META", "time series", draw_ts },
	};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		char path[4200];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, kinds[i].file);
		if (stat(path, &st) == 0) {
			snprintf(kind, n, "%s", kinds[i].kind);
			return kinds[i].fn;
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------- output */

static void draw_write_svg(FILE *out, const draw_t *d, const char *dir)
{
	double h = d->y + 10;
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" "
		"viewBox=\"0 0 %d %.0f\" font-family=\"sans-serif\">\n", DRAW_W, h, DRAW_W, h);
	fprintf(out, "<rect width=\"%d\" height=\"%.0f\" fill=\"white\"/>\n", DRAW_W, h);
	fputs("<text x=\"8\" y=\"20\" font-size=\"15\" font-weight=\"bold\">", out);
	report_xml_text(out, d->kind);
	fputs(": ", out);
	report_xml_text(out, dir);
	fputs("</text>\n<text x=\"8\" y=\"38\" font-size=\"11\">", out);
	report_xml_text(out, d->summary);
	fputs("</text>\n", out);
	fwrite(d->svg_buf, 1, d->svg_len, out);
	fputs("</svg>\n", out);
}

static void draw_write_html(FILE *out, const draw_t *d, const char *dir)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>storelab "
	      "inspect ", out);
	report_xml_text(out, dir);
	fputs("</title>\n<style>body{font-family:sans-serif;margin:1.5em;max-width:1000px}"
	      "pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:12px}</style>\n"
	      "</head><body>\n<h1>", out);
	report_xml_text(out, d->kind);
	fputs(": ", out);
	report_xml_text(out, dir);
	fputs("</h1>\n<p>", out);
	report_xml_text(out, d->summary);
	fputs(". Hover over a box for its figures.</p>\n", out);
	draw_write_svg(out, d, dir);
	fputs("<h2>The structure, decoded</h2>\n<pre>", out);
	char *text = malloc(d->dump_len + 1);
	if (text != NULL) {
		memcpy(text, d->dump_buf, d->dump_len);
		text[d->dump_len] = 0;
		report_xml_text(out, text);
		free(text);
	}
	fputs("</pre>\n<p>Written by <code>storelab inspect --html</code>; the page needs no "
	      "network.</p>\n</body></html>\n", out);
}

/* Writes the picture to path with write(out, d, dir); false (said on stderr) on failure. */
static bool draw_save(const char *path, void (*write)(FILE *, const draw_t *, const char *),
		      const draw_t *d, const char *dir)
{
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "storelab inspect: cannot write %s\n", path);
		return false;
	}
	write(f, d, dir);
	if (fclose(f) != 0) {
		fprintf(stderr, "storelab inspect: cannot write %s (disk full?)\n", path);
		return false;
	}
	printf("wrote %s\n", path);
	return true;
}

int inspect_draw(const char *dir, const char *svg_path, const char *html_path)
{
	draw_t d = { .y = 56 };
	draw_fn fn = draw_kind(dir, d.kind, sizeof d.kind);
	if (fn == NULL) {
		fprintf(stderr, "storelab inspect: %s: --svg and --html draw a btree, hash, lsm, "
			"inverted index or time-series folder, and this is none of them\n", dir);
		return 1;
	}
	d.svg = open_memstream(&d.svg_buf, &d.svg_len);
	d.dump = open_memstream(&d.dump_buf, &d.dump_len);
	sl_err_t err = { 0, "" };
	int rc = d.svg && d.dump ? fn(&d, dir, &err) : sl_errf(&err, SL_NOMEM, "out of memory");
	if (d.svg)
		fclose(d.svg);
	if (d.dump)
		fclose(d.dump);
	bool ok = rc == SL_OK;
	if (!ok)
		fprintf(stderr, "storelab inspect: cannot draw %s: %s\n", dir, err.msg);
	if (ok && svg_path)
		ok = draw_save(svg_path, draw_write_svg, &d, dir);
	if (ok && html_path)
		ok = draw_save(html_path, draw_write_html, &d, dir);
	free(d.svg_buf);
	free(d.dump_buf);
	return ok ? 0 : 1;
}
