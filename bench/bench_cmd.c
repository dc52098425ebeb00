/* bench_cmd.c — `storelab bench` (see bench_cmd.h). */
#include "bench/bench_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/cmdline.h"
#include "bench/fts_bench.h"
#include "bench/ts_bench.h"
#include "bench/report.h"
#include "bench/stores.h"

static const char bench_usage[] =
	"usage: storelab bench [--suite kv] [--stores LIST] [--workloads LIST] [--n N]\n"
	"                      [--key-size B] [--value-size B] [--dist uniform|zipfian|latest]\n"
	"                      [--sync none|batch|always] [--batch N] [--seed S] [--dir DIR]\n"
	"                      [--repeat R] [--threads T] [--scan-length L] [--cache BYTES]\n"
	"                      [--memory LIMIT] [--reads N]\n"
	"                      [--compress-ratio F] [--params NAME=VALUE,...]\n"
	"                      [--format table|json|csv] [--out FILE]\n"
	"                      [--chart FILE.svg] [--markdown FILE.md] [--summary] [--show FIGURES]\n"
	"Runs each workload on each store and reports throughput, latency percentiles,\n"
	"amplification, disk use and memory, as medians of --repeat runs (default 3).\n"
	"Workloads named together run in order on the same store (fills start empty).\n"
	"A store may carry params of its own: --stores lsm,lsm:policy=tiered:ratio=4;\n"
	"--stores -kyoto-tree,-sqlite runs every default store but those. --show NAME,...\n"
	"prints store figures (btree.height, or just height) in a table after the results.\n"
	"Defaults: every built store (ref and shard when named); fillseq,fillrandom,readrandom,readmissing,scan,overwrite;\n"
	"n 100000, 16-byte keys, 100-byte values, sync none, batch 1 (--batch N groups N\n"
	"writes into one atomic batch or transaction, for every store). --memory 256M runs\n"
	"each store in a memory cgroup of that size, its files' page cache included (root).\n"
	"--reads N caps readrandom and readmissing at N gets (scan at N/10 scans).\n"
	"Other suites: --suite fts (search engines; --suite fts --help) and --suite ts\n"
	"(time-series stores; --suite ts --help).\n";

static const char default_workloads[] =
	"fillseq,fillrandom,readrandom,readmissing,scan,overwrite";

/* ---------------------------------------------------------------- options */

static int bench_parse_u64(const char *flag, const char *v, uint64_t max, uint64_t *out,
			   char *err, size_t err_size)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	uint64_t mult = 1;
	if (*end == 'k' || *end == 'K')
		mult = 1000, end++;
	else if (*end == 'm' || *end == 'M')
		mult = 1000000, end++;
	if (errno || end == v || *end != '\0' || v[0] == '-' || x > max / mult) {
		snprintf(err, err_size, "%s takes a whole number up to %llu, not '%s'", flag,
			 (unsigned long long)max, v);
		return -1;
	}
	*out = x * mult;
	return 1;
}

int bench_parse_common(const char *flag, const char *v, bench_cfg_t *cfg, char *err,
		       size_t err_size)
{
	uint64_t x;
	int rc = 1;
	if (strcmp(flag, "--n") == 0)
		rc = bench_parse_u64(flag, v, UINT32_MAX, &cfg->n, err, err_size);
	else if (strcmp(flag, "--key-size") == 0 &&
		 (rc = bench_parse_u64(flag, v, WL_MAX_KEY_SIZE, &x, err, err_size)) == 1)
		cfg->key_size = (unsigned)x;
	else if (strcmp(flag, "--value-size") == 0 &&
		 (rc = bench_parse_u64(flag, v, 64u << 20, &x, err, err_size)) == 1)
		cfg->value_size = (size_t)x;
	else if (strcmp(flag, "--seed") == 0)
		rc = bench_parse_u64(flag, v, UINT64_MAX, &cfg->seed, err, err_size);
	else if (strcmp(flag, "--repeat") == 0 &&
		 (rc = bench_parse_u64(flag, v, 100, &x, err, err_size)) == 1)
		cfg->repeat = (unsigned)x;
	else if (strcmp(flag, "--batch") == 0) {
		rc = bench_parse_u64(flag, v, 1000000, &x, err, err_size);
		if (rc == 1 && x == 0) {
			snprintf(err, err_size, "--batch takes a whole number from 1 to 1000000, not '0'");
			rc = -1;
		}
		if (rc == 1)
			cfg->batch = (unsigned)x;
	} else if (strcmp(flag, "--threads") == 0 &&
		 (rc = bench_parse_u64(flag, v, 256, &x, err, err_size)) == 1)
		cfg->threads = (unsigned)x;
	else if (strcmp(flag, "--scan-length") == 0 &&
		 (rc = bench_parse_u64(flag, v, 1000000, &x, err, err_size)) == 1)
		cfg->scan_length = (unsigned)x;
	else if (strcmp(flag, "--reads") == 0) {
		rc = bench_parse_u64(flag, v, UINT32_MAX, &cfg->reads, err, err_size);
		if (rc == 1 && cfg->reads == 0) {
			snprintf(err, err_size, "--reads takes a whole number from 1 to 4294967295, not '0'");
			rc = -1;
		}
	} else if (strcmp(flag, "--cache") == 0)
		rc = bench_parse_u64(flag, v, UINT64_MAX, &cfg->cache_bytes, err, err_size);
	else if (strcmp(flag, "--memory") == 0) {
		if (!cmdline_parse_bytes(v, 1ull << 50, &cfg->memory_bytes) || cfg->memory_bytes < (16u << 20)) {
			snprintf(err, err_size, "--memory takes a size of at least 16M (256M, 1G), not '%s'", v);
			rc = -1;
		}
	}
	else if (strcmp(flag, "--dir") == 0)
		cfg->dir = v;
	else if (strcmp(flag, "--params") == 0)
		cfg->params = v;
	else if (strcmp(flag, "--compress-ratio") == 0) {
		char *end;
		cfg->compress_ratio = strtod(v, &end);
		if (*end != '\0' || !(cfg->compress_ratio > 0 && cfg->compress_ratio <= 1)) {
			snprintf(err, err_size, "--compress-ratio takes a fraction in (0, 1], not '%s'", v);
			rc = -1;
		}
	} else if (strcmp(flag, "--dist") == 0) {
		if (dist_parse(v, &cfg->dist) != 0) {
			snprintf(err, err_size, "--dist takes uniform, zipfian or latest, not '%s'", v);
			rc = -1;
		}
	} else if (strcmp(flag, "--sync") == 0) {
		if (sl_sync_parse(v, &cfg->sync) != SL_OK) {
			snprintf(err, err_size, "--sync takes none, batch or always, not '%s'", v);
			rc = -1;
		}
	} else {
		rc = 0;
	}
	return rc;
}

size_t bench_split_list(char *list, const char **out, size_t max)
{
	size_t n = 0;
	for (char *tok = strtok(list, ","); tok != NULL && n < max; tok = strtok(NULL, ","))
		out[n++] = tok;
	return n;
}

typedef struct bench_args {
	bench_cfg_t cfg;
	char *stores;         /* comma list, NULL = all */
	char *workloads;      /* comma list */
	const char *format;   /* table, json or csv */
	const char *out;      /* output file, NULL = stdout */
	const char *chart;    /* SVG file */
	const char *markdown; /* markdown file */
	bool summary;         /* print the which-store-when lines */
	char *show;           /* --show: store figures to print after the table (comma list) */
	uint64_t sizes[8];    /* --n A,B,C: a size sweep; nsizes = 1 for a single --n */
	size_t nsizes;
} bench_args_t;

/* --n N or a sweep --n N1,N2,...: increasing sizes into a->sizes. */
static int bench_parse_sizes(const char *v, bench_args_t *a, char *err, size_t size)
{
	char *list = strdup(v), *save = NULL;
	a->nsizes = 0;
	int rc = list ? 0 : -1;
	for (char *tok = list ? strtok_r(list, ",", &save) : NULL; rc == 0 && tok;
	     tok = strtok_r(NULL, ",", &save)) {
		uint64_t x;
		if (a->nsizes == 8) {
			snprintf(err, size, "--n takes at most 8 sizes");
			rc = -1;
		} else if (bench_parse_u64("--n", tok, UINT32_MAX, &x, err, size) != 1) {
			rc = -1;
		} else if (a->nsizes > 0 && x <= a->sizes[a->nsizes - 1]) {
			snprintf(err, size, "--n %s: the sizes of a sweep must increase", v);
			rc = -1;
		} else {
			a->sizes[a->nsizes++] = x;
		}
	}
	free(list);
	if (rc == 0 && a->nsizes == 0) {
		snprintf(err, size, "--n takes a number or a list of numbers, not '%s'", v);
		rc = -1;
	}
	a->cfg.n = rc == 0 ? a->sizes[0] : a->cfg.n;
	return rc;
}

static int bench_parse_args(int argc, char **argv, bench_args_t *a, char *err, size_t size)
{
	for (int i = 1; i < argc; i++) {
		const char *flag = argv[i];
		if (strcmp(flag, "--summary") == 0) {
			a->summary = true;
			continue;
		}
		if (strncmp(flag, "--", 2) != 0 || i + 1 >= argc) {
			snprintf(err, size, "%s: expected --option VALUE", flag);
			return -1;
		}
		const char *v = argv[++i];
		if (strcmp(flag, "--n") == 0) {
			if (bench_parse_sizes(v, a, err, size) != 0)
				return -1;
			continue;
		}
		int rc = bench_parse_common(flag, v, &a->cfg, err, size);
		if (rc < 0)
			return -1;
		if (rc == 1)
			continue;
		if (strcmp(flag, "--stores") == 0)
			a->stores = strdup(v);
		else if (strcmp(flag, "--workloads") == 0)
			a->workloads = strdup(v);
		else if (strcmp(flag, "--format") == 0)
			a->format = v;
		else if (strcmp(flag, "--out") == 0)
			a->out = v;
		else if (strcmp(flag, "--chart") == 0)
			a->chart = v;
		else if (strcmp(flag, "--markdown") == 0)
			a->markdown = v;
		else if (strcmp(flag, "--show") == 0)
			a->show = strdup(v);
		else if (strcmp(flag, "--suite") == 0) {
			if (strcmp(v, "kv") != 0) {
				snprintf(err, size, "--suite %s: the suites are kv, fts and ts", v);
				return -1;
			}
		} else {
			snprintf(err, size, "unknown option %s", flag);
			return -1;
		}
	}
	if (strcmp(a->format, "table") != 0 && strcmp(a->format, "json") != 0 &&
	    strcmp(a->format, "csv") != 0) {
		snprintf(err, size, "--format takes table, json or csv, not '%s'", a->format);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- names */

/* Is name among the n names of list? */
static bool bench_listed(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

/* The default stores (every built one but those run only by name), less the n in skip. */
static int bench_default_stores(const char *const *skip, size_t nskip, const char **out, size_t max,
				size_t *n, char *err, size_t size)
{
	const store_ops_t *const *all;
	size_t nall = store_registered(&all);
	for (size_t i = 0; i < nskip; i++)
		if (store_lookup(skip[i]) == NULL && stores_peer_package(skip[i]) == NULL) {
			snprintf(err, size, "--stores -%s: no store of that name to leave out", skip[i]);
			return -1;
		}
	*n = 0;
	for (size_t i = 0; i < nall && *n < max; i++)
		if (!(all[i]->caps & STORE_BY_NAME) && !bench_listed(all[i]->name, skip, nskip))
			out[(*n)++] = all[i]->name;
	return 0;
}

int bench_stores(char *list, const char **out, size_t max, size_t *n, char *err, size_t size)
{
	const store_ops_t *const *all;
	size_t nall = store_registered(&all);
	if (list == NULL)
		return bench_default_stores(NULL, 0, out, max, n, err, size);
	*n = bench_split_list(list, out, max);
	bool all_skips = *n > 0;
	for (size_t i = 0; i < *n; i++)
		all_skips = all_skips && out[i][0] == '-';
	if (all_skips) { /* "-a,-b": every default store but a and b */
		const char *skip[32];
		for (size_t i = 0; i < *n; i++)
			skip[i] = out[i] + 1;
		return bench_default_stores(skip, *n, out, max, n, err, size);
	}
	for (size_t i = 0; i < *n; i++) {
		if (stores_spec_lookup(out[i]) != NULL)
			continue;
		const char *pkg = stores_peer_package(out[i]);
		if (pkg != NULL) {
			snprintf(err, size, "store '%s' was not built: install %s, then rebuild", out[i],
				 pkg);
			return -1;
		}
		int len = snprintf(err, size, "no store named '%s'; known:", out[i]);
		for (size_t j = 0; j < nall && len > 0 && (size_t)len < size; j++)
			len += snprintf(err + len, size - (size_t)len, " %s", all[j]->name);
		return -1;
	}
	return 0;
}

static int bench_workloads(char *list, const workload_def_t **out, size_t max, size_t *n,
			   char *err, size_t size)
{
	const char *names[HARNESS_MAX_WORKLOADS];
	*n = bench_split_list(list, names, max);
	for (size_t i = 0; i < *n; i++) {
		out[i] = workload_find(names[i]);
		if (out[i] != NULL && strcmp(names[i], "mix") != 0)
			continue;
		const workload_def_t *defs;
		size_t nd = workload_defs(&defs);
		int len = snprintf(err, size, "no workload named '%s'; known:", names[i]);
		for (size_t j = 0; j < nd && len > 0 && (size_t)len < size; j++)
			len += snprintf(err + len, size - (size_t)len, " %s", defs[j].name);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- output */


typedef void (*bench_report_fn)(FILE *, const bench_cfg_t *, const bench_result_t *, size_t);

/*
 * Writes a report of every result to f: once for JSON and CSV (each row
 * carries its n), once per size for a table, markdown or summary.
 */
static void bench_emit(FILE *f, bench_report_fn fn, const bench_args_t *a, const bench_result_t *r,
		       size_t n)
{
	if (fn == report_json || fn == report_csv || a->nsizes <= 1) {
		fn(f, &a->cfg, r, n);
		return;
	}
	size_t per = n / a->nsizes;
	for (size_t z = 0; z < a->nsizes; z++) {
		bench_cfg_t cfg = a->cfg;
		cfg.n = a->sizes[z];
		if (z > 0)
			fputc('\n', f);
		fn(f, &cfg, r + z * per, per);
	}
}

static int bench_write_file(const char *path, bench_report_fn fn, const bench_args_t *a,
			    const bench_result_t *r, size_t n)
{
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "storelab bench: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fn == report_svg && a->nsizes > 1)
		report_svg_sweep(f, &a->cfg, r, n, a->sizes, a->nsizes);
	else
		bench_emit(f, fn, a, r, n);
	if (fclose(f) != 0) {
		fprintf(stderr, "storelab bench: writing %s failed: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void bench_summary(FILE *f, const bench_cfg_t *cfg, const bench_result_t *r, size_t n)
{
	fprintf(f, "\nat %llu keys:\n", (unsigned long long)cfg->n);
	report_summary(f, r, n);
}

static int bench_output(const bench_args_t *a, const bench_result_t *r, size_t n)
{
	bench_report_fn fn = report_table;
	if (strcmp(a->format, "json") == 0)
		fn = report_json;
	else if (strcmp(a->format, "csv") == 0)
		fn = report_csv;
	int rc = 0;
	if (a->out != NULL)
		rc |= bench_write_file(a->out, fn, a, r, n);
	/* The terminal always gets a table, unless the chosen format went there. */
	if (a->out == NULL)
		bench_emit(stdout, fn, a, r, n);
	else if (fn != report_table)
		bench_emit(stdout, report_table, a, r, n);
	if (a->chart != NULL)
		rc |= bench_write_file(a->chart, report_svg, a, r, n);
	if (a->markdown != NULL)
		rc |= bench_write_file(a->markdown, report_markdown, a, r, n);
	if (a->show != NULL) {
		char *list = strdup(a->show);
		const char *names[32];
		size_t nn = list ? bench_split_list(list, names, 32) : 0;
		fputc('\n', stdout);
		report_figures(stdout, r, n, names, nn);
		free(list);
	}
	if (a->summary && a->nsizes > 1) {
		bench_emit(stdout, bench_summary, a, r, n);
	} else if (a->summary) {
		fputc('\n', stdout);
		report_summary(stdout, r, n);
	}
	return rc;
}

/* Runs the workloads at each size of the sweep (or the one --n), results one size after another. */
static int bench_sweep(bench_args_t *a, const char *const *stores, size_t ns,
		       const workload_def_t *const *workloads, size_t nw, bench_result_t **out,
		       char *err, size_t size)
{
	size_t cells = ns * nw;
	*out = calloc(cells * a->nsizes + 1, sizeof **out);
	if (*out == NULL) {
		snprintf(err, size, "out of memory");
		return -1;
	}
	for (size_t z = 0; z < a->nsizes; z++) {
		bench_result_t *r;
		a->cfg.n = a->sizes[z];
		if (a->nsizes > 1 && isatty(STDERR_FILENO))
			fprintf(stderr, "size %zu of %zu: %llu keys\n", z + 1, a->nsizes,
				(unsigned long long)a->sizes[z]);
		if (bench_run(&a->cfg, stores, ns, workloads, nw, &r, err, size) != 0)
			return -1;
		memcpy(*out + z * cells, r, cells * sizeof *r);
		free(r);
	}
	a->cfg.n = a->sizes[0];
	return 0;
}

int bench_main(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(bench_usage, stdout);
		const workload_def_t *defs;
		size_t nd = workload_defs(&defs);
		fputs("\nworkloads:\n", stdout);
		for (size_t i = 0; i < nd; i++)
			printf("  %-13s %s\n", defs[i].name, defs[i].summary);
		return 0;
	}
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--suite") == 0 && strcmp(argv[i + 1], "fts") == 0)
			return fts_bench_main(argc, argv);
		else if (strcmp(argv[i], "--suite") == 0 && strcmp(argv[i + 1], "ts") == 0)
			return ts_bench_main(argc, argv);
	stores_register_all();
	bench_args_t a = { .format = "table" };
	bench_cfg_defaults(&a.cfg);
	a.sizes[0] = a.cfg.n;
	a.nsizes = 1;
	a.cfg.progress = true;
	char err[512];
	const char *stores[32];
	const workload_def_t *workloads[HARNESS_MAX_WORKLOADS];
	size_t ns = 0, nw = 0;
	bench_result_t *results = NULL;
	int status = 2;
	int parsed = bench_parse_args(argc, argv, &a, err, sizeof err);
	if (a.workloads == NULL)
		a.workloads = strdup(default_workloads);
	if (parsed != 0 || bench_stores(a.stores, stores, 32, &ns, err, sizeof err) != 0 ||
	    bench_workloads(a.workloads, workloads, HARNESS_MAX_WORKLOADS, &nw, err,
			    sizeof err) != 0 ||
	    bench_sweep(&a, stores, ns, workloads, nw, &results, err, sizeof err) != 0) {
		fprintf(stderr, "storelab bench: %s\n", err);
		goto out;
	}
	status = bench_output(&a, results, ns * nw * a.nsizes) == 0 ? 0 : 1;
	for (size_t i = 0; i < ns * nw * a.nsizes; i++)
		if (results[i].status != SL_OK && results[i].status != SL_NOTSUP)
			status = 1;
out:
	free(results);
	free(a.stores);
	free(a.show);
	free(a.workloads);
	return status;
}
