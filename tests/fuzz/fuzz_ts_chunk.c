/*
 * fuzz_ts_chunk.c — arbitrary bytes as a Gorilla chunk (kv/ts_chunk): the
 * iterator must decode at most `points` points and stop with SL_OK or
 * SL_CORRUPT, reading nothing outside the chunk. The checksum is re-sealed
 * first so that mutations reach the bit-stream decoder.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/checksum.h"
#include "engine/codec.h"
#include "kv/ts_chunk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *c = malloc(size ? size : 1); /* exactly size bytes: ASan sees any overread */
	memcpy(c, data, size);
	if (size >= TS_CHUNK_HEADER) {
		uint32_t payload = codec_get_u32(c + 4);
		if (payload <= size - TS_CHUNK_HEADER)
			codec_put_u32(c + 24, (uint32_t)checksum_xxh3(c + TS_CHUNK_HEADER, payload,
								      checksum_xxh3(c, 24, 0)));
	}
	ts_chunk_iter_t it;
	sl_err_t err;
	if (ts_chunk_iter_init(&it, sl_slice(c, size), &err) == SL_OK) {
		uint32_t n = 0;
		while (ts_chunk_iter_next(&it, &err))
			n++;
		if (n > it.info.points || (it.status == SL_OK && n != it.info.points))
			abort();
	}
	free(c);
	return 0;
}
