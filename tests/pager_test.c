/* pager_test.c — paged file, buffer pool, free list, checksums (engine/pager). */
#include "tests/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/codec.h"
#include "engine/pager.h"
#include "engine/wal.h"

static pager_t *open_pager(tu_fixture_t *f, uint32_t page_size, uint64_t cache)
{
	pager_opts_t o = { .page_size = page_size, .cache_bytes = cache, .create = true };
	pager_t *p;
	sl_err_t err = { 0 };
	int rc = pager_open(f->env, f->path, &o, &p, &err);
	if (rc != SL_OK)
		fail_msg("pager_open: %s", err.msg);
	return p;
}

/* Page contents are a function of (pgno, version), so any page can be checked. */
static void stamp(uint8_t *data, uint32_t usable, uint32_t pgno, uint32_t version)
{
	tu_rng_t r;
	tu_rng_init(&r, ((uint64_t)pgno << 32) | version);
	tu_fill(&r, data, usable);
	codec_put_u32(data, pgno);
	codec_put_u32(data + 4, version);
}

static void expect_stamp(pager_t *p, uint32_t pgno, uint32_t version)
{
	static uint8_t want[PAGER_MAX_PAGE_SIZE];
	page_t *pg;
	sl_err_t err = { 0 };
	int rc = pager_get(p, pgno, &pg, &err);
	if (rc != SL_OK)
		fail_msg("pager_get %u: %s", pgno, err.msg);
	stamp(want, pager_usable_size(p), pgno, version);
	assert_memory_equal(page_data(pg), want, pager_usable_size(p));
	pager_unpin(p, pg);
}

static void test_create_and_reopen(void **state)
{
	tu_fixture_t *f = *state;
	pager_t *p = open_pager(f, 0, 0);
	assert_int_equal(pager_page_size(p), PAGER_DEFAULT_PAGE_SIZE);
	assert_int_equal(pager_page_count(p), 1);
	sl_err_t err = { 0 };
	for (uint32_t i = 1; i <= 10; i++) {
		page_t *pg;
		assert_int_equal(pager_alloc(p, &pg, &err), SL_OK);
		assert_int_equal(page_pgno(pg), i);
		stamp(page_data(pg), pager_usable_size(p), i, 1);
		pager_unpin(p, pg);
	}
	memcpy(pager_meta(p), "root=7", 6);
	pager_meta_dirty(p);
	assert_int_equal(pager_close(p, &err), SL_OK);
	assert_int_equal(tu_file_size(f->path), 11 * 4096);

	p = open_pager(f, 512, 0); /* the stored page size wins over the option */
	assert_int_equal(pager_page_size(p), 4096);
	assert_int_equal(pager_page_count(p), 11);
	assert_memory_equal(pager_meta(p), "root=7", 6);
	for (uint32_t i = 1; i <= 10; i++)
		expect_stamp(p, i, 1);
	assert_int_equal(pager_check(p, NULL, &err), SL_OK);
	pager_close(p, NULL);
}

/* A pool far smaller than the file: evictions must write back and reread correctly. */
static void test_small_pool_differential(void **state)
{
	tu_fixture_t *f = *state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	pager_t *p = open_pager(f, 512, 8 * 512);
	assert_int_equal(pager_frames(p), PAGER_MIN_FRAMES);
	enum { PAGES = 300 };
	uint32_t version[PAGES + 1] = { 0 };
	sl_err_t err = { 0 };
	for (uint32_t i = 1; i <= PAGES; i++) {
		page_t *pg;
		assert_int_equal(pager_alloc(p, &pg, &err), SL_OK);
		stamp(page_data(pg), pager_usable_size(p), i, version[i] = 1);
		pager_unpin(p, pg);
	}
	uint64_t ops = tu_ops(5000);
	for (uint64_t op = 0; op < ops; op++) {
		uint32_t pgno = 1 + (uint32_t)tu_below(&r, PAGES);
		if (tu_below(&r, 3) == 0) {
			page_t *pg;
			assert_int_equal(pager_get(p, pgno, &pg, &err), SL_OK);
			stamp(page_data(pg), pager_usable_size(p), pgno, ++version[pgno]);
			pager_mark_dirty(p, pg);
			pager_unpin(p, pg);
		} else {
			expect_stamp(p, pgno, version[pgno]);
		}
		if (op % 1000 == 999)
			assert_int_equal(pager_flush(p, op % 2000 == 1999, &err), SL_OK);
	}
	pager_stats_t st;
	pager_get_stats(p, &st);
	assert_true(st.evictions > 0);
	assert_true(st.misses > 0 && st.hits > 0);
	assert_int_equal(pager_close(p, &err), SL_OK);
	p = open_pager(f, 0, 1 << 20);
	for (uint32_t i = 1; i <= PAGES; i++)
		expect_stamp(p, i, version[i]);
	assert_int_equal(pager_check(p, NULL, &err), SL_OK);
	pager_close(p, NULL);
}

static void test_all_pinned_is_full(void **state)
{
	tu_fixture_t *f = *state;
	pager_t *p = open_pager(f, 512, 16 * 512);
	sl_err_t err = { 0 };
	page_t *pinned[16];
	uint32_t n = pager_frames(p);
	assert_int_equal(n, 16);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(pager_alloc(p, &pinned[i], &err), SL_OK);
	page_t *extra;
	assert_int_equal(pager_alloc(p, &extra, &err), SL_FULL);
	assert_non_null(strstr(err.msg, "pinned"));
	for (uint32_t i = 0; i < n; i++)
		pager_unpin(p, pinned[i]);
	assert_int_equal(pager_alloc(p, &extra, &err), SL_OK);
	pager_unpin(p, extra);
	pager_close(p, NULL);
}

static void test_free_list_reuse_and_check(void **state)
{
	tu_fixture_t *f = *state;
	pager_t *p = open_pager(f, 1024, 0);
	sl_err_t err = { 0 };
	for (int i = 0; i < 20; i++) {
		page_t *pg;
		assert_int_equal(pager_alloc(p, &pg, &err), SL_OK);
		pager_unpin(p, pg);
	}
	const uint32_t freed[] = { 3, 17, 9, 20 };
	for (int i = 0; i < 4; i++)
		assert_int_equal(pager_free(p, freed[i], &err), SL_OK);
	assert_int_equal(pager_free_count(p), 4);
	uint8_t is_free[21];
	assert_int_equal(pager_check(p, is_free, &err), SL_OK);
	int nfree = 0;
	for (int i = 0; i < 21; i++)
		nfree += is_free[i];
	assert_int_equal(nfree, 4);
	assert_true(is_free[3] && is_free[17] && is_free[9] && is_free[20]);
	pager_close(p, NULL);

	p = open_pager(f, 0, 0);
	assert_int_equal(pager_free_count(p), 4);
	/* Last freed, first reused; the file does not grow while the list has pages. */
	const uint32_t expect[] = { 20, 9, 17, 3, 21 };
	for (int i = 0; i < 5; i++) {
		page_t *pg;
		assert_int_equal(pager_alloc(p, &pg, &err), SL_OK);
		assert_int_equal(page_pgno(pg), expect[i]);
		for (uint32_t b = 0; b < pager_usable_size(p); b++)
			assert_int_equal(page_data(pg)[b], 0);
		pager_unpin(p, pg);
	}
	assert_int_equal(pager_free_count(p), 0);
	assert_int_equal(pager_check(p, NULL, &err), SL_OK);
	pager_close(p, NULL);
}

static void make_pages(tu_fixture_t *f, uint32_t n)
{
	pager_t *p = open_pager(f, 512, 0);
	sl_err_t err = { 0 };
	for (uint32_t i = 1; i <= n; i++) {
		page_t *pg;
		assert_int_equal(pager_alloc(p, &pg, &err), SL_OK);
		stamp(page_data(pg), pager_usable_size(p), i, 1);
		pager_unpin(p, pg);
	}
	pager_close(p, NULL);
}

/* A flipped bit anywhere in a data page is caught when that page is read. */
static void test_corrupt_page_detected(void **state)
{
	tu_fixture_t *f = *state;
	make_pages(f, 4);
	sl_err_t err = { 0 };
	for (uint64_t off = 2 * 512; off < 3 * 512; off += 37) {
		tu_flip_byte(f->path, off, 0x04);
		pager_t *p = open_pager(f, 0, 0);
		page_t *pg;
		assert_int_equal(pager_get(p, 2, &pg, &err), SL_CORRUPT);
		assert_non_null(strstr(err.msg, "page 2"));
		assert_non_null(strstr(err.msg, "under-test"));
		/* A failed read leaves no frame behind: other pages still work. */
		expect_stamp(p, 1, 1);
		expect_stamp(p, 3, 1);
		assert_int_equal(pager_check(p, NULL, &err), SL_CORRUPT);
		pager_close(p, NULL);
		tu_flip_byte(f->path, off, 0x04);
	}
}

/* A page written to the wrong place has a good-looking checksum for its old home. */
static void test_misplaced_page_detected(void **state)
{
	tu_fixture_t *f = *state;
	make_pages(f, 3);
	FILE *fp = fopen(f->path, "r+b");
	uint8_t page[512];
	fseek(fp, 1 * 512, SEEK_SET);
	assert_int_equal(fread(page, 1, 512, fp), 512);
	fseek(fp, 2 * 512, SEEK_SET);
	assert_int_equal(fwrite(page, 1, 512, fp), 512);
	fclose(fp);
	pager_t *p = open_pager(f, 0, 0);
	sl_err_t err = { 0 };
	page_t *pg;
	assert_int_equal(pager_get(p, 2, &pg, &err), SL_CORRUPT);
	pager_close(p, NULL);
}

static void test_bad_header_and_truncation(void **state)
{
	tu_fixture_t *f = *state;
	make_pages(f, 3);
	sl_err_t err = { 0 };
	pager_opts_t o = { 0 };
	pager_t *p;
	tu_flip_byte(f->path, 100, 0x01);
	assert_int_equal(pager_open(f->env, f->path, &o, &p, &err), SL_CORRUPT);
	assert_non_null(strstr(err.msg, "header"));
	tu_flip_byte(f->path, 100, 0x01);
	tu_flip_byte(f->path, 1, 0x01);
	assert_int_equal(pager_open(f->env, f->path, &o, &p, &err), SL_CORRUPT);
	assert_non_null(strstr(err.msg, "magic"));
	tu_flip_byte(f->path, 1, 0x01);
	tu_truncate(f->path, 3 * 512 + 100);
	assert_int_equal(pager_open(f->env, f->path, &o, &p, &err), SL_CORRUPT);
	assert_non_null(strstr(err.msg, "header says 4 pages"));
	assert_int_equal(pager_open(f->env, tu_path(f->dir, "none"), &o, &p, &err), SL_NOTFOUND);
}

static void test_page_number_out_of_range(void **state)
{
	tu_fixture_t *f = *state;
	pager_t *p = open_pager(f, 0, 0);
	sl_err_t err = { 0 };
	page_t *pg;
	assert_int_equal(pager_get(p, 0, &pg, &err), SL_CORRUPT);
	assert_int_equal(pager_get(p, 1, &pg, &err), SL_CORRUPT);
	assert_int_equal(pager_free(p, 5, &err), SL_CORRUPT);
	pager_close(p, NULL);
}

static void test_invalid_page_size(void **state)
{
	tu_fixture_t *f = *state;
	const uint32_t bad[] = { 100, 256, 3000, 131072 };
	for (int i = 0; i < 4; i++) {
		pager_opts_t o = { .page_size = bad[i], .create = true };
		pager_t *p;
		sl_err_t err = { 0 };
		assert_int_equal(pager_open(f->env, f->path, &o, &p, &err), SL_INVALID);
		assert_false(env_exists(f->path));
	}
	pager_t *p = open_pager(f, PAGER_MAX_PAGE_SIZE, 0);
	page_t *pg;
	sl_err_t err = { 0 };
	assert_int_equal(pager_alloc(p, &pg, &err), SL_OK);
	stamp(page_data(pg), pager_usable_size(p), 1, 1);
	pager_unpin(p, pg);
	pager_close(p, NULL);
	p = open_pager(f, 0, 0);
	expect_stamp(p, 1, 1);
	pager_close(p, NULL);
}

static void test_io_faults(void **state)
{
	tu_fixture_t *f = *state;
	make_pages(f, 4);
	pager_t *p = open_pager(f, 0, 0);
	sl_err_t err = { 0 };
	page_t *pg;
	env_fault_set(f->env, ENV_OP_READ, 1, ENV_FAULT_EIO, false);
	assert_int_equal(pager_get(p, 2, &pg, &err), SL_IO);
	expect_stamp(p, 2, 1); /* the fault was one-shot; the frame was released */
	assert_int_equal(pager_get(p, 3, &pg, &err), SL_OK);
	stamp(page_data(pg), pager_usable_size(p), 3, 2);
	pager_mark_dirty(p, pg);
	pager_unpin(p, pg);
	env_fault_set(f->env, ENV_OP_WRITE, 1, ENV_FAULT_ENOSPC, false);
	assert_int_equal(pager_flush(p, false, &err), SL_FULL);
	env_fault_clear(f->env);
	assert_int_equal(pager_flush(p, true, &err), SL_OK); /* still dirty: written now */
	pager_close(p, NULL);
	p = open_pager(f, 0, 0);
	expect_stamp(p, 3, 2);
	pager_close(p, NULL);
}

/* ---- the operation log and the double-write buffer ---- */

/*
 * A minimal owner for a logged pager: an operation is (page number, version) and
 * applying it stamps that page with that version, growing the file as needed.
 */
static int apply_stamp(void *ctx, sl_slice_t op, sl_err_t *err)
{
	pager_t *p = ctx;
	uint32_t pgno = codec_get_u32(op.data), version = codec_get_u32(op.data + 4);
	page_t *pg;
	while (pager_page_count(p) <= pgno) {
		int rc = pager_alloc(p, &pg, err);
		if (rc != SL_OK)
			return rc;
		pager_unpin(p, pg);
	}
	int rc = pager_get(p, pgno, &pg, err);
	if (rc != SL_OK)
		return rc;
	stamp(page_data(pg), pager_usable_size(p), pgno, version);
	pager_mark_dirty(p, pg);
	pager_unpin(p, pg);
	return SL_OK;
}

static int open_logged(tu_fixture_t *f, bool read_only, pager_t **out, sl_err_t *err)
{
	pager_opts_t o = { .page_size = 512, .cache_bytes = 1 << 20, .create = true,
			   .logged = true, .read_only = read_only };
	int rc = pager_open(f->env, f->path, &o, out, err);
	if (rc == SL_OK)
		rc = pager_replay(*out, apply_stamp, *out, err);
	return rc;
}

/* Logs and applies "stamp page pgno with version". */
static void stamp_one(pager_t *p, uint32_t pgno, uint32_t version)
{
	sl_err_t err = { 0 };
	uint8_t op[8];
	codec_put_u32(op, pgno);
	codec_put_u32(op + 4, version);
	if (pager_log_append(p, op, sizeof op, &err) != SL_OK ||
	    apply_stamp(p, sl_slice(op, sizeof op), &err) != SL_OK)
		fail_msg("stamping page %u: %s", pgno, err.msg);
}

/* Logs and applies "stamp pages 1..n with version". */
static void stamp_logged(pager_t *p, uint32_t n, uint32_t version)
{
	for (uint32_t pgno = 1; pgno <= n; pgno++)
		stamp_one(p, pgno, version);
}

/* A checkpoint whose nth fsync fails (1 = the buffer's, 2 = home's): the pager is
 * then broken and closed without writing anything more. */
static void checkpoint_failing_sync(tu_fixture_t *f, pager_t *p, uint64_t nth)
{
	sl_err_t err = { 0 };
	env_fault_set(f->env, ENV_OP_SYNC, nth, ENV_FAULT_EIO, false);
	assert_int_equal(pager_checkpoint(p, &err), SL_IO);
	env_fault_clear(f->env);
	assert_int_equal(pager_log_append(p, "x", 1, &err), SL_READONLY);
	pager_close(p, NULL);
}

static char *dwb_path(tu_fixture_t *f, char *buf, size_t size)
{
	snprintf(buf, size, "%s-dwb", f->path);
	return buf;
}

/* What pager_dwb_dump says about the buffer. */
static char *dwb_dump(tu_fixture_t *f, int *rc)
{
	char name[4200], *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	sl_err_t err = { 0 };
	*rc = pager_dwb_dump(f->env, dwb_path(f, name, sizeof name), out, &err);
	fclose(out);
	return text;
}

static void expect_stamps(tu_fixture_t *f, uint32_t n, uint32_t version)
{
	pager_t *p;
	sl_err_t err = { 0 };
	if (open_logged(f, false, &p, &err) != SL_OK)
		fail_msg("reopen: %s", err.msg);
	for (uint32_t pgno = 1; pgno <= n; pgno++)
		expect_stamp(p, pgno, version);
	assert_int_equal(pager_check(p, NULL, &err), SL_OK);
	assert_int_equal(pager_close(p, &err), SL_OK);
}

/* The log-limit test's oracle: bytes in the log, checkpoints expected so far, and
 * how many of them came with more than 100 dirty pages. */
typedef struct log_oracle {
	uint64_t log, checkpoints, big;
} log_oracle_t;

/* Logs and applies one stamp, then checks pager_maybe_checkpoint against the rule. */
static void stamp_and_check(pager_t *p, uint32_t pgno, uint32_t version, log_oracle_t *o)
{
	sl_err_t err = { 0 };
	stamp_one(p, pgno, version);
	o->log += WAL_RECORD_HEADER_BYTES + 9 + 8; /* type, sequence, then the op */
	uint64_t dirty = (uint64_t)pager_dirty_count(p) * 512;
	bool due = o->log >= (dirty > 2048 ? dirty : 2048) ||
		   pager_dirty_count(p) >= pager_frames(p) / 2;
	assert_int_equal(pager_maybe_checkpoint(p, &err), SL_OK);
	if (due) {
		o->checkpoints++;
		o->big += dirty > 100 * 512;
		o->log = WAL_HEADER_BYTES;
	}
	pager_stats_t st;
	pager_get_stats(p, &st);
	assert_int_equal(st.checkpoints, o->checkpoints);
}

/*
 * When pager_maybe_checkpoint checkpoints: once the log passes its limit or the
 * dirty pages' bytes, whichever is more, or half the frames are dirty. The
 * oracle counts the log's bytes from its record format (engine/wal.h). Stamping
 * pages 1..200 over and over under a 2 KiB limit, the log must grow to the ~100
 * KiB of dirty pages first (a checkpoint per 2 KiB would write 100 KiB of pages
 * twice for every 2 KiB logged); stamping page 1 alone, the 2 KiB limit rules.
 */
static void test_log_limit_follows_dirty_pages(void **state)
{
	tu_fixture_t *f = *state;
	pager_opts_t opts = { .page_size = 512, .cache_bytes = 1 << 20, .create = true,
			      .logged = true, .log_limit_bytes = 2048 };
	pager_t *p;
	sl_err_t err = { 0 };
	assert_int_equal(pager_open(f->env, f->path, &opts, &p, &err), SL_OK);
	assert_int_equal(pager_replay(p, apply_stamp, p, &err), SL_OK);
	log_oracle_t o = { .log = WAL_HEADER_BYTES };
	for (uint32_t i = 0; i < 10000; i++)
		stamp_and_check(p, i % 200 + 1, i / 200 + 1, &o);
	assert_true(o.big == 3 && o.big == o.checkpoints);
	for (uint32_t i = 0; i < 4000; i++)
		stamp_and_check(p, 1, 100 + i, &o);
	assert_true(o.checkpoints - o.big >= 10); /* after the 200 pages went, every ~2 KiB */
	for (uint32_t pgno = 1; pgno <= 200; pgno++)
		stamp_and_check(p, pgno, 2000, &o);
	assert_int_equal(pager_close(p, &err), SL_OK);
	expect_stamps(f, 200, 2000);
}

/*
 * Home torn mid-checkpoint — a data page and the header page itself — is
 * repaired from the complete buffer before the header is even read.
 */
static void test_dwb_repairs_torn_home(void **state)
{
	tu_fixture_t *f = *state;
	pager_t *p;
	sl_err_t err = { 0 };
	assert_int_equal(open_logged(f, false, &p, &err), SL_OK);
	stamp_logged(p, 20, 1);
	assert_int_equal(pager_checkpoint(p, &err), SL_OK);
	stamp_logged(p, 20, 2);
	checkpoint_failing_sync(f, p, 2); /* the buffer is synced, home is not */
	int rc;
	char *text = dwb_dump(f, &rc);
	assert_int_equal(rc, SL_OK);
	assert_non_null(strstr(text, "21 slots"));
	assert_non_null(strstr(text, "complete: opening for writing copies"));
	free(text);

	tu_flip_byte(f->path, 5 * 512 + 100, 0xff); /* torn page 5 */
	tu_flip_byte(f->path, 20, 0x01);             /* torn header */
	assert_int_equal(open_logged(f, true, &p, &err), SL_READONLY);
	assert_non_null(strstr(err.msg, "-dwb"));
	expect_stamps(f, 20, 2);
	text = dwb_dump(f, &rc);
	assert_non_null(strstr(text, "no valid header: nothing to repair")); /* closed clean */
	free(text);
}

/*
 * A buffer cut short before its sync, whose header names slots that hold an
 * earlier checkpoint's images of the same pages: those slots carry the earlier
 * salt, so the buffer is incomplete and home is left alone.
 */
static void test_dwb_stale_slot_is_not_complete(void **state)
{
	tu_fixture_t *f = *state;
	char name[4200];
	pager_t *p;
	sl_err_t err = { 0 };
	assert_int_equal(open_logged(f, false, &p, &err), SL_OK);
	stamp_logged(p, 20, 1);
	assert_int_equal(pager_checkpoint(p, &err), SL_OK);
	buf_t first = BUF_INIT;
	assert_int_equal(env_read_all(f->env, dwb_path(f, name, sizeof name), 1 << 20, &first,
				      &err), SL_OK);
	stamp_logged(p, 20, 2);
	checkpoint_failing_sync(f, p, 1); /* the buffer was written, never synced */

	/* Slot 3 (page 4 both times) goes back to the earlier checkpoint's bytes. */
	uint64_t slot = PAGER_DWB_SLOT_HEAD + 512, at = PAGER_DWB_HEADER_BYTES + 3 * slot;
	assert_true(first.len >= at + slot);
	FILE *fp = fopen(name, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, (long)at, SEEK_SET), 0);
	assert_int_equal(fwrite(first.data + at, 1, slot, fp), slot);
	fclose(fp);
	buf_free(&first);
	int rc;
	char *text = dwb_dump(f, &rc);
	assert_non_null(strstr(text, "incomplete"));
	free(text);
	expect_stamps(f, 20, 2); /* home at version 1, the log replayed on top */
}

/* A clean close leaves an empty buffer; a file that is not a buffer is named. */
static void test_dwb_clean_close_and_wrong_file(void **state)
{
	tu_fixture_t *f = *state;
	char name[4200];
	pager_t *p;
	sl_err_t err = { 0 };
	assert_int_equal(open_logged(f, false, &p, &err), SL_OK);
	stamp_logged(p, 10, 1);
	assert_int_equal(pager_checkpoint(p, &err), SL_OK);
	assert_true(tu_file_size(dwb_path(f, name, sizeof name)) > PAGER_DWB_HEADER_BYTES);
	assert_int_equal(pager_close(p, &err), SL_OK);
	assert_int_equal(tu_file_size(name), 0);

	uint8_t junk[100];
	memset(junk, 'j', sizeof junk);
	assert_int_equal(env_write_atomic(f->env, name, junk, sizeof junk, &err), SL_OK);
	assert_int_equal(open_logged(f, false, &p, &err), SL_CORRUPT);
	assert_non_null(strstr(err.msg, "not a double-write buffer"));
	assert_non_null(strstr(err.msg, "-dwb"));
}

int main(void)
{
	tu_seed();
#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_setup, tu_teardown)
	const struct CMUnitTest tests[] = {
		T(test_create_and_reopen),
		T(test_small_pool_differential),
		T(test_all_pinned_is_full),
		T(test_free_list_reuse_and_check),
		T(test_corrupt_page_detected),
		T(test_misplaced_page_detected),
		T(test_bad_header_and_truncation),
		T(test_page_number_out_of_range),
		T(test_invalid_page_size),
		T(test_io_faults),
		T(test_log_limit_follows_dirty_pages),
	T(test_dwb_repairs_torn_home),
		T(test_dwb_stale_slot_is_not_complete),
		T(test_dwb_clean_close_and_wrong_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
