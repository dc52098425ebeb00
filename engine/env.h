/*
 * env.h — every file access of storelab goes through here.
 *
 * The env is a thin layer over POSIX files with two jobs besides passing calls on:
 *
 *   1. It counts. Bytes read and written, reads, writes and syncs, per env, so a
 *      store's write and read amplification come from what really reached the
 *      device interface, not from what the store believes it wrote.
 *   2. It can be told to fail. Tests arm a fault ("the 3rd fsync from now fails
 *      with EIO", "the next write is short") and check that the store reports a
 *      clear error and loses nothing it acknowledged. This is LevelDB's Env idea.
 *
 * Every function that can fail returns SL_OK or a negative SL_* code and writes a
 * message naming the file (and offset) into *err. Short reads at end of file are
 * reported as SL_CORRUPT ("file is shorter than its format says"), failed system
 * calls as SL_IO with errno's text, ENOSPC as SL_FULL.
 *
 * Counters are atomic, so a store's background thread may share the env.
 * Fault settings are meant to be armed by a single test thread.
 */
#ifndef SL_ENV_H
#define SL_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/status.h"

/*
 * The durability levels every store takes (docs/substrate.md):
 *   none    a write has reached the OS (not the disk) before its call returns;
 *   batch   the same, plus an fsync at least every batch_ms;
 *   always  a write is on disk before its call returns.
 */
typedef enum sl_sync {
	SL_SYNC_NONE,   /* reached the OS; the OS decides when it reaches the disk */
	SL_SYNC_BATCH,  /* ... and an fsync at least every batch_ms */
	SL_SYNC_ALWAYS, /* fsync before each write returns */
} sl_sync_t;

/* Parses "none", "batch" or "always"; SL_INVALID for anything else. */
int sl_sync_parse(const char *text, sl_sync_t *out);
const char *sl_sync_name(sl_sync_t mode);

typedef struct env env_t;
typedef struct env_file env_file_t;
typedef struct env_lock env_lock_t;

/* Flags of env_open. */
enum {
	ENV_READ = 0,        /* read only */
	ENV_WRITE = 1 << 0,  /* read and write */
	ENV_CREATE = 1 << 1, /* create when missing (with ENV_WRITE) */
	ENV_EXCL = 1 << 2,   /* fail with SL_INVALID when it exists (with ENV_CREATE) */
	ENV_TRUNC = 1 << 3,  /* empty the file on open (with ENV_WRITE) */
	ENV_MAP_APPEND = 1 << 4, /* writes go through a shared memory map (with ENV_WRITE):
	                            see "Appending through a memory map" below */
};

/*
 * Appending through a memory map (ENV_MAP_APPEND), for logs. A write to a log
 * must reach the OS before it returns, so that a process crash loses nothing
 * acknowledged; with pwrite that is a system call per record, which costs more
 * than the rest of a small put. With this flag the handle keeps a writable
 * MAP_SHARED window over the file's tail and a write is a memcpy into it: the
 * bytes are then in the page cache exactly as a pwrite would have left them,
 * fdatasync writes them out the same way, and faults, crash points, counters
 * and power-loss tracking see the write as they see any other. The window is
 * backed by space reserved with fallocate, ENV_MAP_STEP bytes at a time, so a
 * full disk is an error from the write (SL_FULL), never a SIGBUS from the map.
 * The price: the file may end in up to ENV_MAP_STEP reserved zero bytes past
 * env_size; env_close trims them, and a reader after a crash sees them as the
 * log's end (wal.h). A file system that cannot reserve space gets plain writes.
 */
#define ENV_MAP_STEP (1u << 20)

/* What the env has done since env_new (or the last env_counters_reset). */
typedef struct env_counters {
	uint64_t bytes_read;    /* bytes returned by pread */
	uint64_t bytes_written; /* bytes accepted by pwrite/append */
	uint64_t reads;         /* read calls */
	uint64_t writes;        /* write calls */
	uint64_t syncs;         /* fsync + fdatasync calls, files and directories */
	uint64_t opens;         /* files opened */
} env_counters_t;

/* The operations a fault can be armed on. */
typedef enum env_op {
	ENV_OP_READ,
	ENV_OP_WRITE,
	ENV_OP_SYNC,
	ENV_OP_OPEN,
	ENV_OP_RENAME,
	ENV_OP_COUNT_
} env_op_t;

/* How an armed operation fails. */
typedef enum env_fault {
	ENV_FAULT_EIO,    /* the call fails with EIO, nothing done */
	ENV_FAULT_ENOSPC, /* the call fails with ENOSPC, nothing done */
	ENV_FAULT_SHORT,  /* writes only: half the bytes reach the file, then ENOSPC */
} env_fault_t;

/* A new env with zeroed counters and no faults; NULL when out of memory. */
env_t *env_new(void);
void env_free(env_t *env);

void env_counters(const env_t *env, env_counters_t *out);
void env_counters_reset(env_t *env);

/*
 * Arms a fault: the nth call of op from now (1 = the very next) fails as kind,
 * and so does every later call of op while `sticky` is true (a disk that has
 * gone bad stays bad). env_fault_clear disarms all faults.
 */
void env_fault_set(env_t *env, env_op_t op, uint64_t nth, env_fault_t kind, bool sticky);
/*
 * Aims the armed faults at files whose path contains path_part (NULL or "" =
 * every file): calls on other files neither fail nor count toward nth.
 * env_fault_clear also clears the aim.
 */
void env_fault_aim(env_t *env, const char *path_part);
void env_fault_clear(env_t *env);
/* How many calls have failed on purpose since env_new: tests compare it before and
 * after an operation to tell which operation met the fault. */
uint64_t env_faults_injected(const env_t *env);

/*
 * Arms a crash point: the nth call of op (counted from now) on a file whose path
 * contains path_part kills the process with SIGKILL — a write after half of its
 * bytes reached the file, an fsync or rename before it happens. Crash tests use
 * it to die at exactly the moment they want to test (mid-flush, mid-checkpoint)
 * instead of wherever a timer happens to fall. path_part is copied (63 bytes).
 */
void env_crash_set(env_t *env, env_op_t op, const char *path_part, uint64_t nth);

/*
 * Makes every fsync of this env a no-op (still counted). For fuzzing and tests
 * that reopen stores thousands of times and do not test durability; never for
 * a store that holds data someone cares about.
 */
void env_set_sync_off(env_t *env, bool off);

/*
 * Power-loss simulation (engine/env_loss.c). With tracking on, the env records
 * every change to a file that is not yet durable (not fsynced since) with the
 * bytes it replaced, and every file created since its directory's last fsync.
 * env_power_loss then does to the files what a power cut may do: per file, it
 * keeps a random prefix of the unsynced changes (each file drawn on its own, so
 * writes to different files land out of order) and takes the rest back; TEAR
 * also cuts the last kept write short at a random byte, ZERO zeroes one of its
 * 512-byte sectors (or all of it, when shorter); DROP takes back every unsynced change and new name. A new
 * name not yet made durable by a directory fsync may vanish. Call it, then stop
 * using the store's handles (a test's child process exits): what is on disk is
 * what the machine would find after the cut.
 */
typedef enum env_loss_mode {
	ENV_LOSS_DROP,   /* everything unsynced is lost */
	ENV_LOSS_PREFIX, /* each file keeps a random prefix of its unsynced writes */
	ENV_LOSS_TEAR,   /* ... and the last kept write is cut short */
	ENV_LOSS_ZERO,   /* ... or has a sector (or all of a shorter write) zeroed */
} env_loss_mode_t;

typedef struct env_loss_report {
	uint64_t files;          /* files with unsynced changes */
	uint64_t changes_lost;   /* changes taken back */
	uint64_t changes_kept;   /* unsynced changes left in place */
	uint64_t torn, zeroed;   /* writes cut short, sectors zeroed */
	uint64_t files_vanished; /* new files whose names were lost */
} env_loss_report_t;

/* Starts (or stops, forgetting everything) recording unsynced changes. SL_NOMEM possible. */
int env_loss_track(env_t *env, bool on);
/* Simulates the cut (seeded); SL_INVALID when tracking is off. */
int env_power_loss(env_t *env, uint64_t seed, env_loss_mode_t mode, env_loss_report_t *report);

/* ---- files ---- */

/* Opens path with ENV_* flags. The handle records the path for messages. */
int env_open(env_t *env, const char *path, int flags, env_file_t **out, sl_err_t *err);

/* Closes f (NULL is a no-op). A failed close() is reported, f is freed anyway. */
int env_close(env_file_t *f, sl_err_t *err);

/*
 * Reads n bytes at off into buf. With got == NULL the file must hold all n bytes
 * (SL_CORRUPT naming path and offset otherwise); with got != NULL a short read at
 * end of file is fine and *got says how many bytes came.
 */
int env_pread(env_file_t *f, void *buf, size_t n, uint64_t off, size_t *got, sl_err_t *err);

/*
 * Maps the whole file (its size now) read-only into memory, so that reads become
 * memory accesses with no system call and no copy. Only for files that never
 * change while open — SSTables: a file that shrank under its map would turn a
 * read into SIGBUS. The map goes with env_close.
 * The map is advised MADV_RANDOM: its readers fetch blocks here and there (gets,
 * seeks), and once the files outgrow memory the kernel's read-ahead — 128 KiB
 * per page fault — evicted the pages the next reads needed: an LSM get phase in a
 * 256 MiB cgroup read 890 MB/s from the device for a few MB/s of blocks. A
 * sequential reader (a compaction's inputs) asks for its read-ahead itself, with
 * env_map_prefetch.
 */
int env_map(env_file_t *f, sl_err_t *err);
/*
 * Starts reading n bytes at off of a mapped file into memory in the background
 * (MADV_WILLNEED), so that a sequential reader finds them there rather than
 * taking a page fault, and a device read, per page. Advice only: nothing is
 * counted and nothing can fail. REQUIRES: env_map succeeded on f.
 */
void env_map_prefetch(env_file_t *f, uint64_t off, size_t n);
/*
 * A read from the map: *p points at n bytes at off. Counted like env_pread, and
 * an armed read fault fails it the same way; SL_CORRUPT past the end.
 * REQUIRES: env_map succeeded on f.
 */
int env_read_mapped(env_file_t *f, uint64_t off, size_t n, const uint8_t **p, sl_err_t *err);

/* Writes all n bytes at off (looping over partial writes). */
int env_pwrite(env_file_t *f, const void *buf, size_t n, uint64_t off, sl_err_t *err);

/* Writes n bytes at the end of the file as the env knows it (env_size). */
int env_append(env_file_t *f, const void *buf, size_t n, sl_err_t *err);

/* fsync (data and metadata) or fdatasync (data, plus size when it changed). */
int env_sync(env_file_t *f, sl_err_t *err);
int env_datasync(env_file_t *f, sl_err_t *err);

/* Cuts or extends the file to size bytes. */
int env_truncate(env_file_t *f, uint64_t size, sl_err_t *err);

/* The file's size as the env tracks it (set at open, moved by writes/truncate). */
uint64_t env_size(const env_file_t *f);
const char *env_path(const env_file_t *f);

/* ---- names and directories ---- */

/* true when path exists (any kind of file). */
bool env_exists(const char *path);

/* Creates directory path (its parent must exist); an existing directory is fine. */
int env_mkdir(env_t *env, const char *path, sl_err_t *err);

/* rename(2), atomic replacement of to. Callers sync the directory afterwards. */
int env_rename(env_t *env, const char *from, const char *to, sl_err_t *err);

/* unlink(2); a missing file is SL_NOTFOUND. */
int env_unlink(env_t *env, const char *path, sl_err_t *err);

/*
 * Removes directory dir and the files in it (it must hold no directories), then
 * syncs its parent. A missing dir is fine: removing is idempotent, so a crash
 * halfway is finished by calling it again.
 */
int env_remove_dir(env_t *env, const char *dir, sl_err_t *err);

/* Makes a directory's entries durable (after create, rename or unlink in it). */
int env_sync_dir(env_t *env, const char *dir, sl_err_t *err);

/* Syncs the directory that holds path ("." when path has no slash). */
int env_sync_parent(env_t *env, const char *path, sl_err_t *err);

/*
 * Replaces path, atomically, by a file holding data: writes path.tmp, syncs it,
 * renames it over path and syncs the directory. A crash at any moment leaves
 * either the old file or the new one under path, never a mix.
 */
int env_write_atomic(env_t *env, const char *path, const void *data, size_t n, sl_err_t *err);

/*
 * Reads the whole file at path into out (replacing its contents), for the small
 * files a store keeps beside its data (a map, an intent, a definition): SL_NOTFOUND
 * when it is missing, SL_CORRUPT when it is larger than max bytes.
 */
int env_read_all(env_t *env, const char *path, size_t max, buf_t *out, sl_err_t *err);

/* The folder that holds path ("." when path names none), into out. */
void env_dir_of(const char *path, char *out, size_t size);

/*
 * Lists the names in dir (without "." and ".."), sorted bytewise. On success
 * *names is an array of *count strings to release with env_list_free.
 */
int env_list_dir(env_t *env, const char *dir, char ***names, size_t *count, sl_err_t *err);
void env_list_free(char **names, size_t count);

/*
 * The memory this process may use, in bytes: the machine's physical memory, or
 * its memory cgroup's limit when that is lower (cgroup v2 memory.max, or v1
 * memory.limit_in_bytes, of the cgroup /proc/self/cgroup names). Stores size
 * their default caches from it, so a run under `bench --memory` gets pools
 * that fit the limit.
 */
uint64_t env_memory_bytes(void);

/* Sum of the sizes of the regular files directly in dir. */
int env_dir_bytes(const char *dir, uint64_t *bytes, sl_err_t *err);

/*
 * Takes an exclusive lock on path (created if missing) with flock(2), so that a
 * second opener — in this process or another — gets SL_BUSY with a clear message
 * instead of two writers on one store. env_unlock releases and frees it.
 */
int env_lock(env_t *env, const char *path, env_lock_t **out, sl_err_t *err);
/*
 * env_lock, or with shared true a lock that readers share and a writer's
 * env_lock excludes: the file is opened read-only and never made (on read-only
 * media it must exist; when it does not, *out is NULL and no lock is held, since
 * nothing can then write there either).
 */
int env_lock_mode(env_t *env, const char *path, bool shared, env_lock_t **out, sl_err_t *err);
void env_unlock(env_lock_t *lock);

#endif
