/*
 * fuzz_hash_bucket.c — arbitrary bytes as one bucket page of the hash index,
 * fed straight to hash_bucket_decodes (header range, every entry's decoding,
 * the lookup by stored hash). No file per input, unlike fuzz_hash, so the
 * decoder sees millions of inputs a minute; the page is copied into a buffer of
 * exactly its size, so AddressSanitizer sees any read past it.
 */
#include "tests/fuzz/fuzz_pages.h"

#include "index/hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static hash_t *index_; /* of 512-byte pages: gives the decoder its page geometry */

static void make_index(void)
{
	char path[64];
	fuzz_fresh_path(path, "hash-bucket");
	hash_opts_t o = { .page_size = 512, .create = true };
	if (hash_open(env_new(), path, &o, &index_, NULL) != SL_OK)
		abort();
	fuzz_unlink_paged(path); /* the open handle is all the target needs */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (index_ == NULL)
		make_index();
	uint32_t n = hash_bucket_bytes(index_);
	uint8_t *page = calloc(n, 1);
	memcpy(page, data, size < n ? size : n);
	const char *why;
	hash_bucket_decodes(index_, page, &why);
	free(page);
	return 0;
}
