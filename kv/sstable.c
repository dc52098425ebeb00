/* sstable.c — writing and reading SSTables (format in sstable.h). */
#include "kv/sstable.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "engine/block.h"
#include "engine/bloom.h"
#include "engine/checksum.h"
#include "engine/codec.h"
#include "kv/lsm_key.h"

#define SST_WRITE_CHUNK (256u << 10) /* blocks gather in memory up to this, then one write */

/* Footer field offsets. */
enum {
	FOOT_INDEX_OFF = 0,
	FOOT_INDEX_LEN = 8,
	FOOT_FILTER_LEN = 12,
	FOOT_FILTER_OFF = 16,
	FOOT_PROPS_OFF = 24,
	FOOT_PROPS_LEN = 32,
	FOOT_VERSION = 36,
	FOOT_CHECKSUM = 40,
	FOOT_MAGIC = 48,
};

/* Where a block sits in the file. */
typedef struct sst_handle {
	uint64_t off;
	uint64_t len;
} sst_handle_t;

/*
 * Blocks compare internal keys. A key shorter than its trailer can only come from
 * damaged bytes that still passed a checksum (a fuzzer's doing): compare it
 * bytewise rather than read outside it; the iterators then report it as corrupt.
 */
static int block_cmp_ikey(sl_slice_t a, sl_slice_t b)
{
	if (a.len < LSM_TRAILER_BYTES || b.len < LSM_TRAILER_BYTES)
		return sl_slice_cmp(a, b);
	return lsm_ikey_cmp(a, b);
}

void sst_props_free(sst_props_t *p)
{
	buf_free(&p->smallest);
	buf_free(&p->largest);
}

/* ================================================================ writing */

struct sst_builder {
	env_file_t *file;
	env_t *env;
	sst_opts_t opts;
	uint64_t written;            /* bytes handed to the file */
	buf_t out;                   /* finished blocks not yet written */
	block_builder_t data;        /* the open data block */
	block_builder_t index;       /* one entry per finished data block */
	buf_t last_key;              /* the last internal key added */
	uint64_t *hashes;            /* bloom hashes of distinct user keys */
	size_t nhashes, hashes_cap;
	sst_props_t props;
	bool any;                    /* at least one entry */
	uint32_t lz4_misses;         /* data blocks in a row lz4 did not shrink enough */
};

/*
 * After this many data blocks in a row that lz4 could not shrink enough, only
 * every SST_LZ4_RETRY-th block is tried: the data (random bytes, say) does not
 * compress, and compressing every block just to throw the result away cost 16 %
 * of a fill's CPU (measured; the background thread shares two cores with writers).
 */
#define SST_LZ4_GIVE_UP 8
#define SST_LZ4_RETRY 16

/*
 * Raw data blocks are cut so that none crosses a page of the table's map it need
 * not cross. A get touches its whole block (restarts at the end, entries before),
 * and past the memory cap each page it touches is a device read of its own —
 * the maps are advised MADV_RANDOM — one after the other: a 4 KiB block starting
 * mid-page made most capped gets wait for two reads. So the open block is cut
 * before an entry that would carry it over a page boundary, and the next block
 * starts on the boundary, the gap (at most SST_PAD_MAX bytes, about one entry)
 * left as zeros no index entry points at. Only while blocks are stored raw: an
 * lz4 block's size is known only once it is cut. RocksDB's block_align is the
 * same idea.
 */
#define SST_PAGE 4096
#define SST_PAD_MAX 512

int sst_builder_open(env_t *env, const char *path, const sst_opts_t *opts, sst_builder_t **out,
		     sl_err_t *err)
{
	sst_builder_t *b = calloc(1, sizeof *b);
	if (b == NULL)
		return sl_errf(err, SL_NOMEM, "%s: out of memory", path);
	int rc = env_open(env, path, ENV_WRITE | ENV_CREATE | ENV_TRUNC, &b->file, err);
	if (rc != SL_OK) {
		free(b);
		return rc;
	}
	b->env = env;
	b->opts = *opts;
	if (b->opts.block_bytes == 0)
		b->opts.block_bytes = 4096;
	block_builder_init(&b->data, 0, block_cmp_ikey);
	if (b->opts.compress_min_pct)
		b->data.min_saving_pct = b->opts.compress_min_pct;
	/* Every index entry is a restart: the index is binary-searched, never scanned. */
	block_builder_init(&b->index, 1, block_cmp_ikey);
	b->props.min_seq = UINT64_MAX;
	*out = b;
	return SL_OK;
}

/* Writes the gathered blocks when force or when they pass the chunk size. */
static int sst_builder_drain(sst_builder_t *b, bool force, sl_err_t *err)
{
	if (!buf_ok(&b->out))
		return sl_errf(err, SL_NOMEM, "%s: out of memory", env_path(b->file));
	if (b->out.len == 0 || (!force && b->out.len < SST_WRITE_CHUNK))
		return SL_OK;
	int rc = env_append(b->file, b->out.data, b->out.len, err);
	buf_clear(&b->out);
	return rc;
}

/* Appends a finished block to the output; *h says where it went. */
static int sst_builder_emit(sst_builder_t *b, block_builder_t *bb, bool compress, sst_handle_t *h,
			    sl_err_t *err)
{
	size_t before = b->out.len;
	h->off = b->written; /* counts the gathered blocks too */
	int rc = block_builder_finish(bb, compress, &b->out);
	if (rc != SL_OK)
		return sl_errf(err, rc, "%s: out of memory", env_path(b->file));
	h->len = b->out.len - before;
	b->written += h->len;
	return SL_OK;
}

static void sst_encode_handle(sst_handle_t h, buf_t *out)
{
	buf_clear(out);
	codec_buf_put_varint(out, h.off);
	codec_buf_put_varint(out, h.len);
}

/* Are data blocks being stored raw: compression off, or given up on for this data? */
static bool sst_builder_raw(const sst_builder_t *b)
{
	return !b->opts.compress || b->lz4_misses >= SST_LZ4_GIVE_UP;
}

/* Would adding this entry carry the open block (raw, page-sized or less) across a
 * page boundary? It starts at b->written. */
static bool sst_builder_crosses(const sst_builder_t *b, sl_slice_t ikey, sl_slice_t value)
{
	if (!sst_builder_raw(b) || block_builder_empty(&b->data) || b->opts.block_bytes > SST_PAGE)
		return false;
	size_t need = block_builder_size_with(&b->data, ikey, value) + BLOCK_TRAILER_BYTES;
	return b->written % SST_PAGE + need > SST_PAGE;
}

/* After a raw block: start the next one on the page boundary when the gap is small. */
static void sst_builder_pad(sst_builder_t *b)
{
	size_t gap = (SST_PAGE - b->written % SST_PAGE) % SST_PAGE;
	if (gap == 0 || gap > SST_PAD_MAX || !buf_extend(&b->out, gap))
		return;
	b->written += gap;
}

/* Closes the open data block and indexes it under its last key. */
static int sst_builder_flush_block(sst_builder_t *b, sl_err_t *err)
{
	if (block_builder_empty(&b->data))
		return SL_OK;
	sst_handle_t h;
	bool try_lz4 = b->opts.compress && (b->lz4_misses < SST_LZ4_GIVE_UP ||
					    b->props.data_blocks % SST_LZ4_RETRY == 0);
	int rc = sst_builder_emit(b, &b->data, try_lz4, &h, err);
	if (rc != SL_OK)
		return rc;
	bool packed = b->out.data[b->out.len - BLOCK_TRAILER_BYTES] == BLOCK_TYPE_LZ4;
	if (try_lz4)
		b->lz4_misses = packed ? 0 : b->lz4_misses + 1;
	if (!packed && sst_builder_raw(b))
		sst_builder_pad(b);
	buf_t enc = BUF_INIT;
	sst_encode_handle(h, &enc);
	block_builder_add(&b->index, buf_slice(&b->last_key), buf_slice(&enc));
	buf_free(&enc);
	b->props.data_blocks++;
	return sst_builder_drain(b, false, err);
}

static void sst_builder_hash(sst_builder_t *b, sl_slice_t ikey)
{
	sl_slice_t user = lsm_ikey_user(ikey);
	/* Versions of one key sit together: hash each user key once. */
	if (b->any && sl_slice_eq(user, lsm_ikey_user(buf_slice(&b->last_key))))
		return;
	if (b->nhashes == b->hashes_cap) {
		size_t cap = b->hashes_cap ? b->hashes_cap * 2 : 1024;
		uint64_t *h = realloc(b->hashes, cap * sizeof *h);
		if (h == NULL)
			return; /* a key missing from the filter would be a lie: caught at finish */
		b->hashes = h;
		b->hashes_cap = cap;
	}
	b->hashes[b->nhashes++] = bloom_hash(user);
}

int sst_builder_add(sst_builder_t *b, sl_slice_t ikey, sl_slice_t value, sl_err_t *err)
{
	assert(ikey.len >= LSM_TRAILER_BYTES);
	assert(!b->any || lsm_ikey_cmp(buf_slice(&b->last_key), ikey) < 0);
	if (b->opts.bloom_bits)
		sst_builder_hash(b, ikey);
	if (!b->any)
		buf_set(&b->props.smallest, ikey.data, ikey.len);
	uint64_t seq = lsm_ikey_seq(ikey);
	if (seq < b->props.min_seq)
		b->props.min_seq = seq;
	if (seq > b->props.max_seq)
		b->props.max_seq = seq;
	b->props.entries++;
	b->props.deletions += lsm_ikey_type(ikey) == LSM_TYPE_DEL;
	b->props.raw_bytes += ikey.len - LSM_TRAILER_BYTES + value.len;
	if (sst_builder_crosses(b, ikey, value)) {
		int rc = sst_builder_flush_block(b, err);
		if (rc != SL_OK)
			return rc;
	}
	block_builder_add(&b->data, ikey, value);
	buf_set(&b->last_key, ikey.data, ikey.len);
	b->any = true;
	if (block_builder_size(&b->data) >= b->opts.block_bytes)
		return sst_builder_flush_block(b, err);
	return SL_OK;
}

uint64_t sst_builder_bytes(const sst_builder_t *b)
{
	return b->written + block_builder_size(&b->data);
}

uint64_t sst_builder_entries(const sst_builder_t *b) { return b->props.entries; }

static void sst_builder_free(sst_builder_t *b)
{
	block_builder_free(&b->data);
	block_builder_free(&b->index);
	buf_free(&b->out);
	buf_free(&b->last_key);
	free(b->hashes);
	sst_props_free(&b->props);
	free(b);
}

void sst_builder_abandon(sst_builder_t *b)
{
	if (b == NULL)
		return;
	char *path = strdup(env_path(b->file));
	env_close(b->file, NULL);
	if (path)
		env_unlink(b->env, path, NULL);
	free(path);
	sst_builder_free(b);
}

/* The properties block: named entries in name order. */
static int sst_builder_props(sst_builder_t *b, sst_handle_t *h, sl_err_t *err)
{
	block_builder_t pb;
	block_builder_init(&pb, 1, NULL);
	const struct { const char *name; uint64_t v; } nums[] = {
		{ "data_blocks", b->props.data_blocks }, { "deletions", b->props.deletions },
		{ "entries", b->props.entries },
	};
	buf_t v = BUF_INIT;
	for (size_t i = 0; i < 3; i++) {
		buf_clear(&v);
		codec_buf_put_varint(&v, nums[i].v);
		block_builder_add(&pb, sl_slice_str(nums[i].name), buf_slice(&v));
	}
	block_builder_add(&pb, sl_slice_str("largest"), buf_slice(&b->last_key));
	const struct { const char *name; uint64_t v; } more[] = {
		{ "max_seq", b->props.max_seq }, { "min_seq", b->props.min_seq },
		{ "raw_bytes", b->props.raw_bytes },
	};
	for (size_t i = 0; i < 3; i++) {
		buf_clear(&v);
		codec_buf_put_varint(&v, more[i].v);
		block_builder_add(&pb, sl_slice_str(more[i].name), buf_slice(&v));
	}
	block_builder_add(&pb, sl_slice_str("smallest"), buf_slice(&b->props.smallest));
	buf_free(&v);
	int rc = sst_builder_emit(b, &pb, false, h, err);
	block_builder_free(&pb);
	return rc;
}

static int sst_builder_filter(sst_builder_t *b, sst_handle_t *h, sl_err_t *err)
{
	buf_t f = BUF_INIT;
	if (b->opts.bloom_bits && b->nhashes < b->props.entries && b->hashes_cap == 0 && b->any)
		return sl_errf(err, SL_NOMEM, "%s: out of memory for the filter", env_path(b->file));
	if (b->opts.bloom_bits && bloom_build(b->hashes, b->nhashes, b->opts.bloom_bits, &f) != SL_OK) {
		buf_free(&f);
		return sl_errf(err, SL_NOMEM, "%s: out of memory for the filter", env_path(b->file));
	}
	block_builder_t fb;
	block_builder_init(&fb, 1, NULL);
	block_builder_add(&fb, sl_slice_str("bloom"), buf_slice(&f));
	int rc = sst_builder_emit(b, &fb, false, h, err);
	block_builder_free(&fb);
	buf_free(&f);
	return rc;
}

static void sst_encode_footer(uint8_t *p, sst_handle_t index, sst_handle_t filter,
			      sst_handle_t props)
{
	codec_put_u64(p + FOOT_INDEX_OFF, index.off);
	codec_put_u32(p + FOOT_INDEX_LEN, (uint32_t)index.len);
	codec_put_u32(p + FOOT_FILTER_LEN, (uint32_t)filter.len);
	codec_put_u64(p + FOOT_FILTER_OFF, filter.off);
	codec_put_u64(p + FOOT_PROPS_OFF, props.off);
	codec_put_u32(p + FOOT_PROPS_LEN, (uint32_t)props.len);
	codec_put_u32(p + FOOT_VERSION, SST_VERSION);
	codec_put_u64(p + FOOT_CHECKSUM, checksum_xxh3(p, FOOT_CHECKSUM, 0));
	memcpy(p + FOOT_MAGIC, SST_MAGIC, 8);
}

int sst_builder_finish(sst_builder_t *b, uint64_t *file_bytes, sst_props_t *props, sl_err_t *err)
{
	sst_handle_t filter, pr, index;
	int rc = sst_builder_flush_block(b, err);
	if (rc == SL_OK)
		rc = sst_builder_filter(b, &filter, err);
	if (rc == SL_OK)
		rc = sst_builder_props(b, &pr, err);
	if (rc == SL_OK)
		rc = sst_builder_emit(b, &b->index, false, &index, err);
	if (rc == SL_OK) {
		uint8_t *foot = buf_extend(&b->out, SST_FOOTER_BYTES);
		if (foot != NULL)
			sst_encode_footer(foot, index, filter, pr);
		b->written += SST_FOOTER_BYTES;
		rc = sst_builder_drain(b, true, err);
	}
	if (rc == SL_OK)
		rc = env_sync(b->file, err);
	if (rc != SL_OK) {
		sst_builder_abandon(b);
		return rc;
	}
	rc = env_close(b->file, err);
	b->file = NULL;
	if (file_bytes)
		*file_bytes = b->written;
	if (props) {
		buf_set(&b->props.largest, b->last_key.data, b->last_key.len);
		*props = b->props;
		b->props = (sst_props_t){ 0 }; /* handed over */
	}
	sst_builder_free(b);
	return rc;
}

/* ================================================================ reading */

/*
 * A decoded block as the cache keeps it: a raw block's contents stay in the
 * file's map (block_t points there), an lz4 block lives decompressed in blk.owned.
 */
typedef struct sst_cached {
	block_t blk;
} sst_cached_t;

struct sst {
	env_file_t *file;    /* mapped (env_map): reads are memory accesses */
	uint64_t number;     /* the name in the block cache */
	uint64_t size;       /* file bytes */
	cache_t *cache;
	sst_cached_t index;  /* the index block, in memory of its own for the table's life */
	sst_cached_t filter_blk; /* the same (block_keep): a get always reads both */
	sl_slice_t filter;   /* the bloom filter inside filter_blk; len 0 = none */
	sst_props_t props;
	atomic_uchar *checked; /* a bit per index entry (by its offset in the index):
	                          its data block is raw and passed its checksum */
};

static void sst_cached_free(void *p)
{
	sst_cached_t *c = p;
	block_close(&c->blk);
	free(c);
}

/* Opens the block at h into c, verifying its checksum unless checked says it
 * passed before (block_open_checked); SL_CORRUPT names the table. */
static int sst_open_block(sst_t *t, sst_handle_t h, bool checked, sst_cached_t *c,
			  sl_err_t *err)
{
	memset(c, 0, sizeof *c);
	if (h.len < BLOCK_TRAILER_BYTES || h.off > t->size || h.len > t->size - h.off)
		return sl_errf(err, SL_CORRUPT, "%s: block at %llu (+%llu) lies outside the table",
			       env_path(t->file), (unsigned long long)h.off,
			       (unsigned long long)h.len);
	const uint8_t *stored;
	int rc = env_read_mapped(t->file, h.off, h.len, &stored, err);
	if (rc == SL_OK) {
		rc = checked ? block_open_checked(&c->blk, stored, h.len, err)
			     : block_open(&c->blk, stored, h.len, err);
		if (rc != SL_OK)
			sl_err_prefix(err, "%s: block at offset %llu", env_path(t->file),
				      (unsigned long long)h.off);
	}
	return rc;
}

/* Verifies and opens the block at h into c. */
static int sst_read_block(sst_t *t, sst_handle_t h, sst_cached_t *c, sl_err_t *err)
{
	return sst_open_block(t, h, false, c, err);
}

static int sst_decode_handle(sst_t *t, sl_slice_t v, sst_handle_t *h, sl_err_t *err)
{
	const uint8_t *p = v.data, *end = v.data + v.len;
	size_t n = codec_get_varint(p, end, &h->off);
	size_t m = n ? codec_get_varint(p + n, end, &h->len) : 0;
	if (n == 0 || m == 0 || n + m != v.len)
		return sl_errf(err, SL_CORRUPT, "%s: index entry does not decode", env_path(t->file));
	return SL_OK;
}

static int sst_read_footer(sst_t *t, sst_handle_t *index, sst_handle_t *filter,
			   sst_handle_t *props, sl_err_t *err)
{
	const uint8_t *f;
	const char *path = env_path(t->file);
	if (t->size < SST_FOOTER_BYTES)
		return sl_errf(err, SL_CORRUPT, "%s: %llu bytes is too short for a table", path,
			       (unsigned long long)t->size);
	int rc = env_map(t->file, err);
	if (rc == SL_OK)
		rc = env_read_mapped(t->file, t->size - SST_FOOTER_BYTES, SST_FOOTER_BYTES, &f, err);
	if (rc != SL_OK)
		return rc;
	if (memcmp(f + FOOT_MAGIC, SST_MAGIC, 8) != 0)
		return sl_errf(err, SL_CORRUPT, "%s: no table magic at the end (not an SSTable, "
			       "or cut short)", path);
	if (codec_get_u64(f + FOOT_CHECKSUM) != checksum_xxh3(f, FOOT_CHECKSUM, 0))
		return sl_errf(err, SL_CORRUPT, "%s: footer checksum mismatch", path);
	if (codec_get_u32(f + FOOT_VERSION) != SST_VERSION)
		return sl_errf(err, SL_CORRUPT, "%s: table format version %u, this build reads %u",
			       path, codec_get_u32(f + FOOT_VERSION), SST_VERSION);
	*index = (sst_handle_t){ codec_get_u64(f + FOOT_INDEX_OFF), codec_get_u32(f + FOOT_INDEX_LEN) };
	*filter = (sst_handle_t){ codec_get_u64(f + FOOT_FILTER_OFF), codec_get_u32(f + FOOT_FILTER_LEN) };
	*props = (sst_handle_t){ codec_get_u64(f + FOOT_PROPS_OFF), codec_get_u32(f + FOOT_PROPS_LEN) };
	return SL_OK;
}

/* Decodes the properties block into t->props. */
static int sst_load_props(sst_t *t, sst_handle_t h, sl_err_t *err)
{
	sst_cached_t c;
	int rc = sst_read_block(t, h, &c, err);
	if (rc != SL_OK)
		return rc;
	block_iter_t it;
	block_iter_init(&it, &c.blk, NULL);
	int seen = 0;
	for (block_iter_first(&it); block_iter_valid(&it); block_iter_next(&it)) {
		sl_slice_t k = block_iter_key(&it), v = block_iter_value(&it);
		struct { const char *name; uint64_t *dst; } nums[] = {
			{ "data_blocks", &t->props.data_blocks }, { "deletions", &t->props.deletions },
			{ "entries", &t->props.entries }, { "max_seq", &t->props.max_seq },
			{ "min_seq", &t->props.min_seq }, { "raw_bytes", &t->props.raw_bytes },
		};
		for (size_t i = 0; i < 6; i++)
			if (sl_slice_eq(k, sl_slice_str(nums[i].name)) &&
			    codec_get_varint(v.data, v.data + v.len, nums[i].dst) == v.len)
				seen |= 1 << i;
		if (sl_slice_eq(k, sl_slice_str("smallest")) && v.len >= LSM_TRAILER_BYTES) {
			buf_set(&t->props.smallest, v.data, v.len);
			seen |= 1 << 6;
		}
		if (sl_slice_eq(k, sl_slice_str("largest")) && v.len >= LSM_TRAILER_BYTES) {
			buf_set(&t->props.largest, v.data, v.len);
			seen |= 1 << 7;
		}
	}
	rc = block_iter_status(&it);
	block_iter_free(&it);
	block_close(&c.blk);
	if (rc != SL_OK || seen != 0xff)
		return sl_errf(err, SL_CORRUPT, "%s: properties block is incomplete",
			       env_path(t->file));
	return SL_OK;
}

static int sst_load_filter(sst_t *t, sst_handle_t h, sl_err_t *err)
{
	int rc = sst_read_block(t, h, &t->filter_blk, err);
	if (rc != SL_OK)
		return rc;
	if (block_keep(&t->filter_blk.blk) != SL_OK)
		return sl_errf(err, SL_NOMEM, "%s: out of memory for the filter", env_path(t->file));
	block_iter_t it;
	block_iter_init(&it, &t->filter_blk.blk, NULL);
	block_iter_first(&it);
	if (block_iter_valid(&it) && sl_slice_eq(block_iter_key(&it), sl_slice_str("bloom")))
		t->filter = block_iter_value(&it); /* points into the block, which stays open */
	else
		rc = sl_errf(err, SL_CORRUPT, "%s: filter block has no bloom entry", env_path(t->file));
	block_iter_free(&it);
	if (rc == SL_OK && t->filter.len > 0 && !bloom_check(t->filter.data, t->filter.len))
		rc = sl_errf(err, SL_CORRUPT, "%s: bloom filter has an impossible shape",
			     env_path(t->file));
	return rc;
}

int sst_open(env_t *env, const char *path, uint64_t number, cache_t *cache, sst_t **out,
	     sl_err_t *err)
{
	*out = NULL;
	sst_t *t = calloc(1, sizeof *t);
	if (t == NULL)
		return sl_errf(err, SL_NOMEM, "%s: out of memory", path);
	t->number = number;
	t->cache = cache;
	sst_handle_t index = { 0 }, filter = { 0 }, props = { 0 };
	int rc = env_open(env, path, ENV_READ, &t->file, err);
	if (rc == SL_OK) {
		t->size = env_size(t->file);
		rc = sst_read_footer(t, &index, &filter, &props, err);
	}
	if (rc == SL_OK)
		rc = sst_read_block(t, index, &t->index, err);
	if (rc == SL_OK && block_keep(&t->index.blk) != SL_OK)
		rc = sl_errf(err, SL_NOMEM, "%s: out of memory for the index block", path);
	if (rc == SL_OK && !(t->checked = calloc(t->index.blk.entries_end / 8 + 1, 1)))
		rc = sl_errf(err, SL_NOMEM, "%s: out of memory", path);
	if (rc == SL_OK)
		rc = sst_load_filter(t, filter, err);
	if (rc == SL_OK)
		rc = sst_load_props(t, props, err);
	if (rc != SL_OK) {
		sst_close(t);
		return rc;
	}
	*out = t;
	return SL_OK;
}

void sst_close(sst_t *t)
{
	if (t == NULL)
		return;
	block_close(&t->index.blk);
	block_close(&t->filter_blk.blk);
	sst_props_free(&t->props);
	free(t->checked);
	env_close(t->file, NULL);
	free(t);
}

const sst_props_t *sst_props(const sst_t *t) { return &t->props; }
uint64_t sst_file_bytes(const sst_t *t) { return t->size; }
const char *sst_path(const sst_t *t) { return env_path(t->file); }

bool sst_may_contain(const sst_t *t, uint64_t hash)
{
	return t->filter.len == 0 || bloom_may_contain(t->filter.data, t->filter.len, hash);
}

static bool sst_checked(const sst_t *t, uint32_t mark)
{
	return atomic_load_explicit(&t->checked[mark / 8], memory_order_relaxed) & (1u << mark % 8);
}

static void sst_mark_checked(sst_t *t, uint32_t mark)
{
	atomic_fetch_or_explicit(&t->checked[mark / 8], (unsigned char)(1u << mark % 8),
				 memory_order_relaxed);
}

/*
 * The data block at h, whose index entry sits at offset mark in the index.
 *
 * A raw block (stored uncompressed) is used where it lies in the file's map: its
 * checksum is verified the first time, and the table remembers that in a bit, so
 * later fetches only parse its trailer into *local. No cache is involved — a
 * lookup there (lock, hash chain, list move) cost more than the block's own
 * bytes, about a sixth of a 100-key scan. An lz4 block comes decompressed from
 * the cache or, on a miss, from the file, pinned by *handle (or owned by *own
 * when the table has no cache). *missed when the block was read and verified.
 */
static int sst_fetch(sst_t *t, sst_handle_t h, uint32_t mark, sst_cached_t *local,
		     cache_handle_t **handle, sst_cached_t **own, const block_t **blk,
		     bool *missed, sl_err_t *err)
{
	*handle = NULL;
	*own = NULL;
	*missed = false;
	if (sst_checked(t, mark)) {
		int rc = sst_open_block(t, h, true, local, err);
		*blk = rc == SL_OK ? &local->blk : NULL;
		return rc;
	}
	if (t->cache) {
		*handle = cache_lookup(t->cache, t->number, h.off);
		if (*handle) {
			*blk = &((sst_cached_t *)cache_value(*handle))->blk;
			return SL_OK;
		}
	}
	*missed = true;
	sst_cached_t read;
	int rc = sst_read_block(t, h, &read, err);
	if (rc != SL_OK)
		return rc;
	if (read.blk.type == BLOCK_TYPE_RAW) {
		sst_mark_checked(t, mark);
		*local = read;
		*blk = &local->blk;
		return SL_OK;
	}
	sst_cached_t *c = malloc(sizeof *c);
	if (c == NULL) {
		block_close(&read.blk);
		return sl_errf(err, SL_NOMEM, "%s: out of memory", env_path(t->file));
	}
	*c = read;
	*blk = &c->blk;
	if (t->cache == NULL) {
		*own = c;
		return SL_OK;
	}
	*handle = cache_insert(t->cache, t->number, h.off, c, sizeof *c + block_raw_size(&c->blk),
			       sst_cached_free);
	if (*handle == NULL)
		return sl_errf(err, SL_NOMEM, "%s: out of memory", env_path(t->file));
	*blk = &((sst_cached_t *)cache_value(*handle))->blk;
	return SL_OK;
}

static void sst_unfetch(sst_t *t, cache_handle_t *handle, sst_cached_t *own)
{
	if (handle)
		cache_release(t->cache, handle);
	if (own)
		sst_cached_free(own);
}

/* The handle of the data block that may hold ikey, from the index; SL_NOTFOUND past the end. */
static int sst_locate(sst_t *t, block_iter_t *ix, sl_slice_t ikey, sst_handle_t *h, sl_err_t *err)
{
	block_iter_seek(ix, ikey);
	if (!block_iter_valid(ix)) {
		if (block_iter_status(ix) != SL_OK)
			return sl_errf(err, SL_CORRUPT, "%s: index block: %s", env_path(t->file), ix->why);
		return SL_NOTFOUND;
	}
	return sst_decode_handle(t, block_iter_value(ix), h, err);
}

int sst_get(sst_t *t, sl_slice_t seek, uint64_t hash, buf_t *value, bool *deleted,
	    sst_probe_t *probe, sl_err_t *err)
{
	*probe = (sst_probe_t){ 0 };
	if (!sst_may_contain(t, hash)) {
		probe->filtered = true;
		return SL_NOTFOUND;
	}
	sl_slice_t key = lsm_ikey_user(seek);
	block_iter_t ix, it;
	block_iter_init(&ix, &t->index.blk, block_cmp_ikey);
	sst_handle_t h;
	int rc = sst_locate(t, &ix, seek, &h, err);
	uint32_t mark = ix.off;
	block_iter_free(&ix);
	if (rc != SL_OK)
		return rc;
	cache_handle_t *handle;
	sst_cached_t *own;
	const block_t *blk;
	sst_cached_t local;
	rc = sst_fetch(t, h, mark, &local, &handle, &own, &blk, &probe->block_read, err);
	probe->block_off = h.off;
	probe->block_len = h.len;
	if (rc != SL_OK)
		return rc;
	block_iter_init(&it, blk, block_cmp_ikey);
	block_iter_seek(&it, seek);
	rc = SL_NOTFOUND;
	if (block_iter_valid(&it)) {
		sl_slice_t ik = block_iter_key(&it);
		if (ik.len < LSM_TRAILER_BYTES) {
			rc = sl_errf(err, SL_CORRUPT, "%s: a key of %zu bytes in the block at %llu",
				     env_path(t->file), ik.len, (unsigned long long)h.off);
		} else if (sl_slice_eq(lsm_ikey_user(ik), key)) {
			*deleted = lsm_ikey_type(ik) == LSM_TYPE_DEL;
			if (!*deleted && value)
				buf_set(value, block_iter_value(&it).data, block_iter_value(&it).len);
			rc = SL_OK;
		}
	} else if (block_iter_status(&it) != SL_OK) {
		rc = sl_errf(err, SL_CORRUPT, "%s: block at %llu: %s", env_path(t->file),
			     (unsigned long long)h.off, it.why);
	}
	block_iter_free(&it);
	sst_unfetch(t, handle, own);
	return rc;
}

/* ================================================================ iteration */

/*
 * A two-level iterator: the index iterator picks a data block, the data
 * iterator walks it; stepping off the end of a block loads the next one.
 */
struct sst_iter {
	sst_t *t;
	block_iter_t ix;          /* over the index */
	block_iter_t data;        /* over the current data block */
	bool data_open;           /* data is initialised on a fetched block */
	sst_cached_t local;       /* the current block when raw (sst_fetch) */
	cache_handle_t *handle;   /* or pins it in the cache */
	sst_cached_t *own;        /* or owns it, without a cache */
	size_t readahead;         /* bytes to ask for ahead; 0 = none (sst_iter_readahead) */
	uint64_t ahead_end;       /* the file offset the last request reached */
	int status;
	sl_err_t err;
};

int sst_iter_new(sst_t *t, sst_iter_t **out)
{
	sst_iter_t *it = calloc(1, sizeof *it);
	if (it == NULL)
		return SL_NOMEM;
	it->t = t;
	block_iter_init(&it->ix, &t->index.blk, block_cmp_ikey);
	*out = it;
	return SL_OK;
}

void sst_iter_readahead(sst_iter_t *it, size_t bytes)
{
	it->readahead = bytes;
}

static void sst_iter_drop_block(sst_iter_t *it)
{
	if (it->data_open) {
		block_iter_free(&it->data);
		sst_unfetch(it->t, it->handle, it->own);
		it->handle = NULL;
		it->own = NULL;
		it->data_open = false;
	}
}

void sst_iter_free(sst_iter_t *it)
{
	if (it == NULL)
		return;
	sst_iter_drop_block(it);
	block_iter_free(&it->ix);
	free(it);
}

static void sst_iter_fail(sst_iter_t *it, int rc)
{
	sst_iter_drop_block(it);
	it->status = rc;
}

/* Opens the block the index iterator is on; false when there is none (or on error). */
static bool sst_iter_load(sst_iter_t *it)
{
	sst_iter_drop_block(it);
	if (!block_iter_valid(&it->ix)) {
		if (block_iter_status(&it->ix) != SL_OK)
			sst_iter_fail(it, sl_errf(&it->err, SL_CORRUPT, "%s: index block: %s",
						  sst_path(it->t), it->ix.why));
		return false;
	}
	sst_handle_t h;
	const block_t *blk;
	bool missed;
	int rc = sst_decode_handle(it->t, block_iter_value(&it->ix), &h, &it->err);
	if (rc == SL_OK && it->readahead && h.off + h.len > it->ahead_end) {
		env_map_prefetch(it->t->file, h.off, it->readahead);
		it->ahead_end = h.off + it->readahead;
	}
	if (rc == SL_OK)
		rc = sst_fetch(it->t, h, it->ix.off, &it->local, &it->handle, &it->own, &blk,
			       &missed, &it->err);
	if (rc != SL_OK) {
		sst_iter_fail(it, rc);
		return false;
	}
	block_iter_init(&it->data, blk, block_cmp_ikey);
	it->data_open = true;
	return true;
}

/* Moves past exhausted blocks until the data iterator is on an entry (or all are done). */
static void sst_iter_settle(sst_iter_t *it)
{
	while (it->data_open && !block_iter_valid(&it->data)) {
		if (block_iter_status(&it->data) != SL_OK) {
			sst_iter_fail(it, sl_errf(&it->err, SL_CORRUPT, "%s: %s", sst_path(it->t),
						  it->data.why));
			return;
		}
		block_iter_next(&it->ix);
		if (!sst_iter_load(it))
			return;
		block_iter_first(&it->data);
	}
	if (it->data_open && block_iter_key(&it->data).len < LSM_TRAILER_BYTES)
		sst_iter_fail(it, sl_errf(&it->err, SL_CORRUPT, "%s: a key shorter than its "
					  "8-byte trailer", sst_path(it->t)));
}

void sst_iter_first(sst_iter_t *it)
{
	block_iter_first(&it->ix);
	if (sst_iter_load(it)) {
		block_iter_first(&it->data);
		sst_iter_settle(it);
	}
}

void sst_iter_seek(sst_iter_t *it, sl_slice_t ikey)
{
	block_iter_seek(&it->ix, ikey);
	if (sst_iter_load(it)) {
		block_iter_seek(&it->data, ikey);
		sst_iter_settle(it);
	}
}

void sst_iter_next(sst_iter_t *it)
{
	assert(sst_iter_valid(it));
	block_iter_next(&it->data);
	sst_iter_settle(it);
}

bool sst_iter_valid(const sst_iter_t *it)
{
	return it->status == SL_OK && it->data_open && block_iter_valid(&it->data);
}

sl_slice_t sst_iter_key(const sst_iter_t *it) { return block_iter_key(&it->data); }
sl_slice_t sst_iter_value(const sst_iter_t *it) { return block_iter_value(&it->data); }

int sst_iter_status(const sst_iter_t *it, sl_err_t *err)
{
	if (it->status != SL_OK && err)
		*err = it->err;
	return it->status;
}
