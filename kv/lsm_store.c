/* lsm_store.c — the store interface over the LSM tree (see lsm_store.h). */
#include "kv/lsm_store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ls_store {
	store_t base;      /* must be first */
	store_home_t home; /* directory, env, lock */
	lsm_t *db;
	lsm_policy_t policy;
} ls_store_t;

static ls_store_t *ls_of(store_t *s) { return (ls_store_t *)s; }

lsm_t *lsm_store_db(store_t *s) { return ls_of(s)->db; }

/* "64k", "8M", "1g" or a plain number of bytes, up to max. */
static bool ls_parse_bytes(const char *text, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (end == text || errno != 0 || text[0] == '-')
		return false;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if (*end != '\0' || v > (max >> shift))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

static bool ls_parse_switch(const char *text, bool *out)
{
	if (strcmp(text, "on") == 0 || strcmp(text, "1") == 0)
		*out = true;
	else if (strcmp(text, "off") == 0 || strcmp(text, "0") == 0)
		*out = false;
	else
		return false;
	return true;
}

int lsm_store_opts(const store_opts_t *opts, lsm_opts_t *o, sl_err_t *err)
{
	*o = (lsm_opts_t){ .sync = opts->sync, .batch_ms = opts->batch_ms,
			   .cache_bytes = opts->cache_bytes, .create = !opts->no_create,
			   .read_only = opts->read_only };
	char v[64];
	/* Sizes: name, field, smallest and largest accepted. */
	const struct { const char *name; uint64_t *field; uint64_t lo, hi; } sizes[] = {
		{ "memtable", &o->memtable_bytes, 4096, UINT64_C(1) << 32 },
		{ "file", &o->file_bytes, 4096, UINT64_C(1) << 32 },
		{ "level1", &o->level1_bytes, 4096, UINT64_C(1) << 40 },
	};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		if (store_opts_param(opts, sizes[i].name, v, sizeof v) &&
		    (!ls_parse_bytes(v, sizes[i].hi, sizes[i].field) || *sizes[i].field < sizes[i].lo))
			return sl_errf(err, SL_INVALID, "lsm: %s=%s: expected bytes from %" PRIu64
				       " to %" PRIu64 " (k, m, g suffixes)", sizes[i].name, v,
				       sizes[i].lo, sizes[i].hi);
	const struct { const char *name; uint32_t *field; uint32_t lo, hi; } nums[] = {
		{ "ratio", &o->ratio, 2, 1000 },          { "tier_runs", &o->tier_runs, 2, 64 },
		{ "l0_trigger", &o->l0_trigger, 1, 1000 }, { "l0_slowdown", &o->l0_slowdown, 1, 1000 },
		{ "l0_stop", &o->l0_stop, 1, 1000 },       { "block", &o->block_bytes, 256, 1u << 20 },
		{ "bloom_bits", &o->bloom_bits, 0, 64 },  { "compress_min", &o->compress_min_pct, 1, 99 },
	};
	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
		uint64_t n;
		if (store_opts_param(opts, nums[i].name, v, sizeof v) &&
		    (!ls_parse_bytes(v, nums[i].hi, &n) || n < nums[i].lo))
			return sl_errf(err, SL_INVALID, "lsm: %s=%s: expected a number from %u to %u",
				       nums[i].name, v, nums[i].lo, nums[i].hi);
		else if (store_opts_param(opts, nums[i].name, v, sizeof v))
			*nums[i].field = (uint32_t)n;
	}
	if (store_opts_param(opts, "bloom_bits", v, sizeof v) && o->bloom_bits == 0)
		o->no_bloom = true;
	if (store_opts_param(opts, "policy", v, sizeof v) && lsm_policy_parse(v, &o->policy) != SL_OK)
		return sl_errf(err, SL_INVALID, "lsm: policy=%s: expected leveled or tiered", v);
	bool on;
	if (store_opts_param(opts, "compress", v, sizeof v)) {
		if (!ls_parse_switch(v, &on))
			return sl_errf(err, SL_INVALID, "lsm: compress=%s: expected on or off", v);
		o->no_compress = !on;
	}
	if (store_opts_param(opts, "deterministic", v, sizeof v) &&
	    !ls_parse_switch(v, &o->deterministic))
		return sl_errf(err, SL_INVALID, "lsm: deterministic=%s: expected on or off", v);
	return SL_OK;
}

static int ls_close(store_t *s)
{
	ls_store_t *b = ls_of(s);
	int rc = lsm_close(b->db, &s->err);
	store_home_close(&b->home);
	free(b);
	return rc;
}

static int ls_open(const char *dir, const store_opts_t *opts, store_t **out, sl_err_t *err)
{
	*out = NULL;
	ls_store_t *b = calloc(1, sizeof *b);
	if (b == NULL)
		return sl_errf(err, SL_NOMEM, "lsm: out of memory");
	store_init_base(&b->base, &lsm_store_ops, opts);
	lsm_opts_t lo;
	int rc = lsm_store_opts(opts, &lo, err);
	lo.trace = &b->base.trace;
	b->policy = lo.policy;
	if (rc == SL_OK)
		rc = store_home_open(&b->home, dir, opts, "lsm", "lsm", err);
	if (rc == SL_OK)
		rc = lsm_open(b->home.env, dir, &lo, &b->db, err);
	if (rc != SL_OK) {
		ls_close(&b->base);
		return rc;
	}
	*out = &b->base;
	return SL_OK;
}

static int ls_put(store_t *s, sl_slice_t k, sl_slice_t v)
{
	return lsm_put(ls_of(s)->db, k, v, &s->err);
}

static int ls_get(store_t *s, sl_slice_t k, buf_t *v)
{
	return lsm_get(ls_of(s)->db, NULL, k, v, &s->err);
}

static int ls_del(store_t *s, sl_slice_t k)
{
	return lsm_del(ls_of(s)->db, k, &s->err);
}

static int ls_write(store_t *s, const batch_t *b)
{
	return lsm_write(ls_of(s)->db, b, &s->err);
}

static int ls_sync(store_t *s)
{
	return lsm_sync(ls_of(s)->db, &s->err);
}

typedef struct ls_iter {
	store_iter_t base; /* must be first */
	lsm_iter_t *it;
} ls_iter_t;

static void ls_iter_publish(ls_iter_t *it)
{
	it->base.valid = lsm_iter_valid(it->it);
	if (it->base.valid) {
		it->base.key = lsm_iter_key(it->it);
		it->base.value = lsm_iter_value(it->it);
	}
	it->base.status = lsm_iter_status(it->it, &it->base.store->err);
}

static int ls_iter_next(store_iter_t *base)
{
	ls_iter_t *it = (ls_iter_t *)base;
	lsm_iter_next(it->it);
	ls_iter_publish(it);
	return base->status;
}

static void ls_iter_close(store_iter_t *base)
{
	ls_iter_t *it = (ls_iter_t *)base;
	lsm_iter_free(it->it);
	free(it);
}

static const store_iter_ops_t ls_iter_ops = { ls_iter_next, ls_iter_close };

static int ls_seek_range(store_t *s, const sl_slice_t *start, const sl_slice_t *end,
			 store_iter_t **out)
{
	ls_iter_t *it = calloc(1, sizeof *it);
	if (it == NULL)
		return sl_errf(&s->err, SL_NOMEM, "lsm: out of memory");
	int rc = lsm_iter_new(ls_of(s)->db, NULL, &it->it, &s->err);
	if (rc != SL_OK) {
		free(it);
		return rc;
	}
	it->base.ops = &ls_iter_ops;
	it->base.store = s;
	lsm_iter_set_end(it->it, end);
	lsm_iter_seek(it->it, start);
	ls_iter_publish(it);
	*out = &it->base;
	return SL_OK;
}

static int ls_seek(store_t *s, const sl_slice_t *start, store_iter_t **out)
{
	return ls_seek_range(s, start, NULL, out);
}

static int ls_stats(store_t *s, stats_list_t *out)
{
	ls_store_t *b = ls_of(s);
	lsm_stats_t st;
	lsm_get_stats(b->db, &st);
	store_home_stats(&b->home, out);
	uint64_t files = 0, compact_written = 0;
	for (int l = 0; l < LSM_LEVELS; l++) {
		files += st.levels[l].files;
		compact_written += st.levels[l].written_bytes;
	}
	stats_list_add(out, "lsm.policy_tiered", b->policy == LSM_TIERED);
	stats_list_add(out, "lsm.files", (double)files);
	stats_list_add(out, "lsm.last_seq", (double)st.last_seq);
	stats_list_add(out, "lsm.memtable_bytes", (double)st.memtable_bytes);
	stats_list_add(out, "lsm.wal_bytes", (double)st.wal_bytes);
	stats_list_add(out, "lsm.table_bytes_written", (double)compact_written);
	stats_list_add(out, "lsm.flushes", (double)st.flushes);
	stats_list_add(out, "lsm.compactions", (double)st.compactions);
	stats_list_add(out, "lsm.trivial_moves", (double)st.trivial_moves);
	stats_list_add(out, "lsm.flushes_in_compaction", (double)st.flushes_in_compaction);
	stats_list_add(out, "lsm.files_per_get", st.gets ? (double)st.get_files / (double)st.gets : 0);
	stats_list_add(out, "lsm.blocks_per_get",
		       st.gets ? (double)st.get_blocks_read / (double)st.gets : 0);
	stats_list_add(out, "lsm.bloom_skips", (double)st.get_filtered);
	uint64_t asked = st.get_filtered + st.get_false_positive;
	stats_list_add(out, "lsm.bloom_false_positive_rate",
		       asked ? (double)st.get_false_positive / (double)asked : 0);
	stats_list_add(out, "lsm.stall_seconds", (double)st.stall_ns / 1e9);
	stats_list_add(out, "lsm.slowdowns", (double)st.slowdowns);
	stats_list_add(out, "lsm.stops", (double)st.stops);
	stats_list_add(out, "lsm.write_groups", (double)st.write_groups);
	stats_list_add(out, "lsm.writes_per_group",
		       st.write_groups ? (double)st.grouped_writes / (double)st.write_groups : 0);
	stats_list_add(out, "lsm.cache_hits", (double)st.cache_hits);
	stats_list_add(out, "lsm.cache_misses", (double)st.cache_misses);
	stats_list_add(out, "lsm.cache_bytes", (double)st.cache_bytes);
	stats_list_add(out, "lsm.snapshots", (double)st.snapshots);
	/* Per level, after the summary: a learner reads the summary first. */
	char name[STATS_NAME_BYTES];
	for (int l = 0; l < LSM_LEVELS; l++) {
		const lsm_level_stats_t *ls = &st.levels[l];
		if (ls->files == 0 && ls->written_bytes == 0)
			continue;
		const struct { const char *what; uint64_t v; } per[] = {
			{ "files", ls->files }, { "runs", ls->runs }, { "bytes", ls->bytes },
			{ "read_bytes", ls->read_bytes }, { "written_bytes", ls->written_bytes },
			{ "compactions", ls->compactions },
		};
		for (size_t i = 0; i < sizeof per / sizeof per[0]; i++) {
			snprintf(name, sizeof name, "lsm.L%d.%s", l, per[i].what);
			stats_list_add(out, name, (double)per[i].v);
		}
		/* Per-level write amplification: bytes written into the level per user byte. */
		uint64_t user = stats_load(&s->counters, STAT_USER_BYTES_WRITTEN);
		snprintf(name, sizeof name, "lsm.L%d.write_amp", l);
		stats_list_add(out, name, user ? (double)ls->written_bytes / (double)user : 0);
	}
	return SL_OK;
}

static int ls_check(store_t *s)
{
	return lsm_check(ls_of(s)->db, &s->err);
}

const store_ops_t lsm_store_ops = {
	.name = "lsm",
	.summary = "log-structured merge tree: WAL + skiplist memtable, SSTables, leveled or "
		   "tiered compaction",
	.caps = STORE_CAN_SCAN | STORE_THREAD_SAFE,
	.max_key_bytes = LSM_MAX_KEY_BYTES,
	.max_value_bytes = LSM_MAX_VALUE_BYTES,
	.params = "memtable file level1 ratio tier_runs l0_trigger l0_slowdown l0_stop block "
		  "bloom_bits compress_min policy compress deterministic",
	.open = ls_open,
	.close = ls_close,
	.put = ls_put,
	.get = ls_get,
	.del = ls_del,
	.write = ls_write,
	.seek = ls_seek,
	.seek_range = ls_seek_range,
	.sync = ls_sync,
	.stats = ls_stats,
	.check = ls_check,
};
