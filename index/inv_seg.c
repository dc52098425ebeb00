/*
 * inv_seg.c — segment files of the inverted index: writing one, opening it,
 * looking terms and ids up, walking its dictionary, and reading a term's
 * postings with their positions. The format is drawn in inverted.h.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/bloom.h"
#include "engine/checksum.h"
#include "engine/codec.h"
#include "index/inv_int.h"

size_t inv_term_cut(const uint8_t *t, size_t len)
{
	if (len <= INV_MAX_TERM)
		return len;
	len = INV_MAX_TERM;
	while (len > 0 && (t[len] & 0xC0) == 0x80) /* do not split a character */
		len--;
	return len;
}

/* ================================================================ writing */

struct inv_segw {
	env_t *env;
	env_file_t *f;
	char *path;
	bool positions;
	buf_t out;                   /* postings area bytes not yet appended */
	uint64_t written;            /* bytes appended to the file so far */
	block_builder_t dict, dict_index;
	buf_t dict_blocks;           /* finished dictionary blocks */
	buf_t last_term;
	uint64_t terms;
	buf_t value, chunk;          /* scratch */
	/* documents */
	uint32_t docs, min_dl;
	uint64_t tokens;
	buf_t lens;                  /* u32 per document */
	buf_t ids;                   /* the ids, one after another */
	u32s_t id_ends;          /* where each ends in ids */
};

int inv_segw_open(env_t *env, const char *path, bool positions, inv_segw_t **out, sl_err_t *err)
{
	inv_segw_t *w = calloc(1, sizeof *w);
	if (w == NULL || (w->path = strdup(path)) == NULL) {
		free(w);
		return sl_errf(err, SL_NOMEM, "%s: out of memory", path);
	}
	w->env = env;
	w->positions = positions;
	w->min_dl = UINT32_MAX;
	block_builder_init(&w->dict, 0, NULL);
	block_builder_init(&w->dict_index, 1, NULL);
	int rc = env_open(env, path, ENV_WRITE | ENV_CREATE | ENV_TRUNC, &w->f, err);
	if (rc != SL_OK) {
		inv_segw_abandon(w);
		return rc;
	}
	uint8_t h[INV_SEG_HEADER] = { 0 };
	memcpy(h, INV_SEG_MAGIC, 8);
	codec_put_u32(h + 8, INV_SEG_VERSION);
	codec_put_u32(h + 12, positions ? INV_SEG_POSITIONS : 0);
	buf_append(&w->out, h, sizeof h);
	*out = w;
	return SL_OK;
}

/* Appends the pending postings-area bytes to the file once enough have gathered. */
static int inv_segw_drain(inv_segw_t *w, size_t at_least, sl_err_t *err)
{
	if (!buf_ok(&w->out))
		return sl_errf(err, SL_NOMEM, "%s: out of memory", w->path);
	if (w->out.len < at_least || w->out.len == 0)
		return SL_OK;
	int rc = env_append(w->f, w->out.data, w->out.len, err);
	if (rc != SL_OK)
		return rc;
	w->written += w->out.len;
	buf_clear(&w->out);
	return SL_OK;
}

int inv_segw_doc(inv_segw_t *w, sl_slice_t id, uint32_t len, sl_err_t *err)
{
	uint8_t b[4];
	codec_put_u32(b, len);
	buf_append(&w->lens, b, 4);
	buf_append(&w->ids, id.data, id.len);
	if (!u32s_push(&w->id_ends, (uint32_t)w->ids.len) || !buf_ok(&w->lens) ||
	    !buf_ok(&w->ids))
		return sl_errf(err, SL_NOMEM, "%s: out of memory", w->path);
	w->docs++;
	w->tokens += len;
	if (len < w->min_dl)
		w->min_dl = len;
	return SL_OK;
}

/* Puts the positions of postings [from, to) as gap varints into out. */
static void inv_put_positions(buf_t *out, const uint32_t *tfs, const uint32_t **pos,
			      uint32_t from, uint32_t to)
{
	size_t total = 0;
	for (uint32_t i = from; i < to; i++)
		total += tfs[i];
	if (!buf_reserve(out, total * 5)) /* at most 5 bytes a varint of 32 bits */
		return; /* the buffer is marked: the caller sees it through buf_ok */
	uint8_t *p = out->data + out->len;
	for (uint32_t i = from; i < to; i++) {
		uint32_t prev = 0;
		for (uint32_t j = 0; j < tfs[i]; j++) {
			uint32_t at = (*pos)[j];
			p += codec_put_varint(p, j == 0 ? at : at - prev - 1);
			prev = at;
		}
		*pos += tfs[i];
	}
	out->len = (size_t)(p - out->data);
}

/* Appends a listed term's postings (and positions chunks) to the area; fills off and sizes. */
static int inv_segw_listed(inv_segw_t *w, const uint32_t *docs, const uint32_t *tfs,
			   const uint32_t *pos, uint32_t n, uint64_t *off, uint64_t *bytes,
			   uint64_t *pos_bytes, sl_err_t *err)
{
	*off = w->written + w->out.len;
	bm25_t bm = bm25_params(w->docs, w->tokens); /* the impacts' scale (inv_int.h) */
	postings_writer_t pw;
	postings_writer_init(&pw, &w->out, true);
	for (uint32_t i = 0; i < n; i++) {
		if (docs[i] >= w->docs) {
			postings_writer_finish(&pw, NULL);
			return sl_errf(err, SL_INVALID, "%s: a posting for document %u of %u", w->path,
				       docs[i], w->docs);
		}
		uint32_t dl = codec_get_u32(w->lens.data + 4 * (size_t)docs[i]);
		int rc = postings_writer_add_impact(&pw, docs[i], tfs[i],
						    inv_impact_encode(&bm, tfs[i], dl), err);
		if (rc != SL_OK) {
			postings_writer_finish(&pw, NULL);
			return rc;
		}
	}
	int rc = postings_writer_finish(&pw, err);
	if (rc != SL_OK)
		return rc;
	*bytes = w->written + w->out.len - *off;
	*pos_bytes = 0;
	if (!w->positions)
		return SL_OK;
	for (uint32_t from = 0; from < n; from += POSTINGS_BLOCK) {
		uint32_t to = n - from < POSTINGS_BLOCK ? n : from + POSTINGS_BLOCK;
		buf_clear(&w->chunk);
		inv_put_positions(&w->chunk, tfs, &pos, from, to);
		uint64_t at = w->written + w->out.len;
		codec_buf_put_varint(&w->out, w->chunk.len);
		uint8_t c[4];
		codec_put_u32(c, (uint32_t)checksum_xxh3(w->chunk.data, w->chunk.len, at));
		buf_append(&w->out, c, 4);
		buf_append(&w->out, w->chunk.data, w->chunk.len);
		*pos_bytes += w->written + w->out.len - at;
	}
	return buf_ok(&w->chunk) ? SL_OK : sl_errf(err, SL_NOMEM, "%s: out of memory", w->path);
}

/* Ends the dictionary block being built: its bytes go to dict_blocks, its last term to the index. */
static void inv_segw_end_dict_block(inv_segw_t *w)
{
	uint64_t at = w->dict_blocks.len;
	block_builder_finish(&w->dict, true, &w->dict_blocks);
	uint8_t v[20];
	size_t n = codec_put_varint(v, at);
	n += codec_put_varint(v + n, w->dict_blocks.len - at);
	block_builder_add(&w->dict_index, buf_slice(&w->last_term), sl_slice(v, n));
}

int inv_segw_term(inv_segw_t *w, sl_slice_t term, const uint32_t *docs, const uint32_t *tfs,
		  const uint32_t *pos, uint32_t n, sl_err_t *err)
{
	if (n == 0 || term.len == 0 || term.len > INV_MAX_TERM)
		return sl_errf(err, SL_INVALID, "%s: term of %zu bytes with %u postings", w->path,
			       term.len, n);
	uint32_t max_tf = 1;
	for (uint32_t i = 0; i < n; i++)
		if (tfs[i] > max_tf)
			max_tf = tfs[i];
	buf_t *v = &w->value;
	buf_clear(v);
	codec_buf_put_varint(v, n);
	codec_buf_put_varint(v, max_tf);
	if (n <= INV_INLINE_DOCS) {
		codec_buf_put_varint(v, INV_TERM_INLINE);
		for (uint32_t i = 0; i < n; i++) {
			codec_buf_put_varint(v, i == 0 ? docs[0] : docs[i] - docs[i - 1] - 1);
			codec_buf_put_varint(v, tfs[i]);
			if (w->positions)
				inv_put_positions(v, tfs, &pos, i, i + 1);
		}
	} else {
		uint64_t off, bytes, pos_bytes;
		int rc = inv_segw_listed(w, docs, tfs, pos, n, &off, &bytes, &pos_bytes, err);
		if (rc == SL_OK)
			rc = inv_segw_drain(w, 1 << 20, err);
		if (rc != SL_OK)
			return rc;
		codec_buf_put_varint(v, INV_TERM_LISTED);
		codec_buf_put_varint(v, off);
		codec_buf_put_varint(v, bytes);
		codec_buf_put_varint(v, pos_bytes);
	}
	block_builder_add(&w->dict, term, buf_slice(v));
	buf_set(&w->last_term, term.data, term.len);
	w->terms++;
	if (block_builder_size(&w->dict) >= INV_DICT_BLOCK_BYTES)
		inv_segw_end_dict_block(w);
	if (!buf_ok(v) || !buf_ok(&w->dict_blocks) || !buf_ok(&w->last_term))
		return sl_errf(err, SL_NOMEM, "%s: out of memory", w->path);
	return SL_OK;
}

/* Sorting ids: (bytes, document) pairs. */
typedef struct inv_idref {
	const uint8_t *p;
	uint32_t len, doc;
} inv_idref_t;

static int inv_idref_cmp(const void *a, const void *b)
{
	const inv_idref_t *x = a, *y = b;
	return sl_slice_cmp(sl_slice(x->p, x->len), sl_slice(y->p, y->len));
}

/* Writes id blocks (to out) and their index, and the ranks of the documents' ids. */
static int inv_segw_ids(inv_segw_t *w, buf_t *out, buf_t *index, uint32_t *rank,
			u32s_t *offs, uint64_t *hashes, sl_err_t *err)
{
	inv_idref_t *refs = malloc(((size_t)w->docs + 1) * sizeof *refs);
	if (refs == NULL)
		return sl_errf(err, SL_NOMEM, "%s: out of memory", w->path);
	for (uint32_t d = 0; d < w->docs; d++) {
		uint32_t start = d == 0 ? 0 : w->id_ends.v[d - 1];
		refs[d] = (inv_idref_t){ w->ids.data + start, w->id_ends.v[d] - start, d };
		hashes[d] = bloom_hash(sl_slice(refs[d].p, refs[d].len));
	}
	qsort(refs, w->docs, sizeof *refs, inv_idref_cmp);
	block_builder_t bb, ib;
	block_builder_init(&bb, 0, NULL);
	block_builder_init(&ib, 1, NULL);
	int rc = SL_OK;
	for (uint32_t r = 0; r < w->docs && rc == SL_OK; r++) {
		sl_slice_t id = sl_slice(refs[r].p, refs[r].len);
		if (r > 0 && sl_slice_cmp(id, sl_slice(refs[r - 1].p, refs[r - 1].len)) == 0) {
			rc = sl_errf(err, SL_INVALID, "%s: id %.*s twice", w->path, (int)id.len,
				     (const char *)id.data);
			break;
		}
		uint8_t v[10];
		block_builder_add(&bb, id, sl_slice(v, codec_put_varint(v, refs[r].doc)));
		rank[refs[r].doc] = r;
		if ((r + 1) % INV_ID_BLOCK_ENTRIES == 0 || r + 1 == w->docs) {
			uint32_t block = (uint32_t)offs->n - 1;
			block_builder_finish(&bb, false, out);
			if (!u32s_push(offs, (uint32_t)out->len))
				rc = sl_errf(err, SL_NOMEM, "%s: out of memory", w->path);
			block_builder_add(&ib, id, sl_slice(v, codec_put_varint(v, block)));
		}
	}
	if (rc == SL_OK)
		block_builder_finish(&ib, false, index);
	block_builder_free(&bb);
	block_builder_free(&ib);
	free(refs);
	return rc;
}

/* Appends b to the file, counting. */
static int inv_segw_put(inv_segw_t *w, const buf_t *b, sl_err_t *err)
{
	if (!buf_ok(b))
		return sl_errf(err, SL_NOMEM, "%s: out of memory", w->path);
	if (b->len == 0)
		return SL_OK;
	int rc = env_append(w->f, b->data, b->len, err);
	if (rc == SL_OK)
		w->written += b->len;
	return rc;
}

static int inv_segw_tail(inv_segw_t *w, sl_err_t *err)
{
	int rc = inv_segw_drain(w, 0, err);
	if (rc != SL_OK)
		return rc;
	if (!block_builder_empty(&w->dict))
		inv_segw_end_dict_block(w);
	uint8_t foot[INV_SEG_FOOTER] = { 0 };
	codec_put_u32(foot + 0, w->docs);
	codec_put_u32(foot + 4, w->positions ? INV_SEG_POSITIONS : 0);
	codec_put_u64(foot + 8, w->tokens);
	codec_put_u32(foot + 16, w->docs ? w->min_dl : 0);
	codec_put_u64(foot + 24, w->terms);
	codec_put_u64(foot + 32, w->written);
	codec_put_u32(foot + 40, (uint32_t)w->dict_blocks.len);
	buf_t index = { 0 }, ids = { 0 }, id_index = { 0 }, tables = { 0 };
	block_builder_finish(&w->dict_index, false, &index);
	codec_put_u32(foot + 44, (uint32_t)index.len);
	rc = inv_segw_put(w, &w->dict_blocks, err);
	if (rc == SL_OK)
		rc = inv_segw_put(w, &index, err);
	codec_put_u64(foot + 48, w->written);

	uint32_t *rank = malloc(((size_t)w->docs + 1) * sizeof *rank);
	uint64_t *hashes = malloc(((size_t)w->docs + 1) * sizeof *hashes);
	u32s_t offs = { 0 };
	if (rc == SL_OK && (rank == NULL || hashes == NULL || !u32s_push(&offs, 0)))
		rc = sl_errf(err, SL_NOMEM, "%s: out of memory", w->path);
	if (rc == SL_OK)
		rc = inv_segw_ids(w, &ids, &id_index, rank, &offs, hashes, err);
	codec_put_u32(foot + 20, (uint32_t)offs.n - 1);
	codec_put_u32(foot + 56, (uint32_t)ids.len);
	codec_put_u32(foot + 60, (uint32_t)id_index.len);
	if (rc == SL_OK)
		rc = inv_segw_put(w, &ids, err);
	if (rc == SL_OK)
		rc = inv_segw_put(w, &id_index, err);
	codec_put_u64(foot + 64, w->written);
	if (rc == SL_OK) {
		for (uint32_t d = 0; d < w->docs; d++) {
			buf_append(&tables, w->lens.data + 4 * (size_t)d, 4);
			codec_buf_put_u32(&tables, rank[d]);
		}
		for (size_t i = 0; i < offs.n; i++)
			codec_buf_put_u32(&tables, offs.v[i]);
		size_t before = tables.len;
		if (bloom_build(hashes, w->docs, 10, &tables) != SL_OK)
			tables.oom = true;
		codec_put_u32(foot + 72, (uint32_t)(tables.len - before));
		codec_put_u64(foot + 80, checksum_xxh3(tables.data, tables.len, 0));
		rc = inv_segw_put(w, &tables, err);
	}
	codec_put_u32(foot + 88, (uint32_t)checksum_xxh3(foot, 88, 0));
	memcpy(foot + 92, INV_FOOTER_MAGIC, 4);
	if (rc == SL_OK)
		rc = env_append(w->f, foot, sizeof foot, err);
	if (rc == SL_OK)
		rc = env_sync(w->f, err);
	/* The name too: a COMMIT that names the segment must never outlive it. */
	if (rc == SL_OK)
		rc = env_sync_parent(w->env, w->path, err);
	free(rank);
	free(hashes);
	u32s_free(&offs);
	buf_free(&index);
	buf_free(&ids);
	buf_free(&id_index);
	buf_free(&tables);
	return rc;
}

static void inv_segw_free(inv_segw_t *w)
{
	block_builder_free(&w->dict);
	block_builder_free(&w->dict_index);
	buf_free(&w->out);
	buf_free(&w->dict_blocks);
	buf_free(&w->last_term);
	buf_free(&w->value);
	buf_free(&w->chunk);
	buf_free(&w->lens);
	buf_free(&w->ids);
	u32s_free(&w->id_ends);
	free(w->path);
	free(w);
}

int inv_segw_finish(inv_segw_t *w, uint64_t *file_bytes, sl_err_t *err)
{
	int rc = inv_segw_tail(w, err);
	if (file_bytes != NULL)
		*file_bytes = w->written + INV_SEG_FOOTER;
	int crc = env_close(w->f, rc == SL_OK ? err : NULL);
	w->f = NULL;
	if (rc == SL_OK)
		rc = crc;
	if (rc != SL_OK)
		env_unlink(w->env, w->path, NULL);
	inv_segw_free(w);
	return rc;
}

void inv_segw_abandon(inv_segw_t *w)
{
	if (w == NULL)
		return;
	if (w->f != NULL) {
		env_close(w->f, NULL);
		env_unlink(w->env, w->path, NULL);
	}
	inv_segw_free(w);
}

/* ================================================================ reading */

static int inv_seg_bad(const inv_seg_t *s, const char *what, sl_err_t *err)
{
	return sl_errf(err, SL_CORRUPT, "%s: %s", s->path, what);
}

/* Reads and checks the footer, then every region it names. */
static int inv_seg_parse(inv_seg_t *s, sl_err_t *err)
{
	if (s->size < INV_SEG_HEADER + INV_SEG_FOOTER)
		return inv_seg_bad(s, "shorter than a segment's header and footer", err);
	const uint8_t *h = s->map, *f = s->map + s->size - INV_SEG_FOOTER;
	if (memcmp(h, INV_SEG_MAGIC, 8) != 0)
		return inv_seg_bad(s, "not a segment (bad magic)", err);
	if (codec_get_u32(h + 8) != INV_SEG_VERSION)
		return inv_seg_bad(s, "unknown segment version", err);
	if (memcmp(f + 92, INV_FOOTER_MAGIC, 4) != 0 ||
	    codec_get_u32(f + 88) != (uint32_t)checksum_xxh3(f, 88, 0))
		return inv_seg_bad(s, "footer damaged (magic or checksum)", err);
	s->docs = codec_get_u32(f);
	s->flags = codec_get_u32(f + 4);
	s->tokens = codec_get_u64(f + 8);
	s->min_dl = codec_get_u32(f + 16);
	s->id_blocks = codec_get_u32(f + 20);
	s->terms = codec_get_u64(f + 24);
	s->dict_off = codec_get_u64(f + 32);
	s->dict_len = codec_get_u32(f + 40);
	uint32_t dict_index_len = codec_get_u32(f + 44);
	s->ids_off = codec_get_u64(f + 48);
	s->ids_len = codec_get_u32(f + 56);
	uint32_t id_index_len = codec_get_u32(f + 60);
	uint64_t tables_off = codec_get_u64(f + 64);
	s->bloom_len = codec_get_u32(f + 72);
	uint64_t end = s->size - INV_SEG_FOOTER;
	uint64_t tables_len = 8 * (uint64_t)s->docs + 4 * ((uint64_t)s->id_blocks + 1) + s->bloom_len;
	if (s->flags != codec_get_u32(h + 12) || (s->flags & ~INV_SEG_POSITIONS) ||
	    s->dict_off < INV_SEG_HEADER ||
	    s->dict_off + s->dict_len + dict_index_len != s->ids_off ||
	    s->ids_off + s->ids_len + id_index_len != tables_off || tables_off > end ||
	    tables_len != end - tables_off ||
	    s->id_blocks != (s->docs + INV_ID_BLOCK_ENTRIES - 1) / INV_ID_BLOCK_ENTRIES)
		return inv_seg_bad(s, "footer regions do not add up", err);
	const uint8_t *tables = s->map + tables_off;
	if (checksum_xxh3(tables, tables_len, 0) != codec_get_u64(f + 80))
		return inv_seg_bad(s, "document table checksum mismatch", err);
	s->doctab = tables;
	s->id_offs = tables + 8 * (size_t)s->docs;
	s->bloom = s->id_offs + 4 * ((size_t)s->id_blocks + 1);
	int rc = block_open(&s->dict_index, s->map + s->dict_off + s->dict_len, dict_index_len, err);
	if (rc == SL_OK)
		rc = block_open(&s->id_index, s->map + s->ids_off + s->ids_len, id_index_len, err);
	if (rc != SL_OK)
		return sl_err_prefix(err, "%s: an index block", s->path);
	return SL_OK;
}

int inv_seg_open(env_t *env, const char *path, uint64_t number, inv_seg_t **out, sl_err_t *err)
{
	inv_seg_t *s = calloc(1, sizeof *s);
	if (s == NULL || (s->path = strdup(path)) == NULL) {
		free(s);
		return sl_errf(err, SL_NOMEM, "%s: out of memory", path);
	}
	s->number = number;
	int rc = env_open(env, path, ENV_READ, &s->file, err);
	if (rc == SL_OK) {
		s->size = env_size(s->file);
		rc = s->size == 0 ? inv_seg_bad(s, "empty file", err) : env_map(s->file, err);
	}
	if (rc == SL_OK)
		rc = env_read_mapped(s->file, 0, s->size, &s->map, err);
	if (rc == SL_OK)
		rc = inv_seg_parse(s, err);
	if (rc != SL_OK) {
		inv_seg_close(s);
		return rc;
	}
	s->live_tokens = s->live_tokens_pending = s->tokens;
	s->bm = bm25_params(s->docs, s->tokens);
	*out = s;
	return SL_OK;
}

void inv_seg_close(inv_seg_t *s)
{
	if (s == NULL)
		return;
	block_close(&s->dict_index);
	block_close(&s->id_index);
	env_close(s->file, NULL);
	free(s->del);
	free(s->del_pending);
	free(s->path);
	free(s);
}

/* Reads a varint at *p (bounded by end) into v; false when it does not fit. */
static bool inv_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	size_t n = codec_get_varint(*p, end, v);
	*p += n;
	return n > 0;
}

int inv_term_decode(inv_seg_t *s, sl_slice_t v, inv_term_entry_t *e, sl_err_t *err)
{
	const uint8_t *p = v.data, *end = p + v.len;
	uint64_t df, max_tf, kind;
	if (!inv_varint(&p, end, &df) || !inv_varint(&p, end, &max_tf) ||
	    !inv_varint(&p, end, &kind) || df == 0 || df > s->docs || max_tf == 0 ||
	    max_tf > UINT32_MAX || kind > INV_TERM_INLINE)
		return inv_seg_bad(s, "term entry damaged", err);
	e->df = (uint32_t)df;
	e->max_tf = (uint32_t)max_tf;
	e->kind = (int)kind;
	if (kind == INV_TERM_INLINE) {
		if (df > INV_INLINE_DOCS)
			return inv_seg_bad(s, "inline term entry too long", err);
		buf_set(&e->inline_bytes, p, (size_t)(end - p));
		return buf_ok(&e->inline_bytes) ? SL_OK : sl_errf(err, SL_NOMEM, "out of memory");
	}
	if (!inv_varint(&p, end, &e->off) || !inv_varint(&p, end, &e->bytes) ||
	    !inv_varint(&p, end, &e->pos_bytes) || p != end || e->off < INV_SEG_HEADER ||
	    e->off > s->dict_off || e->bytes > s->dict_off - e->off ||
	    e->pos_bytes > s->dict_off - e->off - e->bytes)
		return inv_seg_bad(s, "term entry points outside the postings area", err);
	return SL_OK;
}

/* Opens the stored block at [off, off + len) of the region [base, base + region) into blk. */
static int inv_seg_open_block(inv_seg_t *s, uint64_t base, uint64_t region, uint64_t off,
			      uint64_t len, block_t *blk, sl_err_t *err)
{
	if (off > region || len > region - off)
		return inv_seg_bad(s, "a block outside its region", err);
	int rc = block_open(blk, s->map + base + off, (size_t)len, err);
	return rc == SL_OK ? SL_OK : sl_err_prefix(err, "%s: a block", s->path);
}

/* Opens the block an index entry's value (offset varint, length varint) names. */
static int inv_seg_block(inv_seg_t *s, uint64_t base, uint64_t region, sl_slice_t where,
			 block_t *blk, sl_err_t *err)
{
	const uint8_t *p = where.data, *end = p + where.len;
	uint64_t off, len;
	if (!inv_varint(&p, end, &off) || !inv_varint(&p, end, &len))
		return inv_seg_bad(s, "index entry damaged", err);
	return inv_seg_open_block(s, base, region, off, len, blk, err);
}

/* Opens id block b (its bounds from the offsets table). */
static int inv_seg_id_block(inv_seg_t *s, uint64_t b, block_t *blk, sl_err_t *err)
{
	if (b >= s->id_blocks)
		return inv_seg_bad(s, "id block number out of range", err);
	uint32_t from = codec_get_u32(s->id_offs + 4 * b);
	uint32_t to = codec_get_u32(s->id_offs + 4 * b + 4);
	if (to < from)
		return inv_seg_bad(s, "id block offsets decrease", err);
	return inv_seg_open_block(s, s->ids_off, s->ids_len, from, to - from, blk, err);
}

int inv_seg_lookup(inv_seg_t *s, sl_slice_t term, inv_term_entry_t *e, sl_err_t *err)
{
	block_iter_t idx;
	block_iter_init(&idx, &s->dict_index, NULL);
	block_iter_seek(&idx, term);
	int rc = SL_NOTFOUND;
	if (block_iter_status(&idx) != SL_OK)
		rc = inv_seg_bad(s, "dictionary index damaged", err);
	else if (block_iter_valid(&idx)) {
		block_t blk;
		rc = inv_seg_block(s, s->dict_off, s->dict_len, block_iter_value(&idx), &blk, err);
		if (rc == SL_OK) {
			block_iter_t it;
			block_iter_init(&it, &blk, NULL);
			block_iter_seek(&it, term);
			rc = SL_NOTFOUND;
			if (block_iter_status(&it) != SL_OK)
				rc = inv_seg_bad(s, "dictionary block damaged", err);
			else if (block_iter_valid(&it) && sl_slice_cmp(block_iter_key(&it), term) == 0)
				rc = inv_term_decode(s, block_iter_value(&it), e, err);
			block_iter_free(&it);
			block_close(&blk);
		}
	}
	block_iter_free(&idx);
	return rc;
}

int inv_seg_find_id(inv_seg_t *s, sl_slice_t id, uint32_t *doc, sl_err_t *err)
{
	if (!bloom_may_contain(s->bloom, s->bloom_len, bloom_hash(id)))
		return SL_NOTFOUND;
	block_iter_t idx;
	block_iter_init(&idx, &s->id_index, NULL);
	block_iter_seek(&idx, id);
	int rc = SL_NOTFOUND;
	uint64_t b;
	const uint8_t *p;
	if (block_iter_status(&idx) != SL_OK)
		rc = inv_seg_bad(s, "id index damaged", err);
	else if (block_iter_valid(&idx)) {
		p = block_iter_value(&idx).data;
		if (!inv_varint(&p, p + block_iter_value(&idx).len, &b) || b >= s->id_blocks) {
			rc = inv_seg_bad(s, "id index entry damaged", err);
		} else {
			block_t blk;
			rc = inv_seg_id_block(s, b, &blk, err);
			if (rc == SL_OK) {
				block_iter_t it;
				block_iter_init(&it, &blk, NULL);
				block_iter_seek(&it, id);
				rc = SL_NOTFOUND;
				if (block_iter_valid(&it) && sl_slice_cmp(block_iter_key(&it), id) == 0) {
					p = block_iter_value(&it).data;
					rc = inv_varint(&p, p + block_iter_value(&it).len, &b) && b < s->docs
						     ? SL_OK
						     : inv_seg_bad(s, "id entry damaged", err);
					*doc = (uint32_t)b;
				}
				block_iter_free(&it);
				block_close(&blk);
			}
		}
	}
	block_iter_free(&idx);
	return rc;
}

int inv_seg_id(inv_seg_t *s, uint32_t doc, buf_t *out, sl_err_t *err)
{
	if (doc >= s->docs)
		return inv_seg_bad(s, "document number out of range", err);
	uint32_t rank = codec_get_u32(s->doctab + 8 * (size_t)doc + 4);
	uint32_t b = rank / INV_ID_BLOCK_ENTRIES;
	block_t blk;
	int rc = inv_seg_id_block(s, b, &blk, err);
	if (rc != SL_OK)
		return rc;
	block_iter_t it;
	block_iter_init(&it, &blk, NULL);
	block_iter_first(&it);
	for (uint32_t i = 0; i < rank % INV_ID_BLOCK_ENTRIES && block_iter_valid(&it); i++)
		block_iter_next(&it);
	uint64_t back = UINT64_MAX;
	if (block_iter_valid(&it)) {
		const uint8_t *p = block_iter_value(&it).data;
		inv_varint(&p, p + block_iter_value(&it).len, &back);
	}
	rc = back == doc ? SL_OK : inv_seg_bad(s, "id table and document table disagree", err);
	if (rc == SL_OK)
		buf_set(out, block_iter_key(&it).data, block_iter_key(&it).len);
	block_iter_free(&it);
	block_close(&blk);
	return rc;
}

/* ---------------------------------------------------------------- dictionary walk */

/* Opens the dictionary block the index iterator is on, positioned at its first term. */
static int inv_dict_iter_load(inv_dict_iter_t *d, sl_err_t *err)
{
	for (;;) {
		if (d->blk_open) {
			block_iter_free(&d->it);
			block_close(&d->blk);
			d->blk_open = false;
		}
		if (block_iter_status(&d->idx) != SL_OK)
			return inv_seg_bad(d->seg, "dictionary index damaged", err);
		if (!block_iter_valid(&d->idx)) {
			d->valid = false;
			return SL_OK;
		}
		int rc = inv_seg_block(d->seg, d->seg->dict_off, d->seg->dict_len,
				       block_iter_value(&d->idx), &d->blk, err);
		if (rc != SL_OK)
			return rc;
		d->blk_open = true;
		block_iter_init(&d->it, &d->blk, NULL);
		block_iter_first(&d->it);
		block_iter_next(&d->idx);
		if (block_iter_valid(&d->it)) {
			d->valid = true;
			return SL_OK;
		}
	}
}

int inv_dict_iter_first(inv_dict_iter_t *d, inv_seg_t *s, sl_err_t *err)
{
	memset(d, 0, sizeof *d);
	d->seg = s;
	block_iter_init(&d->idx, &s->dict_index, NULL);
	block_iter_first(&d->idx);
	return inv_dict_iter_load(d, err);
}

int inv_dict_iter_next(inv_dict_iter_t *d, sl_err_t *err)
{
	block_iter_next(&d->it);
	if (block_iter_status(&d->it) != SL_OK)
		return inv_seg_bad(d->seg, "dictionary block damaged", err);
	if (block_iter_valid(&d->it))
		return SL_OK;
	return inv_dict_iter_load(d, err);
}

void inv_dict_iter_free(inv_dict_iter_t *d)
{
	if (d->blk_open) {
		block_iter_free(&d->it);
		block_close(&d->blk);
	}
	block_iter_free(&d->idx);
	d->blk_open = d->valid = false;
}

/* ---------------------------------------------------------------- cursors */

/* Decodes an inline entry's postings into the iterator, and its positions into inline_pos. */
static int inv_cursor_inline(inv_cursor_t *c, const inv_term_entry_t *e, sl_err_t *err)
{
	uint32_t docs[INV_INLINE_DOCS], tfs[INV_INLINE_DOCS];
	const uint8_t *p = e->inline_bytes.data, *end = p + e->inline_bytes.len;
	uint64_t prev = 0, gap, tf, g;
	for (uint32_t i = 0; i < e->df; i++) {
		if (!inv_varint(&p, end, &gap) || !inv_varint(&p, end, &tf) || tf == 0 ||
		    tf > e->max_tf || (i ? prev + 1 : 0) + gap >= c->seg->docs)
			return inv_seg_bad(c->seg, "inline postings damaged", err);
		docs[i] = (uint32_t)((i ? prev + 1 : 0) + gap);
		tfs[i] = (uint32_t)tf;
		prev = docs[i];
		const uint8_t *pos = p;
		for (uint64_t j = 0; c->has_pos && j < tf; j++)
			if (!inv_varint(&p, end, &g))
				return inv_seg_bad(c->seg, "inline positions damaged", err);
		buf_append(&c->inline_pos, pos, (size_t)(p - pos));
	}
	if (p != end || !buf_ok(&c->inline_pos))
		return inv_seg_bad(c->seg, "inline postings damaged", err);
	int rc = postings_iter_init_array(&c->it, docs, tfs, e->df, err);
	uint8_t impact = 0; /* the block bound of an inline list, as a listed block has */
	for (uint32_t i = 0; i < e->df; i++) {
		uint8_t x = inv_impact_encode(&c->seg->bm, tfs[i], inv_seg_doclen(c->seg, docs[i]));
		if (x > impact)
			impact = x;
	}
	c->it.block_impact = impact;
	if (rc == SL_OK && c->it.block_max_tf != e->max_tf)
		rc = inv_seg_bad(c->seg, "inline postings disagree with max tf", err);
	c->pos = c->pp = c->inline_pos.data;
	c->pos_end = c->pend = c->inline_pos.data + c->inline_pos.len;
	c->chunk = 0;
	return rc;
}

int inv_cursor_open(inv_cursor_t *c, inv_seg_t *s, const inv_term_entry_t *e, sl_err_t *err)
{
	memset(c, 0, sizeof *c);
	c->seg = s;
	c->df = e->df;
	c->max_tf = e->max_tf;
	c->has_pos = s->flags & INV_SEG_POSITIONS;
	if (e->kind == INV_TERM_INLINE)
		return inv_cursor_inline(c, e, err);
	c->listed = true;
	int rc = postings_iter_init(&c->it, sl_slice(s->map + e->off, e->bytes), err);
	if (rc != SL_OK)
		return sl_err_prefix(err, "%s", s->path);
	if (c->it.count != e->df)
		return inv_seg_bad(s, "postings count disagrees with the term's df", err);
	c->pos = c->next_chunk = s->map + e->off + e->bytes;
	c->pos_end = c->pos + e->pos_bytes;
	c->chunk = -1;
	return SL_OK;
}

void inv_cursor_free(inv_cursor_t *c)
{
	buf_free(&c->inline_pos);
}

/* Steps to the next positions chunk, checking it. */
static int inv_cursor_next_chunk(inv_cursor_t *c, sl_err_t *err)
{
	const uint8_t *p = c->next_chunk;
	uint64_t len;
	if (!inv_varint(&p, c->pos_end, &len) || (uint64_t)(c->pos_end - p) < 4 ||
	    len > (uint64_t)(c->pos_end - p) - 4)
		return inv_seg_bad(c->seg, "positions chunk runs past its term", err);
	uint64_t at = (uint64_t)(c->next_chunk - c->seg->map);
	if (codec_get_u32(p) != (uint32_t)checksum_xxh3(p + 4, (size_t)len, at))
		return inv_seg_bad(c->seg, "positions chunk checksum mismatch", err);
	c->pp = p + 4;
	c->pend = c->pp + len;
	c->next_chunk = c->pend;
	c->pj = 0;
	c->chunk++;
	return SL_OK;
}

int inv_cursor_positions(inv_cursor_t *c, uint32_t *pos, sl_err_t *err)
{
	if (!c->has_pos)
		return sl_errf(err, SL_NOTSUP, "%s: the index keeps no positions", c->seg->path);
	int64_t b = c->listed ? (int64_t)postings_iter_block_index(&c->it) : 0;
	while (c->chunk < b) {
		int rc = inv_cursor_next_chunk(c, err);
		if (rc != SL_OK)
			return rc;
	}
	uint64_t g;
	for (; c->pj < c->it.i; c->pj++)
		for (uint32_t j = 0; j < c->it.tfs[c->pj]; j++)
			if (!inv_varint(&c->pp, c->pend, &g))
				return inv_seg_bad(c->seg, "positions run short", err);
	uint32_t tf = c->it.tfs[c->it.i];
	uint64_t p = 0;
	for (uint32_t j = 0; j < tf; j++) {
		if (!inv_varint(&c->pp, c->pend, &g))
			return inv_seg_bad(c->seg, "positions run short", err);
		p = j == 0 ? g : p + 1 + g;
		if (p >= UINT32_MAX)
			return inv_seg_bad(c->seg, "position out of range", err);
		pos[j] = (uint32_t)p;
	}
	c->pj++;
	return SL_OK;
}
