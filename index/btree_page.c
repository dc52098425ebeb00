/*
 * btree_page.c — one B+tree page: decoding its cells, binary search, and the
 * slotted-page operations (engine/slotted.h) with the tree's cell format.
 * Nothing here reads another page.
 */
#include <string.h>

#include "index/btree_int.h"
#include "index/overflow.h"

bool bt_page_sane(const btree_t *t, const uint8_t *d)
{
	uint8_t kind = pg_kind(d);
	return (kind == BTREE_KIND_LEAF || kind == BTREE_KIND_INTERNAL) && slotted_sane(&t->page, d);
}

/* Decodes the cell at page offset off; false when its bytes run past U. */
static bool bt_cell_decode_at(const btree_t *t, const uint8_t *d, uint32_t off, bt_cell_t *c)
{
	const uint8_t *p = d + off, *end = d + t->usable;
	uint64_t klen;
	size_t n = codec_get_varint(p, end, &klen);
	if (n == 0)
		return false;
	p += n;
	if (pg_kind(d) == BTREE_KIND_INTERNAL) {
		if (end - p < 4 || klen > (uint64_t)(end - p - 4))
			return false;
		c->child = codec_get_u32(p);
		c->key = sl_slice(p + 4, (size_t)klen);
		c->size = (uint32_t)(p + 4 + klen - (d + off));
		return true;
	}
	kvcell_t kv;
	if (!kvcell_decode(d + off, end, &kv))
		return false;
	c->key = kv.key;
	c->vlen = kv.vlen;
	c->overflow = kv.overflow;
	c->ov_pgno = kv.ov_pgno;
	c->value = kv.value;
	c->size = kv.size;
	return true;
}

/* Decodes cell i; false when its offset or bytes run outside the cell area. */
bool bt_cell_decode(const btree_t *t, const uint8_t *d, uint32_t i, bt_cell_t *c)
{
	uint32_t off = pg_slot(d, i);
	return off >= pg_cell_start(d) && off < t->usable && bt_cell_decode_at(t, d, off, c);
}

/* The slotted page's question: how long is the cell at off? */
static bool bt_cell_size(const void *ctx, const uint8_t *d, uint32_t off, uint32_t *size)
{
	bt_cell_t c;
	if (!bt_cell_decode_at(ctx, d, off, &c))
		return false;
	*size = c.size;
	return true;
}

/* The tree's page layout; REQUIRES t->usable and t->scratch sized. */
void bt_page_layout(btree_t *t)
{
	t->page = (slotted_t){ t->usable, 2, bt_cell_size, t, t->scratch.data };
}

/*
 * Just the key of cell i: the hot path of every binary search, so it skips what
 * bt_cell_decode works out about the value. Bounds are still checked.
 */
static inline bool bt_cell_key(const btree_t *t, const uint8_t *d, uint32_t i, sl_slice_t *key)
{
	uint32_t off = pg_slot(d, i);
	const uint8_t *p = d + off, *end = d + t->usable;
	uint64_t klen, skip;
	size_t n = off >= pg_cell_start(d) && off < t->usable ? codec_get_varint(p, end, &klen) : 0;
	if (n == 0)
		return false;
	p += n;
	if (pg_kind(d) == BTREE_KIND_INTERNAL) {
		p += 4;
	} else {
		n = codec_get_varint(p, end, &skip);
		if (n == 0)
			return false;
		p += n;
	}
	if (p > end || klen > (uint64_t)(end - p))
		return false;
	*key = sl_slice(p, (size_t)klen);
	return true;
}

/*
 * Binary search: the first cell whose key is >= key (n if none); *found when it
 * is equal. *bad when a cell does not decode (the caller reports SL_CORRUPT).
 */
uint32_t bt_search(const btree_t *t, const uint8_t *d, sl_slice_t key, bool *found, bool *bad)
{
	uint32_t lo = 0, hi = pg_n(d);
	*found = *bad = false;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		sl_slice_t k;
		if (!bt_cell_key(t, d, mid, &k)) {
			*bad = true;
			return 0;
		}
		int cmp = sl_slice_cmp(k, key);
		if (cmp == 0) {
			*found = true;
			return mid;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Child idx of an internal page: 0 = the leftmost, i > 0 = cell i-1's. */
uint32_t bt_child_at(const btree_t *t, const uint8_t *d, uint32_t idx, bool *bad)
{
	*bad = false;
	if (idx == 0)
		return pg_link(d);
	bt_cell_t c;
	if (!bt_cell_decode(t, d, idx - 1, &c)) {
		*bad = true;
		return 0;
	}
	return c.child;
}

/* Bytes free for a new cell and its slot, counting what compaction would recover. */
uint32_t bt_page_free(const btree_t *t, const uint8_t *d)
{
	return slotted_free(&t->page, d);
}

/* Bytes of live cells and slots (the header excluded). */
uint32_t bt_page_used(const btree_t *t, const uint8_t *d)
{
	return slotted_used(&t->page, d);
}

void bt_page_init(const btree_t *t, uint8_t *d, uint8_t kind)
{
	slotted_init(&t->page, d, kind);
}

int bt_page_insert(btree_t *t, uint8_t *d, uint32_t i, const uint8_t *cell, uint32_t size)
{
	return slotted_insert(&t->page, d, i, cell, size);
}

int bt_page_remove(btree_t *t, uint8_t *d, uint32_t i)
{
	return slotted_remove(&t->page, d, i, true);
}

uint32_t bt_internal_cell_encode(uint8_t *out, sl_slice_t key, uint32_t child)
{
	size_t n = codec_put_varint(out, key.len);
	codec_put_u32(out + n, child);
	n += 4;
	if (key.len)
		memcpy(out + n, key.data, key.len);
	return (uint32_t)(n + key.len);
}
