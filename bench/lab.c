/* lab.c — `storelab lab`: its command line and the tables every lab prints (see lab.h). */
#include "bench/lab.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/harness.h"
#include "bench/stores.h"

static const char lab_usage[] =
	"usage: storelab lab shard [--keys N] [--nodes N] [--seed S] [--dir DIR]\n"
	"                          [--format text|markdown]\n"
	"       storelab lab rides [--rows N] [--seed S] [--dir DIR] [--format text|markdown]\n"
	"\n"
	"  shard   partitioning a store over nodes, measured on real stores: keys moved\n"
	"          when a node joins or leaves (mod, ring, jump, rendezvous, range), load\n"
	"          balance against virtual nodes, a hot key, range vs hash partitioning\n"
	"          for scans, and choosing the sharding key of a ride-sharing table\n"
	"  rides   index design on a ride-sharing trips table, measured: column order,\n"
	"          covering, hash vs B+tree, selectivity, partial indexes, OFFSET vs\n"
	"          cursor pagination, N+1 lookups, the write cost of each index\n"
	"  --keys N    shard: keys in each store (default 200000)\n"
	"  --rows N    rides: trips (default 100000)\n"
	"  --nodes N   nodes in most lessons (default 8)\n"
	"  --dir DIR   where the scratch stores go (default $TMPDIR or /tmp)\n";

/* ---------------------------------------------------------------- tables */

void lab_table_init(lab_table_t *t, const char *title, const char *const *heads)
{
	memset(t, 0, sizeof *t);
	t->title = title;
	while (t->ncols < LAB_MAX_COLS && heads[t->ncols] != NULL) {
		t->head[t->ncols] = heads[t->ncols];
		t->ncols++;
	}
}

int lab_table_row(lab_table_t *t)
{
	return t->nrows < LAB_MAX_ROWS ? t->nrows++ : LAB_MAX_ROWS - 1;
}

void lab_cell(lab_table_t *t, int row, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->cell[row][col], sizeof t->cell[row][col], fmt, ap);
	va_end(ap);
}

/* Text: columns padded to their widest cell, the first left-aligned, numbers right. */
static void lab_print_text(const lab_table_t *t)
{
	int width[LAB_MAX_COLS];
	for (int c = 0; c < t->ncols; c++) {
		width[c] = (int)strlen(t->head[c]);
		for (int r = 0; r < t->nrows; r++)
			if ((int)strlen(t->cell[r][c]) > width[c])
				width[c] = (int)strlen(t->cell[r][c]);
	}
	for (int c = 0; c < t->ncols; c++)
		printf(c ? "  %*s" : "%-*s", width[c], t->head[c]);
	printf("\n");
	for (int r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++)
			printf(c ? "  %*s" : "%-*s", width[c], t->cell[r][c]);
		printf("\n");
	}
}

static void lab_print_markdown(const lab_table_t *t)
{
	for (int c = 0; c < t->ncols; c++)
		printf("| %s ", t->head[c]);
	printf("|\n");
	for (int c = 0; c < t->ncols; c++)
		printf(c ? "|--:" : "|---");
	printf("|\n");
	for (int r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++)
			printf("| %s ", t->cell[r][c]);
		printf("|\n");
	}
}

void lab_table_print(const lab_table_t *t, const lab_cfg_t *cfg, const char *fmt, ...)
{
	printf(cfg->markdown ? "\n### %s\n\n" : "\n== %s\n\n", t->title);
	if (cfg->markdown)
		lab_print_markdown(t);
	else
		lab_print_text(t);
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	printf(cfg->markdown ? "\n**%s**\n" : "-> %s\n", line);
	fflush(stdout);
}

/* ---------------------------------------------------------------- the command */

static int lab_parse_u64(const char *flag, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (end == v || *end != 0 || errno != 0 || v[0] == '-' || x < lo || x > hi) {
		fprintf(stderr, "storelab lab: %s %s: expected a number from %llu to %llu\n", flag, v,
			(unsigned long long)lo, (unsigned long long)hi);
		return -1;
	}
	*out = x;
	return 0;
}

static int lab_parse(int argc, char **argv, lab_cfg_t *cfg)
{
	for (int i = 2; i < argc; i++) {
		const char *flag = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t x = 0;
		if (v == NULL) {
			fprintf(stderr, "storelab lab: %s needs a value (or unknown flag)\n%s", flag,
				lab_usage);
			return -1;
		}
		i++;
		if (strcmp(flag, "--keys") == 0 || strcmp(flag, "--rows") == 0) {
			if (lab_parse_u64(flag, v, 1000, 100000000, &cfg->keys) != 0)
				return -1;
		} else if (strcmp(flag, "--nodes") == 0) {
			if (lab_parse_u64(flag, v, 2, 64, &x) != 0)
				return -1;
			cfg->nodes = (uint32_t)x;
		} else if (strcmp(flag, "--seed") == 0) {
			if (lab_parse_u64(flag, v, 0, UINT64_MAX, &cfg->seed) != 0)
				return -1;
		} else if (strcmp(flag, "--dir") == 0) {
			cfg->dir = v;
		} else if (strcmp(flag, "--format") == 0 &&
			   (strcmp(v, "text") == 0 || strcmp(v, "markdown") == 0)) {
			cfg->markdown = strcmp(v, "markdown") == 0;
		} else {
			fprintf(stderr, "storelab lab: bad option %s %s\n%s", flag, v, lab_usage);
			return -1;
		}
	}
	return 0;
}

int lab_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(lab_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	bool rides = strcmp(argv[1], "rides") == 0;
	if (!rides && strcmp(argv[1], "shard") != 0) {
		fprintf(stderr, "storelab lab: unknown lab '%s'\n%s", argv[1], lab_usage);
		return 2;
	}
	lab_cfg_t cfg = { .keys = rides ? 100000 : 200000, .nodes = 8, .seed = 42 };
	if (lab_parse(argc, argv, &cfg) != 0)
		return 2;
	const char *base = cfg.dir ? cfg.dir : getenv("TMPDIR");
	snprintf(cfg.work, sizeof cfg.work, "%s/storelab-lab-XXXXXX", base && *base ? base : "/tmp");
	if (mkdtemp(cfg.work) == NULL) {
		fprintf(stderr, "storelab lab: cannot make a scratch folder in %s: %s\n",
			base && *base ? base : "/tmp", strerror(errno));
		return 1;
	}
	stores_register_all();
	int rc = rides ? lab_rides(&cfg) : lab_shard(&cfg);
	harness_rmrf(cfg.work);
	return rc == 0 ? 0 : 1;
}
