/*
 * fuzz_inv_commit.c — arbitrary bytes as an inverted index's COMMIT file, in a
 * directory that also holds a real segment and a real deleted-docs bitmap:
 * opening must refuse (SL_CORRUPT or SL_INVALID, with a message) or accept,
 * and an accepted index must pass inverted_check or report damage, and answer
 * a search without reading outside any file.
 *
 * The input is re-sealed first (its trailing XXH3 recomputed), so mutations
 * reach the decoder rather than stopping at the checksum.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/checksum.h"
#include "engine/codec.h"
#include "index/inverted.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A directory with segment 000000.seg (3 documents, one deleted: 000000_2.del), made once. */
static const char *fixture(env_t *env)
{
	static char dir[64];
	if (dir[0] != '\0')
		return dir;
	snprintf(dir, sizeof dir, "/tmp/fuzz-commit-%d", (int)getpid());
	inverted_t *ix;
	sl_err_t err;
	inverted_opts_t opts = inverted_defaults();
	if (inverted_open(env, dir, &opts, &ix, &err) != SL_OK)
		abort();
	static const char *docs[][2] = { { "a", "quick brown fox" }, { "b", "lazy dog" },
					 { "c", "quick dog" } };
	for (int i = 0; i < 3; i++)
		if (inverted_add(ix, sl_slice_str(docs[i][0]), sl_slice_str(docs[i][1]), &err) != SL_OK)
			abort();
	bool found;
	if (inverted_commit(ix, &err) != SL_OK || inverted_delete(ix, sl_slice_str("b"), &found, &err) ||
	    inverted_commit(ix, &err) != SL_OK)
		abort();
	inverted_close(ix);
	return dir;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	env_t *env = env_new();
	env_set_sync_off(env, true);
	const char *dir = fixture(env);
	uint8_t *c = malloc(size + 1);
	memcpy(c, data, size);
	if (size >= 8)
		codec_put_u64(c + size - 8, checksum_xxh3(c, size - 8, 0));
	char path[128];
	snprintf(path, sizeof path, "%s/COMMIT", dir);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(c, 1, size, f) != size || fclose(f) != 0)
		abort();
	inverted_opts_t opts = inverted_defaults();
	opts.read_only = true; /* and so no file is removed: the fixture stays */
	opts.create = false;
	inverted_t *ix;
	sl_err_t err;
	int rc = inverted_open(env, dir, &opts, &ix, &err);
	if (rc == SL_OK) {
		(void)inverted_check(ix, &err);
		inverted_result_t res;
		if (inverted_search(ix, "quick OR dog", 10, &res, &err) == SL_OK)
			inverted_result_free(&res);
		inverted_close(ix);
	} else if (err.msg[0] == '\0') {
		abort(); /* every refusal says why */
	}
	free(c);
	env_free(env);
	return 0;
}
