/*
 * harness.h — runs workloads on stores and measures them.
 *
 * How a run is organised, and why:
 *
 *   - Each (store, workload) phase runs in its own child process (fork), so a
 *     store that crashes takes down only its own measurement, and peak memory
 *     (getrusage's max RSS) belongs to that phase alone.
 *   - Workloads named together run in order on the same store directory: a fill
 *     starts from an empty directory; each later phase's child reopens what the
 *     previous child left, so `fillrandom,readrandom` reads what was filled. A
 *     read or scan phase with no fill before it loads the keys first, untimed.
 *   - Read phases first warm the store with untimed reads (reopening empties
 *     every cache a store keeps in memory).
 *   - Repeats (--repeat R) run the whole sequence R times, each time with a fresh
 *     directory. Repeat r of every store runs before repeat r+1 of any, so a slow
 *     spell of this shared machine hits all stores alike; figures are the median
 *     of the R runs, with the slowest and fastest reported as the spread.
 *   - Latency of every operation goes into a log-linear histogram (hist.h); a
 *     clock read before and after each operation costs about 40 ns in all.
 *   - Device I/O comes from the store's env counters (our stores) or from
 *     /proc/self/io (peers: bytes through read/write system calls; reads served
 *     from an mmap, as LMDB's are, do not show there).
 */
#ifndef SL_HARNESS_H
#define SL_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/hist.h"
#include "bench/workload.h"
#include "engine/store.h"

#define HARNESS_MAX_FIGURES 96  /* store-specific figures kept per result */
#define HARNESS_NAME_BYTES 32
#define HARNESS_MAX_WORKLOADS 32 /* phases in one sequence */

typedef struct bench_cfg {
	uint64_t n;            /* keys to fill, and operations per phase */
	uint64_t reads;        /* --reads: at most this many gets per readrandom or
	                          readmissing phase (scan: a tenth); 0 = n */
	unsigned key_size;     /* bytes per key */
	size_t value_size;     /* bytes per value */
	double compress_ratio; /* values compress to about this fraction */
	dist_t dist;           /* DIST_DEFAULT_ = each workload's own */
	sl_sync_t sync;        /* durability mode for every store */
	uint64_t seed;         /* every random choice derives from it */
	unsigned scan_length;  /* entries read per scan operation */
	unsigned repeat;       /* runs of the whole sequence */
	unsigned threads;      /* threads sharing one store handle */
	unsigned batch;        /* writes grouped into one atomic batch (--batch); 1 = each alone */
	uint64_t cache_bytes;  /* cache budget passed to every store; 0 = defaults */
	uint64_t memory_bytes; /* --memory: each store's phases in a memory cgroup of this
	                          limit, page cache included (bench/memcap.h); 0 = none */
	const char *dir;       /* where temporary store directories go; NULL = $TMPDIR */
	bool progress;         /* progress line on a terminal */
	mix_t mix;             /* the proportions of the "mix" workload (advise) */
	const char *params;    /* store-specific "name=value,..." passed to every store */
} bench_cfg_t;

/* Sets the defaults of DESIGN.md: n 100000, 16-byte keys, 100-byte values, ... */
void bench_cfg_defaults(bench_cfg_t *cfg);

/* Figures of a (store, workload) pair: medians over the repeats. */
typedef struct bench_result {
	uint64_t n;                 /* the run's key count (a size sweep runs several) */
	char store[HARNESS_NAME_BYTES];
	char workload[HARNESS_NAME_BYTES];
	int status;                 /* SL_OK, or why the phase failed */
	char error[256];            /* the failure, "" on success */
	unsigned repeats;           /* runs the figures come from */
	uint64_t ops;               /* operations per run */
	double seconds;             /* median time of the timed loop */
	double close_seconds;       /* median time to close the store afterwards */
	double ops_per_sec;         /* median throughput */
	double ops_per_sec_min;     /* slowest run */
	double ops_per_sec_max;     /* fastest run */
	double lat_us[5];           /* p50, p90, p99, p99.9, max, microseconds */
	uint64_t kind_ops[OP_KINDS_];     /* operations of each kind (mixes) */
	double kind_lat_us[OP_KINDS_][5]; /* their percentiles */
	double found_ratio;         /* reads that found their key */
	double write_amp;           /* device bytes written / user bytes written */
	double read_amp;            /* device bytes read / user bytes read */
	double space_amp;           /* bytes on disk / live key+value bytes */
	uint64_t disk_bytes;        /* store directory size after the phase */
	uint64_t peak_rss_bytes;    /* the phase's child process */
	size_t nfigures;            /* store-specific figures (btree.height, ...) */
	char figure_names[HARNESS_MAX_FIGURES][48];
	double figures[HARNESS_MAX_FIGURES];
} bench_result_t;

/*
 * Runs every workload on every store. *results gets nstores * nworkloads entries
 * in store-major order (free with free()). Returns 0, or -1 with a message in
 * err when the run could not start at all (a failing store is reported in its
 * result instead, and the others go on).
 */
int bench_run(const bench_cfg_t *cfg, const char *const *stores, size_t nstores,
	      const workload_def_t *const *workloads, size_t nworkloads,
	      bench_result_t **results, char *err, size_t err_size);

/* Checks options before anything runs; 0, or -1 with the reason in err. */
int bench_validate(const bench_cfg_t *cfg, const char *const *stores, size_t nstores,
		   size_t nworkloads, char *err, size_t err_size);

/* Removes path and everything under it (errors ignored: for scratch directories). */
void harness_rmrf(const char *path);

/* Removes the temporary directories of a run cut short (called on SIGINT). */
void bench_cleanup(void);

#endif
