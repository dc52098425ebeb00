/*
 * fuzz_btree.c — arbitrary bytes as the pages of a B+tree file (one 512-byte
 * page of header is made valid so the fuzzer reaches the tree): opening,
 * checking and reading must report SL_CORRUPT or succeed, never crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/checksum.h"
#include "engine/codec.h"
#include "index/btree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A valid empty tree of 512-byte pages, made once, whose pages the input replaces. */
static uint8_t base[2 * 512];

static void make_base(void)
{
	char dir[] = "/tmp/fuzz-bt-base-XXXXXX";
	if (mkdtemp(dir) == NULL)
		abort();
	char path[64];
	snprintf(path, sizeof path, "%s/t.db", dir);
	env_t *env = env_new();
	btree_opts_t o = { .page_size = 512, .create = true };
	btree_t *t;
	if (btree_open(env, path, &o, &t, NULL) != SL_OK || btree_close(t, NULL) != SL_OK)
		abort();
	FILE *f = fopen(path, "rb");
	if (f == NULL || fread(base, 1, sizeof base, f) != sizeof base)
		abort();
	fclose(f);
	env_free(env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (base[0] == 0)
		make_base();
	char dir[] = "/tmp/fuzz-bt-XXXXXX";
	if (mkdtemp(dir) == NULL)
		abort();
	char path[64];
	snprintf(path, sizeof path, "%s/t.db", dir);
	/* Whole 512-byte pages of input, each sealed with its checksum so the fuzzer
	 * reaches the tree's own decoding (the pager's checks are fuzzed elsewhere);
	 * the header (pager.h: page count at offset 16) is told how many there are. */
	size_t pages = size / 512;
	uint8_t *file = calloc(pages + 1, 512);
	memcpy(file, base, 512);
	memcpy(file + 512, data, pages * 512);
	codec_put_u32(file + 16, (uint32_t)(pages + 1));
	codec_put_u32(file + 20, 0); /* no free list: the input pages are all the tree */
	codec_put_u32(file + 24, 0);
	for (size_t p = 0; p <= pages; p++)
		codec_put_u64(file + p * 512 + 504, checksum_xxh3(file + p * 512, 504, p));
	FILE *f = fopen(path, "wb");
	fwrite(file, 1, (pages + 1) * 512, f);
	fclose(f);
	free(file);
	env_t *env = env_new();
	env_set_sync_off(env, true); /* durability is not what this target tests */
	btree_opts_t o = { .page_size = 512 };
	btree_t *t;
	sl_err_t err = { 0 };
	if (btree_open(env, path, &o, &t, &err) == SL_OK) {
		btree_check(t, &err);
		buf_t v = BUF_INIT;
		btree_get(t, sl_slice(data, size < 16 ? size : 16), &v, &err);
		buf_free(&v);
		btree_close(t, NULL);
	}
	env_free(env);
	const char *suffix[] = { "", "-log", "-dwb" };
	for (int i = 0; i < 3; i++) {
		char name[96];
		snprintf(name, sizeof name, "%s%s", path, suffix[i]);
		unlink(name);
	}
	rmdir(dir);
	return 0;
}
