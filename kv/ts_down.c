/* ts_down.c — downsampling to per-interval summaries (see ts_down.h). */
#include "kv/ts_down.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "kv/ts_parse.h"

static const char *const ts_down_parts[TS_DOWN_PARTS_] = { "count", "first", "last", "max",
							     "min",   "rise",  "sum" };

bool ts_down_name(sl_slice_t series, ts_down_part_t part, buf_t *out)
{
	const uint8_t *brace = memchr(series.data, '{', series.len);
	size_t nlen = brace ? (size_t)(brace - series.data) : series.len;
	buf_t text = BUF_INIT;
	buf_append(&text, series.data, nlen);
	buf_append(&text, "{" TS_DOWN_LABEL "=\"", sizeof TS_DOWN_LABEL + 2);
	buf_append(&text, ts_down_parts[part], strlen(ts_down_parts[part]));
	buf_append(&text, "\"", 1);
	if (brace != NULL && series.len - nlen > 2) { /* the labels, after a comma */
		buf_append(&text, ",", 1);
		buf_append(&text, brace + 1, series.len - nlen - 2);
	}
	buf_append(&text, "}", 1);
	char why[TS_WHY_BYTES];
	bool ok = buf_ok(&text) && ts_series_parse(buf_slice(&text), out, why);
	buf_free(&text);
	return ok;
}

bool ts_down_raw(sl_slice_t name, buf_t *out)
{
	static const char mark[] = TS_DOWN_LABEL "=\"";
	const char *s = (const char *)name.data;
	buf_clear(out);
	for (size_t i = 1; i + sizeof mark - 1 < name.len; i++) {
		if ((s[i - 1] != '{' && s[i - 1] != ',') || memcmp(s + i, mark, sizeof mark - 1) != 0)
			continue;
		const char *q = memchr(s + i + sizeof mark - 1, '"', name.len - i - (sizeof mark - 1));
		if (q == NULL)
			return false;
		size_t end = (size_t)(q - s) + 1; /* just past the value's closing quote */
		if (s[i - 1] == '{' && s[end] == '}') { /* the only label: drop the braces */
			buf_append(out, s, i - 1);
		} else if (s[i - 1] == '{') { /* the first: drop it and the comma after it */
			buf_append(out, s, i);
			buf_append(out, s + end + 1, name.len - end - 1);
		} else { /* drop the comma before it */
			buf_append(out, s, i - 1);
			buf_append(out, s + end, name.len - end);
		}
		return buf_ok(out);
	}
	return false;
}

int ts_down_summarize(const ts_point_t *pts, size_t n, int64_t interval, ts_summary_t **out,
		      size_t *nout, sl_err_t *err)
{
	*out = malloc((n + 1) * sizeof **out);
	*nout = 0;
	if (*out == NULL)
		return sl_errf(err, SL_NOMEM, "ts downsampling: out of memory");
	ts_summary_t *s = NULL;
	for (size_t i = 0; i < n; i++) {
		int64_t start = ts_align_down(pts[i].ts, interval);
		double v = pts[i].v;
		if (s == NULL || s->start != start) {
			s = &(*out)[(*nout)++];
			*s = (ts_summary_t){ start, pts[i].ts, pts[i].ts, 1, v, v, v, v, v, 0 };
			continue;
		}
		s->count++;
		s->sum += v;
		s->min = v < s->min ? v : s->min;
		s->max = v > s->max ? v : s->max;
		s->rise += v >= s->last ? v - s->last : v;
		s->last = v;
		s->last_ts = pts[i].ts;
	}
	return SL_OK;
}

/* One summary series to write: its name and points. */
typedef struct ts_down_series {
	buf_t name;
	ts_point_t *pts;
	size_t n;
} ts_down_series_t;

static int ts_down_series_cmp(const void *a, const void *b)
{
	return sl_slice_cmp(buf_slice(&((const ts_down_series_t *)a)->name),
			    buf_slice(&((const ts_down_series_t *)b)->name));
}

/* The seven summary series of one series, appended to out[*n..]. */
static int ts_down_split(sl_slice_t name, const ts_summary_t *s, size_t ns, ts_down_series_t *out,
			 size_t *n, sl_err_t *err)
{
	for (int p = 0; p < TS_DOWN_PARTS_; p++) {
		ts_down_series_t *d = &out[(*n)++];
		memset(d, 0, sizeof *d);
		d->pts = malloc((ns + 1) * sizeof *d->pts);
		if (d->pts == NULL || !ts_down_name(name, (ts_down_part_t)p, &d->name))
			return sl_errf(err, SL_NOMEM, "ts downsampling: out of memory or a bad name");
		for (size_t k = 0; k < ns; k++) {
			const ts_summary_t *x = &s[k];
			static const size_t at[] = { offsetof(ts_summary_t, count), offsetof(ts_summary_t, first),
						     offsetof(ts_summary_t, last), offsetof(ts_summary_t, max),
						     offsetof(ts_summary_t, min), offsetof(ts_summary_t, rise),
						     offsetof(ts_summary_t, sum) };
			int64_t t = p == TS_DOWN_FIRST ? x->first_ts : p == TS_DOWN_LAST ? x->last_ts : x->start;
			double v;
			memcpy(&v, (const char *)x + at[p], sizeof v);
			d->pts[k] = (ts_point_t){ t, v };
		}
		d->n = ns;
	}
	return SL_OK;
}

int ts_down_write(env_t *env, ts_seg_t *from, const char *path, const ts_seg_meta_t *meta,
		  int64_t interval, sl_err_t *err)
{
	uint32_t nser = ts_seg_series_count(from);
	ts_down_series_t *all = calloc((size_t)nser * TS_DOWN_PARTS_ + 1, sizeof *all);
	if (all == NULL)
		return sl_errf(err, SL_NOMEM, "ts downsampling: out of memory");
	size_t n = 0, cap = 0, np;
	ts_point_t *pts = NULL;
	ts_summary_t *s = NULL;
	int rc = SL_OK;
	for (uint32_t i = 0; rc == SL_OK && i < nser; i++) {
		size_t ns;
		np = 0;
		rc = ts_seg_read(from, i, INT64_MIN, INT64_MAX, &pts, &np, &cap, NULL, err);
		if (rc == SL_OK)
			rc = ts_down_summarize(pts, np, interval, &s, &ns, err);
		if (rc == SL_OK && ns > 0)
			rc = ts_down_split(ts_seg_series(from, i), s, ns, all, &n, err);
		free(s);
		s = NULL;
	}
	free(pts);
	qsort(all, n, sizeof *all, ts_down_series_cmp);
	ts_seg_writer_t *w = NULL;
	if (rc == SL_OK)
		rc = ts_seg_writer_open(env, path, meta, &w, err);
	for (size_t k = 0; rc == SL_OK && k < n; k++)
		rc = ts_seg_writer_add(w, buf_slice(&all[k].name), all[k].pts, all[k].n, err);
	if (rc == SL_OK)
		rc = ts_seg_writer_finish(w, err);
	else
		ts_seg_writer_abort(w);
	for (size_t k = 0; k < n; k++) {
		buf_free(&all[k].name);
		free(all[k].pts);
	}
	free(all);
	return rc;
}

int ts_down_read(ts_seg_t *s, uint32_t count_id, int64_t from, int64_t to, ts_summary_t **sums,
		 size_t *n, size_t *cap, sl_err_t *err)
{
	buf_t raw = BUF_INIT, name = BUF_INIT;
	ts_point_t *part[TS_DOWN_PARTS_] = { NULL };
	size_t np[TS_DOWN_PARTS_] = { 0 }, pcap[TS_DOWN_PARTS_] = { 0 };
	int rc = ts_down_raw(ts_seg_series(s, count_id), &raw) ? SL_OK
		 : sl_errf(err, SL_CORRUPT, "%s: a summary series without its label", ts_seg_path(s));
	for (int p = 0; rc == SL_OK && p < TS_DOWN_PARTS_; p++) {
		uint32_t id;
		if (!ts_down_name(buf_slice(&raw), (ts_down_part_t)p, &name) || !ts_seg_find(s, buf_slice(&name), &id))
			rc = sl_errf(err, SL_CORRUPT, "%s: %.*s lacks its %s summary", ts_seg_path(s),
				     (int)raw.len, (const char *)raw.data, ts_down_parts[p]);
		else
			rc = ts_seg_read(s, id, INT64_MIN, INT64_MAX, &part[p], &np[p], &pcap[p], NULL, err);
		if (rc == SL_OK && np[p] != np[0])
			rc = sl_errf(err, SL_CORRUPT, "%s: %.*s has summaries of different lengths",
				     ts_seg_path(s), (int)raw.len, (const char *)raw.data);
	}
	for (size_t k = 0; rc == SL_OK && k < np[0]; k++) {
		int64_t start = part[TS_DOWN_COUNT][k].ts;
		if (start < from || start >= to)
			continue;
		if (*n == *cap) {
			size_t c = *cap ? 2 * *cap : 256;
			ts_summary_t *g = realloc(*sums, c * sizeof *g);
			if (g == NULL) {
				rc = sl_errf(err, SL_NOMEM, "ts downsampling: out of memory");
				break;
			}
			*sums = g;
			*cap = c;
		}
		(*sums)[(*n)++] = (ts_summary_t){
			start, part[TS_DOWN_FIRST][k].ts, part[TS_DOWN_LAST][k].ts,
			part[TS_DOWN_COUNT][k].v, part[TS_DOWN_SUM][k].v, part[TS_DOWN_MIN][k].v,
			part[TS_DOWN_MAX][k].v, part[TS_DOWN_FIRST][k].v, part[TS_DOWN_LAST][k].v,
			part[TS_DOWN_RISE][k].v,
		};
	}
	for (int p = 0; p < TS_DOWN_PARTS_; p++)
		free(part[p]);
	buf_free(&raw);
	buf_free(&name);
	return rc;
}
