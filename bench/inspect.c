/* inspect.c — `storelab inspect` (see inspect.h). */
#include "bench/inspect.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/cmdline.h"
#include "engine/batch.h"
#include "engine/checksum.h"
#include "engine/codec.h"
#include "engine/pager.h"
#include "engine/trace.h"
#include "engine/wal.h"
#include "index/btree.h"
#include "index/inverted.h"
#include "kv/lsm_key.h"
#include "kv/shard.h"
#include "kv/table.h"
#include "kv/sstable.h"
#include "kv/ts.h"
#include "kv/ts_seg.h"
#include "kv/ts_wal.h"

#define INSPECT_SHOW_RECORDS 20

static const char inspect_usage[] =
	"usage: storelab inspect PATH [--read-only] [--svg FILE] [--html FILE]\n"
	"Decodes a file or store directory written by storelab: a log (records, their\n"
	"checksums, the torn tail if any), a paged file (header, free list, every\n"
	"page checksum), a checkpoint's double-write buffer (its slots, whether opening\n"
	"would copy them home), an SSTable (properties, every block and the key order) or an\n"
	"inverted index's segment, COMMIT or deleted-docs bitmap (read whole and checked), a\n"
	"time-series segment or saved head (every chunk and the label index checked), META.\n"
	"A directory lists each file with its kind. inspect only reads, always (--read-only\n"
	"is accepted for symmetry with shell and trace); it exits 1 when anything is damaged.\n"
	"  --svg FILE   draw the store in the folder PATH (btree, hash, lsm, inverted index,\n"
	"               time series): nodes and their fill, buckets, levels on the key axis,\n"
	"               segments, a time axis\n"
	"  --html FILE  the same drawing and the structure's dump in one page (no network)\n";

/* Whether name ends with suffix. */
static bool inspect_ends(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);
	return n >= k && strcmp(name + n - k, suffix) == 0;
}

/*
 * The kind a file should be by the names the kit gives its files (lsm-000012.sst,
 * lsm-000013.log, lsm.manifest, btree.db, btree.db-log, ref.log, ...); NULL for
 * a name the kit does not use. A file whose name says one kind and whose bytes
 * say none is damaged, not foreign.
 */
static const char *inspect_kind_by_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	if (inspect_ends(name, ".sst"))
		return "table";
	if (inspect_ends(name, ".log") || inspect_ends(name, "-log") ||
	    strcmp(name, "lsm.manifest") == 0)
		return "log";
	if (inspect_ends(name, "-dwb"))
		return "double-write buffer";
	if (strcmp(name, "btree.db") == 0 || strcmp(name, "hash.db") == 0)
		return "paged";
	if (inspect_ends(name, ".seg"))
		return "segment";
	if (inspect_ends(name, ".del") || strcmp(name, "COMMIT") == 0)
		return "index file";
	if (inspect_ends(name, ".tsseg"))
		return "ts segment";
	if (strcmp(name, "shard.map") == 0)
		return "shard map";
	if (strcmp(name, "table.schema") == 0)
		return "table schema";
	return NULL;
}

/*
 * The kind of file at path: "log" or "paged" from its first 8 bytes, "table"
 * from its last 8 (an SSTable's magic ends its footer); NULL for none of these.
 */
static const char *inspect_kind(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char magic[8] = { 0 }, tail[8] = { 0 };
	size_t n = fread(magic, 1, sizeof magic, f);
	bool has_tail = fseek(f, -8, SEEK_END) == 0 && fread(tail, 1, sizeof tail, f) == 8;
	fclose(f);
	if (n == 8 && memcmp(magic, WAL_MAGIC, 8) == 0)
		return "log";
	if (n == 8 && memcmp(magic, PAGER_MAGIC, 8) == 0)
		return "paged";
	if (n == 8 && memcmp(magic, PAGER_DWB_MAGIC, 8) == 0)
		return "double-write buffer";
	if (has_tail && memcmp(tail, SST_MAGIC, 8) == 0)
		return "table";
	if (n == 8 && memcmp(magic, INVERTED_SEG_MAGIC, 8) == 0)
		return "segment";
	if (n == 8 && (memcmp(magic, INVERTED_COMMIT_MAGIC, 8) == 0 ||
		       memcmp(magic, INVERTED_DEL_MAGIC, 8) == 0))
		return "index file";
	if (n == 8 && memcmp(magic, TS_SEG_MAGIC, 8) == 0)
		return "ts segment";
	if (n == 8 && memcmp(magic, TS_META_MAGIC, 8) == 0)
		return "ts meta";
	if (n >= 4 && memcmp(magic, SHARD_MAP_MAGIC, 4) == 0)
		return "shard map";
	if (n == 8 && memcmp(magic, TABLE_SCHEMA_MAGIC, 8) == 0)
		return "table schema";
	return NULL;
}

static int inspect_ts_def(void *ctx, uint32_t ref, sl_slice_t name, sl_err_t *err)
{
	(void)ref;
	(void)name;
	(void)err;
	((uint64_t *)ctx)[0]++;
	return SL_OK;
}

static int inspect_ts_point(void *ctx, uint32_t ref, int64_t ts, double v, sl_err_t *err)
{
	(void)ref;
	(void)v;
	(void)err;
	uint64_t *c = ctx;
	c[1]++;
	c[2] = c[1] == 1 || ts < (int64_t)c[2] ? (uint64_t)ts : c[2];
	c[3] = c[1] == 1 || ts > (int64_t)c[3] ? (uint64_t)ts : c[3];
	return SL_OK;
}

/* A time-series log record (kv/ts_wal.h): series named, points and their times. */
static bool inspect_ts_record(sl_slice_t rec)
{
	uint64_t c[4] = { 0, 0, 0, 0 }; /* series named, points, oldest, newest */
	ts_wal_visitor_t v = { inspect_ts_def, inspect_ts_point, c };
	if (ts_wal_decode(rec, &v, NULL) != SL_OK)
		return false;
	printf(", time series: %llu series named, %llu points from %lld to %lld\n",
	       (unsigned long long)c[0], (unsigned long long)c[1], (long long)c[2], (long long)c[3]);
	return true;
}

/* What a log's records hold, told by the file's name (the bytes alone are ambiguous:
 * an LSM record's sequence number can read as a batch's count). */
typedef enum inspect_log_kind {
	LOG_BATCH,    /* ref.log: one encoded batch per record */
	LOG_LSM,      /* lsm-NNNNNN.log: a sequence number, then a batch */
	LOG_TS,       /* wal-NNNNNNNN.log: time-series records */
	LOG_MANIFEST, /* lsm.manifest: version edits */
	LOG_TABLE,    /* table.log: row changes, a batch per structure */
	LOG_OTHER,    /* a pager's operation log or double-write copies */
} inspect_log_kind_t;

static inspect_log_kind_t inspect_log_kind(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	if (strcmp(name, "ref.log") == 0)
		return LOG_BATCH;
	if (strncmp(name, "lsm-", 4) == 0 && inspect_ends(name, ".log"))
		return LOG_LSM;
	if (strncmp(name, "wal-", 4) == 0 && inspect_ends(name, ".log"))
		return LOG_TS;
	if (strcmp(name, "table.log") == 0)
		return LOG_TABLE;
	return strcmp(name, "lsm.manifest") == 0 ? LOG_MANIFEST : LOG_OTHER;
}

/* A table's row change: per structure (0 the rows, 1 + i index i), its operations. */
static void inspect_table_record(sl_slice_t rec)
{
	const uint8_t *p = rec.data, *end = rec.data + rec.len;
	printf(", a row change:");
	while (p < end) {
		uint8_t s = *p++;
		uint64_t len;
		size_t got = codec_get_varint(p, end, &len);
		if (got == 0 || len > (uint64_t)(end - p - got) || len < 4) {
			printf(" (does not decode)\n");
			return;
		}
		uint32_t ops = codec_get_u32(p + got);
		if (s == 0)
			printf(" rows %u op%s", ops, ops == 1 ? "" : "s");
		else
			printf("; index %u: %u op%s", s - 1, ops, ops == 1 ? "" : "s");
		p += got + len;
	}
	putchar('\n');
}

/* One line describing a record: its batch operations when it is a batch. */
static void inspect_record(inspect_log_kind_t kind, uint64_t n, uint64_t off, sl_slice_t rec)
{
	printf("  record %llu at offset %llu: %zu bytes", (unsigned long long)n,
	       (unsigned long long)off, rec.len);
	batch_reader_t r;
	bool lsm = kind == LOG_LSM && rec.len >= 8;
	if (kind == LOG_TS && inspect_ts_record(rec))
		return;
	if (kind == LOG_TABLE) {
		inspect_table_record(rec);
		return;
	}
	if ((kind != LOG_BATCH && !lsm) ||
	    batch_reader_init(&r, lsm ? sl_slice(rec.data + 8, rec.len - 8) : rec, NULL) != SL_OK) {
		printf("%s\n", kind == LOG_MANIFEST ? ", a version edit" : "");
		return;
	}
	if (lsm)
		printf(", from sequence %llu", (unsigned long long)codec_get_u64(rec.data));
	int op, shown = 0;
	sl_slice_t k, v;
	char text[64];
	printf(", batch of %u:", r.left);
	while (batch_reader_next(&r, &op, &k, &v, NULL) == SL_OK && shown++ < 3)
		printf(" %s %s", op == BATCH_OP_PUT ? "put" : "del",
		       trace_bytes(text, sizeof text, k.data, k.len, 16));
	printf("%s\n", shown > 3 ? " ..." : "");
}

static int inspect_log(const char *path)
{
	env_t *env = env_new();
	wal_reader_t *r;
	sl_err_t err = { 0, "" };
	int rc = env ? wal_reader_open(env, path, &r, &err) : SL_NOMEM;
	if (rc != SL_OK) {
		printf("%s: %s\n", path, err.msg);
		env_free(env);
		return 1;
	}
	printf("%s: storelab log, format version %d\n", path, WAL_VERSION);
	sl_slice_t rec;
	uint64_t off, n = 0, bytes = 0;
	while ((rc = wal_reader_next(r, &rec, &off, &err)) == SL_OK) {
		if (n < INSPECT_SHOW_RECORDS)
			inspect_record(inspect_log_kind(path), n, off, rec);
		n++;
		bytes += rec.len;
	}
	if (n > INSPECT_SHOW_RECORDS)
		printf("  ... %llu more records\n", (unsigned long long)(n - INSPECT_SHOW_RECORDS));
	printf("  %llu records, %llu payload bytes, all checksums good\n", (unsigned long long)n,
	       (unsigned long long)bytes);
	int status = 0;
	if (rc == SL_NOTFOUND) {
		const wal_tail_t *t = wal_reader_tail(r);
		if (t->dropped > 0)
			printf("  torn tail: %llu bytes after offset %llu ignored (%s)\n",
			       (unsigned long long)t->dropped, (unsigned long long)t->valid_end, t->why);
	} else {
		printf("  DAMAGED: %s\n", err.msg);
		status = 1;
	}
	wal_reader_close(r);
	env_free(env);
	return status;
}

static int inspect_paged(const char *path)
{
	env_t *env = env_new();
	pager_t *p;
	sl_err_t err = { 0, "" };
	pager_opts_t opts = { .cache_bytes = 1 << 20, .read_only = true }; /* inspect never writes */
	int rc = env ? pager_open(env, path, &opts, &p, &err) : SL_NOMEM;
	if (rc != SL_OK) {
		printf("%s: %s\n", path, err.msg);
		env_free(env);
		return 1;
	}
	printf("%s: storelab paged file, format version %d\n", path, PAGER_VERSION);
	printf("  page size %u, %u pages (header included), %u on the free list\n",
	       pager_page_size(p), pager_page_count(p), pager_free_count(p));
	const uint8_t *meta = pager_meta(p);
	if (memcmp(meta, BTREE_MAGIC, 8) == 0)
		printf("  owner: B+tree (format %u), root page %u, height %u, %llu keys\n",
		       codec_get_u32(meta + 8), codec_get_u32(meta + 12), codec_get_u32(meta + 16),
		       (unsigned long long)codec_get_u64(meta + 20));
	rc = pager_check(p, NULL, &err);
	if (rc == SL_OK)
		printf("  every page checksum and the free list check out\n");
	else
		printf("  DAMAGED: %s\n", err.msg);
	pager_close(p, NULL);
	env_free(env);
	return rc == SL_OK ? 0 : 1;
}

static int inspect_table(const char *path)
{
	env_t *env = env_new();
	sst_t *t;
	sl_err_t err = { 0, "" };
	int rc = env ? sst_open(env, path, 0, NULL, &t, &err) : SL_NOMEM;
	if (rc != SL_OK) {
		printf("%s: %s\n", path, err.msg);
		env_free(env);
		return 1;
	}
	const sst_props_t *p = sst_props(t);
	char lo[80], hi[80];
	sl_slice_t s = buf_slice(&p->smallest), l = buf_slice(&p->largest);
	printf("%s: storelab SSTable, format version %d, %llu bytes\n", path, SST_VERSION,
	       (unsigned long long)sst_file_bytes(t));
	printf("  %llu entries (%llu tombstones) in %llu data blocks, %llu bytes of keys and values\n",
	       (unsigned long long)p->entries, (unsigned long long)p->deletions,
	       (unsigned long long)p->data_blocks, (unsigned long long)p->raw_bytes);
	printf("  keys %s .. %s, sequences %llu .. %llu\n",
	       trace_bytes(lo, sizeof lo, s.data, s.len - LSM_TRAILER_BYTES, 24),
	       trace_bytes(hi, sizeof hi, l.data, l.len - LSM_TRAILER_BYTES, 24),
	       (unsigned long long)p->min_seq, (unsigned long long)p->max_seq);
	/* Reading every entry verifies every data block's checksum and the order. */
	sst_iter_t *it;
	uint64_t n = 0;
	bool ordered = true;
	buf_t prev = BUF_INIT;
	rc = sst_iter_new(t, &it);
	for (sst_iter_first(it); rc == SL_OK && sst_iter_valid(it); sst_iter_next(it), n++) {
		if (n > 0 && lsm_ikey_cmp(buf_slice(&prev), sst_iter_key(it)) >= 0)
			ordered = false;
		buf_set(&prev, sst_iter_key(it).data, sst_iter_key(it).len);
	}
	if (rc == SL_OK)
		rc = sst_iter_status(it, &err);
	if (rc == SL_OK && (!ordered || n != p->entries))
		rc = sl_errf(&err, SL_CORRUPT, "%llu entries read, %s",
			     (unsigned long long)n, ordered ? "the properties say otherwise"
							    : "keys out of order");
	if (rc == SL_OK)
		printf("  every block checksum checks out; keys in order\n");
	else
		printf("  DAMAGED: %s\n", err.msg);
	buf_free(&prev);
	sst_iter_free(it);
	sst_close(t);
	env_free(env);
	return rc == SL_OK ? 0 : 1;
}

/* ---------------------------------------------------------------- inverted index */

static int inspect_segment(const char *path)
{
	env_t *env = env_new();
	inverted_segment_info_t in;
	sl_err_t err = { 0, "" };
	int rc = env ? inverted_inspect_segment(env, path, &in, &err) : SL_NOMEM;
	env_free(env);
	printf("%s: inverted-index segment, %llu bytes\n", path, (unsigned long long)in.file_bytes);
	printf("  %llu documents, %llu tokens (shortest document %u), %s\n",
	       (unsigned long long)in.docs, (unsigned long long)in.tokens, in.shortest_doc,
	       in.positions ? "with positions" : "no positions");
	printf("  %llu terms (%llu with their postings inline in the dictionary), %llu postings\n",
	       (unsigned long long)in.terms, (unsigned long long)in.inline_terms,
	       (unsigned long long)in.postings);
	printf("  postings area %llu bytes (positions %llu), dictionary %llu bytes in %u blocks,\n"
	       "  ids %llu bytes in %u blocks, document table and bloom filter %llu bytes\n",
	       (unsigned long long)in.postings_bytes, (unsigned long long)in.positions_bytes,
	       (unsigned long long)in.dict_bytes, in.dict_blocks, (unsigned long long)in.id_bytes,
	       in.id_blocks, (unsigned long long)in.table_bytes);
	if (in.listed_postings > 0)
		printf("  doc/tf lists: %.2f bytes per posting bit-packed in blocks of 128, headers "
		       "included (%.2f as a varint per gap and per tf)\n",
		       (double)in.packed_bytes / in.listed_postings,
		       (double)in.varint_bytes / in.listed_postings);
	if (rc != SL_OK) {
		printf("  DAMAGED: %s\n", err.msg);
		return 1;
	}
	printf("  every block, list, position and id checked: OK\n");
	return 0;
}

/* A time-series segment (or saved head): its range, series, label index, every chunk checked. */
static int inspect_ts_segment(const char *path)
{
	env_t *env = env_new();
	ts_seg_t *s = NULL;
	sl_err_t err = { 0, "" };
	int rc = env ? ts_seg_open(env, path, &s, &err) : SL_NOMEM;
	if (rc != SL_OK) {
		printf("%s: time-series segment, DAMAGED: %s\n", path, err.msg);
		env_free(env);
		return 1;
	}
	const ts_seg_meta_t *m = ts_seg_meta(s);
	printf("%s: time-series %s, format version %d, %llu bytes\n", path,
	       m->flags & TS_SEG_HEAD ? "saved head" : "segment", TS_SEG_VERSION,
	       (unsigned long long)ts_seg_bytes(s));
	printf("  seq %llu, timestamps in %s, range [%lld, %lld)\n", (unsigned long long)m->seq,
	       ts_unit_name((ts_unit_t)m->unit), (long long)m->mint, (long long)m->maxt);
	printf("  %u series, %llu points (%.3f bytes per point, the file whole), %u label pairs\n",
	       ts_seg_series_count(s), (unsigned long long)ts_seg_points(s),
	       ts_seg_points(s) ? (double)ts_seg_bytes(s) / ts_seg_points(s) : 0, ts_seg_pairs(s));
	for (uint32_t i = 0; i < m->nparents; i++)
		printf("%s%llu%s", i ? ", " : "  merged from segments ", (unsigned long long)m->parents[i],
		       i + 1 == m->nparents ? "\n" : "");
	for (uint32_t i = 0; i < ts_seg_series_count(s) && i < 5; i++) {
		const ts_chunk_ref_t *refs;
		size_t n = ts_seg_chunks(s, i, &refs);
		uint64_t pts = 0, bytes = 0;
		for (size_t k = 0; k < n; k++) {
			pts += refs[k].points;
			bytes += refs[k].bytes;
		}
		sl_slice_t name = ts_seg_series(s, i);
		printf("  %.*s: %zu chunks, %llu points, %llu bytes\n", (int)name.len,
		       (const char *)name.data, n, (unsigned long long)pts, (unsigned long long)bytes);
	}
	if (ts_seg_series_count(s) > 5)
		printf("  ... %u more series\n", ts_seg_series_count(s) - 5);
	rc = ts_seg_check(s, &err);
	if (rc == SL_OK)
		printf("  every chunk decoded and the label index matched against the names: OK\n");
	else
		printf("  DAMAGED: %s\n", err.msg);
	ts_seg_close(s);
	env_free(env);
	return rc == SL_OK ? 0 : 1;
}

/* A time-series store's META: its unit and block. */
static int inspect_ts_meta(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t m[28];
	bool whole = f != NULL && fread(m, 1, sizeof m, f) == sizeof m;
	if (f != NULL)
		fclose(f);
	if (!whole || codec_get_u32(m + 24) != (uint32_t)checksum_xxh3(m, 24, 0) || m[12] > TS_UNIT_NS) {
		printf("%s: time-series store META, DAMAGED (short, a bad checksum or an unknown unit)\n",
		       path);
		return 1;
	}
	printf("%s: time-series store META, version %u: timestamps in %s, blocks of %lld %s\n", path,
	       codec_get_u32(m + 8), ts_unit_name((ts_unit_t)m[12]), (long long)codec_get_u64(m + 16),
	       ts_unit_name((ts_unit_t)m[12]));
	return 0;
}

/* A sharded store's map: its partitioner, its nodes and (range) their key ranges. */
static int inspect_shard_map(const char *path)
{
	FILE *f = fopen(path, "rb");
	static uint8_t bytes[1 << 20];
	size_t n = f ? fread(bytes, 1, sizeof bytes, f) : 0;
	if (f != NULL)
		fclose(f);
	shard_map_t m;
	sl_err_t err = { 0, "" };
	if (shard_map_decode(sl_slice(bytes, n), path, &m, &err) != SL_OK) {
		printf("shard map, DAMAGED: %s\n", err.msg);
		return 1;
	}
	printf("%s: shard map, version %u: %u nodes of store %s, partitioned by %s", path,
	       SHARD_MAP_VERSION, m.n, m.store, part_kind_name((part_kind_t)m.kind));
	if (m.kind == PART_RING)
		printf(" (%u points per node)", m.vnodes);
	if (m.kind != PART_RANGE && m.pkey)
		printf(", hashing the first %u bytes of each key", m.pkey);
	if (m.kind == PART_RANGE)
		printf(", ranges split past %llu keys", (unsigned long long)m.split);
	printf("; next node id %u\n", m.next_id);
	if (m.flags & SHARD_MAP_TIDY)
		printf("  TIDY: a move was under way; the next open deletes what each node does "
		       "not own\n");
	for (uint32_t i = 0; i < m.n; i++) {
		printf("  slot %-3u node shard-%06u", i, m.ids[i]);
		if (m.kind == PART_RANGE) {
			buf_t lo = BUF_INIT, hi = BUF_INIT;
			if (i > 0)
				cmdline_escape(&lo, m.splits[i - 1], 1);
			if (i + 1 < m.n)
				cmdline_escape(&hi, m.splits[i], 1);
			printf("  keys [%.*s, %.*s)", i > 0 ? (int)lo.len : 5,
			       i > 0 ? (const char *)lo.data : "first", i + 1 < m.n ? (int)hi.len : 3,
			       i + 1 < m.n ? (const char *)hi.data : "end");
			buf_free(&lo);
			buf_free(&hi);
		}
		printf("\n");
	}
	shard_map_free(&m);
	return 0;
}

/* A table's definition: printed, and its checksum line checked. */
static int inspect_table_schema(const char *path)
{
	FILE *f = fopen(path, "rb");
	static char text[1 << 16];
	size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
	if (f != NULL)
		fclose(f);
	text[n] = 0;
	char sum[32];
	bool ok = n > 17;
	if (ok) {
		snprintf(sum, sizeof sum, "%016llx\n",
			 (unsigned long long)checksum_xxh3(text, n - 17, 0));
		ok = strcmp(text + n - 17, sum) == 0;
	}
	if (!ok) {
		printf("%s: table schema, DAMAGED (short, or a bad checksum)\n", path);
		return 1;
	}
	printf("%s: table schema (checksum good):\n", path);
	text[n - 17] = 0;
	for (char *line = strtok(text + 9, "\n"); line; line = strtok(NULL, "\n"))
		printf("  %s\n", line);
	return 0;
}

/* An index directory as a whole: its COMMIT, bitmaps and every segment, checked. */
static int inspect_index(const char *dir)
{
	env_t *env = env_new();
	inverted_opts_t opts = inverted_defaults();
	opts.read_only = true;
	opts.create = false;
	inverted_t *ix = NULL;
	inverted_stats_t st;
	sl_err_t err = { 0, "" };
	int rc = env ? inverted_open(env, dir, &opts, &ix, &err) : SL_NOMEM;
	if (rc == SL_OK)
		rc = inverted_stats(ix, &st, &err);
	if (rc == SL_OK) {
		printf("%s: inverted index, commit %llu: %llu live documents (%llu deleted, kept "
		       "until a merge), %llu segments, %llu terms, %llu postings\n",
		       dir, (unsigned long long)st.generation, (unsigned long long)st.docs,
		       (unsigned long long)st.deleted, (unsigned long long)st.segments,
		       (unsigned long long)st.terms, (unsigned long long)st.postings);
		rc = inverted_check(ix, &err);
	}
	inverted_close(ix);
	env_free(env);
	if (rc != SL_OK) {
		printf("%s: inverted index DAMAGED: %s\n", dir, err.msg);
		return 1;
	}
	printf("  COMMIT, bitmaps and segments checked: OK\n");
	return 0;
}

/* A COMMIT or bitmap is read with the index it belongs to. */
static int inspect_index_file(const char *path)
{
	char dir[4096];
	env_dir_of(path, dir, sizeof dir);
	printf("%s: part of the inverted index in %s, read with it:\n", path, dir);
	return inspect_index(dir);
}

/* A file named like one of the kit's whose bytes carry no magic number. */
static int inspect_missing_magic(const char *path, const char *kind)
{
	struct stat st;
	long long size = stat(path, &st) == 0 ? (long long)st.st_size : -1;
	bool table = strcmp(kind, "table") == 0;
	printf("%s: DAMAGED: named as a storelab %s, but %s (the file has %lld bytes%s)\n", path,
	       table ? "SSTable" : strcmp(kind, "log") == 0 ? "log" : "paged file",
	       table ? "its last 8 bytes are not the SSTable magic that ends a footer"
		     : "its first 8 bytes are not the magic number its format starts with",
	       size, table ? ": cut short?" : "");
	return 1;
}

/* A checkpoint's double-write buffer; empty after a clean close. */
static int inspect_dwb(const char *path)
{
	env_t *env = env_new();
	sl_err_t err = { 0, "" };
	int rc = env ? pager_dwb_dump(env, path, stdout, &err) : SL_NOMEM;
	if (rc != SL_OK)
		printf("%s: DAMAGED: %s\n", path, env ? err.msg : "out of memory");
	env_free(env);
	return rc != SL_OK;
}

static int inspect_file(const char *path)
{
	const char *named = inspect_kind_by_name(path);
	if (named != NULL && strcmp(named, "double-write buffer") == 0)
		return inspect_dwb(path); /* it judges its own bytes, an empty file included */
	const char *kind = inspect_kind(path);
	if (kind == NULL && named != NULL)
		return inspect_missing_magic(path, named);
	if (kind == NULL) {
		printf("%s: not a file storelab wrote (no known magic number at its start or "
		       "end)\n", path);
		return 1;
	}
	if (strcmp(kind, "table") == 0)
		return inspect_table(path);
	if (strcmp(kind, "double-write buffer") == 0)
		return inspect_dwb(path);
	if (strcmp(kind, "segment") == 0)
		return inspect_segment(path);
	if (strcmp(kind, "index file") == 0)
		return inspect_index_file(path);
	if (strcmp(kind, "ts segment") == 0)
		return inspect_ts_segment(path);
	if (strcmp(kind, "ts meta") == 0)
		return inspect_ts_meta(path);
	if (strcmp(kind, "shard map") == 0)
		return inspect_shard_map(path);
	if (strcmp(kind, "table schema") == 0)
		return inspect_table_schema(path);
	return strcmp(kind, "log") == 0 ? inspect_log(path) : inspect_paged(path);
}

static int inspect_dir(const char *dir)
{
	env_t *env = env_new();
	char **names = NULL;
	size_t n = 0;
	sl_err_t err = { 0, "" };
	int rc = env ? env_list_dir(env, dir, &names, &n, &err) : SL_NOMEM;
	env_free(env);
	if (rc != SL_OK) {
		printf("%s: %s\n", dir, err.msg);
		return 1;
	}
	printf("%s: %zu files\n", dir, n);
	int status = 0;
	bool index = false;
	for (size_t i = 0; i < n; i++)
		index |= strcmp(names[i], "COMMIT") == 0;
	if (index) {
		printf("\n");
		status |= inspect_index(dir);
	}
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		const char *kind = inspect_kind(path);
		if (index && kind != NULL && strcmp(kind, "index file") == 0) {
			printf("  %-24s %s\n", names[i],
			       strcmp(names[i], "COMMIT") == 0 ? "the index's commit (checked above)"
								: "deleted-docs bitmap (checked above)");
			continue;
		}
		if (kind == NULL && inspect_kind_by_name(path) != NULL) {
			printf("\n");
			status |= inspect_file(path); /* an empty buffer, or a magic number missing */
			continue;
		}
		struct stat st;
		if (kind == NULL && strncmp(names[i], "shard-", 6) == 0 && stat(path, &st) == 0 &&
		    S_ISDIR(st.st_mode)) {
			printf("\n");
			status |= inspect_dir(path); /* a sharded store's node */
			continue;
		}
		if (kind == NULL) {
			bool lock = strcmp(names[i], "LOCK") == 0;
			printf("  %-24s %s\n", names[i],
			       lock ? "lock file" : stat(path, &st) == 0 && S_ISDIR(st.st_mode)
							? "directory"
							: "not a storelab file");
			continue;
		}
		printf("\n");
		status |= inspect_file(path);
	}
	env_list_free(names, n);
	return status;
}

int inspect_main(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(inspect_usage, stdout);
		return 0;
	}
	const char *svg = NULL, *html = NULL;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--read-only") == 0)
			continue;
		const char **to = strcmp(argv[i], "--svg") == 0 ? &svg : strcmp(argv[i], "--html") == 0 ? &html : NULL;
		if (to == NULL || i + 1 >= argc) {
			fprintf(stderr, "storelab inspect: %s %s\n%s", argv[i],
				to ? "needs a file name" : "is not an option", inspect_usage);
			return 2;
		}
		*to = argv[++i];
	}
	if (argc < 2 || argv[1][0] == '-') {
		fputs(inspect_usage, stderr);
		return 2;
	}
	struct stat st;
	if (stat(argv[1], &st) != 0) {
		fprintf(stderr, "storelab inspect: %s: no such file or directory\n", argv[1]);
		return 1;
	}
	if ((svg || html) && !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "storelab inspect: --svg and --html draw a store folder; %s is a file\n",
			argv[1]);
		return 2;
	}
	if (svg || html)
		return inspect_draw(argv[1], svg, html);
	return S_ISDIR(st.st_mode) ? inspect_dir(argv[1]) : inspect_file(argv[1]);
}
