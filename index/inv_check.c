/*
 * inv_check.c — inverted_check: reads every byte of every live segment and
 * verifies the invariants listed in inverted.h, reporting the first break.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/codec.h"
#include "index/inv_int.h"

static int inv_check_bad(const inv_seg_t *s, const char *what, sl_err_t *err)
{
	return sl_errf(err, SL_CORRUPT, "%s: check: %s", s->path, what);
}

/*
 * One term's postings and positions (invariants 1 and 4); adds its tfs to
 * *tokens, and to *varint_bytes what its doc gaps and tfs would take as one
 * varint each (the encoding bit-packing is measured against).
 */
static int inv_check_term(inv_seg_t *s, const inv_term_entry_t *e, uint64_t *tokens,
			  uint64_t *varint_bytes, uint32_t **pos, size_t *cap, sl_err_t *err)
{
	inv_cursor_t c;
	int rc = inv_cursor_open(&c, s, e, err);
	uint32_t n = 0, max_tf = 0;
	uint64_t next = 0;
	for (; rc == SL_OK && postings_iter_valid(&c.it); rc = postings_iter_next(&c.it, err)) {
		uint32_t d = postings_iter_doc(&c.it), tf = postings_iter_tf(&c.it);
		*varint_bytes += codec_varint_len(d - next) + codec_varint_len(tf);
		next = (uint64_t)d + 1;
		n++;
		*tokens += tf;
		if (tf > max_tf)
			max_tf = tf;
		if (d >= s->docs) {
			rc = inv_check_bad(s, "a posting past the last document", err);
			break;
		}
		if (!c.has_pos)
			continue;
		if (tf > *cap) {
			uint32_t *p = realloc(*pos, tf * sizeof *p);
			if (p == NULL) {
				rc = sl_errf(err, SL_NOMEM, "check: out of memory");
				break;
			}
			*pos = p;
			*cap = tf;
		}
		rc = inv_cursor_positions(&c, *pos, err);
		for (uint32_t j = 0; rc == SL_OK && j < tf; j++)
			if ((*pos)[j] >= inv_seg_doclen(s, d) || (j > 0 && (*pos)[j] <= (*pos)[j - 1]))
				rc = inv_check_bad(s, "positions out of order or past the document", err);
	}
	if (rc == SL_OK && (n != e->df || max_tf != e->max_tf))
		rc = inv_check_bad(s, "a term's postings disagree with its df or max tf", err);
	if (rc == SL_OK && c.listed && c.has_pos && c.next_chunk != c.pos_end)
		rc = inv_check_bad(s, "positions bytes left over after a term's last chunk", err);
	inv_cursor_free(&c);
	return rc;
}

/* The dictionary, in order, every term found again by lookup (invariants 1, 2, 4). */
static int inv_check_dict(inv_seg_t *s, inverted_segment_info_t *info, sl_err_t *err)
{
	inv_dict_iter_t d;
	inv_term_entry_t e = { 0 }, again = { 0 };
	buf_t prev = { 0 };
	uint64_t terms = 0, tokens = 0;
	uint32_t *pos = NULL;
	size_t cap = 0;
	int rc = inv_dict_iter_first(&d, s, err);
	for (; rc == SL_OK && d.valid; rc = inv_dict_iter_next(&d, err)) {
		sl_slice_t term = block_iter_key(&d.it);
		if (terms > 0 && sl_slice_cmp(buf_slice(&prev), term) >= 0) {
			rc = inv_check_bad(s, "terms out of order", err);
			break;
		}
		buf_set(&prev, term.data, term.len);
		terms++;
		rc = inv_term_decode(s, block_iter_value(&d.it), &e, err);
		uint64_t v = 0;
		if (rc == SL_OK)
			rc = inv_check_term(s, &e, &tokens, &v, &pos, &cap, err);
		if (rc == SL_OK && info != NULL) {
			info->terms++;
			info->postings += e.df;
			info->inline_terms += e.kind == INV_TERM_INLINE;
			if (e.kind == INV_TERM_LISTED) {
				info->positions_bytes += e.pos_bytes;
				info->listed_postings += e.df;
				info->packed_bytes += e.bytes;
				info->varint_bytes += v;
			}
		}
		if (rc == SL_OK)
			rc = inv_seg_lookup(s, term, &again, err);
		if (rc == SL_NOTFOUND || (rc == SL_OK && (again.df != e.df || again.off != e.off)))
			rc = inv_check_bad(s, "a term the dictionary index does not find", err);
		if (rc != SL_OK)
			break;
	}
	if (rc == SL_OK && (terms != s->terms || tokens != s->tokens))
		rc = inv_check_bad(s, "term or token totals disagree with the footer", err);
	inv_dict_iter_free(&d);
	buf_free(&e.inline_bytes);
	buf_free(&again.inline_bytes);
	buf_free(&prev);
	free(pos);
	return rc;
}

/* The document and id tables agree both ways (invariants 2 and 3). */
static int inv_check_docs(inv_seg_t *s, sl_err_t *err)
{
	uint64_t tokens = 0;
	uint32_t min_dl = UINT32_MAX, back;
	buf_t id = { 0 };
	int rc = SL_OK;
	for (uint32_t d = 0; d < s->docs && rc == SL_OK; d++) {
		uint32_t len = inv_seg_doclen(s, d);
		tokens += len;
		if (len < min_dl)
			min_dl = len;
		rc = inv_seg_id(s, d, &id, err);
		if (rc == SL_OK)
			rc = inv_seg_find_id(s, buf_slice(&id), &back, err);
		if (rc == SL_NOTFOUND || (rc == SL_OK && back != d))
			rc = inv_check_bad(s, "id table and document table disagree", err);
	}
	if (rc == SL_OK && (tokens != s->tokens || (s->docs > 0 && min_dl != s->min_dl)))
		rc = inv_check_bad(s, "document lengths disagree with the footer", err);
	buf_free(&id);
	return rc;
}

int inverted_check(inverted_t *ix, sl_err_t *err)
{
	for (uint32_t i = 0; i < ix->nsegs; i++) {
		inv_seg_t *s = ix->segs[i];
		int rc = inv_check_docs(s, err);
		if (rc == SL_OK)
			rc = inv_check_dict(s, NULL, err);
		if (rc != SL_OK)
			return rc;
		uint64_t live = 0;
		for (uint32_t d = 0; d < s->docs; d++)
			live += inv_seg_deleted(s, d) ? 0 : inv_seg_doclen(s, d);
		if (!s->fresh && live != s->live_tokens)
			return inv_check_bad(s, "live tokens disagree with the bitmap", err);
	}
	return SL_OK;
}

int inverted_inspect_segment(env_t *env, const char *path, inverted_segment_info_t *info,
			     sl_err_t *err)
{
	memset(info, 0, sizeof *info);
	inv_seg_t *s;
	int rc = inv_seg_open(env, path, 0, &s, err);
	if (rc != SL_OK)
		return rc;
	info->docs = s->docs;
	info->tokens = s->tokens;
	info->positions = s->flags & INV_SEG_POSITIONS;
	info->shortest_doc = s->min_dl;
	info->postings_bytes = s->dict_off - INV_SEG_HEADER;
	info->dict_bytes = s->ids_off - s->dict_off;
	info->id_bytes = s->size - INV_SEG_FOOTER - s->ids_off;
	info->table_bytes = 8ull * s->docs + 4ull * (s->id_blocks + 1) + s->bloom_len;
	info->id_bytes -= info->table_bytes;
	info->file_bytes = s->size;
	info->id_blocks = s->id_blocks;
	block_iter_t it;
	block_iter_init(&it, &s->dict_index, NULL);
	for (block_iter_first(&it); block_iter_valid(&it); block_iter_next(&it))
		info->dict_blocks++;
	block_iter_free(&it);
	rc = inv_check_docs(s, err);
	if (rc == SL_OK)
		rc = inv_check_dict(s, info, err);
	inv_seg_close(s);
	return rc;
}
