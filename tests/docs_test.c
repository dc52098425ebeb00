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
 *
 * A block marked `<!-- test: output -->` shows commands with what they print:
 * each command on a line starting "$ ", then its output (stdout and stderr)
 * up to the next "$ ". Those commands run as written (no sizes changed: such
 * blocks use small data), and their output must equal what the block shows,
 * line for line (blank lines aside), where a line "..." stands for any number
 * of lines (the test's folder reads as /tmp/ in the output, as the reader's would).
 */
#include "tests/testutil.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define MARK "<!-- test: commands -->"
#define MARK_OUTPUT "<!-- test: output -->"
#define MAX_CMD 4096

static char bin[PATH_MAX + 8], repo[PATH_MAX + 8];

/* Replaces every `from` in s (size bytes) by `to`. */
static void replace_all(char *s, size_t size, const char *from, const char *to)
{
	char *out = malloc(size);
	assert_non_null(out);
	size_t n = 0, fl = strlen(from), tl = strlen(to);
	for (const char *p = s; *p && n + tl + 1 < size;) {
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
	free(out);
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
static int output_checks;     /* commands whose output was compared with the docs' */

/* Does text (lines) match the shown lines, where a shown "..." matches any number? */
static bool lines_match(const char *text, const char *shown)
{
	if (*shown == 0)
		return *text == 0;
	size_t sl = strcspn(shown, "\n");
	const char *snext = shown[sl] ? shown + sl + 1 : shown + sl;
	if (sl == 3 && strncmp(shown, "...", 3) == 0) {
		for (const char *t = text;; t++) { /* ... eats 0, 1, 2 ... lines */
			if (lines_match(t, snext))
				return true;
			t += strcspn(t, "\n");
			if (*t == 0)
				return false;
		}
	}
	size_t tl = strcspn(text, "\n");
	if (*text == 0 || tl != sl || strncmp(text, shown, sl) != 0)
		return false;
	return lines_match(text[tl] ? text + tl + 1 : text + tl, snext);
}

/* Runs one command in dir; fails naming where the docs show it. With expect
 * (an output block), runs it as written and compares its output. */
static void run_command(const char *file, int line, const char *shown, const char *dir,
			const char *expect)
{
	char cmd[MAX_CMD * 2];
	snprintf(cmd, sizeof cmd, "%s", shown);
	if (expect == NULL) {
		scale_down(cmd, sizeof cmd, dir);
	} else {
		char tmp[PATH_MAX + 2];
		snprintf(tmp, sizeof tmp, "%s/", dir);
		replace_all(cmd, sizeof cmd, "/tmp/", tmp);
		replace_all(cmd, sizeof cmd, "build/storelab ", bin);
	}
	char full[MAX_CMD * 3];
	snprintf(full, sizeof full, "cd '%s' && ( %s\n) </dev/null 2>&1", dir, cmd);
	static char out[1 << 16];
	int status = tu_run(full, out, sizeof out);
	if (expect != NULL) {
		char tmp[PATH_MAX + 2];
		snprintf(tmp, sizeof tmp, "%s/", dir);
		replace_all(out, sizeof out, tmp, "/tmp/");
		while (strstr(out, "\n\n") != NULL) /* blank lines aside: a code block in */
			replace_all(out, sizeof out, "\n\n", "\n"); /* the docs cannot end on one */
		if (!lines_match(out, expect))
			fail_msg("%s:%d: `%s` printed what the docs do not show.\nshown:\n%s\nprinted:\n%s",
				 file, line, shown, expect, out);
		output_checks++;
	}
	/* A command that names a peer runs where the peer is installed: `make test` passes
	 * without the peers' packages, so such a command is counted, not failed. */
	if (strstr(out, "was not built: install") != NULL) {
		skipped_for_peers++;
		return;
	}
	/* A store's ERR reply fails the command, unless the docs say it shows one. */
	bool replied_err = (strncmp(out, "ERR ", 4) == 0 || strstr(out, "\nERR ") != NULL) &&
			   strstr(shown, "ERR") == NULL;
	if (status != 0 || replied_err)
		fail_msg("%s:%d: `%s` failed (ran as `%s`, exit %d):\n%.2000s", file, line, shown, cmd,
			 status, out);
}

/* An output block being read: the command so far and the output shown after it. */
typedef struct shown_cmd {
	char cmd[MAX_CMD];
	char expect[1 << 14];
	int line;          /* where the command starts */
	bool continues;    /* its last line ended in a backslash */
} shown_cmd_t;

/* Runs the output block's pending command, if any; returns 1 when one ran. */
static int shown_flush(shown_cmd_t *s, const char *file, const char *dir)
{
	if (s->cmd[0] == 0)
		return 0;
	run_command(file, s->line, s->cmd, dir, s->expect);
	s->cmd[0] = s->expect[0] = 0;
	return 1;
}

/* One line of an output block: "$ command" (maybe continued with \) or output. */
static int shown_line(shown_cmd_t *s, const char *text, int lineno, const char *file,
		      const char *dir)
{
	int ran = 0;
	if (strncmp(text, "$ ", 2) == 0 && !s->continues) {
		ran = shown_flush(s, file, dir);
		s->line = lineno;
		text += 2;
	} else if (!s->continues) {
		size_t len = strlen(s->expect);
		snprintf(s->expect + len, sizeof s->expect - len, "%s\n", text);
		return 0;
	}
	size_t len = strlen(s->cmd);
	snprintf(s->cmd + len, sizeof s->cmd - len, "%s", text);
	len = strlen(s->cmd);
	s->continues = len > 0 && s->cmd[len - 1] == '\\';
	if (s->continues)
		s->cmd[len - 1] = ' ';
	return ran;
}

/* Runs every marked block of one file; returns the commands run. */
static int run_file(const char *path, const char *name)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[MAX_CMD], cmd[MAX_CMD];
	char *dir = tu_tempdir();
	int lineno = 0, ran = 0, start = 0;
	bool in_block = false, marked = false, output = false;
	static shown_cmd_t shown;
	memset(&shown, 0, sizeof shown);
	cmd[0] = 0;
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		line[strcspn(line, "\n")] = 0;
		if (strcmp(line, MARK) == 0 || strcmp(line, MARK_OUTPUT) == 0) {
			marked = true;
			output = strcmp(line, MARK_OUTPUT) == 0;
			continue;
		}
		bool code = strncmp(line, "    ", 4) == 0;
		if (marked && !in_block && line[0] == 0)
			continue; /* the blank line between the mark and its block */
		if (marked && output && code) {
			in_block = true;
			ran += shown_line(&shown, line + 4, lineno, name, dir);
			continue;
		}
		if (marked && output && line[0] == 0)
			continue; /* a blank line inside the block: its output goes on after it */
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
			run_command(name, start, cmd, dir, NULL);
			ran++;
			cmd[0] = 0;
			continue;
		}
		ran += shown_flush(&shown, name, dir);
		in_block = marked = output = false;
	}
	ran += shown_flush(&shown, name, dir);
	fclose(f);
	tu_rmrf(dir);
	free(dir);
	return ran;
}

static void test_every_marked_command_runs(void **state)
{
	(void)state;
	const char *b = tu_bin();
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
		      "name a peer this build lacks; %d outputs compared with the docs')\n", total,
		      files, skipped_for_peers, output_checks);
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
