/*
 * phase.h — one timed phase of a benchmark, run inside the harness's child.
 *
 * The harness (harness.h) decides what runs where; this file does the running:
 * open the store, load keys if the phase needs them, warm up, run the timed
 * loop on one or more threads, and measure.
 */
#ifndef SL_PHASE_H
#define SL_PHASE_H

#include <stdint.h>

#include "bench/harness.h"

/* What the key space looks like between phases (carried by the parent). */
typedef struct phase_state {
	uint64_t live_keys;  /* keys present now */
	uint64_t total_keys; /* key indices used so far: 0..total_keys-1 */
} phase_state_t;

/* Everything one run of one phase measured; sent from child to parent. */
typedef struct phase_run {
	int status;                  /* SL_OK or the failure */
	char error[256];             /* the failure's message */
	uint64_t ops;                /* operations timed */
	double seconds;              /* wall time of the timed loop */
	double close_seconds;        /* closing the store after it (deferred work) */
	hist_t lat;                  /* every operation */
	hist_t by_kind[OP_KINDS_];   /* operations of each kind */
	uint64_t found, missing;     /* reads that found / missed their key */
	uint64_t user_written;       /* key+value bytes the phase wrote */
	uint64_t user_read;          /* bytes the phase read back */
	uint64_t dev_written;        /* device bytes written during the phase */
	uint64_t dev_read;           /* device bytes read during the phase */
	uint64_t disk_bytes;         /* directory size after the phase */
	uint64_t peak_rss_bytes;     /* max RSS of the child */
	phase_state_t after;         /* key space after the phase */
	size_t nfigures;             /* store-specific figures */
	char figure_names[HARNESS_MAX_FIGURES][48];
	double figures[HARNESS_MAX_FIGURES];
} phase_run_t;

/* Runs def on store `name` in dir, starting from `before`; fills *out. */
void phase_run(const bench_cfg_t *cfg, const char *name, const char *dir,
	       const workload_def_t *def, phase_state_t before, phase_run_t *out);

#endif
