/* env.c — POSIX files with counters and fault injection (see env.h). */
#include "engine/env.h"
#include "engine/tally.h"
#include "engine/env_int.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct env_fault_slot {
	uint64_t calls;    /* calls of this op since the fault was armed */
	uint64_t nth;      /* the call that fails; 0 = not armed */
	env_fault_t kind;  /* how it fails */
	bool sticky;       /* every call after nth fails too */
} env_fault_slot_t;

/* The fields of env->io, a tally (engine/tally.h): see env_counters_t. */
enum env_io_field { IO_BYTES_READ, IO_BYTES_WRITTEN, IO_READS, IO_WRITES, IO_SYNCS, IO_OPENS };

struct env {
	tally_t io;                     /* counters: one plain add per call, no locked one */
	_Atomic bool faults_armed;      /* fast check: any slot armed */
	_Atomic uint64_t faults_injected; /* calls failed on purpose so far */
	char fault_part[64];            /* env_fault_aim: only paths holding this fail */
	bool sync_off;                  /* fsyncs skipped (env_set_sync_off) */
	env_fault_slot_t faults[ENV_OP_COUNT_];
	env_loss_t *loss;               /* power-loss tracking, NULL when off */
	env_op_t crash_op;              /* env_crash_set: the op, */
	char crash_part[64];            /* the path substring ("" = not armed), */
	uint64_t crash_nth;             /* the call that kills, */
	_Atomic uint64_t crash_calls;   /* and the matching calls so far */
};

struct env_file {
	env_t *env;   /* counters and faults */
	int fd;       /* the open file */
	uint64_t size_bytes; /* size as seen through this handle */
	char *path;   /* for messages */
	const uint8_t *map; /* env_map's mapping of map_bytes, or NULL */
	size_t map_bytes;
	bool map_append;    /* ENV_MAP_APPEND: writes are copied into wmap */
	uint8_t *wmap;      /* the writable window over [wmap_off, wmap_end), or NULL */
	uint64_t wmap_off;  /* page-aligned */
	uint64_t wmap_end;  /* the window's end, reserved in the file */
	uint64_t reserved;  /* the file's size including reserved space (trimmed at close) */
};

struct env_lock {
	int fd;       /* the open LOCK file holding the flock */
	char *path;   /* its name */
};

int sl_sync_parse(const char *text, sl_sync_t *out)
{
	if (strcmp(text, "none") == 0)
		*out = SL_SYNC_NONE;
	else if (strcmp(text, "batch") == 0)
		*out = SL_SYNC_BATCH;
	else if (strcmp(text, "always") == 0)
		*out = SL_SYNC_ALWAYS;
	else
		return SL_INVALID;
	return SL_OK;
}

const char *sl_sync_name(sl_sync_t mode)
{
	switch (mode) {
	case SL_SYNC_NONE: return "none";
	case SL_SYNC_BATCH: return "batch";
	case SL_SYNC_ALWAYS: return "always";
	}
	return "?";
}

env_t *env_new(void)
{
	return calloc(1, sizeof(env_t));
}

void env_free(env_t *env)
{
	if (env != NULL)
		env_loss_free(env->loss);
	free(env);
}

env_loss_t *env_loss_of(env_t *env)
{
	return env->loss;
}

int env_loss_track(env_t *env, bool on)
{
	env_loss_free(env->loss);
	env->loss = on ? env_loss_new() : NULL;
	return on && env->loss == NULL ? SL_NOMEM : SL_OK;
}

void env_counters(const env_t *env, env_counters_t *out)
{
	out->bytes_read = tally_sum(&env->io, IO_BYTES_READ);
	out->bytes_written = tally_sum(&env->io, IO_BYTES_WRITTEN);
	out->reads = tally_sum(&env->io, IO_READS);
	out->writes = tally_sum(&env->io, IO_WRITES);
	out->syncs = tally_sum(&env->io, IO_SYNCS);
	out->opens = tally_sum(&env->io, IO_OPENS);
}

void env_counters_reset(env_t *env)
{
	tally_reset(&env->io);
}

/* ---------------------------------------------------------------- faults */

void env_fault_set(env_t *env, env_op_t op, uint64_t nth, env_fault_t kind, bool sticky)
{
	env_fault_slot_t *slot = &env->faults[op];
	slot->calls = 0;
	slot->nth = nth;
	slot->kind = kind;
	slot->sticky = sticky;
	atomic_store(&env->faults_armed, true);
}

void env_crash_set(env_t *env, env_op_t op, const char *path_part, uint64_t nth)
{
	env->crash_op = op;
	snprintf(env->crash_part, sizeof env->crash_part, "%s", path_part);
	env->crash_nth = nth;
	atomic_store(&env->crash_calls, 0);
}

/* true when this call of op on path is the armed crash point. */
static bool env_crash_due(env_t *env, env_op_t op, const char *path)
{
	return env->crash_part[0] != 0 && env->crash_op == op && strstr(path, env->crash_part) &&
	       atomic_fetch_add(&env->crash_calls, 1) + 1 == env->crash_nth;
}

void env_fault_aim(env_t *env, const char *path_part)
{
	snprintf(env->fault_part, sizeof env->fault_part, "%s", path_part ? path_part : "");
}

void env_fault_clear(env_t *env)
{
	memset(env->faults, 0, sizeof env->faults);
	env->fault_part[0] = 0;
	atomic_store(&env->faults_armed, false);
}

/* Counts a call of op; returns the fault to inject, or -1 for none. */
static int env_fault_check(env_t *env, env_op_t op, const char *path)
{
	if (!atomic_load_explicit(&env->faults_armed, memory_order_relaxed))
		return -1;
	if (env->fault_part[0] != 0 && strstr(path, env->fault_part) == NULL)
		return -1; /* faults are aimed at other files */
	env_fault_slot_t *slot = &env->faults[op];
	if (slot->nth == 0)
		return -1;
	slot->calls++;
	if (slot->calls == slot->nth || (slot->sticky && slot->calls > slot->nth)) {
		atomic_fetch_add(&env->faults_injected, 1);
		return (int)slot->kind;
	}
	return -1;
}

uint64_t env_faults_injected(const env_t *env)
{
	return atomic_load(&env->faults_injected);
}

static int env_fault_errno(int kind)
{
	return kind == ENV_FAULT_EIO ? EIO : ENOSPC;
}

/* ---------------------------------------------------------------- errors */

/* Turns errno from a failed call into SL_IO (or SL_FULL for a full disk). */
static int env_errno(sl_err_t *err, int e, const char *what, const char *path)
{
	int code = (e == ENOSPC || e == EDQUOT) ? SL_FULL : SL_IO;
	return sl_errf(err, code, "%s %s: %s", what, path, strerror(e));
}

/* ---------------------------------------------------------------- files */

static int env_open_flags(int flags)
{
	int o = (flags & ENV_WRITE) ? O_RDWR : O_RDONLY;
	if (flags & ENV_CREATE)
		o |= O_CREAT;
	if (flags & ENV_EXCL)
		o |= O_EXCL;
	if (flags & ENV_TRUNC)
		o |= O_TRUNC;
	return o | O_CLOEXEC;
}

int env_open(env_t *env, const char *path, int flags, env_file_t **out, sl_err_t *err)
{
	*out = NULL;
	int fault = env_fault_check(env, ENV_OP_OPEN, path);
	if (fault >= 0)
		return env_errno(err, env_fault_errno(fault), "open", path);

	bool is_new = env->loss != NULL && (flags & ENV_CREATE) && !env_exists(path);
	int fd = open(path, env_open_flags(flags), 0644);
	if (fd >= 0 && is_new)
		env_loss_created(env->loss, path);
	if (fd < 0) {
		if (errno == ENOENT)
			return sl_errf(err, SL_NOTFOUND, "open %s: no such file", path);
		if (errno == EEXIST)
			return sl_errf(err, SL_INVALID, "create %s: file already exists", path);
		return env_errno(err, errno, "open", path);
	}
	struct stat st;
	env_file_t *f = calloc(1, sizeof *f);
	char *name = strdup(path);
	if (f == NULL || name == NULL) {
		free(f);
		free(name);
		close(fd);
		return sl_errf(err, SL_NOMEM, "open %s: out of memory", path);
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int e = errno;
		free(f);
		free(name);
		close(fd);
		if (e == 0 || S_ISDIR(st.st_mode))
			return sl_errf(err, SL_INVALID, "open %s: not a regular file", path);
		return env_errno(err, e, "stat", path);
	}
	f->env = env;
	f->fd = fd;
	f->size_bytes = f->reserved = (uint64_t)st.st_size;
	f->path = name;
	f->map_append = (flags & ENV_MAP_APPEND) && (flags & ENV_WRITE);
	tally_add(&env->io, IO_OPENS, 1);
	*out = f;
	return SL_OK;
}

/* ---------------------------------------------------------------- the append window */

static void env_unmap_window(env_file_t *f)
{
	if (f->wmap != NULL)
		munmap(f->wmap, (size_t)(f->wmap_end - f->wmap_off));
	f->wmap = NULL;
}

/*
 * Makes [off, off + n) part of the writable window: reserves the file's space up
 * to the next ENV_MAP_STEP boundary and maps from the page holding off. false,
 * with errno set, when the space or the mapping cannot be had.
 */
/* off rounded down to the OS page: where mmap and madvise ranges must start. */
static uint64_t env_page_floor(uint64_t off)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	return off / page * page;
}

static bool env_window(env_file_t *f, uint64_t off, size_t n)
{
	if (f->wmap != NULL && off >= f->wmap_off && off + n <= f->wmap_end)
		return true;
	env_unmap_window(f);
	uint64_t start = env_page_floor(off);
	uint64_t end = (off + n + ENV_MAP_STEP - 1) / ENV_MAP_STEP * ENV_MAP_STEP;
	int e = posix_fallocate(f->fd, (off_t)start, (off_t)(end - start));
	if (e != 0) {
		errno = e;
		return false;
	}
	if (end > f->reserved)
		f->reserved = end;
	void *p = mmap(NULL, (size_t)(end - start), PROT_READ | PROT_WRITE, MAP_SHARED, f->fd,
		       (off_t)start);
	if (p == MAP_FAILED)
		return false;
#ifdef MADV_POPULATE_WRITE
	/* Fault the window's pages in now, in one call, rather than one page fault per
	 * 4 KiB of appends later (a kernel without it says EINVAL: the faults then come
	 * one by one, as before). */
	(void)madvise(p, (size_t)(end - start), MADV_POPULATE_WRITE);
#endif
	f->wmap = p;
	f->wmap_off = start;
	f->wmap_end = end;
	return true;
}

/* Puts n bytes at off: into the window, else with pwrite. Returns the bytes
 * written; fewer than n leaves errno saying why. */
static size_t env_put_bytes(env_file_t *f, const void *buf, size_t n, uint64_t off)
{
	if (f->map_append) {
		if (env_window(f, off, n)) {
			memcpy(f->wmap + (off - f->wmap_off), buf, n);
			return n;
		}
		if (errno != EOPNOTSUPP && errno != EINVAL && errno != ENODEV)
			return 0;
		f->map_append = false; /* this file system cannot reserve or map: plain writes */
	}
	size_t done = 0;
	while (done < n) {
		ssize_t w = pwrite(f->fd, (const uint8_t *)buf + done, n - done, (off_t)(off + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		done += (size_t)w;
	}
	return done;
}

int env_close(env_file_t *f, sl_err_t *err)
{
	if (f == NULL)
		return SL_OK;
	int rc = SL_OK;
	if (f->map != NULL)
		munmap((void *)f->map, f->map_bytes);
	env_unmap_window(f);
	/* Give back the reserved tail — unless a simulated power cut has happened,
	 * after which nothing may touch the files any more. */
	if (f->reserved > f->size_bytes && !env_loss_power_off(f->env->loss) &&
	    ftruncate(f->fd, (off_t)f->size_bytes) != 0)
		rc = env_errno(err, errno, "truncate", f->path);
	if (close(f->fd) != 0)
		rc = env_errno(err, errno, "close", f->path);
	free(f->path);
	free(f);
	return rc;
}

int env_pread(env_file_t *f, void *buf, size_t n, uint64_t off, size_t *got, sl_err_t *err)
{
	int fault = env_fault_check(f->env, ENV_OP_READ, f->path);
	if (fault >= 0)
		return env_errno(err, env_fault_errno(fault), "read", f->path);

	size_t done = 0;
	while (done < n) {
		ssize_t r = pread(f->fd, (uint8_t *)buf + done, n - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return env_errno(err, errno, "read", f->path);
		if (r == 0)
			break;
		done += (size_t)r;
	}
	tally_add(&f->env->io, IO_READS, 1);
	tally_add(&f->env->io, IO_BYTES_READ, done);
	if (got != NULL) {
		*got = done;
		return SL_OK;
	}
	if (done < n)
		return sl_errf(err, SL_CORRUPT,
			       "%s: file ends early: wanted %zu bytes at offset %llu, file has %llu",
			       f->path, n, (unsigned long long)off,
			       (unsigned long long)(off + done));
	return SL_OK;
}

int env_map(env_file_t *f, sl_err_t *err)
{
	if (f->size_bytes == 0 || f->size_bytes > SIZE_MAX)
		return sl_errf(err, SL_CORRUPT, "%s: cannot map a file of %llu bytes", f->path,
			       (unsigned long long)f->size_bytes);
	void *p = mmap(NULL, (size_t)f->size_bytes, PROT_READ, MAP_SHARED, f->fd, 0);
	if (p == MAP_FAILED)
		return env_errno(err, errno, "mmap", f->path);
	/* No read-ahead: see env.h. Advice only, so its failure changes nothing. */
	(void)madvise(p, (size_t)f->size_bytes, MADV_RANDOM);
	f->map = p;
	f->map_bytes = (size_t)f->size_bytes;
	return SL_OK;
}

void env_map_prefetch(env_file_t *f, uint64_t off, size_t n)
{
	assert(f->map != NULL);
	if (off >= f->map_bytes)
		return;
	uint64_t start = env_page_floor(off);
	uint64_t end = off + n < f->map_bytes ? off + n : f->map_bytes;
	(void)madvise((uint8_t *)f->map + start, (size_t)(end - start), MADV_WILLNEED);
}

int env_read_mapped(env_file_t *f, uint64_t off, size_t n, const uint8_t **p, sl_err_t *err)
{
	assert(f->map != NULL);
	int fault = env_fault_check(f->env, ENV_OP_READ, f->path);
	if (fault >= 0)
		return env_errno(err, env_fault_errno(fault), "read", f->path);
	if (off > f->map_bytes || n > f->map_bytes - off)
		return sl_errf(err, SL_CORRUPT,
			       "%s: file ends early: wanted %zu bytes at offset %llu, file has %zu",
			       f->path, n, (unsigned long long)off, f->map_bytes);
	tally_add(&f->env->io, IO_READS, 1);
	tally_add(&f->env->io, IO_BYTES_READ, n);
	*p = f->map + off;
	return SL_OK;
}

/* env_write_at's work, inside the power-loss gate. */
static int env_write_gated(env_file_t *f, const void *buf, size_t n, uint64_t off, sl_err_t *err)
{
	if (env_loss_power_off(f->env->loss))
		return env_errno(err, EIO, "write (power cut)", f->path);
	int fault = env_fault_check(f->env, ENV_OP_WRITE, f->path);
	size_t limit = n;
	if (fault == ENV_FAULT_SHORT)
		limit = n / 2;
	else if (fault >= 0)
		return env_errno(err, env_fault_errno(fault), "write", f->path);

	if (env_crash_due(f->env, ENV_OP_WRITE, f->path)) {
		/* Die mid-write: half the bytes reach the file, as in a real crash. */
		if (pwrite(f->fd, buf, n / 2, (off_t)off) < 0)
			raise(SIGKILL);
		raise(SIGKILL);
	}
	if (f->env->loss != NULL)
		env_loss_before_change(f->env->loss, f->path, f->fd, off, limit, f->size_bytes);
	size_t done = env_put_bytes(f, buf, limit, off);
	int e = errno;
	tally_add(&f->env->io, IO_WRITES, 1);
	tally_add(&f->env->io, IO_BYTES_WRITTEN, done);
	if (off + done > f->size_bytes)
		f->size_bytes = off + done;
	if (done == n)
		return SL_OK;
	if (fault == ENV_FAULT_SHORT)
		e = ENOSPC;
	sl_errf(err, (e == ENOSPC || e == EDQUOT) ? SL_FULL : SL_IO,
		"write %s: only %zu of %zu bytes written at offset %llu: %s", f->path, done, n,
		(unsigned long long)off, strerror(e));
	return err ? err->code : SL_IO;
}

/* Writes all of buf at off, or injects the armed write fault. */
static int env_write_at(env_file_t *f, const void *buf, size_t n, uint64_t off, sl_err_t *err)
{
	env_loss_enter(f->env->loss);
	int rc = env_write_gated(f, buf, n, off, err);
	env_loss_leave(f->env->loss);
	return rc;
}

int env_pwrite(env_file_t *f, const void *buf, size_t n, uint64_t off, sl_err_t *err)
{
	return env_write_at(f, buf, n, off, err);
}

int env_append(env_file_t *f, const void *buf, size_t n, sl_err_t *err)
{
	return env_write_at(f, buf, n, f->size_bytes, err);
}

void env_set_sync_off(env_t *env, bool off)
{
	env->sync_off = off;
}

static int env_sync_fd(env_t *env, int fd, bool data_only, const char *path, sl_err_t *err)
{
	if (env_loss_power_off(env->loss))
		return env_errno(err, EIO, "fsync (power cut)", path);
	int fault = env_fault_check(env, ENV_OP_SYNC, path);
	if (fault >= 0)
		return env_errno(err, env_fault_errno(fault), "fsync", path);
	int r = env->sync_off ? 0 : data_only ? fdatasync(fd) : fsync(fd);
	tally_add(&env->io, IO_SYNCS, 1);
	if (r != 0)
		return env_errno(err, errno, "fsync", path);
	return SL_OK;
}

/* After a successful fsync of f, with power-loss tracking: its changes are durable. */
static int env_synced(env_file_t *f, int rc, sl_err_t *err)
{
	if (rc != SL_OK || f->env->loss == NULL)
		return rc;
	env_loss_synced(f->env->loss, f->path);
	/* A cut that came while this fsync ran may have taken its writes back: it failed. */
	if (env_loss_power_off(f->env->loss))
		return env_errno(err, EIO, "fsync (power cut)", f->path);
	return SL_OK;
}

int env_sync(env_file_t *f, sl_err_t *err)
{
	if (env_crash_due(f->env, ENV_OP_SYNC, f->path))
		raise(SIGKILL);
	return env_synced(f, env_sync_fd(f->env, f->fd, false, f->path, err), err);
}

int env_datasync(env_file_t *f, sl_err_t *err)
{
	if (env_crash_due(f->env, ENV_OP_SYNC, f->path))
		raise(SIGKILL);
	return env_synced(f, env_sync_fd(f->env, f->fd, true, f->path, err), err);
}

static int env_truncate_gated(env_file_t *f, uint64_t size, sl_err_t *err)
{
	if (env_loss_power_off(f->env->loss))
		return env_errno(err, EIO, "truncate (power cut)", f->path);
	if (f->env->loss != NULL && size != f->size_bytes)
		env_loss_before_change(f->env->loss, f->path, f->fd, size < f->size_bytes ? size : f->size_bytes,
				       size < f->size_bytes ? f->size_bytes - size : size - f->size_bytes,
				       f->size_bytes);
	env_unmap_window(f); /* no mapping may reach past the new end */
	if (ftruncate(f->fd, (off_t)size) != 0)
		return env_errno(err, errno, "truncate", f->path);
	f->size_bytes = f->reserved = size;
	return SL_OK;
}

int env_truncate(env_file_t *f, uint64_t size, sl_err_t *err)
{
	env_loss_enter(f->env->loss);
	int rc = env_truncate_gated(f, size, err);
	env_loss_leave(f->env->loss);
	return rc;
}

uint64_t env_size(const env_file_t *f)
{
	return f->size_bytes;
}

const char *env_path(const env_file_t *f)
{
	return f->path;
}

/* ---------------------------------------------------------------- names */

bool env_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

int env_mkdir(env_t *env, const char *path, sl_err_t *err)
{
	(void)env;
	if (mkdir(path, 0755) == 0)
		return SL_OK;
	struct stat st;
	if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return SL_OK;
	if (errno == EEXIST)
		return sl_errf(err, SL_INVALID, "mkdir %s: exists and is not a directory", path);
	return env_errno(err, errno, "mkdir", path);
}

int env_rename(env_t *env, const char *from, const char *to, sl_err_t *err)
{
	if (env_loss_power_off(env->loss))
		return env_errno(err, EIO, "rename (power cut)", from);
	if (env_crash_due(env, ENV_OP_RENAME, from))
		raise(SIGKILL);
	int fault = env_fault_check(env, ENV_OP_RENAME, from);
	if (fault >= 0)
		return env_errno(err, env_fault_errno(fault), "rename", from);
	if (rename(from, to) != 0)
		return sl_errf(err, SL_IO, "rename %s to %s: %s", from, to, strerror(errno));
	if (env->loss != NULL)
		env_loss_renamed(env->loss, from, to);
	return SL_OK;
}

int env_unlink(env_t *env, const char *path, sl_err_t *err)
{
	if (env_loss_power_off(env->loss))
		return env_errno(err, EIO, "unlink (power cut)", path);
	if (unlink(path) == 0) {
		if (env->loss != NULL)
			env_loss_unlinked(env->loss, path);
		return SL_OK;
	}
	if (errno == ENOENT)
		return sl_errf(err, SL_NOTFOUND, "unlink %s: no such file", path);
	return env_errno(err, errno, "unlink", path);
}

int env_remove_dir(env_t *env, const char *dir, sl_err_t *err)
{
	char **names = NULL;
	size_t n = 0;
	int rc = env_list_dir(env, dir, &names, &n, err);
	if (rc == SL_NOTFOUND)
		return SL_OK;
	for (size_t i = 0; rc == SL_OK && i < n; i++) {
		char path[4200];
		if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= (int)sizeof path)
			rc = sl_errf(err, SL_INVALID, "path too long: %s/%s", dir, names[i]);
		else
			rc = env_unlink(env, path, err);
	}
	env_list_free(names, n);
	if (rc == SL_OK && rmdir(dir) != 0 && errno != ENOENT)
		rc = env_errno(err, errno, "rmdir", dir);
	if (rc == SL_OK)
		rc = env_sync_parent(env, dir, err);
	return rc;
}

int env_sync_dir(env_t *env, const char *dir, sl_err_t *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return env_errno(err, errno, "open directory", dir);
	int rc = env_sync_fd(env, fd, false, dir, err);
	close(fd);
	if (rc == SL_OK && env->loss != NULL) {
		env_loss_dir_synced(env->loss, dir);
		if (env_loss_power_off(env->loss))
			rc = env_errno(err, EIO, "fsync (power cut)", dir);
	}
	return rc;
}

int env_sync_parent(env_t *env, const char *path, sl_err_t *err)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return env_sync_dir(env, ".", err);
	if (slash == path)
		return env_sync_dir(env, "/", err);
	char *dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return sl_errf(err, SL_NOMEM, "sync directory of %s: out of memory", path);
	int rc = env_sync_dir(env, dir, err);
	free(dir);
	return rc;
}

int env_write_atomic(env_t *env, const char *path, const void *data, size_t n, sl_err_t *err)
{
	size_t len = strlen(path);
	char *tmp = malloc(len + 5);
	if (tmp == NULL)
		return sl_errf(err, SL_NOMEM, "%s: out of memory", path);
	memcpy(tmp, path, len);
	memcpy(tmp + len, ".tmp", 5);
	env_file_t *f = NULL;
	int rc = env_open(env, tmp, ENV_WRITE | ENV_CREATE | ENV_TRUNC, &f, err);
	if (rc == SL_OK)
		rc = env_pwrite(f, data, n, 0, err);
	if (rc == SL_OK)
		rc = env_sync(f, err);
	int close_rc = env_close(f, rc == SL_OK ? err : NULL);
	if (rc == SL_OK)
		rc = close_rc;
	if (rc == SL_OK)
		rc = env_rename(env, tmp, path, err);
	if (rc == SL_OK)
		rc = env_sync_parent(env, path, err);
	free(tmp);
	return rc;
}

static int env_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int env_read_all(env_t *env, const char *path, size_t max, buf_t *out, sl_err_t *err)
{
	buf_clear(out);
	env_file_t *f = NULL;
	int rc = env_open(env, path, ENV_READ, &f, err);
	if (rc != SL_OK)
		return rc;
	uint64_t size = env_size(f);
	size_t got = 0;
	if (size > max)
		rc = sl_errf(err, SL_CORRUPT, "%s: %llu bytes, larger than any such file (%zu)", path,
			     (unsigned long long)size, max);
	else if (!buf_reserve(out, (size_t)size + 1))
		rc = sl_errf(err, SL_NOMEM, "%s: out of memory", path);
	else
		rc = env_pread(f, out->data, (size_t)size, 0, &got, err);
	out->len = rc == SL_OK ? got : 0;
	env_close(f, NULL);
	return rc;
}

int env_list_dir(env_t *env, const char *dir, char ***names, size_t *count, sl_err_t *err)
{
	(void)env;
	*names = NULL;
	*count = 0;
	DIR *d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT)
			return sl_errf(err, SL_NOTFOUND, "list %s: no such directory", dir);
		return env_errno(err, errno, "list", dir);
	}
	char **list = NULL;
	size_t n = 0, cap = 0;
	int rc = SL_OK;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **grown = realloc(list, cap * sizeof *list);
			if (grown == NULL) {
				rc = sl_errf(err, SL_NOMEM, "list %s: out of memory", dir);
				break;
			}
			list = grown;
		}
		if ((list[n] = strdup(de->d_name)) == NULL) {
			rc = sl_errf(err, SL_NOMEM, "list %s: out of memory", dir);
			break;
		}
		n++;
	}
	closedir(d);
	if (rc != SL_OK) {
		env_list_free(list, n);
		return rc;
	}
	if (n > 1)
		qsort(list, n, sizeof *list, env_name_cmp);
	*names = list;
	*count = n;
	return SL_OK;
}

void env_list_free(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

int env_dir_bytes(const char *dir, uint64_t *bytes, sl_err_t *err)
{
	*bytes = 0;
	DIR *d = opendir(dir);
	if (d == NULL)
		return env_errno(err, errno, "list", dir);
	int dfd = dirfd(d);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			*bytes += (uint64_t)st.st_size;
	}
	closedir(d);
	return SL_OK;
}

int env_lock(env_t *env, const char *path, env_lock_t **out, sl_err_t *err)
{
	return env_lock_mode(env, path, false, out, err);
}

int env_lock_mode(env_t *env, const char *path, bool shared, env_lock_t **out, sl_err_t *err)
{
	(void)env;
	*out = NULL;
	int fd = shared ? open(path, O_RDONLY | O_CLOEXEC)
			: open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 && shared && errno == ENOENT)
		return SL_OK;
	if (fd < 0)
		return env_errno(err, errno, "open lock file", path);
	if (flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			return sl_errf(err, SL_BUSY,
				       "%s is held: the store is open in another handle or process",
				       path);
		return env_errno(err, e, "lock", path);
	}
	env_lock_t *lock = malloc(sizeof *lock);
	char *name = strdup(path);
	if (lock == NULL || name == NULL) {
		free(lock);
		free(name);
		close(fd);
		return sl_errf(err, SL_NOMEM, "lock %s: out of memory", path);
	}
	lock->fd = fd;
	lock->path = name;
	*out = lock;
	return SL_OK;
}

void env_unlock(env_lock_t *lock)
{
	if (lock == NULL)
		return;
	flock(lock->fd, LOCK_UN);
	close(lock->fd);
	free(lock->path);
	free(lock);
}

/* A number in a one-line file (cgroup limits); 0 when absent or "max". */
static uint64_t env_read_limit(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned long long v = 0;
	if (f != NULL) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return (uint64_t)v;
}

uint64_t env_memory_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	uint64_t mem = pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 1ull << 30;
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[512], path[1024];
	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		char *cg = strrchr(line, ':');
		if (cg == NULL)
			continue;
		cg[strcspn(cg, "\n")] = '\0';
		uint64_t limit = 0;
		if (strncmp(line, "0::", 3) == 0) {
			snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.max", cg + 1);
			limit = env_read_limit(path);
		} else if (strstr(line, ":memory:") != NULL) {
			snprintf(path, sizeof path, "/sys/fs/cgroup/memory%s/memory.limit_in_bytes", cg + 1);
			limit = env_read_limit(path);
		}
		if (limit > 0 && limit < mem)
			mem = limit;
	}
	if (f != NULL)
		fclose(f);
	return mem;
}

void env_dir_of(const char *path, char *out, size_t size)
{
	snprintf(out, size, "%s", path);
	char *slash = strrchr(out, '/');
	if (slash == out)
		out[1] = '\0'; /* "/x" is in "/" */
	else if (slash != NULL)
		*slash = '\0';
	else
		snprintf(out, size, ".");
}
