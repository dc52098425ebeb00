/*
 * fuzz_block.c — arbitrary bytes as a stored block: block_open must refuse or
 * accept, and every iteration and seek over an accepted block must stay inside it.
 */
#include <stdint.h>
#include <stdlib.h>

#include "engine/block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	block_t blk;
	sl_err_t err = { 0 };
	if (block_open(&blk, data, size, &err) != SL_OK)
		return 0;
	block_iter_t it;
	block_iter_init(&it, &blk, NULL);
	for (block_iter_first(&it); block_iter_valid(&it); block_iter_next(&it))
		(void)block_iter_key(&it);
	block_iter_seek(&it, sl_slice(data, size < 8 ? size : 8));
	block_iter_free(&it);
	block_close(&blk);
	return 0;
}
