/*
 * fuzz_manifest.c — arbitrary bytes as the edit records of an LSM store's
 * manifest: opening the store must refuse (SL_CORRUPT naming the manifest or a
 * table) or succeed, and a store that opens must serve gets and scans and pass
 * lsm_check.
 *
 * The input is cut into records at each "\n--\n" and written through the WAL
 * writer, so every record is well framed and checksummed: the fuzzer works on
 * the edit decoder and on what recovery does with the versions it describes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/wal.h"
#include "kv/lsm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void remove_dir(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dir[] = "/tmp/fuzz-lsm-XXXXXX", path[64];
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof path, "%s/lsm.manifest", dir);
	env_t *env = env_new();
	env_set_sync_off(env, true);
	wal_t *w;
	if (wal_create(env, path, &w, NULL) != SL_OK)
		abort();
	const uint8_t *p = data, *end = data + size;
	while (p <= end) {
		const uint8_t *cut = memmem(p, (size_t)(end - p), "\n--\n", 4);
		const uint8_t *stop = cut ? cut : end;
		wal_append(w, p, (size_t)(stop - p), false, NULL);
		p = stop + 4;
	}
	wal_close(w, NULL);
	lsm_opts_t o = { .deterministic = true, .create = false };
	lsm_t *db;
	sl_err_t err = { 0 };
	if (lsm_open(env, dir, &o, &db, &err) == SL_OK) {
		buf_t v = BUF_INIT;
		lsm_get(db, NULL, sl_slice_str("k"), &v, &err);
		lsm_put(db, sl_slice_str("k"), sl_slice_str("v"), &err);
		lsm_check(db, &err);
		buf_free(&v);
		lsm_close(db, NULL);
	}
	env_free(env);
	remove_dir(dir);
	return 0;
}
