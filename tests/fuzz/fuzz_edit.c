/*
 * fuzz_edit.c — arbitrary bytes as one LSM version edit (a manifest record's
 * payload), fed straight to lsm_edit_decode; no manifest file, no store, so
 * millions of inputs a minute where fuzz_manifest (a whole store per input)
 * reaches thousands. Whatever decodes must survive a round trip: encoding it and
 * decoding that again gives an edit that encodes to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>

#include "kv/lsm_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lsm_edit_t e = { 0 }, again = { 0 };
	buf_t once = BUF_INIT, twice = BUF_INIT;
	if (lsm_edit_decode(sl_slice(data, size), &e) == SL_OK) {
		lsm_edit_encode(&e, &once);
		if (lsm_edit_decode(buf_slice(&once), &again) != SL_OK)
			abort(); /* an edit we encoded does not decode */
		lsm_edit_encode(&again, &twice);
		if (!sl_slice_eq(buf_slice(&once), buf_slice(&twice)))
			abort(); /* the round trip changed the edit */
	}
	lsm_edit_free(&e);
	lsm_edit_free(&again);
	buf_free(&once);
	buf_free(&twice);
	return 0;
}
