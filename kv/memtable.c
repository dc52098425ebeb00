/* memtable.c — a skiplist over internal keys, allocated from an arena (see memtable.h). */
#include "kv/memtable.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "kv/lsm_key.h"

#define MEMTABLE_MAX_HEIGHT 12
#define MEMTABLE_BRANCHING 4       /* a node reaches level i+1 with probability 1/4 */
#define ARENA_CHUNK_BYTES (256u << 10)

struct memtable_node {
	const uint8_t *value; /* value_len bytes, in the value arena */
	uint32_t key_len;     /* user key bytes */
	uint32_t value_len;
	uint8_t height;       /* levels this node is linked on, 1..MAX_HEIGHT */
	_Atomic(memtable_node_t *) next[]; /* height of them, then key and trailer */
};

/* One chunk of the arena; allocations bump `used` until the chunk is full. */
typedef struct arena_chunk {
	struct arena_chunk *prev;
	size_t size, used;
	_Alignas(16) uint8_t data[];
} arena_chunk_t;

/* Chunks handed out by bumping a pointer; the newest first. */
typedef struct arena {
	arena_chunk_t *chunk;
} arena_t;

struct memtable {
	_Atomic uint32_t refs;
	_Atomic int height;           /* tallest node so far */
	_Atomic size_t bytes;         /* arena bytes handed out to nodes and values */
	_Atomic uint64_t count;       /* entries */
	arena_t nodes;                /* links, keys and trailers: what a search touches */
	arena_t values;               /* values: read only once the key is found */
	uint64_t rng;                 /* xorshift state for node heights (writer only) */
	memtable_node_t *head;        /* sentinel of full height, no key */
};

/* ---------------------------------------------------------------- the arena */

/* n bytes aligned to 8 from arena a, or NULL when malloc fails. */
static void *arena_alloc(memtable_t *m, arena_t *a, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	arena_chunk_t *c = a->chunk;
	if (c == NULL || c->size - c->used < n) {
		/* A big entry gets a chunk of its own, so a chunk is never mostly waste. */
		size_t size = n > ARENA_CHUNK_BYTES / 4 ? n : ARENA_CHUNK_BYTES;
		arena_chunk_t *fresh = malloc(sizeof *fresh + size);
		if (fresh == NULL)
			return NULL;
		fresh->size = size;
		fresh->used = 0;
		if (size == n && c != NULL) {
			/* Keep filling the current chunk afterwards: slip the big one behind it. */
			fresh->prev = c->prev;
			c->prev = fresh;
		} else {
			fresh->prev = c;
			a->chunk = fresh;
		}
		c = fresh;
	}
	void *p = c->data + c->used;
	c->used += n;
	atomic_fetch_add_explicit(&m->bytes, n, memory_order_relaxed);
	return p;
}

static void arena_free(arena_t *a)
{
	for (arena_chunk_t *c = a->chunk, *prev; c != NULL; c = prev) {
		prev = c->prev;
		free(c);
	}
	a->chunk = NULL;
}

/* ---------------------------------------------------------------- nodes */

static uint8_t *node_data(memtable_node_t *n) { return (uint8_t *)&n->next[n->height]; }

static sl_slice_t node_ikey(memtable_node_t *n)
{
	return sl_slice(node_data(n), (size_t)n->key_len + LSM_TRAILER_BYTES);
}

static sl_slice_t node_value(memtable_node_t *n)
{
	return sl_slice(n->value, n->value_len);
}

static memtable_node_t *node_next(memtable_node_t *n, int level)
{
	return atomic_load_explicit(&n->next[level], memory_order_acquire);
}

static memtable_node_t *node_new(memtable_t *m, int height, size_t key_len, size_t value_len)
{
	size_t n = sizeof(memtable_node_t) + (size_t)height * sizeof(memtable_node_t *) + key_len +
		   LSM_TRAILER_BYTES;
	memtable_node_t *node = arena_alloc(m, &m->nodes, n);
	uint8_t *value = value_len ? arena_alloc(m, &m->values, value_len) : NULL;
	if (node == NULL || (value_len && value == NULL))
		return NULL;
	node->value = value;
	node->key_len = (uint32_t)key_len;
	node->value_len = (uint32_t)value_len;
	node->height = (uint8_t)height;
	for (int i = 0; i < height; i++)
		atomic_init(&node->next[i], NULL);
	return node;
}

/* 1 with probability 3/4, 2 with 3/16, ...: each level keeps a quarter of the one below. */
static int memtable_random_height(memtable_t *m)
{
	int h = 1;
	for (;;) {
		m->rng ^= m->rng << 13;
		m->rng ^= m->rng >> 7;
		m->rng ^= m->rng << 17;
		if (h >= MEMTABLE_MAX_HEIGHT || m->rng % MEMTABLE_BRANCHING != 0)
			return h;
		h++;
	}
}

/*
 * The last node on each level whose key sorts before ikey (into prev[], when not
 * NULL), and the first node at or after it on level 0.
 */
static memtable_node_t *memtable_find(memtable_t *m, sl_slice_t ikey, memtable_node_t **prev)
{
	memtable_node_t *x = m->head, *bound = NULL; /* bound: a node known to be >= ikey */
	int level = atomic_load_explicit(&m->height, memory_order_relaxed) - 1;
	for (;;) {
		memtable_node_t *next = node_next(x, level);
		/*
		 * Each step right is a cache miss, the next only once this one is in. While
		 * next's key is compared, fetch the node after it on this level: the step
		 * after, if the search goes on right, then finds it in cache.
		 */
		if (next != NULL)
			__builtin_prefetch(node_next(next, level));
		/* Going down a level often meets the node that stopped us above: no need to compare again. */
		if (next != NULL && next != bound && lsm_ikey_cmp(node_ikey(next), ikey) < 0) {
			x = next; /* still before ikey: move right */
			continue;
		}
		bound = next;
		if (prev != NULL)
			prev[level] = x;
		if (level == 0)
			return next;
		level--; /* overshot on this level: go down */
	}
}

/* ---------------------------------------------------------------- public */

memtable_t *memtable_new(void)
{
	memtable_t *m = calloc(1, sizeof *m);
	if (m == NULL)
		return NULL;
	atomic_init(&m->refs, 1);
	atomic_init(&m->height, 1);
	m->rng = 0x2545F4914F6CDD1Dull;
	m->head = node_new(m, MEMTABLE_MAX_HEIGHT, 0, 0);
	if (m->head == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

void memtable_ref(memtable_t *m)
{
	atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
}

void memtable_unref(memtable_t *m)
{
	if (m == NULL || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
		return;
	arena_free(&m->nodes);
	arena_free(&m->values);
	free(m);
}

int memtable_add(memtable_t *m, uint64_t seq, int type, sl_slice_t key, sl_slice_t value)
{
	int height = memtable_random_height(m);
	memtable_node_t *n = node_new(m, height, key.len, value.len);
	if (n == NULL)
		return SL_NOMEM;
	uint8_t *d = node_data(n);
	if (key.len)
		memcpy(d, key.data, key.len);
	codec_put_u64(d + key.len, lsm_trailer(seq, type));
	if (value.len)
		memcpy((uint8_t *)n->value, value.data, value.len);

	memtable_node_t *prev[MEMTABLE_MAX_HEIGHT];
	int old_height = atomic_load_explicit(&m->height, memory_order_relaxed);
	memtable_node_t *at = memtable_find(m, node_ikey(n), prev);
	assert(at == NULL || lsm_ikey_cmp(node_ikey(at), node_ikey(n)) != 0);
	(void)at;
	for (int i = old_height; i < height; i++)
		prev[i] = m->head;
	/*
	 * A reader that sees the taller height before the new links finds head's
	 * next[i] == NULL on the new levels and just moves down: harmless.
	 */
	if (height > old_height)
		atomic_store_explicit(&m->height, height, memory_order_relaxed);
	for (int i = 0; i < height; i++) {
		atomic_store_explicit(&n->next[i], node_next(prev[i], i), memory_order_relaxed);
		/* Release: a reader that finds n through this link sees n filled in. */
		atomic_store_explicit(&prev[i]->next[i], n, memory_order_release);
	}
	atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
	return SL_OK;
}

bool memtable_get(memtable_t *m, sl_slice_t seek, buf_t *value, bool *deleted)
{
	memtable_node_t *n = memtable_find(m, seek, NULL);
	if (n == NULL || !sl_slice_eq(lsm_ikey_user(node_ikey(n)), lsm_ikey_user(seek)))
		return false;
	*deleted = lsm_ikey_type(node_ikey(n)) == LSM_TYPE_DEL;
	if (!*deleted && value != NULL) {
		sl_slice_t v = node_value(n);
		buf_set(value, v.data, v.len);
	}
	return true;
}

size_t memtable_bytes(const memtable_t *m)
{
	return atomic_load_explicit(&m->bytes, memory_order_relaxed);
}

uint64_t memtable_count(const memtable_t *m)
{
	return atomic_load_explicit(&m->count, memory_order_relaxed);
}

void memtable_iter_init(memtable_iter_t *it, memtable_t *m)
{
	it->m = m;
	it->node = NULL;
}

void memtable_iter_first(memtable_iter_t *it)
{
	it->node = node_next(it->m->head, 0);
}

void memtable_iter_seek(memtable_iter_t *it, sl_slice_t ikey)
{
	it->node = memtable_find(it->m, ikey, NULL);
}

void memtable_iter_next(memtable_iter_t *it)
{
	assert(it->node != NULL);
	it->node = node_next(it->node, 0);
}

sl_slice_t memtable_iter_key(const memtable_iter_t *it) { return node_ikey(it->node); }
sl_slice_t memtable_iter_value(const memtable_iter_t *it) { return node_value(it->node); }
