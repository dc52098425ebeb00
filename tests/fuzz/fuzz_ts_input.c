/*
 * fuzz_ts_input.c — arbitrary bytes as a time-series input line (kv/ts_parse),
 * both as CSV and as InfluxDB line protocol: each parser must accept or refuse
 * with a reason, never crash or read past the line; every accepted series must
 * be canonical (it parses to itself).
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
	buf_t lp[TS_LP_MAX_FIELDS] = { BUF_INIT };
	double values[TS_LP_MAX_FIELDS];
	size_t n = 0;
	int64_t ts;
	why[0] = '\0';
	if (ts_lp_line(sl_slice(line, size), TS_UNIT_AUTO, TS_UNIT_NS, &ts, lp, values, &n, why)) {
		for (size_t i = 0; i < n; i++)
			if (!ts_series_parse(buf_slice(&lp[i]), &again, why) || again.len != lp[i].len ||
			    memcmp(again.data, lp[i].data, lp[i].len) != 0)
				abort();
	} else if (why[0] == '\0' || n != 0) {
		abort(); /* a refusal says why and leaves no points */
	}
	for (size_t i = 0; i < TS_LP_MAX_FIELDS; i++)
		buf_free(&lp[i]);
	buf_free(&series);
	buf_free(&again);
	free(line);
	return 0;
}
