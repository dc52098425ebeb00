/*
 * fuzz_postings.c — arbitrary bytes as a postings list (index/postings): read
 * through with next(), then again with advance() to targets taken from the
 * input. Both must report SL_CORRUPT or stay inside the list; ids must come out
 * increasing whatever the bytes say.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "index/postings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1); /* exactly size bytes: ASan sees any overread */
	memcpy(copy, data, size);
	postings_iter_t it;
	sl_err_t err = { 0 };
	int64_t prev = -1;
	if (postings_iter_init(&it, sl_slice(copy, size), &err) == SL_OK)
		while (postings_iter_valid(&it)) {
			if ((int64_t)postings_iter_doc(&it) <= prev)
				abort(); /* ids must increase */
			prev = postings_iter_doc(&it);
			if (postings_iter_next(&it, &err) != SL_OK)
				break;
		}
	if (postings_iter_init(&it, sl_slice(copy, size), &err) == SL_OK)
		for (size_t i = 0; i + 4 <= size && postings_iter_valid(&it); i += 4) {
			uint32_t target;
			memcpy(&target, data + i, 4);
			if (postings_iter_advance(&it, target, &err) != SL_OK)
				break;
			if (postings_iter_valid(&it) && postings_iter_doc(&it) < target)
				abort(); /* advance stopped short */
		}
	free(copy);
	return 0;
}
