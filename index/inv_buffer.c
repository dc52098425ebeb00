/*
 * inv_buffer.c — the inverted index's in-memory buffer: documents added since
 * the last flush, inverted on the fly, written out as one segment.
 *
 * Each distinct term gets a record in a hash table (open addressing, the term's
 * bytes in one arena) and a byte stream of its occurrences, appended to as
 * tokens arrive. An occurrence costs one or two varints:
 *
 *   first occurrence in a document:  (doc gap << 1) | 1, then the position
 *   a later one in the same document: (position gap << 1)
 *
 * with doc gap = doc - the term's previous doc (its first: doc + 1) and
 * position gap = position - previous position - 1. Term frequencies are not
 * written: the stream is decoded once, at flush, and counts them. Writing tf
 * before the positions (as the segment does) would need to hold each
 * document's positions back until it ends; the flag bit avoids that.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/checksum.h"
#include "engine/codec.h"
#include "index/inv_int.h"
#include "index/analyzer.h"

typedef struct inv_bterm {
	uint8_t head[8];         /* the term's first 8 bytes, zero-padded: most terms are
	                            no longer, and then a probe compares them here, in
	                            the record it loads anyway, not in the arena */
	uint32_t text_off;       /* the term's bytes in the arena */
	uint32_t text_len;
	uint32_t last_doc;       /* UINT32_MAX before the first occurrence */
	uint32_t last_pos;
	uint32_t df;
	buf_t stream;            /* occurrences, as above */
} inv_bterm_t;

struct inv_buffer {
	inv_bterm_t *terms;
	uint32_t nterms, cap_terms;
	uint64_t *slots;         /* hash << 32 | (term index + 1); 0 = empty */
	uint32_t nslots;         /* a power of two, at least twice nterms */
	buf_t arena;             /* term bytes */
	/* documents */
	uint32_t docs;
	buf_t ids;
	u32s_t id_ends, lens;
	buf_t deleted;           /* one byte per document */
	uint32_t *id_slots;      /* document + 1; 0 = empty */
	uint32_t nid_slots;
	uint64_t stream_bytes;   /* bytes allocated for streams, for the flush trigger */
	analyzer_t an;           /* the index's: tokenizer, stop words, stemmer */
};

int inv_buffer_new(const char *analyzer, inv_buffer_t **out, sl_err_t *err)
{
	inv_buffer_t *b = calloc(1, sizeof *b);
	if (b == NULL)
		return sl_errf(err, SL_NOMEM, "index buffer: out of memory");
	int rc = analyzer_open(&b->an, analyzer, err);
	if (rc != SL_OK) {
		analyzer_close(&b->an);
		free(b);
		return rc;
	}
	*out = b;
	return SL_OK;
}

void inv_buffer_reset(inv_buffer_t *b)
{
	for (uint32_t i = 0; i < b->nterms; i++)
		buf_free(&b->terms[i].stream);
	free(b->terms);
	free(b->slots);
	free(b->id_slots);
	buf_free(&b->arena);
	buf_free(&b->ids);
	buf_free(&b->deleted);
	u32s_free(&b->id_ends);
	u32s_free(&b->lens);
	analyzer_t an = b->an;
	memset(b, 0, sizeof *b);
	b->an = an;
}

void inv_buffer_free(inv_buffer_t *b)
{
	if (b == NULL)
		return;
	inv_buffer_reset(b);
	analyzer_close(&b->an);
	free(b);
}

uint32_t inv_buffer_docs(const inv_buffer_t *b) { return b->docs; }

uint64_t inv_buffer_bytes(const inv_buffer_t *b)
{
	return b->stream_bytes + b->arena.len + b->ids.len +
	       (uint64_t)b->cap_terms * sizeof(inv_bterm_t) + 8ull * b->nslots + 4ull * b->nid_slots +
	       9ull * b->docs;
}

/* ---------------------------------------------------------------- ids */

static sl_slice_t inv_buffer_id(const inv_buffer_t *b, uint32_t doc)
{
	uint32_t start = doc == 0 ? 0 : b->id_ends.v[doc - 1];
	return sl_slice(b->ids.data + start, b->id_ends.v[doc] - start);
}

/* The slot of id: the one holding it, or the empty one where it would go. */
static uint32_t inv_buffer_id_slot(const inv_buffer_t *b, sl_slice_t id)
{
	uint32_t mask = b->nid_slots - 1;
	uint32_t i = (uint32_t)checksum_xxh3(id.data, id.len, 0) & mask;
	while (b->id_slots[i] != 0 &&
	       sl_slice_cmp(inv_buffer_id(b, b->id_slots[i] - 1), id) != 0)
		i = (i + 1) & mask;
	return i;
}

static bool inv_buffer_grow_ids(inv_buffer_t *b)
{
	uint32_t n = b->nid_slots ? 2 * b->nid_slots : 256;
	uint32_t *old = b->id_slots, oldn = b->nid_slots;
	b->id_slots = calloc(n, sizeof *b->id_slots);
	if (b->id_slots == NULL) {
		b->id_slots = old;
		return false;
	}
	b->nid_slots = n;
	for (uint32_t i = 0; i < oldn; i++)
		if (old[i] != 0)
			b->id_slots[inv_buffer_id_slot(b, inv_buffer_id(b, old[i] - 1))] = old[i];
	free(old);
	return true;
}

bool inv_buffer_find(inv_buffer_t *b, sl_slice_t id, uint32_t *doc)
{
	if (b->nid_slots == 0)
		return false;
	uint32_t s = b->id_slots[inv_buffer_id_slot(b, id)];
	if (s == 0 || b->deleted.data[s - 1])
		return false;
	*doc = s - 1;
	return true;
}

void inv_buffer_delete(inv_buffer_t *b, uint32_t doc)
{
	b->deleted.data[doc] = 1;
}

/* ---------------------------------------------------------------- terms */

static sl_slice_t inv_bterm_text(const inv_buffer_t *b, const inv_bterm_t *t)
{
	return sl_slice(b->arena.data + t->text_off, t->text_len);
}

/*
 * A fast hash of a short byte string (terms average about 7 bytes): mix eight
 * bytes at a time with a multiply and a shift. Not a checksum, and not made to
 * resist chosen collisions; XXH3 through a library call cost twice as much here.
 */
static inline uint64_t inv_term_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ull ^ n, w;
	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xFF51AFD7ED558CCDull;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, p, n);
	h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
	return h ^ (h >> 29);
}

static bool inv_buffer_grow_terms(inv_buffer_t *b)
{
	uint32_t n = b->nslots ? 2 * b->nslots : 512;
	uint64_t *slots = calloc(n, sizeof *slots);
	if (slots == NULL)
		return false;
	for (uint32_t t = 0; t < b->nterms; t++) {
		sl_slice_t text = inv_bterm_text(b, &b->terms[t]);
		uint64_t h = inv_term_hash(text.data, text.len);
		uint32_t i = (uint32_t)h & (n - 1);
		while (slots[i] != 0)
			i = (i + 1) & (n - 1);
		slots[i] = (h & 0xFFFFFFFF00000000ull) | (t + 1);
	}
	free(b->slots);
	b->slots = slots;
	b->nslots = n;
	return true;
}

/*
 * The term record for token, made when new; NULL when out of memory. A slot
 * holds the high half of the hash beside the term's number, so a probe that
 * meets another term is settled in the slot array, without touching the term
 * records or their bytes (two cache misses saved on most probes).
 */
static inv_bterm_t *inv_buffer_term(inv_buffer_t *b, const uint8_t *tok, size_t len)
{
	if (2 * (b->nterms + 1) > b->nslots && !inv_buffer_grow_terms(b))
		return NULL;
	uint64_t h = inv_term_hash(tok, len), high = h & 0xFFFFFFFF00000000ull;
	uint8_t head[8] = { 0 };
	memcpy(head, tok, len < 8 ? len : 8);
	uint32_t mask = b->nslots - 1, i = (uint32_t)h & mask;
	for (; b->slots[i] != 0; i = (i + 1) & mask) {
		if ((b->slots[i] & 0xFFFFFFFF00000000ull) != high)
			continue;
		inv_bterm_t *t = &b->terms[(uint32_t)b->slots[i] - 1];
		if (t->text_len == len && memcmp(t->head, head, 8) == 0 &&
		    (len <= 8 || memcmp(b->arena.data + t->text_off + 8, tok + 8, len - 8) == 0))
			return t;
	}
	if (b->nterms == b->cap_terms) {
		uint32_t cap = b->cap_terms ? 2 * b->cap_terms : 256;
		inv_bterm_t *terms = realloc(b->terms, cap * sizeof *terms);
		if (terms == NULL)
			return NULL;
		b->terms = terms;
		b->cap_terms = cap;
	}
	inv_bterm_t *t = &b->terms[b->nterms];
	memset(t, 0, sizeof *t);
	memcpy(t->head, head, 8);
	t->text_off = (uint32_t)b->arena.len;
	t->text_len = (uint32_t)len;
	t->last_doc = UINT32_MAX;
	buf_append(&b->arena, tok, len);
	if (!buf_ok(&b->arena))
		return NULL;
	b->slots[i] = high | ++b->nterms;
	return t;
}

/* Appends one occurrence of t at (doc, pos) to its stream. */
static bool inv_bterm_add(inv_buffer_t *b, inv_bterm_t *t, uint32_t doc, uint32_t pos)
{
	size_t cap = t->stream.cap;
	if (!buf_reserve(&t->stream, 20))
		return false;
	uint8_t *p = t->stream.data + t->stream.len;
	if (t->last_doc != doc) {
		uint64_t gap = t->last_doc == UINT32_MAX ? (uint64_t)doc + 1 : doc - t->last_doc;
		p += codec_put_varint(p, gap << 1 | 1);
		p += codec_put_varint(p, pos);
		t->last_doc = doc;
		t->df++;
	} else {
		p += codec_put_varint(p, (uint64_t)(pos - t->last_pos - 1) << 1);
	}
	t->last_pos = pos;
	t->stream.len = (size_t)(p - t->stream.data);
	b->stream_bytes += t->stream.cap - cap;
	return true;
}

int inv_buffer_add(inv_buffer_t *b, sl_slice_t id, sl_slice_t text, sl_err_t *err)
{
	int rc = analyzer_start(&b->an, text, err);
	if (rc != SL_OK)
		return rc;
	if (2 * (b->docs + 1) > b->nid_slots && !inv_buffer_grow_ids(b))
		return sl_errf(err, SL_NOMEM, "index buffer: out of memory");
	uint32_t doc = b->docs, len = 0;
	/* The id first: a failure below leaves a document without terms, never terms without one. */
	buf_append(&b->ids, id.data, id.len);
	if (!buf_ok(&b->ids) || !u32s_push(&b->id_ends, (uint32_t)b->ids.len))
		return sl_errf(err, SL_NOMEM, "index buffer: out of memory");
	while (analyzer_next(&b->an)) {
		size_t n = inv_term_cut(b->an.term, b->an.term_len);
		inv_bterm_t *t = inv_buffer_term(b, b->an.term, n);
		if (t == NULL || !inv_bterm_add(b, t, doc, b->an.position))
			return sl_errf(err, SL_NOMEM, "index buffer: out of memory");
		len++;
	}
	uint8_t zero = 0;
	buf_append(&b->deleted, &zero, 1);
	if (!u32s_push(&b->lens, len) || !buf_ok(&b->deleted))
		return sl_errf(err, SL_NOMEM, "index buffer: out of memory");
	b->id_slots[inv_buffer_id_slot(b, id)] = doc + 1;
	b->docs++;
	return SL_OK;
}

/* ---------------------------------------------------------------- flush */

/*
 * Sorting terms for the dictionary: each with its first 8 bytes as a big-endian
 * number, so that most comparisons are one integer compare (most terms differ
 * in their first 8 bytes) and only ties look at the bytes.
 */
typedef struct inv_tref {
	uint64_t key;
	const uint8_t *p;
	uint32_t len, term;
} inv_tref_t;

static int inv_tref_cmp(const void *x, const void *y)
{
	const inv_tref_t *a = x, *b = y;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return sl_slice_cmp(sl_slice(a->p, a->len), sl_slice(b->p, b->len));
}

/*
 * Decodes a term's stream into postings: docs (renumbered by map, those
 * deleted while in the buffer left out), tfs and positions.
 */
static int inv_bterm_decode(const inv_bterm_t *t, const uint32_t *map, u32s_t *docs,
			    u32s_t *tfs, u32s_t *pos)
{
	/* Every occurrence takes at least a byte: the stream's length bounds all three. */
	size_t most = t->stream.len;
	if (!u32s_reserve(docs, most) || !u32s_reserve(tfs, most) ||
	    !u32s_reserve(pos, most))
		return SL_NOMEM;
	uint32_t *dv = docs->v, *tv = tfs->v, *pv = pos->v;
	size_t nd = 0, np = 0;
	const uint8_t *p = t->stream.data, *end = p + t->stream.len;
	uint64_t v, doc = 0, at = 0;
	bool first = true, keep = false;
	while (p < end) {
		p += codec_get_varint(p, end, &v);
		if (v & 1) {
			doc = first ? (v >> 1) - 1 : doc + (v >> 1);
			first = false;
			p += codec_get_varint(p, end, &at);
			keep = map[doc] != INV_END;
			if (keep) {
				dv[nd] = map[doc];
				tv[nd++] = 1;
			}
		} else {
			at += (v >> 1) + 1;
			if (keep)
				tv[nd - 1]++;
		}
		if (keep)
			pv[np++] = (uint32_t)at;
	}
	docs->n = tfs->n = nd;
	pos->n = np;
	return SL_OK;
}

int inv_buffer_write(inv_buffer_t *b, env_t *env, const char *path, bool positions,
		     sl_err_t *err)
{
	inv_segw_t *w = NULL;
	inv_tref_t *refs = malloc(((size_t)b->nterms + 1) * sizeof *refs);
	uint32_t *map = malloc(((size_t)b->docs + 1) * sizeof *map);
	u32s_t docs = { 0 }, tfs = { 0 }, pos = { 0 };
	int rc = refs == NULL || map == NULL ? sl_errf(err, SL_NOMEM, "%s: out of memory", path)
					     : inv_segw_open(env, path, positions, &w, err);
	/* Documents deleted (or replaced) while still in the buffer are not written at all. */
	uint32_t next = 0;
	for (uint32_t d = 0; rc == SL_OK && d < b->docs; d++) {
		map[d] = b->deleted.data[d] ? INV_END : next++;
		if (map[d] != INV_END)
			rc = inv_segw_doc(w, inv_buffer_id(b, d), b->lens.v[d], err);
	}
	if (rc == SL_OK) {
		for (uint32_t t = 0; t < b->nterms; t++) {
			uint64_t key = 0; /* the zero-padded head, first byte highest */
			for (int i = 0; i < 8; i++)
				key = key << 8 | b->terms[t].head[i];
			refs[t] = (inv_tref_t){ key, b->arena.data + b->terms[t].text_off,
						b->terms[t].text_len, t };
		}
		qsort(refs, b->nterms, sizeof *refs, inv_tref_cmp);
	}
	for (uint32_t i = 0; rc == SL_OK && i < b->nterms; i++) {
		const inv_bterm_t *t = &b->terms[refs[i].term];
		if (inv_bterm_decode(t, map, &docs, &tfs, &pos) != SL_OK)
			rc = sl_errf(err, SL_NOMEM, "%s: out of memory", path);
		else if (docs.n > 0)
			rc = inv_segw_term(w, inv_bterm_text(b, t), docs.v, tfs.v, pos.v,
					   (uint32_t)docs.n, err);
	}
	if (rc == SL_OK)
		rc = inv_segw_finish(w, NULL, err);
	else
		inv_segw_abandon(w);
	free(refs);
	free(map);
	u32s_free(&docs);
	u32s_free(&tfs);
	u32s_free(&pos);
	return rc;
}
