/*
 * fuzz_inv_segment.c — arbitrary bytes as an inverted-index segment file
 * (index/inverted.h): inv_seg_open must refuse (SL_CORRUPT) or accept, and
 * everything read from an accepted one — the dictionary walked in order, each
 * term's postings and positions, term and id lookups, every document's id —
 * must stay inside the file and report damage as SL_CORRUPT.
 *
 * So that mutations reach the decoders instead of dying at a checksum, the
 * input is "re-sealed" first: the footer's checksum, the tables' checksum and
 * the checksums of the index blocks and of every dictionary and id block they
 * point at are recomputed (the postings blocks and positions chunks keep their
 * own checks: fuzz_postings covers the postings decoder sealed or not).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/block.h"
#include "engine/checksum.h"
#include "engine/codec.h"
#include "index/inv_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(size_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

/* Recomputes the checksum of the stored block at [off, off+len) of t, if it lies inside. */
static void seal_block(uint8_t *t, size_t size, uint64_t off, uint64_t len)
{
	if (len < BLOCK_TRAILER_BYTES || !inside(size, off, len))
		return;
	codec_put_u64(t + off + len - 8, checksum_xxh3(t + off, len - 8, 0));
}

/* Seals the blocks an index block at [off, off+len) names (offsets from base). */
static void seal_named(uint8_t *t, size_t size, uint64_t off, uint64_t len, uint64_t base)
{
	block_t ix;
	if (!inside(size, off, len) || block_open(&ix, t + off, len, NULL) != SL_OK)
		return;
	block_iter_t it;
	block_iter_init(&it, &ix, NULL);
	for (block_iter_first(&it); block_iter_valid(&it); block_iter_next(&it)) {
		sl_slice_t v = block_iter_value(&it);
		uint64_t o, l;
		size_t n = codec_get_varint(v.data, v.data + v.len, &o);
		if (n && codec_get_varint(v.data + n, v.data + v.len, &l))
			seal_block(t, size, base + o, l);
	}
	block_iter_free(&it);
	block_close(&ix);
}

static void seal(uint8_t *t, size_t size)
{
	if (size < INV_SEG_FOOTER)
		return;
	uint8_t *f = t + size - INV_SEG_FOOTER;
	uint64_t docs = codec_get_u32(f), id_blocks = codec_get_u32(f + 20);
	uint64_t dict_off = codec_get_u64(f + 32), dict_len = codec_get_u32(f + 40);
	uint64_t dict_ix = codec_get_u32(f + 44), ids_off = codec_get_u64(f + 48);
	uint64_t ids_len = codec_get_u32(f + 56), id_ix = codec_get_u32(f + 60);
	uint64_t tables = codec_get_u64(f + 64), end = size - INV_SEG_FOOTER;
	seal_block(t, size, dict_off + dict_len, dict_ix);
	seal_named(t, size, dict_off + dict_len, dict_ix, dict_off);
	seal_block(t, size, ids_off + ids_len, id_ix);
	/* Id blocks are found through the offsets array in the tables. */
	uint64_t offs = tables + 8 * docs;
	for (uint64_t b = 0; b < id_blocks && inside(size, offs + 4 * b, 8); b++) {
		uint64_t from = codec_get_u32(t + offs + 4 * b), to = codec_get_u32(t + offs + 4 * b + 4);
		if (to >= from)
			seal_block(t, size, ids_off + from, to - from);
	}
	if (tables <= end)
		codec_put_u64(f + 80, checksum_xxh3(t + tables, end - tables, 0));
	codec_put_u32(f + 88, (uint32_t)checksum_xxh3(f, 88, 0));
}

/* Reads every posting and position of one term. */
static void walk_term(inv_seg_t *s, const inv_term_entry_t *e)
{
	inv_cursor_t c;
	sl_err_t err;
	uint32_t pos[4096];
	if (inv_cursor_open(&c, s, e, &err) == SL_OK) {
		while (postings_iter_valid(&c.it)) {
			if (postings_iter_doc(&c.it) >= s->docs && s->docs > 0)
				; /* out of range: inverted_check reports it; reading must still be safe */
			if (c.has_pos && postings_iter_tf(&c.it) <= 4096 &&
			    inv_cursor_positions(&c, pos, &err) != SL_OK)
				break;
			if (postings_iter_next(&c.it, &err) != SL_OK)
				break;
		}
	}
	inv_cursor_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *t = malloc(size + 1);
	memcpy(t, data, size);
	seal(t, size);
	char path[] = "/tmp/fuzz-seg-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, t, size) != (ssize_t)size)
		abort();
	close(fd);
	env_t *env = env_new();
	inv_seg_t *s;
	sl_err_t err;
	if (inv_seg_open(env, path, 0, &s, &err) == SL_OK) {
		inv_dict_iter_t d;
		inv_term_entry_t e = { 0 };
		unsigned terms = 0;
		if (inv_dict_iter_first(&d, s, &err) == SL_OK)
			while (d.valid && terms++ < 10000) {
				sl_slice_t k = block_iter_key(&d.it);
				if (inv_term_decode(s, block_iter_value(&d.it), &e, &err) == SL_OK) {
					walk_term(s, &e);
					(void)inv_seg_lookup(s, k, &e, &err);
				}
				if (inv_dict_iter_next(&d, &err) != SL_OK)
					break;
			}
		inv_dict_iter_free(&d);
		(void)inv_seg_lookup(s, sl_slice(data, size < 8 ? size : 8), &e, &err);
		buf_free(&e.inline_bytes);
		buf_t id = { 0 };
		uint32_t back;
		for (uint32_t doc = 0; doc < s->docs && doc < 10000; doc++)
			if (inv_seg_id(s, doc, &id, &err) == SL_OK)
				(void)inv_seg_find_id(s, buf_slice(&id), &back, &err);
		buf_free(&id);
		inv_seg_close(s);
	}
	env_free(env);
	unlink(path);
	free(t);
	return 0;
}
