/*
 * fuzz_pages.h — what the paged-file fuzz targets share: write the input as the
 * pages of a 512-byte-page file behind a valid header, each page sealed with its
 * checksum so the fuzzer reaches the structure's own decoding (the pager's checks
 * have their own tests), and clean up afterwards.
 */
#ifndef SL_FUZZ_PAGES_H
#define SL_FUZZ_PAGES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/checksum.h"
#include "engine/codec.h"
#include "engine/slice.h"

#define FUZZ_PAGE 512

/* A fresh name under /tmp, no file there yet (into path, 64 bytes), for a file a target makes. */
static inline void fuzz_fresh_path(char *path, const char *stem)
{
	snprintf(path, 64, "/tmp/fuzz-%s-XXXXXX", stem);
	int fd = mkstemp(path);
	if (fd < 0)
		abort();
	close(fd);
	unlink(path);
}

/* Reads the header page of the file at path into header (FUZZ_PAGE bytes). */
static inline void fuzz_read_header(const char *path, uint8_t *header)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL || fread(header, 1, FUZZ_PAGE, f) != FUZZ_PAGE)
		abort();
	fclose(f);
}

/*
 * Makes a fresh directory (name into dir, 64 bytes) holding "t.db": the header
 * (its page count set to fit, free list emptied) and the input's whole pages.
 * path (64 bytes) gets the file's name.
 */
static inline void fuzz_write_pages(const uint8_t *header, const uint8_t *data, size_t size,
				    char *dir, char *path)
{
	strcpy(dir, "/tmp/fuzz-pages-XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, 64, "%s/t.db", dir);
	size_t pages = size / FUZZ_PAGE;
	uint8_t *file = calloc(pages + 1, FUZZ_PAGE);
	memcpy(file, header, FUZZ_PAGE);
	if (pages > 0)
		memcpy(file + FUZZ_PAGE, data, pages * FUZZ_PAGE);
	codec_put_u32(file + 16, (uint32_t)(pages + 1)); /* page count (engine/pager.h) */
	codec_put_u32(file + 20, 0);                     /* free list head */
	codec_put_u32(file + 24, 0);                     /* free pages */
	for (size_t p = 0; p <= pages; p++)
		codec_put_u64(file + p * FUZZ_PAGE + FUZZ_PAGE - 8,
			      checksum_xxh3(file + p * FUZZ_PAGE, FUZZ_PAGE - 8, p));
	FILE *f = fopen(path, "wb");
	fwrite(file, 1, (pages + 1) * FUZZ_PAGE, f);
	fclose(f);
	free(file);
}

/*
 * Keys for the writes a target makes on its damaged file: which = 0 is the
 * input's first 16 bytes; else "keyNNN" with NNN from the input's first byte
 * and which, 40 names in all (those fuzz_hash's header index was built with, so
 * that writes meet entries already there).
 */
static inline sl_slice_t fuzz_key(const uint8_t *data, size_t size, int which, char *buf)
{
	if (which == 0)
		return sl_slice(data, size < 16 ? size : 16);
	snprintf(buf, 16, "key%03u", ((size ? data[0] : 0u) + 7u * (unsigned)which) % 40);
	return sl_slice_str(buf);
}

/* Removes a paged file with its log and double-write buffer (open handles keep working). */
static inline void fuzz_unlink_paged(const char *path)
{
	const char *suffix[] = { "", "-log", "-dwb", "-log.tmp", "-dwb.tmp" };
	for (int i = 0; i < 5; i++) {
		char name[96];
		snprintf(name, sizeof name, "%s%s", path, suffix[i]);
		unlink(name);
	}
}

/* Removes t.db, its log and double-write buffer, and the directory. */
static inline void fuzz_remove(const char *dir, const char *path)
{
	fuzz_unlink_paged(path);
	rmdir(dir);
}

#endif
