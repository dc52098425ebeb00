/*
 * fuzz_ts_wal.c — arbitrary bytes as a record of the time-series store's log
 * (kv/ts_wal.h): the decoder must return SL_OK or SL_CORRUPT, hand out names
 * that lie inside the record, and never read past its end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kv/ts_wal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen {
	const uint8_t *start, *end;
	uint64_t points;
} seen_t;

static int on_def(void *ctx, uint32_t ref, sl_slice_t name, sl_err_t *err)
{
	(void)ref;
	(void)err;
	seen_t *s = ctx;
	if (name.data < s->start || name.data + name.len > s->end)
		abort();
	return SL_OK;
}

static int on_point(void *ctx, uint32_t ref, int64_t ts, double v, sl_err_t *err)
{
	(void)ref;
	(void)ts;
	(void)v;
	(void)err;
	((seen_t *)ctx)->points++;
	return SL_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *c = malloc(size ? size : 1); /* exactly size bytes: ASan sees any overread */
	memcpy(c, data, size);
	seen_t s = { c, c + size, 0 };
	ts_wal_visitor_t v = { on_def, on_point, &s };
	sl_err_t err;
	int rc = ts_wal_decode(sl_slice(c, size), &v, &err);
	if (rc != SL_OK && rc != SL_CORRUPT)
		abort();
	if (s.points > size / 10) /* each point takes at least 10 bytes */
		abort();
	free(c);
	return 0;
}
