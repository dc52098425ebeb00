/*
 * fuzz_btree_page.c — arbitrary bytes as one B+tree page, fed straight to the
 * page decoders a read uses (index/btree_int.h): the sanity check of the header,
 * every cell's decoding, the binary search and the child lookup. No file, no
 * pager: millions of inputs a minute, where fuzz_btree (a whole file per input)
 * reaches thousands. Every decoder must answer "bad" or stay inside the page —
 * AddressSanitizer sees any byte read past it, because the page is copied into
 * a buffer of exactly the usable size.
 */
#include "tests/fuzz/fuzz_pages.h"

#include "index/btree_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static btree_t *tree; /* of 512-byte pages: gives the decoders their page geometry */

static void make_tree(void)
{
	char path[64];
	fuzz_fresh_path(path, "btree-page");
	btree_opts_t o = { .page_size = 512, .create = true };
	if (btree_open(env_new(), path, &o, &tree, NULL) != SL_OK)
		abort();
	fuzz_unlink_paged(path); /* the open handle is all the target needs */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (tree == NULL)
		make_tree();
	uint8_t *page = calloc(tree->usable, 1);
	memcpy(page, data, size < tree->usable ? size : tree->usable);
	if (bt_page_sane(tree, page)) {
		for (uint32_t i = 0; i < pg_n(page); i++) {
			bt_cell_t c;
			bt_cell_decode(tree, page, i, &c);
		}
		/* The search key: the input's tail, so the fuzzer can steer it. */
		size_t klen = size > tree->usable ? size - tree->usable : 0;
		bool found, bad;
		uint32_t at = bt_search(tree, page, sl_slice(data + size - klen, klen), &found, &bad);
		if (pg_kind(page) == BTREE_KIND_INTERNAL && !bad)
			bt_child_at(tree, page, at, &bad);
		bt_page_free(tree, page);
	}
	free(page);
	return 0;
}
