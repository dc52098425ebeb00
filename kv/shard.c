/* shard.c — the sharded store: its map, routing, scans and batches (see shard.h). */
#include "kv/shard_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/checksum.h"
#include "engine/codec.h"

#define SHARD_DEFAULT_NODES 4
#define SHARD_DEFAULT_SPLIT 100000
#define SHARD_MAP_MAX (16u << 20) /* a map is small; anything bigger is damage */
#define SHARD_INTENT_MAX (1u << 30) /* an intent holds one batch, as a log record does */

/* ---------------------------------------------------------------- nodes */

void shard_node_dir(const shard_store_t *st, uint32_t id, char *out, size_t size)
{
	snprintf(out, size, "%s/shard-%06" PRIu32, st->home.dir, id);
}

int shard_node_open(shard_store_t *st, uint32_t id, store_t **out)
{
	char dir[4200];
	shard_node_dir(st, id, dir, sizeof dir);
	sl_err_t err = { 0 };
	int rc = store_open(st->store_name, dir, &st->node_opts, out, &err);
	if (rc != SL_OK)
		sl_errf(&st->base.err, rc, "shard: node %" PRIu32 ": %s", id, err.msg);
	return rc;
}

int shard_node_err(shard_store_t *st, const shard_node_t *node, int rc)
{
	sl_errf(&st->base.err, rc, "shard: node %" PRIu32 ": %s", node->id,
		store_errmsg(node->store));
	/* A failed disk or fsync ends writing for the whole store, as it does for any
	 * one of ours: the nodes share the disk, and a half-written store must not
	 * keep taking writes on its other nodes as if nothing happened. */
	if ((rc == SL_IO || rc == SL_FULL || rc == SL_READONLY) && !st->failed) {
		st->failed = true;
		snprintf(st->failure, sizeof st->failure, "%s", st->base.err.msg);
	}
	return rc;
}

int shard_may_write(shard_store_t *st)
{
	if (!st->failed)
		return SL_OK;
	return sl_errf(&st->base.err, SL_READONLY, "shard: refusing writes after an earlier "
		       "failure (%s); reopen the store", st->failure);
}

/* ---------------------------------------------------------------- the map */

static void shard_map_encode(const shard_store_t *st, buf_t *out)
{
	const part_t *p = &st->part;
	uint8_t head[32];
	codec_put_u32(head, SHARD_MAP_MAGIC_U32);
	codec_put_u16(head + 4, SHARD_MAP_VERSION);
	head[6] = (uint8_t)p->kind;
	head[7] = st->tidy ? SHARD_MAP_TIDY : 0;
	codec_put_u32(head + 8, p->vnodes);
	codec_put_u32(head + 12, p->pkey);
	codec_put_u32(head + 16, st->next_id);
	codec_put_u32(head + 20, p->n);
	codec_put_u64(head + 24, st->split);
	buf_append(out, head, sizeof head);
	uint8_t len = (uint8_t)strlen(st->store_name);
	buf_append(out, &len, 1);
	buf_append(out, st->store_name, len);
	for (uint32_t i = 0; i < p->n; i++)
		codec_buf_put_u32(out, p->ids[i]);
	for (uint32_t i = 0; p->kind == PART_RANGE && i + 1 < p->n; i++) {
		codec_buf_put_varint(out, p->splits[i].len);
		buf_append(out, p->splits[i].data, p->splits[i].len);
	}
	codec_buf_put_u64(out, checksum_xxh3(out->data, out->len, 0));
}

int shard_map_write(shard_store_t *st)
{
	buf_t map = { 0 };
	shard_map_encode(st, &map);
	char path[4200];
	snprintf(path, sizeof path, "%s/" SHARD_MAP, st->home.dir);
	int rc = buf_ok(&map) ? env_write_atomic(st->home.env, path, map.data, map.len,
						 &st->base.err)
			      : sl_errf(&st->base.err, SL_NOMEM, "shard: out of memory");
	buf_free(&map);
	return rc;
}

static int shard_map_bad(sl_err_t *err, const char *path, const char *what)
{
	return sl_errf(err, SL_CORRUPT, "%s: %s", path, what);
}

/* The ids and split keys after the fixed part; p at the first id. */
static int shard_map_lists(shard_map_t *m, const uint8_t *p, const uint8_t *end,
			   const char *path, sl_err_t *err)
{
	if ((size_t)(end - p) / 4 < m->n)
		return shard_map_bad(err, path, "node list runs past the end");
	m->ids = malloc(m->n * sizeof *m->ids);
	m->splits = calloc(m->n, sizeof *m->splits);
	if (m->ids == NULL || m->splits == NULL)
		return sl_errf(err, SL_NOMEM, "shard: out of memory");
	for (uint32_t i = 0; i < m->n; i++, p += 4)
		m->ids[i] = codec_get_u32(p);
	for (uint32_t i = 0; m->kind == PART_RANGE && i + 1 < m->n; i++) {
		uint64_t len;
		size_t got = codec_get_varint(p, end, &len);
		if (got == 0 || len > (uint64_t)(end - p - got))
			return shard_map_bad(err, path, "a split key runs past the end");
		m->splits[i] = sl_slice(p + got, (size_t)len);
		p += got + len;
	}
	return p == end ? SL_OK : shard_map_bad(err, path, "bytes left over after the split keys");
}

int shard_map_decode(sl_slice_t file, const char *path, shard_map_t *m, sl_err_t *err)
{
	memset(m, 0, sizeof *m);
	const uint8_t *p = file.data;
	if (file.len < 41)
		return shard_map_bad(err, path, "too short for a shard map");
	const uint8_t *end = p + file.len - 8;
	if (codec_get_u64(end) != checksum_xxh3(p, file.len - 8, 0))
		return shard_map_bad(err, path, "checksum mismatch");
	if (codec_get_u32(p) != SHARD_MAP_MAGIC_U32)
		return shard_map_bad(err, path, "not a shard map (bad magic)");
	if (codec_get_u16(p + 4) != SHARD_MAP_VERSION)
		return sl_errf(err, SL_NOTSUP, "%s: shard map version %u; this build reads %u", path,
			       codec_get_u16(p + 4), SHARD_MAP_VERSION);
	m->kind = p[6];
	m->flags = p[7];
	m->vnodes = codec_get_u32(p + 8);
	m->pkey = codec_get_u32(p + 12);
	m->next_id = codec_get_u32(p + 16);
	m->n = codec_get_u32(p + 20);
	m->split = codec_get_u64(p + 24);
	uint8_t len = p[32];
	if (m->kind >= PART_KINDS || m->n == 0 || m->n > PART_MAX_NODES ||
	    len > SHARD_STORE_NAME_MAX || (size_t)(end - p) < 33u + len)
		return shard_map_bad(err, path, "impossible header fields");
	memcpy(m->store, p + 33, len);
	return shard_map_lists(m, p + 33 + len, end, path, err);
}

void shard_map_free(shard_map_t *m)
{
	free(m->ids);
	free(m->splits);
}

/* ---------------------------------------------------------------- params */

typedef struct shard_params {
	uint32_t n, vnodes, pkey;
	part_kind_t kind;
	uint64_t split;
	char store[SHARD_STORE_NAME_MAX + 1];
	bool has_kind, has_store, has_vnodes, has_pkey; /* given explicitly */
} shard_params_t;

static int shard_param_num(const store_opts_t *opts, const char *name, uint64_t lo, uint64_t hi,
			   uint64_t *out, bool *given, sl_err_t *err)
{
	char v[64], *end;
	if (!store_opts_param(opts, name, v, sizeof v))
		return SL_OK;
	unsigned long long x = strtoull(v, &end, 10);
	if (end == v || *end != 0 || v[0] == '-' || x < lo || x > hi)
		return sl_errf(err, SL_INVALID, "shard: %s=%s: expected a number from %" PRIu64
			       " to %" PRIu64, name, v, lo, hi);
	*out = x;
	if (given != NULL)
		*given = true;
	return SL_OK;
}

/* The node store must be one of ours with a disk home: a peer's device figures
 * would be invisible, and a sharded store of sharded stores teaches nothing more. */
static int shard_param_store(const store_opts_t *opts, shard_params_t *sp, sl_err_t *err)
{
	snprintf(sp->store, sizeof sp->store, "lsm");
	char v[64];
	if (!store_opts_param(opts, "store", v, sizeof v))
		return SL_OK;
	const store_ops_t *ops = store_lookup(v);
	if (ops == NULL || (ops->caps & STORE_IS_PEER) || strcmp(v, "shard") == 0 ||
	    strlen(v) > SHARD_STORE_NAME_MAX)
		return sl_errf(err, SL_INVALID, "shard: store=%s: expected lsm, btree, hash or ref",
			       v);
	snprintf(sp->store, sizeof sp->store, "%.*s", SHARD_STORE_NAME_MAX, v);
	sp->has_store = true;
	return SL_OK;
}

static int shard_params_parse(const store_opts_t *opts, shard_params_t *sp, sl_err_t *err)
{
	memset(sp, 0, sizeof *sp);
	sp->kind = PART_RING;
	uint64_t n = SHARD_DEFAULT_NODES, vnodes = PART_DEFAULT_VNODES, pkey = 0, keys = 0;
	uint64_t split = 0;
	char v[64];
	if (store_opts_param(opts, "by", v, sizeof v)) {
		if (part_kind_parse(v, &sp->kind) != SL_OK)
			return sl_errf(err, SL_INVALID, "shard: by=%s: expected mod, ring, jump, "
				       "rendezvous or range", v);
		sp->has_kind = true;
	}
	int rc = shard_param_num(opts, "n", 1, PART_MAX_NODES, &n, NULL, err);
	if (rc == SL_OK)
		rc = shard_param_num(opts, "vnodes", 1, PART_MAX_VNODES, &vnodes, &sp->has_vnodes, err);
	if (rc == SL_OK)
		rc = shard_param_num(opts, "pkey", 0, PART_MAX_PKEY, &pkey, &sp->has_pkey, err);
	if (rc == SL_OK)
		rc = shard_param_num(opts, "split", 2, UINT64_C(1) << 40, &split, NULL, err);
	if (rc == SL_OK)
		rc = shard_param_num(opts, "expected_keys", 0, UINT64_MAX, &keys, NULL, err);
	if (rc == SL_OK)
		rc = shard_param_store(opts, sp, err);
	const store_ops_t *node_ops = store_lookup(sp->store);
	if (rc == SL_OK && sp->kind == PART_RANGE && !(node_ops->caps & STORE_CAN_SCAN))
		rc = sl_errf(err, SL_INVALID, "shard: by=range needs nodes that scan in key order "
			     "(lsm, btree or ref), not %s", sp->store);
	sp->n = (uint32_t)n;
	sp->vnodes = (uint32_t)vnodes;
	sp->pkey = (uint32_t)pkey;
	/* Range: split so that the expected keys end up over about n ranges. */
	sp->split = split ? split : keys / n >= 2 ? keys / n : SHARD_DEFAULT_SPLIT;
	return rc;
}

/* Nodes get the shard store's options, their share of the cache and of the expected keys. */
static void shard_node_opts(shard_store_t *st, const store_opts_t *opts, uint64_t keys)
{
	st->node_opts = *opts;
	st->node_opts.env = st->home.env;
	st->node_opts.no_create = false;
	st->node_opts.cache_bytes = opts->cache_bytes / st->part.n;
	st->node_params[0] = 0;
	if (keys != 0)
		snprintf(st->node_params, sizeof st->node_params, "expected_keys=%" PRIu64,
			 keys / st->part.n + 1);
	st->node_opts.params = st->node_params;
}

/* ---------------------------------------------------------------- open and close */

/* A map that exists must agree with what the caller asked for explicitly. */
static int shard_map_agrees(const shard_map_t *m, const shard_params_t *sp, const char *path,
			    sl_err_t *err)
{
	if (sp->has_kind && m->kind != sp->kind)
		return sl_errf(err, SL_INVALID, "%s: the store is partitioned by %s, not by %s",
			       path, part_kind_name(m->kind), part_kind_name(sp->kind));
	if (sp->has_store && strcmp(m->store, sp->store) != 0)
		return sl_errf(err, SL_INVALID, "%s: the nodes are %s stores, not %s", path,
			       m->store, sp->store);
	if ((sp->has_vnodes && m->vnodes != sp->vnodes) || (sp->has_pkey && m->pkey != sp->pkey))
		return sl_errf(err, SL_INVALID, "%s: made with vnodes=%" PRIu32 " pkey=%" PRIu32
			       "; they cannot change", path, m->vnodes, m->pkey);
	return SL_OK;
}

/* Reads shard.map into st; SL_NOTFOUND when there is none. */
static int shard_map_load(shard_store_t *st, const shard_params_t *sp, sl_err_t *err)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/" SHARD_MAP, st->home.dir);
	buf_t bytes = BUF_INIT;
	int rc = env_read_all(st->home.env, path, SHARD_MAP_MAX, &bytes, err);
	if (rc != SL_OK) {
		buf_free(&bytes);
		return rc;
	}
	shard_map_t m;
	rc = shard_map_decode(buf_slice(&bytes), path, &m, err);
	if (rc == SL_OK)
		rc = shard_map_agrees(&m, sp, path, err);
	if (rc == SL_OK) {
		rc = part_init(&st->part, m.kind, m.ids, m.n, m.splits, m.vnodes, m.pkey, err);
		if (rc == SL_CORRUPT || rc == SL_INVALID)
			rc = sl_errf(err, SL_CORRUPT, "%s: %s", path, err->msg);
		snprintf(st->store_name, sizeof st->store_name, "%s", m.store);
		st->next_id = m.next_id;
		st->split = m.split;
		st->tidy = (m.flags & SHARD_MAP_TIDY) != 0;
	}
	if (rc == SL_OK && store_lookup(st->store_name) == NULL)
		rc = sl_errf(err, SL_NOTSUP, "%s: the nodes are %s stores, which this build lacks",
			     path, st->store_name);
	shard_map_free(&m);
	buf_free(&bytes);
	return rc;
}

/* A new store: n nodes (range: one, which splits as it grows), and its map. */
static int shard_map_create(shard_store_t *st, const shard_params_t *sp, sl_err_t *err)
{
	uint32_t n = sp->kind == PART_RANGE ? 1 : sp->n;
	uint32_t *ids = malloc(n * sizeof *ids);
	if (ids == NULL)
		return sl_errf(err, SL_NOMEM, "shard: out of memory");
	for (uint32_t i = 0; i < n; i++)
		ids[i] = i;
	int rc = part_init(&st->part, sp->kind, ids, n, NULL, sp->vnodes, sp->pkey, err);
	free(ids);
	snprintf(st->store_name, sizeof st->store_name, "%s", sp->store);
	st->next_id = n;
	st->split = sp->split;
	if (rc == SL_OK && (rc = shard_map_write(st)) != SL_OK)
		*err = st->base.err;
	return rc;
}

static int shard_close(store_t *s);

static int shard_nodes_open(shard_store_t *st, sl_err_t *err)
{
	st->nodes = calloc(st->part.n, sizeof *st->nodes);
	if (st->nodes == NULL)
		return sl_errf(err, SL_NOMEM, "shard: out of memory");
	for (uint32_t i = 0; i < st->part.n; i++) {
		st->nodes[i].id = st->part.ids[i];
		st->nodes[i].count_at = st->split;
		int rc = shard_node_open(st, st->part.ids[i], &st->nodes[i].store);
		if (rc != SL_OK) {
			*err = st->base.err;
			return rc;
		}
	}
	return SL_OK;
}

static int shard_intent_replay(shard_store_t *st);

/* What an open must finish: a batch across nodes, then a move. */
static int shard_recover(shard_store_t *st, sl_err_t *err)
{
	int rc = shard_intent_replay(st);
	if (rc == SL_OK && st->tidy && !st->base.read_only)
		rc = shard_tidy(st);
	if (rc != SL_OK)
		*err = st->base.err;
	return rc;
}

static int shard_open(const char *dir, const store_opts_t *opts, store_t **out, sl_err_t *err)
{
	*out = NULL;
	shard_store_t *st = calloc(1, sizeof *st);
	if (st == NULL)
		return sl_errf(err, SL_NOMEM, "shard: out of memory");
	store_init_base(&st->base, &shard_store_ops, opts);
	st->base.read_only = opts->read_only;
	shard_params_t sp;
	uint64_t keys = 0;
	int rc = shard_params_parse(opts, &sp, err);
	if (rc == SL_OK)
		rc = shard_param_num(opts, "expected_keys", 0, UINT64_MAX, &keys, NULL, err);
	if (rc == SL_OK)
		rc = store_home_open(&st->home, dir, opts, "shard", "shard", err);
	if (rc == SL_OK) {
		rc = shard_map_load(st, &sp, err);
		if (rc == SL_NOTFOUND && !opts->no_create && !opts->read_only)
			rc = shard_map_create(st, &sp, err);
	}
	if (rc == SL_OK && !(store_lookup(st->store_name)->caps & STORE_CAN_SCAN))
		st->base.caps_lost = STORE_CAN_SCAN;
	if (rc == SL_OK) {
		shard_node_opts(st, opts, keys);
		rc = shard_nodes_open(st, err);
	}
	if (rc == SL_OK)
		rc = shard_recover(st, err);
	if (rc != SL_OK) {
		shard_close(&st->base);
		return rc;
	}
	*out = &st->base;
	return SL_OK;
}

static int shard_close(store_t *s)
{
	shard_store_t *st = shard_of(s);
	int rc = SL_OK;
	for (uint32_t i = 0; st->nodes != NULL && i < st->part.n; i++) {
		if (st->nodes[i].store == NULL)
			continue;
		int r = store_close(st->nodes[i].store);
		if (r != SL_OK && rc == SL_OK)
			rc = sl_errf(&s->err, r, "shard: closing node %" PRIu32 " failed",
				     st->nodes[i].id);
	}
	free(st->nodes);
	part_free(&st->part);
	store_home_close(&st->home);
	free(st);
	return rc;
}

/* ---------------------------------------------------------------- point operations */

#define SHARD_MAX_KEY 992
#define SHARD_MAX_VALUE (1u << 20)

/* The limits of shard_store_ops, checked before anything is sent to a node. */
static int shard_limits(shard_store_t *st, sl_slice_t key, size_t value_len)
{
	if (key.len > SHARD_MAX_KEY)
		return sl_errf(&st->base.err, SL_INVALID, "shard: key of %zu bytes; at most %u",
			       key.len, SHARD_MAX_KEY);
	if (value_len > SHARD_MAX_VALUE)
		return sl_errf(&st->base.err, SL_INVALID, "shard: value of %zu bytes; at most %u",
			       value_len, SHARD_MAX_VALUE);
	return SL_OK;
}

/* Narration: the node store narrates too, so a trace follows the key into it. */
static void shard_trace_node(shard_store_t *st, shard_node_t *node, const char *what,
			     sl_slice_t key, uint32_t slot)
{
	char shown[64];
	trace_bytes(shown, sizeof shown, key.data, key.len, 24);
	if (strcmp(what, "key") == 0)
		trace_emit_at(&st->base.trace, "shard_route", "shard: key \"%s\" belongs to node %"
			      PRIu32 " (slot %u of %u, by %s: part_slot)", shown, node->id, slot, st->part.n,
			   part_kind_name(st->part.kind));
	else
		trace_emit_at(&st->base.trace, "shard_sub_open", "shard: scan from \"%s\" %s node %"
			      PRIu32 " (slot %u of %u)", shown, what, node->id, slot, st->part.n);
	store_trace(node->store, st->base.trace.fn, st->base.trace.ctx);
}

static shard_node_t *shard_route(shard_store_t *st, sl_slice_t key, uint32_t *slot)
{
	*slot = part_slot(&st->part, key);
	shard_node_t *node = &st->nodes[*slot];
	node->ops++;
	if (trace_on(&st->base.trace))
		shard_trace_node(st, node, "key", key, *slot);
	return node;
}

/* After a write to slot: range partitioning may split that node's range. */
static int shard_wrote(shard_store_t *st, uint32_t slot, uint64_t puts)
{
	if (st->part.kind != PART_RANGE)
		return SL_OK;
	st->nodes[slot].puts += puts;
	return st->nodes[slot].puts >= st->nodes[slot].count_at ? shard_maybe_split(st, slot)
								  : SL_OK;
}

static int shard_get(store_t *s, sl_slice_t key, buf_t *value)
{
	shard_store_t *st = shard_of(s);
	uint32_t slot;
	shard_node_t *node = shard_route(st, key, &slot);
	int rc = store_get(node->store, key, value);
	return rc == SL_OK || rc == SL_NOTFOUND ? rc : shard_node_err(st, node, rc);
}

static int shard_put(store_t *s, sl_slice_t key, sl_slice_t value)
{
	shard_store_t *st = shard_of(s);
	if (shard_may_write(st) != SL_OK)
		return SL_READONLY;
	if (shard_limits(st, key, value.len) != SL_OK)
		return SL_INVALID;
	uint32_t slot;
	shard_node_t *node = shard_route(st, key, &slot);
	int rc = store_put(node->store, key, value);
	return rc == SL_OK ? shard_wrote(st, slot, 1) : shard_node_err(st, node, rc);
}

static int shard_del(store_t *s, sl_slice_t key)
{
	shard_store_t *st = shard_of(s);
	if (shard_may_write(st) != SL_OK)
		return SL_READONLY;
	uint32_t slot;
	shard_node_t *node = shard_route(st, key, &slot);
	int rc = store_del(node->store, key);
	return rc == SL_OK ? SL_OK : shard_node_err(st, node, rc);
}

static int shard_sync(store_t *s)
{
	shard_store_t *st = shard_of(s);
	for (uint32_t i = 0; i < st->part.n; i++) {
		int rc = store_sync(st->nodes[i].store);
		if (rc != SL_OK)
			return shard_node_err(st, &st->nodes[i], rc);
	}
	return SL_OK;
}

/* ---------------------------------------------------------------- batches */

batch_t *shard_batches_new(uint32_t n)
{
	batch_t *b = malloc(n * sizeof *b);
	for (uint32_t i = 0; b != NULL && i < n; i++)
		batch_init(&b[i]);
	return b;
}

/* The batch's operations split by slot: per[slot] (count 0 where none). */
static int shard_batch_split(shard_store_t *st, const batch_t *b, batch_t *per, uint32_t *first,
			     bool *spans)
{
	batch_reader_t r;
	int rc = batch_reader_init(&r, batch_bytes(b), &st->base.err);
	int op;
	sl_slice_t key, value;
	*spans = false;
	*first = UINT32_MAX;
	while (rc == SL_OK && (rc = batch_reader_next(&r, &op, &key, &value, &st->base.err)) == SL_OK) {
		if (shard_limits(st, key, op == BATCH_OP_PUT ? value.len : 0) != SL_OK)
			return SL_INVALID;
		uint32_t slot = part_slot(&st->part, key);
		st->nodes[slot].ops++;
		if (*first == UINT32_MAX)
			*first = slot;
		*spans = *spans || slot != *first;
		if (op == BATCH_OP_PUT)
			batch_put(&per[slot], key, value);
		else
			batch_del(&per[slot], key);
		if (batch_status(&per[slot]) != SL_OK)
			return sl_errf(&st->base.err, SL_NOMEM, "shard: out of memory");
	}
	return rc == SL_NOTFOUND ? SL_OK : rc;
}

/* Applies per-slot batches, then syncs the nodes that took one. */
static int shard_apply_split(shard_store_t *st, batch_t *per, bool sync)
{
	for (uint32_t i = 0; i < st->part.n; i++) {
		if (per[i].count == 0)
			continue;
		int rc = store_write(st->nodes[i].store, &per[i]);
		if (rc == SL_OK && sync)
			rc = store_sync(st->nodes[i].store);
		if (rc != SL_OK)
			return shard_node_err(st, &st->nodes[i], rc);
	}
	return SL_OK;
}

static void shard_intent_path(const shard_store_t *st, char *out, size_t size)
{
	snprintf(out, size, "%s/" SHARD_INTENT, st->home.dir);
}

/* Intent, apply, sync, forget: a batch across nodes, atomic at every sync level. */
static int shard_write_across(shard_store_t *st, const batch_t *b, batch_t *per)
{
	char path[4200];
	shard_intent_path(st, path, sizeof path);
	buf_t intent = { 0 };
	buf_append(&intent, b->rep.data, b->rep.len);
	codec_buf_put_u64(&intent, checksum_xxh3(b->rep.data, b->rep.len, 0));
	int rc = buf_ok(&intent) ? env_write_atomic(st->home.env, path, intent.data, intent.len,
						    &st->base.err)
				 : sl_errf(&st->base.err, SL_NOMEM, "shard: out of memory");
	buf_free(&intent);
	if (rc == SL_IO || rc == SL_FULL) {
		st->failed = true;
		snprintf(st->failure, sizeof st->failure, "%s", st->base.err.msg);
	}
	if (rc == SL_OK)
		rc = shard_apply_split(st, per, true);
	if (rc == SL_OK)
		rc = env_unlink(st->home.env, path, &st->base.err);
	if (rc == SL_OK)
		rc = env_sync_dir(st->home.env, st->home.dir, &st->base.err);
	st->cross_batches++;
	return rc;
}

static int shard_write(store_t *s, const batch_t *b)
{
	shard_store_t *st = shard_of(s);
	if (shard_may_write(st) != SL_OK)
		return SL_READONLY;
	batch_t *per = shard_batches_new(st->part.n);
	if (per == NULL)
		return sl_errf(&s->err, SL_NOMEM, "shard: out of memory");
	uint32_t first;
	bool spans;
	int rc = shard_batch_split(st, b, per, &first, &spans);
	if (rc == SL_OK && first != UINT32_MAX && !spans) {
		rc = store_write(st->nodes[first].store, b);
		rc = rc == SL_OK ? shard_wrote(st, first, b->count)
				 : shard_node_err(st, &st->nodes[first], rc);
	} else if (rc == SL_OK && spans) {
		rc = shard_write_across(st, b, per);
		for (uint32_t i = 0; rc == SL_OK && i < st->part.n; i++)
			if (per[i].count != 0)
				rc = shard_wrote(st, i, per[i].count);
	}
	for (uint32_t i = 0; i < st->part.n; i++)
		batch_free(&per[i]);
	free(per);
	return rc;
}

/* An intent left by a crash: apply it again (idempotent: it was the last write), then drop it. */
static int shard_intent_replay(shard_store_t *st)
{
	char path[4200];
	shard_intent_path(st, path, sizeof path);
	if (!env_exists(path))
		return SL_OK;
	if (st->base.read_only)
		return sl_errf(&st->base.err, SL_BUSY, "%s: a batch across nodes was interrupted; "
			       "open the store once for writing to finish it", path);
	buf_t file = BUF_INIT;
	batch_t b;
	batch_init(&b);
	int rc = env_read_all(st->home.env, path, SHARD_INTENT_MAX, &file, &st->base.err);
	const uint8_t *bytes = file.data;
	size_t got = file.len;
	/* env_write_atomic renamed it into place only once whole and synced: a bad
	 * checksum is damage, not a torn write. */
	if (rc == SL_OK && (got < 12 || codec_get_u64(bytes + got - 8) !=
					       checksum_xxh3(bytes, got - 8, 0)))
		rc = sl_errf(&st->base.err, SL_CORRUPT, "%s: checksum mismatch", path);
	if (rc == SL_OK) {
		buf_set(&b.rep, bytes, got - 8);
		b.count = codec_get_u32(bytes);
		batch_t *per = shard_batches_new(st->part.n);
		uint32_t first;
		bool spans;
		rc = per ? shard_batch_split(st, &b, per, &first, &spans)
			 : sl_errf(&st->base.err, SL_NOMEM, "shard: out of memory");
		if (rc == SL_OK)
			rc = shard_apply_split(st, per, true);
		for (uint32_t i = 0; per != NULL && i < st->part.n; i++)
			batch_free(&per[i]);
		free(per);
	}
	if (rc == SL_OK)
		rc = env_unlink(st->home.env, path, &st->base.err);
	if (rc == SL_OK)
		rc = env_sync_dir(st->home.env, st->home.dir, &st->base.err);
	batch_free(&b);
	buf_free(&file);
	return rc;
}

/* ---------------------------------------------------------------- scans */

/*
 * A scan over the nodes that may hold its keys. Under range partitioning (and
 * a hash scan inside one partition key) the nodes' keys do not interleave, so
 * they are visited one after another, each opened only when the one before is
 * used up. Otherwise every node is opened and the smallest current key of all
 * of them is the next — a k-way merge, by linear search (a heap pays only past
 * a few dozen nodes).
 */
typedef struct shard_iter {
	store_iter_t base;
	shard_store_t *st;
	store_iter_t **subs;   /* merge: one per slot; visit: subs[0] only */
	uint32_t nsubs;
	uint32_t current;      /* merge: the sub holding the current key */
	bool merge;
	uint32_t slot, last;   /* visit: the slot being read and the last one to read */
	buf_t start, end;      /* the scan's bounds, for opening the next slot */
	bool has_start, has_end;
} shard_iter_t;

/* Whether the sub's current key belongs to its slot (false only for a stray
 * copy left by an interrupted move, seen before the open that tidies it). */
static bool shard_iter_owned(const shard_iter_t *it, uint32_t slot, const store_iter_t *sub)
{
	return !it->st->tidy || part_slot(&it->st->part, store_iter_key(sub)) == slot;
}

static int shard_sub_open(shard_iter_t *it, uint32_t slot, store_iter_t **sub)
{
	shard_node_t *node = &it->st->nodes[slot];
	sl_slice_t start = buf_slice(&it->start), end = buf_slice(&it->end), lo, hi;
	bool has_start = it->has_start, has_end = it->has_end, has_lo, has_hi;
	/* Under range partitioning, a node is read only inside its own range: past
	 * it may lie the deleted keys of a range it handed on, which an LSM keeps as
	 * tombstones until a compaction — a scan would wade through them. */
	part_slot_range(&it->st->part, slot, &lo, &has_lo, &hi, &has_hi);
	if (has_lo && (!has_start || sl_slice_cmp(lo, start) > 0)) {
		start = lo;
		has_start = true;
	}
	if (has_hi && (!has_end || sl_slice_cmp(hi, end) < 0)) {
		end = hi;
		has_end = true;
	}
	node->ops++;
	it->st->scan_nodes++;
	if (trace_on(&it->st->base.trace))
		shard_trace_node(it->st, node, it->merge ? "merges" : "visits, in key order,",
				 has_start ? start : sl_slice(NULL, 0), slot);
	int rc = store_scan(node->store, has_start ? &start : NULL, has_end ? &end : NULL, sub);
	while (rc == SL_OK && store_iter_valid(*sub) && !shard_iter_owned(it, slot, *sub))
		rc = store_iter_next(*sub);
	return rc == SL_OK ? SL_OK : shard_node_err(it->st, node, rc);
}

static int shard_iter_settle(shard_iter_t *it, store_iter_t *sub, int rc)
{
	it->base.valid = rc == SL_OK && sub != NULL && store_iter_valid(sub);
	it->base.status = rc;
	if (it->base.valid) {
		it->base.key = store_iter_key(sub);
		it->base.value = store_iter_value(sub);
	}
	return rc;
}

/* Merge: points the iterator at the smallest current key of every sub. */
static int shard_merge_pick(shard_iter_t *it)
{
	store_iter_t *best = NULL;
	for (uint32_t i = 0; i < it->nsubs; i++) {
		store_iter_t *sub = it->subs[i];
		if (store_iter_valid(sub) &&
		    (best == NULL || sl_slice_cmp(store_iter_key(sub), store_iter_key(best)) < 0)) {
			best = sub;
			it->current = i;
		}
	}
	return shard_iter_settle(it, best, SL_OK);
}

/* Visit: moves on to the next slot while the current one is used up. */
static int shard_visit_settle(shard_iter_t *it, int rc)
{
	while (rc == SL_OK && !store_iter_valid(it->subs[0]) && it->slot < it->last) {
		store_iter_close(it->subs[0]);
		it->subs[0] = NULL;
		rc = shard_sub_open(it, ++it->slot, &it->subs[0]);
	}
	return shard_iter_settle(it, it->subs[0], rc);
}

static int shard_iter_next(store_iter_t *base)
{
	shard_iter_t *it = (shard_iter_t *)base;
	uint32_t i = it->merge ? it->current : 0;
	uint32_t slot = it->merge ? i : it->slot;
	int rc;
	do
		rc = store_iter_next(it->subs[i]);
	while (rc == SL_OK && store_iter_valid(it->subs[i]) &&
	       !shard_iter_owned(it, slot, it->subs[i]));
	if (rc != SL_OK)
		return shard_iter_settle(it, NULL, shard_node_err(it->st, &it->st->nodes[slot], rc));
	return it->merge ? shard_merge_pick(it) : shard_visit_settle(it, SL_OK);
}

static void shard_iter_close(store_iter_t *base)
{
	shard_iter_t *it = (shard_iter_t *)base;
	for (uint32_t i = 0; i < it->nsubs; i++)
		store_iter_close(it->subs[i]);
	free(it->subs);
	buf_free(&it->start);
	buf_free(&it->end);
	free(it);
}

static const store_iter_ops_t shard_iter_ops = { shard_iter_next, shard_iter_close };

/* Which slots a scan of [start, end) reads, and whether their keys interleave. */
static void shard_scan_plan(const shard_store_t *st, const sl_slice_t *start,
			    const sl_slice_t *end, shard_iter_t *it)
{
	const part_t *p = &st->part;
	it->merge = false;
	if (p->kind == PART_RANGE) {
		it->slot = start ? part_slot(p, *start) : 0;
		it->last = end ? part_slot(p, *end) : p->n - 1;
	} else if (start != NULL && part_single_owner(p, start, end)) {
		it->slot = it->last = part_slot(p, *start);
	} else {
		it->merge = p->n > 1;
		it->slot = 0;
		it->last = 0;
	}
}

static int shard_seek_range(store_t *s, const sl_slice_t *start, const sl_slice_t *end,
			    store_iter_t **out)
{
	shard_store_t *st = shard_of(s);
	shard_iter_t *it = calloc(1, sizeof *it);
	if (it == NULL)
		return sl_errf(&s->err, SL_NOMEM, "shard: out of memory");
	it->base.ops = &shard_iter_ops;
	it->st = st;
	*out = &it->base;
	shard_scan_plan(st, start, end, it);
	it->has_start = start != NULL;
	it->has_end = end != NULL;
	if (start)
		buf_set(&it->start, start->data, start->len);
	if (end)
		buf_set(&it->end, end->data, end->len);
	it->nsubs = it->merge ? st->part.n : 1;
	it->subs = calloc(it->nsubs, sizeof *it->subs);
	st->scans++;
	if (it->subs == NULL || !buf_ok(&it->start) || !buf_ok(&it->end))
		return shard_iter_settle(it, NULL, sl_errf(&s->err, SL_NOMEM, "shard: out of memory"));
	if (!it->merge)
		return shard_visit_settle(it, shard_sub_open(it, it->slot, &it->subs[0]));
	int rc = SL_OK;
	for (uint32_t i = 0; rc == SL_OK && i < it->nsubs; i++)
		rc = shard_sub_open(it, i, &it->subs[i]);
	return rc == SL_OK ? shard_merge_pick(it) : shard_iter_settle(it, NULL, rc);
}

static int shard_seek(store_t *s, const sl_slice_t *start, store_iter_t **out)
{
	return shard_seek_range(s, start, NULL, out);
}

/* ---------------------------------------------------------------- stats and check */

int shard_node_info(store_t *s, shard_node_info_t *info)
{
	shard_store_t *st = shard_of(s);
	for (uint32_t i = 0; i < st->part.n; i++) {
		shard_median_t m = { 0, UINT64_MAX, BUF_INIT };
		int rc = shard_walk_node(st, i, &m);
		if (rc != SL_OK)
			return rc;
		info[i] = (shard_node_info_t){ st->nodes[i].id, m.count, st->nodes[i].ops };
	}
	return SL_OK;
}

const part_t *shard_partitioner(store_t *s) { return &shard_of(s)->part; }

/* max / mean of the operations sent to each node (1 = perfectly even). */
static double shard_ops_skew(const shard_store_t *st)
{
	uint64_t max = 0, sum = 0;
	for (uint32_t i = 0; i < st->part.n; i++) {
		sum += st->nodes[i].ops;
		max = st->nodes[i].ops > max ? st->nodes[i].ops : max;
	}
	return sum ? (double)max * st->part.n / (double)sum : 0;
}

static int shard_stats(store_t *s, stats_list_t *out)
{
	shard_store_t *st = shard_of(s);
	env_counters_t io;
	env_counters(st->home.env, &io);
	uint64_t disk = 0;
	env_dir_bytes(st->home.dir, &disk, NULL);
	for (uint32_t i = 0; i < st->part.n; i++) {
		stats_list_t l = STATS_LIST_INIT;
		double v = 0;
		store_stats(st->nodes[i].store, &l);
		disk += stats_list_get(&l, "disk_bytes", &v) ? (uint64_t)v : 0;
		stats_list_free(&l);
	}
	stats_add_device(out, &io, disk, 0);
	stats_list_add(out, "shard.nodes", st->part.n);
	stats_list_add(out, "shard.ops_max_over_mean", shard_ops_skew(st));
	stats_list_add(out, "shard.nodes_per_scan",
		       st->scans ? (double)st->scan_nodes / (double)st->scans : 0);
	stats_list_add(out, "shard.cross_node_batches", (double)st->cross_batches);
	stats_list_add(out, "shard.moves", (double)st->moves);
	stats_list_add(out, "shard.keys_moved", (double)st->keys_moved);
	stats_list_add(out, "shard.bytes_moved", (double)st->bytes_moved);
	stats_list_add(out, "shard.range_splits", (double)st->splits);
	return SL_OK;
}

/* What shard_check_key found: the first key its node does not own. */
typedef struct shard_check_ctx {
	const part_t *part;
	uint32_t id, owner;
	size_t key_len;
} shard_check_ctx_t;

static int shard_check_key(void *ctx, sl_slice_t key, sl_slice_t value)
{
	(void)value;
	shard_check_ctx_t *c = ctx;
	c->owner = part_owner(c->part, key);
	c->key_len = key.len;
	return c->owner == c->id ? SL_OK : SL_CORRUPT;
}

/* Every node checks out, and (outside a move) holds only keys the map says it owns. */
static int shard_check(store_t *s)
{
	shard_store_t *st = shard_of(s);
	for (uint32_t i = 0; i < st->part.n; i++) {
		shard_node_t *node = &st->nodes[i];
		shard_check_ctx_t c = { &st->part, node->id, 0, 0 };
		int rc = store_check(node->store);
		if (rc != SL_OK)
			return shard_node_err(st, node, rc);
		rc = st->tidy ? SL_OK : store_each(node->store, shard_check_key, &c);
		if (rc == SL_CORRUPT && c.owner != c.id)
			return sl_errf(&s->err, SL_CORRUPT, "shard: node %" PRIu32 " holds a key of "
				       "%zu bytes that node %" PRIu32 " owns", node->id, c.key_len,
				       c.owner);
		if (rc != SL_OK)
			return shard_node_err(st, node, rc);
	}
	return SL_OK;
}

const store_ops_t shard_store_ops = {
	.name = "shard",
	.summary = "keys partitioned over N stores of the kit (mod, ring, jump, rendezvous, range)",
	.caps = STORE_CAN_SCAN | STORE_BY_NAME,
	/* The tightest limits of the node kinds (hash's keys, the paged stores' values),
	 * so that every shard spec takes the same keys and values. */
	.max_key_bytes = SHARD_MAX_KEY,
	.max_value_bytes = SHARD_MAX_VALUE,
	.params = "n by store vnodes pkey split",
	.open = shard_open,
	.close = shard_close,
	.put = shard_put,
	.get = shard_get,
	.del = shard_del,
	.write = shard_write,
	.seek = shard_seek,
	.seek_range = shard_seek_range,
	.sync = shard_sync,
	.stats = shard_stats,
	.check = shard_check,
};
