/*
 * fuzz_btree.c — arbitrary bytes as the pages of a B+tree file behind a valid
 * header (tests/fuzz/fuzz_pages.h): opening, checking, reading, and writing and
 * deleting (splits, merges, compaction on damaged pages) must report SL_CORRUPT
 * or succeed, never crash or touch memory out of bounds.
 */
#include "tests/fuzz/fuzz_pages.h"

#include "index/btree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t header[FUZZ_PAGE]; /* of an empty tree of 512-byte pages */

static void make_header(void)
{
	char dir[64], path[64];
	fuzz_write_pages(header, NULL, 0, dir, path); /* just a directory to build in */
	unlink(path);
	env_t *env = env_new();
	btree_opts_t o = { .page_size = FUZZ_PAGE, .create = true };
	btree_t *t;
	if (btree_open(env, path, &o, &t, NULL) != SL_OK || btree_close(t, NULL) != SL_OK)
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
	env_set_sync_off(env, true); /* durability is not what this target tests */
	btree_opts_t o = { .page_size = FUZZ_PAGE };
	btree_t *t;
	sl_err_t err = { 0 };
	if (btree_open(env, path, &o, &t, &err) == SL_OK) {
		btree_check(t, &err);
		buf_t v = BUF_INIT;
		char k[16];
		btree_get(t, fuzz_key(data, size, 0, k), &v, &err);
		/* The write path meets the damage too: grow, shrink, then read again. */
		for (int i = 0; i < 40; i++)
			btree_put(t, fuzz_key(data, size, 1 + i, k), sl_slice(data, size % 200), &err);
		btree_del(t, fuzz_key(data, size, 2, k), &err);
		btree_del(t, fuzz_key(data, size, 3, k), &err);
		btree_get(t, fuzz_key(data, size, 1, k), &v, &err);
		buf_free(&v);
		btree_close(t, NULL);
	}
	env_free(env);
	fuzz_remove(dir, path);
	return 0;
}
