/*
 * slotted.h — the slotted page, shared by the B+tree's pages and the hash
 * index's buckets.
 *
 * A page holds variable-size cells. Their offsets live in a slot array that
 * grows up from the header; the cells themselves grow down from the end of the
 * usable area U. Moving a cell is then a matter of rewriting its slot, and the
 * slots can be kept in key order (the B+tree binary-searches them) or in no
 * order (a hash bucket appends and fills a hole with its last slot) without
 * moving a byte of the cells. A removed cell's bytes become fragmentation,
 * recovered by compaction when an insert needs them.
 *
 * Layout (little-endian; U = page size - the pager's trailer):
 *
 *   offset size  field
 *        0    1  kind (the owner's: leaf, internal, bucket ...)
 *        1    1  the owner's byte (a bucket's local depth)
 *        2    2  n: slots
 *        4    2  cell_start: the lowest cell byte; free space is [16 + n*W, cell_start)
 *        6    2  frag: bytes of removed cells inside [cell_start, U)
 *        8    8  the owner's (sibling and child page numbers, a bucket's chain)
 *       16  n*W  slots of W bytes: u16 cell offset, then W - 2 bytes of the owner's
 *                (a bucket keeps each entry's 64-bit hash there)
 *   cell_start   cells, packed toward U (with frag bytes of holes among them)
 *
 * What a cell holds is the owner's business: the layout asks it only for a
 * cell's size (cell_size), and a cell that does not decode makes compaction and
 * removal fail with SL_CORRUPT instead of moving garbage.
 *
 * Invariants (slotted_sane checks the header's): 16 + n*W <= cell_start <= U;
 * frag <= U - cell_start; every slot's offset is in [cell_start, U) and its cell
 * ends by U (slotted_cell checks one).
 */
#ifndef SL_SLOTTED_H
#define SL_SLOTTED_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/codec.h"

enum {
	SLOTTED_KIND = 0,
	SLOTTED_AUX = 1,
	SLOTTED_N = 2,
	SLOTTED_CELL_START = 4,
	SLOTTED_FRAG = 6,
	SLOTTED_OWNER = 8,
	SLOTTED_SLOTS = 16,
};

/* The size of the cell at page offset off, or false when it does not decode
 * inside [off, U). ctx is the layout's. */
typedef bool (*slotted_size_fn)(const void *ctx, const uint8_t *page, uint32_t off, uint32_t *size);

/* One kind of slotted page. */
typedef struct slotted {
	uint32_t usable;          /* U */
	uint32_t width;           /* W: bytes per slot, >= 2 */
	slotted_size_fn cell_size;
	const void *ctx;          /* passed to cell_size */
	uint8_t *scratch;         /* U bytes for compaction (the owner's buffer) */
} slotted_t;

static inline uint32_t slotted_n(const uint8_t *d) { return codec_get_u16(d + SLOTTED_N); }
static inline uint32_t slotted_cell_start(const uint8_t *d) { return codec_get_u16(d + SLOTTED_CELL_START); }
static inline uint32_t slotted_frag(const uint8_t *d) { return codec_get_u16(d + SLOTTED_FRAG); }

/* Slot i's bytes: its u16 offset, then the owner's W - 2. */
static inline uint8_t *slotted_slot(const slotted_t *s, uint8_t *d, uint32_t i)
{
	return d + SLOTTED_SLOTS + s->width * i;
}

/* Cell i's offset in the page (unchecked: slotted_cell checks). */
static inline uint32_t slotted_off(const slotted_t *s, const uint8_t *d, uint32_t i)
{
	return codec_get_u16(d + SLOTTED_SLOTS + s->width * i);
}

/* An empty page of this kind (the owner's bytes zero). */
void slotted_init(const slotted_t *s, uint8_t *d, uint8_t kind);

/* The header's invariants. */
bool slotted_sane(const slotted_t *s, const uint8_t *d);

/* Bytes a new cell and its slot may take, counting what compaction would recover. */
uint32_t slotted_free(const slotted_t *s, const uint8_t *d);

/* Bytes of live cells and slots (the header not counted): U - 16 - free. */
uint32_t slotted_used(const slotted_t *s, const uint8_t *d);

/* Cell i's offset and size; false when the offset is out of the cell area or
 * the cell does not decode. */
bool slotted_cell(const slotted_t *s, const uint8_t *d, uint32_t i, uint32_t *off, uint32_t *size);

/* Packs the cells against U in slot order (frag becomes 0). SL_CORRUPT, with the
 * page unchanged, when a cell does not decode. */
int slotted_compact(const slotted_t *s, uint8_t *d);

/*
 * Puts a cell of size bytes at slot i (0 <= i <= n; later slots move up one),
 * compacting first when only fragmentation has the room. The slot's owner bytes
 * are zeroed. SL_FULL when it does not fit even then (the page unchanged);
 * SL_CORRUPT when compaction met a cell that does not decode.
 */
int slotted_insert(const slotted_t *s, uint8_t *d, uint32_t i, const uint8_t *cell, uint32_t size);

/*
 * Drops cell i; its bytes become free space (when lowest) or fragmentation.
 * keep_order: later slots move down one (the B+tree's sorted slots); else the
 * last slot takes its place (a bucket's unordered ones). SL_CORRUPT, the page
 * unchanged, when the cell does not decode.
 */
int slotted_remove(const slotted_t *s, uint8_t *d, uint32_t i, bool keep_order);

#endif
