/*
 * main.c — the storelab command: one binary, one subcommand per job.
 *
 *   storelab bench | shell | trace | inspect | advise | guide | index | search | ts | lab
 *
 * Each subcommand lives in its own file and takes (argc, argv) with argv[0] set
 * to the subcommand's name; `storelab SUB --help` prints its usage.
 */
#include <stdio.h>
#include <string.h>

#include "bench/bench_cmd.h"
#include "bench/fts_cmd.h"
#include "bench/guide.h"
#include "bench/ts_cmd.h"
#include "bench/inspect.h"
#include "bench/lab.h"
#include "bench/shell.h"

typedef struct subcommand {
	const char *name;              /* as typed */
	int (*run)(int argc, char **argv);
	const char *summary;           /* one line for `storelab --help` */
	const char *tracked_in;        /* not built yet: the issue that builds it */
} subcommand_t;

static const subcommand_t commands[] = {
	{ "bench", bench_main, "run workloads on stores and report throughput, latency, amplification",
	  NULL },
	{ "shell", shell_main, "read put/get/del/scan commands from stdin, one reply line each", NULL },
	{ "trace", trace_main, "run one command with the store narrating each step", NULL },
	{ "inspect", inspect_main, "decode and verify any file or directory storelab wrote", NULL },
	{ "advise", advise_main, "measure a read/update/insert/scan mix on every store, ranked",
	  NULL },
	{ "guide", guide_main, "write \"which store when\" from measured runs (make demo does)", NULL },
	{ "index", index_main, "build an inverted index from id<TAB>text lines", NULL },
	{ "search", search_main, "BM25 top-k search over an inverted index", NULL },
	{ "ts", ts_main, "ingest, query and inspect time series", NULL },
	{ "lab", lab_main, "measured design lessons: index design (lab rides), sharding (lab shard)", NULL },
};

static void usage(FILE *out)
{
	fputs("usage: storelab COMMAND [ARGS...]   (storelab COMMAND --help for details)\n\n",
	      out);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-8s %s%s\n", commands[i].name, commands[i].summary,
			commands[i].run ? "" : " (not built yet)");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		const subcommand_t *c = &commands[i];
		if (strcmp(argv[1], c->name) != 0)
			continue;
		if (c->run == NULL) {
			fprintf(stderr, "storelab %s: not built yet (tracked in %s)\n", c->name,
				c->tracked_in);
			return 2;
		}
		return c->run(argc - 1, argv + 1);
	}
	fprintf(stderr, "storelab: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
