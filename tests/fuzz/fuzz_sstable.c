/*
 * fuzz_sstable.c — arbitrary bytes as an SSTable: sst_open must refuse (SL_CORRUPT)
 * or accept, and gets and a full scan of an accepted table must stay inside it.
 *
 * So that mutations reach the decoders instead of dying at a checksum, the
 * input is "re-sealed" first: the footer's checksum and the checksum of every
 * block the footer and the index point at are recomputed (a real table's
 * checksums are tested elsewhere; here the question is what the decoders do
 * with well-sealed nonsense).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/block.h"
#include "engine/bloom.h"
#include "engine/checksum.h"
#include "engine/codec.h"
#include "kv/lsm_key.h"
#include "kv/sstable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Recomputes the checksum of the stored block at [off, off+len) of t, if it lies inside. */
static void seal_block(uint8_t *t, size_t size, uint64_t off, uint64_t len)
{
	if (len < BLOCK_TRAILER_BYTES || off > size || len > size - off)
		return;
	codec_put_u64(t + off + len - 8, checksum_xxh3(t + off, len - 8, 0));
}

static void seal(uint8_t *t, size_t size)
{
	if (size < SST_FOOTER_BYTES)
		return;
	uint8_t *f = t + size - SST_FOOTER_BYTES;
	uint64_t ioff = codec_get_u64(f), ilen = codec_get_u32(f + 8);
	seal_block(t, size, codec_get_u64(f + 16), codec_get_u32(f + 12)); /* filter */
	seal_block(t, size, codec_get_u64(f + 24), codec_get_u32(f + 32)); /* properties */
	seal_block(t, size, ioff, ilen);
	codec_put_u64(f + 40, checksum_xxh3(f, 40, 0));
	/* The data blocks the index names. */
	block_t ix;
	if (ioff > size || ilen > size - ioff || block_open(&ix, t + ioff, ilen, NULL) != SL_OK)
		return;
	block_iter_t it;
	block_iter_init(&it, &ix, NULL);
	for (block_iter_first(&it); block_iter_valid(&it); block_iter_next(&it)) {
		sl_slice_t v = block_iter_value(&it);
		uint64_t off, len;
		size_t n = codec_get_varint(v.data, v.data + v.len, &off);
		if (n && codec_get_varint(v.data + n, v.data + v.len, &len))
			seal_block(t, size, off, len);
	}
	block_iter_free(&it);
	block_close(&ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *t = malloc(size + 1);
	memcpy(t, data, size);
	seal(t, size);
	char path[] = "/tmp/fuzz-sst-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, t, size) != (ssize_t)size)
		abort();
	close(fd);
	env_t *env = env_new();
	cache_t *cache = cache_new(1 << 16);
	sst_t *table;
	sl_err_t err = { 0 };
	if (sst_open(env, path, 1, cache, &table, &err) == SL_OK) {
		sst_iter_t *it;
		if (sst_iter_new(table, &it) == SL_OK) {
			for (sst_iter_first(it); sst_iter_valid(it); sst_iter_next(it))
				(void)lsm_ikey_seq(sst_iter_key(it));
			sl_slice_t probe = sl_slice(data, size < 12 ? size : 12);
			buf_t target = BUF_INIT;
			lsm_ikey_set(&target, probe, LSM_MAX_SEQ, LSM_TYPE_PUT);
			sst_iter_seek(it, buf_slice(&target));
			sst_iter_free(it);
			buf_t v = BUF_INIT;
			bool deleted;
			sst_probe_t pr;
			sst_get(table, buf_slice(&target), bloom_hash(probe), &v, &deleted, &pr, &err);
			buf_free(&target);
			buf_free(&v);
		}
		sst_close(table);
	}
	cache_free(cache);
	env_free(env);
	unlink(path);
	free(t);
	return 0;
}
