/*
 * fuzz_tokenizer.c — arbitrary bytes as text for the tokenizer (index/tokenizer):
 * it must refuse what is not UTF-8, and on what is, every token must be valid,
 * non-empty UTF-8 lying inside the text, in order.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "index/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1); /* exactly size bytes: ASan sees any overread */
	memcpy(copy, data, size);
	tokenizer_t t = { 0 };
	sl_err_t err = { 0 };
	if (tokenizer_init(&t, sl_slice(copy, size), &err) == SL_OK) {
		size_t prev_stop = 0;
		while (tokenizer_next(&t)) {
			const char *why;
			if (t.token.len == 0 || t.start < prev_stop || t.stop <= t.start || t.stop > size ||
			    tokenizer_utf8_valid(buf_slice(&t.token), &why) != t.token.len)
				abort();
			prev_stop = t.stop;
		}
	}
	tokenizer_free(&t);
	free(copy);
	return 0;
}
