/* checksum.c — XXH3 behind the checksum.h interface. */
#include "engine/checksum.h"

#include <xxhash.h>

uint64_t checksum_xxh3(const void *p, size_t n, uint64_t seed)
{
	/* With seed 0 this equals XXH3_64bits(p, n). */
	return XXH3_64bits_withSeed(p, n, seed);
}
