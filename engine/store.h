/*
 * store.h — the one interface every key-value store is driven through.
 *
 * The benchmark, the shell and the tests never special-case a store: ours (ref,
 * btree, hash, lsm) and the peers' adapters (leveldb, lmdb, ...) each fill in a
 * table of function pointers, store_ops_t, and register it under its name. A
 * caller opens a store by name and uses the store_* functions below, which count
 * the user-side statistics in one place and then call through the table.
 *
 * Keys and values are byte strings of any bytes, with explicit lengths.
 *
 * Sync levels (the same for every store; docs/substrate.md has what each
 * failure can cost at each):
 *   none    a write has reached the OS before its call returns: a process crash
 *           loses none of the writes that returned; a power cut may lose a tail;
 *   batch   the same, plus an fsync at least every batch_ms, even when idle;
 *   always  a write is on disk before its call returns: a crash at any instant
 *           loses none of the writes that returned, and reopening never yields a
 *           corrupt store.
 *
 * Nothing here knows any particular store: the registry is filled at run time by
 * whoever links the stores in (bench/stores.c for the storelab command).
 */
#ifndef SL_STORE_H
#define SL_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/batch.h"
#include "engine/buf.h"
#include "engine/env.h"
#include "engine/slice.h"
#include "engine/stats.h"
#include "engine/status.h"
#include "engine/trace.h"

typedef struct store_opts {
	sl_sync_t sync;       /* durability of writes */
	uint32_t batch_ms;    /* SL_SYNC_BATCH: longest delay before an fsync; 0 = 10 ms */
	uint64_t cache_bytes; /* cache / buffer pool budget; 0 = the store's default */
	uint32_t page_size;   /* for stores made of pages, at creation; 0 = default */
	bool no_create;       /* fail with SL_NOTFOUND instead of creating a new store */
	bool read_only;       /* open to read only: nothing on disk is written or made (not
	                         even by recovery, which then happens in memory); writes are
	                         refused with SL_READONLY; implies no_create. Works on a full
	                         disk and on read-only media. */
	env_t *env;           /* file layer to use; NULL = the store makes its own */
	const char *params;   /* store-specific "name=value,name=value"; NULL = none */
	trace_t trace;        /* narration from the open on (recovery included); store_trace
	                         changes it later; zero = off */
} store_opts_t;

/* The value of name in opts->params (copied into out); false when absent. */
bool store_opts_param(const store_opts_t *opts, const char *name, char *out, size_t out_size);

/*
 * Params every store accepts, as hints it may use or ignore: expected_keys (how
 * many keys a run will hold, for stores that size a table up front).
 */
#define STORE_COMMON_PARAMS "expected_keys"

typedef struct store store_t;
typedef struct store_iter store_iter_t;

/* Called for each entry by store_each; the slices last for the call. Anything
 * but SL_OK stops the walk, and store_each returns it. */
typedef int (*store_visit_fn)(void *ctx, sl_slice_t key, sl_slice_t value);

/* What a store can do, for callers that must choose (bench, advise, tests). */
enum {
	STORE_CAN_SCAN = 1 << 0,    /* ordered scans (a hash index cannot) */
	STORE_THREAD_SAFE = 1 << 1, /* one handle may be shared between threads */
	STORE_IS_PEER = 1 << 2,     /* an adapter for another engine */
	STORE_BY_NAME = 1 << 3,     /* left out of "every store" (bench's and advise's default
	                               lists) and run only when named: the test oracle, and
	                               stores made of other stores */
};

typedef struct store_ops {
	const char *name;    /* "ref", "btree", "lsm", "leveldb", ... */
	const char *summary; /* one line for listings */
	unsigned caps;       /* STORE_* flags */
	uint64_t max_key_bytes;   /* largest key accepted; 0 = no limit of its own */
	uint64_t max_value_bytes; /* largest value accepted; 0 = no limit of its own */
	const char *params;  /* the params it takes, space-separated ("policy ratio"); NULL = none */

	/* Opens or creates the store in directory dir (which it may create). */
	int (*open)(const char *dir, const store_opts_t *opts, store_t **out, sl_err_t *err);
	/* Flushes what the sync mode promises and frees the handle. */
	int (*close)(store_t *s);
	int (*put)(store_t *s, sl_slice_t key, sl_slice_t value);
	/* Copies the value into *value (replacing its contents); SL_NOTFOUND if absent. */
	int (*get)(store_t *s, sl_slice_t key, buf_t *value);
	/* Deleting an absent key is not an error. */
	int (*del)(store_t *s, sl_slice_t key);
	/* Applies every operation of b, or none of them. */
	int (*write)(store_t *s, const batch_t *b);
	/* An iterator positioned at the first key >= start (start NULL = the first key). */
	int (*seek)(store_t *s, const sl_slice_t *start, store_iter_t **out);
	/*
	 * Optional: seek, also told the scan's end bound (NULL = none), for a store
	 * that can use it to prune — a sharded store skips the nodes that cannot
	 * hold a key of the range. store_scan calls it instead of seek when set.
	 */
	int (*seek_range)(store_t *s, const sl_slice_t *start, const sl_slice_t *end,
			  store_iter_t **out);
	/*
	 * Optional: calls visit for every entry, in no particular order, for a store
	 * without ordered scans (the hash index) that must still be read whole — a
	 * rebalancing, a check. NULL = store_each runs a scan.
	 */
	int (*each)(store_t *s, store_visit_fn visit, void *ctx);
	/* Makes every write so far durable. */
	int (*sync)(store_t *s);
	/*
	 * Optional, for an engine with no timer of its own (the peers): the same, but
	 * called from the sync timer of level batch while other calls run, so it must
	 * be thread-safe and report into err, not the handle. With it, store_open
	 * starts an engine/syncer that calls it every batch_ms after writes, so the
	 * store keeps level batch's "an fsync at least every batch_ms". Our stores
	 * leave it NULL: their logs keep the promise themselves (wal_sync_every).
	 */
	int (*timer_sync)(store_t *s, sl_err_t *err);
	/* Appends the store's own figures and its disk/live bytes (see stats.h). */
	int (*stats)(store_t *s, stats_list_t *out);
	/* Walks the whole structure checking its invariants; NULL when it has none. */
	int (*check)(store_t *s);
} store_ops_t;

/*
 * The part of every store handle the interface owns. A store embeds it as its
 * first member (struct ref_store { store_t base; ... }).
 */
struct store {
	const store_ops_t *ops;    /* the implementation */
	bool read_only;            /* opened with opts->read_only: the wrappers refuse writes */
	unsigned caps_lost;        /* STORE_* flags of ops this handle lacks (a sharded store
	                              of hash nodes cannot scan); store_caps leaves them out */
	struct syncer *timer;      /* level batch with ops->timer_sync: the sync timer, or NULL */
	sl_err_t err;              /* last error message */
	trace_t trace;             /* narration hook, off by default */
	stats_counters_t counters; /* user-side statistics */
};

/*
 * For implementations: prepares a store's directory — creates it (unless
 * opts->no_create or read_only), takes its LOCK file (SL_BUSY if another handle
 * holds it; shared among read-only handles, which neither make nor change it),
 * and refuses it (SL_INVALID) when it holds files whose names do not start with
 * `prefix`, naming the store kind the caller expected. *lock is released with
 * env_unlock.
 */
int store_dir_prepare(env_t *env, const char *dir, const store_opts_t *opts, const char *kind,
		      const char *prefix, env_lock_t **lock, sl_err_t *err);

/*
 * For implementations: what a store on disk keeps besides its structure — its
 * directory, its file layer (the caller's, or one of its own) and its lock.
 * store_home_open copies dir, picks the env and runs store_dir_prepare;
 * store_home_close undoes all of it; store_home_stats adds the device.* figures
 * and disk_bytes (live_bytes 0: the harness knows them better).
 */
typedef struct store_home {
	char *dir;          /* the store's directory */
	env_t *env;         /* its file layer */
	bool own_env;       /* env was made here (none in the options) */
	env_lock_t *lock;   /* its LOCK */
} store_home_t;

int store_home_open(store_home_t *home, const char *dir, const store_opts_t *opts,
		    const char *kind, const char *prefix, sl_err_t *err);
void store_home_close(store_home_t *home);
void store_home_stats(store_home_t *home, stats_list_t *out);

/* Called by an implementation's open on its freshly allocated handle (takes
 * opts->trace, so that the open itself, recovery included, is narrated). */
void store_init_base(store_t *s, const store_ops_t *ops, const store_opts_t *opts);

/*
 * An iterator over a key range. Implementations fill `valid`, `key`, `value` and
 * `status` and provide next and close; the end bound is applied by store_iter_next
 * and store_scan, so implementations only seek and step.
 */
typedef struct store_iter_ops {
	int (*next)(store_iter_t *it);  /* step to the next key; sets valid/key/value */
	void (*close)(store_iter_t *it);
} store_iter_ops_t;

struct store_iter {
	const store_iter_ops_t *ops; /* the implementation */
	store_t *store;              /* the store scanned */
	bool valid;                  /* positioned on an entry */
	sl_slice_t key;              /* current key, valid until the next step */
	sl_slice_t value;            /* current value, same */
	int status;                  /* SL_OK, or why iteration stopped early */
	buf_t end;                   /* exclusive end bound (when has_end) */
	bool has_end;                /* false = to the last key */
	uint64_t bytes_read;         /* key + value bytes handed out, counted at close */
};

/* ---- the registry ---- */

/* Adds ops to the registry; SL_INVALID if the name is taken or the table is full. */
int store_register(const store_ops_t *ops);
/* The implementation registered as name, or NULL. */
const store_ops_t *store_lookup(const char *name);
/* The registered implementations, in registration order. */
size_t store_registered(const store_ops_t *const **list);

/* ---- using a store ---- */

/* Opens store `name` in dir. *err gets the message when it fails. */
int store_open(const char *name, const char *dir, const store_opts_t *opts, store_t **out,
	       sl_err_t *err);
int store_close(store_t *s);

/* Whether the store takes param `name` (name_len bytes): its own or a common one. */
bool store_param_known(const store_ops_t *ops, const char *name, size_t name_len);

/*
 * Checks "name=value,..." against the params ops takes: SL_OK, or SL_INVALID
 * naming the first unknown or malformed one and listing the known ones.
 * store_open runs it, so a mistyped param is never silently ignored.
 */
int store_params_check(const store_ops_t *ops, const char *params, sl_err_t *err);

int store_put(store_t *s, sl_slice_t key, sl_slice_t value);
int store_get(store_t *s, sl_slice_t key, buf_t *value);
int store_del(store_t *s, sl_slice_t key);
int store_write(store_t *s, const batch_t *b);
int store_sync(store_t *s);

/*
 * Iterates keys in [start, end) in order; start NULL = from the first key, end
 * NULL = to the last. SL_NOTSUP for stores without ordered scans.
 * The iterator is valid until the next write to the store; close it before.
 */
int store_scan(store_t *s, const sl_slice_t *start, const sl_slice_t *end, store_iter_t **out);
int store_iter_next(store_iter_t *it);
void store_iter_close(store_iter_t *it);

/*
 * Visits every entry of s: in key order for a store that scans, in no
 * particular order for one with ops->each instead. visit must not write to s.
 */
int store_each(store_t *s, store_visit_fn visit, void *ctx);

static inline bool store_iter_valid(const store_iter_t *it) { return it->valid; }
static inline sl_slice_t store_iter_key(const store_iter_t *it) { return it->key; }
static inline sl_slice_t store_iter_value(const store_iter_t *it) { return it->value; }

/* The user.* figures, the store's own, and the derived amplifications. */
int store_stats(store_t *s, stats_list_t *out);
int store_check(store_t *s);

/* Switches narration on (fn != NULL) or off. */
void store_trace(store_t *s, trace_fn fn, void *ctx);

/* The message of the last failed call on s. */
const char *store_errmsg(const store_t *s);
const char *store_name(const store_t *s);
unsigned store_caps(const store_t *s);

#endif
