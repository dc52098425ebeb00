/* wal.c — the append-only record log (format and rules in wal.h). */
#include "engine/wal.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/checksum.h"
#include "engine/codec.h"
#include "engine/syncer.h"

#define WAL_READAHEAD_BYTES (64 * 1024)

struct wal {
	env_t *env;       /* where the file lives */
	env_file_t *file; /* open for appending */
	buf_t frame;      /* the record being framed, reused from append to append */
	bool broken;      /* an append or sync failed: refuse further appends */
	syncer_t *timer;  /* sync level batch: fsyncs every few ms (wal_sync_every), or NULL */
};

struct wal_reader {
	env_file_t *file;   /* open for reading */
	uint64_t size;      /* file size at open */
	uint64_t pos;       /* offset of the next record */
	buf_t window;       /* file bytes [win_off, win_off + window.len) */
	uint64_t win_off;   /* file offset of window.data[0] */
	wal_tail_t tail;    /* filled in when the log ends */
	bool ended;         /* next() already reached the end */
};

/* ---------------------------------------------------------------- framing */

static void wal_encode_file_header(uint8_t h[WAL_HEADER_BYTES])
{
	memset(h, 0, WAL_HEADER_BYTES);
	memcpy(h, WAL_MAGIC, 8);
	codec_put_u32(h + 8, WAL_VERSION);
	codec_put_u32(h + 12, checksum_xxh3_32(h, 12, 0));
}

static int wal_check_file_header(const uint8_t *h, size_t n, const char *path, sl_err_t *err)
{
	if (n < WAL_HEADER_BYTES || memcmp(h, WAL_MAGIC, 8) != 0)
		return sl_errf(err, SL_CORRUPT, "%s: not a storelab log (bad magic at offset 0)", path);
	if (codec_get_u32(h + 12) != checksum_xxh3_32(h, 12, 0))
		return sl_errf(err, SL_CORRUPT, "%s: log header checksum mismatch at offset 12", path);
	uint32_t version = codec_get_u32(h + 8);
	if (version != WAL_VERSION)
		return sl_errf(err, SL_NOTSUP, "%s: log format version %u, this build reads %u", path,
			       version, WAL_VERSION);
	return SL_OK;
}

static void wal_encode_record_header(uint8_t h[WAL_RECORD_HEADER_BYTES], uint64_t off,
				     const void *payload, uint32_t len)
{
	codec_put_u32(h, len);
	codec_put_u32(h + 4, checksum_xxh3_32(h, 4, off));
	codec_put_u64(h + 8, checksum_xxh3(payload, len, off));
}

/* ---------------------------------------------------------------- writer */

static int wal_new(env_t *env, env_file_t *file, wal_t **out, sl_err_t *err)
{
	wal_t *w = calloc(1, sizeof *w);
	if (w == NULL) {
		env_close(file, NULL);
		return sl_errf(err, SL_NOMEM, "wal: out of memory");
	}
	w->env = env;
	w->file = file;
	*out = w;
	return SL_OK;
}

int wal_create(env_t *env, const char *path, wal_t **out, sl_err_t *err)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return sl_errf(err, SL_INVALID, "wal: path too long: %s", path);

	uint8_t h[WAL_HEADER_BYTES];
	wal_encode_file_header(h);
	env_file_t *f = NULL;
	int rc = env_open(env, tmp, ENV_WRITE | ENV_CREATE | ENV_TRUNC, &f, err);
	if (rc == SL_OK)
		rc = env_append(f, h, sizeof h, err);
	if (rc == SL_OK)
		rc = env_sync(f, err);
	if (rc == SL_OK)
		rc = env_rename(env, tmp, path, err);
	if (rc != SL_OK) {
		env_close(f, NULL);
		return rc;
	}
	rc = env_sync_parent(env, path, err);
	if (rc != SL_OK) {
		env_close(f, NULL);
		return rc;
	}
	/* Reopen under the final name so messages name the real file. */
	env_close(f, NULL);
	return wal_open(env, path, WAL_HEADER_BYTES, out, err);
}

int wal_open(env_t *env, const char *path, uint64_t end_off, wal_t **out, sl_err_t *err)
{
	*out = NULL;
	env_file_t *f = NULL;
	/* Appends are copied into a memory map of the tail: no system call per record. */
	int rc = env_open(env, path, ENV_WRITE | ENV_MAP_APPEND, &f, err);
	if (rc != SL_OK)
		return rc;
	uint8_t h[WAL_HEADER_BYTES];
	size_t got = 0;
	rc = env_pread(f, h, sizeof h, 0, &got, err);
	if (rc == SL_OK)
		rc = wal_check_file_header(h, got, path, err);
	if (rc == SL_OK && (end_off < WAL_HEADER_BYTES || end_off > env_size(f)))
		rc = sl_errf(err, SL_INVALID, "%s: end offset %llu outside the log (size %llu)", path,
			     (unsigned long long)end_off, (unsigned long long)env_size(f));
	/* Cut a torn tail, and make the cut durable before anything new is appended. */
	if (rc == SL_OK && end_off < env_size(f)) {
		rc = env_truncate(f, end_off, err);
		if (rc == SL_OK)
			rc = env_sync(f, err);
	}
	if (rc != SL_OK) {
		env_close(f, NULL);
		return rc;
	}
	return wal_new(env, f, out, err);
}

/* Whether the log refuses appends: a failed write or fsync, here or in the timer. */
static bool wal_broken(wal_t *w)
{
	return w->broken || (w->timer != NULL && syncer_failed(w->timer, NULL));
}

/* The answer to a write after a failure: SL_READONLY, saying what failed. */
static int wal_refuse(wal_t *w, sl_err_t *err)
{
	sl_err_t background;
	if (w->timer != NULL && syncer_failed(w->timer, &background))
		return sl_errf(err, SL_READONLY, "%s; reopen to continue", background.msg);
	return sl_errf(err, SL_READONLY, "%s: an earlier write or fsync failed; reopen to continue",
		       env_path(w->file));
}

int wal_append(wal_t *w, const void *payload, size_t len, bool sync, sl_err_t *err)
{
	if (wal_broken(w))
		return wal_refuse(w, err);
	if (len > WAL_MAX_RECORD)
		return sl_errf(err, SL_INVALID, "%s: record of %zu bytes exceeds the %u-byte limit",
			       env_path(w->file), len, WAL_MAX_RECORD);

	/*
	 * Framed in memory, then written with one write call, so a crash tears at
	 * most this record, and the record has reached the OS before we return: a
	 * process that dies after an acknowledged append loses nothing.
	 */
	uint64_t off = env_size(w->file);
	buf_clear(&w->frame);
	buf_extend(&w->frame, WAL_RECORD_HEADER_BYTES);
	buf_append(&w->frame, payload, len);
	if (!buf_ok(&w->frame)) {
		buf_clear(&w->frame);
		return sl_errf(err, SL_NOMEM, "%s: out of memory framing a record", env_path(w->file));
	}
	wal_encode_record_header(w->frame.data, off, payload, (uint32_t)len);
	int rc = env_append(w->file, w->frame.data, w->frame.len, err);
	if (rc == SL_OK && sync)
		rc = wal_sync(w, err);
	else if (rc == SL_OK && w->timer != NULL)
		syncer_note(w->timer);
	if (rc != SL_OK)
		w->broken = true;
	return rc;
}

int wal_sync(wal_t *w, sl_err_t *err)
{
	if (wal_broken(w))
		return wal_refuse(w, err);
	if (w->timer != NULL)
		syncer_clear(w->timer);
	int rc = env_datasync(w->file, err);
	if (rc != SL_OK)
		w->broken = true;
	return rc;
}

int wal_reset(wal_t *w, sl_err_t *err)
{
	if (wal_broken(w))
		return wal_refuse(w, err);
	int rc = env_truncate(w->file, WAL_HEADER_BYTES, err);
	if (rc == SL_OK)
		rc = env_datasync(w->file, err);
	if (rc != SL_OK)
		w->broken = true;
	return rc;
}

uint64_t wal_size(const wal_t *w)
{
	return env_size(w->file);
}

/* ---------------------------------------------------------------- the batch timer */

static int wal_timer_sync(void *ctx, sl_err_t *err)
{
	wal_t *w = ctx;
	return env_datasync(w->file, err);
}

int wal_sync_every(wal_t *w, uint32_t ms, sl_err_t *err)
{
	assert(w->timer == NULL);
	int rc = syncer_start(ms, wal_timer_sync, w, &w->timer, err);
	if (rc != SL_OK)
		sl_err_prefix(err, "%s", env_path(w->file));
	return rc;
}

int wal_close(wal_t *w, sl_err_t *err)
{
	if (w == NULL)
		return SL_OK;
	syncer_stop(w->timer);
	int rc = env_close(w->file, err);
	buf_free(&w->frame);
	free(w);
	return rc;
}

/* ---------------------------------------------------------------- reader */

int wal_reader_open(env_t *env, const char *path, wal_reader_t **out, sl_err_t *err)
{
	*out = NULL;
	wal_reader_t *r = calloc(1, sizeof *r);
	if (r == NULL)
		return sl_errf(err, SL_NOMEM, "wal: out of memory");
	int rc = env_open(env, path, ENV_READ, &r->file, err);
	if (rc != SL_OK) {
		free(r);
		return rc;
	}
	r->size = env_size(r->file);
	uint8_t h[WAL_HEADER_BYTES];
	size_t got = 0;
	rc = env_pread(r->file, h, sizeof h, 0, &got, err);
	if (rc == SL_OK)
		rc = wal_check_file_header(h, got, path, err);
	if (rc != SL_OK) {
		wal_reader_close(r);
		return rc;
	}
	r->pos = WAL_HEADER_BYTES;
	*out = r;
	return SL_OK;
}

/*
 * Returns a pointer to the n file bytes at off, reading ahead so that a run of
 * small records costs one pread per 64 KiB. The caller checked off + n <= size.
 */
static const uint8_t *wal_reader_bytes(wal_reader_t *r, uint64_t off, size_t n, sl_err_t *err)
{
	if (off >= r->win_off && off + n <= r->win_off + r->window.len)
		return r->window.data + (off - r->win_off);
	size_t want = n > WAL_READAHEAD_BYTES ? n : WAL_READAHEAD_BYTES;
	if (want > r->size - off)
		want = (size_t)(r->size - off);
	buf_clear(&r->window);
	if (buf_extend(&r->window, want) == NULL) {
		sl_errf(err, SL_NOMEM, "%s: out of memory reading %zu bytes", env_path(r->file), want);
		return NULL;
	}
	r->win_off = off;
	if (env_pread(r->file, r->window.data, want, off, NULL, err) != SL_OK) {
		buf_clear(&r->window);
		return NULL;
	}
	return r->window.data;
}

/*
 * Is there a valid record at off? Fills *len. Returns SL_OK (valid), SL_NOTFOUND
 * (not valid, *why says what failed) or an I/O error.
 */
static int wal_reader_probe(wal_reader_t *r, uint64_t off, uint32_t *len, const char **why,
			    sl_err_t *err)
{
	if (r->size - off < WAL_RECORD_HEADER_BYTES) {
		*why = "record header cut short by end of file";
		return SL_NOTFOUND;
	}
	const uint8_t *h = wal_reader_bytes(r, off, WAL_RECORD_HEADER_BYTES, err);
	if (h == NULL)
		return err ? err->code : SL_IO;
	uint32_t n = codec_get_u32(h);
	uint64_t sum = codec_get_u64(h + 8);
	if (codec_get_u32(h + 4) != checksum_xxh3_32(h, 4, off) || n > WAL_MAX_RECORD) {
		*why = "record length check mismatch";
		return SL_NOTFOUND;
	}
	if (r->size - off - WAL_RECORD_HEADER_BYTES < n) {
		*why = "record payload cut short by end of file";
		return SL_NOTFOUND;
	}
	const uint8_t *p = wal_reader_bytes(r, off + WAL_RECORD_HEADER_BYTES, n, err);
	if (p == NULL)
		return err ? err->code : SL_IO;
	if (checksum_xxh3(p, n, off) != sum) {
		*why = "record payload checksum mismatch";
		return SL_NOTFOUND;
	}
	*len = n;
	return SL_OK;
}

/*
 * The record at bad_off failed its checks. Look for any valid record after it:
 * if there is one, acknowledged data lies behind the damage (SL_CORRUPT);
 * otherwise it is a torn tail and the log simply ends at bad_off.
 */
/* Whether every byte from off to the end of the file is zero. */
static int wal_reader_zeros(wal_reader_t *r, uint64_t off, bool *zeros, sl_err_t *err)
{
	*zeros = true;
	while (off < r->size && *zeros) {
		size_t n = r->size - off < 4096 ? (size_t)(r->size - off) : 4096;
		const uint8_t *p = wal_reader_bytes(r, off, n, err);
		if (p == NULL)
			return err ? err->code : SL_IO;
		for (size_t i = 0; i < n && *zeros; i++)
			*zeros = p[i] == 0;
		off += n;
	}
	return SL_OK;
}

static int wal_reader_classify(wal_reader_t *r, uint64_t bad_off, const char *why, sl_err_t *err)
{
	bool zeros; /* space a writer had reserved (env.h), or a cut that zeroed it */
	int zrc = wal_reader_zeros(r, bad_off, &zeros, err);
	if (zrc != SL_OK)
		return zrc;
	if (zeros)
		why = "zero bytes to the end of the file"; /* and no record can hide in them */
	for (uint64_t off = bad_off + 1; !zeros && off + WAL_RECORD_HEADER_BYTES <= r->size; off++) {
		uint32_t len;
		const char *ignored;
		int rc = wal_reader_probe(r, off, &len, &ignored, err);
		if (rc == SL_OK)
			return sl_errf(err, SL_CORRUPT,
				       "%s: %s at offset %llu, but a valid record follows at offset %llu",
				       env_path(r->file), why, (unsigned long long)bad_off,
				       (unsigned long long)off);
		if (rc != SL_NOTFOUND)
			return rc;
	}
	r->tail.valid_end = bad_off;
	r->tail.dropped = r->size - bad_off;
	snprintf(r->tail.why, sizeof r->tail.why, "%s at offset %llu", why,
		 (unsigned long long)bad_off);
	r->ended = true;
	return SL_NOTFOUND;
}

int wal_reader_next(wal_reader_t *r, sl_slice_t *rec, uint64_t *off, sl_err_t *err)
{
	if (r->ended)
		return SL_NOTFOUND;
	if (r->pos == r->size) {
		r->tail.valid_end = r->pos;
		r->ended = true;
		return SL_NOTFOUND;
	}
	uint32_t len = 0;
	const char *why = NULL;
	int rc = wal_reader_probe(r, r->pos, &len, &why, err);
	if (rc == SL_NOTFOUND)
		return wal_reader_classify(r, r->pos, why, err);
	if (rc != SL_OK)
		return rc;
	/* probe left the payload in the window. */
	uint64_t start = r->pos + WAL_RECORD_HEADER_BYTES;
	*rec = sl_slice(r->window.data + (start - r->win_off), len);
	if (off != NULL)
		*off = r->pos;
	r->pos = start + len;
	return SL_OK;
}

const wal_tail_t *wal_reader_tail(const wal_reader_t *r)
{
	return &r->tail;
}

void wal_reader_close(wal_reader_t *r)
{
	if (r == NULL)
		return;
	env_close(r->file, NULL);
	buf_free(&r->window);
	free(r);
}
