/* slotted.c — the slotted page's operations (see slotted.h). */
#include "engine/slotted.h"

#include <assert.h>
#include <string.h>

#include "engine/status.h"

void slotted_init(const slotted_t *s, uint8_t *d, uint8_t kind)
{
	memset(d, 0, SLOTTED_SLOTS);
	d[SLOTTED_KIND] = kind;
	codec_put_u16(d + SLOTTED_CELL_START, (uint16_t)s->usable);
}

bool slotted_sane(const slotted_t *s, const uint8_t *d)
{
	uint32_t n = slotted_n(d), cs = slotted_cell_start(d);
	return SLOTTED_SLOTS + s->width * n <= cs && cs <= s->usable &&
	       slotted_frag(d) <= s->usable - cs;
}

uint32_t slotted_free(const slotted_t *s, const uint8_t *d)
{
	return slotted_cell_start(d) - (SLOTTED_SLOTS + s->width * slotted_n(d)) + slotted_frag(d);
}

uint32_t slotted_used(const slotted_t *s, const uint8_t *d)
{
	return s->usable - SLOTTED_SLOTS - slotted_free(s, d);
}

bool slotted_cell(const slotted_t *s, const uint8_t *d, uint32_t i, uint32_t *off, uint32_t *size)
{
	*off = slotted_off(s, d, i);
	if (*off < slotted_cell_start(d) || *off >= s->usable)
		return false;
	return s->cell_size(s->ctx, d, *off, size) && *size <= s->usable - *off;
}

int slotted_compact(const slotted_t *s, uint8_t *d)
{
	uint8_t *img = s->scratch;
	memcpy(img, d, s->usable);
	uint32_t top = s->usable;
	for (uint32_t i = 0; i < slotted_n(img); i++) {
		uint32_t off, size;
		if (!slotted_cell(s, img, i, &off, &size) ||
		    size > top - (SLOTTED_SLOTS + s->width * slotted_n(img))) {
			memcpy(d, img, s->usable); /* as it was */
			return SL_CORRUPT;
		}
		top -= size;
		memmove(d + top, img + off, size);
		codec_put_u16(slotted_slot(s, d, i), (uint16_t)top);
	}
	codec_put_u16(d + SLOTTED_CELL_START, (uint16_t)top);
	codec_put_u16(d + SLOTTED_FRAG, 0);
	return SL_OK;
}

int slotted_insert(const slotted_t *s, uint8_t *d, uint32_t i, const uint8_t *cell, uint32_t size)
{
	uint32_t n = slotted_n(d);
	assert(i <= n);
	if (slotted_free(s, d) < size + s->width)
		return SL_FULL;
	if (slotted_cell_start(d) - (SLOTTED_SLOTS + s->width * n) < size + s->width) {
		int rc = slotted_compact(s, d); /* the room is in the holes */
		if (rc != SL_OK)
			return rc;
	}
	uint32_t off = slotted_cell_start(d) - size;
	memcpy(d + off, cell, size);
	uint8_t *slot = slotted_slot(s, d, i);
	memmove(slot + s->width, slot, s->width * (n - i));
	memset(slot, 0, s->width);
	codec_put_u16(slot, (uint16_t)off);
	codec_put_u16(d + SLOTTED_N, (uint16_t)(n + 1));
	codec_put_u16(d + SLOTTED_CELL_START, (uint16_t)off);
	return SL_OK;
}

int slotted_remove(const slotted_t *s, uint8_t *d, uint32_t i, bool keep_order)
{
	uint32_t n = slotted_n(d), off, size;
	assert(i < n);
	if (!slotted_cell(s, d, i, &off, &size))
		return SL_CORRUPT;
	if (off == slotted_cell_start(d))
		codec_put_u16(d + SLOTTED_CELL_START, (uint16_t)(off + size));
	else
		codec_put_u16(d + SLOTTED_FRAG, (uint16_t)(slotted_frag(d) + size));
	uint8_t *slot = slotted_slot(s, d, i);
	if (keep_order)
		memmove(slot, slot + s->width, s->width * (n - i - 1));
	else
		memmove(slot, slotted_slot(s, d, n - 1), s->width);
	codec_put_u16(d + SLOTTED_N, (uint16_t)(n - 1));
	return SL_OK;
}
