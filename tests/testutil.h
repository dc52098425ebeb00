/*
 * testutil.h — helpers shared by the cmocka suites.
 *
 * cmocka wants these headers before its own, in this order; every suite
 * includes testutil.h first and gets them all.
 *
 * Randomness: every random test draws from tu_rng seeded by tu_seed(), which is
 * SL_SEED from the environment or a fixed default, and printed once per suite,
 * so a failure can be replayed with SL_SEED=<seed> make test.
 * Soak mode (SL_SOAK=1, `make soak`) multiplies the operation counts.
 */
#ifndef SL_TESTUTIL_H
#define SL_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine/env.h"
#include "engine/slice.h"

/*
 * The fixture most suites share: a fresh temporary directory, a path inside it
 * for the file under test, and an env. tu_setup / tu_teardown are cmocka
 * setup and teardown functions; *state is a tu_fixture_t.
 */
typedef struct tu_fixture {
	char *dir;  /* fresh, empty, removed by tu_teardown */
	char *path; /* dir/under-test */
	env_t *env; /* counters and faults for the test */
} tu_fixture_t;

int tu_setup(void **state);
int tu_teardown(void **state);

/* The seed of this run (SL_SEED or 42), printed on first use. */
uint64_t tu_seed(void);

/* How many operations a randomised test should run: n, or n * 50 in soak mode. */
uint64_t tu_ops(uint64_t n);

/*
 * How many rounds a crash or power-loss test should run: SL_CRASH_ROUNDS when
 * set (`make crash N=...`), else tu_ops(n).
 */
uint64_t tu_rounds(uint64_t n);

/* Skips the calling test, naming the peer it needs and the package that builds it. */
void tu_skip_no_peer(const char *peer, const char *package, const char *why);

/* Sleeps ms milliseconds. */
void tu_sleep_ms(unsigned ms);

/*
 * Forks a child running child(ctx, fd), which writes each acknowledged
 * operation's number (a uint32, counted from 0) to fd and ends with _exit or a
 * crash. Returns how many it acknowledged (the last number + 1); *status gets
 * its wait status. Crash tests use it to know what must survive.
 */
uint32_t tu_fork_acked(void (*child)(void *ctx, int fd), void *ctx, int *status);

/* The storelab binary under test: $SL_BIN (tests/run.sh sets it), else build/storelab. */
const char *tu_bin(void);

/* Runs a shell command line, captures up to size - 1 bytes of its stdout into
 * out (NUL-terminated; the rest is read and dropped); returns its exit status
 * (-1 when it did not exit). */
int tu_run(const char *cmd, char *out, size_t size);

/* Asserts that p is well-formed XML as far as our SVG goes (tags nest and close in
 * order, text holds no bare '<' and every '&' starts an entity); returns the
 * number of elements. */
int tu_xml_elements(const char *p);

/* Runs only the tests whose names match SL_TESTS (a cmocka pattern, * wildcards). */
void tu_filter(void);

/* A small, fast PRNG (splitmix64) so tests do not depend on libc's rand(). */
typedef struct tu_rng {
	uint64_t state;
} tu_rng_t;

void tu_rng_init(tu_rng_t *r, uint64_t seed);
uint64_t tu_next(tu_rng_t *r);
/* Uniform in [0, n); n > 0. */
uint64_t tu_below(tu_rng_t *r, uint64_t n);
void tu_fill(tu_rng_t *r, void *p, size_t n);

/* A fresh empty directory under $TMPDIR (or /tmp); the caller frees the string. */
char *tu_tempdir(void);
/* Removes path and everything below it. */
void tu_rmrf(const char *path);
/* path joined with name, in a static buffer reused by the next call. */
const char *tu_path(const char *dir, const char *name);

/* Flips the bits of mask in the byte at off of file path. */
void tu_flip_byte(const char *path, uint64_t off, uint8_t mask);
/* Size of file path in bytes. */
uint64_t tu_file_size(const char *path);
/* Truncates file path to size bytes. */
void tu_truncate(const char *path, uint64_t size);

#endif
