/*
 * fts_cmd.c — `storelab index` and `storelab search`: building an inverted
 * index from a corpus file and querying it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/cmdline.h"
#include "bench/fts_cmd.h"
#include "bench/report.h"
#include "bench/tsv.h"
#include "index/inverted.h"

static const char index_usage[] =
	"usage: storelab index DIR --corpus FILE.tsv [--on-error stop|skip] [--buffer BYTES]\n"
	"                      [--no-positions] [--optimize] [--analyzer SPEC] [--trace]\n"
	"Adds every id<TAB>text line of FILE (\"-\" = stdin) to the inverted index in DIR\n"
	"(made when missing); a document whose id is there already replaces it. The file is\n"
	"one commit: either all of it is searchable afterwards, or (on an error) none of it.\n"
	"  --on-error stop   a malformed line (no tab, empty or over-long id, not UTF-8) stops\n"
	"                    the run with its line number and nothing is committed (default)\n"
	"  --on-error skip   malformed lines are reported and passed over\n"
	"  --buffer BYTES    in-memory buffer that triggers a segment (default 64M)\n"
	"  --no-positions    keep no positions (smaller; phrase queries then fail)\n"
	"  --optimize        merge everything into one segment at the end\n"
	"  --analyzer SPEC   a new index's analyzer: unicode61 (default, as FTS5),\n"
	"                    'unicode61 stop' (English stop words), 'unicode61 stem=english'\n"
	"                    (Snowball, with libstemmer-dev), 'unicode61 stop stem=english';\n"
	"                    kept in the index, used for every query\n"
	"  --trace           narrate on stderr: each add, flush, commit and merge\n";

static const char search_usage[] =
	"usage: storelab search DIR QUERY [--topk K] [--format table|tsv|json] [--idf fts5|lucene]\n"
	"                       [--explain] [--exhaustive] [--trace]\n"
	"BM25 top-k over the index in DIR. QUERY: words (ANDed), \"phrases\", OR, NOT,\n"
	"parentheses, e.g. 'database (index OR tree) NOT \"key value\"'.\n"
	"  --topk K      hits to return (default 10)\n"
	"  --format F    table (default), tsv (rank<TAB>id<TAB>score), or json\n"
	"  --idf I       fts5 (default: as SQLite FTS5) or lucene\n"
	"  --explain     show how each score was made: N, the mean length, each term's\n"
	"                document frequency and idf, each hit's tfs and length\n"
	"  --exhaustive  score every match (no pruning): the same hits, to compare the work\n"
	"  --trace       narrate on stderr: each term's lookup per segment, the blocks and\n"
	"                documents MaxScore passes over, each document scored\n";

static double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void index_progress(const tsv_t *t, uint64_t docs, double start, bool final)
{
	double pct = t->size ? 100.0 * (double)t->bytes / (double)t->size : 0;
	int bars = (int)(pct / 5);
	double el = now_sec() - start;
	fprintf(stderr, "\r[%-20.*s] %5.1f%%  %llu documents  %.0f docs/s%s", bars,
		"####################", pct, (unsigned long long)docs, el > 0 ? docs / el : 0,
		final ? "\n" : "");
}

typedef struct index_args {
	const char *dir, *corpus;
	bool skip, optimize;
	inverted_opts_t opts;
	trace_t trace;       /* --trace: opts.trace points here */
} index_args_t;

/* DIR then flags; 0, or 2 (usage printed) for a bad command line. */
static int index_parse(int argc, char **argv, index_args_t *a)
{
	memset(a, 0, sizeof *a);
	a->opts = inverted_defaults();
	if (argc < 2 || argv[1][0] == '-') {
		fputs(index_usage, stderr);
		return 2;
	}
	a->dir = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *flag = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(flag, "--no-positions") == 0) {
			a->opts.positions = false;
			continue;
		}
		if (strcmp(flag, "--optimize") == 0) {
			a->optimize = true;
			continue;
		}
		if (strcmp(flag, "--trace") == 0) {
			a->trace = (trace_t){ cmdline_trace_line, stderr };
			a->opts.trace = &a->trace;
			continue;
		}
		if (val == NULL) {
			fprintf(stderr, "storelab index: %s needs a value\n%s", flag, index_usage);
			return 2;
		}
		i++;
		if (strcmp(flag, "--corpus") == 0) {
			a->corpus = val;
		} else if (strcmp(flag, "--analyzer") == 0) {
			a->opts.analyzer = val;
		} else if (strcmp(flag, "--on-error") == 0 &&
			   (strcmp(val, "skip") == 0 || strcmp(val, "stop") == 0)) {
			a->skip = strcmp(val, "skip") == 0;
		} else if (strcmp(flag, "--buffer") == 0 &&
			   cmdline_parse_bytes(val, 1ull << 40, &a->opts.buffer_bytes) &&
			   a->opts.buffer_bytes >= 4096) {
		} else {
			fprintf(stderr, "storelab index: bad option %s %s\n%s", flag, val, index_usage);
			return 2;
		}
	}
	if (a->corpus == NULL) {
		fprintf(stderr, "storelab index: --corpus FILE is required\n%s", index_usage);
		return 2;
	}
	return 0;
}

/* The closing summary: what was read, and what the index now holds. */
static void index_summary(inverted_t *ix, const char *dir, uint64_t docs, uint64_t skipped,
			  double secs)
{
	sl_err_t err;
	inverted_stats_t st;
	if (inverted_stats(ix, &st, &err) == SL_OK) {
		printf("indexed %llu documents (%llu lines skipped) in %.2f s: %.0f docs/s\n",
		       (unsigned long long)docs, (unsigned long long)skipped, secs, docs / (secs > 0 ? secs : 1));
		printf("index %s: %llu live documents, %llu segments (%llu written, %llu merges), "
		       "%llu terms, %llu postings, %.2f MB on disk (%.2f bytes per posting with "
		       "positions)\n",
		       dir, (unsigned long long)st.docs, (unsigned long long)st.segments,
		       (unsigned long long)st.flushes, (unsigned long long)st.merges,
		       (unsigned long long)st.terms, (unsigned long long)st.postings,
		       st.file_bytes / 1e6, st.postings ? (double)st.postings_bytes / st.postings : 0);
	}
}

int index_main(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(index_usage, stdout);
		return 0;
	}
	index_args_t a;
	int bad = index_parse(argc, argv, &a);
	if (bad != 0)
		return bad;
	const char *dir = a.dir, *corpus = a.corpus;
	bool skip = a.skip, optimize = a.optimize;
	inverted_opts_t opts = a.opts;
	tsv_t t;
	if (!tsv_open(&t, corpus)) {
		fprintf(stderr, "storelab index: %s\n", t.error);
		return 1;
	}
	env_t *env = env_new();
	inverted_t *ix = NULL;
	sl_err_t err;
	int rc = env == NULL ? SL_NOMEM : inverted_open(env, dir, &opts, &ix, &err);
	if (rc != SL_OK) {
		fprintf(stderr, "storelab index: %s\n", env ? err.msg : "out of memory");
		tsv_close(&t);
		env_free(env);
		return 1;
	}
	bool tty = isatty(STDERR_FILENO);
	double start = now_sec(), last = start;
	uint64_t docs = 0, skipped = 0;
	int got, status = 0;
	while ((got = tsv_next(&t)) != 0) {
		if (got == -2 || (got == -1 && !skip)) {
			fprintf(stderr, "%sstorelab index: %s; nothing committed\n", tty ? "\n" : "", t.error);
			status = 1;
			break;
		}
		if (got == -1) {
			fprintf(stderr, "%sstorelab index: %s; skipped\n", tty ? "\n" : "", t.error);
			skipped++;
			continue;
		}
		if ((rc = inverted_add(ix, t.id, t.text, &err)) != SL_OK) {
			fprintf(stderr, "%sstorelab index: %s:%llu: %s; nothing committed\n", tty ? "\n" : "",
				corpus, (unsigned long long)t.line, err.msg);
			status = 1;
			break;
		}
		docs++;
		if (tty && (docs & 1023) == 0 && now_sec() - last > 0.2) {
			last = now_sec();
			index_progress(&t, docs, start, false);
		}
	}
	if (status == 0 && (rc = optimize ? inverted_optimize(ix, &err) : inverted_commit(ix, &err)) != SL_OK) {
		fprintf(stderr, "storelab index: commit: %s\n", err.msg);
		status = 1;
	}
	double secs = now_sec() - start;
	if (tty)
		index_progress(&t, docs, start, true);
	if (status == 0)
		index_summary(ix, dir, docs, skipped, secs);
	inverted_close(ix);
	tsv_close(&t);
	env_free(env);
	return status;
}

/* ---------------------------------------------------------------- search */

/* --explain, as text: the statistics and each hit's terms, so a score can be redone by hand. */
static void search_explain(const inverted_result_t *res, bm25_idf_t idf)
{
	printf("N = %llu live documents, mean length %.2f tokens; BM25 k1 1.2, b 0.75, %s idf\n",
	       (unsigned long long)res->docs, res->avgdl,
	       idf == BM25_IDF_FTS5 ? "FTS5's log((N - n + 0.5) / (n + 0.5)), at least 1e-6"
				    : "Lucene's log(1 + (N - n + 0.5) / (n + 0.5))");
	for (size_t i = 0; i < res->nleaves; i++)
		printf("  %-24s in n = %llu documents, idf %.6f%s\n", res->leaves[i].text,
		       (unsigned long long)res->leaves[i].df, res->leaves[i].idf,
		       res->leaves[i].scores ? "" : " (under NOT: adds nothing)");
}

static void search_explain_hit(const inverted_result_t *res, const inverted_hit_t *h)
{
	for (size_t i = 0; i < res->nleaves; i++) {
		if (h->tf[i] == 0 || !res->leaves[i].scores)
			continue;
		double norm = 1.2 * (0.25 + 0.75 * h->dl / res->avgdl);
		printf("      %s: tf %u, length %u: %.6f * %u * 2.2 / (%u + %.4f) = %.6f\n",
		       res->leaves[i].text, h->tf[i], h->dl, res->leaves[i].idf, h->tf[i], h->tf[i],
		       norm, res->leaves[i].idf * h->tf[i] * 2.2 / (h->tf[i] + norm));
	}
}

static void search_print(const char *format, const char *query, const inverted_result_t *res,
			 bm25_idf_t idf)
{
	if (strcmp(format, "tsv") == 0) {
		for (size_t i = 0; i < res->n; i++)
			printf("%zu\t%s\t%.9g\n", i + 1, res->hits[i].id, res->hits[i].score);
		return;
	}
	if (strcmp(format, "json") == 0) {
		printf("{\"query\": ");
		report_json_string(stdout, query);
		printf(", \"hits\": [");
		for (size_t i = 0; i < res->n; i++) {
			printf("%s{\"rank\": %zu, \"id\": ", i ? ", " : "", i + 1);
			report_json_string(stdout, res->hits[i].id);
			printf(", \"score\": %.9g", res->hits[i].score);
			if (res->leaves != NULL) {
				printf(", \"length\": %u, \"tf\": [", res->hits[i].dl);
				for (size_t l = 0; l < res->nleaves; l++)
					printf("%s%u", l ? ", " : "", res->hits[i].tf[l]);
				printf("]");
			}
			printf("}");
		}
		printf("]");
		if (res->leaves != NULL) {
			printf(", \"docs\": %llu, \"avgdl\": %.6f, \"leaves\": [",
			       (unsigned long long)res->docs, res->avgdl);
			for (size_t l = 0; l < res->nleaves; l++) {
				printf("%s{\"text\": ", l ? ", " : "");
				report_json_string(stdout, res->leaves[l].text);
				printf(", \"df\": %llu, \"idf\": %.9g, \"scores\": %s}",
				       (unsigned long long)res->leaves[l].df, res->leaves[l].idf,
				       res->leaves[l].scores ? "true" : "false");
			}
			printf("]");
		}
		const inverted_query_stats_t *s = &res->stats;
		printf(", \"stats\": {\"terms\": %llu, \"postings\": %llu, \"scored\": %llu, "
		       "\"pruned\": %llu, \"blocks_skipped\": %llu}}\n",
		       (unsigned long long)s->terms, (unsigned long long)s->postings,
		       (unsigned long long)s->scored, (unsigned long long)s->pruned,
		       (unsigned long long)s->blocks_skipped);
		return;
	}
	if (res->leaves != NULL)
		search_explain(res, idf);
	printf("%-5s %-40s %10s\n", "rank", "id", "score");
	for (size_t i = 0; i < res->n; i++) {
		printf("%-5zu %-40s %10.4f\n", i + 1, res->hits[i].id, res->hits[i].score);
		if (res->leaves != NULL)
			search_explain_hit(res, &res->hits[i]);
	}
	const inverted_query_stats_t *s = &res->stats;
	printf("(%zu hits; %llu term lookups over %llu postings; %llu documents scored, %llu "
	       "candidates and windows passed over by pruning, %llu postings blocks never unpacked)\n",
	       res->n, (unsigned long long)s->terms, (unsigned long long)s->postings,
	       (unsigned long long)s->scored, (unsigned long long)s->pruned,
	       (unsigned long long)s->blocks_skipped);
}

int search_main(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(search_usage, stdout);
		return 0;
	}
	if (argc < 3) {
		fputs(search_usage, stderr);
		return 2;
	}
	const char *dir = argv[1], *query = argv[2], *format = "table";
	uint64_t k = 10;
	trace_t trace = { cmdline_trace_line, stderr };
	inverted_opts_t opts = inverted_defaults();
	opts.read_only = true;
	opts.create = false;
	for (int i = 3; i < argc; i += 2) {
		const char *flag = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(flag, "--explain") == 0 || strcmp(flag, "--exhaustive") == 0) {
			*(strcmp(flag, "--explain") == 0 ? &opts.explain : &opts.exhaustive) = true;
			i--;
			continue;
		}
		if (strcmp(flag, "--trace") == 0) {
			opts.trace = &trace;
			i--;
			continue;
		}
		if (val == NULL) {
			fprintf(stderr, "storelab search: %s needs a value\n%s", flag, search_usage);
			return 2;
		}
		if (strcmp(flag, "--topk") == 0 && cmdline_parse_bytes(val, 1000000, &k) && k > 0) {
		} else if (strcmp(flag, "--format") == 0 &&
			   (strcmp(val, "table") == 0 || strcmp(val, "tsv") == 0 || strcmp(val, "json") == 0)) {
			format = val;
		} else if (strcmp(flag, "--idf") == 0 && strcmp(val, "fts5") == 0) {
			opts.idf = BM25_IDF_FTS5;
		} else if (strcmp(flag, "--idf") == 0 && strcmp(val, "lucene") == 0) {
			opts.idf = BM25_IDF_LUCENE;
		} else {
			fprintf(stderr, "storelab search: bad option %s %s (--topk takes 1 to 1000000)\n%s",
				flag, val, search_usage);
			return 2;
		}
	}
	env_t *env = env_new();
	inverted_t *ix = NULL;
	sl_err_t err;
	int rc = env == NULL ? SL_NOMEM : inverted_open(env, dir, &opts, &ix, &err);
	inverted_result_t res;
	if (rc == SL_OK)
		rc = inverted_search(ix, query, (size_t)k, &res, &err);
	if (rc != SL_OK) {
		fprintf(stderr, "storelab search: %s\n", env ? err.msg : "out of memory");
	} else {
		search_print(format, query, &res, opts.idf);
		inverted_result_free(&res);
	}
	inverted_close(ix);
	env_free(env);
	return rc == SL_OK ? 0 : 1;
}
