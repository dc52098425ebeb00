/* inspect.c — `storelab inspect` (see inspect.h). */
#include "bench/inspect.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/batch.h"
#include "engine/codec.h"
#include "engine/pager.h"
#include "engine/trace.h"
#include "engine/wal.h"
#include "index/btree.h"

#define INSPECT_SHOW_RECORDS 20

static const char inspect_usage[] =
	"usage: storelab inspect PATH\n"
	"Decodes a file or store directory written by storelab: a log (records, their\n"
	"checksums, the torn tail if any) or a paged file (header, free list, every\n"
	"page checksum). A directory lists each file with its kind.\n";

/* The kind of file at path from its first 8 bytes: "log", "paged", or NULL. */
static const char *inspect_kind(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char magic[8] = { 0 };
	size_t n = fread(magic, 1, sizeof magic, f);
	fclose(f);
	if (n == 8 && memcmp(magic, WAL_MAGIC, 8) == 0)
		return "log";
	if (n == 8 && memcmp(magic, PAGER_MAGIC, 8) == 0)
		return "paged";
	return NULL;
}

/* One line describing a record: its batch operations when it is a batch. */
static void inspect_record(uint64_t n, uint64_t off, sl_slice_t rec)
{
	printf("  record %llu at offset %llu: %zu bytes", (unsigned long long)n,
	       (unsigned long long)off, rec.len);
	batch_reader_t r;
	if (batch_reader_init(&r, rec, NULL) != SL_OK) {
		putchar('\n');
		return;
	}
	int op, shown = 0;
	sl_slice_t k, v;
	char text[64];
	printf(", batch of %u:", r.left);
	while (batch_reader_next(&r, &op, &k, &v, NULL) == SL_OK && shown++ < 3)
		printf(" %s %s", op == BATCH_OP_PUT ? "put" : "del",
		       trace_bytes(text, sizeof text, k.data, k.len, 16));
	printf("%s\n", shown > 3 ? " ..." : "");
}

static int inspect_log(const char *path)
{
	env_t *env = env_new();
	wal_reader_t *r;
	sl_err_t err = { 0, "" };
	int rc = env ? wal_reader_open(env, path, &r, &err) : SL_NOMEM;
	if (rc != SL_OK) {
		printf("%s: %s\n", path, err.msg);
		env_free(env);
		return 1;
	}
	printf("%s: storelab log, format version %d\n", path, WAL_VERSION);
	sl_slice_t rec;
	uint64_t off, n = 0, bytes = 0;
	while ((rc = wal_reader_next(r, &rec, &off, &err)) == SL_OK) {
		if (n < INSPECT_SHOW_RECORDS)
			inspect_record(n, off, rec);
		n++;
		bytes += rec.len;
	}
	if (n > INSPECT_SHOW_RECORDS)
		printf("  ... %llu more records\n", (unsigned long long)(n - INSPECT_SHOW_RECORDS));
	printf("  %llu records, %llu payload bytes, all checksums good\n", (unsigned long long)n,
	       (unsigned long long)bytes);
	int status = 0;
	if (rc == SL_NOTFOUND) {
		const wal_tail_t *t = wal_reader_tail(r);
		if (t->dropped > 0)
			printf("  torn tail: %llu bytes after offset %llu ignored (%s)\n",
			       (unsigned long long)t->dropped, (unsigned long long)t->valid_end, t->why);
	} else {
		printf("  DAMAGED: %s\n", err.msg);
		status = 1;
	}
	wal_reader_close(r);
	env_free(env);
	return status;
}

static int inspect_paged(const char *path)
{
	env_t *env = env_new();
	pager_t *p;
	sl_err_t err = { 0, "" };
	pager_opts_t opts = { .cache_bytes = 1 << 20 };
	int rc = env ? pager_open(env, path, &opts, &p, &err) : SL_NOMEM;
	if (rc != SL_OK) {
		printf("%s: %s\n", path, err.msg);
		env_free(env);
		return 1;
	}
	printf("%s: storelab paged file, format version %d\n", path, PAGER_VERSION);
	printf("  page size %u, %u pages (header included), %u on the free list\n",
	       pager_page_size(p), pager_page_count(p), pager_free_count(p));
	const uint8_t *meta = pager_meta(p);
	if (memcmp(meta, BTREE_MAGIC, 8) == 0)
		printf("  owner: B+tree (format %u), root page %u, height %u, %llu keys\n",
		       codec_get_u32(meta + 8), codec_get_u32(meta + 12), codec_get_u32(meta + 16),
		       (unsigned long long)codec_get_u64(meta + 20));
	rc = pager_check(p, NULL, &err);
	if (rc == SL_OK)
		printf("  every page checksum and the free list check out\n");
	else
		printf("  DAMAGED: %s\n", err.msg);
	pager_close(p, NULL);
	env_free(env);
	return rc == SL_OK ? 0 : 1;
}

static int inspect_file(const char *path)
{
	const char *kind = inspect_kind(path);
	if (kind == NULL) {
		printf("%s: not a file storelab wrote (no known magic number at offset 0)\n", path);
		return 1;
	}
	return strcmp(kind, "log") == 0 ? inspect_log(path) : inspect_paged(path);
}

static int inspect_dir(const char *dir)
{
	env_t *env = env_new();
	char **names = NULL;
	size_t n = 0;
	sl_err_t err = { 0, "" };
	int rc = env ? env_list_dir(env, dir, &names, &n, &err) : SL_NOMEM;
	env_free(env);
	if (rc != SL_OK) {
		printf("%s: %s\n", dir, err.msg);
		return 1;
	}
	printf("%s: %zu files\n", dir, n);
	int status = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		const char *kind = inspect_kind(path);
		if (kind == NULL) {
			struct stat st;
			bool lock = strcmp(names[i], "LOCK") == 0;
			printf("  %-24s %s\n", names[i],
			       lock ? "lock file" : stat(path, &st) == 0 && S_ISDIR(st.st_mode)
							? "directory"
							: "not a storelab file");
			continue;
		}
		printf("\n");
		status |= inspect_file(path);
	}
	env_list_free(names, n);
	return status;
}

int inspect_main(int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(inspect_usage, argc == 2 ? stdout : stderr);
		return argc == 2 ? 0 : 2;
	}
	struct stat st;
	if (stat(argv[1], &st) != 0) {
		fprintf(stderr, "storelab inspect: %s: no such file or directory\n", argv[1]);
		return 1;
	}
	return S_ISDIR(st.st_mode) ? inspect_dir(argv[1]) : inspect_file(argv[1]);
}
