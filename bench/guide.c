/*
 * guide.c — `storelab guide`: "which store when", written from measured runs.
 *
 * It reads the JSON that `storelab bench` writes for the kv suite (and, when
 * given, the fts suite, the ts suite and a memory-capped kv run) and, for each
 * common access pattern, ranks the stores by the figure that pattern lives on,
 * names the winner and its lead over the next best, and explains the mechanism
 * behind it. A lead inside the runs' spread (the slowest and fastest repeat
 * overlap) is a tie, not a win; the fts and ts suites report medians only, and a
 * run of one repeat has no spread, so there a lead under GUIDE_CLOSE is called
 * close rather than a win.
 *
 * Out: the markdown guide (--out, docs/when-to-use.md in `make demo`), one bar
 * chart per pattern beside it (--charts DIR), and a line per pattern on stdout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/guide.h"
#include "bench/json.h"
#include "bench/report.h"
#include "engine/env.h"

#define GUIDE_CLOSE 1.10      /* leads below this, in suites without a spread, are "close" */
#define GUIDE_MAX_ROWS 4096
#define GUIDE_MAX_FILE (64u << 20) /* a suite's JSON is a few hundred KiB */

static const char guide_usage[] =
	"usage: storelab guide --kv FILE.json [--fts FILE.json] [--ts FILE.json]\n"
	"                      [--capped FILE.json] --out FILE.md [--charts DIR]\n"
	"Writes \"which store when\" from measured runs: for each access pattern (point reads,\n"
	"range scans, random writes, append-only ingest, text search, time-range aggregation,\n"
	"data larger than memory), the stores ranked by what that pattern needs, the winner's\n"
	"lead (a tie when the runs' spreads overlap) and why. The inputs are the --format json\n"
	"files of `storelab bench` (kv suite), `bench --suite fts`, `bench --suite ts`, and a kv\n"
	"run under --memory (--capped). --charts DIR gets a bar chart per pattern (SVG), which\n"
	"the guide links (default: the folder of --out). A line per pattern goes to stdout.\n";

/* One measured figure: a store's result for one workload of one suite. */
typedef struct guide_row {
	char suite[8];            /* kv, fts, ts, capped */
	char store[64], workload[32];
	double value, lo, hi;     /* the figure, and its slowest and fastest repeat (kv) */
	bool spread;              /* lo and hi are known */
	double p99_us, extra;     /* extra: write amplification, bytes per point */
} guide_row_t;

typedef struct guide {
	guide_row_t rows[GUIDE_MAX_ROWS];
	size_t n;
	char sources[4][4200];    /* the files read, by suite */
	double kv_n, capped_n, capped_mb, capped_reads;
} guide_t;

/* ---------------------------------------------------------------- the patterns */

/* One pattern: where it is measured and why the winners win. */
typedef struct guide_pattern {
	const char *title;
	const char *suite, *workload;
	const char *unit;
	const char *extra;        /* the column of row.extra, or NULL */
	const char *why;
} guide_pattern_t;

static const guide_pattern_t patterns[] = {
	{ "Point reads (get by key)", "kv", "readrandom", "gets/s", NULL,
	  "A hash index finds a key's bucket from its hash and reads that one page; a B+tree "
	  "binary-searches one page per level (its upper levels stay in memory, so a get costs "
	  "about one leaf read); an LSM tree looks in the memtable, then in each level's one "
	  "candidate table, a bloom filter turning away the tables without the key. LMDB maps its "
	  "B+tree and reads through the page cache with no copies; LevelDB and RocksDB are LSM "
	  "trees; SQLite is a B-tree behind an SQL layer that costs per call." },
	{ "Lookups of absent keys", "kv", "readmissing", "gets/s", NULL,
	  "A miss costs a B+tree the same descent as a hit and a hash index the same bucket read; "
	  "an LSM tree would have to ask every level, but each table's bloom filter answers "
	  "\"certainly not here\" for about 99 % of misses without a block read." },
	{ "Range scans (seek, then 100 entries)", "kv", "scan", "scans/s", NULL,
	  "A B+tree's leaves hold keys in order, linked left to right: a scan is one descent and "
	  "then sequential leaf reads. An LSM tree merges a cursor per sorted run (the memtable, "
	  "every L0 table, one table per level), so a scan pays a seek in each. A hash index "
	  "keeps no order and cannot scan at all." },
	{ "Random writes (insert in random order)", "kv", "fillrandom", "puts/s",
	  "write amp",
	  "An LSM tree appends each write to its log and memtable and writes sorted tables in "
	  "large sequential files later, rewriting data once per level it moves down (its write "
	  "amplification). A B+tree updates a page in place: each random insert dirties a leaf, "
	  "and once the tree outgrows its pool, every evicted dirty page is a page-sized write "
	  "for a 116-byte entry. A hash index writes one bucket page per put the same way." },
	{ "Overwrites of existing keys", "kv", "overwrite", "puts/s", "write amp",
	  "The same trade as random inserts; an LSM tree writes the new version and drops the old "
	  "one at a compaction, a B+tree or hash index rewrites the page holding it." },
	{ "Append-only ingest (keys in order)", "kv", "fillseq", "puts/s", "write amp",
	  "Keys in order are every structure's best case: a B+tree fills its rightmost leaf and "
	  "splits it full (append split), an LSM tree flushes tables that never overlap and "
	  "moves them down without rewriting them." },
	{ "Time-series ingest", "ts", "ingest", "points/s", "bytes/point",
	  "The time-series store keeps each series' recent points in Gorilla chunks in memory "
	  "(delta-of-delta timestamps, XORed values: a few bits a point) behind one log record "
	  "per batch, and cuts immutable segments by time. A key per point in an LSM tree or a "
	  "SQLite row per point pays a key, an index entry and a value per point." },
	{ "Time-range aggregation (per-minute averages of one series)", "ts", "query",
	  "queries/s", NULL,
	  "A query reads only the segments whose time range meets it, finds the series through "
	  "the label postings, and decodes only the chunks whose time range meets the query. A "
	  "key-value layout must scan every point's key in the range." },
	{ "Text search (BM25 top 10, all query kinds)", "fts", "query", "queries/s", NULL,
	  "An inverted index keeps, per term, the sorted list of documents holding it: a query "
	  "reads a few lists, and MaxScore with block-max bounds skips the documents that cannot "
	  "reach the top 10. A table scan (the `scan` row) reads every document for every "
	  "query." },
	{ "Read-heavy mix (YCSB B: 95 % reads)", "kv", "ycsb-b", "ops/s", NULL,
	  "Mostly point reads on a zipfian key popularity: the hot keys stay in every store's "
	  "cache, so the read path's cost per call decides." },
	{ "Update-heavy mix (YCSB A: 50 % updates)", "kv", "ycsb-a", "ops/s", NULL,
	  "Half the operations write: the write path's cost (a log append and memtable insert, "
	  "or a page rewrite) weighs as much as the read path's." },
	{ "Random writes when data outgrows memory", "capped", "fillrandom", "puts/s",
	  "write amp",
	  "Under a memory cap that counts the page cache, a B+tree whose pages no longer fit "
	  "reads a leaf and writes a dirty page back for most inserts; an LSM tree's writes stay "
	  "sequential, so its lead grows with the data. This is the classic crossover." },
	{ "Point reads when data outgrows memory", "capped", "readrandom", "gets/s", NULL,
	  "Once the data does not fit, a get costs device reads: a B+tree or hash index about "
	  "one (its upper levels or directory stay cached), an LSM tree one per level whose "
	  "filter lets the key through plus its index blocks." },
};

/* ---------------------------------------------------------------- reading */

/* The figure a suite's row is ranked by. */
static double guide_value(const char *suite, const json_t *r)
{
	if (strcmp(suite, "ts") == 0 && json_get(r, "points_per_sec") != NULL)
		return json_number(json_get(r, "points_per_sec"), 0);
	return json_number(json_get(r, "ops_per_sec"), 0);
}

static void guide_add_row(guide_t *g, const char *suite, const json_t *r)
{
	if (g->n == GUIDE_MAX_ROWS || json_get(r, "error") != NULL ||
	    strcmp(json_string(json_get(r, "status"), "ok"), "ok") != 0)
		return;
	guide_row_t *x = &g->rows[g->n];
	memset(x, 0, sizeof *x);
	snprintf(x->suite, sizeof x->suite, "%s", suite);
	snprintf(x->store, sizeof x->store, "%s", json_string(json_get(r, "store"), "?"));
	snprintf(x->workload, sizeof x->workload, "%s", json_string(json_get(r, "workload"), "?"));
	x->value = guide_value(suite, r);
	x->lo = json_number(json_get(r, "ops_per_sec_min"), -1);
	x->hi = json_number(json_get(r, "ops_per_sec_max"), -1);
	/* One repeat has no spread to speak of: its lead is judged like a medians-only suite's. */
	const json_t *repeats = json_get(r, "repeats");
	x->spread = x->lo >= 0 && x->hi >= 0 && (repeats == NULL || json_number(repeats, 1) > 1);
	x->p99_us = json_number(json_get(json_get(r, "lat_us"), "p99"), 0);
	x->extra = strcmp(suite, "ts") == 0 ? json_number(json_get(r, "bytes_per_point"), 0)
					    : json_number(json_get(r, "write_amp"), 0);
	if (x->value > 0)
		g->n++;
}

/* Reads one suite's JSON; 0, or -1 said on stderr. */
static int guide_read(guide_t *g, const char *suite, const char *path)
{
	buf_t text = BUF_INIT;
	char why[160];
	json_t doc;
	sl_err_t err;
	env_t *env = env_new();
	int rc = env ? env_read_all(env, path, GUIDE_MAX_FILE, &text, &err)
		     : sl_errf(&err, SL_NOMEM, "out of memory");
	env_free(env);
	if (rc != SL_OK) {
		fprintf(stderr, "storelab guide: %s\n", err.msg);
		buf_free(&text);
		return -1;
	}
	rc = json_parse((const char *)text.data, text.len, &doc, why, sizeof why);
	buf_free(&text);
	if (rc != 0) {
		fprintf(stderr, "storelab guide: %s is not JSON: %s\n", path, why);
		return -1;
	}
	const json_t *results = json_get(&doc, "results");
	if (results == NULL || results->kind != JSON_ARRAY) {
		fprintf(stderr, "storelab guide: %s holds no \"results\" array: not a bench --format "
			"json file\n", path);
		json_free(&doc);
		return -1;
	}
	for (size_t i = 0; i < results->n; i++)
		guide_add_row(g, suite, &results->items[i]);
	const json_t *cfg = json_get(&doc, "config");
	if (strcmp(suite, "kv") == 0)
		g->kv_n = json_number(json_get(cfg, "n"), 0);
	if (strcmp(suite, "capped") == 0) {
		g->capped_n = json_number(json_get(cfg, "n"), 0);
		g->capped_mb = json_number(json_get(cfg, "memory_bytes"), 0) / 1048576.0;
		g->capped_reads = json_number(json_get(cfg, "reads"), 0);
	}
	json_free(&doc);
	return 0;
}

/* ---------------------------------------------------------------- ranking */

/* The rows of one suite and workload, best first. */
static size_t guide_rank(const guide_t *g, const char *suite, const char *workload,
			 const guide_row_t **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < g->n && n < max; i++)
		if (strcmp(g->rows[i].suite, suite) == 0 && strcmp(g->rows[i].workload, workload) == 0)
			out[n++] = &g->rows[i];
	for (size_t i = 1; i < n; i++) /* insertion sort: a dozen stores */
		for (size_t j = i; j > 0 && out[j]->value > out[j - 1]->value; j--) {
			const guide_row_t *t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

/* "X wins: 1.8x the next best, Y" or a tie or a close call, into out; the
 * stores' names in bold (markdown) when b is "**". */
static void guide_verdict(char *out, size_t size, const guide_row_t *const *r, size_t n,
			  const char *b)
{
	if (n == 0) {
		snprintf(out, size, "not measured in these runs");
		return;
	}
	if (n == 1) {
		snprintf(out, size, "%s%s%s, the only store measured", b, r[0]->store, b);
		return;
	}
	double ratio = r[0]->value / r[1]->value;
	bool overlap = r[0]->spread && r[1]->spread && r[0]->lo <= r[1]->hi && r[1]->lo <= r[0]->hi;
	if (overlap)
		snprintf(out, size, "%s%s%s and %s%s%s tie (%.2fx, inside the runs' spread)", b,
			 r[0]->store, b, b, r[1]->store, b, ratio);
	else if (!r[0]->spread && ratio < GUIDE_CLOSE)
		snprintf(out, size, "%s%s%s and %s%s%s are close (%.2fx; no spread of repeats to "
			 "judge it by)", b, r[0]->store, b, b, r[1]->store, b, ratio);
	else
		snprintf(out, size, "%s%s%s wins: %.2fx the next best, %s", b, r[0]->store, b, ratio,
			 r[1]->store);
}

/* ---------------------------------------------------------------- charts */

/* A horizontal bar per store, best first, its figure written after it. */
static void guide_chart(const char *path, const char *title, const char *unit,
			const guide_row_t *const *r, size_t n)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return;
	int h = 40 + 22 * (int)n;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"%d\" "
		"font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"640\" height=\"%d\" "
		"fill=\"white\"/>\n<text x=\"8\" y=\"20\" font-size=\"14\" font-weight=\"bold\">", h, h);
	report_xml_text(f, title);
	fputs("</text>\n", f);
	for (size_t i = 0; i < n; i++) {
		double w = 360.0 * r[i]->value / r[0]->value;
		int y = 34 + 22 * (int)i;
		char fig[32];
		fprintf(f, "<text x=\"150\" y=\"%d\" text-anchor=\"end\">", y + 13);
		report_xml_text(f, r[i]->store);
		fprintf(f, "</text>\n<rect x=\"156\" y=\"%d\" width=\"%.1f\" height=\"16\" fill=\"%s\"/>\n",
			y, w > 1 ? w : 1, i == 0 ? "#4e79a7" : "#a0b8d0");
		if (r[i]->spread) /* the runs' spread as a whisker */
			fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n",
				156 + 360.0 * r[i]->lo / r[0]->value, 156 + 360.0 * r[i]->hi / r[0]->value,
				y + 8, y + 8);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\">%s %s</text>\n", 162 + (w > 1 ? w : 1), y + 13,
			report_si(fig, sizeof fig, r[i]->value), unit);
	}
	fputs("</svg>\n", f);
	fclose(f);
}

/* ---------------------------------------------------------------- the guide */

static void guide_table(FILE *out, const guide_pattern_t *p, const guide_row_t *const *r, size_t n)
{
	fprintf(out, "| store | %s | vs the winner | p99 |", p->unit);
	if (p->extra)
		fprintf(out, " %s |", p->extra);
	fprintf(out, "\n|---|--:|--:|--:|%s\n", p->extra ? "--:|" : "");
	for (size_t i = 0; i < n; i++) {
		char v[32];
		fprintf(out, "| %s | %s", r[i]->store, report_si(v, sizeof v, r[i]->value));
		if (r[i]->spread)
			fprintf(out, " (%.0f%% spread)", 100.0 * (r[i]->hi - r[i]->lo) / r[i]->value);
		fprintf(out, " | %.2fx | ", r[i]->value / r[0]->value);
		if (r[i]->p99_us > 0)
			fprintf(out, "%.1f us", r[i]->p99_us);
		fputs(" |", out);
		if (p->extra)
			fprintf(out, " %.2f |", r[i]->extra);
		fputc('\n', out);
	}
}

static void guide_pattern(FILE *out, const guide_t *g, const guide_pattern_t *p, size_t index,
			  const char *charts, const char *charts_rel)
{
	const guide_row_t *r[64];
	size_t n = guide_rank(g, p->suite, p->workload, r, 64);
	char verdict[256];
	guide_verdict(verdict, sizeof verdict, r, n, "");
	printf("  %-58s %s\n", p->title, verdict);
	guide_verdict(verdict, sizeof verdict, r, n, "**");
	fprintf(out, "## %s\n\n", p->title);
	if (n == 0) {
		fprintf(out, "Not measured in these runs.%s\n\n%s\n\n",
			strcmp(p->suite, "capped") == 0
				? " make demo leaves it out: at a size where data outgrows memory it "
				  "takes far longer than the demo's five minutes. To measure it (as root, "
				  "for the memory cgroup): `make capped`, which writes "
				  "docs/results/capped.json for the next make demo, or `storelab guide ... "
				  "--capped FILE` with a `storelab bench --memory 256M --format json` run "
				  "of your own."
				: "", p->why);
		return;
	}
	fprintf(out, "%s.\n\n", verdict);
	guide_table(out, p, r, n);
	char path[4400], title[160];
	snprintf(path, sizeof path, "%s/when-%02zu.svg", charts, index + 1);
	snprintf(title, sizeof title, "%s (%s)", p->title, p->unit);
	guide_chart(path, title, p->unit, r, n);
	fprintf(out, "\n![%s](%s/when-%02zu.svg)\n\n**Why.** %s\n\n", p->title, charts_rel, index + 1,
		p->why);
}

static void guide_write(FILE *out, const guide_t *g, const char *charts, const char *charts_rel)
{
	fputs("# Which store when\n\n"
	      "<!-- Written by `storelab guide` (make demo) from the runs named below: rerun make "
	      "demo to regenerate it with your machine's figures. -->\n\n"
	      "Each section takes one access pattern, ranks the stores by the figure that pattern "
	      "lives on, measured on this machine in the runs below, and says why the winner wins. "
	      "A lead inside the runs' spread (the slowest and fastest of the repeats overlap) is a "
	      "tie, not a win. Throughputs are medians of the repeats; the ratios are between "
	      "stores of the same run.\n\nRuns:\n\n", out);
	static const char *const names[] = { "kv", "fts", "ts", "capped" };
	for (int i = 0; i < 4; i++)
		if (g->sources[i][0])
			fprintf(out, "- %s suite: `%s`%s\n", names[i], g->sources[i],
				i == 3 && g->capped_mb > 0 ? " (each store in a memory cgroup)" : "");
	if (g->kv_n > 0)
		fprintf(out, "\nThe key-value runs hold %.0f keys of 16 bytes with 100-byte values, "
			"sync none, every store at its defaults (docs/bench.md). At that size every "
			"store's data fits in memory, so those sections compare the structures' code "
			"paths; the last two sections are about data that does not fit.\n", g->kv_n);
	if (g->capped_mb > 0) {
		fprintf(out, "The capped run holds %.0f keys and gives each store %.0f MiB, its page "
			"cache included", g->capped_n, g->capped_mb);
		if (g->capped_reads > 0 && g->capped_reads < g->capped_n)
			fprintf(out, "; its read phases sample %.0f gets (`--reads`)", g->capped_reads);
		fputs(".\n", out);
	}
	fputc('\n', out);
	for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++)
		guide_pattern(out, g, &patterns[i], i, charts, charts_rel);
}

/* ---------------------------------------------------------------- the command */

int guide_main(int argc, char **argv)
{
	static guide_t g;
	memset(&g, 0, sizeof g);
	const char *out_path = NULL, *charts = NULL;
	static const char *const flags[] = { "--kv", "--fts", "--ts", "--capped" };
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(guide_usage, stdout);
		return 0;
	}
	for (int i = 1; i < argc; i += 2) {
		const char *flag = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		int k = 0;
		while (k < 4 && strcmp(flag, flags[k]) != 0)
			k++;
		if (val == NULL || (k == 4 && strcmp(flag, "--out") != 0 && strcmp(flag, "--charts") != 0)) {
			fprintf(stderr, "storelab guide: %s %s\n%s", flag,
				val ? "is not an option" : "needs a value", guide_usage);
			return 2;
		}
		if (k < 4)
			snprintf(g.sources[k], sizeof g.sources[k], "%s", val);
		else if (strcmp(flag, "--out") == 0)
			out_path = val;
		else
			charts = val;
	}
	if (g.sources[0][0] == 0 || out_path == NULL) {
		fprintf(stderr, "storelab guide: --kv FILE and --out FILE are required\n%s", guide_usage);
		return 2;
	}
	for (int k = 0; k < 4; k++)
		if (g.sources[k][0] && guide_read(&g, flags[k] + 2, g.sources[k]) != 0)
			return 1;
	char dir[4200];
	env_dir_of(out_path, dir, sizeof dir);
	if (charts == NULL)
		charts = dir;
	/* The guide links the charts relative to itself. */
	const char *rel = strncmp(charts, dir, strlen(dir)) == 0 && charts[strlen(dir)] == '/'
				  ? charts + strlen(dir) + 1 : charts;
	if (strcmp(charts, dir) == 0)
		rel = ".";
	FILE *out = fopen(out_path, "w");
	if (out == NULL) {
		fprintf(stderr, "storelab guide: cannot write %s: %s\n", out_path, strerror(errno));
		return 1;
	}
	printf("Which store when (written to %s):\n", out_path);
	guide_write(out, &g, charts, rel);
	if (fclose(out) != 0) {
		fprintf(stderr, "storelab guide: cannot write %s: %s\n", out_path, strerror(errno));
		return 1;
	}
	return 0;
}
