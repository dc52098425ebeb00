/*
 * ref.h — the reference store: an in-memory sorted map made durable by a log.
 *
 * `ref` is the simplest store that is still a real one: every write is appended
 * to a write-ahead log (engine/wal) and then applied to an in-memory ordered map
 * (a treap: a binary search tree whose nodes also carry random priorities kept in
 * heap order, which keeps it balanced in expectation with short code). Opening
 * the store replays the log. It is the oracle the tests check every other store
 * against, so it favours being obviously right over being fast, and it shares no
 * code with the stores it judges beyond the substrate.
 *
 * Files in the store's directory:
 *
 *   LOCK         flock'ed while the store is open (a second opener gets SL_BUSY)
 *   ref.log      the log; each record is one encoded batch (engine/batch.h)
 *   ref.log.new  a compacted log being written (deleted if found at open)
 *
 * Log compaction: when the log passes 1 MiB and is more than twice the live data,
 * the live entries are written to ref.log.new as one batch per 64 KiB, synced, and
 * renamed over ref.log; rename is atomic, so a crash leaves the old log or the new.
 *
 * Options: the sync modes of store.h; params "log=off" keeps everything in memory
 * only (for tests that need a fast oracle and no files).
 *
 * Limits: keys and values up to 64 MiB each (SL_INVALID beyond).
 */
#ifndef SL_REF_H
#define SL_REF_H

#include "engine/store.h"

#define REF_MAX_KEY_BYTES (64u << 20)
#define REF_MAX_VALUE_BYTES (64u << 20)

extern const store_ops_t ref_store_ops;

#endif
