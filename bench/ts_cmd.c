/*
 * ts_cmd.c — `storelab ts ingest | query | stats | check | gen`.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/cmdline.h"
#include "bench/report.h"
#include "bench/ts_cmd.h"
#include "bench/ts_input.h"
#include "kv/ts.h"
#include "kv/ts_query.h"

static const char ts_usage[] =
	"usage: storelab ts ingest DIR FILE [options]     add points from a CSV or line-protocol file\n"
	"       storelab ts query DIR SELECTOR [options]   aggregate the selected series per step\n"
	"       storelab ts stats DIR                      series, points, bytes per point, files\n"
	"       storelab ts check DIR                      verify every file and the head\n"
	"       storelab ts gen synthetic|proc OUT.csv     data to try it on\n"
	"storelab ts ingest --help and ts query --help list the options.\n";

static const char ingest_usage[] =
	"usage: storelab ts ingest DIR FILE [--format csv|lp] [--ts-unit s|ms|us|ns]\n"
	"                          [--on-error stop|skip] [--sync none|batch|always] [--batch N]\n"
	"                          [--unit s|ms|us|ns] [--block D] [--window D] [--strict]\n"
	"                          [--retention D] [--downsample-after D [--downsample D]] [--trace]\n"
	"Adds the points of FILE (\"-\" = stdin) to the store in DIR (made when missing).\n"
	"FILE is CSV (timestamp,series,value after that header line) or InfluxDB line\n"
	"protocol; --format says which, else the first line tells.\n"
	"  --ts-unit U      the file's integer timestamps are in U (default: from their\n"
	"                   digits, 10 s, 13 ms, 16 us, 19 ns; line protocol: ns)\n"
	"  --on-error stop  a malformed line stops the run, with its line number; the\n"
	"                   lines before it are kept (default)\n"
	"  --on-error skip  malformed lines are reported and passed over\n"
	"  --sync MODE      none (default: a process crash loses nothing acknowledged),\n"
	"                   batch (an fsync every 10 ms) or always (every batch on disk)\n"
	"  --batch N        points per write (one log record; default 4096)\n"
	"  a new store:  --unit U (timestamp precision, default ms), --block D (time per\n"
	"                segment, default 2h)\n"
	"  every open:   --window D (out-of-order window, default 10m), --strict (none),\n"
	"                --retention D (drop segments older than D; default keep all),\n"
	"                --downsample-after D (segments older than D become summaries per\n"
	"                --downsample interval, default 5m: count sum min max first last rise)\n"
	"  --trace        narrate on stderr: log replay, segments cut and merged, retention\n"
	"Durations: 90s, 15m, 2h, 1d, 250ms. Points older than the window are refused,\n"
	"counted and reported; a duplicate timestamp replaces the earlier value.\n";

static const char query_usage[] =
	"usage: storelab ts query DIR SELECTOR [--from T] [--to T] [--step D] [--agg F]\n"
	"                         [--across F [--by L1,L2]] [--format table|csv|json] [--trace]\n"
	"SELECTOR as in Prometheus: 'cpu{host=\"a\",mode!=\"idle\",dc=~\"eu-.*\"}'.\n"
	"  --from T, --to T  the range [T, T) (integers in the store's unit or RFC 3339;\n"
	"                    default: everything)\n"
	"  --step D          window length (default: one window for the whole range)\n"
	"  --agg F           per series and window: min max sum count avg (default) last rate\n"
	"  --across F        then over series: sum min max avg count, one row per group of\n"
	"                    --by labels (default: one group)\n"
	"  --format F        table (default), csv (series,timestamp,value) or json\n"
	"  --trace           narrate: postings lists, segments, chunks, points\n";

static double ts_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* The store options every command shares; 0, or 2 for a bad one (usage printed). */
static int ts_store_flag(const char *flag, const char *val, ts_opts_t *o, bool *used)
{
	char why[TS_WHY_BYTES];
	ts_unit_t u;
	*used = true;
	if (strcmp(flag, "--unit") == 0 && ts_unit_parse(val, &u) && u != TS_UNIT_AUTO)
		o->unit = val;
	else if (strcmp(flag, "--sync") == 0 && sl_sync_parse(val, &o->sync) == SL_OK)
		;
	else if (strcmp(flag, "--block") == 0 && ts_duration_parse(val, TS_UNIT_MS, &o->block_ms, why))
		;
	else if (strcmp(flag, "--window") == 0 && ts_duration_parse(val, TS_UNIT_MS, &o->window_ms, why))
		;
	else if (strcmp(flag, "--retention") == 0 &&
		 ts_duration_parse(val, TS_UNIT_MS, &o->retention_ms, why))
		;
	else if (strcmp(flag, "--downsample-after") == 0 &&
		 ts_duration_parse(val, TS_UNIT_MS, &o->downsample_after_ms, why))
		;
	else if (strcmp(flag, "--downsample") == 0 && ts_duration_parse(val, TS_UNIT_MS, &o->downsample_ms, why))
		;
	else
		*used = false;
	return 0;
}

/* ---------------------------------------------------------------- ingest */

typedef struct ingest {
	ts_t *db;
	ts_batch_t b;            /* the points read since the last write */
	uint64_t points, refused, shown;
	const char *path;
} ingest_t;

/* Writes the batch; refused points are reported (the first ten) and counted. */
static int ingest_flush(ingest_t *g, sl_err_t *err)
{
	size_t n = g->b.n, nref = 0;
	if (n == 0)
		return SL_OK;
	const ts_sample_t *p = ts_batch_samples(&g->b);
	uint8_t *refused = calloc(n, 1);
	int rc = refused ? ts_add(g->db, p, n, refused, &nref, err)
			 : sl_errf(err, SL_NOMEM, "out of memory");
	for (size_t i = 0; rc == SL_OK && nref > 0 && i < n; i++) {
		if (!refused[i] || g->shown++ >= 10)
			continue;
		fprintf(stderr, "storelab ts ingest: %s:%llu: %.*s at %" PRId64 " refused: older than the "
			"out-of-order window or the last segment cut%s\n", g->path,
			(unsigned long long)g->b.lines[i], (int)p[i].series.len,
			(const char *)p[i].series.data, p[i].ts,
			g->shown == 10 ? " (no more of these are shown; the summary counts them)" : "");
	}
	free(refused);
	if (rc == SL_OK) {
		g->points += n - nref;
		g->refused += nref;
	}
	ts_batch_clear(&g->b);
	return rc;
}

static void ingest_progress(const ts_input_t *in, uint64_t points, double start, bool final)
{
	double pct = in->size ? 100.0 * (double)in->bytes / (double)in->size : 0, el = ts_now() - start;
	fprintf(stderr, "\r[%-20.*s] %5.1f%%  %llu points  %.0f points/s%s", (int)(pct / 5),
		"####################", pct, (unsigned long long)points, el > 0 ? points / el : 0,
		final ? "\n" : "");
}

static void ingest_summary(ts_t *db, const ts_input_t *in, const ingest_t *g, uint64_t skipped,
			   double secs)
{
	static const char *units[] = { "s", "ms", "us", "ns" };
	printf("ingested %llu points from %s (%llu lines, %llu skipped as malformed, %llu points "
	       "refused as too old) in %.2f s: %.0f points/s\n",
	       (unsigned long long)g->points, in->path, (unsigned long long)in->line,
	       (unsigned long long)skipped, (unsigned long long)g->refused, secs,
	       g->points / (secs > 0 ? secs : 1));
	printf("timestamps read as:");
	for (int u = 0; u < 4; u++)
		if (in->seen[u])
			printf(" %s (%llu)", units[u], (unsigned long long)in->seen[u]);
	printf("%s; the store keeps %s\n", in->lp ? " (line protocol)" : "", ts_unit_name(ts_unit(db)));
	ts_stats_t st;
	ts_get_stats(db, &st);
	uint64_t points = st.head_points + st.segment_points;
	printf("store: %llu series, %llu points (%llu in %llu segments, %llu in the head), "
	       "%llu out of order accepted, %llu cuts, %llu merges, %llu segments downsampled\n",
	       (unsigned long long)st.series, (unsigned long long)points,
	       (unsigned long long)st.segment_points, (unsigned long long)st.segments,
	       (unsigned long long)st.head_points, (unsigned long long)st.out_of_order,
	       (unsigned long long)st.cuts, (unsigned long long)st.compactions,
	       (unsigned long long)st.downsampled);
}

typedef struct ingest_args {
	const char *dir, *file, *format;
	ts_unit_t given;
	bool skip;
	size_t batch;
	ts_opts_t opts;
	trace_t trace;       /* --trace: opts.trace points here */
} ingest_args_t;

static int ingest_parse(int argc, char **argv, ingest_args_t *a)
{
	memset(a, 0, sizeof *a);
	a->given = TS_UNIT_AUTO;
	a->batch = 4096;
	a->opts.create = true;
	if (argc < 3 || argv[1][0] == '-' || (argv[2][0] == '-' && argv[2][1] != '\0')) {
		fputs(ingest_usage, stderr);
		return 2;
	}
	a->dir = argv[1];
	a->file = argv[2];
	for (int i = 3; i < argc; i++) {
		const char *flag = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool used;
		if (strcmp(flag, "--strict") == 0) {
			a->opts.strict_order = true;
			continue;
		}
		if (strcmp(flag, "--trace") == 0) {
			a->trace = (trace_t){ cmdline_trace_line, stderr };
			a->opts.trace = &a->trace;
			continue;
		}
		if (val == NULL) {
			fprintf(stderr, "storelab ts ingest: %s needs a value\n%s", flag, ingest_usage);
			return 2;
		}
		i++;
		char *end;
		unsigned long long v = strtoull(val, &end, 10);
		ts_store_flag(flag, val, &a->opts, &used);
		if (used)
			continue;
		if (strcmp(flag, "--format") == 0 && (strcmp(val, "csv") == 0 || strcmp(val, "lp") == 0))
			a->format = val;
		else if (strcmp(flag, "--ts-unit") == 0 && ts_unit_parse(val, &a->given))
			;
		else if (strcmp(flag, "--on-error") == 0 && (strcmp(val, "skip") == 0 || strcmp(val, "stop") == 0))
			a->skip = val[1] == 'k';
		else if (strcmp(flag, "--batch") == 0 && *end == '\0' && end != val && v >= 1 && v <= 1000000)
			a->batch = (size_t)v;
		else {
			fprintf(stderr, "storelab ts ingest: bad option %s %s\n%s", flag, val, ingest_usage);
			return 2;
		}
	}
	return 0;
}

/* Reads every line into batches; 0, or 1 after a stop (message printed). */
static int ingest_run(ingest_t *g, ts_input_t *in, const ingest_args_t *a, uint64_t *skipped)
{
	bool tty = isatty(STDERR_FILENO);
	double start = ts_now(), last = start;
	sl_err_t err;
	int got;
	while ((got = ts_input_next(in)) != 0) {
		if (got == -2 || (got == -1 && !a->skip)) {
			fprintf(stderr, "%sstorelab ts ingest: %s; stopped (the lines before it are kept)\n",
				tty ? "\n" : "", in->error);
			if (ingest_flush(g, &err) != SL_OK)
				fprintf(stderr, "storelab ts ingest: %s\n", err.msg);
			return 1;
		}
		if (got == -1) {
			fprintf(stderr, "%sstorelab ts ingest: %s; skipped\n", tty ? "\n" : "", in->error);
			(*skipped)++;
			continue;
		}
		if (!ts_batch_add(&g->b, in)) {
			fprintf(stderr, "storelab ts ingest: out of memory\n");
			return 1;
		}
		if (ts_batch_full(&g->b) && ingest_flush(g, &err) != SL_OK) {
			fprintf(stderr, "storelab ts ingest: %s:%llu: %s\n", in->path,
				(unsigned long long)in->line, err.msg);
			return 1;
		}
		if (tty && (in->line & 4095) == 0 && ts_now() - last > 0.2) {
			last = ts_now();
			ingest_progress(in, g->points, start, false);
		}
	}
	if (ingest_flush(g, &err) != SL_OK) {
		fprintf(stderr, "storelab ts ingest: %s\n", err.msg);
		return 1;
	}
	if (tty)
		ingest_progress(in, g->points, start, true);
	return 0;
}

static int ts_ingest(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(ingest_usage, stdout);
		return 0;
	}
	ingest_args_t a;
	int bad = ingest_parse(argc, argv, &a);
	if (bad != 0)
		return bad;
	env_t *env = env_new();
	ingest_t g = { .path = a.file };
	sl_err_t err;
	int rc = env ? ts_open(env, a.dir, &a.opts, &g.db, &err) : sl_errf(&err, SL_NOMEM, "out of memory");
	if (rc != SL_OK) {
		fprintf(stderr, "storelab ts ingest: %s\n", err.msg);
		env_free(env);
		return 1;
	}
	ts_input_t in = { 0 };
	int status = 1;
	uint64_t skipped = 0;
	double start = ts_now();
	if (!ts_batch_init(&g.b, a.batch))
		fprintf(stderr, "storelab ts ingest: out of memory\n");
	else if (!ts_input_open(&in, a.file, a.format, a.given, ts_unit(g.db)))
		fprintf(stderr, "storelab ts ingest: %s\n", in.error);
	else
		status = ingest_run(&g, &in, &a, &skipped);
	double secs = ts_now() - start;
	if (in.f != NULL) {
		ingest_summary(g.db, &in, &g, skipped, secs);
		ts_input_close(&in);
	}
	if (ts_close(g.db, &err) != SL_OK) {
		fprintf(stderr, "storelab ts ingest: close: %s\n", err.msg);
		status = 1;
	}
	ts_batch_free(&g.b);
	env_free(env);
	return status;
}

/* ---------------------------------------------------------------- query */


static void query_json_num(FILE *out, double v)
{
	if (isfinite(v))
		fprintf(out, "%.17g", v);
	else
		fputs("null", out); /* JSON has no NaN or infinity */
}

static void query_print(const ts_result_t *r, ts_unit_t unit, const char *format, const ts_query_t *q)
{
	bool json = strcmp(format, "json") == 0, csv = strcmp(format, "csv") == 0;
	if (json) {
		printf("{\"unit\": \"%s\", \"from\": %" PRId64 ", \"to\": %" PRId64 ", \"step\": %" PRId64
		       ", \"agg\": \"%s\", \"across\": \"%s\", \"series\": [", ts_unit_name(unit), q->from,
		       q->to, r->step, ts_agg_name(q->agg), ts_agg_name(q->across));
	} else if (csv) {
		printf("series,timestamp,value\n");
	}
	for (size_t i = 0; i < r->rows; i++) {
		if (json) {
			printf("%s\n  {\"series\": ", i ? "," : "");
			report_json_string(stdout, r->names[i]);
			printf(", \"points\": [");
		}
		bool first = true;
		for (size_t k = 0; k < r->steps; k++) {
			if (!r->has[i * r->steps + k])
				continue;
			int64_t t = r->from + (int64_t)k * r->step;
			double v = r->v[i * r->steps + k];
			if (json) {
				printf("%s[%" PRId64 ", ", first ? "" : ", ", t);
				query_json_num(stdout, v);
				printf("]");
			} else if (csv) {
				printf("\"");
				for (const char *p = r->names[i]; *p; p++)
					printf(*p == '"' ? "\"\"" : "%c", *p);
				printf("\",%" PRId64 ",%.17g\n", t, v);
			} else {
				char when[64];
				ts_format_time(t, unit, when, sizeof when);
				printf("%-40s  %-30s  %.10g\n", first ? r->names[i] : "", when, v);
			}
			first = false;
		}
		if (json)
			printf("]}");
	}
	if (json)
		printf("\n ],\n \"stats\": {\"segments\": %" PRIu64 ", \"lists\": %" PRIu64
		       ", \"series\": %" PRIu64 ", \"chunks\": %" PRIu64 ", \"points\": %" PRIu64 "}}\n",
		       r->st.segments, r->st.lists, r->st.series, r->st.chunks, r->st.points);
}

typedef struct query_args {
	const char *dir, *format, *from, *to, *step;
	bool trace;
	ts_query_t q;
} query_args_t;

static int query_parse(int argc, char **argv, query_args_t *a)
{
	memset(a, 0, sizeof *a);
	a->format = "table";
	a->q.agg = TS_AGG_AVG;
	a->q.across = TS_AGG_NONE;
	if (argc < 3 || argv[1][0] == '-') {
		fputs(query_usage, stderr);
		return 2;
	}
	a->dir = argv[1];
	a->q.selector = argv[2];
	for (int i = 3; i < argc; i++) {
		const char *flag = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(flag, "--trace") == 0) {
			a->trace = true;
			continue;
		}
		if (val == NULL) {
			fprintf(stderr, "storelab ts query: %s needs a value\n%s", flag, query_usage);
			return 2;
		}
		i++;
		if (strcmp(flag, "--from") == 0)
			a->from = val;
		else if (strcmp(flag, "--to") == 0)
			a->to = val;
		else if (strcmp(flag, "--step") == 0)
			a->step = val;
		else if (strcmp(flag, "--agg") == 0 && ts_agg_parse(val, &a->q.agg) && a->q.agg != TS_AGG_NONE)
			;
		else if (strcmp(flag, "--across") == 0 && ts_agg_parse(val, &a->q.across))
			;
		else if (strcmp(flag, "--by") == 0)
			a->q.by = val;
		else if (strcmp(flag, "--format") == 0 &&
			 (strcmp(val, "table") == 0 || strcmp(val, "csv") == 0 || strcmp(val, "json") == 0))
			a->format = val;
		else {
			fprintf(stderr, "storelab ts query: bad option %s %s\n%s", flag, val, query_usage);
			return 2;
		}
	}
	return 0;
}

/* --from, --to and --step in the store's unit (the store's whole range by default). */
static int query_times(ts_t *db, query_args_t *a)
{
	ts_stats_t st;
	ts_get_stats(db, &st);
	a->q.from = st.mint;
	a->q.to = st.maxt > st.mint ? st.maxt : st.mint + 1;
	char why[TS_WHY_BYTES];
	ts_unit_t seen;
	if (a->from && !ts_time_parse(sl_slice_str(a->from), TS_UNIT_AUTO, ts_unit(db), &a->q.from, &seen, why)) {
		fprintf(stderr, "storelab ts query: --from %s: %s\n", a->from, why);
		return 2;
	}
	if (a->to && !ts_time_parse(sl_slice_str(a->to), TS_UNIT_AUTO, ts_unit(db), &a->q.to, &seen, why)) {
		fprintf(stderr, "storelab ts query: --to %s: %s\n", a->to, why);
		return 2;
	}
	if (a->step && (!ts_duration_parse(a->step, ts_unit(db), &a->q.step, why) || a->q.step == 0)) {
		fprintf(stderr, "storelab ts query: --step %s: %s\n", a->step, a->q.step == 0 ? "zero" : why);
		return 2;
	}
	return 0;
}

static int ts_query_cmd(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(query_usage, stdout);
		return 0;
	}
	query_args_t a;
	int bad = query_parse(argc, argv, &a);
	if (bad != 0)
		return bad;
	trace_t tr = { cmdline_trace_line, stderr };
	ts_opts_t o = { .read_only = true, .trace = a.trace ? &tr : NULL };
	env_t *env = env_new();
	ts_t *db;
	sl_err_t err;
	if (env == NULL || ts_open(env, a.dir, &o, &db, &err) != SL_OK) {
		fprintf(stderr, "storelab ts query: %s\n", env ? err.msg : "out of memory");
		env_free(env);
		return 1;
	}
	int status = query_times(db, &a);
	ts_result_t res;
	if (status == 0 && ts_query_run(db, &a.q, &res, &err) != SL_OK) {
		fprintf(stderr, "storelab ts query: %s\n", err.msg);
		status = err.code == SL_INVALID ? 2 : 1;
	} else if (status == 0) {
		query_print(&res, ts_unit(db), a.format, &a.q);
	}
	if (status != 2)
		ts_result_free(&res);
	ts_close(db, NULL);
	env_free(env);
	return status;
}

/* ---------------------------------------------------------------- stats, check */

static int ts_open_ro(const char *cmd, int argc, char **argv, env_t **env, ts_t **db)
{
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: storelab ts %s DIR\n", cmd);
		return 2;
	}
	ts_opts_t o = { .read_only = true };
	sl_err_t err;
	*env = env_new();
	if (*env == NULL || ts_open(*env, argv[1], &o, db, &err) != SL_OK) {
		fprintf(stderr, "storelab ts %s: %s\n", cmd, *env ? err.msg : "out of memory");
		env_free(*env);
		return 1;
	}
	return 0;
}

static int ts_stats_cmd(int argc, char **argv)
{
	env_t *env;
	ts_t *db;
	int rc = ts_open_ro("stats", argc, argv, &env, &db);
	if (rc != 0)
		return rc;
	ts_stats_t st;
	ts_get_stats(db, &st);
	uint64_t points = st.head_points + st.segment_points, bytes = 0;
	sl_err_t err;
	env_dir_bytes(argv[1], &bytes, &err);
	char a[64], b[64];
	ts_format_time(st.mint, ts_unit(db), a, sizeof a);
	ts_format_time(st.maxt, ts_unit(db), b, sizeof b);
	printf("series          %" PRIu64 "\npoints          %" PRIu64 "\nrange           %s .. %s\n"
	       "unit            %s\nsegments        %" PRIu64 " (%" PRIu64 " points, %.3f bytes/point)\n"
	       "head            %" PRIu64 " series, %" PRIu64 " points (%.3f bytes/point in memory, "
	       "%" PRIu64 " out of order)\nlogs            %" PRIu64 " files\n"
	       "on disk         %" PRIu64 " bytes, %.3f bytes/point\n",
	       st.series, points, a, b, ts_unit_name(ts_unit(db)), st.segments, st.segment_points,
	       st.segment_points ? (double)st.segment_bytes / st.segment_points : 0, st.head_series,
	       st.head_points, st.head_points ? (double)st.head_bytes / st.head_points : 0,
	       st.ooo_points, st.wal_files, bytes, points ? (double)bytes / points : 0);
	ts_close(db, NULL);
	env_free(env);
	return 0;
}

static int ts_check_cmd(int argc, char **argv)
{
	env_t *env;
	ts_t *db;
	int rc = ts_open_ro("check", argc, argv, &env, &db);
	if (rc != 0)
		return rc;
	sl_err_t err;
	rc = ts_check(db, &err);
	if (rc == SL_OK)
		printf("OK\n");
	else
		fprintf(stderr, "storelab ts check: %s\n", err.msg);
	ts_close(db, NULL);
	env_free(env);
	return rc == SL_OK ? 0 : 1;
}

int ts_main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int, char **);
	} subs[] = { { "ingest", ts_ingest }, { "query", ts_query_cmd }, { "stats", ts_stats_cmd },
		     { "check", ts_check_cmd }, { "gen", ts_gen_main } };
	for (size_t i = 0; argc >= 2 && i < sizeof subs / sizeof *subs; i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].run(argc - 1, argv + 1);
	bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
	if (!help && argc >= 2)
		fprintf(stderr, "storelab ts: no subcommand '%s'\n", argv[1]);
	fputs(ts_usage, help ? stdout : stderr);
	return help ? 0 : 2;
}
