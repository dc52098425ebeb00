/* batch.c — encoding and decoding of write batches (see batch.h). */
#include "engine/batch.h"

#include "engine/codec.h"

void batch_init(batch_t *b)
{
	buf_t empty = BUF_INIT;
	b->rep = empty;
	b->count = 0;
	buf_extend(&b->rep, 4);
}

static void batch_set_count(batch_t *b, uint32_t count)
{
	b->count = count;
	if (b->rep.len >= 4)
		codec_put_u32(b->rep.data, count);
}

void batch_put(batch_t *b, sl_slice_t key, sl_slice_t value)
{
	uint8_t op = BATCH_OP_PUT;
	buf_append(&b->rep, &op, 1);
	codec_buf_put_varint(&b->rep, key.len);
	buf_append(&b->rep, key.data, key.len);
	codec_buf_put_varint(&b->rep, value.len);
	buf_append(&b->rep, value.data, value.len);
	batch_set_count(b, b->count + 1);
}

void batch_del(batch_t *b, sl_slice_t key)
{
	uint8_t op = BATCH_OP_DEL;
	buf_append(&b->rep, &op, 1);
	codec_buf_put_varint(&b->rep, key.len);
	buf_append(&b->rep, key.data, key.len);
	batch_set_count(b, b->count + 1);
}

void batch_clear(batch_t *b)
{
	buf_clear(&b->rep);
	buf_extend(&b->rep, 4);
	b->count = 0;
}

void batch_free(batch_t *b)
{
	buf_free(&b->rep);
	b->count = 0;
}

int batch_reader_init(batch_reader_t *r, sl_slice_t rep, sl_err_t *err)
{
	if (rep.len < 4)
		return sl_errf(err, SL_CORRUPT, "batch of %zu bytes lacks its count", rep.len);
	r->p = rep.data + 4;
	r->end = rep.data + rep.len;
	r->left = codec_get_u32(rep.data);
	/* Every operation takes at least two bytes: a cheap sanity bound on count. */
	if (r->left > (rep.len - 4) / 2)
		return sl_errf(err, SL_CORRUPT, "batch claims %u operations in %zu bytes", r->left,
			       rep.len);
	return SL_OK;
}

/* Reads a varint length and that many bytes into *out. */
static bool batch_read_bytes(batch_reader_t *r, sl_slice_t *out)
{
	uint64_t len;
	size_t n = codec_get_varint(r->p, r->end, &len);
	if (n == 0 || len > (uint64_t)(r->end - r->p) - n)
		return false;
	*out = sl_slice(r->p + n, (size_t)len);
	r->p += n + len;
	return true;
}

int batch_reader_next(batch_reader_t *r, int *op, sl_slice_t *key, sl_slice_t *value,
		      sl_err_t *err)
{
	if (r->left == 0) {
		if (r->p != r->end)
			return sl_errf(err, SL_CORRUPT, "batch has %zu bytes after its last operation",
				       (size_t)(r->end - r->p));
		return SL_NOTFOUND;
	}
	if (r->p >= r->end)
		return sl_errf(err, SL_CORRUPT, "batch ends with %u operations missing", r->left);
	*op = *r->p++;
	*value = sl_slice(NULL, 0);
	bool ok = batch_read_bytes(r, key);
	if (ok && *op == BATCH_OP_PUT)
		ok = batch_read_bytes(r, value);
	else if (ok && *op != BATCH_OP_DEL)
		return sl_errf(err, SL_CORRUPT, "batch operation code %d unknown", *op);
	if (!ok)
		return sl_errf(err, SL_CORRUPT, "batch operation runs past the end");
	r->left--;
	return SL_OK;
}
