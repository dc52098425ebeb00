/*
 * fuzz_ts_select.c — arbitrary bytes as a series selector (kv/ts_select): the
 * parser must accept or refuse with a reason and a column, never crash, leak or
 * hang (regular expressions included); an accepted selector is matched against
 * a few series.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kv/ts_select.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 512)
		return 0; /* regcomp's cost grows with the expression; long ones add nothing here */
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	ts_selector_t sel;
	char why[TS_SELECT_WHY_BYTES];
	why[0] = '\0';
	if (ts_select_parse(text, &sel, why)) {
		static const char *series[] = { "cpu", "cpu{host=\"a\",mode=\"user\"}",
						"m{v=\"x\\ny \\\"q\\\"\"}" };
		for (int i = 0; i < 3; i++)
			(void)ts_select_match(&sel, sl_slice(series[i], strlen(series[i])));
		ts_select_free(&sel);
	} else if (strstr(why, "column") == NULL) {
		abort(); /* every refusal says where */
	}
	free(text);
	return 0;
}
