/*
 * env_loss.c — simulated power cuts: what a machine that loses power keeps of
 * the writes it had not made durable.
 *
 * SIGKILL cannot test this: a killed process's writes sit in the page cache and
 * reach the disk anyway. A power cut loses whatever was not fsynced, and the
 * disk may have kept any part of it — some files' recent writes and not
 * others', the first half of a write and not the second, a sector of garbage.
 *
 * The model, per file: the unsynced changes (writes and truncates) since its
 * last fsync form a sequence; the crash keeps a prefix of that sequence, of a
 * length drawn at random and independently for each file (so writes are
 * "reordered" across files), and in the tearing modes cuts the last kept write
 * short or zeroes one of its 512-byte sectors. A file created since its
 * directory was last fsynced may vanish altogether. Renames are assumed
 * durable at once (every rename in storelab is followed by a directory fsync).
 *
 * Every change is recorded with the bytes it overwrote (read just before), so
 * taking it back is writing those bytes again and restoring the old size.
 */
#include "engine/env_int.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct loss_change {
	char *path;
	uint64_t off, len;     /* the range changed */
	uint64_t old_size;     /* the file's size before */
	uint8_t *old;          /* the bytes of [off, min(off+len, old_size)) before */
	size_t old_len;
} loss_change_t;

struct env_loss {
	pthread_mutex_t mu;
	pthread_rwlock_t gate;  /* changes in flight (shared) vs the cut (alone) */
	loss_change_t *changes; /* in the order they happened */
	size_t n, cap;
	char **created;         /* files created since their directory's last fsync */
	size_t ncreated, created_cap;
	_Atomic bool off;       /* the power is off: no change reaches a file any more */
};

bool env_loss_power_off(const env_loss_t *l)
{
	return l != NULL && atomic_load(&l->off);
}

env_loss_t *env_loss_new(void)
{
	env_loss_t *l = calloc(1, sizeof *l);
	if (l != NULL) {
		pthread_mutex_init(&l->mu, NULL);
		pthread_rwlock_init(&l->gate, NULL);
	}
	return l;
}

void env_loss_enter(env_loss_t *l)
{
	if (l != NULL)
		pthread_rwlock_rdlock(&l->gate);
}

void env_loss_leave(env_loss_t *l)
{
	if (l != NULL)
		pthread_rwlock_unlock(&l->gate);
}

static void loss_change_free(loss_change_t *c)
{
	free(c->path);
	free(c->old);
}

void env_loss_free(env_loss_t *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		loss_change_free(&l->changes[i]);
	for (size_t i = 0; i < l->ncreated; i++)
		free(l->created[i]);
	free(l->changes);
	free(l->created);
	pthread_rwlock_destroy(&l->gate);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

void env_loss_before_change(env_loss_t *l, const char *path, int fd, uint64_t off, uint64_t len,
			    uint64_t old_size)
{
	loss_change_t c = { .path = strdup(path), .off = off, .len = len, .old_size = old_size };
	if (off < old_size) {
		c.old_len = (size_t)((off + len < old_size ? off + len : old_size) - off);
		c.old = malloc(c.old_len ? c.old_len : 1);
		if (c.old && pread(fd, c.old, c.old_len, (off_t)off) != (ssize_t)c.old_len)
			memset(c.old, 0, c.old_len);
	}
	pthread_mutex_lock(&l->mu);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		loss_change_t *p = realloc(l->changes, cap * sizeof *p);
		if (p != NULL) {
			l->changes = p;
			l->cap = cap;
		}
	}
	if (l->n < l->cap && c.path != NULL)
		l->changes[l->n++] = c;
	else
		loss_change_free(&c);
	pthread_mutex_unlock(&l->mu);
}

/* Forgets the changes of path. REQUIRES l->mu. */
static void loss_forget(env_loss_t *l, const char *path)
{
	size_t kept = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->changes[i].path, path) == 0)
			loss_change_free(&l->changes[i]);
		else
			l->changes[kept++] = l->changes[i];
	}
	l->n = kept;
}

void env_loss_synced(env_loss_t *l, const char *path)
{
	pthread_mutex_lock(&l->mu);
	loss_forget(l, path);
	pthread_mutex_unlock(&l->mu);
}

void env_loss_unlinked(env_loss_t *l, const char *path)
{
	pthread_mutex_lock(&l->mu);
	loss_forget(l, path);
	for (size_t i = 0; i < l->ncreated; i++)
		if (l->created[i] && strcmp(l->created[i], path) == 0) {
			free(l->created[i]);
			l->created[i] = NULL;
		}
	pthread_mutex_unlock(&l->mu);
}

void env_loss_created(env_loss_t *l, const char *path)
{
	pthread_mutex_lock(&l->mu);
	if (l->ncreated == l->created_cap) {
		size_t cap = l->created_cap ? l->created_cap * 2 : 16;
		char **p = realloc(l->created, cap * sizeof *p);
		if (p != NULL) {
			l->created = p;
			l->created_cap = cap;
		}
	}
	if (l->ncreated < l->created_cap)
		l->created[l->ncreated++] = strdup(path);
	pthread_mutex_unlock(&l->mu);
}

/* Is path directly inside dir? */
static bool loss_in_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return path != NULL && strncmp(path, dir, n) == 0 && path[n] == '/' &&
	       strchr(path + n + 1, '/') == NULL;
}

void env_loss_dir_synced(env_loss_t *l, const char *dir)
{
	pthread_mutex_lock(&l->mu);
	size_t kept = 0;
	for (size_t i = 0; i < l->ncreated; i++) {
		if (l->created[i] == NULL || loss_in_dir(l->created[i], dir))
			free(l->created[i]);
		else
			l->created[kept++] = l->created[i];
	}
	l->ncreated = kept;
	pthread_mutex_unlock(&l->mu);
}

static void loss_rename_in(char **p, const char *from, const char *to)
{
	if (*p != NULL && strcmp(*p, from) == 0) {
		char *dup = strdup(to);
		if (dup != NULL) {
			free(*p);
			*p = dup;
		}
	}
}

void env_loss_renamed(env_loss_t *l, const char *from, const char *to)
{
	pthread_mutex_lock(&l->mu);
	loss_forget(l, to); /* the file that was there is gone */
	for (size_t i = 0; i < l->n; i++)
		loss_rename_in(&l->changes[i].path, from, to);
	/*
	 * The rename is durable at once (see the top): the file now has a name that
	 * cannot vanish. Keeping it among the created would let a cut unlink the
	 * new name of an atomic replace (write tmp, rename over the old file) and
	 * lose both files, which no file system does: after a crash one of the two
	 * is there.
	 */
	size_t kept = 0;
	for (size_t i = 0; i < l->ncreated; i++) {
		if (l->created[i] != NULL && strcmp(l->created[i], from) == 0)
			free(l->created[i]);
		else
			l->created[kept++] = l->created[i];
	}
	l->ncreated = kept;
	pthread_mutex_unlock(&l->mu);
}

/* ---------------------------------------------------------------- the cut */

static uint64_t loss_rand(uint64_t *s)
{
	*s += 0x9E3779B97F4A7C15ull;
	uint64_t z = *s;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Takes change c back: its old bytes return, the file its old size. */
static void loss_undo(int fd, const loss_change_t *c)
{
	if (c->old != NULL && pwrite(fd, c->old, c->old_len, (off_t)c->off) != (ssize_t)c->old_len)
		return;
	if (ftruncate(fd, (off_t)c->old_size) != 0)
		return;
}

/* Keeps only the first `keep` bytes of write c (the rest as before it). */
static void loss_tear(int fd, const loss_change_t *c, uint64_t keep)
{
	if (keep >= c->len)
		return;
	if (c->old != NULL && keep < c->old_len &&
	    pwrite(fd, c->old + keep, c->old_len - keep, (off_t)(c->off + keep)) < 0)
		return;
	if (c->off + c->len > c->old_size && ftruncate(fd, (off_t)(c->off + keep > c->old_size ?
								  c->off + keep : c->old_size)) != 0)
		return;
}

/* Applies the cut to one file: its changes are changes[idx[0..m)]. */
static void loss_cut_file(env_loss_t *l, const size_t *idx, size_t m, env_loss_mode_t mode,
			  uint64_t *rng, env_loss_report_t *rep)
{
	const char *path = l->changes[idx[0]].path;
	int fd = open(path, O_RDWR);
	if (fd < 0)
		return; /* deleted since: nothing to take back */
	size_t keep = mode == ENV_LOSS_DROP ? 0 : (size_t)(loss_rand(rng) % (m + 1));
	for (size_t k = m; k-- > keep;)
		loss_undo(fd, &l->changes[idx[k]]);
	rep->changes_lost += m - keep;
	rep->changes_kept += keep;
	if (keep > 0 && mode != ENV_LOSS_DROP) {
		const loss_change_t *last = &l->changes[idx[keep - 1]];
		if (mode == ENV_LOSS_TEAR && last->len > 1) {
			loss_tear(fd, last, loss_rand(rng) % last->len);
			rep->torn++;
		} else if (mode == ENV_LOSS_ZERO && last->len > 0) {
			/* One 512-byte sector of the write, or all of a shorter write, reads back as zeros. */
			static const uint8_t zeros[512];
			uint64_t n = last->len < 512 ? last->len : 512;
			uint64_t at = last->off + (last->len >= 512 ? (loss_rand(rng) % (last->len / 512)) * 512 : 0);
			if (pwrite(fd, zeros, n, (off_t)at) == (ssize_t)n)
				rep->zeroed++;
		}
	}
	close(fd);
}

int env_power_loss(env_t *env, uint64_t seed, env_loss_mode_t mode, env_loss_report_t *report)
{
	env_loss_report_t rep = { 0 };
	env_loss_t *l = env_loss_of(env);
	if (l == NULL)
		return SL_INVALID;
	pthread_rwlock_wrlock(&l->gate); /* no change is half made now */
	pthread_mutex_lock(&l->mu);
	atomic_store(&l->off, true); /* from now on every write and sync of the env fails */
	uint64_t rng = seed;
	size_t *idx = malloc((l->n + 1) * sizeof *idx);
	bool *done = calloc(l->n + 1, sizeof *done);
	for (size_t i = 0; idx && done && i < l->n; i++) {
		if (done[i])
			continue;
		size_t m = 0;
		for (size_t j = i; j < l->n; j++)
			if (!done[j] && strcmp(l->changes[j].path, l->changes[i].path) == 0) {
				idx[m++] = j;
				done[j] = true;
			}
		loss_cut_file(l, idx, m, mode, &rng, &rep);
		rep.files++;
	}
	/* A new name whose directory was never fsynced may be gone. */
	for (size_t i = 0; i < l->ncreated; i++)
		if (mode == ENV_LOSS_DROP || loss_rand(&rng) % 2 == 0) {
			if (l->created[i] && unlink(l->created[i]) == 0)
				rep.files_vanished++;
		}
	free(idx);
	free(done);
	pthread_mutex_unlock(&l->mu);
	pthread_rwlock_unlock(&l->gate);
	if (report)
		*report = rep;
	return SL_OK;
}
