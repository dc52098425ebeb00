/* storecheck.c — store-level checks shared by the store suites (see storecheck.h). */
#include "tests/testutil.h"
#include "tests/storecheck.h"

#include "engine/checksum.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *sc_params; /* params for the store under test (sc_set_params) */

static bool sc_loss_always; /* sc_set_power_loss_always */

void sc_set_power_loss_always(bool on)
{
	sc_loss_always = on;
}

void sc_set_params(const char *params)
{
	sc_params = params;
}

store_t *sc_open(const char *name, const char *dir, uint32_t page_size, sl_sync_t sync)
{
	store_opts_t o = { .page_size = page_size, .sync = sync, .cache_bytes = 1 << 20,
			   .params = strcmp(name, "ref") == 0 ? "log=off" : sc_params };
	store_t *s;
	sl_err_t err = { 0 };
	if (store_open(name, dir, &o, &s, &err) != SL_OK)
		fail_msg("open %s at %s: %s", name, dir, err.msg);
	return s;
}

void sc_check(store_t *s)
{
	if (store_check(s) != SL_OK)
		fail_msg("%s check: %s", store_name(s), store_errmsg(s));
}

/* Keys with long shared prefixes and random tails, lengths 0..max_key. */
static sl_slice_t sc_key(tu_rng_t *r, uint8_t *buf, uint32_t max_key, uint64_t space)
{
	uint64_t id = tu_below(r, space);
	size_t len;
	switch (id % 5) {
	case 0: /* empty, 1- and 2-byte keys */
		len = (size_t)(id % 3);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)(id >> (8 * i));
		break;
	case 1: { /* at and near the largest key */
		len = max_key - (id % 3);
		memset(buf, 'k', len);
		char tail[24];
		snprintf(tail, sizeof tail, "%08llu", (unsigned long long)(id % 100000000));
		memcpy(buf + len - 8, tail, 8);
		break;
	}
	default:
		len = (size_t)snprintf((char *)buf, 64, "prefix/shared/%06llu", (unsigned long long)id);
	}
	return sl_slice(buf, len);
}

static sl_slice_t sc_value(tu_rng_t *r, uint8_t *buf)
{
	uint64_t dice = tu_below(r, 20);
	size_t len = dice == 0 ? 0 : dice == 1 ? 300 + tu_below(r, 3000) : tu_below(r, 60);
	tu_fill(r, buf, len);
	return sl_slice(buf, len);
}

static void sc_same_get(store_t *s, store_t *ref, sl_slice_t k)
{
	buf_t a = BUF_INIT, b = BUF_INIT;
	int ra = store_get(s, k, &a), rb = store_get(ref, k, &b);
	if (ra != rb)
		fail_msg("get: %s %d, ref %d (%s)", store_name(s), ra, rb, store_errmsg(s));
	if (ra == SL_OK)
		assert_true(sl_slice_eq(buf_slice(&a), buf_slice(&b)));
	buf_free(&a);
	buf_free(&b);
}

static void sc_same_scan(store_t *s, store_t *ref, const sl_slice_t *start, size_t limit)
{
	if (!(store_caps(s) & STORE_CAN_SCAN))
		return;
	store_iter_t *a, *b;
	assert_int_equal(store_scan(s, start, NULL, &a), SL_OK);
	assert_int_equal(store_scan(ref, start, NULL, &b), SL_OK);
	for (size_t i = 0; i < limit && store_iter_valid(b); i++) {
		if (!store_iter_valid(a))
			fail_msg("scan: %s ended early at entry %zu (%s)", store_name(s), i,
				 store_errmsg(s));
		assert_true(sl_slice_eq(store_iter_key(a), store_iter_key(b)));
		assert_true(sl_slice_eq(store_iter_value(a), store_iter_value(b)));
		store_iter_next(a);
		store_iter_next(b);
	}
	if (limit == SIZE_MAX)
		assert_false(store_iter_valid(a));
	store_iter_close(a);
	store_iter_close(b);
}

/* Every key of the reference, read back from the store. */
static void sc_same_all(store_t *s, store_t *ref)
{
	store_iter_t *it;
	assert_int_equal(store_scan(ref, NULL, NULL, &it), SL_OK);
	for (; store_iter_valid(it); store_iter_next(it))
		sc_same_get(s, ref, store_iter_key(it));
	store_iter_close(it);
	sc_same_scan(s, ref, NULL, SIZE_MAX);
}

static void sc_step(tu_rng_t *r, store_t *s, store_t *ref, uint32_t max_key, uint64_t space)
{
	static uint8_t kb[1100], vb[4000];
	uint64_t dice = tu_below(r, 100);
	sl_slice_t k = sc_key(r, kb, max_key, space);
	if (dice < 45) {
		sl_slice_t v = sc_value(r, vb);
		if (store_put(s, k, v) != SL_OK)
			fail_msg("put: %s", store_errmsg(s));
		assert_int_equal(store_put(ref, k, v), SL_OK);
	} else if (dice < 75) {
		assert_int_equal(store_del(s, k), SL_OK);
		assert_int_equal(store_del(ref, k), SL_OK);
	} else if (dice < 95) {
		sc_same_get(s, ref, k);
	} else {
		sc_same_scan(s, ref, &k, 20);
	}
}

void sc_differential(const char *name, const char *dir, uint32_t page_size, uint32_t max_key,
		     uint64_t ops, uint64_t space, uint64_t seed)
{
	tu_rng_t r;
	tu_rng_init(&r, seed);
	store_t *s = sc_open(name, dir, page_size, SL_SYNC_NONE);
	store_t *ref = sc_open("ref", "/nonexistent", 0, SL_SYNC_NONE);
	for (uint64_t op = 0; op < ops; op++) {
		sc_step(&r, s, ref, max_key, space);
		if (op % 2000 == 1999)
			sc_check(s);
		if (tu_below(&r, 3000) == 0) {
			assert_int_equal(store_close(s), SL_OK);
			s = sc_open(name, dir, page_size, SL_SYNC_NONE);
			sc_check(s);
		}
	}
	sc_check(s);
	sc_same_all(s, ref);
	store_close(s);
	s = sc_open(name, dir, page_size, SL_SYNC_NONE);
	sc_check(s);
	sc_same_all(s, ref);
	store_close(s);
	store_close(ref);
}

/* Put number i of a writer whose keys start with prefix: key prefix + i (6 digits), value "value-i". */
static int sc_numbered_put(store_t *s, const char *prefix, uint32_t i)
{
	char k[64], v[32];
	snprintf(k, sizeof k, "%s%06u", prefix, i);
	snprintf(v, sizeof v, "value-%u", i);
	return store_put(s, sl_slice_str(k), sl_slice_str(v));
}

/*
 * Counts how many of puts 0 .. acked-1 of prefix the open store s holds. They must form a prefix — puts 0 .. kept-1 with
 * their values, none after — since every store applies its log in order: a
 * power cut may take back a tail of unsynced writes, never one in the middle.
 * Fails the test (saying `what` happened to the writer) when they do not.
 * sc_count_kept reopens the store in dir, checks it and counts.
 */
static uint32_t sc_count_in(store_t *s, const char *name, const char *prefix, uint32_t acked,
			    const char *what)
{
	buf_t got = BUF_INIT;
	uint32_t kept = 0;
	for (uint32_t i = 0; i < acked; i++) {
		char k[64], want[32];
		snprintf(k, sizeof k, "%s%06u", prefix, i);
		snprintf(want, sizeof want, "value-%u", i);
		int rc = store_get(s, sl_slice_str(k), &got);
		if (rc == SL_OK && kept < i)
			fail_msg("%s, %s: put %u is there but put %u before it was lost", name, what, i,
				 kept);
		if (rc == SL_OK) {
			assert_true(sl_slice_eq(buf_slice(&got), sl_slice_str(want)));
			kept++;
		} else if (rc != SL_NOTFOUND) {
			fail_msg("%s, %s: get of put %u: %s", name, what, i, store_errmsg(s));
		}
	}
	buf_free(&got);
	return kept;
}

static uint32_t sc_count_kept(const char *name, const char *dir, uint32_t page_size,
			      const char *prefix, uint32_t acked, const char *what)
{
	store_t *s = sc_open(name, dir, page_size, SL_SYNC_NONE);
	sc_check(s);
	uint32_t kept = sc_count_in(s, name, prefix, acked, what);
	store_close(s);
	return kept;
}

/* Like sc_count_kept, but every one of the acked puts must be there. */
static void sc_expect_acked(const char *name, const char *dir, uint32_t page_size,
			    const char *prefix, uint32_t acked, const char *what)
{
	uint32_t kept = sc_count_kept(name, dir, page_size, prefix, acked, what);
	if (kept < acked)
		fail_msg("%s, %s: acknowledged put %u of %u lost", name, what, kept, acked);
}

/* The child of a crash round: puts until killed, reporting each acknowledged one. */
static void sc_crash_child(const char *name, const char *dir, uint32_t page_size,
			   sl_sync_t sync, uint64_t round, int fd)
{
	store_t *s;
	sl_err_t err = { 0 };
	store_opts_t o = { .sync = sync, .page_size = page_size, .params = sc_params };
	if (store_open(name, dir, &o, &s, &err) != SL_OK)
		_exit(3);
	char prefix[32];
	snprintf(prefix, sizeof prefix, "r%llu-", (unsigned long long)round);
	for (uint32_t i = 0;; i++) {
		if (sc_numbered_put(s, prefix, i) != SL_OK)
			_exit(4);
		if (write(fd, &i, sizeof i) != sizeof i)
			_exit(5);
	}
}

uint64_t sc_crash(const char *name, const char *dir, uint32_t page_size, uint64_t rounds,
		  uint64_t seed)
{
	static const sl_sync_t levels[] = { SL_SYNC_NONE, SL_SYNC_BATCH, SL_SYNC_ALWAYS };
	tu_rng_t r;
	tu_rng_init(&r, seed);
	uint64_t total = 0;
	for (uint64_t round = 0; round < rounds; round++) {
		sl_sync_t sync = levels[round % 3];
		int p[2];
		assert_int_equal(pipe(p), 0);
		pid_t pid = fork();
		if (pid == 0) {
			close(p[0]);
			sc_crash_child(name, dir, page_size, sync, round, p[1]);
		}
		close(p[1]);
		/* Every other round waits for the first acknowledgement before its random
		 * delay, so a machine too loaded to open the store in 65 ms still tests
		 * recovery with acknowledged puts; the rest may kill during the open. */
		uint32_t last = 0, i;
		bool any = round % 2 == 0 && read(p[0], &i, sizeof i) == sizeof i;
		tu_sleep_ms((unsigned)(5 + tu_below(&r, 60)));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		while (read(p[0], &i, sizeof i) == sizeof i) {
			last = i;
			any = true;
		}
		close(p[0]);
		char prefix[32], what[64];
		snprintf(prefix, sizeof prefix, "r%llu-", (unsigned long long)round);
		snprintf(what, sizeof what, "SIGKILL round %llu at sync %s", (unsigned long long)round,
			 sl_sync_name(sync));
		sc_expect_acked(name, dir, page_size, prefix, any ? last + 1 : 0, what);
		total += any ? last + 1 : 0;
	}
	return total;
}

/* The power cut of sc_power_loss's child: fired from a second thread at a random moment. */
typedef struct sc_cutter {
	env_t *env;
	uint64_t seed;
	uint32_t delay_us;
	env_loss_mode_t mode;
	int fd;
} sc_cutter_t;

static void *sc_cutter_main(void *p)
{
	sc_cutter_t *c = p;
	struct timespec ts = { 0, (long)c->delay_us * 1000L };
	nanosleep(&ts, NULL);
	env_loss_report_t rep;
	if (env_power_loss(c->env, c->seed, c->mode, &rep) != SL_OK)
		_exit(6);
	/*
	 * The acknowledgements written so far are in the pipe; then the marker and
	 * this report, in one write (atomic: under PIPE_BUF bytes) so that an ack the
	 * writer thread sends meanwhile cannot land between them.
	 */
	uint8_t msg[sizeof(uint32_t) + sizeof rep];
	uint32_t marker = UINT32_MAX;
	memcpy(msg, &marker, sizeof marker);
	memcpy(msg + sizeof marker, &rep, sizeof rep);
	if (write(c->fd, msg, sizeof msg) != (ssize_t)sizeof msg)
		_exit(7);
	_exit(0); /* the power is off: nothing more reaches the files */
}

/*
 * The child of sc_power_loss: puts with sync always, acknowledging each through
 * the pipe, until the cutter thread cuts the power mid-flight — during a put, a
 * flush, a compaction or a checkpoint, wherever it falls.
 */
static void sc_loss_child(const char *name, const char *dir, uint32_t page_size, sl_sync_t sync,
			  uint64_t round, uint32_t delay_us, env_loss_mode_t mode, int fd)
{
	static pthread_mutex_t pipe_mu = PTHREAD_MUTEX_INITIALIZER;
	env_t *env = env_new();
	if (env == NULL || env_loss_track(env, true) != SL_OK)
		_exit(2);
	store_t *s;
	sl_err_t err = { 0 };
	store_opts_t o = { .sync = sync, .page_size = page_size, .params = sc_params, .env = env };
	if (store_open(name, dir, &o, &s, &err) != SL_OK)
		_exit(3);
	sc_cutter_t c = { env, round * 7919 + delay_us, delay_us, mode, fd };
	pthread_t t;
	pthread_mutex_lock(&pipe_mu);
	if (pthread_create(&t, NULL, sc_cutter_main, &c) != 0)
		_exit(8);
	pthread_mutex_unlock(&pipe_mu);
	char prefix[32];
	snprintf(prefix, sizeof prefix, "r%llu-", (unsigned long long)round);
	for (uint32_t i = 0;; i++) {
		if (sc_numbered_put(s, prefix, i) != SL_OK)
			pause(); /* the power is off; wait for the cutter to end us */
		if (write(fd, &i, sizeof i) != sizeof i)
			_exit(5);
	}
}

/*
 * Sync level batch promises an fsync at least every batch_ms, even when no
 * later write comes: one put, then nothing until the store's log has been
 * synced (waiting at most 2 s), then a power cut that takes back everything
 * unsynced. The put must survive it.
 */
static void sc_batch_idle_put(const char *name, const char *dir, uint32_t page_size)
{
	tu_rmrf(dir);
	store_t *s = sc_open(name, dir, page_size, SL_SYNC_NONE); /* created and closed cleanly */
	store_close(s);
	env_t *env = env_new();
	assert_int_equal(env_loss_track(env, true), SL_OK);
	sl_err_t err = { 0 };
	store_opts_t o = { .sync = SL_SYNC_BATCH, .batch_ms = 5, .page_size = page_size,
			   .params = sc_params, .env = env };
	if (store_open(name, dir, &o, &s, &err) != SL_OK)
		fail_msg("open %s: %s", name, err.msg);
	env_counters_t c;
	env_counters(env, &c);
	uint64_t syncs = c.syncs;
	assert_int_equal(sc_numbered_put(s, "idle-", 0), SL_OK);
	for (int i = 0; i < 2000 && c.syncs == syncs; i++) {
		tu_sleep_ms(1);
		env_counters(env, &c);
	}
	tu_sleep_ms(20); /* the counted fsync has returned */
	env_loss_report_t rep;
	assert_int_equal(env_power_loss(env, 7, ENV_LOSS_DROP, &rep), SL_OK);
	store_close(s); /* its writes fail now: the power is off */
	env_free(env);
	sc_expect_acked(name, dir, page_size, "idle-", 1, "power cut after an idle batch_ms");
}

uint64_t sc_power_loss(const char *name, const char *dir, uint32_t page_size, uint64_t rounds,
		       uint64_t seed, sc_loss_totals_t *totals)
{
	sc_batch_idle_put(name, dir, page_size);
	static const sl_sync_t levels[] = { SL_SYNC_NONE, SL_SYNC_BATCH, SL_SYNC_ALWAYS };
	tu_rng_t r;
	tu_rng_init(&r, seed);
	sc_loss_totals_t t = { 0 };
	for (uint64_t round = 0; round < rounds; round++) {
		int p[2];
		assert_int_equal(pipe(p), 0);
		uint32_t delay_us = (uint32_t)(2000 + tu_below(&r, 60000));
		/* 3 levels and 4 modes: every pairing comes round once in 12 rounds. */
		int level = sc_loss_always ? 2 : (int)(round % 3);
		env_loss_mode_t mode = (env_loss_mode_t)(round % 4);
		pid_t pid = fork();
		if (pid == 0) {
			close(p[0]);
			sc_loss_child(name, dir, page_size, levels[level], round, delay_us, mode, p[1]);
		}
		close(p[1]);
		/* Acknowledgements until the cutter's marker; puts are numbered from 0. */
		uint32_t acked = 0, i;
		while (read(p[0], &i, sizeof i) == sizeof i && i != UINT32_MAX)
			acked = i + 1;
		env_loss_report_t rep = { 0 };
		bool reported = i == UINT32_MAX && read(p[0], &rep, sizeof rep) == sizeof rep;
		int status;
		waitpid(pid, &status, 0); /* before closing the pipe: late acks must not SIGPIPE it */
		close(p[0]);
		if (!reported || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("%s round %llu: the writer failed (exit status %d)", name,
				 (unsigned long long)round, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		char prefix[32], what[64];
		snprintf(prefix, sizeof prefix, "r%llu-", (unsigned long long)round);
		snprintf(what, sizeof what, "power cut %llu (mode %d, sync %s)",
			 (unsigned long long)round, (int)mode, sl_sync_name(levels[level]));
		uint32_t kept = sc_count_kept(name, dir, page_size, prefix, acked, what);
		if (levels[level] == SL_SYNC_ALWAYS && kept < acked)
			fail_msg("%s, %s: acknowledged put %u of %u lost", name, what, kept, acked);
		t.acked[level] += acked;
		t.lost[level] += acked - kept;
		t.rounds++;
		t.changes_lost += rep.changes_lost;
		t.changes_kept += rep.changes_kept;
		t.torn += rep.torn;
		t.zeroed += rep.zeroed;
		t.files_vanished += rep.files_vanished;
	}
	print_message("%s: %llu power cuts took back %llu unsynced changes, tore %llu writes, "
		      "zeroed %llu sectors, lost %llu new names; acknowledged puts lost (a tail, "
		      "never a hole): none %llu of %llu, batch %llu of %llu, always %llu of %llu\n",
		      name, (unsigned long long)t.rounds, (unsigned long long)t.changes_lost,
		      (unsigned long long)t.torn, (unsigned long long)t.zeroed,
		      (unsigned long long)t.files_vanished, (unsigned long long)t.lost[0],
		      (unsigned long long)t.acked[0], (unsigned long long)t.lost[1],
		      (unsigned long long)t.acked[1], (unsigned long long)t.lost[2],
		      (unsigned long long)t.acked[2]);
	if (totals)
		*totals = t;
	return t.acked[0] + t.acked[1] + t.acked[2];
}

/* The writer of sc_crash_at: puts (sync always) until its env's crash point kills it. */
static void sc_crash_at_child(const char *name, const char *dir, uint32_t page_size, env_op_t op,
			      const char *part, uint64_t nth, int fd)
{
	env_t *env = env_new();
	store_t *s;
	sl_err_t err = { 0 };
	store_opts_t o = { .sync = SL_SYNC_ALWAYS, .page_size = page_size, .params = sc_params,
			   .env = env };
	if (env == NULL || store_open(name, dir, &o, &s, &err) != SL_OK)
		_exit(3);
	env_crash_set(env, op, part, nth);
	char prefix[32];
	snprintf(prefix, sizeof prefix, "c%llu-", (unsigned long long)nth);
	for (uint32_t i = 0; i < 4000; i++) {
		if (sc_numbered_put(s, prefix, i) != SL_OK)
			_exit(4);
		if (write(fd, &i, sizeof i) != sizeof i)
			_exit(5);
	}
	_exit(0); /* the crash point was never reached */
}

uint64_t sc_crash_at(const char *name, const char *dir, uint32_t page_size, env_op_t op,
		     const char *part, uint64_t max, uint64_t step, uint64_t *acked_total)
{
	uint64_t fired = 0;
	for (uint64_t nth = 1; nth <= max; nth += step) {
		int p[2];
		assert_int_equal(pipe(p), 0);
		pid_t pid = fork();
		if (pid == 0) {
			close(p[0]);
			sc_crash_at_child(name, dir, page_size, op, part, nth, p[1]);
		}
		close(p[1]);
		uint32_t acked = 0, i;
		while (read(p[0], &i, sizeof i) == sizeof i)
			acked = i + 1;
		close(p[0]);
		int status;
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			fail_msg("%s: crash point %s #%llu: the writer failed (exit %d)", name, part,
				 (unsigned long long)nth, WEXITSTATUS(status));
		fired += WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
		char prefix[32], what[96];
		snprintf(prefix, sizeof prefix, "c%llu-", (unsigned long long)nth);
		snprintf(what, sizeof what, "killed at %s call %llu", part, (unsigned long long)nth);
		sc_expect_acked(name, dir, page_size, prefix, acked, what);
		*acked_total += acked;
	}
	return fired;
}

uint64_t sc_paged_crash_points(const char *name, const char *dir, const char *file)
{
	char dwb[128], log[128];
	snprintf(dwb, sizeof dwb, "%s-dwb", file);
	snprintf(log, sizeof log, "%s-log", file);
	uint64_t acked = 0, fired = 0;
	fired += sc_crash_at(name, dir, 512, ENV_OP_WRITE, dwb, 24, 3, &acked);
	fired += sc_crash_at(name, dir, 512, ENV_OP_WRITE, file, 40, 5, &acked);
	fired += sc_crash_at(name, dir, 512, ENV_OP_SYNC, log, 30, 5, &acked);
	print_message("%s: %llu crash points fired (checkpoint copies, page writes, log fsyncs); "
		      "%llu acknowledged puts verified\n", name, (unsigned long long)fired,
		      (unsigned long long)acked);
	return fired;
}

/*
 * One fault point: a fresh store, the fault armed (sticky), puts with sync
 * always until one fails; then the checks of sc_fault_sweep. true if it fired.
 */
static bool sc_fault_point(const char *name, const char *dir, uint32_t page_size, env_op_t op,
			   env_fault_t kind, uint64_t nth, bool sticky)
{
	tu_rmrf(dir);
	env_t *env = env_new();
	store_t *s;
	sl_err_t err = { 0 };
	store_opts_t o = { .sync = SL_SYNC_ALWAYS, .page_size = page_size, .params = sc_params,
			   .env = env };
	if (store_open(name, dir, &o, &s, &err) != SL_OK)
		fail_msg("open %s: %s", name, err.msg);
	env_fault_set(env, op, nth, kind, sticky);
	uint32_t acked = 0;
	int rc = SL_OK;
	for (; acked < 2000 && rc == SL_OK; acked += rc == SL_OK)
		rc = sc_numbered_put(s, "f-", acked);
	if (rc != SL_OK) {
		if (rc != SL_IO && rc != SL_FULL && rc != SL_READONLY)
			fail_msg("%s: fault on op %d call %llu: status %d: %s", name, (int)op,
				 (unsigned long long)nth, rc, store_errmsg(s));
		if (strlen(store_errmsg(s)) == 0)
			fail_msg("%s: a failed put without a message", name);
		/*
		 * Nothing may claim success now: with a sticky fault the disk is still
		 * failing; after a one-time fsync failure the disk works again, but
		 * whether the failed bytes reached it is unknown, so the store must
		 * refuse writes until it is reopened — and say so.
		 */
		int again = store_put(s, sl_slice_str("after"), sl_slice_str("x"));
		if (again == SL_OK)
			fail_msg("%s: a put succeeded after %s: %s", name,
				 sticky ? "a failure on a failing disk" : "a failed fsync", store_errmsg(s));
		if (!sticky && again != SL_READONLY)
			fail_msg("%s: after a failed fsync, a put got %d, not SL_READONLY: %s", name,
				 again, store_errmsg(s));
	}
	store_close(s);
	env_free(env);
	/* The disk is healthy again: every acknowledged put must be there. */
	char what[64];
	snprintf(what, sizeof what, "fault on op %d call %llu", (int)op, (unsigned long long)nth);
	sc_expect_acked(name, dir, page_size, "f-", acked, what);
	return rc != SL_OK;
}

/*
 * The log's nth write fails (sticky, aimed at the log): its disk is full
 * (ENOSPC) or failing (EIO), with the store at sync level `sync`. The put whose
 * log write failed must be the one that reports it (SL_FULL or SL_IO) — every
 * put before it met no fault, so nothing was held back to fail later — no put
 * may succeed after it, and after a reopen every acknowledged put is there.
 * true if the fault fired.
 */
static bool sc_log_fault_point(const char *name, const char *dir, uint32_t page_size,
			       sl_sync_t sync, env_fault_t kind, uint64_t nth)
{
	tu_rmrf(dir);
	env_t *env = env_new();
	store_t *s;
	sl_err_t err = { 0 };
	store_opts_t o = { .sync = sync, .page_size = page_size, .params = sc_params, .env = env };
	if (store_open(name, dir, &o, &s, &err) != SL_OK)
		fail_msg("open %s: %s", name, err.msg);
	env_fault_aim(env, "log");
	env_fault_set(env, ENV_OP_WRITE, nth, kind, true);
	uint32_t acked = 0;
	int rc = SL_OK;
	while (acked < 2000) {
		uint64_t before = env_faults_injected(env);
		rc = sc_numbered_put(s, "f-", acked);
		bool met_fault = env_faults_injected(env) > before;
		if (rc == SL_OK && met_fault)
			fail_msg("%s, sync %s: put %u met the failing disk yet returned OK", name,
				 sl_sync_name(sync), acked);
		if (rc != SL_OK && !met_fault)
			fail_msg("%s, sync %s: put %u failed for an earlier write: %s", name,
				 sl_sync_name(sync), acked, store_errmsg(s));
		if (rc != SL_OK)
			break;
		acked++;
	}
	int want = kind == ENV_FAULT_ENOSPC ? SL_FULL : SL_IO;
	if (rc != SL_OK) {
		if (rc != want)
			fail_msg("%s, sync %s: the log's failing write gave status %d, not %d: %s", name,
				 sl_sync_name(sync), rc, want, store_errmsg(s));
		assert_int_not_equal(store_put(s, sl_slice_str("after"), sl_slice_str("x")), SL_OK);
	}
	store_close(s);
	env_free(env);
	char what[64];
	snprintf(what, sizeof what, "log write %llu failing (%s), sync %s", (unsigned long long)nth,
		 kind == ENV_FAULT_ENOSPC ? "ENOSPC" : "EIO", sl_sync_name(sync));
	sc_expect_acked(name, dir, page_size, "f-", acked, what);
	return rc != SL_OK;
}

uint64_t sc_fault_sweep(const char *name, const char *dir, uint32_t page_size, uint64_t *fired)
{
	const struct { env_op_t op; env_fault_t kind; uint64_t step, max; bool sticky; } plan[] = {
		{ ENV_OP_WRITE, ENV_FAULT_ENOSPC, 7, 300, true },
		{ ENV_OP_WRITE, ENV_FAULT_SHORT, 11, 300, true },
		{ ENV_OP_SYNC, ENV_FAULT_EIO, 7, 300, true },
		{ ENV_OP_SYNC, ENV_FAULT_EIO, 13, 300, false }, /* one failed fsync, then a healthy disk */
		{ ENV_OP_OPEN, ENV_FAULT_EIO, 1, 8, true },
		{ ENV_OP_RENAME, ENV_FAULT_EIO, 1, 4, true },
	};
	uint64_t tried = 0;
	*fired = 0;
	for (size_t p = 0; p < sizeof plan / sizeof plan[0]; p++)
		for (uint64_t nth = 1; nth <= plan[p].max; nth += plan[p].step) {
			*fired += sc_fault_point(name, dir, page_size, plan[p].op, plan[p].kind, nth,
						 plan[p].sticky);
			tried++;
		}
	static const sl_sync_t levels[] = { SL_SYNC_NONE, SL_SYNC_BATCH, SL_SYNC_ALWAYS };
	for (size_t l = 0; l < 3; l++)
		for (uint64_t nth = 1; nth <= 200; nth += 33) {
			env_fault_t kind = nth % 2 ? ENV_FAULT_ENOSPC : ENV_FAULT_EIO;
			*fired += sc_log_fault_point(name, dir, page_size, levels[l], kind, nth);
			tried++;
		}
	print_message("%s: %llu fault points tried, %llu fired; every acknowledged put kept\n",
		      name, (unsigned long long)tried, (unsigned long long)*fired);
	return tried;
}

/* ---- bad input at the edges ---- */

void sc_edges(const char *name, const char *dir, const char *other_kind, uint32_t page_size)
{
	tu_rmrf(dir);
	store_t *s = sc_open(name, dir, page_size, SL_SYNC_NONE), *again;
	const store_ops_t *ops = store_lookup(name);
	buf_t got = BUF_INIT;
	/* The empty key, and keys and values of any bytes, are keys like any other. */
	const uint8_t bin[] = { 0, 0xff, 0, '\n', 0x80 };
	assert_int_equal(store_put(s, sl_slice("", 0), sl_slice_str("empty key")), SL_OK);
	assert_int_equal(store_put(s, sl_slice(bin, sizeof bin), sl_slice(bin, sizeof bin)), SL_OK);
	assert_int_equal(store_put(s, sl_slice_str("empty value"), sl_slice("", 0)), SL_OK);
	/* At the limits: accepted; one byte past: SL_INVALID, saying so. */
	uint64_t kmax = ops->max_key_bytes ? ops->max_key_bytes : 4096;
	uint64_t vmax = ops->max_value_bytes ? ops->max_value_bytes : 1 << 20;
	if (vmax > (8u << 20))
		vmax = 8u << 20; /* a limit that high is checked by the store's own suite */
	uint8_t *big = malloc(vmax + 1);
	memset(big, 'b', vmax + 1);
	assert_int_equal(store_put(s, sl_slice(big, kmax), sl_slice_str("longest key")), SL_OK);
	assert_int_equal(store_put(s, sl_slice_str("largest value"), sl_slice(big, vmax)), SL_OK);
	if (ops->max_key_bytes) {
		assert_int_equal(store_put(s, sl_slice(big, kmax + 1), sl_slice_str("v")), SL_INVALID);
		assert_true(strlen(store_errmsg(s)) > 0);
	}
	if (ops->max_value_bytes && ops->max_value_bytes <= (8u << 20)) {
		assert_int_equal(store_put(s, sl_slice_str("k"), sl_slice(big, vmax + 1)), SL_INVALID);
		assert_true(strlen(store_errmsg(s)) > 0);
	}
	if (ops->max_key_bytes) {
		/* In a batch too: all of it refused, none of it applied, the store still writable. */
		batch_t b;
		batch_init(&b);
		batch_put(&b, sl_slice_str("batch fine"), sl_slice_str("v"));
		batch_put(&b, sl_slice(big, kmax + 1), sl_slice_str("v"));
		assert_int_equal(store_write(s, &b), SL_INVALID);
		batch_free(&b);
		assert_int_equal(store_get(s, sl_slice_str("batch fine"), &got), SL_NOTFOUND);
		assert_int_equal(store_put(s, sl_slice_str("after batch"), sl_slice_str("v")), SL_OK);
	}
	/* A second opener is refused while the first holds the directory. */
	store_opts_t o = { .page_size = page_size, .params = sc_params };
	sl_err_t err = { 0 };
	assert_int_equal(store_open(name, dir, &o, &again, &err), SL_BUSY);
	assert_true(strlen(err.msg) > 0);
	store_close(s);
	/* Everything above, back after a reopen. */
	s = sc_open(name, dir, page_size, SL_SYNC_NONE);
	assert_int_equal(store_get(s, sl_slice("", 0), &got), SL_OK);
	assert_true(sl_slice_eq(buf_slice(&got), sl_slice_str("empty key")));
	assert_int_equal(store_get(s, sl_slice(bin, sizeof bin), &got), SL_OK);
	assert_true(sl_slice_eq(buf_slice(&got), sl_slice(bin, sizeof bin)));
	assert_int_equal(store_get(s, sl_slice_str("empty value"), &got), SL_OK);
	assert_int_equal(got.len, 0);
	assert_int_equal(store_get(s, sl_slice_str("largest value"), &got), SL_OK);
	assert_int_equal(got.len, vmax);
	assert_int_equal(store_get(s, sl_slice(big, kmax), &got), SL_OK);
	sc_check(s);
	store_close(s);
	/* Another kind of store's directory is refused, naming what was expected. */
	char path[4200];
	snprintf(path, sizeof path, "%s-other", dir);
	tu_rmrf(path);
	store_opts_t other = { 0 }; /* at its defaults: sc_params are for `name` */
	assert_int_equal(store_open(other_kind, path, &other, &s, &err), SL_OK);
	store_close(s);
	assert_int_equal(store_open(name, path, &o, &again, &err), SL_INVALID);
	assert_non_null(strstr(err.msg, name));
	tu_rmrf(path);
	/* A full disk: writes fail with SL_FULL and a message; what was acknowledged stays. */
	env_t *env = env_new();
	store_opts_t fo = { .page_size = page_size, .params = sc_params, .env = env,
			    .sync = SL_SYNC_ALWAYS };
	assert_int_equal(store_open(name, dir, &fo, &s, &err), SL_OK);
	env_fault_set(env, ENV_OP_WRITE, 1, ENV_FAULT_ENOSPC, true);
	int rc = store_put(s, sl_slice_str("disk full"), sl_slice_str("v"));
	assert_int_equal(rc, SL_FULL);
	assert_non_null(strstr(store_errmsg(s), "space"));
	store_close(s);
	env_free(env);
	s = sc_open(name, dir, page_size, SL_SYNC_NONE);
	assert_int_equal(store_get(s, sl_slice_str("largest value"), &got), SL_OK);
	assert_int_equal(got.len, vmax);
	store_close(s);
	free(big);
	buf_free(&got);
}

void sc_corrupt_sweep(const char *name, const char *dir, const char *file, uint32_t page_size,
		      uint64_t step)
{
	store_t *s = sc_open(name, dir, page_size, SL_SYNC_NONE);
	char k[32];
	uint8_t v[700];
	memset(v, 'v', sizeof v);
	for (int i = 0; i < 300; i++) {
		snprintf(k, sizeof k, "key%05d", i);
		assert_int_equal(store_put(s, sl_slice_str(k), sl_slice(v, i % 10 ? 20 : 700)), SL_OK);
	}
	store_close(s);
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	uint64_t size = tu_file_size(path), trials = 0;
	for (uint64_t off = page_size; off < size; off += step) {
		tu_flip_byte(path, off, 0x40);
		sl_err_t err = { 0 };
		store_opts_t o = { .page_size = page_size, .params = sc_params };
		int rc = store_open(name, dir, &o, &s, &err);
		if (rc == SL_OK) {
			if (store_check(s) != SL_CORRUPT)
				fail_msg("%s: byte %llu flipped, check says %s", name,
					 (unsigned long long)off, store_errmsg(s));
			assert_non_null(strstr(store_errmsg(s), file));
			buf_t got = BUF_INIT;
			for (int i = 0; i < 300; i++) {
				snprintf(k, sizeof k, "key%05d", i);
				int g = store_get(s, sl_slice_str(k), &got);
				assert_true(g == SL_OK || g == SL_CORRUPT);
				if (g == SL_OK)
					assert_int_equal(got.len, i % 10 ? 20 : 700);
			}
			buf_free(&got);
			store_close(s);
		} else {
			assert_int_equal(rc, SL_CORRUPT);
		}
		tu_flip_byte(path, off, 0x40);
		trials++;
	}
	print_message("%s: %llu flipped bytes through %s, none served wrong data\n", name,
		      (unsigned long long)trials, file);
}

/* ---- read-only opening ---- */

/* A digest of a directory: every file's name, size and bytes. */
static uint64_t sc_dir_digest(const char *dir)
{
	char **names = NULL;
	size_t n = 0;
	assert_int_equal(env_list_dir(NULL, dir, &names, &n, NULL), SL_OK);
	uint64_t d = n;
	for (size_t i = 0; i < n; i++) {
		char path[4200];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		buf_t bytes = BUF_INIT;
		char chunk[65536];
		size_t got;
		while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
			buf_append(&bytes, chunk, got);
		fclose(f);
		d = checksum_xxh3(names[i], strlen(names[i]), d);
		d = checksum_xxh3(bytes.data, bytes.len, d);
		buf_free(&bytes);
	}
	env_list_free(names, n);
	return d;
}

/*
 * Fills a store (ours: until its disk is full, sticky ENOSPC after 2,000 puts,
 * so the last puts sit in the log, never checkpointed or flushed; a peer: 2,000
 * puts and a clean close), then opens it read-only — ours on the same full disk,
 * with every write, fsync and rename failing. Every acknowledged put must be
 * read back, a put refused with SL_READONLY, no write or fsync made, a second
 * read-only handle allowed beside the first (ours: a writer refused, SL_BUSY),
 * and the directory byte for byte as it was. A peer without a read-only open
 * (LevelDB) must say so with SL_NOTSUP.
 */
void sc_read_only(const char *name, const char *dir, uint32_t page_size)
{
	bool peer = store_lookup(name)->caps & STORE_IS_PEER;
	tu_rmrf(dir);
	env_t *env = peer ? NULL : env_new();
	store_opts_t o = { .page_size = page_size, .sync = SL_SYNC_NONE, .params = sc_params,
			   .env = env };
	store_t *s;
	sl_err_t err = { 0 };
	if (store_open(name, dir, &o, &s, &err) != SL_OK)
		fail_msg("open %s: %s", name, err.msg);
	uint32_t acked = 0;
	for (; acked < 3000; acked++) {
		if (acked == 2000 && env == NULL)
			break;
		if (acked == 2000)
			env_fault_set(env, ENV_OP_WRITE, 1, ENV_FAULT_ENOSPC, true);
		if (sc_numbered_put(s, "ro-", acked) != SL_OK)
			break;
	}
	assert_int_equal(acked, 2000);
	store_close(s); /* on a full disk: whatever it could not write stays in the log */
	uint64_t digest = sc_dir_digest(dir);
	if (env != NULL) {
		env_fault_set(env, ENV_OP_SYNC, 1, ENV_FAULT_EIO, true);
		env_fault_set(env, ENV_OP_RENAME, 1, ENV_FAULT_EIO, true);
	}
	o.read_only = true;
	int rc = store_open(name, dir, &o, &s, &err);
	if (peer && rc == SL_NOTSUP && strstr(err.msg, "read-only")) {
		print_message("%s: no read-only open (%s)\n", name, err.msg);
		return;
	}
	if (rc != SL_OK)
		fail_msg("%s: read-only open on a full disk: %s", name, err.msg);
	env_counters_t before, after;
	if (env)
		env_counters(env, &before);
	uint32_t kept = sc_count_in(s, name, "ro-", acked, "read-only open");
	if (kept != acked)
		fail_msg("%s: read-only, %u of %u acknowledged puts", name, kept, acked);
	assert_int_equal(sc_numbered_put(s, "ro-", acked), SL_READONLY);
	store_t *second;
	if (store_open(name, dir, &o, &second, &err) != SL_OK)
		fail_msg("%s: a second read-only handle: %s", name, err.msg);
	store_close(second);
	if (!peer) {
		store_opts_t w = { .page_size = page_size, .params = sc_params };
		assert_int_equal(store_open(name, dir, &w, &second, &err), SL_BUSY);
		env_counters(env, &after);
		assert_int_equal(after.writes, before.writes);
		assert_int_equal(after.syncs, before.syncs);
	}
	store_close(s);
	env_free(env);
	if (sc_dir_digest(dir) != digest)
		fail_msg("%s: the read-only open changed the directory", name);
	print_message("%s: %u puts read back read-only%s; nothing written\n", name, kept,
		      peer ? "" : " on a full disk");
}
