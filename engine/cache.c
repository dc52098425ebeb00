/* cache.c — a sharded LRU cache of decoded blocks (see cache.h). */
#include "engine/cache.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#define CACHE_SHARDS 16

struct cache_entry {
	uint64_t file, off;         /* the name */
	uint64_t hash;              /* of the name */
	void *value;                /* owned; freed by free_fn */
	size_t charge;              /* bytes it stands for */
	cache_free_fn free_fn;
	uint32_t refs;              /* handles, plus one while in the table */
	bool in_table;              /* reachable through the hash table */
	struct cache_entry *chain;  /* next in the bucket */
	struct cache_entry *prev;   /* LRU list: toward the most recent */
	struct cache_entry *next;   /* LRU list: toward the least recent */
};

typedef struct cache_shard {
	pthread_mutex_t mu;
	struct cache_entry **buckets; /* nbuckets chains */
	size_t nbuckets;              /* a power of two */
	size_t count;                 /* entries in the table */
	struct cache_entry lru;       /* list head: lru.next = most recent */
	uint64_t used, capacity;      /* bytes */
	uint64_t hits, misses, inserts, evictions;
} cache_shard_t;

struct cache {
	cache_shard_t shards[CACHE_SHARDS];
};

/* A 64-bit mix of the name (splitmix64's finaliser): shards and buckets use its bits. */
static uint64_t cache_hash(uint64_t file, uint64_t off)
{
	uint64_t x = file * 0x9E3779B97F4A7C15ull ^ off;
	x ^= x >> 30;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 27;
	x *= 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static cache_shard_t *cache_shard(cache_t *c, uint64_t hash)
{
	return &c->shards[hash >> 60]; /* the top 4 bits: 16 shards */
}

cache_t *cache_new(uint64_t capacity_bytes)
{
	cache_t *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	for (int i = 0; i < CACHE_SHARDS; i++) {
		cache_shard_t *s = &c->shards[i];
		pthread_mutex_init(&s->mu, NULL);
		s->nbuckets = 256;
		s->buckets = calloc(s->nbuckets, sizeof *s->buckets);
		s->lru.next = s->lru.prev = &s->lru;
		s->capacity = capacity_bytes / CACHE_SHARDS;
		if (s->buckets == NULL) {
			cache_free(c);
			return NULL;
		}
	}
	return c;
}

static void cache_entry_unref(struct cache_entry *e)
{
	assert(e->refs > 0);
	if (--e->refs == 0) {
		e->free_fn(e->value);
		free(e);
	}
}

void cache_free(cache_t *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < CACHE_SHARDS; i++) {
		cache_shard_t *s = &c->shards[i];
		for (struct cache_entry *e = s->lru.next; e && e != &s->lru;) {
			struct cache_entry *next = e->next;
			assert(e->refs == 1); /* only the table's reference is left */
			cache_entry_unref(e);
			e = next;
		}
		free(s->buckets);
		pthread_mutex_destroy(&s->mu);
	}
	free(c);
}

/* The link that points at the entry named (file, off), or at the NULL ending its chain. */
static struct cache_entry **cache_slot(cache_shard_t *s, uint64_t hash, uint64_t file,
				       uint64_t off)
{
	struct cache_entry **p = &s->buckets[hash & (s->nbuckets - 1)];
	while (*p != NULL && ((*p)->file != file || (*p)->off != off))
		p = &(*p)->chain;
	return p;
}

static void cache_lru_unlink(struct cache_entry *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
}

static void cache_lru_push(cache_shard_t *s, struct cache_entry *e)
{
	e->next = s->lru.next;
	e->prev = &s->lru;
	s->lru.next->prev = e;
	s->lru.next = e;
}

/* Takes e out of the table and the LRU list, dropping the table's reference. */
static void cache_remove(cache_shard_t *s, struct cache_entry *e)
{
	struct cache_entry **p = cache_slot(s, e->hash, e->file, e->off);
	assert(*p == e);
	*p = e->chain;
	cache_lru_unlink(e);
	e->in_table = false;
	s->count--;
	s->used -= e->charge;
	cache_entry_unref(e);
}

/* Doubles the bucket array once the chains average more than one entry. */
static void cache_grow(cache_shard_t *s)
{
	size_t n = s->nbuckets * 2;
	struct cache_entry **b = calloc(n, sizeof *b);
	if (b == NULL)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < s->nbuckets; i++) {
		for (struct cache_entry *e = s->buckets[i], *next; e; e = next) {
			next = e->chain;
			e->chain = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
}

cache_handle_t *cache_lookup(cache_t *c, uint64_t file, uint64_t off)
{
	uint64_t h = cache_hash(file, off);
	cache_shard_t *s = cache_shard(c, h);
	pthread_mutex_lock(&s->mu);
	struct cache_entry *e = *cache_slot(s, h, file, off);
	if (e != NULL) {
		e->refs++;
		cache_lru_unlink(e);
		cache_lru_push(s, e);
		s->hits++;
	} else {
		s->misses++;
	}
	pthread_mutex_unlock(&s->mu);
	return e;
}

cache_handle_t *cache_insert(cache_t *c, uint64_t file, uint64_t off, void *value,
			     size_t charge, cache_free_fn free_fn)
{
	struct cache_entry *e = calloc(1, sizeof *e);
	if (e == NULL) {
		free_fn(value);
		return NULL;
	}
	/* The entry's own bookkeeping counts too, so many tiny values cannot overrun the bound. */
	*e = (struct cache_entry){ .file = file, .off = off, .hash = cache_hash(file, off),
				   .value = value, .charge = charge + sizeof *e, .free_fn = free_fn,
				   .refs = 2, .in_table = true };
	cache_shard_t *s = cache_shard(c, e->hash);
	pthread_mutex_lock(&s->mu);
	struct cache_entry *old = *cache_slot(s, e->hash, file, off);
	if (old != NULL)
		cache_remove(s, old);
	struct cache_entry **p = cache_slot(s, e->hash, file, off);
	*p = e;
	cache_lru_push(s, e);
	s->count++;
	s->used += e->charge;
	s->inserts++;
	/* Evict from the cold end; e itself is the most recent, so it goes last. */
	while (s->used > s->capacity && s->lru.prev != e) {
		cache_remove(s, s->lru.prev);
		s->evictions++;
	}
	if (s->count > s->nbuckets)
		cache_grow(s);
	pthread_mutex_unlock(&s->mu);
	return e;
}

void *cache_value(const cache_handle_t *h)
{
	return h->value;
}

void cache_release(cache_t *c, cache_handle_t *h)
{
	cache_shard_t *s = cache_shard(c, h->hash);
	pthread_mutex_lock(&s->mu);
	cache_entry_unref(h);
	pthread_mutex_unlock(&s->mu);
}

void cache_erase_file(cache_t *c, uint64_t file)
{
	for (int i = 0; i < CACHE_SHARDS; i++) {
		cache_shard_t *s = &c->shards[i];
		pthread_mutex_lock(&s->mu);
		for (struct cache_entry *e = s->lru.next; e != &s->lru;) {
			struct cache_entry *next = e->next;
			if (e->file == file)
				cache_remove(s, e);
			e = next;
		}
		pthread_mutex_unlock(&s->mu);
	}
}

void cache_get_stats(cache_t *c, cache_stats_t *out)
{
	*out = (cache_stats_t){ 0 };
	for (int i = 0; i < CACHE_SHARDS; i++) {
		cache_shard_t *s = &c->shards[i];
		pthread_mutex_lock(&s->mu);
		out->hits += s->hits;
		out->misses += s->misses;
		out->inserts += s->inserts;
		out->evictions += s->evictions;
		out->used_bytes += s->used;
		out->capacity += s->capacity;
		pthread_mutex_unlock(&s->mu);
	}
}
