/*
 * pager_dwb.c — the double-write buffer: a checkpoint's pages copied whole to
 * <path>-dwb before any of them goes home (format and reasoning in pager.h).
 *
 * The file is rewritten in place at every checkpoint rather than emptied and
 * grown again: truncating a file of thousands of pages and appending them back
 * made the kernel free and re-allocate its blocks and page-cache pages each
 * time, which cost more than the copying itself. Rewriting in place is safe
 * because each slot binds its page to this checkpoint's salt, so a slot left
 * from an earlier checkpoint can never pass for one of this checkpoint's.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/checksum.h"
#include "engine/codec.h"
#include "engine/pager_int.h"

enum {
	DWB_MAGIC_OFF = 0,
	DWB_VERSION_OFF = 8,
	DWB_PAGE_SIZE_OFF = 12,
	DWB_SALT_OFF = 16,
	DWB_SLOTS_OFF = 24,
	DWB_SEQ_OFF = 32,
	DWB_CHECK_OFF = 56,
	DWB_SLOT_PGNO = 0,
	DWB_SLOT_CHECK = 8,
};

#define DWB_STAGE_BYTES (64u << 10) /* slots are written in runs of about this size */

typedef struct dwb_header {
	uint32_t page_size;
	uint64_t salt;
	uint32_t slots;
	uint64_t seq;
} dwb_header_t;

static uint64_t dwb_slot_bytes(uint32_t page_size)
{
	return PAGER_DWB_SLOT_HEAD + (uint64_t)page_size;
}

static uint64_t dwb_slot_offset(uint32_t page_size, uint32_t i)
{
	return PAGER_DWB_HEADER_BYTES + (uint64_t)i * dwb_slot_bytes(page_size);
}

/* Binds a page number and the image's own checksum (its trailer) to one checkpoint. */
static uint64_t dwb_slot_check(uint32_t pgno, uint64_t salt, uint64_t image_sum)
{
	uint8_t b[20];
	codec_put_u32(b, pgno);
	codec_put_u64(b + 4, salt);
	codec_put_u64(b + 12, image_sum);
	return checksum_xxh3(b, sizeof b, 0);
}

static void dwb_encode_header(const dwb_header_t *h, uint8_t out[PAGER_DWB_HEADER_BYTES])
{
	memset(out, 0, PAGER_DWB_HEADER_BYTES);
	memcpy(out + DWB_MAGIC_OFF, PAGER_DWB_MAGIC, 8);
	codec_put_u32(out + DWB_VERSION_OFF, PAGER_DWB_VERSION);
	codec_put_u32(out + DWB_PAGE_SIZE_OFF, h->page_size);
	codec_put_u64(out + DWB_SALT_OFF, h->salt);
	codec_put_u32(out + DWB_SLOTS_OFF, h->slots);
	codec_put_u64(out + DWB_SEQ_OFF, h->seq);
	codec_put_u64(out + DWB_CHECK_OFF, checksum_xxh3(out, DWB_CHECK_OFF, 0));
}

/*
 * Reads the header. *valid is false for a file too short to hold one or a header
 * that fails its check: a header torn while it was written, which leaves home
 * untouched (home is written only after the whole buffer is synced). A header
 * that checks out but names another format is an error.
 */
static int dwb_read_header(env_file_t *f, dwb_header_t *h, bool *valid, sl_err_t *err)
{
	uint8_t b[PAGER_DWB_HEADER_BYTES];
	size_t got = 0;
	*valid = false;
	int rc = env_pread(f, b, sizeof b, 0, &got, err);
	if (rc != SL_OK || got < sizeof b)
		return rc;
	if (memcmp(b + DWB_MAGIC_OFF, PAGER_DWB_MAGIC, 8) != 0)
		return sl_errf(err, SL_CORRUPT, "%s: not a double-write buffer (bad magic at offset 0)",
			       env_path(f));
	if (codec_get_u64(b + DWB_CHECK_OFF) != checksum_xxh3(b, DWB_CHECK_OFF, 0))
		return SL_OK;
	uint32_t version = codec_get_u32(b + DWB_VERSION_OFF);
	if (version != PAGER_DWB_VERSION)
		return sl_errf(err, SL_NOTSUP, "%s: double-write format version %u, this build reads %u",
			       env_path(f), version, PAGER_DWB_VERSION);
	h->page_size = codec_get_u32(b + DWB_PAGE_SIZE_OFF);
	h->salt = codec_get_u64(b + DWB_SALT_OFF);
	h->slots = codec_get_u32(b + DWB_SLOTS_OFF);
	h->seq = codec_get_u64(b + DWB_SEQ_OFF);
	if (h->page_size < PAGER_MIN_PAGE_SIZE || h->page_size > PAGER_MAX_PAGE_SIZE ||
	    (h->page_size & (h->page_size - 1)) != 0)
		return sl_errf(err, SL_CORRUPT, "%s: page size %u at offset %d is not a power of two "
			       "in [%d, %d]", env_path(f), h->page_size, DWB_PAGE_SIZE_OFF,
			       PAGER_MIN_PAGE_SIZE, PAGER_MAX_PAGE_SIZE);
	*valid = true;
	return SL_OK;
}

/* Reads slot i into buf (slot head, then the image); *ok when it belongs to salt. */
static int dwb_read_slot(env_file_t *f, const dwb_header_t *h, uint32_t i, uint8_t *buf,
			 bool *ok, sl_err_t *err)
{
	size_t got = 0, want = (size_t)dwb_slot_bytes(h->page_size);
	*ok = false;
	int rc = env_pread(f, buf, want, dwb_slot_offset(h->page_size, i), &got, err);
	if (rc != SL_OK || got < want)
		return rc;
	uint32_t pgno = codec_get_u32(buf + DWB_SLOT_PGNO);
	const uint8_t *image = buf + PAGER_DWB_SLOT_HEAD;
	uint64_t sum = codec_get_u64(image + h->page_size - PAGER_TRAILER_BYTES);
	*ok = codec_get_u64(buf + DWB_SLOT_CHECK) == dwb_slot_check(pgno, h->salt, sum) &&
	      pager_sealed_at(image, h->page_size, pgno);
	return SL_OK;
}

/* Checks every slot (apply false), or copies every slot's image home (apply true). */
static int dwb_scan(pager_t *p, const dwb_header_t *h, bool apply, bool *complete, sl_err_t *err)
{
	uint8_t *buf = malloc((size_t)dwb_slot_bytes(h->page_size));
	if (buf == NULL)
		return sl_errf(err, SL_NOMEM, "%s: out of memory", env_path(p->dwb));
	int rc = SL_OK;
	*complete = true;
	for (uint32_t i = 0; i < h->slots && rc == SL_OK && *complete; i++) {
		rc = dwb_read_slot(p->dwb, h, i, buf, complete, err);
		if (rc == SL_OK && *complete && apply) {
			uint32_t pgno = codec_get_u32(buf + DWB_SLOT_PGNO);
			rc = env_pwrite(p->file, buf + PAGER_DWB_SLOT_HEAD, h->page_size,
					(uint64_t)pgno * h->page_size, err);
		}
	}
	free(buf);
	return rc;
}

/* Marks the buffer as holding nothing to repair (its home copy is complete). */
static int dwb_retire(pager_t *p, uint64_t seq, sl_err_t *err)
{
	uint8_t b[PAGER_DWB_HEADER_BYTES];
	dwb_header_t h = { .page_size = p->page_size, .salt = p->dwb_salt, .slots = 0, .seq = seq };
	dwb_encode_header(&h, b);
	return env_pwrite(p->dwb, b, sizeof b, 0, err);
}

int pager_dwb_open(pager_t *p, const char *path, sl_err_t *err)
{
	char name[4200];
	snprintf(name, sizeof name, "%s-dwb", path);
	if (p->read_only && !env_exists(name))
		return SL_OK;
	int rc = env_open(p->env, name, p->read_only ? ENV_READ : ENV_WRITE | ENV_CREATE, &p->dwb,
			  err);
	dwb_header_t h;
	bool valid = false, complete = false;
	if (rc == SL_OK)
		rc = dwb_read_header(p->dwb, &h, &valid, err);
	if (rc != SL_OK || !valid || h.slots == 0)
		return rc;
	rc = dwb_scan(p, &h, false, &complete, err);
	if (rc != SL_OK || !complete)
		return rc; /* cut short before its sync: home was never touched */
	if (p->read_only)
		return sl_errf(err, SL_READONLY, "%s: a checkpoint was cut short and its pages must "
			       "be copied home from %s: open the store once for writing", path, name);
	/* Copying a complete buffer twice is harmless, so a crash here is too. */
	p->page_size = h.page_size;
	p->dwb_salt = h.salt;
	rc = dwb_scan(p, &h, true, &complete, err);
	if (rc == SL_OK)
		rc = env_sync(p->file, err);
	if (rc == SL_OK)
		rc = dwb_retire(p, h.seq, err);
	return rc;
}

/* A salt no earlier checkpoint of this file used: the clock, the process and a count. */
static uint64_t dwb_new_salt(pager_t *p)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t parts[4] = { (uint64_t)ts.tv_sec, (uint64_t)ts.tv_nsec, (uint64_t)getpid(),
			      ++p->dwb_writes };
	return checksum_xxh3(parts, sizeof parts, p->dwb_salt);
}

/* Appends one slot to the stage, writing the stage out first when it is full. */
static int dwb_stage_slot(pager_t *p, uint32_t pgno, uint8_t *image, uint64_t *at, size_t *fill,
			  sl_err_t *err)
{
	size_t slot = (size_t)dwb_slot_bytes(p->page_size);
	if (*fill + slot > p->dwb_stage_size) {
		int rc = env_pwrite(p->dwb, p->dwb_stage, *fill, *at, err);
		if (rc != SL_OK)
			return rc;
		*at += *fill;
		*fill = 0;
	}
	uint8_t *s = p->dwb_stage + *fill;
	uint64_t sum = codec_get_u64(image + p->page_size - PAGER_TRAILER_BYTES);
	memset(s, 0, PAGER_DWB_SLOT_HEAD);
	codec_put_u32(s + DWB_SLOT_PGNO, pgno);
	codec_put_u64(s + DWB_SLOT_CHECK, dwb_slot_check(pgno, p->dwb_salt, sum));
	memcpy(s + PAGER_DWB_SLOT_HEAD, image, p->page_size);
	*fill += slot;
	return SL_OK;
}

int pager_dwb_write(pager_t *p, page_t **dirty, uint32_t n, sl_err_t *err)
{
	if (p->dwb_stage == NULL) {
		size_t slot = (size_t)dwb_slot_bytes(p->page_size);
		p->dwb_stage_size = slot > DWB_STAGE_BYTES ? slot : DWB_STAGE_BYTES;
		p->dwb_stage = malloc(p->dwb_stage_size);
		if (p->dwb_stage == NULL)
			return sl_errf(err, SL_NOMEM, "%s: out of memory", env_path(p->dwb));
	}
	p->dwb_salt = dwb_new_salt(p);
	uint64_t at = PAGER_DWB_HEADER_BYTES;
	size_t fill = 0;
	int rc = SL_OK;
	for (uint32_t i = 0; i < n && rc == SL_OK; i++) {
		pager_seal(p, dirty[i]->data, dirty[i]->pgno);
		rc = dwb_stage_slot(p, dirty[i]->pgno, dirty[i]->data, &at, &fill, err);
	}
	pager_encode_header(p, p->scratch); /* the file's header page, a slot like any other */
	if (rc == SL_OK)
		rc = dwb_stage_slot(p, 0, p->scratch, &at, &fill, err);
	if (rc == SL_OK)
		rc = env_pwrite(p->dwb, p->dwb_stage, fill, at, err);
	/* The header last in order, though only the sync orders anything: a header
	 * that lands before its slots names slots that fail their checks. */
	uint8_t b[PAGER_DWB_HEADER_BYTES];
	dwb_header_t h = { .page_size = p->page_size, .salt = p->dwb_salt, .slots = n + 1,
			   .seq = p->seq };
	dwb_encode_header(&h, b);
	if (rc == SL_OK)
		rc = env_pwrite(p->dwb, b, sizeof b, 0, err);
	if (rc == SL_OK)
		rc = env_datasync(p->dwb, err);
	return rc;
}

int pager_dwb_done(pager_t *p, sl_err_t *err)
{
	return dwb_retire(p, p->seq, err);
}

void pager_dwb_close(pager_t *p, bool clean)
{
	/* After a clean close the buffer holds nothing to repair: give its space back. */
	if (p->dwb != NULL && clean && !p->read_only)
		env_truncate(p->dwb, 0, NULL);
	env_close(p->dwb, NULL);
	p->dwb = NULL;
	free(p->dwb_stage);
	p->dwb_stage = NULL;
}

int pager_dwb_dump(env_t *env, const char *path, FILE *out, sl_err_t *err)
{
	env_file_t *f;
	int rc = env_open(env, path, ENV_READ, &f, err);
	if (rc != SL_OK)
		return rc;
	dwb_header_t h;
	bool valid = false;
	rc = dwb_read_header(f, &h, &valid, err);
	if (rc == SL_OK && !valid)
		fprintf(out, "%s: double-write buffer, %llu bytes, no valid header: nothing to "
			"repair\n", path, (unsigned long long)env_size(f));
	if (rc != SL_OK || !valid) {
		env_close(f, NULL);
		return rc;
	}
	fprintf(out, "%s: double-write buffer, format version %d, page size %u, checkpoint of "
		"operation %llu, salt %016llx, %u slot%s%s\n", path, PAGER_DWB_VERSION, h.page_size,
		(unsigned long long)h.seq, (unsigned long long)h.salt, h.slots,
		h.slots == 1 ? "" : "s", h.slots == 0 ? " (nothing to repair)" : "");
	uint8_t *buf = malloc((size_t)dwb_slot_bytes(h.page_size));
	uint32_t good = 0;
	bool ok = true;
	for (uint32_t i = 0; buf != NULL && i < h.slots && rc == SL_OK && ok; i++) {
		rc = dwb_read_slot(f, &h, i, buf, &ok, err);
		if (rc == SL_OK && ok && i < 8)
			fprintf(out, "  slot %u at offset %llu: page %u\n", i,
				(unsigned long long)dwb_slot_offset(h.page_size, i),
				codec_get_u32(buf + DWB_SLOT_PGNO));
		good += rc == SL_OK && ok;
	}
	if (buf == NULL)
		rc = sl_errf(err, SL_NOMEM, "%s: out of memory", path);
	if (rc == SL_OK && h.slots > 0)
		fprintf(out, "  %s\n", good == h.slots ? "complete: opening for writing copies these "
			"pages home" : "incomplete (cut short before its sync): ignored, home untouched");
	free(buf);
	env_close(f, NULL);
	return rc;
}
