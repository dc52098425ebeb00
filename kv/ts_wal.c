/* ts_wal.c — the time-series store's log records (format in ts_wal.h). */
#include "kv/ts_wal.h"

#include <string.h>

#include "engine/codec.h"

void ts_wal_rec_reset(ts_wal_rec_t *r)
{
	buf_clear(&r->defs);
	buf_clear(&r->pts);
	r->ndefs = r->npts = 0;
	r->prev_ts = 0;
}

void ts_wal_rec_free(ts_wal_rec_t *r)
{
	buf_free(&r->defs);
	buf_free(&r->pts);
	memset(r, 0, sizeof *r);
}

void ts_wal_rec_def(ts_wal_rec_t *r, uint32_t ref, sl_slice_t name)
{
	codec_buf_put_varint(&r->defs, ref);
	codec_buf_put_varint(&r->defs, name.len);
	buf_append(&r->defs, name.data, name.len);
	r->ndefs++;
}

void ts_wal_rec_point(ts_wal_rec_t *r, uint32_t ref, int64_t ts, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, 8);
	codec_buf_put_varint(&r->pts, ref);
	codec_buf_put_varint(&r->pts, codec_zigzag((int64_t)((uint64_t)ts - (uint64_t)r->prev_ts)));
	codec_buf_put_u64(&r->pts, bits);
	r->prev_ts = ts;
	r->npts++;
}

int ts_wal_rec_finish(ts_wal_rec_t *r, buf_t *out, sl_err_t *err)
{
	buf_clear(out);
	codec_buf_put_varint(out, r->ndefs);
	buf_append(out, r->defs.data, r->defs.len);
	codec_buf_put_varint(out, r->npts);
	buf_append(out, r->pts.data, r->pts.len);
	if (!buf_ok(out) || !buf_ok(&r->defs) || !buf_ok(&r->pts))
		return sl_errf(err, SL_NOMEM, "ts log record: out of memory");
	return SL_OK;
}

static int ts_wal_bad(const uint8_t *p, const uint8_t *start, const char *what, sl_err_t *err)
{
	return sl_errf(err, SL_CORRUPT, "ts log record: %s at byte %zu", what, (size_t)(p - start));
}

/* A varint no larger than max, or false. */
static bool ts_wal_varint(const uint8_t **p, const uint8_t *end, uint64_t max, uint64_t *v)
{
	size_t k = codec_get_varint(*p, end, v);
	if (k == 0 || *v > max)
		return false;
	*p += k;
	return true;
}

int ts_wal_decode(sl_slice_t rec, const ts_wal_visitor_t *v, sl_err_t *err)
{
	const uint8_t *p = rec.data, *end = p + rec.len, *start = p;
	uint64_t n, ref, len, z;
	if (!ts_wal_varint(&p, end, (uint64_t)(end - p), &n))
		return ts_wal_bad(p, start, "bad count of series", err);
	for (uint64_t i = 0; i < n; i++) {
		if (!ts_wal_varint(&p, end, UINT32_MAX, &ref) || !ts_wal_varint(&p, end, UINT64_MAX, &len) ||
		    len > (uint64_t)(end - p)) /* the name must fit in what follows its length */
			return ts_wal_bad(p, start, "bad series entry", err);
		int rc = v->def(v->ctx, (uint32_t)ref, sl_slice(p, (size_t)len), err);
		if (rc != SL_OK)
			return rc;
		p += len;
	}
	if (!ts_wal_varint(&p, end, (uint64_t)(end - p), &n))
		return ts_wal_bad(p, start, "bad count of points", err);
	int64_t ts = 0;
	for (uint64_t i = 0; i < n; i++) {
		if (!ts_wal_varint(&p, end, UINT32_MAX, &ref) || !ts_wal_varint(&p, end, UINT64_MAX, &z) ||
		    end - p < 8)
			return ts_wal_bad(p, start, "bad point", err);
		ts = (int64_t)((uint64_t)ts + (uint64_t)codec_unzigzag(z));
		uint64_t bits = codec_get_u64(p);
		double val;
		memcpy(&val, &bits, 8);
		p += 8;
		int rc = v->point(v->ctx, (uint32_t)ref, ts, val, err);
		if (rc != SL_OK)
			return rc;
	}
	if (p != end)
		return ts_wal_bad(p, start, "bytes after the last point", err);
	return SL_OK;
}
