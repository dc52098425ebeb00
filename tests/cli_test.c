/*
 * cli_test.c — the storelab command as a script sees it (bench/main, shell,
 * trace, inspect). Runs the built binary ($SL_BIN, set by tests/run.sh).
 */
#include "tests/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static const char *bin(void)
{
	const char *b = getenv("SL_BIN");
	return b ? b : "build/storelab";
}

/* Runs a shell command line, captures stdout into out; returns the exit status. */
static int run(const char *cmd, char *out, size_t size)
{
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	int status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_shell_put_get_survives_restart(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[8192];
	snprintf(cmd, sizeof cmd, "printf 'put a 1\\nget a\\nquit\\n' | %s shell ref %s/db", bin(),
		 f->dir);
	assert_int_equal(run(cmd, out, sizeof out), 0);
	assert_string_equal(out, "OK\n1\nOK\n");
	snprintf(cmd, sizeof cmd, "printf 'get a\\n' | %s shell ref %s/db --sync always", bin(),
		 f->dir);
	assert_int_equal(run(cmd, out, sizeof out), 0);
	assert_string_equal(out, "1\n");
}

static void test_shell_one_reply_per_command(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[8192];
	snprintf(cmd, sizeof cmd,
		 "printf '%s' | %s shell ref %s/db",
		 "# a comment\\n\\n"
		 "put \"k 1\" \"v 1\"\\nput k\\\\x002 OK\\nget k\\\\x002\\nget nope\\n"
		 "scan\\nscan k k\\\\xff 1\\nbogus\\nput\\nput \"x\\ndel \"k 1\"\\n"
		 "scan \"\" \"\"\\nsync\\ncheck\\ntrace on\\ntrace maybe\\nhelp\\n",
		 bin(), f->dir);
	assert_int_equal(run(cmd, out, sizeof out), 0);
	const char *want =
		"OK\n"
		"OK\n"
		"\\x4fK\n"
		"NOTFOUND\n"
		"2 k\\x002=OK k\\x201=v\\x201\n"
		"1 k\\x002=OK\n"
		"ERR unknown command 'bogus' (try help)\n"
		"ERR usage: put KEY VALUE\n"
		"ERR unterminated quote at column 5\n"
		"OK\n"
		"1 k\\x002=OK\n"
		"OK\n"
		"OK\n"
		"OK\n"
		"ERR usage: trace on|off\n";
	assert_int_equal(strncmp(out, want, strlen(want)), 0);
	assert_non_null(strstr(out + strlen(want), "commands:"));
}

static void test_shell_stats_line(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[8192];
	snprintf(cmd, sizeof cmd, "printf 'put a 1\\nstats\\n' | %s shell ref %s/db", bin(), f->dir);
	assert_int_equal(run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "user.puts=1"));
	assert_non_null(strstr(out, "write_amp="));
	assert_non_null(strstr(out, "ref.entries=1"));
}

static void test_bad_invocations(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[8192];
	snprintf(cmd, sizeof cmd, "%s shell nosuchstore %s/db </dev/null 2>&1", bin(), f->dir);
	assert_int_equal(run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "known stores: ref"));
	/* A peer either works (it was built) or names the package that would build it. */
	snprintf(cmd, sizeof cmd, "printf 'put a 1\\nget a\\n' | %s shell leveldb %s/ldb 2>&1",
		 bin(), f->dir);
	int rc = run(cmd, out, sizeof out);
	if (rc == 0)
		assert_string_equal(out, "OK\n1\n");
	else
		assert_non_null(strstr(out, "install libleveldb-dev"));
	snprintf(cmd, sizeof cmd, "%s shell ref %s/db --sync often </dev/null 2>&1", bin(), f->dir);
	assert_int_equal(run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "--sync"));
	snprintf(cmd, sizeof cmd, "%s shell ref %s/db --cache lots </dev/null 2>&1", bin(), f->dir);
	assert_int_equal(run(cmd, out, sizeof out), 2);
	snprintf(cmd, sizeof cmd, "%s shell ref /proc/nope/db </dev/null 2>&1", bin());
	assert_int_equal(run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "cannot open"));
	snprintf(cmd, sizeof cmd, "%s frobnicate 2>&1", bin());
	assert_int_equal(run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "unknown command"));
	snprintf(cmd, sizeof cmd, "%s --help", bin());
	assert_int_equal(run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "inspect"));
	const char *subs[] = { "shell", "trace", "inspect" };
	for (int i = 0; i < 3; i++) {
		snprintf(cmd, sizeof cmd, "%s %s --help", bin(), subs[i]);
		assert_int_equal(run(cmd, out, sizeof out), 0);
		assert_non_null(strstr(out, "usage: storelab"));
	}
}

static void test_trace_narrates(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[8192];
	snprintf(cmd, sizeof cmd, "printf 'put k v\\n' | %s shell ref %s/db >/dev/null", bin(),
		 f->dir);
	assert_int_equal(run(cmd, out, sizeof out), 0);
	snprintf(cmd, sizeof cmd, "%s trace ref %s/db get k", bin(), f->dir);
	assert_int_equal(run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "trace: ref: treap search"));
	assert_non_null(strstr(out, "\nv\n"));
	snprintf(cmd, sizeof cmd, "%s trace ref %s/db stats 2>&1", bin(), f->dir);
	assert_int_equal(run(cmd, out, sizeof out), 1);
}

static void test_inspect_log_and_damage(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[8192];
	snprintf(cmd, sizeof cmd, "printf 'put a 1\\nput b 2\\ndel a\\n' | %s shell ref %s/db >/dev/null",
		 bin(), f->dir);
	assert_int_equal(run(cmd, out, sizeof out), 0);
	snprintf(cmd, sizeof cmd, "%s inspect %s/db", bin(), f->dir);
	assert_int_equal(run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "3 records"));
	assert_non_null(strstr(out, "del a"));
	char log[4096];
	snprintf(log, sizeof log, "%s/db/ref.log", f->dir);
	tu_flip_byte(log, 20, 1);
	assert_int_equal(run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "DAMAGED"));
	snprintf(cmd, sizeof cmd, "%s inspect %s", bin(), bin());
	assert_int_equal(run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "not a file storelab wrote"));
	/* The damaged store refuses to open, naming the file; nothing is overwritten. */
	uint64_t before = tu_file_size(log);
	snprintf(cmd, sizeof cmd, "printf 'get b\\n' | %s shell ref %s/db 2>&1", bin(), f->dir);
	assert_int_equal(run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "ref.log"));
	assert_int_equal(tu_file_size(log), before);
}

/* An LSM store through the command: its tables, log and manifest decoded; a damaged table named. */
static void test_lsm_shell_and_inspect(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[16384];
	snprintf(cmd, sizeof cmd, "for i in $(seq 1 400); do echo \"put key$i value$i\"; done | "
		 "%s shell lsm %s/l --params memtable=8k,deterministic=on >/dev/null", bin(), f->dir);
	assert_int_equal(run(cmd, out, sizeof out), 0);
	snprintf(cmd, sizeof cmd, "printf 'get key7\\ndel key7\\nget key7\\nscan key1 key100\\n' | "
		 "%s shell lsm %s/l", bin(), f->dir);
	assert_int_equal(run(cmd, out, sizeof out), 0);
	assert_string_equal(out, "value7\nOK\nNOTFOUND\n2 key1=value1 key10=value10\n");
	snprintf(cmd, sizeof cmd, "%s inspect %s/l", bin(), f->dir);
	assert_int_equal(run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "storelab SSTable"));
	assert_non_null(strstr(out, "every block checksum checks out"));
	assert_non_null(strstr(out, "from sequence 401, batch of 1: del key7"));
	/* Flip a byte inside the first table's data: inspect and the store both name it. */
	char path[4096];
	snprintf(path, sizeof path, "%s/l/lsm-000003.sst", f->dir);
	tu_flip_byte(path, 40, 0x10);
	assert_int_equal(run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "DAMAGED"));
	snprintf(cmd, sizeof cmd, "printf 'check\\n' | %s shell lsm %s/l", bin(), f->dir);
	run(cmd, out, sizeof out);
	assert_non_null(strstr(out, "lsm-000003.sst"));
}

static void test_bench_outputs_and_errors(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[16384];
	snprintf(cmd, sizeof cmd, "%s bench --stores ref --n 200 --repeat 1 --workloads "
		 "fillrandom,readrandom --format json --out %s/r.json --chart %s/r.svg "
		 "--markdown %s/r.md --summary --dir %s", bin(), f->dir, f->dir, f->dir, f->dir);
	assert_int_equal(run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "ref         readrandom"));
	assert_non_null(strstr(out, "Which store when"));
	char path[4200];
	snprintf(path, sizeof path, "%s/r.json", f->dir);
	assert_true(tu_file_size(path) > 200);
	snprintf(path, sizeof path, "%s/r.svg", f->dir);
	assert_true(tu_file_size(path) > 200);
	snprintf(cmd, sizeof cmd, "%s bench --stores ref --n 100 --repeat 1 --workloads "
		 "fillseq --format csv --dir %s", bin(), f->dir);
	assert_int_equal(run(cmd, out, sizeof out), 0);
	assert_true(strncmp(out, "store,workload,status,ops", 25) == 0);
	/* Bad input is refused before anything runs, naming what is valid. */
	snprintf(cmd, sizeof cmd, "%s bench --workloads fillrandom,readsome 2>&1", bin());
	assert_int_equal(run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "no workload named 'readsome'; known: fillseq"));
	snprintf(cmd, sizeof cmd, "%s bench --stores nosuch 2>&1", bin());
	assert_int_equal(run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "known: ref"));
	snprintf(cmd, sizeof cmd, "%s bench --n 0 2>&1", bin());
	assert_int_equal(run(cmd, out, sizeof out), 2);
	snprintf(cmd, sizeof cmd, "%s bench --stores ref --n 1000000 --key-size 3 2>&1", bin());
	assert_int_equal(run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "cannot hold"));
	snprintf(cmd, sizeof cmd, "%s bench --format xml 2>&1", bin());
	assert_int_equal(run(cmd, out, sizeof out), 2);
	snprintf(cmd, sizeof cmd, "%s bench --suite fts 2>&1", bin());
	assert_int_equal(run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "only the kv suite"));
	/* The temporary directories are gone afterwards. */
	snprintf(cmd, sizeof cmd, "ls %s | grep -c storelab-bench", f->dir);
	run(cmd, out, sizeof out);
	assert_string_equal(out, "0\n");
}

/* Ctrl-C in the middle of a run removes its temporary directories. */
static void test_bench_interrupted_cleans_up(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[4096];
	snprintf(cmd, sizeof cmd, "%s bench --stores ref --n 2000000 --repeat 1 --workloads "
		 "fillrandom --dir %s >/dev/null 2>&1 & pid=$!; "
		 "for i in $(seq 1 100); do ls %s | grep -q storelab-bench && break; sleep 0.05; done; "
		 "sleep 0.3; kill -INT $pid; wait $pid; echo status=$?; ls %s | grep -c storelab-bench",
		 bin(), f->dir, f->dir, f->dir);
	run(cmd, out, sizeof out);
	assert_non_null(strstr(out, "status=130"));
	assert_non_null(strstr(out, "\n0\n"));
}

static void test_advise_ranks_from_measurements(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[16384];
	snprintf(cmd, sizeof cmd, "%s advise --read 0.7 --update 0.2 --scan 0.1 --n 300 "
		 "--repeat 1 2>/dev/null", bin());
	(void)f;
	assert_int_equal(run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "mix: 70% read 20% update 10% scan"));
	assert_non_null(strstr(out, "  1. "));
	assert_non_null(strstr(out, "why: reads"));
	snprintf(cmd, sizeof cmd, "%s advise --read lots 2>&1", bin());
	assert_int_equal(run(cmd, out, sizeof out), 2);
}

int main(void)
{
	tu_seed();
#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_setup, tu_teardown)
	const struct CMUnitTest tests[] = {
		T(test_shell_put_get_survives_restart),
		T(test_shell_one_reply_per_command),
		T(test_shell_stats_line),
		T(test_bad_invocations),
		T(test_trace_narrates),
		T(test_inspect_log_and_damage),
		T(test_lsm_shell_and_inspect),
		T(test_bench_outputs_and_errors),
		T(test_bench_interrupted_cleans_up),
		T(test_advise_ranks_from_measurements),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
