/*
 * batch.h — a group of puts and deletes applied atomically.
 *
 * A batch is kept in its encoded form from the start: the same bytes are what a
 * store appends to its write-ahead log as one record, so applying a batch
 * atomically is "one log record, then apply it", and replaying the log after a
 * crash decodes exactly what was written.
 *
 * Encoding (also the log payload of the ref and LSM stores):
 *
 *   count (u32, little-endian)
 *   then count operations:
 *     put:  0x01 | key_len (varint) | key | value_len (varint) | value
 *     del:  0x02 | key_len (varint) | key
 *
 *   Example: put("a","1"), del("b") =
 *     02 00 00 00  01 01 'a' 01 '1'  02 01 'b'
 *
 * Operations apply in order, so a later put of the same key wins.
 */
#ifndef SL_BATCH_H
#define SL_BATCH_H

#include <stdint.h>

#include "engine/buf.h"
#include "engine/slice.h"
#include "engine/status.h"

#define BATCH_OP_PUT 1 /* on disk — never renumber */
#define BATCH_OP_DEL 2

typedef struct batch {
	buf_t rep;      /* the encoding above */
	uint32_t count; /* operations, mirrored in rep's first 4 bytes */
} batch_t;

void batch_init(batch_t *b);
void batch_put(batch_t *b, sl_slice_t key, sl_slice_t value);
void batch_del(batch_t *b, sl_slice_t key);
void batch_clear(batch_t *b);
void batch_free(batch_t *b);

/* SL_OK, or SL_NOMEM when an append could not grow the encoding. */
static inline int batch_status(const batch_t *b) { return buf_ok(&b->rep) ? SL_OK : SL_NOMEM; }
static inline sl_slice_t batch_bytes(const batch_t *b) { return buf_slice(&b->rep); }

typedef struct batch_reader {
	const uint8_t *p;   /* next operation */
	const uint8_t *end; /* end of the encoding */
	uint32_t left;      /* operations still to read */
} batch_reader_t;

/* Starts reading an encoded batch; SL_CORRUPT if it is too short for its count. */
int batch_reader_init(batch_reader_t *r, sl_slice_t rep, sl_err_t *err);

/*
 * Reads the next operation: SL_OK with *op, *key and (for puts) *value pointing
 * into the encoding; SL_NOTFOUND after the last; SL_CORRUPT when the bytes do
 * not decode or are left over.
 */
int batch_reader_next(batch_reader_t *r, int *op, sl_slice_t *key, sl_slice_t *value,
		      sl_err_t *err);

#endif
