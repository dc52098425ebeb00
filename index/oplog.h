/*
 * oplog.h — the logged write path the paged indexes share.
 *
 * Every put, delete or batch of the B+tree and the hash index takes the same
 * steps: check each key and value against the index's limits (so a refused
 * write changes nothing), log the encoded batch with the pager (that record is
 * the commit), apply it to the pages, and checkpoint when the pager says it is
 * due. If applying fails half way, the pager is marked broken: it refuses
 * further writes and writes nothing home, so reopening replays the logged batch
 * onto the last checkpoint. Only "check" and "apply" differ between indexes,
 * so they are passed in.
 */
#ifndef SL_OPLOG_H
#define SL_OPLOG_H

#include <stdbool.h>

#include "engine/batch.h"
#include "engine/pager.h"
#include "engine/slice.h"
#include "engine/status.h"

typedef int (*oplog_check_fn)(void *ctx, sl_slice_t key, sl_slice_t value, bool put,
			      sl_err_t *err);
typedef int (*oplog_apply_fn)(void *ctx, sl_slice_t batch, sl_err_t *err);

typedef struct oplog {
	pager_t *pager;        /* the log and the pages */
	oplog_check_fn check;  /* the index's limits */
	oplog_apply_fn apply;  /* applies an encoded batch to the pages */
	void *ctx;             /* the index, passed back to both */
	batch_t single;        /* encoding of a single put or delete */
} oplog_t;

void oplog_init(oplog_t *l, pager_t *pager, oplog_check_fn check, oplog_apply_fn apply,
		void *ctx);
void oplog_free(oplog_t *l);

int oplog_put(oplog_t *l, sl_slice_t key, sl_slice_t value, sl_err_t *err);
int oplog_del(oplog_t *l, sl_slice_t key, sl_err_t *err);
int oplog_write(oplog_t *l, const batch_t *b, sl_err_t *err);

#endif
