/* bloom.c — bloom filters with double hashing (see bloom.h). */
#include "engine/bloom.h"

#include <math.h>

#include "engine/checksum.h"
#include "engine/status.h"

#define BLOOM_SEED UINT64_C(0x5eed0b100f11e7e5) /* on disk in effect — never change */

uint64_t bloom_hash(sl_slice_t key)
{
	return checksum_xxh3(key.data, key.len, BLOOM_SEED);
}

unsigned bloom_probes(unsigned bits_per_key)
{
	unsigned k = (unsigned)lround(bits_per_key * 0.69314718);
	if (k < 1)
		k = 1;
	if (k > BLOOM_MAX_K)
		k = BLOOM_MAX_K;
	return k;
}

int bloom_build(const uint64_t *hashes, size_t n, unsigned bits_per_key, buf_t *out)
{
	uint64_t bits = (uint64_t)n * bits_per_key;
	if (bits < 64)
		bits = 64;
	size_t bytes = (size_t)((bits + 7) / 8);
	bits = (uint64_t)bytes * 8;
	unsigned k = bloom_probes(bits_per_key);

	uint8_t *array = buf_extend(out, bytes + 1);
	if (array == NULL)
		return SL_NOMEM;
	for (size_t i = 0; i < n; i++) {
		uint32_t h1 = (uint32_t)hashes[i], h2 = (uint32_t)(hashes[i] >> 32);
		for (unsigned j = 0; j < k; j++) {
			uint64_t pos = ((uint64_t)h1 + (uint64_t)j * h2) % bits;
			array[pos / 8] |= (uint8_t)(1u << (pos % 8));
		}
	}
	array[bytes] = (uint8_t)k;
	return SL_OK;
}

bool bloom_check(const uint8_t *filter, size_t len)
{
	return len >= 2 && filter[len - 1] >= 1 && filter[len - 1] <= BLOOM_MAX_K;
}

bool bloom_may_contain(const uint8_t *filter, size_t len, uint64_t h)
{
	if (!bloom_check(filter, len))
		return true;
	uint64_t bits = (uint64_t)(len - 1) * 8;
	unsigned k = filter[len - 1];
	uint32_t h1 = (uint32_t)h, h2 = (uint32_t)(h >> 32);
	for (unsigned j = 0; j < k; j++) {
		uint64_t pos = ((uint64_t)h1 + (uint64_t)j * h2) % bits;
		if ((filter[pos / 8] & (1u << (pos % 8))) == 0)
			return false;
	}
	return true;
}

double bloom_expected_fpr(unsigned bits_per_key)
{
	double k = bloom_probes(bits_per_key);
	return pow(1.0 - exp(-k / bits_per_key), k);
}
