/*
 * btree_write.h — the B+tree's internal entry points between btree.c and
 * btree_write.c (the public face is btree.h).
 */
#ifndef SL_BTREE_WRITE_H
#define SL_BTREE_WRITE_H

#include "index/btree_int.h"

/* Applies an encoded batch (engine/batch.h) to the pages, without logging it
 * (ctx is the btree_t; the signature is oplog's). */
int bt_apply_batch(void *ctx, sl_slice_t rep, sl_err_t *err);

/* The limits a put or delete must meet (oplog's check; ctx is the btree_t). */
int bt_check_sizes(void *ctx, sl_slice_t key, sl_slice_t value, bool put, sl_err_t *err);

/* Where a key is or would go: its leaf's slot, and the cell when it is there. */
typedef struct bt_hit {
	uint32_t slot;   /* the first cell whose key is >= the key */
	bool found;      /* that cell holds the key */
	bt_cell_t cell;  /* decoded, when found */
} bt_hit_t;

/* btree.c */
/*
 * The lookup get, insert and delete share: descends to key's leaf (returned
 * pinned, with the path), binary-searches it and decodes the cell when the key
 * is there. On SL_CORRUPT nothing stays pinned.
 */
int bt_locate(btree_t *t, sl_slice_t key, bt_path_t *path, page_t **leaf, bt_hit_t *hit,
	      sl_err_t *err);
int bt_descend(btree_t *t, const sl_slice_t *key, bt_path_t *path, page_t **leaf,
	       sl_err_t *err);
int bt_value_read(btree_t *t, const bt_cell_t *c, buf_t *out, sl_err_t *err);
void bt_meta_changed(btree_t *t);

#endif
