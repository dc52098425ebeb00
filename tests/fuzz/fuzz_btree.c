/*
 * fuzz_btree.c — arbitrary bytes as the pages of a B+tree file behind a valid
 * header (tests/fuzz/fuzz_pages.h): opening, checking and reading must report
 * SL_CORRUPT or succeed, never crash or read out of bounds.
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
		btree_get(t, sl_slice(data, size < 16 ? size : 16), &v, &err);
		buf_free(&v);
		btree_close(t, NULL);
	}
	env_free(env);
	fuzz_remove(dir, path);
	return 0;
}
