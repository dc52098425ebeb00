/*
 * fts_bench.c — `storelab bench --suite fts` (see fts_bench.h): every store
 * builds its index from the same corpus, held in memory so that reading the
 * file is not timed, then answers every query of the queries file once as a
 * warm-up and `--repeat` times measured. Each store runs in a child process,
 * so its peak memory is its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench/child.h"
#include "bench/fts_bench.h"
#include "bench/hist.h"
#include "bench/report.h"
#include "bench/tsv.h"
#include "engine/env.h"
#include "index/inverted.h"

static const char fts_usage[] =
	"usage: storelab bench --suite fts --corpus FILE.tsv --queries FILE [--stores LIST]\n"
	"                      [--topk K] [--repeat R] [--topk-out FILE] [--format table|json]\n"
	"                      [--out FILE] [--dir DIR]\n"
	"Builds each store's index from the corpus (id<TAB>text lines), then runs every query\n"
	"(KIND<TAB>words lines, KIND term|and|or|phrase) R times (default 3; medians).\n"
	"  --stores LIST   inverted (ours), the peers built (fts5, xapian) and scan, a full\n"
	"                  substring scan of a SQLite table, no index (default: all)\n"
	"  --topk-out FILE each store's hits: store<TAB>query<TAB>rank<TAB>id<TAB>score\n";

static const char *kind_names[FTS_KINDS] = { "term", "and", "or", "phrase" };

/* ---------------------------------------------------------------- our adapter */

typedef struct ours {
	env_t *env;
	inverted_t *ix;
} ours_t;

static int ours_open(const char *dir, void **h, char *err, size_t n)
{
	ours_t *o = calloc(1, sizeof *o);
	sl_err_t e;
	inverted_opts_t opts = inverted_defaults();
	if (o == NULL || (o->env = env_new()) == NULL) {
		free(o);
		snprintf(err, n, "inverted: out of memory");
		return -1;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/index", dir);
	if (inverted_open(o->env, path, &opts, &o->ix, &e) != SL_OK) {
		snprintf(err, n, "inverted: %s", e.msg);
		env_free(o->env);
		free(o);
		return -1;
	}
	*h = o;
	return 0;
}

static int ours_add(void *h, sl_slice_t id, sl_slice_t text, char *err, size_t n)
{
	sl_err_t e;
	if (inverted_add(((ours_t *)h)->ix, id, text, &e) == SL_OK)
		return 0;
	snprintf(err, n, "inverted: %s", e.msg);
	return -1;
}

static int ours_commit(void *h, char *err, size_t n)
{
	sl_err_t e;
	if (inverted_commit(((ours_t *)h)->ix, &e) == SL_OK)
		return 0;
	snprintf(err, n, "inverted: %s", e.msg);
	return -1;
}

/* Our syntax: words side by side are ANDed; OR between words; a phrase in quotes. */
static void ours_query(int kind, const char *words, buf_t *out)
{
	buf_clear(out);
	if (kind == FTS_PHRASE)
		buf_append(out, "\"", 1);
	for (const char *p = words; *p; p++) {
		if (*p == ' ' && kind == FTS_OR)
			buf_append(out, " OR ", 4);
		else if (*p != '"')
			buf_append(out, p, 1);
	}
	if (kind == FTS_PHRASE)
		buf_append(out, "\"", 1);
	buf_append(out, "", 1);
}

static int ours_search(void *h, const char *query, size_t k, fts_hit_t *hits, size_t *nhits,
		       char *err, size_t n)
{
	inverted_result_t res;
	sl_err_t e;
	if (inverted_search(((ours_t *)h)->ix, query, k, &res, &e) != SL_OK) {
		snprintf(err, n, "inverted: %s", e.msg);
		return -1;
	}
	for (size_t i = 0; i < res.n; i++) {
		snprintf(hits[i].id, sizeof hits[i].id, "%s", res.hits[i].id);
		hits[i].score = res.hits[i].score;
	}
	*nhits = res.n;
	inverted_result_free(&res);
	return 0;
}

static void ours_close(void *h)
{
	ours_t *o = h;
	inverted_close(o->ix);
	env_free(o->env);
	free(o);
}

static const fts_ops_t ours_ops = {
	.name = "inverted", .open = ours_open, .add = ours_add, .commit = ours_commit,
	.query = ours_query, .search = ours_search, .close = ours_close,
};

static const fts_ops_t *const fts_stores[] = {
	&ours_ops,
#ifdef SL_PEER_SQLITE
	&peer_fts5_ops,
#endif
#ifdef SL_PEER_XAPIAN
	&peer_xapian_ops,
#endif
#ifdef SL_PEER_SQLITE
	&peer_scan_ops,
#endif
};

/* ---------------------------------------------------------------- inputs */

typedef struct fts_doc {
	sl_slice_t id, text;
} fts_doc_t;

typedef struct fts_query {
	int kind;
	char *words;
} fts_query_t;

typedef struct fts_input {
	buf_t bytes;                 /* the corpus's ids and texts, one after another */
	fts_doc_t *docs;
	size_t ndocs;
	fts_query_t *queries;
	size_t nqueries;
} fts_input_t;

static int fts_load_corpus(const char *path, fts_input_t *in, char *err, size_t n)
{
	tsv_t t;
	if (!tsv_open(&t, path)) {
		snprintf(err, n, "%s", t.error);
		return -1;
	}
	size_t cap = 0;
	int got;
	uint64_t *offs = NULL; /* id offset, id len, text len per document */
	while ((got = tsv_next(&t)) != 0) {
		if (got < 0) {
			snprintf(err, n, "%s", t.error);
			free(offs);
			tsv_close(&t);
			return -1;
		}
		if (in->ndocs == cap) {
			cap = cap ? 2 * cap : 4096;
			uint64_t *more = realloc(offs, cap * 3 * sizeof *offs);
			if (more == NULL)
				break;
			offs = more;
		}
		offs[3 * in->ndocs] = in->bytes.len;
		offs[3 * in->ndocs + 1] = t.id.len;
		offs[3 * in->ndocs + 2] = t.text.len;
		buf_append(&in->bytes, t.id.data, t.id.len);
		buf_append(&in->bytes, t.text.data, t.text.len);
		in->ndocs++;
	}
	tsv_close(&t);
	in->docs = calloc(in->ndocs + 1, sizeof *in->docs);
	if (in->docs == NULL || !buf_ok(&in->bytes) || got != 0) {
		free(offs);
		snprintf(err, n, "%s: out of memory", path);
		return -1;
	}
	for (size_t i = 0; i < in->ndocs; i++) {
		const uint8_t *p = in->bytes.data + offs[3 * i];
		in->docs[i].id = sl_slice(p, offs[3 * i + 1]);
		in->docs[i].text = sl_slice(p + offs[3 * i + 1], offs[3 * i + 2]);
	}
	free(offs);
	return 0;
}

static int fts_load_queries(const char *path, fts_input_t *in, char *err, size_t n)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, n, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int rc = 0;
	while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		char *tab = strchr(line, '\t');
		int kind = -1;
		for (int k = 0; tab != NULL && k < FTS_KINDS; k++)
			if ((size_t)(tab - line) == strlen(kind_names[k]) &&
			    strncmp(line, kind_names[k], (size_t)(tab - line)) == 0)
				kind = k;
		if (kind < 0 || tab[1] == '\0') {
			snprintf(err, n, "%s:%zu: not KIND<TAB>words with KIND term, and, or or phrase",
				 path, lineno);
			rc = -1;
			break;
		}
		fts_query_t *more = realloc(in->queries, (in->nqueries + 1) * sizeof *more);
		if (more == NULL || (more[in->nqueries].words = strdup(tab + 1)) == NULL) {
			if (more != NULL)
				in->queries = more;
			snprintf(err, n, "%s: out of memory", path);
			rc = -1;
			break;
		}
		in->queries = more;
		in->queries[in->nqueries++].kind = kind;
	}
	free(line);
	fclose(f);
	if (rc == 0 && in->nqueries == 0) {
		snprintf(err, n, "%s: no queries", path);
		rc = -1;
	}
	return rc;
}

/* ---------------------------------------------------------------- one store, in a child */

/* What a child sends its parent. */
typedef struct fts_figures {
	int failed;
	char error[256];
	double build_seconds;
	uint64_t index_bytes, peak_rss;
	double query_seconds[FTS_KINDS + 1];  /* median over repeats; [FTS_KINDS] = all */
	uint64_t queries[FTS_KINDS + 1];
	double lat_us[FTS_KINDS + 1][5];
} fts_figures_t;

typedef struct fts_cfg {
	const char *dir;
	size_t topk;
	unsigned repeat;
	const char *topk_out;        /* NULL: none */
} fts_cfg_t;

static double fts_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fts_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Runs every query once (kept as hits when out is not NULL), timing each into h. */
static int fts_pass(const fts_ops_t *ops, void *h, const fts_input_t *in, const fts_cfg_t *cfg,
		    hist_t *hists, double *secs, FILE *out, fts_figures_t *fig)
{
	fts_hit_t *hits = calloc(cfg->topk, sizeof *hits);
	buf_t q = { 0 };
	int rc = hits == NULL ? -1 : 0;
	for (size_t i = 0; rc == 0 && i < in->nqueries; i++) {
		const fts_query_t *fq = &in->queries[i];
		ops->query(fq->kind, fq->words, &q);
		size_t nh = 0;
		double t0 = fts_now();
		rc = ops->search(h, (const char *)q.data, cfg->topk, hits, &nh, fig->error,
				 sizeof fig->error);
		double dt = fts_now() - t0;
		if (hists != NULL) {
			hist_record(&hists[fq->kind], (uint64_t)(dt * 1e9));
			hist_record(&hists[FTS_KINDS], (uint64_t)(dt * 1e9));
			secs[fq->kind] += dt;
			secs[FTS_KINDS] += dt;
		}
		for (size_t r = 0; out != NULL && r < nh; r++)
			fprintf(out, "%s\t%zu\t%zu\t%s\t%.9g\n", ops->name, i + 1, r + 1, hits[r].id,
				hits[r].score);
	}
	free(hits);
	buf_free(&q);
	return rc;
}

static void fts_child(const fts_ops_t *ops, const fts_input_t *in, const fts_cfg_t *cfg,
		      const char *dir, const char *hits_path, fts_figures_t *fig)
{
	void *h = NULL;
	char *e = fig->error;
	size_t en = sizeof fig->error;
	if (ops->open(dir, &h, e, en) != 0) {
		fig->failed = 1;
		return;
	}
	double t0 = fts_now();
	for (size_t i = 0; i < in->ndocs; i++)
		if (ops->add(h, in->docs[i].id, in->docs[i].text, e, en) != 0) {
			fig->failed = 1;
			break;
		}
	if (!fig->failed && ops->commit(h, e, en) != 0)
		fig->failed = 1;
	fig->build_seconds = fts_now() - t0;
	if (fig->failed) {
		ops->close(h);
		return;
	}
	fig->index_bytes = report_tree_bytes(dir);
	/* A warm-up pass that also records the hits, then the measured passes. */
	FILE *out = fopen(hits_path, "w");
	if (out == NULL || fts_pass(ops, h, in, cfg, NULL, NULL, out, fig) != 0)
		fig->failed = 1;
	if (out != NULL)
		fclose(out);
	double *runs = calloc((size_t)cfg->repeat * (FTS_KINDS + 1), sizeof *runs);
	hist_t hists[FTS_KINDS + 1];
	for (int k = 0; k <= FTS_KINDS; k++)
		hist_init(&hists[k]);
	for (unsigned r = 0; !fig->failed && runs != NULL && r < cfg->repeat; r++)
		if (fts_pass(ops, h, in, cfg, hists, runs + (size_t)r * (FTS_KINDS + 1), NULL, fig) != 0)
			fig->failed = 1;
	for (size_t i = 0; i < in->nqueries; i++) {
		fig->queries[in->queries[i].kind]++;
		fig->queries[FTS_KINDS]++;
	}
	for (int k = 0; runs != NULL && k <= FTS_KINDS; k++) {
		double v[64];
		unsigned nr = cfg->repeat < 64 ? cfg->repeat : 64;
		for (unsigned r = 0; r < nr; r++)
			v[r] = runs[(size_t)r * (FTS_KINDS + 1) + k];
		qsort(v, nr, sizeof v[0], fts_cmp_double);
		fig->query_seconds[k] = v[nr / 2];
		static const double qs[5] = { 0.5, 0.9, 0.99, 0.999, 1.0 };
		for (int q = 0; q < 5; q++)
			fig->lat_us[k][q] = (double)hist_percentile(&hists[k], qs[q]) / 1e3;
	}
	free(runs);
	ops->close(h);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	fig->peak_rss = (uint64_t)ru.ru_maxrss * 1024;
}

typedef struct fts_job {
	const fts_ops_t *ops;
	const fts_input_t *in;
	const fts_cfg_t *cfg;
	const char *hits_path;
} fts_job_t;

static void fts_child_run(void *ctx, const char *dir, void *figures)
{
	const fts_job_t *j = ctx;
	fts_child(j->ops, j->in, j->cfg, dir, j->hits_path, figures);
}

/* Runs the store in a child process of its own (bench/child.h). */
static void fts_run_store(const fts_ops_t *ops, const fts_input_t *in, const fts_cfg_t *cfg,
			  const char *hits_path, fts_figures_t *fig)
{
	memset(fig, 0, sizeof *fig);
	fts_job_t job = { ops, in, cfg, hits_path };
	char name[64];
	snprintf(name, sizeof name, "fts-%s", ops->name);
	if (child_run(cfg->dir, name, fts_child_run, &job, fig, sizeof *fig, fig->error,
		      sizeof fig->error) != 0)
		fig->failed = 1;
}

/* ---------------------------------------------------------------- overlap and report */

typedef struct fts_hitlist {
	char **ids;                  /* [query * topk + rank], NULL where none */
} fts_hitlist_t;

static void fts_read_hits(const char *path, size_t nq, size_t topk, fts_hitlist_t *hl)
{
	hl->ids = calloc(nq * topk + 1, sizeof *hl->ids);
	FILE *f = fopen(path, "r");
	char line[1024];
	while (hl->ids != NULL && f != NULL && fgets(line, sizeof line, f) != NULL) {
		char store[64], id[600];
		size_t q, r;
		if (sscanf(line, "%63[^\t]\t%zu\t%zu\t%599[^\t]", store, &q, &r, id) == 4 && q >= 1 &&
		    q <= nq && r >= 1 && r <= topk)
			hl->ids[(q - 1) * topk + r - 1] = strdup(id);
	}
	if (f != NULL)
		fclose(f);
}

/* Mean over queries (where the reference has hits) of |hits ∩ reference hits| / |reference hits|. */
static double fts_overlap(const fts_hitlist_t *a, const fts_hitlist_t *ref, size_t nq, size_t topk)
{
	double sum = 0;
	size_t counted = 0;
	for (size_t q = 0; a->ids && ref->ids && q < nq; q++) {
		size_t nref = 0, both = 0;
		for (size_t r = 0; r < topk; r++) {
			const char *x = ref->ids[q * topk + r];
			if (x == NULL)
				continue;
			nref++;
			for (size_t s = 0; s < topk; s++)
				if (a->ids[q * topk + s] && strcmp(a->ids[q * topk + s], x) == 0)
					both++;
		}
		if (nref > 0) {
			sum += (double)both / (double)nref;
			counted++;
		}
	}
	return counted ? sum / (double)counted : 1;
}

/* One query row: all queries (k == FTS_KINDS, with the overlap) or those of one kind. */
static void fts_report_queries(FILE *out, bool json, const char *name, const fts_figures_t *f,
			       int k, double overlap)
{
	char wl[32];
	snprintf(wl, sizeof wl, k == FTS_KINDS ? "query" : "query-%s",
		 k == FTS_KINDS ? "" : kind_names[k]);
	double qps = f->query_seconds[k] > 0 ? f->queries[k] / f->query_seconds[k] : 0;
	if (!json) {
		char ov[16] = "";
		if (k == FTS_KINDS)
			snprintf(ov, sizeof ov, "%.3f", overlap);
		fprintf(out, "%-9s %-13s %12.0f %10.1f %10.1f %10.1f %10s %9s %9s\n", name, wl, qps,
			f->lat_us[k][0], f->lat_us[k][2], f->lat_us[k][4], "", "", ov);
		return;
	}
	fprintf(out, ",\n  {\"store\": ");
	report_json_string(out, name);
	fprintf(out, ", \"workload\": \"%s\", \"ops\": %llu, \"seconds\": %.6f, "
		     "\"ops_per_sec\": %.1f, \"qps\": %.1f, \"lat_us\": {\"p50\": %.4g, "
		     "\"p90\": %.4g, \"p99\": %.4g, \"p999\": %.4g, \"max\": %.4g}, "
		     "\"write_amp\": null, \"read_amp\": null, \"space_amp\": null, "
		     "\"disk_bytes\": %llu, \"peak_rss_bytes\": %llu",
		wl, (unsigned long long)f->queries[k], f->query_seconds[k], qps, qps, f->lat_us[k][0],
		f->lat_us[k][1], f->lat_us[k][2], f->lat_us[k][3], f->lat_us[k][4],
		(unsigned long long)f->index_bytes, (unsigned long long)f->peak_rss);
	if (k == FTS_KINDS)
		fprintf(out, ", \"topk_overlap\": %.4f", overlap);
	fprintf(out, "}");
}

static void fts_report(FILE *out, bool json, const char *const *names, size_t n,
		       const fts_figures_t *figs, const double *overlap, const fts_input_t *in,
		       const fts_cfg_t *cfg, const char *corpus, const char *queries)
{
	if (json) {
		fprintf(out, "{\"suite\": \"fts\",\n \"config\": {\"corpus\": ");
		report_json_string(out, corpus);
		fprintf(out, ", \"queries\": ");
		report_json_string(out, queries);
		fprintf(out, ", \"docs\": %zu, \"nqueries\": %zu, \"topk\": %zu, \"repeat\": %u},\n"
			     " \"results\": [\n", in->ndocs, in->nqueries, cfg->topk, cfg->repeat);
	} else {
		fprintf(out, "%zu documents, %zu queries, top %zu, medians of %u runs\n\n", in->ndocs,
			in->nqueries, cfg->topk, cfg->repeat);
		fprintf(out, "%-9s %-13s %12s %10s %10s %10s %10s %9s %9s\n", "store", "workload",
			"ops/s", "p50 us", "p99 us", "max us", "index MB", "RSS MB", "overlap");
	}
	bool first = true;
	for (size_t s = 0; s < n; s++) {
		const fts_figures_t *f = &figs[s];
		if (f->failed) {
			if (json) {
				fprintf(out, "%s  {\"store\": ", first ? "" : ",\n");
				report_json_string(out, names[s]);
				fprintf(out, ", \"workload\": \"build\", \"error\": ");
				report_json_string(out, f->error);
				fprintf(out, "}");
			} else {
				fprintf(out, "%-9s FAILED: %s\n", names[s], f->error);
			}
			first = false;
			continue;
		}
		double dps = f->build_seconds > 0 ? (double)in->ndocs / f->build_seconds : 0;
		if (json) {
			fprintf(out, "%s  {\"store\": ", first ? "" : ",\n");
			report_json_string(out, names[s]);
			fprintf(out, ", \"workload\": \"build\", \"ops\": %zu, \"seconds\": %.6f, "
				     "\"ops_per_sec\": %.1f, \"docs_per_sec\": %.1f, \"index_bytes\": %llu, "
				     "\"lat_us\": null, \"write_amp\": null, \"read_amp\": null, "
				     "\"space_amp\": null, \"disk_bytes\": %llu, \"peak_rss_bytes\": %llu}",
				in->ndocs, f->build_seconds, dps, dps, (unsigned long long)f->index_bytes,
				(unsigned long long)f->index_bytes, (unsigned long long)f->peak_rss);
		} else {
			fprintf(out, "%-9s %-13s %12.0f %10s %10s %10s %10.2f %9.1f %9s\n", names[s], "build",
				dps, "", "", "", f->index_bytes / 1e6, f->peak_rss / 1e6, "");
		}
		first = false;
		for (int k = FTS_KINDS; k >= 0; k--)
			if (f->queries[k] > 0)
				fts_report_queries(out, json, names[s], f, k, overlap[s]);
	}
	if (json)
		fprintf(out, "\n ]}\n");
	else
		fprintf(out, "\noverlap: mean share of %s's top %zu that each store also returns\n",
			names[0], cfg->topk);
}

/* ---------------------------------------------------------------- the command */

static const fts_ops_t *fts_find(const char *name)
{
	for (size_t i = 0; i < sizeof fts_stores / sizeof fts_stores[0]; i++)
		if (strcmp(fts_stores[i]->name, name) == 0)
			return fts_stores[i];
	return NULL;
}

typedef struct fts_args {
	const char *corpus, *queries, *stores, *out_path;
	bool json;
	fts_cfg_t cfg;
} fts_args_t;

/* The command line: 0, 1 when --help was printed, 2 (usage printed) when bad. */
static int fts_parse_args(int argc, char **argv, fts_args_t *a)
{
	*a = (fts_args_t){ .cfg = { .topk = 10, .repeat = 3 } };
	a->cfg.dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	for (int i = 1; i < argc; i += 2) {
		const char *flag = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) {
			fputs(fts_usage, stdout);
			return 1;
		}
		char *end = NULL;
		unsigned long v = val ? strtoul(val, &end, 10) : 0;
		bool num = val && end != val && *end == '\0' && val[0] != '-';
		if (val == NULL) {
			fprintf(stderr, "storelab bench: %s needs a value\n%s", flag, fts_usage);
			return 2;
		} else if (strcmp(flag, "--suite") == 0 && strcmp(val, "fts") == 0) {
		} else if (strcmp(flag, "--corpus") == 0) {
			a->corpus = val;
		} else if (strcmp(flag, "--queries") == 0) {
			a->queries = val;
		} else if (strcmp(flag, "--stores") == 0) {
			a->stores = val;
		} else if (strcmp(flag, "--topk") == 0 && num && v >= 1 && v <= 10000) {
			a->cfg.topk = v;
		} else if (strcmp(flag, "--repeat") == 0 && num && v >= 1 && v <= 64) {
			a->cfg.repeat = (unsigned)v;
		} else if (strcmp(flag, "--topk-out") == 0) {
			a->cfg.topk_out = val;
		} else if (strcmp(flag, "--format") == 0 && (strcmp(val, "json") == 0 || strcmp(val, "table") == 0)) {
			a->json = strcmp(val, "json") == 0;
		} else if (strcmp(flag, "--out") == 0) {
			a->out_path = val;
		} else if (strcmp(flag, "--dir") == 0) {
			a->cfg.dir = val;
		} else {
			fprintf(stderr, "storelab bench: bad option %s %s for the fts suite\n%s", flag, val,
				fts_usage);
			return 2;
		}
	}
	if (a->corpus == NULL || a->queries == NULL) {
		fprintf(stderr, "storelab bench: the fts suite needs --corpus and --queries\n%s", fts_usage);
		return 2;
	}
	return 0;
}

/* The stores: those of list (split in place), each known and built, or every one built. */
static int fts_pick_stores(char *list, bool given, const char **names, size_t *n)
{
	*n = 0;
	if (!given)
		for (size_t i = 0; i < sizeof fts_stores / sizeof fts_stores[0]; i++)
			names[(*n)++] = fts_stores[i]->name;
	for (char *tok = strtok(list, ","); tok != NULL && *n < 16; tok = strtok(NULL, ",")) {
		if (fts_find(tok) == NULL) {
			fprintf(stderr, "storelab bench: no fts store '%s' (built: inverted%s%s)\n", tok,
#ifdef SL_PEER_SQLITE
				", fts5, scan",
#else
				"; fts5 and scan need libsqlite3-dev",
#endif
#ifdef SL_PEER_XAPIAN
				", xapian"
#else
				"; xapian needs libxapian-dev"
#endif
			);
			return 2;
		}
		names[(*n)++] = tok;
	}
	return 0;
}

/* --topk-out: every store's hits, one file after another. */
static void fts_write_topk(const char *path, char hits_path[][4200], size_t n)
{
	FILE *t = fopen(path, "w");
	for (size_t s = 0; t != NULL && s < n; s++) {
		FILE *h = fopen(hits_path[s], "r");
		char buf[4096];
		size_t got;
		while (h != NULL && (got = fread(buf, 1, sizeof buf, h)) > 0)
			fwrite(buf, 1, got, t);
		if (h != NULL)
			fclose(h);
	}
	if (t == NULL || fclose(t) != 0)
		fprintf(stderr, "storelab bench: cannot write %s\n", path);
}

static void fts_input_free(fts_input_t *in)
{
	for (size_t i = 0; i < in->nqueries; i++)
		free(in->queries[i].words);
	free(in->queries);
	free(in->docs);
	buf_free(&in->bytes);
}

int fts_bench_main(int argc, char **argv)
{
	fts_args_t a;
	int bad = fts_parse_args(argc, argv, &a);
	if (bad != 0)
		return bad == 1 ? 0 : bad;
	const char *names[16];
	size_t n = 0;
	char *list = strdup(a.stores ? a.stores : "");
	if (list == NULL || fts_pick_stores(list, a.stores != NULL, names, &n) != 0) {
		free(list);
		return 2;
	}
	fts_input_t in = { 0 };
	char err[512];
	if (fts_load_corpus(a.corpus, &in, err, sizeof err) != 0 ||
	    fts_load_queries(a.queries, &in, err, sizeof err) != 0) {
		fprintf(stderr, "storelab bench: %s\n", err);
		free(list);
		return 1;
	}
	fts_figures_t figs[16];
	fts_hitlist_t hl[16];
	double overlap[16];
	char hits_path[16][4200];
	for (size_t s = 0; s < n; s++) {
		snprintf(hits_path[s], sizeof hits_path[s], "%s/fts-hits-%d-%zu.tsv", a.cfg.dir,
			 (int)getpid(), s);
		if (isatty(STDERR_FILENO))
			fprintf(stderr, "running %s...\n", names[s]);
		fts_run_store(fts_find(names[s]), &in, &a.cfg, hits_path[s], &figs[s]);
		fts_read_hits(hits_path[s], in.nqueries, a.cfg.topk, &hl[s]);
	}
	for (size_t s = 0; s < n; s++)
		overlap[s] = fts_overlap(&hl[s], &hl[0], in.nqueries, a.cfg.topk);
	if (a.cfg.topk_out != NULL)
		fts_write_topk(a.cfg.topk_out, hits_path, n);
	FILE *out = a.out_path ? fopen(a.out_path, "w") : stdout;
	if (out == NULL) {
		fprintf(stderr, "storelab bench: %s: %s\n", a.out_path, strerror(errno));
	} else {
		fts_report(out, a.json, names, n, figs, overlap, &in, &a.cfg, a.corpus, a.queries);
		if (out != stdout)
			fclose(out);
	}
	int status = out == NULL ? 1 : 0;
	for (size_t s = 0; s < n; s++) {
		status |= figs[s].failed;
		remove(hits_path[s]);
		for (size_t i = 0; hl[s].ids && i < in.nqueries * a.cfg.topk; i++)
			free(hl[s].ids[i]);
		free(hl[s].ids);
	}
	fts_input_free(&in);
	free(list);
	return status;
}
