/*
 * fuzz_wal.c — arbitrary bytes as a log file: the reader must return only
 * records that pass their checks, end cleanly or report SL_CORRUPT, and never
 * crash or read out of bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/wal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/fuzz-wal-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	env_t *env = env_new();
	wal_reader_t *r;
	sl_err_t err = { 0 };
	if (wal_reader_open(env, path, &r, &err) == SL_OK) {
		sl_slice_t rec;
		uint64_t total = 0;
		while (wal_reader_next(r, &rec, NULL, &err) == SL_OK)
			total += rec.len;
		if (total > size)
			abort(); /* a record can only come from the file's own bytes */
		wal_reader_close(r);
	}
	env_free(env);
	unlink(path);
	return 0;
}
