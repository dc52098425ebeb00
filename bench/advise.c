/*
 * advise.c — `storelab advise`: which store for this mix of operations?
 *
 * It answers from measurements, not from a table: it runs a short benchmark of
 * the given read/update/insert/scan mix on every store built, ranks them by
 * throughput, and explains each place from the per-operation latencies it
 * measured (where a store is fastest, and where it falls behind and by how much).
 */
#include "bench/bench_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/report.h"
#include "bench/stores.h"

static const char advise_usage[] =
	"usage: storelab advise [--read P] [--update P] [--insert P] [--scan P] [--n N]\n"
	"                       [--value-size B] [--key-size B] [--dist D] [--sync MODE]\n"
	"                       [--repeat R] [--seed S] [--stores LIST]\n"
	"Measures the mix (proportions, normalised to sum 1; default --read 1) on every\n"
	"store built (the test oracle ref and the sharded store only when --stores names\n"
	"them), after loading n keys (default 20000), and ranks the stores with the\n"
	"figures that explain the ranking.\n"
	"example: storelab advise --read 0.9 --update 0.1\n";

static int advise_parse(int argc, char **argv, bench_cfg_t *cfg, char **stores, char *err,
			size_t size)
{
	static const char *const kinds[] = { "--read", "--update", "--insert", "--scan" };
	static const op_kind_t ops[] = { OP_READ, OP_UPDATE, OP_INSERT, OP_SCAN };
	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc) {
			snprintf(err, size, "%s needs a value", argv[i]);
			return -1;
		}
		int rc = bench_parse_common(argv[i], argv[i + 1], cfg, err, size);
		if (rc < 0)
			return -1;
		bool known = rc == 1;
		if (strcmp(argv[i], "--stores") == 0) {
			*stores = argv[i + 1];
			known = true;
		}
		for (int k = 0; k < 4 && !known; k++) {
			if (strcmp(argv[i], kinds[k]) != 0)
				continue;
			char *end;
			double p = strtod(argv[i + 1], &end);
			if (*end != '\0' || p < 0 || p > 1e6) {
				snprintf(err, size, "%s takes a proportion >= 0, not '%s'", argv[i],
					 argv[i + 1]);
				return -1;
			}
			cfg->mix.p[ops[k]] = p;
			known = true;
		}
		if (!known) {
			snprintf(err, size, "unknown option %s", argv[i]);
			return -1;
		}
	}
	double sum = 0;
	for (int k = 0; k < OP_KINDS_; k++)
		sum += cfg->mix.p[k];
	if (sum <= 0)
		cfg->mix.p[OP_READ] = sum = 1;
	for (int k = 0; k < OP_KINDS_; k++)
		cfg->mix.p[k] /= sum;
	return 0;
}

/* Index of the successful result with the lowest p50 for kind k, or -1. */
static int advise_best_at(const bench_result_t *r, size_t n, int k)
{
	int best = -1;
	for (size_t i = 0; i < n; i++)
		if (r[i].status == 0 && r[i].kind_ops[k] > 0 &&
		    (best < 0 || r[i].kind_lat_us[k][0] < r[best].kind_lat_us[k][0]))
			best = (int)i;
	return best;
}

/* "reads fastest (p50 0.8 us); updates 2.3x lmdb's p50 (4.1 us)" */
static void advise_why(const bench_result_t *r, size_t n, size_t i)
{
	printf("     why:");
	const char *sep = " ";
	for (int k = 0; k < OP_KINDS_; k++) {
		if (r[i].kind_ops[k] == 0)
			continue;
		int best = advise_best_at(r, n, k);
		double mine = r[i].kind_lat_us[k][0];
		if ((size_t)best == i)
			printf("%s%ss fastest (p50 %.2f us)", sep, op_kind_name((op_kind_t)k), mine);
		else
			printf("%s%ss %.1fx %s's p50 (%.2f us)", sep, op_kind_name((op_kind_t)k),
			       mine / r[best].kind_lat_us[k][0], r[best].store, mine);
		sep = "; ";
	}
	printf("; write amp %.1f, space amp %.1f\n", r[i].write_amp, r[i].space_amp);
}

static int advise_cmp(const void *a, const void *b)
{
	const bench_result_t *x = a, *y = b;
	if ((x->status != 0) != (y->status != 0))
		return x->status != 0 ? 1 : -1;
	return (x->ops_per_sec < y->ops_per_sec) - (x->ops_per_sec > y->ops_per_sec);
}

static void advise_print(const bench_cfg_t *cfg, bench_result_t *r, size_t n)
{
	qsort(r, n, sizeof *r, advise_cmp);
	printf("mix:");
	for (int k = 0; k < OP_KINDS_; k++)
		if (cfg->mix.p[k] > 0)
			printf(" %.0f%% %s", cfg->mix.p[k] * 100, op_kind_name((op_kind_t)k));
	printf(" over %llu keys (%u B keys, %zu B values, sync %s), median of %u runs\n\n",
	       (unsigned long long)cfg->n, cfg->key_size, cfg->value_size, sl_sync_name(cfg->sync),
	       cfg->repeat);
	for (size_t i = 0; i < n; i++) {
		char ops[16];
		if (r[i].status != 0) {
			printf("  -  %-11s %s\n", r[i].store, r[i].error);
			continue;
		}
		printf("%3zu. %-11s %9s ops/s  p99 %.2f us", i + 1, r[i].store,
		       report_si(ops, sizeof ops, r[i].ops_per_sec), r[i].lat_us[2]);
		if (i + 1 < n && r[i + 1].status == 0 && r[i + 1].ops_per_sec > 0)
			printf("  (%.2fx %s%s)", r[i].ops_per_sec / r[i + 1].ops_per_sec, r[i + 1].store,
			       report_runs_overlap(&r[i], &r[i + 1]) ? ": a tie, inside the runs' spread"
								     : "");
		putchar('\n');
		advise_why(r, n, i);
	}
}

int advise_main(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(advise_usage, stdout);
		return 0;
	}
	stores_register_all();
	bench_cfg_t cfg;
	bench_cfg_defaults(&cfg);
	cfg.n = 20000;
	cfg.progress = true;
	char err[512], *list = NULL;
	const char *names[32];
	size_t ns = 0;
	if (advise_parse(argc, argv, &cfg, &list, err, sizeof err) != 0 ||
	    bench_stores(list, names, 32, &ns, err, sizeof err) != 0) {
		fprintf(stderr, "storelab advise: %s\n%s", err, advise_usage);
		return 2;
	}
	workload_def_t mix = { "mix", PHASE_MIX, cfg.mix, DIST_ZIPFIAN, "the advised mix" };
	const workload_def_t *w[1] = { &mix };
	bench_result_t *r;
	if (bench_run(&cfg, names, ns, w, 1, &r, err, sizeof err) != 0) {
		fprintf(stderr, "storelab advise: %s\n", err);
		return 1;
	}
	advise_print(&cfg, r, ns);
	free(r);
	return 0;
}
