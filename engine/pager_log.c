/* pager_log.c — the operation log, checkpoints and recovery (see pager.h). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/codec.h"
#include "engine/pager_int.h"

static int pager_refuse(pager_t *p, sl_err_t *err)
{
	return sl_errf(err, SL_READONLY, "%s: an earlier log or checkpoint write failed; reopen "
		       "to recover", env_path(p->file));
}

/* Sync level batch: the log's own timer fsyncs it every batch_ms (wal_sync_every). */
static int pager_log_timer(pager_t *p, sl_err_t *err)
{
	return p->sync == SL_SYNC_BATCH ? wal_sync_every(p->log, p->batch_ms, err) : SL_OK;
}

int pager_log_open(pager_t *p, const char *path, sl_err_t *err)
{
	/* The log is opened for appending by pager_replay, after reading it. */
	char name[4200];
	snprintf(name, sizeof name, "%s-log", path);
	int rc = SL_OK;
	if (!env_exists(name) && !p->read_only) {
		rc = wal_create(p->env, name, &p->log, err);
		if (rc == SL_OK)
			rc = pager_log_timer(p, err);
	}
	return rc;
}

void pager_log_close(pager_t *p, bool clean)
{
	wal_close(p->log, NULL);
	p->log = NULL;
	pager_dwb_close(p, clean);
	buf_free(&p->record);
}

/* ---------------------------------------------------------------- appending */

int pager_log_append(pager_t *p, const void *op, size_t len, sl_err_t *err)
{
	if (p->read_only)
		return sl_errf(err, SL_READONLY, "%s: opened read-only", env_path(p->file));
	assert(p->logged && p->log != NULL);
	if (p->broken)
		return pager_refuse(p, err);
	uint8_t head[9];
	head[0] = PAGER_LOG_OP;
	codec_put_u64(head + 1, p->seq + 1);
	buf_set(&p->record, head, sizeof head);
	buf_append(&p->record, op, len);
	if (!buf_ok(&p->record))
		return sl_errf(err, SL_NOMEM, "%s: out of memory logging an operation",
			       env_path(p->file));
	int rc = wal_append(p->log, p->record.data, p->record.len, p->sync == SL_SYNC_ALWAYS, err);
	if (rc != SL_OK) {
		p->broken = true;
		return rc;
	}
	p->seq++;
	p->stats.log_records++;
	return SL_OK;
}

int pager_log_sync(pager_t *p, sl_err_t *err)
{
	if (p->read_only)
		return SL_OK; /* nothing was written */
	if (!p->logged)
		return pager_flush(p, true, err);
	if (p->broken)
		return pager_refuse(p, err);
	int rc = wal_sync(p->log, err);
	if (rc != SL_OK)
		p->broken = true;
	return rc;
}

/* ---------------------------------------------------------------- replay */

int pager_replay(pager_t *p, pager_apply_fn apply, void *ctx, sl_err_t *err)
{
	if (!p->logged || p->log != NULL) /* a fresh log has nothing to replay */
		return SL_OK;
	char name[4200];
	snprintf(name, sizeof name, "%s-log", env_path(p->file));
	if (p->read_only && !env_exists(name))
		return SL_OK;
	wal_reader_t *r;
	int rc = wal_reader_open(p->env, name, &r, err);
	if (rc != SL_OK)
		return rc;
	sl_slice_t rec;
	uint64_t off;
	while ((rc = wal_reader_next(r, &rec, &off, err)) == SL_OK) {
		if (rec.len < 9 || rec.data[0] != PAGER_LOG_OP) {
			rc = sl_errf(err, SL_CORRUPT, "%s: record at offset %llu is not an operation",
				     name, (unsigned long long)off);
			break;
		}
		uint64_t seq = codec_get_u64(rec.data + 1);
		if (seq <= p->ckpt_seq)
			continue; /* already in the file: logged before the last checkpoint */
		rc = apply(ctx, sl_slice(rec.data + 9, rec.len - 9), err);
		if (rc != SL_OK) {
			sl_err_prefix(err, "%s: replaying the operation at offset %llu", name,
				      (unsigned long long)off);
			break;
		}
		p->seq = seq;
		rc = pager_maybe_checkpoint(p, err);
		if (rc != SL_OK)
			break;
	}
	uint64_t end = wal_reader_tail(r)->valid_end;
	wal_reader_close(r);
	if (rc != SL_NOTFOUND)
		return rc;
	if (p->read_only)
		return SL_OK; /* the replayed pages stay in the pool; the log stays as it is */
	rc = wal_open(p->env, name, end, &p->log, err);
	if (rc == SL_OK)
		rc = pager_log_timer(p, err);
	return rc == SL_OK ? pager_checkpoint(p, err) : rc;
}

/* ---------------------------------------------------------------- checkpoints */

/* Step 2: the same pages home, header last, synced. */
static int pager_checkpoint_home(pager_t *p, page_t **dirty, uint32_t n, sl_err_t *err)
{
	int rc = SL_OK;
	for (uint32_t i = 0; i < n && rc == SL_OK; i++)
		rc = pager_write_sealed(p, dirty[i], err); /* sealed in step 1 */
	if (rc == SL_OK)
		rc = env_pwrite(p->file, p->scratch, p->page_size, 0, err); /* encoded in step 1 */
	if (rc == SL_OK)
		rc = env_datasync(p->file, err);
	if (rc == SL_OK) {
		p->header_dirty = false;
		p->stats.page_writes++;
	}
	return rc;
}

int pager_checkpoint(pager_t *p, sl_err_t *err)
{
	if (!p->logged)
		return pager_flush(p, false, err);
	if (p->broken)
		return pager_refuse(p, err);
	if (p->dirty_count == 0 && !p->header_dirty && p->seq == p->ckpt_seq)
		return SL_OK;
	uint32_t n = 0;
	page_t **dirty = pager_dirty_frames(p, &n);
	if (dirty == NULL)
		return sl_errf(err, SL_NOMEM, "%s: out of memory", env_path(p->file));
	/* Step 1: every dirty page and the header into the double-write buffer, synced. */
	int rc = pager_dwb_write(p, dirty, n, err);
	if (rc == SL_OK)
		rc = pager_checkpoint_home(p, dirty, n, err);
	/* Step 3: the buffer has nothing left to repair. No sync: were this write
	 * lost, the next open would copy home pages that home already holds. */
	if (rc == SL_OK)
		rc = pager_dwb_done(p, err);
	/* During replay the log is being read, not yet open: its records up to the
	 * new checkpoint sequence are skipped next time, so it can stay as it is. */
	if (rc == SL_OK && p->log != NULL)
		rc = wal_reset(p->log, err);
	free(dirty);
	if (rc != SL_OK) {
		p->broken = true;
		return rc;
	}
	p->ckpt_seq = p->seq;
	p->stats.checkpoints++;
	return SL_OK;
}

/*
 * The log size that calls for a checkpoint. A checkpoint writes every dirty
 * page twice (double-write buffer, then home); if it came every 256 MiB of log
 * while the dirty pages ran to gigabytes, each byte logged would cost many page
 * bytes written — at 10 M random puts, 13 bytes written per byte put. Letting
 * the log grow as large as the dirty pages keeps that to at most 2 page bytes
 * per logged byte, whatever the store's size. The price is recovery time: a
 * crash replays up to that much log (the dirty pages are bounded by half the
 * pool, which bounds the log too).
 */
static uint64_t pager_log_limit(const pager_t *p)
{
	uint64_t dirty = (uint64_t)p->dirty_count * p->page_size;
	return dirty > p->log_limit ? dirty : p->log_limit;
}

int pager_maybe_checkpoint(pager_t *p, sl_err_t *err)
{
	if (!p->logged)
		return SL_OK;
	bool log_full = p->log != NULL && wal_size(p->log) >= pager_log_limit(p);
	bool pool_dirty = p->dirty_count >= p->maxframes / 2;
	if (p->read_only && pool_dirty)
		return sl_errf(err, SL_FULL, "%s: read-only, the log's changes outgrow half of the "
			       "%u-frame buffer pool (a checkpoint would write them): give a larger "
			       "cache, or open the store once for writing", env_path(p->file),
			       p->maxframes);
	return !p->read_only && (log_full || pool_dirty) ? pager_checkpoint(p, err) : SL_OK;
}

void pager_set_broken(pager_t *p)
{
	p->broken = true;
}

int pager_write_early(pager_t *p, page_t *page, sl_err_t *err)
{
	return pager_write_frame(p, page, err);
}

int pager_sync_file(pager_t *p, sl_err_t *err)
{
	return env_datasync(p->file, err);
}
