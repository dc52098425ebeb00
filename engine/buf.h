/*
 * buf.h — a growable byte buffer.
 *
 * Encoders (wal records, blocks, batches, bit streams) append to a buf_t. Growth
 * doubles the capacity, so n appends cost O(n) bytes copied in all.
 *
 * Appends do not return a status. If an allocation fails the buffer stops
 * growing, remembers the failure ("sticky" error) and ignores later appends;
 * the encoder checks buf_ok() once at the end instead of after every byte.
 * This keeps encoding code a straight line a reader can follow.
 */
#ifndef SL_BUF_H
#define SL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/slice.h"

typedef struct buf {
	uint8_t *data; /* heap bytes, NULL until the first append */
	size_t len;    /* bytes in use */
	size_t cap;    /* bytes allocated */
	bool oom;      /* an allocation failed; the contents are incomplete */
} buf_t;

#define BUF_INIT { NULL, 0, 0, false }

/* Makes sure len + extra bytes fit; false (and oom set) when memory ran out. */
bool buf_reserve(buf_t *b, size_t extra);

/* Appends n bytes (p may be NULL when n is 0). */
void buf_append(buf_t *b, const void *p, size_t n);

/* Replaces the contents with n bytes from p. */
void buf_set(buf_t *b, const void *p, size_t n);

/* Grows len by n zero bytes and returns a pointer to them (NULL on oom). */
uint8_t *buf_extend(buf_t *b, size_t n);

static inline void buf_clear(buf_t *b) { b->len = 0; b->oom = false; }
static inline bool buf_ok(const buf_t *b) { return !b->oom; }
static inline sl_slice_t buf_slice(const buf_t *b) { return sl_slice(b->data, b->len); }

/* Frees the bytes; the buffer is empty and reusable afterwards. */
void buf_free(buf_t *b);

#endif
