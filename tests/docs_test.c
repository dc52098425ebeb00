/*
 * docs_test.c — the commands the documentation shows must run.
 *
 * In README.md and the docs folder's .md files, a block of commands a reader is meant to type is
 * marked by the line `<!-- test: commands -->` just before it (an indented code
 * block; a line ending in `\` continues on the next). This suite runs every
 * marked block, file by file, each file's blocks in order in one fresh folder,
 * and fails naming the file and line of a command that exits non-zero or whose
 * store replies ERR (unless the command's comment says it shows an ERR). It runs them on small data, so that `make test` stays quick:
 * `--n` becomes 2000 (300 for advise), `--repeat` 1, `--duration` 2s, the labs
 * run at their smallest sizes, and /tmp/ paths move into the fresh folder.
 * What the reader runs and what the test runs differ only in those sizes. A
 * command naming a peer whose package is missing is skipped and counted.
 */
#include "tests/testutil.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define MARK "<!-- test: commands -->"
#define MAX_CMD 4096

static char bin[PATH_MAX + 8], repo[PATH_MAX + 8];

/* Replaces every `from` in s (size bytes) by `to`. */
static void replace_all(char *s, size_t size, const char *from, const char *to)
{
	char out[MAX_CMD * 2];
	size_t n = 0, fl = strlen(from), tl = strlen(to);
	for (const char *p = s; *p && n + tl + 1 < sizeof out;) {
		if (strncmp(p, from, fl) == 0) {
			memcpy(out + n, to, tl);
			n += tl;
			p += fl;
		} else {
			out[n++] = *p++;
		}
	}
	out[n] = 0;
	snprintf(s, size, "%s", out);
}

/* Replaces the value after `flag ` (a word) by `value`; appends `flag value` if absent. */
static void set_flag(char *s, size_t size, const char *flag, const char *value)
{
	char word[64];
	snprintf(word, sizeof word, "%s ", flag); /* "--n " must not find "--nodes" */
	char *at = strstr(s, word);
	if (at == NULL) {
		size_t n = strlen(s);
		/* before a trailing comment, so it stays part of the command */
		char *hash = strstr(s, "   #");
		char tail[MAX_CMD] = "";
		if (hash != NULL) {
			snprintf(tail, sizeof tail, "%s", hash);
			*hash = 0;
			n = strlen(s);
		}
		snprintf(s + n, size - n, " %s %s%s", flag, value, tail);
		return;
	}
	char *v = at + strlen(flag);
	while (*v == ' ')
		v++;
	char *end = v + strcspn(v, " ");
	char rest[MAX_CMD];
	snprintf(rest, sizeof rest, "%s", end);
	snprintf(v, size - (size_t)(v - s), "%s%s", value, rest);
}

/* The command as the test runs it: the built binary, small sizes, a private /tmp. */
static void scale_down(char *cmd, size_t size, const char *dir)
{
	char tmp[PATH_MAX + 2];
	snprintf(tmp, sizeof tmp, "%s/", dir);
	replace_all(cmd, size, "/tmp/", tmp);
	replace_all(cmd, size, "build/storelab ", "SL_STORELAB ");
	if (strstr(cmd, "SL_STORELAB bench") && !strstr(cmd, "--help") && !strstr(cmd, "--suite")) {
		set_flag(cmd, size, "--n", "2000");
		set_flag(cmd, size, "--repeat", "1");
	}
	if (strstr(cmd, "SL_STORELAB advise")) {
		set_flag(cmd, size, "--n", "300");
		set_flag(cmd, size, "--repeat", "1");
	}
	if (strstr(cmd, "--suite ts"))
		set_flag(cmd, size, "--repeat", "1");
	if (strstr(cmd, "--duration"))
		set_flag(cmd, size, "--duration", "2s");
	if (strstr(cmd, "SL_STORELAB lab shard")) {
		set_flag(cmd, size, "--keys", "3000");
		set_flag(cmd, size, "--nodes", "4");
	}
	if (strstr(cmd, "SL_STORELAB lab rides"))
		set_flag(cmd, size, "--rows", "3000");
	replace_all(cmd, size, "SL_STORELAB ", bin);
	replace_all(cmd, size, "sh bench/", repo);
}

static int skipped_for_peers; /* commands that name a peer this build lacks */

/* Runs one command in dir; fails naming where the docs show it. */
static void run_command(const char *file, int line, const char *shown, const char *dir)
{
	char cmd[MAX_CMD * 2];
	snprintf(cmd, sizeof cmd, "%s", shown);
	scale_down(cmd, sizeof cmd, dir);
	char full[MAX_CMD * 3];
	snprintf(full, sizeof full, "cd '%s' && ( %s\n) </dev/null 2>&1", dir, cmd);
	FILE *p = popen(full, "r");
	assert_non_null(p);
	static char out[1 << 16];
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = 0;
	while (fgetc(p) != EOF)
		; /* the rest, unread */
	int status = pclose(p);
	/* A command that names a peer runs where the peer is installed: `make test` passes
	 * without the peers' packages, so such a command is counted, not failed. */
	if (strstr(out, "was not built: install") != NULL) {
		skipped_for_peers++;
		return;
	}
	/* A store's ERR reply fails the command, unless the docs say it shows one. */
	bool replied_err = (strncmp(out, "ERR ", 4) == 0 || strstr(out, "\nERR ") != NULL) &&
			   strstr(shown, "ERR") == NULL;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || replied_err)
		fail_msg("%s:%d: `%s` failed (ran as `%s`, exit %d):\n%.2000s", file, line, shown, cmd,
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
}

/* Runs every marked block of one file; returns the commands run. */
static int run_file(const char *path, const char *name)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[MAX_CMD], cmd[MAX_CMD];
	char *dir = tu_tempdir();
	int lineno = 0, ran = 0, start = 0;
	bool in_block = false, marked = false;
	cmd[0] = 0;
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		line[strcspn(line, "\n")] = 0;
		if (strcmp(line, MARK) == 0) {
			marked = true;
			continue;
		}
		bool code = strncmp(line, "    ", 4) == 0;
		if (marked && !in_block && line[0] == 0)
			continue; /* the blank line between the mark and its block */
		if (marked && code) {
			in_block = true;
			if (cmd[0] == 0)
				start = lineno;
			size_t len = strlen(cmd);
			snprintf(cmd + len, sizeof cmd - len, "%s", line + 4);
			len = strlen(cmd);
			if (len > 0 && cmd[len - 1] == '\\') {
				cmd[len - 1] = ' ';
				continue;
			}
			run_command(name, start, cmd, dir);
			ran++;
			cmd[0] = 0;
			continue;
		}
		in_block = marked = false;
	}
	fclose(f);
	tu_rmrf(dir);
	free(dir);
	return ran;
}

static void test_every_marked_command_runs(void **state)
{
	(void)state;
	const char *b = getenv("SL_BIN") ? getenv("SL_BIN") : "build/storelab";
	char real[PATH_MAX];
	assert_non_null(realpath(b, real));
	snprintf(bin, sizeof bin, "%s ", real);
	assert_non_null(realpath("bench", real));
	snprintf(repo, sizeof repo, "sh %s/", real);
	int total = run_file("README.md", "README.md"), files = 1;
	DIR *d = opendir("docs");
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n < 4 || strcmp(e->d_name + n - 3, ".md") != 0)
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof path, "docs/%s", e->d_name);
		int ran = run_file(path, path);
		total += ran;
		files += ran > 0;
	}
	closedir(d);
	print_message("docs: %d marked commands run from %d files (%d of them skipped: they "
		      "name a peer this build lacks)\n", total, files, skipped_for_peers);
	assert_true(total >= 20);
}

int main(void)
{
	tu_seed();
	tu_filter();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_marked_command_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
