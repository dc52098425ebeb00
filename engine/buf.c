/* buf.c — the growable byte buffer of buf.h. */
#include "engine/buf.h"

#include <stdlib.h>
#include <string.h>

bool buf_reserve(buf_t *b, size_t extra)
{
	if (b->oom)
		return false;
	if (extra <= b->cap - b->len)
		return true;
	if (extra > SIZE_MAX / 2 - b->len) {
		b->oom = true;
		return false;
	}
	size_t need = b->len + extra;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	uint8_t *p = realloc(b->data, cap);
	if (p == NULL) {
		b->oom = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void buf_append(buf_t *b, const void *p, size_t n)
{
	if (n == 0 || !buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void buf_set(buf_t *b, const void *p, size_t n)
{
	b->len = 0;
	buf_append(b, p, n);
}

uint8_t *buf_extend(buf_t *b, size_t n)
{
	/* Reserve at least one byte so data is never NULL here. */
	if (!buf_reserve(b, n ? n : 1))
		return NULL;
	uint8_t *p = b->data + b->len;
	memset(p, 0, n);
	b->len += n;
	return p;
}

void buf_free(buf_t *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}
