/*
 * fuzz_ts_segment.c — arbitrary bytes as a time-series segment file
 * (kv/ts_seg.h): ts_seg_open must refuse (SL_CORRUPT) or accept, and
 * everything read from an accepted one — the check of every chunk and of the
 * label index against the names, selections through the postings lists,
 * each series' points, name lookups — must stay inside the file and report
 * damage as SL_CORRUPT. The header's and the tables' checksums are re-sealed
 * first so that mutations reach the table and postings decoders (the chunks
 * keep their own checks: fuzz_ts_chunk covers their decoder).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/checksum.h"
#include "engine/codec.h"
#include "kv/ts_seg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void seal(uint8_t *t, size_t size)
{
	if (size < TS_SEG_HEADER + TS_SEG_FOOTER)
		return;
	codec_put_u32(t + 44, checksum_xxh3_32(t, 44, 0));
	uint8_t *f = t + size - TS_SEG_FOOTER;
	uint64_t series_off = codec_get_u64(f), foot = size - TS_SEG_FOOTER;
	if (series_off <= foot)
		codec_put_u32(f + 40, checksum_xxh3_32(t + series_off, foot + 40 - series_off, 0));
}

static void select_all(ts_seg_t *s, const char *text)
{
	ts_selector_t sel;
	char why[TS_SELECT_WHY_BYTES];
	uint32_t *ids = NULL;
	size_t n;
	sl_err_t err;
	if (!ts_select_parse(text, &sel, why))
		abort();
	if (ts_seg_select(s, &sel, &ids, &n, NULL, &err) == SL_OK)
		for (size_t i = 0; i < n; i++)
			if (ids[i] >= ts_seg_series_count(s) || (i > 0 && ids[i] <= ids[i - 1]))
				abort();
	free(ids);
	ts_select_free(&sel);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *t = malloc(size + 1);
	memcpy(t, data, size);
	seal(t, size);
	char path[] = "/tmp/fuzz-tsseg-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, t, size) != (ssize_t)size)
		abort();
	close(fd);
	env_t *env = env_new();
	ts_seg_t *s;
	sl_err_t err;
	if (ts_seg_open(env, path, &s, &err) == SL_OK) {
		(void)ts_seg_check(s, &err);
		select_all(s, "{host=\"a\"}");
		select_all(s, "cpu{mode!=\"idle\",host=~\"a|b\"}");
		ts_point_t *pts = NULL;
		size_t cap = 0;
		for (uint32_t i = 0; i < ts_seg_series_count(s) && i < 10000; i++) {
			size_t n = 0;
			uint32_t back;
			if (ts_seg_read(s, i, INT64_MIN, INT64_MAX, &pts, &n, &cap, NULL, &err) != SL_OK &&
			    err.code != SL_CORRUPT)
				abort();
			if (!ts_seg_find(s, ts_seg_series(s, i), &back) || back != i)
				abort(); /* names are strictly increasing: each finds itself */
		}
		free(pts);
		ts_seg_close(s);
	} else if (err.code != SL_CORRUPT && err.code != SL_NOMEM) {
		abort();
	}
	env_free(env);
	unlink(path);
	free(t);
	return 0;
}
