/* fuzz_batch.c — arbitrary bytes as an encoded batch (a log record's payload). */
#include <stdint.h>
#include <stdlib.h>

#include "engine/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	batch_reader_t r;
	sl_err_t err = { 0 };
	if (batch_reader_init(&r, sl_slice(data, size), &err) != SL_OK)
		return 0;
	int op;
	sl_slice_t k, v;
	while (batch_reader_next(&r, &op, &k, &v, &err) == SL_OK)
		if (k.data < data || k.data + k.len > data + size)
			abort();
	return 0;
}
