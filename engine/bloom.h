/*
 * bloom.h — bloom filters: "definitely not here" or "maybe here" in a few bits per key.
 *
 * An LSM store keeps one filter per SSTable so that a get for a key that is not in
 * a file costs no disk read at all. A filter is an array of m bits; each key sets
 * k of them, at positions derived from its 64-bit hash. A lookup tests the same k
 * bits: any clear bit proves the key was never added; all set means "maybe".
 *
 * With b bits per key and k = round(b * ln 2) probes, the false-positive rate is
 * about (1 - e^(-k/b))^k: 10 bits per key gives k = 7 and about 0.8 %.
 *
 * The k positions come from one hash by double hashing (Kirsch and Mitzenmacher):
 * h1 = low 32 bits, h2 = high 32 bits, position i = (h1 + i * h2) mod m. One XXH3
 * per key instead of k hashes, with the same false-positive rate in practice.
 *
 * Serialized filter (what a builder appends, what bloom_may_contain reads):
 *
 *   +--------------------------------------+---------+
 *   | bit array, m / 8 bytes (bit i is     | k (u8)  |
 *   | byte i/8, bit i%8)                   |         |
 *   +--------------------------------------+---------+
 *
 * The filter carries no checksum of its own: it is stored inside a checksummed
 * block or page. A filter with k = 0 or k > 30 is treated as "maybe" for every key
 * (so a damaged k never hides a key), and bloom_check reports it.
 */
#ifndef SL_BLOOM_H
#define SL_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/slice.h"
#include "engine/status.h"

#define BLOOM_MAX_K 30

/* The hash a filter uses for a key (XXH3 with a fixed seed). */
uint64_t bloom_hash(sl_slice_t key);

/* Number of probes for a bits-per-key setting: round(bits * ln 2), in [1, 30]. */
unsigned bloom_probes(unsigned bits_per_key);

/*
 * Appends a filter over n key hashes with bits_per_key bits each (at least 64
 * bits in all) to out. SL_NOMEM if out could not grow.
 */
int bloom_build(const uint64_t *hashes, size_t n, unsigned bits_per_key, buf_t *out);

/* false when the key whose hash is h is certainly not in the filter. */
bool bloom_may_contain(const uint8_t *filter, size_t len, uint64_t h);

/* true when the filter's shape is sound (length >= 2, k in [1, 30]). */
bool bloom_check(const uint8_t *filter, size_t len);

/* The false-positive rate the formula predicts for bits_per_key. */
double bloom_expected_fpr(unsigned bits_per_key);

#endif
