/*
 * fuzz_hash.c — arbitrary bytes as the pages of a hash index file behind a valid
 * header (tests/fuzz/fuzz_pages.h): opening, checking, reading, and writing and
 * deleting (bucket splits, chains, removals, merges on damaged pages) must report
 * SL_CORRUPT or succeed, never crash or touch memory out of bounds.
 */
#include "tests/fuzz/fuzz_pages.h"

#include "index/hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t header[FUZZ_PAGE]; /* of an index of sixty keys: a directory and buckets */

static void make_header(void)
{
	char dir[64], path[64];
	fuzz_write_pages(header, NULL, 0, dir, path);
	unlink(path);
	env_t *env = env_new();
	hash_opts_t o = { .page_size = FUZZ_PAGE, .create = true };
	hash_t *h;
	if (hash_open(env, path, &o, &h, NULL) != SL_OK)
		abort();
	for (int i = 0; i < 60; i++) {
		char k[16];
		snprintf(k, sizeof k, "key%03d", i);
		if (hash_put(h, sl_slice_str(k), sl_slice_str("value"), NULL) != SL_OK)
			abort();
	}
	if (hash_close(h, NULL) != SL_OK)
		abort();
	fuzz_read_header(path, header);
	fuzz_remove(dir, path);
	env_free(env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (header[0] == 0)
		make_header();
	char dir[64], path[64];
	fuzz_write_pages(header, data, size, dir, path);
	env_t *env = env_new();
	env_set_sync_off(env, true);
	hash_opts_t o = { .page_size = FUZZ_PAGE };
	hash_t *h;
	sl_err_t err = { 0 };
	if (hash_open(env, path, &o, &h, &err) == SL_OK) {
		hash_check(h, &err);
		buf_t v = BUF_INIT;
		char k[16];
		hash_get(h, fuzz_key(data, size, 0, k), &v, &err);
		/* The write path meets the damage too: splits, chains, removals, merges. */
		for (int i = 0; i < 40; i++)
			hash_put(h, fuzz_key(data, size, 1 + i, k), sl_slice(data, size % 200), &err);
		hash_del(h, fuzz_key(data, size, 2, k), &err);
		hash_del(h, fuzz_key(data, size, 3, k), &err);
		hash_get(h, fuzz_key(data, size, 1, k), &v, &err);
		buf_free(&v);
		hash_close(h, NULL);
	}
	env_free(env);
	fuzz_remove(dir, path);
	return 0;
}
