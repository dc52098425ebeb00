/*
 * fuzz_ts_csv.c — arbitrary bytes as a time-series CSV line (kv/ts_parse):
 * the parser must accept or refuse with a reason, never crash or read past the
 * line; an accepted series must be canonical (it parses to itself).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kv/ts_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *line = malloc(size ? size : 1); /* exactly size bytes: ASan sees any overread */
	memcpy(line, data, size);
	buf_t series = BUF_INIT, again = BUF_INIT;
	ts_csv_point_t p;
	char why[TS_WHY_BYTES];
	ts_unit_t units[] = { TS_UNIT_AUTO, TS_UNIT_NS };
	for (int u = 0; u < 2; u++) {
		why[0] = '\0';
		if (ts_csv_line(sl_slice(line, size), units[u], TS_UNIT_MS, &p, &series, why)) {
			if (!ts_series_parse(buf_slice(&series), &again, why) || again.len != series.len ||
			    memcmp(again.data, series.data, series.len) != 0)
				abort(); /* the canonical form must parse to itself */
		} else if (why[0] == '\0') {
			abort(); /* every refusal says why */
		}
	}
	buf_free(&series);
	buf_free(&again);
	free(line);
	return 0;
}
