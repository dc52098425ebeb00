/* shell.c — `storelab shell` and `storelab trace` (command list in shell.h). */
#include "bench/shell.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/cmdline.h"
#include "bench/stores.h"
#include "engine/store.h"

#define SHELL_DEFAULT_SCAN_LIMIT 100
#define SHELL_UNDECLARED_LIMIT ((size_t)64 << 20) /* for a store that declares no size limit */

static const char shell_usage[] =
	"usage: storelab shell STORE DIR [--sync none|batch|always] [--cache BYTES]\n"
	"                      [--params NAME=VALUE,...] [--read-only]\n"
	"Reads commands from standard input, one per line, and answers each with one line:\n"
	"  put K V | get K | del K | scan A B [LIMIT] | stats | trace on|off | sync | check\n"
	"  | help | quit\n"
	"Keys and values take escapes (\\xHH, \\\\, \\\", \\n, \\t, \\0); quote one with spaces.\n"
	"--read-only opens without writing anything (a full disk, read-only media): writes\n"
	"answer ERR, recovery happens in memory. STORE may carry params of its own, as in\n"
	"bench: shard:n=3:by=range (then --params adds more).\n";

static const char trace_usage[] =
	"usage: storelab trace STORE DIR [--sync MODE] [--cache BYTES] [--params ...] [--read-only]\n"
	"                      COMMAND...\n"
	"Runs one shell command (put K V, get K, del K, scan A B) with narration on:\n"
	"each step the store takes, from the open (recovery) to the close, is printed with\n"
	"the function that takes it in [brackets] (a place for a breakpoint), then the reply.\n"
	"example: storelab trace ref /tmp/db get user42\n";

/* ---------------------------------------------------------------- options */

typedef struct shell_args {
	const char *store;   /* store name */
	const char *dir;     /* store directory */
	store_opts_t opts;   /* from the flags */
	int rest;            /* index of the first argument not consumed */
} shell_args_t;

/* STORE DIR then flags; stops at the first word that is not a flag. */
static int shell_parse_args(int argc, char **argv, shell_args_t *a, const char *usage)
{
	memset(a, 0, sizeof *a);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		exit(0);
	}
	if (argc < 3) {
		fputs(usage, stderr);
		return -1;
	}
	a->store = argv[1];
	a->dir = argv[2];
	int i = 3;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		const char *flag = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(flag, "--read-only") == 0) { /* the one flag without a value */
			a->opts.read_only = true;
			i--;
			continue;
		}
		if (val == NULL) {
			fprintf(stderr, "storelab: %s needs a value\n", flag);
			return -1;
		}
		if (strcmp(flag, "--sync") == 0) {
			if (sl_sync_parse(val, &a->opts.sync) != SL_OK) {
				fprintf(stderr, "storelab: --sync takes none, batch or always, not '%s'\n",
					val);
				return -1;
			}
		} else if (strcmp(flag, "--cache") == 0) {
			if (!cmdline_parse_bytes(val, UINT64_MAX, &a->opts.cache_bytes)) {
				fprintf(stderr, "storelab: --cache takes a byte count (e.g. 64M), not '%s'\n",
					val);
				return -1;
			}
		} else if (strcmp(flag, "--params") == 0) {
			a->opts.params = val;
		} else {
			fprintf(stderr, "storelab: unknown option %s\n%s", flag, usage);
			return -1;
		}
	}
	a->rest = i;
	return 0;
}

/* Opens the store, explaining an unknown name with the list of known ones. A
 * spec's own params (shard:n=3:by=range) come first, then those of --params. */
static store_t *shell_open(const shell_args_t *a)
{
	stores_register_all();
	char name[64], params[1024];
	snprintf(name, sizeof name, "%.*s", (int)strcspn(a->store, ":"), a->store);
	stores_spec_params(a->store, params, sizeof params);
	if (a->opts.params != NULL && a->opts.params[0] != '\0') {
		size_t used = strlen(params);
		snprintf(params + used, sizeof params - used, "%s%s", used ? "," : "",
			 a->opts.params);
	}
	store_opts_t opts = a->opts;
	opts.params = params[0] ? params : NULL;
	if (store_lookup(name) == NULL) {
		const char *pkg = stores_peer_package(a->store);
		if (pkg != NULL) {
			fprintf(stderr, "storelab: store '%s' was not built: install %s and rebuild\n",
				a->store, pkg);
			return NULL;
		}
		const store_ops_t *const *list;
		size_t n = store_registered(&list);
		fprintf(stderr, "storelab: no store named '%s'; known stores:", a->store);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, " %s", list[i]->name);
		fputc('\n', stderr);
		return NULL;
	}
	store_t *s;
	sl_err_t err = { 0, "" };
	int rc = store_open(name, a->dir, &opts, &s, &err);
	if (rc != SL_OK) {
		fprintf(stderr, "storelab: cannot open %s store at %s: %s\n", a->store, a->dir,
			err.msg[0] ? err.msg : sl_strerror(rc));
		return NULL;
	}
	return s;
}

/* ---------------------------------------------------------------- commands */

static void shell_reply_err(buf_t *reply, store_t *s, int rc)
{
	const char *msg = store_errmsg(s);
	buf_clear(reply);
	buf_append(reply, "ERR ", 4);
	if (msg[0] == '\0')
		msg = sl_strerror(rc);
	buf_append(reply, msg, strlen(msg));
}

static void shell_reply_text(buf_t *reply, const char *text)
{
	buf_set(reply, text, strlen(text));
}

static bool shell_parse_limit(sl_slice_t tok, uint64_t *limit)
{
	char text[24];
	if (tok.len == 0 || tok.len >= sizeof text)
		return false;
	memcpy(text, tok.data, tok.len);
	text[tok.len] = '\0';
	return cmdline_parse_bytes(text, UINT64_MAX, limit) && *limit > 0;
}

static void shell_scan(store_t *s, const cmdline_t *cl, buf_t *reply)
{
	sl_slice_t start = cl->ntok > 1 ? cl->tok[1] : sl_slice(NULL, 0);
	sl_slice_t end = cl->ntok > 2 ? cl->tok[2] : sl_slice(NULL, 0);
	uint64_t limit = SHELL_DEFAULT_SCAN_LIMIT;
	if (cl->ntok > 3 && !shell_parse_limit(cl->tok[3], &limit)) {
		shell_reply_text(reply, "ERR scan: LIMIT must be a positive number");
		return;
	}
	store_iter_t *it;
	int rc = store_scan(s, &start, end.len ? &end : NULL, &it);
	if (rc != SL_OK) {
		store_iter_close(it);
		shell_reply_err(reply, s, rc);
		return;
	}
	buf_t pairs = BUF_INIT;
	uint64_t n = 0;
	for (; store_iter_valid(it) && n < limit; n++) {
		buf_append(&pairs, " ", 1);
		cmdline_escape(&pairs, store_iter_key(it), 1);
		buf_append(&pairs, "=", 1);
		cmdline_escape(&pairs, store_iter_value(it), 1);
		store_iter_next(it);
	}
	rc = it->status;
	store_iter_close(it);
	if (rc != SL_OK) {
		shell_reply_err(reply, s, rc);
	} else {
		char count[24];
		snprintf(count, sizeof count, "%llu", (unsigned long long)n);
		shell_reply_text(reply, count);
		buf_append(reply, pairs.data, pairs.len);
	}
	buf_free(&pairs);
}

static void shell_stats(store_t *s, buf_t *reply)
{
	stats_list_t l = STATS_LIST_INIT;
	int rc = store_stats(s, &l);
	if (rc != SL_OK) {
		shell_reply_err(reply, s, rc);
	} else {
		buf_clear(reply);
		for (size_t i = 0; i < l.n; i++) {
			char item[96];
			int len = snprintf(item, sizeof item, "%s%s=%.6g", i ? " " : "", l.items[i].name,
					   l.items[i].value);
			buf_append(reply, item, (size_t)len);
		}
	}
	stats_list_free(&l);
}

/* Does the command have the right number of words? Sets the reply if not. */
static bool shell_arity(const cmdline_t *cl, size_t min, size_t max, const char *usage,
			buf_t *reply)
{
	if (cl->ntok >= min && cl->ntok <= max)
		return true;
	buf_set(reply, "ERR usage: ", 11);
	buf_append(reply, usage, strlen(usage));
	return false;
}

static bool shell_is(const cmdline_t *cl, const char *word)
{
	return sl_slice_eq(cl->tok[0], sl_slice_str(word));
}

/* Runs the store commands (those `trace` also accepts). false if cl is none of them. */
static bool shell_exec_data(store_t *s, const cmdline_t *cl, buf_t *reply, buf_t *val)
{
	int rc;
	if (shell_is(cl, "put")) {
		if (shell_arity(cl, 3, 3, "put KEY VALUE", reply)) {
			rc = store_put(s, cl->tok[1], cl->tok[2]);
			rc == SL_OK ? shell_reply_text(reply, "OK") : shell_reply_err(reply, s, rc);
		}
	} else if (shell_is(cl, "get")) {
		if (shell_arity(cl, 2, 2, "get KEY", reply)) {
			rc = store_get(s, cl->tok[1], val);
			buf_clear(reply);
			if (rc == SL_OK)
				cmdline_escape_value(reply, buf_slice(val));
			else
				rc == SL_NOTFOUND ? shell_reply_text(reply, "NOTFOUND")
						  : shell_reply_err(reply, s, rc);
		}
	} else if (shell_is(cl, "del")) {
		if (shell_arity(cl, 2, 2, "del KEY", reply)) {
			rc = store_del(s, cl->tok[1]);
			rc == SL_OK ? shell_reply_text(reply, "OK") : shell_reply_err(reply, s, rc);
		}
	} else if (shell_is(cl, "scan")) {
		if (shell_arity(cl, 1, 4, "scan [START [END [LIMIT]]]", reply))
			shell_scan(s, cl, reply);
	} else {
		return false;
	}
	return true;
}

/* Runs one parsed command. Returns 1 when the shell should end. */
static int shell_exec(store_t *s, const cmdline_t *cl, buf_t *reply, buf_t *val)
{
	if (shell_exec_data(s, cl, reply, val))
		return 0;
	int rc;
	if (shell_is(cl, "stats")) {
		shell_stats(s, reply);
	} else if (shell_is(cl, "sync")) {
		rc = store_sync(s);
		rc == SL_OK ? shell_reply_text(reply, "OK") : shell_reply_err(reply, s, rc);
	} else if (shell_is(cl, "check")) {
		rc = store_check(s);
		rc == SL_OK ? shell_reply_text(reply, "OK") : shell_reply_err(reply, s, rc);
	} else if (shell_is(cl, "trace")) {
		bool on = cl->ntok == 2 && sl_slice_eq(cl->tok[1], sl_slice_str("on"));
		bool off = cl->ntok == 2 && sl_slice_eq(cl->tok[1], sl_slice_str("off"));
		if (on || off) {
			store_trace(s, on ? cmdline_trace_line : NULL, stderr);
			shell_reply_text(reply, "OK");
		} else {
			shell_reply_text(reply, "ERR usage: trace on|off");
		}
	} else if (shell_is(cl, "help")) {
		shell_reply_text(reply, "commands: put K V | get K | del K | scan [A [B [LIMIT]]] | "
					"stats | trace on|off | sync | check | help | quit");
	} else if (shell_is(cl, "quit") || shell_is(cl, "exit")) {
		shell_reply_text(reply, "OK");
		return 1;
	} else {
		buf_clear(reply);
		buf_append(reply, "ERR unknown command '", 21);
		cmdline_escape(reply, cl->tok[0], 1);
		buf_append(reply, "' (try help)", 12);
	}
	return 0;
}

/* ---------------------------------------------------------------- the loops */

static bool shell_skip_line(const char *line, size_t len)
{
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
		i++;
	return i == len || line[i] == '#';
}

/*
 * The longest line worth reading for store s: a put of its largest key and
 * value with every byte written as a 4-byte \xHH escape, plus the command word.
 */
static size_t shell_line_limit(const store_t *s)
{
	size_t k = s->ops->max_key_bytes ? s->ops->max_key_bytes : SHELL_UNDECLARED_LIMIT;
	size_t v = s->ops->max_value_bytes ? s->ops->max_value_bytes : SHELL_UNDECLARED_LIMIT;
	return 4 * (k + v) + 64;
}

/*
 * Reads one line into line, without its newline and without a CR before it
 * (CRLF files from other systems read the same). Returns 1 for a line, 0 at the
 * end of the input, -1 for a line longer than max: the rest of it is read and
 * dropped as it comes, never buffered, so an endless line cannot exhaust memory.
 */
static int shell_read_line(FILE *in, buf_t *line, size_t max)
{
	char stage[4096];
	size_t n = 0;
	bool any = false, too_long = false;
	int c;
	buf_clear(line);
	while ((c = getc_unlocked(in)) != EOF && c != '\n') {
		any = true;
		if (line->len + n >= max) {
			too_long = true;
			continue;
		}
		stage[n++] = (char)c;
		if (n == sizeof stage) {
			buf_append(line, stage, n);
			n = 0;
		}
	}
	buf_append(line, stage, n);
	if (!any && c == EOF)
		return 0;
	if (too_long)
		return -1;
	if (line->len > 0 && line->data[line->len - 1] == '\r')
		line->len--;
	return 1;
}

static void shell_write_reply(const buf_t *reply)
{
	fwrite(reply->data, 1, reply->len, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

int shell_main(int argc, char **argv)
{
	shell_args_t a;
	if (shell_parse_args(argc, argv, &a, shell_usage) != 0)
		return 2;
	if (a.rest != argc) {
		fprintf(stderr, "storelab shell: unexpected argument '%s'\n%s", argv[a.rest],
			shell_usage);
		return 2;
	}
	store_t *s = shell_open(&a);
	if (s == NULL)
		return 1;
	bool tty = isatty(STDIN_FILENO);
	cmdline_t cl = { 0 };
	buf_t reply = BUF_INIT, val = BUF_INIT, line = BUF_INIT;
	size_t limit = shell_line_limit(s);
	for (;;) {
		if (tty) {
			fputs("storelab> ", stdout);
			fflush(stdout);
		}
		int got = shell_read_line(stdin, &line, limit);
		if (got == 0)
			break;
		const char *text = (const char *)line.data;
		int quit = 0;
		if (got < 0) {
			char why[96];
			snprintf(why, sizeof why, "ERR line longer than %zu bytes (the largest put "
				 "this store takes): ignored", limit);
			shell_reply_text(&reply, why);
		} else if (!buf_ok(&line)) {
			shell_reply_text(&reply, "ERR out of memory reading the line");
		} else if (shell_skip_line(text, line.len)) {
			continue;
		} else if (cmdline_parse(&cl, text, line.len) != 0) {
			buf_set(&reply, "ERR ", 4);
			buf_append(&reply, cl.error, strlen(cl.error));
		} else {
			quit = shell_exec(s, &cl, &reply, &val);
		}
		shell_write_reply(&reply);
		if (quit)
			break;
	}
	buf_free(&line);
	cmdline_free(&cl);
	buf_free(&reply);
	buf_free(&val);
	int rc = store_close(s);
	if (rc != SL_OK) {
		fprintf(stderr, "storelab shell: closing the store failed: %s\n", sl_strerror(rc));
		return 1;
	}
	return 0;
}

/* Joins argv words back into one shell line, quoting words that need it. */
static void trace_join(int argc, char **argv, int from, buf_t *line)
{
	for (int i = from; i < argc; i++) {
		if (i > from)
			buf_append(line, " ", 1);
		bool quote = argv[i][0] == '\0' || strpbrk(argv[i], " \t") != NULL;
		if (quote)
			buf_append(line, "\"", 1);
		buf_append(line, argv[i], strlen(argv[i]));
		if (quote)
			buf_append(line, "\"", 1);
	}
}

int trace_main(int argc, char **argv)
{
	shell_args_t a;
	if (shell_parse_args(argc, argv, &a, trace_usage) != 0)
		return 2;
	if (a.rest >= argc) {
		fputs(trace_usage, stderr);
		return 2;
	}
	buf_t line = BUF_INIT, reply = BUF_INIT, val = BUF_INIT;
	cmdline_t cl = { 0 };
	trace_join(argc, argv, a.rest, &line);
	int status = 2;
	if (cmdline_parse(&cl, (const char *)line.data, line.len) != 0) {
		fprintf(stderr, "storelab trace: %s\n", cl.error);
		goto out;
	}
	a.opts.no_create = true; /* narrating a store that is not there would make one */
	a.opts.trace = (trace_t){ cmdline_trace_line, stdout }; /* the open (recovery) too */
	store_t *s = shell_open(&a);
	if (s == NULL) {
		status = 1;
		goto out;
	}
	if (!shell_exec_data(s, &cl, &reply, &val))
		shell_reply_text(&reply, "ERR trace runs put, get, del or scan");
	shell_write_reply(&reply);
	status = reply.len >= 3 && memcmp(reply.data, "ERR", 3) == 0 ? 1 : 0;
	if (store_close(s) != SL_OK)
		status = 1;
out:
	buf_free(&line);
	buf_free(&reply);
	buf_free(&val);
	cmdline_free(&cl);
	return status;
}
