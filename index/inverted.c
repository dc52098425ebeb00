/*
 * inverted.c — the inverted index handle: opening an index from its COMMIT,
 * adding and deleting documents, committing, merging. Formats in inverted.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/checksum.h"
#include "engine/codec.h"
#include "index/inv_int.h"
#include "index/tokenizer.h"

#define INV_COMMIT_MAGIC INVERTED_COMMIT_MAGIC
#define INV_DEL_MAGIC INVERTED_DEL_MAGIC
#define INV_COMMIT_VERSION 1
#define INV_COMMIT_HEADER 80
#define INV_COMMIT_ENTRY 32

inverted_opts_t inverted_defaults(void)
{
	return (inverted_opts_t){ .create = true, .positions = true, .idf = BM25_IDF_FTS5 };
}

/* dir/name into a fresh string (NULL when out of memory). */
static char *inv_path(const inverted_t *ix, const char *name)
{
	size_t n = strlen(ix->dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p != NULL)
		snprintf(p, n, "%s/%s", ix->dir, name);
	return p;
}

static char *inv_seg_path(const inverted_t *ix, uint64_t number)
{
	char name[32];
	snprintf(name, sizeof name, "%06" PRIu64 ".seg", number);
	return inv_path(ix, name);
}

static char *inv_del_path(const inverted_t *ix, uint64_t number, uint64_t gen)
{
	char name[48];
	snprintf(name, sizeof name, "%06" PRIu64 "_%" PRIu64 ".del", number, gen);
	return inv_path(ix, name);
}

/* ---------------------------------------------------------------- deleted-docs files */

static int inv_del_write(inverted_t *ix, const inv_seg_t *s, uint64_t gen, sl_err_t *err)
{
	size_t bytes = (s->docs + 7) / 8;
	buf_t b = { 0 };
	buf_append(&b, INV_DEL_MAGIC, 8);
	codec_buf_put_u32(&b, s->docs);
	codec_buf_put_u32(&b, s->ndel_pending);
	buf_append(&b, s->del_pending, bytes);
	codec_buf_put_u64(&b, checksum_xxh3(b.data, b.len, 0));
	char *path = inv_del_path(ix, s->number, gen);
	int rc = path == NULL || !buf_ok(&b) ? sl_errf(err, SL_NOMEM, "%s: out of memory", ix->dir)
					     : env_write_atomic(ix->env, path, b.data, b.len, err);
	free(path);
	buf_free(&b);
	return rc;
}

/* Reads bitmap gen of segment s into s->del, checking it against the commit's count. */
static int inv_del_read(inverted_t *ix, inv_seg_t *s, uint64_t gen, uint32_t ndel, sl_err_t *err)
{
	char *path = inv_del_path(ix, s->number, gen);
	if (path == NULL)
		return sl_errf(err, SL_NOMEM, "%s: out of memory", ix->dir);
	size_t bytes = (s->docs + 7) / 8, want = 16 + bytes + 8;
	uint8_t *b = malloc(want);
	env_file_t *f = NULL;
	int rc = b == NULL ? sl_errf(err, SL_NOMEM, "%s: out of memory", path)
			   : env_open(ix->env, path, ENV_READ, &f, err);
	if (rc == SL_OK && env_size(f) != want)
		rc = sl_errf(err, SL_CORRUPT, "%s: %" PRIu64 " bytes, not the %zu of a bitmap of %u documents",
			     path, env_size(f), want, s->docs);
	if (rc == SL_OK)
		rc = env_pread(f, b, want, 0, NULL, err);
	env_close(f, NULL);
	if (rc == SL_OK && (memcmp(b, INV_DEL_MAGIC, 8) != 0 ||
			    codec_get_u64(b + want - 8) != checksum_xxh3(b, want - 8, 0)))
		rc = sl_errf(err, SL_CORRUPT, "%s: not a deleted-docs bitmap, or damaged", path);
	uint32_t count = 0;
	for (size_t i = 0; rc == SL_OK && i < bytes; i++)
		count += (uint32_t)__builtin_popcount(b[16 + i]);
	if (rc == SL_OK && (codec_get_u32(b + 8) != s->docs || codec_get_u32(b + 12) != ndel ||
			    count != ndel || (s->docs % 8 && b[16 + bytes - 1] >> (s->docs % 8))))
		rc = sl_errf(err, SL_CORRUPT, "%s: bitmap disagrees with COMMIT", path);
	if (rc == SL_OK && (s->del = malloc(bytes + 1)) == NULL)
		rc = sl_errf(err, SL_NOMEM, "%s: out of memory", path);
	if (rc == SL_OK) {
		memcpy(s->del, b + 16, bytes);
		s->ndel = ndel;
		s->del_gen = gen;
	}
	free(b);
	free(path);
	return rc;
}

/* ---------------------------------------------------------------- COMMIT */

static int inv_commit_write(inverted_t *ix, uint64_t gen, inv_seg_t **segs, uint32_t n,
			    const uint64_t *del_gens, sl_err_t *err)
{
	buf_t b = { 0 };
	uint8_t h[INV_COMMIT_HEADER] = { 0 };
	uint64_t docs = 0, tokens = 0;
	for (uint32_t i = 0; i < n; i++) {
		docs += segs[i]->docs - segs[i]->ndel_pending;
		tokens += segs[i]->live_tokens_pending;
	}
	memcpy(h, INV_COMMIT_MAGIC, 8);
	codec_put_u32(h + 8, INV_COMMIT_VERSION);
	codec_put_u32(h + 12, n);
	codec_put_u64(h + 16, gen);
	codec_put_u64(h + 24, ix->next_seg);
	codec_put_u64(h + 32, docs);
	codec_put_u64(h + 40, tokens);
	memcpy(h + 48, ix->analyzer, strlen(ix->analyzer)); /* NUL-padded: h is zeroed */
	buf_append(&b, h, sizeof h);
	for (uint32_t i = 0; i < n; i++) {
		codec_buf_put_u64(&b, segs[i]->number);
		codec_buf_put_u32(&b, segs[i]->docs);
		codec_buf_put_u32(&b, segs[i]->ndel_pending);
		codec_buf_put_u64(&b, del_gens[i]);
		codec_buf_put_u64(&b, segs[i]->live_tokens_pending);
	}
	codec_buf_put_u64(&b, checksum_xxh3(b.data, b.len, 0));
	char *path = inv_path(ix, "COMMIT");
	int rc = path == NULL || !buf_ok(&b) ? sl_errf(err, SL_NOMEM, "%s: out of memory", ix->dir)
					     : env_write_atomic(ix->env, path, b.data, b.len, err);
	free(path);
	buf_free(&b);
	return rc;
}

/* Opens every segment COMMIT names, with its bitmap. */
static int inv_commit_load(inverted_t *ix, const uint8_t *b, size_t len, const char *path,
			   sl_err_t *err)
{
	if (len < INV_COMMIT_HEADER + 8 || memcmp(b, INV_COMMIT_MAGIC, 8) != 0)
		return sl_errf(err, SL_CORRUPT, "%s: not an index COMMIT file", path);
	if (codec_get_u64(b + len - 8) != checksum_xxh3(b, len - 8, 0))
		return sl_errf(err, SL_CORRUPT, "%s: checksum mismatch", path);
	uint32_t n = codec_get_u32(b + 12);
	if (codec_get_u32(b + 8) != INV_COMMIT_VERSION ||
	    len != INV_COMMIT_HEADER + (size_t)n * INV_COMMIT_ENTRY + 8)
		return sl_errf(err, SL_CORRUPT, "%s: unknown version or wrong length", path);
	if (memchr(b + 48, '\0', ANALYZER_SPEC_BYTES) == NULL)
		return sl_errf(err, SL_CORRUPT, "%s: analyzer name not terminated", path);
	const char *spec = (const char *)b + 48;
	if (ix->opts.analyzer != NULL && strcmp(ix->analyzer, spec) != 0)
		return sl_errf(err, SL_INVALID, "%s: the index was built with analyzer \"%s\", not \"%s\"",
			       path, spec, ix->analyzer);
	int arc = analyzer_open(&ix->qan, spec, err);
	if (arc != SL_OK)
		return sl_err_prefix(err, "%s", path);
	snprintf(ix->analyzer, sizeof ix->analyzer, "%s", ix->qan.spec);
	ix->generation = codec_get_u64(b + 16);
	ix->next_seg = codec_get_u64(b + 24);
	uint64_t docs = 0, tokens = 0;
	ix->segs = calloc(n + 1, sizeof *ix->segs);
	if (ix->segs == NULL)
		return sl_errf(err, SL_NOMEM, "%s: out of memory", path);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = b + INV_COMMIT_HEADER + (size_t)i * INV_COMMIT_ENTRY;
		uint64_t number = codec_get_u64(e);
		char *sp = inv_seg_path(ix, number);
		int rc = sp == NULL ? sl_errf(err, SL_NOMEM, "out of memory")
				    : inv_seg_open(ix->env, sp, number, &ix->segs[i], err);
		free(sp);
		if (rc != SL_OK)
			return rc;
		inv_seg_t *s = ix->segs[ix->nsegs++];
		uint32_t ndel = codec_get_u32(e + 12);
		uint64_t gen = codec_get_u64(e + 16);
		if (s->docs != codec_get_u32(e + 8) || number >= ix->next_seg || ndel > s->docs ||
		    (gen == 0) != (ndel == 0))
			return sl_errf(err, SL_CORRUPT, "%s: entry of segment %" PRIu64
				       " disagrees with the segment", path, number);
		if (gen != 0 && (rc = inv_del_read(ix, s, gen, ndel, err)) != SL_OK)
			return rc;
		s->ndel_pending = s->ndel;
		s->live_tokens = s->live_tokens_pending = codec_get_u64(e + 24);
		docs += s->docs - ndel;
		tokens += s->live_tokens;
	}
	if (docs != codec_get_u64(b + 32) || tokens != codec_get_u64(b + 40))
		return sl_errf(err, SL_CORRUPT, "%s: live totals disagree with the segments", path);
	return SL_OK;
}

/* Is name a file of an index that the live segments no longer use? */
static bool inv_is_garbage(const inverted_t *ix, const char *name)
{
	uint64_t number, gen;
	char tail[4];
	if (strstr(name, ".tmp") != NULL)
		return true; /* an atomic write a crash cut short */
	bool seg = sscanf(name, "%" SCNu64 ".se%1[g]%c", &number, tail, tail + 1) == 2;
	bool del = !seg && sscanf(name, "%" SCNu64 "_%" SCNu64 ".de%1[l]%c", &number, &gen, tail,
				  tail + 1) == 3;
	if (!seg && !del)
		return false;
	for (uint32_t s = 0; s < ix->nsegs; s++)
		if (ix->segs[s]->number == number && (seg || ix->segs[s]->del_gen == gen))
			return false;
	return true;
}

/* Removes the files of the directory that the current commit does not use. */
static void inv_collect_garbage(inverted_t *ix)
{
	char **names;
	size_t count;
	if (env_list_dir(ix->env, ix->dir, &names, &count, NULL) != SL_OK)
		return;
	for (size_t i = 0; i < count; i++) {
		if (!inv_is_garbage(ix, names[i]))
			continue;
		char *p = inv_path(ix, names[i]);
		if (p != NULL)
			env_unlink(ix->env, p, NULL);
		free(p);
	}
	env_list_free(names, count);
}

/* ---------------------------------------------------------------- open / close */

static int inv_open_files(inverted_t *ix, sl_err_t *err)
{
	int rc = SL_OK;
	if (!env_exists(ix->dir)) {
		if (!ix->opts.create || ix->opts.read_only)
			return sl_errf(err, SL_NOTFOUND, "%s: no index here", ix->dir);
		rc = env_mkdir(ix->env, ix->dir, err);
	}
	char *lock = inv_path(ix, "LOCK");
	char *commit = inv_path(ix, "COMMIT");
	if (lock == NULL || commit == NULL)
		rc = sl_errf(err, SL_NOMEM, "out of memory");
	if (rc == SL_OK)
		rc = env_lock_mode(ix->env, lock, ix->opts.read_only, &ix->lock, err);
	if (rc == SL_OK && !env_exists(commit)) {
		/* A new index: an empty commit. A directory holding other things is refused. */
		char **names;
		size_t count;
		rc = env_list_dir(ix->env, ix->dir, &names, &count, err);
		if (rc == SL_OK) {
			for (size_t i = 0; i < count && rc == SL_OK; i++)
				if (strcmp(names[i], "LOCK") != 0)
					rc = sl_errf(err, SL_INVALID, "%s: holds %s but no COMMIT: not an index",
						     ix->dir, names[i]);
			env_list_free(names, count);
		}
		if (rc == SL_OK && (!ix->opts.create || ix->opts.read_only))
			rc = sl_errf(err, SL_NOTFOUND, "%s: no index here", ix->dir);
		/* The analyzer is chosen now, once (ix->analyzer): every later query uses it. */
		if (rc == SL_OK)
			rc = inv_commit_write(ix, 0, NULL, 0, NULL, err);
	}
	if (rc == SL_OK) {
		env_file_t *f = NULL;
		uint8_t *b = NULL;
		rc = env_open(ix->env, commit, ENV_READ, &f, err);
		size_t len = rc == SL_OK ? (size_t)env_size(f) : 0;
		if (rc == SL_OK && len > (64u << 20))
			rc = sl_errf(err, SL_CORRUPT, "%s: too large for a COMMIT", commit);
		if (rc == SL_OK && (b = malloc(len + 1)) == NULL)
			rc = sl_errf(err, SL_NOMEM, "out of memory");
		if (rc == SL_OK)
			rc = env_pread(f, b, len, 0, NULL, err);
		env_close(f, NULL);
		if (rc == SL_OK)
			rc = inv_commit_load(ix, b, len, commit, err);
		free(b);
	}
	free(lock);
	free(commit);
	return rc;
}

int inverted_open(env_t *env, const char *dir, const inverted_opts_t *opts, inverted_t **out,
		  sl_err_t *err)
{
	*out = NULL;
	inverted_t *ix = calloc(1, sizeof *ix);
	if (ix == NULL || (ix->dir = strdup(dir)) == NULL) {
		free(ix);
		return sl_errf(err, SL_NOMEM, "%s: out of memory", dir);
	}
	ix->env = env;
	ix->opts = opts ? *opts : inverted_defaults();
	if (ix->opts.buffer_bytes == 0)
		ix->opts.buffer_bytes = INVERTED_BUFFER_DEFAULT;
	if (ix->opts.merge_factor < 2)
		ix->opts.merge_factor = INVERTED_MERGE_FACTOR;
	if (ix->opts.trace != NULL)
		ix->trace = *ix->opts.trace;
	ix->opts.trace = NULL; /* the copy in ix->trace is the one used */
	/* The analyzer asked for, in its canonical spelling (a new index takes it). */
	analyzer_t an;
	int rc = analyzer_open(&an, ix->opts.analyzer, err);
	snprintf(ix->analyzer, sizeof ix->analyzer, "%s", an.spec);
	analyzer_close(&an);
	if (rc == SL_OK)
		rc = inv_open_files(ix, err);
	if (rc == SL_OK)
		rc = inv_buffer_new(ix->analyzer, &ix->buf, err);
	if (rc != SL_OK) {
		inverted_close(ix);
		return rc;
	}
	if (!ix->opts.read_only)
		inv_collect_garbage(ix);
	INV_TRACE(ix, "open: commit generation %" PRIu64 ", %" PRIu32 " segments, analyzer %s",
		  ix->generation, ix->nsegs, ix->analyzer);
	*out = ix;
	return SL_OK;
}

void inverted_close(inverted_t *ix)
{
	if (ix == NULL)
		return;
	for (uint32_t i = 0; i < ix->nsegs; i++)
		inv_seg_close(ix->segs[i]);
	free(ix->segs);
	inv_buffer_free(ix->buf);
	analyzer_close(&ix->qan);
	env_unlock(ix->lock);
	free(ix->dir);
	free(ix);
}

/* ---------------------------------------------------------------- writes */

static int inv_writable(inverted_t *ix, sl_err_t *err)
{
	if (ix->opts.read_only)
		return sl_errf(err, SL_READONLY, "%s: opened read-only", ix->dir);
	if (ix->broken)
		return sl_errf(err, SL_READONLY, "%s: a commit failed; reopen the index", ix->dir);
	return SL_OK;
}

/* Marks local doc of segment s deleted for the next commit. */
static int inv_seg_mark(inv_seg_t *s, uint32_t doc, sl_err_t *err)
{
	if (s->del_pending == NULL) {
		size_t bytes = (s->docs + 7) / 8;
		if ((s->del_pending = calloc(bytes + 1, 1)) == NULL)
			return sl_errf(err, SL_NOMEM, "out of memory");
		if (s->del != NULL)
			memcpy(s->del_pending, s->del, bytes);
	}
	if (!inv_bit(s->del_pending, doc)) {
		s->del_pending[doc >> 3] |= (uint8_t)(1u << (doc & 7));
		s->ndel_pending++;
		s->live_tokens_pending -= inv_seg_doclen(s, doc);
	}
	return SL_OK;
}

/* Deletes the live document with this id, wherever it is. */
static int inv_delete_id(inverted_t *ix, sl_slice_t id, bool *found, sl_err_t *err)
{
	*found = false;
	uint32_t doc;
	if (inv_buffer_find(ix->buf, id, &doc)) {
		inv_buffer_delete(ix->buf, doc);
		*found = true;
		return SL_OK;
	}
	for (uint32_t i = ix->nsegs; i-- > 0;) {
		inv_seg_t *s = ix->segs[i];
		int rc = inv_seg_find_id(s, id, &doc, err);
		if (rc == SL_NOTFOUND)
			continue;
		if (rc != SL_OK)
			return rc;
		const uint8_t *bits = s->del_pending ? s->del_pending : s->del;
		if (inv_bit(bits, doc))
			continue;
		*found = true;
		return inv_seg_mark(s, doc, err);
	}
	return SL_OK;
}

static int inv_check_id(inverted_t *ix, sl_slice_t id, sl_err_t *err)
{
	if (id.len == 0 || id.len > INVERTED_MAX_ID)
		return sl_errf(err, SL_INVALID, "%s: document id of %zu bytes (1 to %d allowed)",
			       ix->dir, id.len, INVERTED_MAX_ID);
	return SL_OK;
}

int inverted_delete(inverted_t *ix, sl_slice_t id, bool *found, sl_err_t *err)
{
	bool dummy;
	int rc = inv_writable(ix, err);
	if (rc == SL_OK)
		rc = inv_check_id(ix, id, err);
	return rc == SL_OK ? inv_delete_id(ix, id, found ? found : &dummy, err) : rc;
}

static int inv_flush(inverted_t *ix, sl_err_t *err);

int inverted_add(inverted_t *ix, sl_slice_t id, sl_slice_t text, sl_err_t *err)
{
	int rc = inv_writable(ix, err);
	if (rc == SL_OK)
		rc = inv_check_id(ix, id, err);
	if (rc != SL_OK)
		return rc;
	const char *why;
	size_t bad = tokenizer_utf8_valid(text, &why);
	if (bad < text.len)
		return sl_errf(err, SL_INVALID, "document %.*s: %s at byte %zu", (int)id.len,
			       (const char *)id.data, why, bad);
	bool found;
	rc = inv_delete_id(ix, id, &found, err);
	if (rc == SL_OK)
		rc = inv_buffer_add(ix->buf, id, text, err);
	INV_TRACE(ix, "add \"%.*s\": %zu bytes of text analyzed into the buffer (%" PRIu32
		  " documents, %" PRIu64 " bytes)%s", (int)id.len, (const char *)id.data, text.len,
		  inv_buffer_docs(ix->buf), inv_buffer_bytes(ix->buf),
		  found ? "; the older version is marked deleted" : "");
	if (rc == SL_NOMEM)
		ix->broken = true; /* the buffer may hold part of the document */
	if (rc == SL_OK && inv_buffer_bytes(ix->buf) >= ix->opts.buffer_bytes)
		rc = inv_flush(ix, err);
	return rc;
}

/* ---------------------------------------------------------------- commit */

/* Appends a segment to the live list (its memory is the caller's until then). */
static int inv_push_seg(inverted_t *ix, inv_seg_t *s, sl_err_t *err)
{
	inv_seg_t **segs = realloc(ix->segs, (ix->nsegs + 2) * sizeof *segs);
	if (segs == NULL)
		return sl_errf(err, SL_NOMEM, "out of memory");
	ix->segs = segs;
	ix->segs[ix->nsegs++] = s;
	return SL_OK;
}

/*
 * Writes the buffer as a new segment; it joins the live list (with its
 * deletions pending) but no COMMIT names it yet.
 */
static int inv_flush(inverted_t *ix, sl_err_t *err)
{
	if (inv_buffer_docs(ix->buf) == 0)
		return SL_OK;
	uint64_t number = ix->next_seg++;
	char *path = inv_seg_path(ix, number);
	if (path == NULL)
		return sl_errf(err, SL_NOMEM, "out of memory");
	inv_seg_t *s = NULL;
	int rc = inv_buffer_write(ix->buf, ix->env, path, ix->opts.positions, err);
	if (rc == SL_OK)
		rc = inv_seg_open(ix->env, path, number, &s, err);
	if (rc == SL_OK) {
		s->fresh = true; /* searches pass it over until a COMMIT names it */
		rc = inv_push_seg(ix, s, err);
	}
	if (rc != SL_OK) {
		inv_seg_close(s);
		ix->broken = true;
	}
	INV_TRACE(ix, "flush: %" PRIu32 " buffered documents -> segment %06" PRIu64 "%s",
		  inv_buffer_docs(ix->buf), number, rc == SL_OK ? " (not searched until a commit names it)"
							       : ": failed");
	free(path);
	inv_buffer_reset(ix->buf);
	ix->flushes++;
	return rc;
}

/* Writes the changed bitmaps and COMMIT; on success the pending state becomes the committed. */
static int inv_write_commit(inverted_t *ix, sl_err_t *err)
{
	uint64_t gen = ix->generation + 1;
	uint64_t *gens = calloc(ix->nsegs + 1, sizeof *gens);
	if (gens == NULL)
		return sl_errf(err, SL_NOMEM, "out of memory");
	int rc = SL_OK;
	for (uint32_t i = 0; i < ix->nsegs && rc == SL_OK; i++) {
		inv_seg_t *s = ix->segs[i];
		gens[i] = s->del_gen;
		if (s->del_pending == NULL)
			continue; /* unchanged since the last commit */
		gens[i] = s->ndel_pending == 0 ? 0 : gen;
		if (gens[i] != 0)
			rc = inv_del_write(ix, s, gen, err);
	}
	if (rc == SL_OK)
		rc = inv_commit_write(ix, gen, ix->segs, ix->nsegs, gens, err);
	INV_TRACE(ix, "commit: generation %" PRIu64 " names %" PRIu32 " segments%s", gen, ix->nsegs,
		  rc == SL_OK ? "; synced, now searchable" : ": failed");
	if (rc == SL_OK) {
		ix->generation = gen;
		for (uint32_t i = 0; i < ix->nsegs; i++) {
			inv_seg_t *s = ix->segs[i];
			if (s->del_pending != NULL) {
				free(s->del);
				s->del = s->ndel_pending ? s->del_pending : NULL;
				if (s->ndel_pending == 0)
					free(s->del_pending);
				s->del_pending = NULL;
			}
			s->ndel = s->ndel_pending;
			s->del_gen = gens[i];
			s->fresh = false;
			s->live_tokens = s->live_tokens_pending;
		}
		inv_collect_garbage(ix);
	} else {
		ix->broken = true;
	}
	free(gens);
	return rc;
}

static int inv_merge_policy(inverted_t *ix, sl_err_t *err);

int inverted_commit(inverted_t *ix, sl_err_t *err)
{
	int rc = inv_writable(ix, err);
	if (rc == SL_OK)
		rc = inv_flush(ix, err);
	if (rc == SL_OK)
		rc = inv_write_commit(ix, err);
	if (rc == SL_OK && !ix->opts.no_merge)
		rc = inv_merge_policy(ix, err);
	return rc;
}

/* ---------------------------------------------------------------- merging */

/* One source segment of a merge: its dictionary walk and its documents' new numbers. */
typedef struct inv_msrc {
	inv_seg_t *seg;
	inv_dict_iter_t dict;
	uint32_t *map;               /* local -> merged number; INV_END when deleted */
} inv_msrc_t;

/* Appends term's postings from every source holding it, renumbered, to the arrays. */
static int inv_merge_gather(inv_msrc_t *src, unsigned n, sl_slice_t term, u32s_t *docs,
			    u32s_t *tfs, u32s_t *pos, sl_err_t *err)
{
	inv_term_entry_t e = { 0 };
	uint32_t scratch[1024], *p = scratch;
	size_t cap = 1024;
	int rc = SL_OK;
	for (unsigned i = 0; i < n && rc == SL_OK; i++) {
		if (!src[i].dict.valid || sl_slice_cmp(block_iter_key(&src[i].dict.it), term) != 0)
			continue;
		inv_cursor_t c;
		rc = inv_term_decode(src[i].seg, block_iter_value(&src[i].dict.it), &e, err);
		if (rc == SL_OK)
			rc = inv_cursor_open(&c, src[i].seg, &e, err);
		for (; rc == SL_OK && postings_iter_valid(&c.it); rc = postings_iter_next(&c.it, err)) {
			uint32_t d = src[i].map[postings_iter_doc(&c.it)], tf = postings_iter_tf(&c.it);
			if (d == INV_END)
				continue;
			if (c.has_pos) {
				if (tf > cap) {
					uint32_t *q = realloc(p == scratch ? NULL : p, tf * sizeof *q);
					if (q == NULL) {
						rc = sl_errf(err, SL_NOMEM, "merge: out of memory");
						break;
					}
					p = q;
					cap = tf;
				}
				rc = inv_cursor_positions(&c, p, err);
				for (uint32_t j = 0; rc == SL_OK && j < tf; j++)
					if (!u32s_push(pos, p[j]))
						rc = sl_errf(err, SL_NOMEM, "merge: out of memory");
			}
			if (!u32s_push(docs, d) || !u32s_push(tfs, tf))
				rc = sl_errf(err, SL_NOMEM, "merge: out of memory");
		}
		if (rc == SL_OK)
			rc = inv_dict_iter_next(&src[i].dict, err);
		inv_cursor_free(&c);
	}
	if (p != scratch)
		free(p);
	buf_free(&e.inline_bytes);
	return rc;
}

/* Writes segments [from, from + n) of the live list as one new segment, without deleted docs. */
static int inv_merge_write(inverted_t *ix, uint32_t from, uint32_t n, const char *path,
			   sl_err_t *err)
{
	inv_msrc_t *src = calloc(n, sizeof *src);
	inv_segw_t *w = NULL;
	u32s_t docs = { 0 }, tfs = { 0 }, pos = { 0 };
	buf_t id = { 0 }, term = { 0 };
	int rc = src == NULL ? sl_errf(err, SL_NOMEM, "merge: out of memory")
			     : inv_segw_open(ix->env, path, ix->opts.positions, &w, err);
	uint32_t next = 0;
	for (uint32_t i = 0; i < n && rc == SL_OK; i++) {
		inv_seg_t *s = src[i].seg = ix->segs[from + i];
		if ((src[i].map = malloc(((size_t)s->docs + 1) * sizeof(uint32_t))) == NULL)
			rc = sl_errf(err, SL_NOMEM, "merge: out of memory");
		for (uint32_t d = 0; d < s->docs && rc == SL_OK; d++) {
			src[i].map[d] = inv_seg_deleted(s, d) ? INV_END : next++;
			if (src[i].map[d] == INV_END)
				continue;
			rc = inv_seg_id(s, d, &id, err);
			if (rc == SL_OK)
				rc = inv_segw_doc(w, buf_slice(&id), inv_seg_doclen(s, d), err);
		}
		if (rc == SL_OK)
			rc = inv_dict_iter_first(&src[i].dict, s, err);
	}
	while (rc == SL_OK) {
		/* The smallest term among the sources. */
		bool any = false;
		for (uint32_t i = 0; i < n; i++)
			if (src[i].dict.valid &&
			    (!any || sl_slice_cmp(block_iter_key(&src[i].dict.it), buf_slice(&term)) < 0)) {
				sl_slice_t k = block_iter_key(&src[i].dict.it);
				buf_set(&term, k.data, k.len);
				any = true;
			}
		if (!any)
			break;
		docs.n = tfs.n = pos.n = 0;
		rc = inv_merge_gather(src, n, buf_slice(&term), &docs, &tfs, &pos, err);
		if (rc == SL_OK && docs.n > 0)
			rc = inv_segw_term(w, buf_slice(&term), docs.v, tfs.v, pos.v, (uint32_t)docs.n, err);
	}
	if (rc == SL_OK)
		rc = inv_segw_finish(w, NULL, err);
	else
		inv_segw_abandon(w);
	for (uint32_t i = 0; src != NULL && i < n; i++) {
		inv_dict_iter_free(&src[i].dict);
		free(src[i].map);
	}
	free(src);
	u32s_free(&docs);
	u32s_free(&tfs);
	u32s_free(&pos);
	buf_free(&id);
	buf_free(&term);
	return rc;
}

/* Merges segments [from, from + n) into one and commits. REQUIRES: nothing pending. */
static int inv_merge(inverted_t *ix, uint32_t from, uint32_t n, sl_err_t *err)
{
	uint64_t number = ix->next_seg++;
	char *path = inv_seg_path(ix, number);
	if (path == NULL)
		return sl_errf(err, SL_NOMEM, "out of memory");
	inv_seg_t *s = NULL;
	int rc = inv_merge_write(ix, from, n, path, err);
	if (rc == SL_OK)
		rc = inv_seg_open(ix->env, path, number, &s, err);
	free(path);
	if (rc != SL_OK) {
		ix->broken = true;
		return rc;
	}
	inv_seg_t **old = malloc(n * sizeof *old);
	if (old == NULL) {
		inv_seg_close(s);
		ix->broken = true;
		return sl_errf(err, SL_NOMEM, "out of memory");
	}
	uint64_t in_docs = 0;
	for (uint32_t i = 0; i < n; i++)
		in_docs += ix->segs[from + i]->docs;
	INV_TRACE(ix, "merge: segments %06" PRIu64 "..%06" PRIu64 " (%" PRIu32 " of them, %" PRIu64
		  " documents) -> segment %06" PRIu64 " (%" PRIu32 " live documents; deleted ones dropped)",
		  ix->segs[from]->number, ix->segs[from + n - 1]->number, n, in_docs, number, s->docs);
	memcpy(old, ix->segs + from, n * sizeof *old);
	ix->segs[from] = s;
	memmove(ix->segs + from + 1, ix->segs + from + n, (ix->nsegs - from - n) * sizeof *old);
	ix->nsegs -= n - 1;
	rc = inv_write_commit(ix, err);
	for (uint32_t i = 0; i < n; i++)
		inv_seg_close(old[i]);
	free(old);
	if (rc == SL_OK) {
		ix->merges++;
		inv_collect_garbage(ix);
	}
	return rc;
}

/* The tier of a segment: floor(log_factor(live documents)). */
static unsigned inv_tier(const inverted_t *ix, const inv_seg_t *s)
{
	uint64_t live = s->docs - s->ndel;
	unsigned t = 0;
	while (live >= ix->opts.merge_factor) {
		live /= ix->opts.merge_factor;
		t++;
	}
	return t;
}

/*
 * The tiered policy. A window of merge_factor neighbouring segments may merge
 * when none is in a higher tier than its first (oldest) one: a run of about
 * equal segments, or small ones after a bigger one. Of those windows the one
 * whose first segment's tier is lowest merges first (cheapest, and a document
 * is rewritten about once per tier: log(N) times in all). When no window
 * qualifies, the tiers rise at least every merge_factor - 1 segments from new
 * to old, so there are at most (merge_factor - 1) segments per tier.
 */
static int inv_merge_policy(inverted_t *ix, sl_err_t *err)
{
	uint32_t f = ix->opts.merge_factor;
	for (;;) {
		uint32_t best = UINT32_MAX;
		unsigned best_tier = 0;
		for (uint32_t i = 0; i + f <= ix->nsegs; i++) {
			unsigned first = inv_tier(ix, ix->segs[i]);
			bool ok = best == UINT32_MAX || first < best_tier;
			for (uint32_t j = i + 1; j < i + f && ok; j++)
				ok = inv_tier(ix, ix->segs[j]) <= first;
			if (ok) {
				best = i;
				best_tier = first;
			}
		}
		if (best == UINT32_MAX)
			return SL_OK;
		int rc = inv_merge(ix, best, f, err);
		if (rc != SL_OK)
			return rc;
	}
}

int inverted_optimize(inverted_t *ix, sl_err_t *err)
{
	int rc = inverted_commit(ix, err);
	if (rc == SL_OK && (ix->nsegs > 1 || (ix->nsegs == 1 && ix->segs[0]->ndel > 0)))
		rc = inv_merge(ix, 0, ix->nsegs, err);
	return rc;
}

/* ---------------------------------------------------------------- stats */

int inverted_segments(inverted_t *ix, inverted_segment_fn fn, void *ctx)
{
	int rc = SL_OK;
	for (uint32_t i = 0; i < ix->nsegs && rc == SL_OK; i++) {
		const inv_seg_t *s = ix->segs[i];
		if (s->fresh)
			continue;
		inverted_segment_t info = { s->number, s->docs, s->ndel, s->tokens, s->terms, s->size };
		rc = fn(ctx, &info);
	}
	return rc;
}

static int inv_dump_segment(void *ctx, const inverted_segment_t *s)
{
	fprintf(ctx, "  segment %06" PRIu64 ": %" PRIu32 " documents (%" PRIu32 " deleted), %" PRIu64
		" tokens, %" PRIu64 " terms, %.1f KiB\n", s->number, s->docs, s->deleted, s->tokens,
		s->terms, (double)s->bytes / 1024);
	return SL_OK;
}

void inverted_dump(inverted_t *ix, FILE *out)
{
	fprintf(out, "inverted index %s: commit generation %" PRIu64 ", %" PRIu32 " segments, %" PRIu32
		" documents in the buffer, analyzer %s\n", ix->dir, ix->generation, ix->nsegs,
		inv_buffer_docs(ix->buf), ix->analyzer);
	inverted_segments(ix, inv_dump_segment, out);
}

int inverted_stats(inverted_t *ix, inverted_stats_t *out, sl_err_t *err)
{
	memset(out, 0, sizeof *out);
	for (uint32_t i = 0; i < ix->nsegs; i++) {
		inv_seg_t *s = ix->segs[i];
		if (s->fresh)
			continue;
		out->segments++;
		out->docs += s->docs - s->ndel;
		out->deleted += s->ndel;
		out->tokens += s->live_tokens;
		out->terms += s->terms;
		out->postings_bytes += s->dict_off - INV_SEG_HEADER;
		out->dict_bytes += s->ids_off - s->dict_off;
		inv_dict_iter_t d;
		int rc = inv_dict_iter_first(&d, s, err);
		inv_term_entry_t e = { 0 };
		for (; rc == SL_OK && d.valid; rc = inv_dict_iter_next(&d, err)) {
			rc = inv_term_decode(s, block_iter_value(&d.it), &e, err);
			if (rc != SL_OK)
				break;
			out->postings += e.df;
		}
		buf_free(&e.inline_bytes);
		inv_dict_iter_free(&d);
		if (rc != SL_OK)
			return rc;
	}
	out->flushes = ix->flushes;
	out->merges = ix->merges;
	out->generation = ix->generation;
	return env_dir_bytes(ix->dir, &out->file_bytes, err);
}
