/* oplog.c — check, log, apply, checkpoint (see oplog.h). */
#include "index/oplog.h"

void oplog_init(oplog_t *l, pager_t *pager, oplog_check_fn check, oplog_apply_fn apply,
		void *ctx)
{
	l->pager = pager;
	l->check = check;
	l->apply = apply;
	l->ctx = ctx;
	batch_init(&l->single);
}

void oplog_free(oplog_t *l)
{
	batch_free(&l->single);
}

static int oplog_commit(oplog_t *l, sl_slice_t rep, sl_err_t *err)
{
	int rc = pager_log_append(l->pager, rep.data, rep.len, err);
	if (rc != SL_OK)
		return rc;
	rc = l->apply(l->ctx, rep, err);
	if (rc != SL_OK) {
		pager_set_broken(l->pager); /* logged but half applied: reopening replays it */
		return rc;
	}
	return pager_maybe_checkpoint(l->pager, err);
}

int oplog_put(oplog_t *l, sl_slice_t key, sl_slice_t value, sl_err_t *err)
{
	int rc = l->check(l->ctx, key, value, true, err);
	if (rc != SL_OK)
		return rc;
	batch_clear(&l->single);
	batch_put(&l->single, key, value);
	if (batch_status(&l->single) != SL_OK)
		return sl_errf(err, SL_NOMEM, "%s: out of memory", pager_path(l->pager));
	return oplog_commit(l, batch_bytes(&l->single), err);
}

int oplog_del(oplog_t *l, sl_slice_t key, sl_err_t *err)
{
	int rc = l->check(l->ctx, key, sl_slice(NULL, 0), false, err);
	if (rc != SL_OK)
		return rc;
	batch_clear(&l->single);
	batch_del(&l->single, key);
	if (batch_status(&l->single) != SL_OK)
		return sl_errf(err, SL_NOMEM, "%s: out of memory", pager_path(l->pager));
	return oplog_commit(l, batch_bytes(&l->single), err);
}

int oplog_write(oplog_t *l, const batch_t *b, sl_err_t *err)
{
	batch_reader_t r;
	int rc = batch_reader_init(&r, batch_bytes(b), err);
	int op;
	sl_slice_t k, v;
	while (rc == SL_OK && (rc = batch_reader_next(&r, &op, &k, &v, err)) == SL_OK)
		rc = l->check(l->ctx, k, v, op == BATCH_OP_PUT, err);
	if (rc != SL_NOTFOUND)
		return rc;
	return oplog_commit(l, batch_bytes(b), err);
}
