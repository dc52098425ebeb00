/*
 * checksum.h — the one place storelab hashes bytes.
 *
 * Every page, block, log record and footer carries a checksum made here, and the
 * bloom filter and hash index hash their keys here. All of it is XXH3 (from
 * libxxhash): about 30 GB/s on long inputs and a few nanoseconds on a short key,
 * so verifying every read costs little next to the read itself.
 *
 * No other file includes xxhash.h: changing the function is one edit, and a format
 * version bump, since checksums are stored on disk.
 */
#ifndef SL_CHECKSUM_H
#define SL_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit XXH3 of n bytes, seeded (seed 0 for plain checksums). */
uint64_t checksum_xxh3(const void *p, size_t n, uint64_t seed);

/* The 32-bit form stored where space is tight: the low half of checksum_xxh3. */
static inline uint32_t checksum_xxh3_32(const void *p, size_t n, uint64_t seed)
{
	return (uint32_t)checksum_xxh3(p, n, seed);
}

#endif
