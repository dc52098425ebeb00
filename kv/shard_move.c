/*
 * shard_move.c — rebalancing: nodes that join and leave, ranges that split, and
 * the tidying an open does after a move was cut short (the steps are in shard.h).
 */
#include "kv/shard_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHARD_COPY_FLUSH (1u << 20) /* bytes of copies gathered before a write */
#define SHARD_DROP_BATCH 4096       /* deletes per batch */

static double shard_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- dropping keys */

/* The keys a node does not own, gathered into delete batches while it is read. */
typedef struct shard_drop {
	const part_t *part;
	uint32_t slot;
	batch_t *batches;
	size_t n, cap;
} shard_drop_t;

static int shard_drop_key(void *ctx, sl_slice_t key, sl_slice_t value)
{
	(void)value;
	shard_drop_t *d = ctx;
	if (part_slot(d->part, key) == d->slot)
		return SL_OK;
	if (d->n == 0 || d->batches[d->n - 1].count == SHARD_DROP_BATCH) {
		if (d->n == d->cap) {
			size_t cap = d->cap ? d->cap * 2 : 4;
			batch_t *grown = realloc(d->batches, cap * sizeof *grown);
			if (grown == NULL)
				return SL_NOMEM;
			d->batches = grown;
			d->cap = cap;
		}
		batch_init(&d->batches[d->n++]);
	}
	batch_del(&d->batches[d->n - 1], key);
	return batch_status(&d->batches[d->n - 1]);
}

int shard_drop_unowned(shard_store_t *st, uint32_t slot, uint64_t *dropped)
{
	shard_node_t *node = &st->nodes[slot];
	shard_drop_t d = { &st->part, slot, NULL, 0, 0 };
	/* Gathered first and deleted after: a store must not change under its own walk. */
	int rc = store_each(node->store, shard_drop_key, &d);
	for (size_t i = 0; i < d.n; i++) {
		if (rc == SL_OK)
			rc = store_write(node->store, &d.batches[i]);
		*dropped += d.batches[i].count;
		batch_free(&d.batches[i]);
	}
	free(d.batches);
	if (rc == SL_NOMEM)
		return sl_errf(&st->base.err, SL_NOMEM, "shard: out of memory");
	return rc == SL_OK ? SL_OK : shard_node_err(st, node, rc);
}

/* Removes every shard-NNNNNN directory whose node is not in the map. */
static int shard_remove_departed(shard_store_t *st)
{
	char **names = NULL;
	size_t n = 0;
	int rc = env_list_dir(st->home.env, st->home.dir, &names, &n, &st->base.err);
	for (size_t i = 0; rc == SL_OK && i < n; i++) {
		unsigned id;
		char tail;
		if (sscanf(names[i], "shard-%6u%c", &id, &tail) != 1 ||
		    part_slot_of(&st->part, id) >= 0)
			continue;
		char dir[4200];
		shard_node_dir(st, id, dir, sizeof dir);
		rc = env_remove_dir(st->home.env, dir, &st->base.err);
	}
	env_list_free(names, n);
	return rc;
}

static int shard_sync_all(shard_store_t *st)
{
	for (uint32_t i = 0; i < st->part.n; i++) {
		int rc = store_sync(st->nodes[i].store);
		if (rc != SL_OK)
			return shard_node_err(st, &st->nodes[i], rc);
	}
	return SL_OK;
}

/* The end of a move, or of an open after one was cut short: only owned keys stay. */
static int shard_finish(shard_store_t *st, const bool *sources)
{
	uint64_t dropped = 0;
	int rc = SL_OK;
	for (uint32_t i = 0; rc == SL_OK && i < st->part.n; i++)
		if (sources == NULL || sources[i])
			rc = shard_drop_unowned(st, i, &dropped);
	if (rc == SL_OK)
		rc = shard_remove_departed(st);
	if (rc == SL_OK)
		rc = shard_sync_all(st);
	if (rc == SL_OK) {
		st->tidy = false;
		rc = shard_map_write(st);
	}
	return rc;
}

int shard_tidy(shard_store_t *st)
{
	return shard_finish(st, NULL);
}

/* ---------------------------------------------------------------- copying keys */

/* A source node's walk: each key whose owner under `next` is another node is
 * gathered for that node, and written there a megabyte at a time. */
typedef struct shard_copy {
	const part_t *next;
	shard_node_t *to;      /* next's nodes, in next's slot order */
	batch_t *out;          /* copies gathered per slot of next */
	bool *received;        /* per slot of next: took copies (to sync) */
	uint32_t from;         /* the source node's id */
	shard_move_report_t *report;
	store_t *failed;       /* the node whose write failed */
} shard_copy_t;

static int shard_copy_flush(shard_copy_t *c, uint32_t slot)
{
	if (c->out[slot].count == 0)
		return SL_OK;
	int rc = store_write(c->to[slot].store, &c->out[slot]);
	if (rc != SL_OK)
		c->failed = c->to[slot].store;
	batch_clear(&c->out[slot]);
	c->received[slot] = true;
	return rc;
}

static int shard_copy_key(void *ctx, sl_slice_t key, sl_slice_t value)
{
	shard_copy_t *c = ctx;
	c->report->keys_scanned++;
	uint32_t slot = part_slot(c->next, key);
	if (c->next->ids[slot] == c->from)
		return SL_OK;
	batch_put(&c->out[slot], key, value);
	c->report->keys_moved++;
	c->report->bytes_moved += key.len + value.len;
	if (batch_status(&c->out[slot]) != SL_OK)
		return SL_NOMEM;
	return c->out[slot].rep.len >= SHARD_COPY_FLUSH ? shard_copy_flush(c, slot) : SL_OK;
}

/* Step 2: copies, from each source node, the keys `next` gives to another node. */
static int shard_copy_all(shard_store_t *st, const bool *sources, shard_copy_t *c)
{
	int rc = SL_OK;
	for (uint32_t i = 0; rc == SL_OK && i < st->part.n; i++) {
		if (!sources[i])
			continue;
		c->from = st->nodes[i].id;
		rc = store_each(st->nodes[i].store, shard_copy_key, c);
		if (rc != SL_OK && c->failed == NULL)
			c->failed = st->nodes[i].store;
		for (uint32_t j = 0; rc == SL_OK && j < c->next->n; j++)
			rc = shard_copy_flush(c, j);
	}
	for (uint32_t j = 0; rc == SL_OK && j < c->next->n; j++)
		if (c->received[j])
			rc = store_sync(c->to[j].store);
	if (rc == SL_NOMEM)
		return sl_errf(&st->base.err, SL_NOMEM, "shard: out of memory");
	if (rc != SL_OK)
		sl_errf(&st->base.err, rc, "shard: moving keys: %s",
			store_errmsg(c->failed ? c->failed : c->to[0].store));
	return rc;
}

/* next's nodes: the current ones that stay, and newly opened stores for the rest. */
static int shard_nodes_for(shard_store_t *st, const part_t *next, shard_node_t *to)
{
	for (uint32_t j = 0; j < next->n; j++) {
		int k = part_slot_of(&st->part, next->ids[j]);
		if (k >= 0) {
			to[j] = st->nodes[k];
			continue;
		}
		to[j] = (shard_node_t){ .id = next->ids[j], .count_at = st->split };
		int rc = shard_node_open(st, next->ids[j], &to[j].store);
		if (rc != SL_OK)
			return rc;
	}
	return SL_OK;
}

/* Closes the stores of `nodes` that `keep` has no slot for. */
static void shard_close_others(const shard_node_t *nodes, uint32_t n, const part_t *keep)
{
	for (uint32_t j = 0; j < n; j++)
		if (nodes[j].store != NULL && part_slot_of(keep, nodes[j].id) < 0)
			store_close(nodes[j].store);
}

/*
 * Steps 3 and 4: the switch — next becomes the map, durably — then the moved
 * keys leave the sources and departed nodes go. *next is taken over.
 */
static int shard_switch(shard_store_t *st, part_t *next, shard_node_t *to, bool *sources)
{
	/* sources were indexed by the old slots; the same nodes by the new ones. */
	bool *was_source = calloc(next->n, sizeof *was_source);
	if (was_source == NULL)
		return sl_errf(&st->base.err, SL_NOMEM, "shard: out of memory");
	for (uint32_t i = 0; i < st->part.n; i++) {
		int j = part_slot_of(next, st->nodes[i].id);
		if (sources[i] && j >= 0)
			was_source[j] = true;
	}
	shard_node_t *old = st->nodes;
	uint32_t old_n = st->part.n;
	part_free(&st->part);
	st->part = *next;
	memset(next, 0, sizeof *next);
	st->nodes = to;
	shard_close_others(old, old_n, &st->part);
	free(old);
	int rc = shard_map_write(st);
	if (rc == SL_OK)
		rc = shard_finish(st, was_source);
	free(was_source);
	return rc;
}

/*
 * Moves the store from its partitioner to *next (taken over): every key whose
 * owner changes is read from one of the `sources` (per current slot; NULL =
 * every node), copied, switched, deleted — shard.h's four steps.
 */
static int shard_rebalance(shard_store_t *st, part_t *next, const bool *sources,
			   shard_move_report_t *report)
{
	double t0 = shard_now();
	uint32_t next_n = next->n; /* *next is emptied when the switch takes it over */
	shard_node_t *to = calloc(next->n, sizeof *to);
	batch_t *out = shard_batches_new(next->n);
	bool *received = calloc(next->n, sizeof *received);
	bool *from = calloc(st->part.n, sizeof *from);
	int rc = to && out && received && from ? SL_OK
					       : sl_errf(&st->base.err, SL_NOMEM, "shard: out of memory");
	for (uint32_t i = 0; rc == SL_OK && i < st->part.n; i++)
		from[i] = sources == NULL || sources[i];
	st->tidy = true; /* step 1: from here on, an open tidies */
	if (rc == SL_OK)
		rc = shard_map_write(st);
	if (rc == SL_OK)
		rc = shard_nodes_for(st, next, to);
	shard_copy_t c = { next, to, out, received, 0, report, NULL };
	if (rc == SL_OK)
		rc = shard_copy_all(st, from, &c);
	if (rc == SL_OK) {
		rc = shard_switch(st, next, to, from);
		to = NULL;
	} else if (to != NULL) {
		shard_close_others(to, next->n, &st->part); /* the new nodes; the map is unchanged */
	}
	for (uint32_t j = 0; out != NULL && j < next_n; j++)
		batch_free(&out[j]);
	part_free(next);
	free(to);
	free(out);
	free(received);
	free(from);
	st->moves++;
	st->keys_moved += report->keys_moved;
	st->bytes_moved += report->bytes_moved;
	report->seconds = shard_now() - t0;
	return rc;
}

/* ---------------------------------------------------------------- joining and leaving */

static int shard_median_key(void *ctx, sl_slice_t key, sl_slice_t value)
{
	(void)value;
	shard_median_t *m = ctx;
	if (m->count++ == m->target)
		buf_set(&m->key, key.data, key.len);
	return buf_ok(&m->key) ? SL_OK : SL_NOMEM;
}

int shard_walk_node(shard_store_t *st, uint32_t slot, shard_median_t *m)
{
	int rc = store_each(st->nodes[slot].store, shard_median_key, m);
	if (rc == SL_NOMEM)
		return sl_errf(&st->base.err, SL_NOMEM, "shard: out of memory");
	return rc == SL_OK ? SL_OK : shard_node_err(st, &st->nodes[slot], rc);
}

/* Range: splits slot's range at its median key; the upper half goes to a new node. */
static int shard_split(shard_store_t *st, uint32_t slot, uint64_t keys,
		       shard_move_report_t *report)
{
	shard_median_t m = { 0, keys / 2, { 0 } };
	int rc = shard_walk_node(st, slot, &m);
	part_t next;
	bool *sources = calloc(st->part.n, sizeof *sources);
	if (rc == SL_OK && sources == NULL)
		rc = sl_errf(&st->base.err, SL_NOMEM, "shard: out of memory");
	if (rc == SL_OK)
		rc = part_with_node(&st->part, st->next_id, buf_slice(&m.key), &next, &st->base.err);
	if (rc == SL_OK) {
		report->node = st->next_id++;
		sources[slot] = true;
		rc = shard_rebalance(st, &next, sources, report);
		st->splits++;
	}
	free(sources);
	buf_free(&m.key);
	return rc;
}

int shard_maybe_split(shard_store_t *st, uint32_t slot)
{
	shard_median_t m = { 0, UINT64_MAX, { 0 } };
	int rc = shard_walk_node(st, slot, &m);
	if (rc != SL_OK)
		return rc;
	shard_node_t *node = &st->nodes[slot];
	node->puts = 0;
	if (m.count <= st->split) {
		/* Count again once enough puts could have pushed it over (never too often). */
		uint64_t room = st->split - m.count;
		node->count_at = room > st->split / 4 ? room : st->split / 4 + 1;
		return SL_OK;
	}
	shard_move_report_t report = { 0 };
	return shard_split(st, slot, m.count, &report);
}

int shard_add_node(store_t *s, shard_move_report_t *report)
{
	shard_store_t *st = shard_of(s);
	memset(report, 0, sizeof *report);
	if (shard_may_write(st) != SL_OK)
		return SL_READONLY;
	if (s->read_only)
		return sl_errf(&s->err, SL_READONLY, "shard: opened read-only");
	if (st->part.n == PART_MAX_NODES)
		return sl_errf(&s->err, SL_INVALID, "shard: already %u nodes", PART_MAX_NODES);
	if (st->part.kind == PART_RANGE) {
		/* The biggest range is the one to split. */
		uint32_t biggest = 0;
		uint64_t most = 0;
		for (uint32_t i = 0; i < st->part.n; i++) {
			shard_median_t m = { 0, UINT64_MAX, { 0 } };
			int rc = shard_walk_node(st, i, &m);
			if (rc != SL_OK)
				return rc;
			if (m.count > most) {
				most = m.count;
				biggest = i;
			}
		}
		if (most < 2)
			return sl_errf(&s->err, SL_INVALID, "shard: no range holds two keys to split");
		return shard_split(st, biggest, most, report);
	}
	part_t next;
	int rc = part_with_node(&st->part, st->next_id, sl_slice(NULL, 0), &next, &s->err);
	if (rc != SL_OK)
		return rc;
	report->node = st->next_id++;
	return shard_rebalance(st, &next, NULL, report);
}

int shard_remove_node(store_t *s, uint32_t id, shard_move_report_t *report)
{
	shard_store_t *st = shard_of(s);
	memset(report, 0, sizeof *report);
	if (shard_may_write(st) != SL_OK)
		return SL_READONLY;
	report->node = id;
	if (s->read_only)
		return sl_errf(&s->err, SL_READONLY, "shard: opened read-only");
	part_t next;
	int rc = part_without_node(&st->part, id, &next, &s->err);
	if (rc != SL_OK)
		return rc;
	/* Under mod and jump the slots after the leaver renumber, so any node may lose
	 * keys; under ring, rendezvous and range only the leaver's keys move. */
	bool *sources = calloc(st->part.n, sizeof *sources);
	if (sources == NULL) {
		part_free(&next);
		return sl_errf(&s->err, SL_NOMEM, "shard: out of memory");
	}
	bool renumbers = st->part.kind == PART_MOD || st->part.kind == PART_JUMP;
	for (uint32_t i = 0; i < st->part.n; i++)
		sources[i] = renumbers || st->part.ids[i] == id;
	rc = shard_rebalance(st, &next, sources, report);
	free(sources);
	return rc;
}

static int shard_slice_cmp(const void *a, const void *b)
{
	return sl_slice_cmp(*(const sl_slice_t *)a, *(const sl_slice_t *)b);
}

/* Up to ranges - 1 distinct split keys at the sample's quantiles; returns how many. */
static uint32_t shard_quantiles(sl_slice_t *sample, size_t n, uint32_t ranges, sl_slice_t *out)
{
	qsort(sample, n, sizeof *sample, shard_slice_cmp);
	uint32_t got = 0;
	for (uint32_t i = 1; i < ranges; i++) {
		sl_slice_t k = sample[(size_t)i * n / ranges];
		if (k.len > 0 && (got == 0 || sl_slice_cmp(out[got - 1], k) < 0))
			out[got++] = k; /* the empty key cannot start a range: it is the first key */
	}
	return got;
}

int shard_presplit(store_t *s, sl_slice_t *sample, size_t n, uint32_t ranges,
		   shard_move_report_t *report)
{
	shard_store_t *st = shard_of(s);
	memset(report, 0, sizeof *report);
	if (shard_may_write(st) != SL_OK)
		return SL_READONLY;
	if (st->part.kind != PART_RANGE)
		return sl_errf(&s->err, SL_INVALID, "shard: presplit needs by=range, not %s",
			       part_kind_name(st->part.kind));
	if (ranges < 1 || ranges > PART_MAX_NODES)
		return sl_errf(&s->err, SL_INVALID, "shard: %u ranges; expected 1 to %u", ranges,
			       PART_MAX_NODES);
	sl_slice_t *splits = calloc(ranges, sizeof *splits);
	uint32_t *ids = calloc(ranges, sizeof *ids);
	int rc = splits && ids ? SL_OK : sl_errf(&s->err, SL_NOMEM, "shard: out of memory");
	uint32_t nsplits = rc == SL_OK ? shard_quantiles(sample, n, ranges, splits) : 0;
	if (rc == SL_OK && nsplits + 1 < ranges)
		rc = sl_errf(&s->err, SL_INVALID, "shard: the sample of %zu keys has too few "
			     "distinct keys for %u ranges", n, ranges);
	for (uint32_t i = 0; rc == SL_OK && i < ranges; i++)
		ids[i] = i < st->part.n ? st->part.ids[i] : st->next_id++;
	part_t next;
	if (rc == SL_OK)
		rc = part_init(&next, PART_RANGE, ids, ranges, splits, 0, 0, &s->err);
	if (rc == SL_OK)
		rc = shard_rebalance(st, &next, NULL, report);
	free(splits);
	free(ids);
	return rc;
}
