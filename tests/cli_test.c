/*
 * cli_test.c — the storelab command as a script sees it (bench/main, shell,
 * trace, inspect). Runs the built binary ($SL_BIN, set by tests/run.sh).
 */
#include "tests/testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_shell_put_get_survives_restart(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[8192];
	snprintf(cmd, sizeof cmd, "printf 'put a 1\\nget a\\nquit\\n' | %s shell ref %s/db", tu_bin(),
		 f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_string_equal(out, "OK\n1\nOK\n");
	snprintf(cmd, sizeof cmd, "printf 'get a\\n' | %s shell ref %s/db --sync always", tu_bin(),
		 f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
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
		 tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
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
	snprintf(cmd, sizeof cmd, "printf 'put a 1\\nstats\\n' | %s shell ref %s/db", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "user.puts=1"));
	assert_non_null(strstr(out, "write_amp="));
	assert_non_null(strstr(out, "ref.entries=1"));
}

static void test_bad_invocations(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[8192];
	snprintf(cmd, sizeof cmd, "%s shell nosuchstore %s/db </dev/null 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "known stores: ref"));
	/* A peer either works (it was built) or names the package that would build it. */
	snprintf(cmd, sizeof cmd, "printf 'put a 1\\nget a\\n' | %s shell leveldb %s/ldb 2>&1",
		 tu_bin(), f->dir);
	int rc = tu_run(cmd, out, sizeof out);
	if (rc == 0)
		assert_string_equal(out, "OK\n1\n");
	else
		assert_non_null(strstr(out, "install libleveldb-dev"));
	snprintf(cmd, sizeof cmd, "%s shell ref %s/db --sync often </dev/null 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "--sync"));
	snprintf(cmd, sizeof cmd, "%s shell ref %s/db --cache lots </dev/null 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	snprintf(cmd, sizeof cmd, "%s shell ref /proc/nope/db </dev/null 2>&1", tu_bin());
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "cannot open"));
	snprintf(cmd, sizeof cmd, "%s frobnicate 2>&1", tu_bin());
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "unknown command"));
	snprintf(cmd, sizeof cmd, "%s --help", tu_bin());
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "inspect"));
	const char *subs[] = { "shell", "trace", "inspect" };
	for (int i = 0; i < 3; i++) {
		snprintf(cmd, sizeof cmd, "%s %s --help", tu_bin(), subs[i]);
		assert_int_equal(tu_run(cmd, out, sizeof out), 0);
		assert_non_null(strstr(out, "usage: storelab"));
	}
}

static void test_trace_narrates(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[8192];
	snprintf(cmd, sizeof cmd, "printf 'put k v\\n' | %s shell ref %s/db >/dev/null", tu_bin(),
		 f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	snprintf(cmd, sizeof cmd, "%s trace ref %s/db get k", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "trace: ref: treap search"));
	assert_non_null(strstr(out, "\nv\n"));
	snprintf(cmd, sizeof cmd, "%s trace ref %s/db stats 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
}

static void test_inspect_log_and_damage(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[8192];
	snprintf(cmd, sizeof cmd, "printf 'put a 1\\nput b 2\\ndel a\\n' | %s shell ref %s/db >/dev/null",
		 tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	snprintf(cmd, sizeof cmd, "%s inspect %s/db", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "3 records"));
	assert_non_null(strstr(out, "del a"));
	char log[4096];
	snprintf(log, sizeof log, "%s/db/ref.log", f->dir);
	tu_flip_byte(log, 20, 1);
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "DAMAGED"));
	snprintf(cmd, sizeof cmd, "%s inspect %s", tu_bin(), tu_bin());
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "not a file storelab wrote"));
	/* The damaged store refuses to open, naming the file; nothing is overwritten. */
	uint64_t before = tu_file_size(log);
	snprintf(cmd, sizeof cmd, "printf 'get b\\n' | %s shell ref %s/db 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "ref.log"));
	assert_int_equal(tu_file_size(log), before);
}

/* An LSM store in f->dir/l with 400 keys over several tables (8 KiB memtables). */
static void fill_lsm(tu_fixture_t *f)
{
	char cmd[8192], out[256];
	snprintf(cmd, sizeof cmd, "for i in $(seq 1 400); do echo \"put key$i value$i\"; done | "
		 "%s shell lsm %s/l --params memtable=8k,deterministic=on >/dev/null", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
}

/* An LSM store through the command: its tables, log and manifest decoded; a damaged table named. */
static void test_lsm_shell_and_inspect(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[16384];
	fill_lsm(f);
	snprintf(cmd, sizeof cmd, "printf 'get key7\\ndel key7\\nget key7\\nscan key1 key100\\n' | "
		 "%s shell lsm %s/l", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_string_equal(out, "value7\nOK\nNOTFOUND\n2 key1=value1 key10=value10\n");
	snprintf(cmd, sizeof cmd, "%s inspect %s/l", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "storelab SSTable"));
	assert_non_null(strstr(out, "every block checksum checks out"));
	assert_non_null(strstr(out, "from sequence 401, batch of 1: del key7"));
	/* Flip a byte inside the first table's data: inspect and the store both name it. */
	char path[4096];
	snprintf(path, sizeof path, "%s/l/lsm-000003.sst", f->dir);
	tu_flip_byte(path, 40, 0x10);
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "DAMAGED"));
	snprintf(cmd, sizeof cmd, "printf 'check\\n' | %s shell lsm %s/l", tu_bin(), f->dir);
	tu_run(cmd, out, sizeof out);
	assert_non_null(strstr(out, "lsm-000003.sst"));
}

/* CRLF line ends read as LF; an over-long line is refused without being buffered whole. */
static void test_shell_line_edges(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[8192];
	snprintf(cmd, sizeof cmd, "printf 'put a 1\\r\\nget a\\r\\n\\r\\nput b \"x y\"\\r\\n"
		 "get b\\r\\n' | %s shell btree %s/c", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_string_equal(out, "OK\n1\nOK\nx y\n");
	/* btree values go to 1 MiB, so its lines to about 4 MiB: send 12 MB. */
	snprintf(cmd, sizeof cmd, "(printf 'put k '; head -c 12000000 /dev/zero | tr '\\0' v; "
		 "printf '\\nget a\\n') | %s shell btree %s/c", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "ERR line longer than"));
	assert_non_null(strstr(out, "ignored\n1\n")); /* the next command is answered */
}

/* A mistyped param is an error that lists the store's params, in shell and bench alike. */
static void test_unknown_params_refused(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[8192];
	snprintf(cmd, sizeof cmd, "printf 'put a 1\\n' | %s shell lsm %s/p --params polcy=tiered 2>&1",
		 tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "unknown param 'polcy'"));
	assert_non_null(strstr(out, "policy"));
	snprintf(cmd, sizeof cmd, "%s bench --stores lsm:polcy=tiered --n 100 --repeat 1 "
		 "--workloads fillrandom --dir %s 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "unknown param 'polcy'"));
	snprintf(cmd, sizeof cmd, "%s bench --stores lsm,btree --params polcy=x --n 100 "
		 "--repeat 1 --workloads fillrandom --dir %s 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "none of the stores takes 'polcy=x'"));
	/* A param one chosen store takes goes to that store only. */
	snprintf(cmd, sizeof cmd, "%s bench --stores lsm,btree --params policy=tiered --n 100 "
		 "--repeat 1 --workloads fillrandom --dir %s >/dev/null 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
}

/* trace never makes a store: a mistyped path and an empty directory are errors, left as they were. */
static void test_trace_never_creates(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[12288], out[8192], dir[2048];
	static const char *const stores[] = { "ref", "btree", "hash", "lsm" };
	snprintf(dir, sizeof dir, "%s/empty", f->dir);
	for (size_t i = 0; i < 4; i++) {
		snprintf(cmd, sizeof cmd, "%s trace %s %s/typo get a 2>&1", tu_bin(), stores[i], f->dir);
		assert_int_equal(tu_run(cmd, out, sizeof out), 1);
		assert_non_null(strstr(out, "no such store directory"));
		tu_rmrf(dir);
		assert_int_equal(mkdir(dir, 0755), 0);
		snprintf(cmd, sizeof cmd, "%s trace %s %s get a 2>&1; ls -A %s", tu_bin(), stores[i], dir,
			 dir);
		tu_run(cmd, out, sizeof out);
		assert_true(strstr(out, "store there") || strstr(out, "store here"));
		assert_null(strstr(out, "LOCK"));
	}
	snprintf(cmd, sizeof cmd, "ls %s/typo 2>&1", f->dir);
	assert_int_not_equal(tu_run(cmd, out, sizeof out), 0);
}

/* --read-only: shell and trace read, refuse writes, and leave the files as they were. */
static void test_read_only_flag(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[8192];
	snprintf(cmd, sizeof cmd, "printf 'put a 1\\n' | %s shell btree %s/ro >/dev/null && "
		 "ls -l --time-style=full-iso %s/ro > %s/before", tu_bin(), f->dir, f->dir, f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	snprintf(cmd, sizeof cmd, "printf 'get a\\nput b 2\\nget b\\n' | %s shell btree %s/ro "
		 "--read-only", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_string_equal(out, "1\nERR btree: opened read-only; reopen without --read-only to "
			    "write\nNOTFOUND\n");
	snprintf(cmd, sizeof cmd, "%s trace btree %s/ro --read-only get a", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "\n1\n"));
	snprintf(cmd, sizeof cmd, "%s inspect %s/ro --read-only >/dev/null && ls -l "
		 "--time-style=full-iso %s/ro | cmp - %s/before", tu_bin(), f->dir, f->dir, f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
}

/* inspect names a truncated table as damaged, alone and inside its directory. */
static void test_inspect_truncated_table(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[16384], path[4096];
	fill_lsm(f);
	snprintf(path, sizeof path, "%s/l/lsm-000003.sst", f->dir);
	assert_int_equal(truncate(path, 300), 0);
	snprintf(cmd, sizeof cmd, "%s inspect %s", tu_bin(), path);
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "DAMAGED: named as a storelab SSTable"));
	assert_non_null(strstr(out, "300 bytes"));
	snprintf(cmd, sizeof cmd, "%s inspect %s/l", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "DAMAGED"));
}

/* Reads a whole file into a fresh NUL-terminated string. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	return strdup(buf);
}

/* Draws dir, checks the SVG is well formed and holds each of want (NULL-ended). */
static void draw_holds(const char *dir, const char *svg, const char *const *want)
{
	char cmd[8192], out[8192];
	snprintf(cmd, sizeof cmd, "%s inspect %s --svg %s", tu_bin(), dir, svg);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	char *text = slurp(svg);
	assert_true(strncmp(text, "<svg", 4) == 0);
	assert_true(tu_xml_elements(text) > 5);
	for (size_t i = 0; want[i] != NULL; i++)
		if (strstr(text, want[i]) == NULL)
			fail_msg("%s: the drawing lacks \"%s\"", dir, want[i]);
	free(text);
}

/* inspect --svg/--html draws each structure of a known small store as it is. */
static void test_inspect_draws_each_store(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[8192], svg[4200], html[4200];
	snprintf(svg, sizeof svg, "%s/pic.svg", f->dir);
	snprintf(html, sizeof html, "%s/pic.html", f->dir);
	/* a B+tree of 74 puts of 100-byte values: a root above two leaves (73 + 1) */
	snprintf(cmd, sizeof cmd, "V=$(printf 'v%%.0s' $(seq 100)); for i in $(seq 100 173); do "
		 "echo \"put key$i $V\"; done | %s shell btree %s/bt >/dev/null", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	snprintf(cmd, sizeof cmd, "%s/bt", f->dir);
	draw_holds(cmd, svg, (const char *const[]){ "74 keys, height 2, 2 leaves and 1 internal",
		   "page 3: internal, 1 keys", "page 1: leaf, 73 keys [key100 .. key172]",
		   "page 2: leaf, 1 keys [key173 .. key173]", "<line", NULL });
	/* the HTML page: the same drawing and the dump, nothing fetched */
	snprintf(cmd, sizeof cmd, "%s inspect %s/bt --html %s", tu_bin(), f->dir, html);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	char *page = slurp(html);
	assert_non_null(strstr(page, "<!DOCTYPE html>"));
	assert_non_null(strstr(page, "btree: root 3, height 2, 74 keys"));
	assert_null(strstr(page, "src="));   /* nothing fetched: no image, script */
	assert_null(strstr(page, "href=")); /* or style sheet from elsewhere */
	char *end = strstr(page, "</svg>");
	assert_non_null(end);
	end[6] = 0;
	assert_true(tu_xml_elements(strstr(page, "<svg")) > 5);
	free(page);
	/* a hash index of 300 keys: two buckets of depth 1 behind a two-entry directory */
	snprintf(cmd, sizeof cmd, "for i in $(seq 1 300); do echo \"put k$i v$i\"; done | "
		 "%s shell hash %s/h >/dev/null", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	snprintf(cmd, sizeof cmd, "%s/h", f->dir);
	draw_holds(cmd, svg, (const char *const[]){ "300 keys in 2 buckets; a directory of 2 entries",
		   "directory entry 0 -&gt; bucket page", "directory entry 1 -&gt; bucket page", NULL });
	/* an LSM tree: tables of L0 on the key axis */
	snprintf(cmd, sizeof cmd, "for i in $(seq 1000 1600); do echo \"put key$i v$i\"; done | "
		 "%s shell lsm %s/l --params memtable=16k,deterministic=on >/dev/null", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	snprintf(cmd, sizeof cmd, "%s/l", f->dir);
	draw_holds(cmd, svg, (const char *const[]){ ".sst: L0 run 0", "key1000", "memtable: ", NULL });
	/* an inverted index of three documents, one replaced */
	snprintf(cmd, sizeof cmd, "printf 'a\\tone two\\nb\\ttwo three\\na\\tfour\\n' | "
		 "%s index %s/ix --corpus - >/dev/null", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	snprintf(cmd, sizeof cmd, "%s/ix", f->dir);
	draw_holds(cmd, svg, (const char *const[]){ "segment 000000: 2 documents (0 deleted)", NULL });
	/* a time series: one cut segment and the head on the time axis */
	snprintf(cmd, sizeof cmd, "seq 0 17999 | awk 'BEGIN { print \"timestamp,series,value\" } "
		 "{ print 1700000000 + $1 \",cpu,\" $1 }' | %s ts ingest %s/ts - --block 1h >/dev/null",
		 tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	snprintf(cmd, sizeof cmd, "%s/ts", f->dir);
	draw_holds(cmd, svg, (const char *const[]){ ".tsseg: [2023-11-14T", "head: [", " points, ",
		   "2023-11-14T22:00:00Z", NULL });
	/* what cannot be drawn says why */
	snprintf(cmd, sizeof cmd, "printf 'put a 1\\n' | %s shell ref %s/r >/dev/null; "
		 "%s inspect %s/r --svg %s 2>&1", tu_bin(), f->dir, tu_bin(), f->dir, svg);
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "none of them"));
	snprintf(cmd, sizeof cmd, "%s inspect %s/bt/btree.db --svg %s 2>&1", tu_bin(), f->dir, svg);
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "is a file"));
	snprintf(cmd, sizeof cmd, "%s inspect %s/bt --svg 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "needs a file name"));
}

/* Writes text to dir/name; returns the path in out. */
static const char *put_file(const char *dir, const char *name, const char *text, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", dir, name);
	FILE *f = fopen(out, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return out;
}

/* guide ranks by the figure, calls a lead inside the spread a tie, and a small lead
 * of a suite without spreads close; what is not measured says so and how to. */
static void test_guide_verdicts(void **state)
{
	tu_fixture_t *f = *state;
	char kv[4200], ts[4200], fts[4200], bad[4200], md[4200], cmd[20000], out[16384];
	put_file(f->dir, "kv.json", "{\"suite\": \"kv\", \"config\": {\"n\": 5000}, \"results\": [\n"
		 " {\"store\": \"slow\", \"workload\": \"readrandom\", \"status\": \"ok\", \"ops_per_sec\": 100,"
		 "  \"ops_per_sec_min\": 90, \"ops_per_sec_max\": 110, \"lat_us\": {\"p99\": 9}},\n"
		 " {\"store\": \"fast\", \"workload\": \"readrandom\", \"status\": \"ok\", \"ops_per_sec\": 250,"
		 "  \"ops_per_sec_min\": 240, \"ops_per_sec_max\": 260, \"lat_us\": {\"p99\": 3}},\n"
		 " {\"store\": \"a\", \"workload\": \"scan\", \"status\": \"ok\", \"ops_per_sec\": 105,"
		 "  \"ops_per_sec_min\": 95, \"ops_per_sec_max\": 115},\n"
		 " {\"store\": \"b\", \"workload\": \"scan\", \"status\": \"ok\", \"ops_per_sec\": 100,"
		 "  \"ops_per_sec_min\": 90, \"ops_per_sec_max\": 110},\n"
		 " {\"store\": \"broken\", \"workload\": \"scan\", \"status\": \"failed\", \"ops_per_sec\": 0}]}\n",
		 kv, sizeof kv);
	put_file(f->dir, "ts.json", "{\"suite\": \"ts\", \"results\": [\n"
		 " {\"store\": \"ts\", \"workload\": \"ingest\", \"points_per_sec\": 1050, \"bytes_per_point\": 1.5},\n"
		 " {\"store\": \"lsm-ts\", \"workload\": \"ingest\", \"points_per_sec\": 1000, \"bytes_per_point\": 12}]}\n",
		 ts, sizeof ts);
	put_file(f->dir, "fts.json", "{\"suite\": \"fts\", \"results\": [\n"
		 " {\"store\": \"inverted\", \"workload\": \"query\", \"ops_per_sec\": 5000},\n"
		 " {\"store\": \"scan\", \"workload\": \"query\", \"ops_per_sec\": 50},\n"
		 " {\"store\": \"gone\", \"workload\": \"build\", \"error\": \"no such thing\"}]}\n",
		 fts, sizeof fts);
	snprintf(md, sizeof md, "%s/out/when.md", f->dir);
	snprintf(cmd, sizeof cmd, "mkdir -p %s/out && %s guide --kv %s --ts %s --fts %s --out %s", f->dir,
		 tu_bin(), kv, ts, fts, md);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "fast wins: 2.50x the next best, slow"));
	assert_non_null(strstr(out, "a and b tie (1.05x, inside the runs' spread)"));
	assert_non_null(strstr(out, "ts and lsm-ts are close (1.05x; no spread of repeats to judge it by)"));
	assert_non_null(strstr(out, "inverted wins: 100.00x the next best, scan"));
	assert_null(strstr(out, "broken"));
	char *text = slurp(md);
	assert_non_null(strstr(text, "**fast** wins: 2.50x the next best, slow."));
	assert_non_null(strstr(text, "| slow | 100 (20% spread) | 0.40x | 9.0 us |"));
	assert_non_null(strstr(text, "| lsm-ts | 1.0k | 0.95x |  | 12.00 |"));
	assert_non_null(strstr(text, "![Point reads (get by key)](./when-01.svg)"));
	assert_non_null(strstr(text, "--memory 256M")); /* the capped sections say how */
	free(text);
	snprintf(cmd, sizeof cmd, "%s/out/when-01.svg", f->dir);
	text = slurp(cmd);
	assert_true(tu_xml_elements(text) > 5);
	assert_non_null(strstr(text, ">fast</text>"));
	free(text);
	/* a capped run: its rows are ranked in the last two sections, its size said */
	char capped[4200];
	put_file(f->dir, "capped.json", "{\"suite\": \"kv\", \"config\": {\"n\": 9000, \"memory_bytes\": "
		 "268435456}, \"results\": [\n {\"store\": \"tree\", \"workload\": \"fillrandom\", "
		 "\"ops_per_sec\": 40, \"write_amp\": 90},\n {\"store\": \"log\", \"workload\": "
		 "\"fillrandom\", \"ops_per_sec\": 400, \"write_amp\": 9}]}\n", capped, sizeof capped);
	snprintf(cmd, sizeof cmd, "%s guide --kv %s --capped %s --out %s", tu_bin(), kv, capped, md);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "log wins: 10.00x the next best, tree"));
	put_file(f->dir, "capped.json", "{\"suite\": \"kv\", \"config\": {\"n\": 9000, \"memory_bytes\": "
		 "268435456, \"reads\": 3000}, \"results\": [\n {\"store\": \"tree\", \"workload\": \"readrandom\", "
		 "\"ops_per_sec\": 105, \"ops_per_sec_min\": 105, \"ops_per_sec_max\": 105, \"repeats\": 1},\n"
		 " {\"store\": \"log\", \"workload\": \"readrandom\", \"ops_per_sec\": 100, "
		 "\"ops_per_sec_min\": 100, \"ops_per_sec_max\": 100, \"repeats\": 1}]}\n", capped, sizeof capped);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0); /* one repeat: no spread, so close */
	assert_non_null(strstr(out, "tree and log are close (1.05x; no spread of repeats"));
	text = slurp(md);
	assert_non_null(strstr(text, "The capped run holds 9000 keys and gives each store 256 MiB, its "
			       "page cache included; its read phases sample 3000 gets (`--reads`)."));
	free(text);
	/* bad input names the file and what is wrong */
	put_file(f->dir, "bad.json", "{\"results\": [1, }", bad, sizeof bad);
	snprintf(cmd, sizeof cmd, "%s guide --kv %s --out %s 2>&1", tu_bin(), bad, md);
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "bad.json is not JSON"));
	assert_non_null(strstr(out, "not a JSON value at byte 16"));
	put_file(f->dir, "bad.json", "{\"suite\": \"kv\"}", bad, sizeof bad);
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "holds no \"results\" array"));
	snprintf(cmd, sizeof cmd, "%s guide --kv %s/none.json --out %s 2>&1", tu_bin(), f->dir, md);
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "none.json: no such file"));
	snprintf(cmd, sizeof cmd, "%s guide --out %s 2>&1", tu_bin(), md);
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "--kv FILE and --out FILE are required"));
}

/*
 * The peers that were built refuse another store's directory (as ours do), and
 * those that take one writer process fail a second opener at once (not hang).
 */
static void test_peer_directory_edges(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[8192];
	snprintf(cmd, sizeof cmd, "printf 'put a 1\\n' | %s shell lsm %s/ours >/dev/null", tu_bin(),
		 f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	/* one_writer: a second process's open must fail (SQLite lets several share a file). */
	static const struct { const char *name; bool one_writer; } peers[] = {
		{ "leveldb", true }, { "rocksdb", true },     { "lmdb", true },
		{ "sqlite", false }, { "kyoto-hash", true }, { "kyoto-tree", true },
	};
	for (size_t i = 0; i < sizeof peers / sizeof peers[0]; i++) {
		const char *peer = peers[i].name;
		snprintf(cmd, sizeof cmd, "printf 'get a\\n' | %s shell %s %s/ours 2>&1", tu_bin(), peer,
			 f->dir);
		tu_run(cmd, out, sizeof out);
		if (strstr(out, "was not built")) {
			print_message("%s not built: its directory checks skipped\n", peer);
			continue;
		}
		assert_non_null(strstr(out, "is not a"));
		if (!peers[i].one_writer)
			continue;
		/* The first shell holds the store for 2 s; the second must give up at once. */
		snprintf(cmd, sizeof cmd, "(printf 'put a 1\\n'; sleep 2) | %s shell %s %s/%s "
			 ">/dev/null & sleep 0.5; printf 'get a\\n' | timeout 10 %s shell %s %s/%s "
			 ">/dev/null 2>&1; echo \"status $?\"; wait", tu_bin(), peer, f->dir, peer, tu_bin(),
			 peer, f->dir, peer);
		tu_run(cmd, out, sizeof out);
		if (strstr(out, "status 1") == NULL)
			fail_msg("a second %s shell: %s (124 = it hung until the timeout)", peer, out);
	}
}

static void test_bench_outputs_and_errors(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[16384];
	snprintf(cmd, sizeof cmd, "%s bench --stores ref --n 200 --repeat 1 --workloads "
		 "fillrandom,readrandom --format json --out %s/r.json --chart %s/r.svg "
		 "--markdown %s/r.md --summary --dir %s", tu_bin(), f->dir, f->dir, f->dir, f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "ref         readrandom"));
	assert_non_null(strstr(out, "Which store when"));
	char path[4200];
	snprintf(path, sizeof path, "%s/r.json", f->dir);
	assert_true(tu_file_size(path) > 200);
	snprintf(path, sizeof path, "%s/r.svg", f->dir);
	assert_true(tu_file_size(path) > 200);
	snprintf(cmd, sizeof cmd, "%s bench --stores ref --n 100 --repeat 1 --workloads "
		 "fillseq --format csv --dir %s", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_true(strncmp(out, "store,workload,status,ops", 25) == 0);
	/* Bad input is refused before anything runs, naming what is valid. */
	snprintf(cmd, sizeof cmd, "%s bench --workloads fillrandom,readsome 2>&1", tu_bin());
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "no workload named 'readsome'; known: fillseq"));
	snprintf(cmd, sizeof cmd, "%s bench --stores nosuch 2>&1", tu_bin());
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "known: ref"));
	snprintf(cmd, sizeof cmd, "%s bench --n 0 2>&1", tu_bin());
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	snprintf(cmd, sizeof cmd, "%s bench --stores ref --n 1000000 --key-size 3 2>&1", tu_bin());
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "cannot hold"));
	snprintf(cmd, sizeof cmd, "%s bench --format xml 2>&1", tu_bin());
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	snprintf(cmd, sizeof cmd, "%s bench --suite fts 2>&1", tu_bin());
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "needs --corpus and --queries"));
	snprintf(cmd, sizeof cmd, "%s bench --suite ts 2>&1", tu_bin());
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "needs --data"));
	/* A size sweep: every JSON row carries its n; the chart draws each store against size. */
	snprintf(cmd, sizeof cmd, "%s bench --stores ref,btree --n 300,900 --workloads fillrandom,readrandom "
		 "--repeat 1 --format json --out %s/sw.json --chart %s/sw.svg --dir %s > /dev/null && "
		 "grep -c '\"n\": 900, \"store\"' %s/sw.json && grep -c polyline %s/sw.svg",
		 tu_bin(), f->dir, f->dir, f->dir, f->dir, f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_string_equal(out, "4\n6\n");
	snprintf(cmd, sizeof cmd, "%s bench --n 900,300 2>&1", tu_bin());
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "must increase"));
	/* --memory: a run inside a memory cgroup, or (no root, no cgroup) a clear refusal. */
	snprintf(cmd, sizeof cmd, "%s bench --stores btree --n 2000 --workloads fillrandom --repeat 1 "
		 "--memory 64M --dir %s 2>&1", tu_bin(), f->dir);
	int mrc = tu_run(cmd, out, sizeof out);
	if (mrc == 0)
		assert_non_null(strstr(out, "each store in 64 MiB (page cache included)"));
	else
		assert_non_null(strstr(out, "--memory"));
	snprintf(cmd, sizeof cmd, "%s bench --memory 1k 2>&1", tu_bin());
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "at least 16M"));
	/* --reads: the header says how many gets a read phase sampled; 0 is refused. */
	snprintf(cmd, sizeof cmd, "%s bench --stores ref --n 2000 --reads 500 --workloads "
		 "fillrandom,readrandom --repeat 1 --dir %s 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, ", 500 gets per read phase"));
	snprintf(cmd, sizeof cmd, "%s bench --reads 0 2>&1", tu_bin());
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "--reads takes a whole number"));
	snprintf(cmd, sizeof cmd, "%s bench --suite graph 2>&1", tu_bin());
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "the suites are kv, fts and ts"));
	/* The temporary directories are gone afterwards. */
	snprintf(cmd, sizeof cmd, "ls %s | grep -c storelab-bench", f->dir);
	tu_run(cmd, out, sizeof out);
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
		 tu_bin(), f->dir, f->dir, f->dir);
	tu_run(cmd, out, sizeof out);
	assert_non_null(strstr(out, "status=130"));
	assert_non_null(strstr(out, "\n0\n"));
}

/* ---- SIGKILL through the shell: what an OK promises at --sync none ---- */

#define KILL_KEYS 500 /* the writer overwrites this many keys, so an old value would show */

typedef struct kill_tally {
	uint64_t acked, lost, old; /* acknowledged puts; keys missing or older than acknowledged */
} kill_tally_t;

/* Starts `storelab shell store dir --sync none` with pipes to its stdin and stdout. */
static pid_t shell_start(const char *store, const char *dir, FILE **to, FILE **from)
{
	int in[2], out[2];
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(tu_bin(), tu_bin(), "shell", store, dir, "--sync", "none", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	*to = fdopen(in[1], "w");
	*from = fdopen(out[0], "r");
	return pid;
}

/* Sends one command and reads its one reply line (without the newline); false at EOF. */
static bool shell_ask(FILE *to, FILE *from, const char *cmd, char *reply, size_t size)
{
	if (fprintf(to, "%s\n", cmd) < 0 || fflush(to) != 0 || fgets(reply, (int)size, from) == NULL)
		return false;
	reply[strcspn(reply, "\n")] = 0;
	return true;
}

/*
 * One round: a writer puts "k<j> = <seq>" over KILL_KEYS keys, each put waiting
 * for its OK, until a SIGKILL at a random moment. acked[j] is the last
 * acknowledged seq of key j, maybe[j] the seq sent but not yet answered (it may
 * or may not have landed).
 */
static void kill_round(const char *store, const char *dir, tu_rng_t *r, uint64_t *seq,
		       uint64_t *acked, uint64_t *maybe, kill_tally_t *t)
{
	FILE *to, *from;
	pid_t pid = shell_start(store, dir, &to, &from);
	uint64_t until = tu_below(r, 3000) + 200; /* puts before the kill */
	char cmd[64], reply[256];
	for (uint64_t i = 0; i < until; i++) {
		uint64_t j = tu_below(r, KILL_KEYS), s = ++*seq;
		snprintf(cmd, sizeof cmd, "put k%04llu %llu", (unsigned long long)j,
			 (unsigned long long)s);
		maybe[j] = s;
		if (!shell_ask(to, from, cmd, reply, sizeof reply))
			fail_msg("%s: the shell ended early", store);
		if (strcmp(reply, "OK") != 0)
			fail_msg("%s: put answered '%s'", store, reply);
		acked[j] = s;
		t->acked++;
	}
	/* Killed right after an OK, with the next put written but not answered. */
	uint64_t j = tu_below(r, KILL_KEYS), s = ++*seq;
	snprintf(cmd, sizeof cmd, "put k%04llu %llu", (unsigned long long)j, (unsigned long long)s);
	maybe[j] = s;
	fprintf(to, "%s\n", cmd);
	fflush(to);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fclose(to);
	fclose(from);
}

/* Reopens the store and counts keys missing or older than their last acknowledged put. */
static void kill_verify(const char *store, const char *dir, const uint64_t *acked,
			const uint64_t *maybe, kill_tally_t *t)
{
	FILE *to, *from;
	pid_t pid = shell_start(store, dir, &to, &from);
	char cmd[64], reply[256];
	for (uint64_t j = 0; j < KILL_KEYS; j++) {
		if (acked[j] == 0)
			continue;
		snprintf(cmd, sizeof cmd, "get k%04llu", (unsigned long long)j);
		if (!shell_ask(to, from, cmd, reply, sizeof reply))
			fail_msg("%s: reopening after the kill failed", store);
		uint64_t got = strtoull(reply, NULL, 10);
		if (strcmp(reply, "NOTFOUND") == 0)
			t->lost++;
		else if (got != acked[j] && got != maybe[j])
			t->old++;
	}
	fclose(to);
	fclose(from);
	waitpid(pid, NULL, 0);
}

/*
 * Every store, ours and each peer built, driven as a script drives it: the shell
 * at --sync none, killed with SIGKILL at random moments, then reopened. An OK
 * means the write reached the OS, so a process crash may lose none of them and
 * never bring an older value back.
 */
static void test_shell_sigkill_at_sync_none(void **state)
{
	tu_fixture_t *f = *state;
	static const char *const stores[] = { "ref", "btree", "hash", "lsm", "leveldb", "rocksdb",
					      "lmdb", "sqlite", "kyoto-hash", "kyoto-tree" };
	uint64_t rounds = tu_rounds(4);
	print_message("%-11s %10s %6s %6s  (%llu SIGKILLs each, --sync none)\n", "store",
		      "acked", "lost", "old", (unsigned long long)rounds);
	for (size_t i = 0; i < sizeof stores / sizeof stores[0]; i++) {
		char dir[4096], cmd[8192], out[512];
		snprintf(dir, sizeof dir, "%s/kill-%s", f->dir, stores[i]);
		snprintf(cmd, sizeof cmd, "%s shell %s %s </dev/null 2>&1", tu_bin(), stores[i], dir);
		if (tu_run(cmd, out, sizeof out) != 0 && strstr(out, "was not built")) {
			print_message("%-11s not built: skipped\n", stores[i]);
			continue;
		}
		uint64_t *acked = calloc(KILL_KEYS, sizeof *acked);
		uint64_t *maybe = calloc(KILL_KEYS, sizeof *maybe);
		tu_rng_t r;
		tu_rng_init(&r, tu_seed() + i);
		kill_tally_t t = { 0 };
		uint64_t seq = 0;
		for (uint64_t round = 0; round < rounds; round++) {
			kill_round(stores[i], dir, &r, &seq, acked, maybe, &t);
			kill_verify(stores[i], dir, acked, maybe, &t);
		}
		print_message("%-11s %10llu %6llu %6llu\n", stores[i], (unsigned long long)t.acked,
			      (unsigned long long)t.lost, (unsigned long long)t.old);
		if (t.lost || t.old)
			fail_msg("%s: a process crash lost %llu acknowledged puts and brought back %llu "
				 "older values", stores[i], (unsigned long long)t.lost,
				 (unsigned long long)t.old);
		free(acked);
		free(maybe);
	}
}

/* The corpus maker: Translation stanzas become id<TAB>text lines; Zipf text is seeded. */
static void test_corpus_maker(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[8192];
	snprintf(cmd, sizeof cmd,
		 "printf 'Package: zsh\\nDescription-md5: 1\\nDescription-en: shell with lots of "
		 "features\\n Zsh is a UNIX\\tcommand interpreter.\\n .\\n It has many "
		 "features.\\n\\nPackage: zsh\\nDescription-en: a duplicate\\n\\nPackage: "
		 "bash\\nDescription-en: GNU Bourne Again SHell\\n' > %s/T && "
		 "sh bench/corpus.sh translations %s/T", f->dir, f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_string_equal(out, "zsh\tshell with lots of features Zsh is a UNIX command "
			    "interpreter. It has many features.\nbash\tGNU Bourne Again SHell\n");
	snprintf(cmd, sizeof cmd, "sh bench/corpus.sh zipf 40 3 > %s/a && sh bench/corpus.sh zipf 40 3 "
		 "| cmp - %s/a && awk -F'\\t' 'NF == 2 && $1 == \"doc\" NR' %s/a | wc -l", f->dir,
		 f->dir, f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_string_equal(out, "40\n");
	/* Queries drawn from it: the four kinds, the same for a seed, fewer with MAXDF. */
	snprintf(cmd, sizeof cmd, "sh bench/corpus.sh queries %s/a 40 5 > %s/q && sh bench/corpus.sh "
		 "queries %s/a 40 5 | cmp - %s/q && grep -cE '^(term|and|or|phrase)\t[a-z0-9]' %s/q && "
		 "cut -f1 %s/q | sort -u | tr '\\n' ' ' && sh bench/corpus.sh queries %s/a 40 5 '' 3 | "
		 "wc -l", f->dir, f->dir, f->dir, f->dir, f->dir, f->dir, f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	unsigned total, kept;
	char kinds[64];
	assert_int_equal(sscanf(out, "%u\n%63[a-z ]%u", &total, kinds, &kept), 3);
	assert_int_equal(total, 40);
	assert_string_equal(kinds, "and or phrase term ");
	assert_true(kept < 40);
}

/* index and search: a corpus with a bad line, stop and skip, every output format. */
/* storelab ts: ingest (CSV, line protocol, bad lines), query in three formats, stats, check, the suite. */
static void test_ts_commands(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[16384];
	snprintf(cmd, sizeof cmd,
		 "printf 'timestamp,series,value\\n1700000000000,cpu{mode=\"u\",host=\"a\"},1\\n"
		 "1700000030000,cpu{host=\"a\",mode=\"u\"},3\\n1700000060000,cpu{host=\"b\",mode=\"u\"},10\\n"
		 "oops,up,1\\n1700000090000,cpu{host=\"a\",mode=\"u\"},5\\n' > %s/p.csv", f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	/* stop (the default): line 5 is named, the lines before it are kept. */
	snprintf(cmd, sizeof cmd, "%s ts ingest %s/db %s/p.csv 2>&1", tu_bin(), f->dir, f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "p.csv:5: timestamp"));
	assert_non_null(strstr(out, "ingested 3 points"));
	/* skip: the rest goes in; the point before the window is refused and counted. */
	snprintf(cmd, sizeof cmd, "%s ts ingest %s/db %s/p.csv --on-error skip --window 10s 2>&1",
		 tu_bin(), f->dir, f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "1 skipped as malformed"));
	assert_non_null(strstr(out, "p.csv:2: cpu{host=\"a\",mode=\"u\"} at 1700000000000 refused"));
	assert_non_null(strstr(out, "timestamps read as: ms (4)"));
	/* Line protocol: a field per point, nanoseconds by default. */
	snprintf(cmd, sizeof cmd,
		 "printf 'mem,host=a free=7,used=9 1700000090000000000\\n' > %s/p.lp && "
		 "%s ts ingest %s/db %s/p.lp 2>&1", f->dir, tu_bin(), f->dir, f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "ingested 2 points"));
	snprintf(cmd, sizeof cmd, "%s ts query %s/db 'cpu{mode=\"u\"}' --step 1m --agg sum --format csv",
		 tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_string_equal(out, "series,timestamp,value\n"
				 "\"cpu{host=\"\"a\"\",mode=\"\"u\"\"}\",1700000000000,4\n"
				 "\"cpu{host=\"\"a\"\",mode=\"\"u\"\"}\",1700000060000,5\n"
				 "\"cpu{host=\"\"b\"\",mode=\"\"u\"\"}\",1700000060000,10\n");
	snprintf(cmd, sizeof cmd, "%s ts query %s/db cpu --agg max --across sum --format json", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "{\"series\": \"{}\", \"points\": [[1700000000000, 15]]}"));
	snprintf(cmd, sizeof cmd, "%s ts query %s/db '{__name__=~\"mem_.*\"}' --trace 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "mem_free{host=\"a\"}"));
	assert_non_null(strstr(out, "trace: read"));
	snprintf(cmd, sizeof cmd, "%s ts stats %s/db && %s ts check %s/db", tu_bin(), f->dir, tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "series          4"));
	assert_non_null(strstr(out, "OK"));
	/* Bad selectors, options, stores. */
	snprintf(cmd, sizeof cmd, "%s ts query %s/db 'cpu{host=}' 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	assert_non_null(strstr(out, "selector"));
	snprintf(cmd, sizeof cmd, "%s ts query %s/db cpu --step 0 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	snprintf(cmd, sizeof cmd, "%s ts query %s/none cpu 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "no time-series store"));
	snprintf(cmd, sizeof cmd, "%s ts ingest %s/db %s/p.csv --block 1x 2>&1", tu_bin(), f->dir, f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	/* The suite: a small file, every store built, JSON rows with the contract's fields. */
	snprintf(cmd, sizeof cmd, "%s ts gen synthetic %s/s.csv --series 8 --points 3000 && "
		 "%s bench --suite ts --data %s/s.csv --repeat 1 --format json --dir %s",
		 tu_bin(), f->dir, tu_bin(), f->dir, f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "\"workload\": \"ingest\""));
	assert_non_null(strstr(out, "\"points_per_sec\": "));
	assert_non_null(strstr(out, "\"bytes_per_point\": "));
	assert_non_null(strstr(out, "\"workload\": \"query_all\""));
	assert_null(strstr(out, "\"answers_match\": false"));
	assert_null(strstr(out, "\"error\""));
}

static void test_index_and_search(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[16384];
	snprintf(cmd, sizeof cmd,
		 "printf 'a\tThe quick brown fox\nb\tA lazy dog sleeps\nno tab here\n"
		 "c\tQuick quick fox, caf\303\251 au lait\n' > %s/c.tsv", f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	/* stop (the default): line 3 is named and nothing is committed. */
	snprintf(cmd, sizeof cmd, "%s index %s/ix --corpus %s/c.tsv 2>&1", tu_bin(), f->dir, f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "c.tsv:3: no tab between id and text; nothing committed"));
	snprintf(cmd, sizeof cmd, "%s search %s/ix fox --format tsv 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_string_equal(out, "");
	/* skip: the others go in. */
	snprintf(cmd, sizeof cmd, "%s index %s/ix --corpus %s/c.tsv --on-error skip 2>&1", tu_bin(),
		 f->dir, f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "indexed 3 documents (1 lines skipped)"));
	snprintf(cmd, sizeof cmd, "%s search %s/ix 'fox' --format tsv --topk 1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "1\ta\t")); /* the shorter of the two */
	assert_null(strstr(out, "2\t"));
	snprintf(cmd, sizeof cmd, "%s search %s/ix 'CAFE OR dog' --format json", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "\"hits\": [{\"rank\": 1, \"id\": "));
	assert_non_null(strstr(out, "\"scored\": "));
	snprintf(cmd, sizeof cmd, "%s search %s/ix '\"quick brown\"'", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "1     a "));
	/* inspect reads the index whole; a flipped byte in a segment is named. */
	snprintf(cmd, sizeof cmd, "%s inspect %s/ix", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "inverted index, commit 1: 3 live documents"));
	assert_non_null(strstr(out, "inverted-index segment"));
	char seg[4200];
	snprintf(seg, sizeof seg, "%s/ix/000000.seg", f->dir);
	tu_flip_byte(seg, 40, 0x04);
	snprintf(cmd, sizeof cmd, "%s inspect %s", tu_bin(), seg);
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "DAMAGED"));
	tu_flip_byte(seg, 40, 0x04);
	/* Bad queries, bad options, no index. */
	snprintf(cmd, sizeof cmd, "%s search %s/ix '(fox' 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "without its ')'"));
	snprintf(cmd, sizeof cmd, "%s search %s/ix fox --topk 0 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	snprintf(cmd, sizeof cmd, "%s search %s/none fox 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "no index here"));
	snprintf(cmd, sizeof cmd, "%s index %s/ix 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
	/* The fts suite on the same corpus, JSON rows per workload, hits written. */
	snprintf(cmd, sizeof cmd,
		 "grep -v 'no tab' %s/c.tsv > %s/d.tsv && printf 'term\tfox\nand\tquick fox\n"
		 "or\tdog cafe\nphrase\tquick brown\n' > %s/q.tsv && %s bench --suite fts --corpus "
		 "%s/d.tsv --queries %s/q.tsv --repeat 1 --format json --topk-out %s/hits.tsv "
		 "--dir %s 2>&1", f->dir, f->dir, f->dir, tu_bin(), f->dir, f->dir, f->dir, f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "\"suite\": \"fts\""));
	assert_non_null(strstr(out, "\"workload\": \"build\""));
	assert_non_null(strstr(out, "\"docs_per_sec\""));
	assert_non_null(strstr(out, "\"workload\": \"query-phrase\""));
	assert_non_null(strstr(out, "\"topk_overlap\": 1.0000"));
	snprintf(cmd, sizeof cmd, "grep -c '^inverted' %s/hits.tsv", f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_string_equal(out, "7\n"); /* fox: a, c; quick fox: a, c; dog OR cafe: b, c; "quick brown": a */
	snprintf(cmd, sizeof cmd, "printf 'maybe\tx\n' > %s/bad.tsv && %s bench --suite fts "
		 "--corpus %s/d.tsv --queries %s/bad.tsv 2>&1", f->dir, tu_bin(), f->dir, f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "bad.tsv:1: not KIND<TAB>words"));
}

/* The fts suite beside one peer, or the peer's test skipped by name when it was not built. */
static void fts_peer(tu_fixture_t *f, const char *peer, const char *package)
{
	char cmd[8192], out[16384];
	snprintf(cmd, sizeof cmd,
		 "printf 'a\\tThe quick brown fox\\nb\\tA lazy dog sleeps\\nc\\tQuick quick fox, "
		 "a cafe\\n' > %s/d.tsv && printf 'term\\tfox\\nand\\tquick fox\\nor\\tdog cafe\\n"
		 "phrase\\tquick brown\\n' > %s/q.tsv && %s bench --suite fts --corpus %s/d.tsv "
		 "--queries %s/q.tsv --stores inverted,%s --repeat 1 --format json --dir %s 2>&1",
		 f->dir, f->dir, tu_bin(), f->dir, f->dir, peer, f->dir);
	int rc = tu_run(cmd, out, sizeof out);
	if (strstr(out, "no fts store") != NULL)
		tu_skip_no_peer(peer, package, "the fts suite runs without it");
	assert_int_equal(rc, 0);
	char want[64];
	snprintf(want, sizeof want, "{\"store\": \"%s\", \"workload\": \"build\"", peer);
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof want, "{\"store\": \"%s\", \"workload\": \"query-phrase\"", peer);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "\"topk_overlap\""));
}

static void test_fts_peer_fts5(void **state) { fts_peer(*state, "fts5", "libsqlite3-dev"); }
static void test_fts_peer_xapian(void **state) { fts_peer(*state, "xapian", "libxapian-dev"); }

/* Counts the occurrences of needle in hay. */
static int count_of(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Runs a lab command: it succeeds, prints every lesson's table and one conclusion
 * each, and leaves no scratch folder behind in dir. */
static void expect_lab(const char *cmd, char *out, size_t size, int lessons, const char *dir)
{
	assert_int_equal(tu_run(cmd, out, size), 0);
	for (int i = 1; i <= lessons; i++) {
		char title[32];
		snprintf(title, sizeof title, "== %d. ", i);
		if (strstr(out, title) == NULL)
			fail_msg("no lesson %d in: %s", i, out);
	}
	assert_int_equal(count_of(out, "\n-> "), lessons);
	char ls_cmd[4200], ls[64];
	snprintf(ls_cmd, sizeof ls_cmd, "ls %s | grep -c storelab-lab", dir);
	tu_run(ls_cmd, ls, sizeof ls);
	assert_string_equal(ls, "0\n");
}

/* On a terminal, bench says each finished sequence (script(1) gives it one). */
static void test_bench_progress_on_a_terminal(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[16384];
	if (system("command -v script >/dev/null 2>&1") != 0) {
		skip();
		return;
	}
	snprintf(cmd, sizeof cmd, "script -qc '%s bench --stores ref,btree --n 300 --repeat 2 "
		 "--workloads fillrandom --dir %s' /dev/null 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "[1/4] ref: fillrandom "));
	assert_non_null(strstr(out, "[4/4] btree: fillrandom "));
}

static void test_lab_rides(void **state)
{
	tu_fixture_t *f = *state;
	static char out[65536];
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "%s lab rides --rows 3000 --dir %s 2>&1", tu_bin(), f->dir);
	expect_lab(cmd, out, sizeof out, 8, f->dir);
	/* the planner's choices that follow from the data, whatever its size */
	assert_non_null(strstr(out, "the planner chose index city_time"));
	assert_non_null(strstr(out, "'completed' the index touched"));
}

/* A store spec in the shell (shard:...), and inspect walking a sharded store. */
static void test_shard_shell_and_inspect(void **state)
{
	tu_fixture_t *f = *state;
	static char out[65536];
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "printf 'put a 1\\nput b 2\\nput c 3\\nscan\\n' | "
		 "%s shell shard:by=range:split=2 %s/sh --params store=lsm", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_string_equal(out, "OK\nOK\nOK\n3 a=1 b=2 c=3\n");
	snprintf(cmd, sizeof cmd, "%s inspect %s/sh", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "shard map, version 1: 2 nodes of store lsm, partitioned by range"));
	assert_non_null(strstr(out, "keys [first, b)"));
	assert_non_null(strstr(out, "shard-000001/lsm-000001.log"));
	/* the LSM's records are told by the file's name: sequence 1 is not a batch's count */
	assert_non_null(strstr(out, "from sequence 1, batch of 1: put a"));
	/* trace follows a key to its node, and the node narrates its own steps */
	snprintf(cmd, sizeof cmd, "%s trace shard %s/sh get c 2>&1", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "shard: key \"c\" belongs to node 1 (slot 1 of 2, by range"));
	assert_non_null(strstr(out, "trace: get \"c\""));
	char path[4200];
	snprintf(path, sizeof path, "%s/sh/shard.map", f->dir);
	tu_flip_byte(path, 20, 0x01);
	snprintf(cmd, sizeof cmd, "%s inspect %s/sh", tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "shard map, DAMAGED"));
}

static void test_lab_shard(void **state)
{
	tu_fixture_t *f = *state;
	static char out[65536];
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "%s lab shard --keys 3000 --nodes 4 --dir %s 2>&1", tu_bin(), f->dir);
	expect_lab(cmd, out, sizeof out, 5, f->dir);
	assert_non_null(strstr(out, "rendezvous"));
	snprintf(cmd, sizeof cmd, "%s lab shard --keys 3000 --nodes 3 --format markdown --dir %s",
		 tu_bin(), f->dir);
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "| partitioner | join: keys moved "));
	assert_non_null(strstr(out, "### 5. "));
	const char *bad[][2] = { { "shard --keys 5", "--keys" },
				 { "shard --nodes 1000", "--nodes" },
				 { "shard --format pdf", "--format" },
				 { "shard --keys", "needs a value" },
				 { "rides --rows 10", "--rows" },
				 { "nosuchlab", "unknown lab" },
				 { "", "usage: storelab lab" } };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(cmd, sizeof cmd, "%s lab %s 2>&1", tu_bin(), bad[i][0]);
		assert_int_equal(tu_run(cmd, out, sizeof out), 2);
		if (strstr(out, bad[i][1]) == NULL)
			fail_msg("lab %s: no '%s' in: %s", bad[i][0], bad[i][1], out);
	}
}

static void test_advise_ranks_from_measurements(void **state)
{
	tu_fixture_t *f = *state;
	char cmd[8192], out[16384];
	snprintf(cmd, sizeof cmd, "%s advise --read 0.7 --update 0.2 --scan 0.1 --n 300 "
		 "--repeat 1 2>/dev/null", tu_bin());
	(void)f;
	assert_int_equal(tu_run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "mix: 70% read 20% update 10% scan"));
	assert_non_null(strstr(out, "  1. "));
	assert_non_null(strstr(out, "why: reads"));
	snprintf(cmd, sizeof cmd, "%s advise --read lots 2>&1", tu_bin());
	assert_int_equal(tu_run(cmd, out, sizeof out), 2);
}

int main(void)
{
	tu_seed();
	tu_filter();
#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_setup, tu_teardown)
	const struct CMUnitTest tests[] = {
		T(test_shell_put_get_survives_restart),
		T(test_shell_one_reply_per_command),
		T(test_shell_stats_line),
		T(test_bad_invocations),
		T(test_trace_narrates),
		T(test_inspect_log_and_damage),
		T(test_lsm_shell_and_inspect),
		T(test_shell_line_edges),
		T(test_unknown_params_refused),
		T(test_trace_never_creates),
		T(test_read_only_flag),
		T(test_inspect_truncated_table),
		T(test_inspect_draws_each_store),
		T(test_guide_verdicts),
		T(test_peer_directory_edges),
		T(test_shell_sigkill_at_sync_none),
		T(test_corpus_maker),
		T(test_index_and_search),
		T(test_ts_commands),
		T(test_fts_peer_fts5),
		T(test_fts_peer_xapian),
		T(test_bench_outputs_and_errors),
		T(test_bench_interrupted_cleans_up),
		T(test_advise_ranks_from_measurements),
		T(test_lab_shard),
		T(test_shard_shell_and_inspect),
		T(test_lab_rides),
		T(test_bench_progress_on_a_terminal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
