/* fuzz_cmdline.c — arbitrary bytes as a shell line; escaping a parsed token and
 * parsing it again must give the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cmdline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cmdline_t cl = { 0 }, again = { 0 };
	buf_t text = BUF_INIT;
	if (cmdline_parse(&cl, (const char *)data, size) == 0 && cl.ntok > 0) {
		cmdline_escape(&text, cl.tok[0], 1);
		if (cmdline_parse(&again, (const char *)text.data, text.len) != 0 || again.ntok != 1 ||
		    !sl_slice_eq(again.tok[0], cl.tok[0]))
			abort();
	}
	buf_free(&text);
	cmdline_free(&cl);
	cmdline_free(&again);
	return 0;
}
