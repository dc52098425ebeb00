/*
 * syncer.h — "an fsync at least every N ms", as a thread of its own.
 *
 * Sync level batch promises that an acknowledged write waits at most batch_ms
 * for the disk, even when no later write comes along to trigger an fsync. A
 * check made only when the next write arrives cannot keep that promise for the
 * last write before a quiet spell, so a timer thread does it: every `ms` it
 * looks whether anything was written since the last sync (syncer_note) and, if
 * so, calls the owner's sync function — outside its lock, since an fsync can
 * take milliseconds and the owner must be able to stop the thread meanwhile.
 *
 * The write-ahead log uses it (wal_sync_every), and so do the peer adapters,
 * each with its engine's own way to sync (a synced empty WriteBatch for
 * LevelDB, rocksdb_flush_wal, mdb_env_sync, kcdbsync), so every store keeps the
 * same promise at the same level.
 *
 * A failed sync is kept (syncer_failed) and ends the syncing: the owner must
 * refuse later writes, since whether the failed bytes reached the disk is
 * unknown (the same rule as a failed fsync in the write path).
 */
#ifndef SL_SYNCER_H
#define SL_SYNCER_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/status.h"

typedef struct syncer syncer_t;

/* Makes everything written so far durable; SL_OK or an error in err. */
typedef int (*syncer_fn)(void *ctx, sl_err_t *err);

/* Starts the thread: fn(ctx) every ms (> 0) milliseconds while writes were noted. */
int syncer_start(uint32_t ms, syncer_fn fn, void *ctx, syncer_t **out, sl_err_t *err);

/* Something was written that the next round must sync. Cheap: one atomic add. */
void syncer_note(syncer_t *s);

/* The owner is about to sync everything itself: the round may skip it. */
void syncer_clear(syncer_t *s);

/* true (and the error in *err, when err is not NULL) once a background sync failed. */
bool syncer_failed(syncer_t *s, sl_err_t *err);

/* Stops and frees the thread (waiting for a sync under way); NULL is a no-op. */
void syncer_stop(syncer_t *s);

#endif
