/*
 * wal.h — an append-only log of checksummed records.
 *
 * A write-ahead log makes a change durable before the structure it changes is
 * written: append the record, fsync, then acknowledge. After a crash, replaying
 * the log in order rebuilds whatever had not reached the main files. The log does
 * not know what its records mean; stores (and the pager's transactions) put their
 * own encoding in the payload.
 *
 * File format (all integers little-endian):
 *
 *   file header, 16 bytes
 *   +--------+--------+--------+--------+
 *   | magic "SLWALOG\0"  (8)            |  0
 *   | version = 1 (4)  | hdr check (4)  |  8   hdr check = low 32 bits of
 *   +--------+--------+--------+--------+       XXH3(bytes 0..11)
 *
 *   then records, back to back from offset 16:
 *   +--------+--------+--------+--------+
 *   | len (4)          | len check (4)  |  +0   len check = low 32 bits of
 *   | payload checksum (8)              |  +8     XXH3(len bytes, seed = offset)
 *   | payload (len bytes) ...           |  +16  payload checksum =
 *   +--------+--------+--------+--------+         XXH3(payload, seed = offset)
 *
 *   "offset" is the file offset of the record's first byte.
 *
 * Why two checksums: the length is checked on its own so the reader can trust it
 * before it reads len bytes. Why seed with the offset: a record is only valid at
 * the place it was written, so a stale record in a recycled file, or a log frame
 * stored inside some payload, can never pass for a record of this log.
 *
 * Reading, and what a damaged log means:
 *   - A record whose header or payload fails its check ends the valid log.
 *   - If no valid record follows the damage, the damage is a torn tail: the last
 *     append was cut short by a crash, it was never acknowledged, and the reader
 *     reports a clean end at the last good record (wal_reader_tail says how many
 *     bytes were dropped and why).
 *     Zero bytes to the end of the file are the same: the writer appends through
 *     a memory map over space it reserves ahead (ENV_MAP_APPEND, env.h), and a
 *     crash leaves that space unwritten.
 *   - If a valid record does follow, acknowledged records sit behind the damage:
 *     that is corruption, and the reader returns SL_CORRUPT naming both offsets.
 *     It never returns a damaged record as good.
 *
 * Invariants:
 *   1. Records are contiguous from offset 16 to the writer's end offset.
 *   2. After a failed append or sync the writer refuses further appends
 *      (SL_READONLY): whether the failed bytes reached the disk is unknown, so
 *      the only safe move is to reopen, which re-reads the log.
 */
#ifndef SL_WAL_H
#define SL_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/env.h"
#include "engine/slice.h"
#include "engine/status.h"

#define WAL_MAGIC "SLWALOG"         /* 8 bytes on disk, with its NUL */
#define WAL_VERSION 1               /* on disk — bump when the format changes */
#define WAL_HEADER_BYTES 16         /* file header */
#define WAL_RECORD_HEADER_BYTES 16  /* per-record framing */
#define WAL_MAX_RECORD (1u << 30)   /* largest payload accepted, bytes */

typedef struct wal wal_t;
typedef struct wal_reader wal_reader_t;

/*
 * Creates an empty log at path, replacing any file there. The header is written
 * to path.tmp, synced and renamed into place, so a crash leaves either no log or
 * a whole empty one.
 */
int wal_create(env_t *env, const char *path, wal_t **out, sl_err_t *err);

/*
 * Opens an existing log for appending at end_off, the valid end a reader found
 * (wal_reader_tail). Bytes past end_off — a torn tail — are cut off first.
 */
int wal_open(env_t *env, const char *path, uint64_t end_off, wal_t **out, sl_err_t *err);

/*
 * Appends one record with one write call: when it returns SL_OK the record has
 * reached the OS (a process crash cannot lose it), and with sync true it is also
 * fdatasync'ed (a power cut cannot). A failed write or fsync breaks the log:
 * later appends are refused with SL_READONLY until it is reopened.
 */
int wal_append(wal_t *w, const void *payload, size_t len, bool sync, sl_err_t *err);

/* fdatasync of everything appended so far. */
int wal_sync(wal_t *w, sl_err_t *err);

/*
 * Sync level batch: starts a thread that fdatasyncs the log every `ms` (> 0)
 * milliseconds whenever records were appended since the last fsync, so no
 * acknowledged record waits longer than about ms for the disk, even when no
 * further write comes to trigger it. A failed background fsync breaks the log:
 * the next append is refused (SL_READONLY) with that fsync's error. wal_close
 * stops the thread. REQUIRES: not already started.
 */
int wal_sync_every(wal_t *w, uint32_t ms, sl_err_t *err);

/* Empties the log (keeps the file header) and makes that durable. */
int wal_reset(wal_t *w, sl_err_t *err);

/* Bytes in the log file (header included). */
uint64_t wal_size(const wal_t *w);

/* Closes (without syncing) and frees w; NULL is a no-op. */
int wal_close(wal_t *w, sl_err_t *err);

/* ---- reading ---- */

typedef struct wal_tail {
	uint64_t valid_end; /* offset just past the last good record */
	uint64_t dropped;   /* bytes after valid_end that were ignored */
	char why[128];      /* what was wrong with the first ignored bytes, "" if none */
} wal_tail_t;

/* Opens path for reading; SL_CORRUPT when the header is not a log header. */
int wal_reader_open(env_t *env, const char *path, wal_reader_t **out, sl_err_t *err);

/*
 * Reads the next record. SL_OK: *rec points at the payload, valid until the next
 * call. SL_NOTFOUND: the log ended (cleanly or at a torn tail: see
 * wal_reader_tail). SL_CORRUPT: damage with valid records after it.
 * *off, when not NULL, receives the record's offset.
 */
int wal_reader_next(wal_reader_t *r, sl_slice_t *rec, uint64_t *off, sl_err_t *err);

/* Where the valid log ends; meaningful once wal_reader_next returned SL_NOTFOUND. */
const wal_tail_t *wal_reader_tail(const wal_reader_t *r);

void wal_reader_close(wal_reader_t *r);

#endif
