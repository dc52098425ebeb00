/*
 * inverted_test.c — the inverted index (index/inverted) against a brute-force
 * oracle: every document kept as its token list, every query answered by
 * reading them all (same tokens, same BM25, same tie order). Random adds,
 * updates, deletes, flushes, commits and merges, with inverted_check after each
 * phase; then the query parser by hand, crashes during indexing, damaged files
 * and bad input.
 */
#include "tests/testutil.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "index/analyzer.h"
#include "index/bm25.h"
#include "index/inv_int.h"
#include "index/inverted.h"

/* ---------------------------------------------------------------- the oracle */

#define VOCAB 80
#define MAX_TOK 60

static char vocab[VOCAB][12];

/* Words of 2..7 letters; word 0 is the commonest (Zipf-like choice below). */
static void make_vocab(tu_rng_t *r)
{
	for (int i = 0; i < VOCAB; i++) {
		int len = 2 + (int)tu_below(r, 6);
		for (int j = 0; j < len; j++)
			vocab[i][j] = (char)('a' + tu_below(r, 26));
		vocab[i][len] = '\0';
		for (int k = 0; k < i; k++)
			if (strcmp(vocab[k], vocab[i]) == 0) {
				i--; /* a duplicate: draw again */
				break;
			}
	}
}

static int zipf_word(tu_rng_t *r)
{
	/* P(rank) about 1/rank: pick a rank by inverting a harmonic-ish curve. */
	double u = (double)tu_below(r, 1000000) / 1e6;
	int w = (int)(exp(u * log(VOCAB + 1.0))) - 1;
	return w < 0 ? 0 : w >= VOCAB ? VOCAB - 1 : w;
}

typedef struct odoc {
	char id[24];
	int ntok;
	int tok[MAX_TOK];
	bool live;
} odoc_t;

typedef struct oracle {
	odoc_t *docs; /* in the order added: the index's document order */
	size_t n, cap;
} oracle_t;

static odoc_t *oracle_find(oracle_t *o, const char *id)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->docs[i].live && strcmp(o->docs[i].id, id) == 0)
			return &o->docs[i];
	return NULL;
}

/* Text for a document: its words with random case and separators. */
static void doc_text(tu_rng_t *r, const odoc_t *d, char *out)
{
	static const char *seps[] = { " ", ", ", ". ", " - ", "\t", " (", ") " };
	out[0] = '\0';
	for (int i = 0; i < d->ntok; i++) {
		if (i > 0 || tu_below(r, 4) == 0)
			strcat(out, seps[tu_below(r, 7)]);
		char w[12];
		strcpy(w, vocab[d->tok[i]]);
		if (tu_below(r, 5) == 0)
			w[0] = (char)(w[0] - 'a' + 'A');
		strcat(out, w);
	}
}

static void oracle_add(oracle_t *o, inverted_t *ix, tu_rng_t *r, const char *id)
{
	odoc_t *old = oracle_find(o, id);
	if (old != NULL)
		old->live = false;
	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 1024;
		o->docs = realloc(o->docs, o->cap * sizeof *o->docs);
	}
	odoc_t *d = &o->docs[o->n++];
	memset(d, 0, sizeof *d);
	snprintf(d->id, sizeof d->id, "%s", id);
	/* Mostly short documents, a few long ones (tfs above 1, long positions lists). */
	d->ntok = (int)tu_below(r, tu_below(r, 10) == 0 ? MAX_TOK + 1 : 12);
	for (int i = 0; i < d->ntok; i++)
		d->tok[i] = zipf_word(r);
	d->live = true;
	char text[MAX_TOK * 16];
	doc_text(r, d, text);
	sl_err_t err;
	assert_int_equal(inverted_add(ix, sl_slice_str(id), sl_slice_str(text), &err), SL_OK);
}

static int vocab_index(const buf_t *t)
{
	for (int i = 0; i < VOCAB; i++)
		if (strlen(vocab[i]) == t->len && memcmp(vocab[i], t->data, t->len) == 0)
			return i;
	return -1;
}

/* Occurrences of a leaf (term or phrase) in a document. */
static uint32_t leaf_count(const inv_qnode_t *leaf, const odoc_t *d)
{
	uint32_t count = 0;
	int want[16];
	for (unsigned j = 0; j < leaf->nterms && j < 16; j++)
		want[j] = vocab_index(&leaf->terms[j]);
	for (int p = 0; p + (int)leaf->nterms <= d->ntok; p++) {
		bool all = true;
		for (unsigned j = 0; j < leaf->nterms && all; j++)
			all = d->tok[p + (int)j] == want[j];
		count += all;
	}
	return count;
}

static bool o_match(const inv_qnode_t *n, const odoc_t *d)
{
	switch (n->kind) {
	case INV_Q_TERM:
	case INV_Q_PHRASE:
		return leaf_count(n, d) > 0;
	case INV_Q_AND:
		for (unsigned i = 0; i < n->nkids; i++)
			if (!o_match(n->kids[i], d))
				return false;
		return true;
	case INV_Q_OR:
		for (unsigned i = 0; i < n->nkids; i++)
			if (o_match(n->kids[i], d))
				return true;
		return false;
	case INV_Q_NOT:
		return o_match(n->kids[0], d) && !o_match(n->kids[1], d);
	}
	return false;
}

/* Per-leaf scores of the subtrees that matched (inverted.h's rule). */
static void o_collect(const inv_qnode_t *n, const odoc_t *d, const bm25_t *bm,
		      const double *idf, double *contrib)
{
	if (!o_match(n, d))
		return;
	if (n->kind == INV_Q_TERM || n->kind == INV_Q_PHRASE) {
		contrib[n->leaf] = bm25_term(bm, idf[n->leaf], leaf_count(n, d), (uint32_t)d->ntok);
		return;
	}
	unsigned kids = n->kind == INV_Q_NOT ? 1 : n->nkids;
	for (unsigned i = 0; i < kids; i++)
		o_collect(n->kids[i], d, bm, idf, contrib);
}

typedef struct ohit {
	double score;
	size_t order;
} ohit_t;

static int ohit_cmp(const void *a, const void *b)
{
	const ohit_t *x = a, *y = b;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

/* Compares the index's answer to a query with the oracle's. */
static void check_query(inverted_t *ix, oracle_t *o, const char *query, size_t k)
{
	inv_query_t q;
	sl_err_t err;
	assert_int_equal(inv_query_parse(query, NULL, &q, &err), SL_OK);
	inverted_result_t res;
	int rc = inverted_search(ix, query, k, &res, &err);
	if (rc != SL_OK)
		fail_msg("search '%s': %s", query, err.msg);
	size_t live = 0;
	uint64_t tokens = 0;
	for (size_t i = 0; i < o->n; i++)
		if (o->docs[i].live) {
			live++;
			tokens += (uint64_t)o->docs[i].ntok;
		}
	ohit_t *hits = calloc(o->n + 1, sizeof *hits);
	size_t nh = 0;
	if (q.root != NULL && live > 0) {
		bm25_t bm = bm25_params(live, tokens);
		double idf[256] = { 0 }, contrib[256];
		for (unsigned l = 0; l < q.nleaves; l++) {
			uint64_t df = 0;
			for (size_t i = 0; i < o->n; i++)
				df += o->docs[i].live && leaf_count(q.leaves[l], &o->docs[i]) > 0;
			idf[l] = bm25_idf(&bm, df);
		}
		for (size_t i = 0; i < o->n; i++) {
			if (!o->docs[i].live || !o_match(q.root, &o->docs[i]))
				continue;
			memset(contrib, 0, sizeof contrib);
			o_collect(q.root, &o->docs[i], &bm, idf, contrib);
			double s = 0;
			for (unsigned l = 0; l < q.nleaves; l++)
				s += contrib[l];
			hits[nh++] = (ohit_t){ s, i };
		}
		qsort(hits, nh, sizeof *hits, ohit_cmp);
	}
	size_t want = nh < k ? nh : k;
	if (res.n != want)
		fail_msg("query '%s' k %zu: %zu hits, the oracle %zu", query, k, res.n, want);
	for (size_t i = 0; i < want; i++) {
		const odoc_t *d = &o->docs[hits[i].order];
		if (strcmp(res.hits[i].id, d->id) != 0 || res.hits[i].score != hits[i].score)
			fail_msg("query '%s' rank %zu: %s %.17g, the oracle %s %.17g", query, i,
				 res.hits[i].id, res.hits[i].score, d->id, hits[i].score);
	}
	free(hits);
	inverted_result_free(&res);
	inv_query_free(&q);
}

/* A random query of one of the kinds the bench uses, or a nested one. */
static void random_query(tu_rng_t *r, const oracle_t *o, char *out)
{
	const char *w1 = vocab[zipf_word(r)], *w2 = vocab[zipf_word(r)], *w3 = vocab[zipf_word(r)];
	switch (tu_below(r, 8)) {
	case 0:
		sprintf(out, "%s", w1);
		break;
	case 1:
		sprintf(out, "%s %s", w1, w2);
		break;
	case 2:
		sprintf(out, "%s OR %s OR %s", w1, w2, w3);
		break;
	case 3:
		sprintf(out, "%s OR %s OR %s OR %s", w1, w2, vocab[0], vocab[tu_below(r, VOCAB)]);
		break;
	case 4: {
		/* A phrase taken from a document, so that it has matches. */
		const odoc_t *d = &o->docs[tu_below(r, o->n)];
		if (d->ntok < 2) {
			sprintf(out, "\"%s %s\"", w1, w2);
			break;
		}
		int at = (int)tu_below(r, (uint64_t)d->ntok - 1), len = d->ntok - at >= 3 ? 2 + (int)tu_below(r, 2) : 2;
		strcpy(out, "\"");
		for (int i = 0; i < len; i++) {
			strcat(out, vocab[d->tok[at + i]]);
			strcat(out, i + 1 < len ? " " : "\"");
		}
		break;
	}
	case 5:
		sprintf(out, "%s NOT %s", w1, w2);
		break;
	case 6:
		sprintf(out, "(%s OR %s) AND %s", w1, w2, w3);
		break;
	default:
		sprintf(out, "%s OR (%s NOT %s) OR \"%s %s\"", w1, w2, w3, w2, w1);
		break;
	}
}

static void check_queries(inverted_t *ix, oracle_t *o, tu_rng_t *r, int n)
{
	char q[256];
	for (int i = 0; i < n; i++) {
		random_query(r, o, q);
		check_query(ix, o, q, 1 + tu_below(r, 20));
	}
}

static void check_index(inverted_t *ix)
{
	sl_err_t err;
	if (inverted_check(ix, &err) != SL_OK)
		fail_msg("inverted_check: %s", err.msg);
}

static inverted_opts_t small_opts(void)
{
	inverted_opts_t o = inverted_defaults();
	o.buffer_bytes = 32 << 10; /* many segments */
	o.merge_factor = 4;        /* and many merges */
	return o;
}

/* ---------------------------------------------------------------- tests */

static void test_by_hand(void **state)
{
	tu_fixture_t *f = *state;
	inverted_t *ix;
	sl_err_t err;
	inverted_opts_t opts = inverted_defaults();
	assert_int_equal(inverted_open(f->env, f->path, &opts, &ix, &err), SL_OK);
	static const char *docs[][2] = {
		{ "a", "The quick brown fox jumps over the lazy dog" },
		{ "b", "Quick, quick! The fox is QUICK." },
		{ "c", "A café serves brown bread; the dog sleeps" },
		{ "d", "lazy afternoon" },
	};
	for (int i = 0; i < 4; i++)
		assert_int_equal(inverted_add(ix, sl_slice_str(docs[i][0]), sl_slice_str(docs[i][1]), &err),
				 SL_OK);
	inverted_result_t res;
	/* Nothing is visible before the commit. */
	assert_int_equal(inverted_search(ix, "fox", 10, &res, &err), SL_OK);
	assert_int_equal(res.n, 0);
	assert_int_equal(inverted_commit(ix, &err), SL_OK);
	assert_int_equal(inverted_search(ix, "fox", 10, &res, &err), SL_OK);
	assert_int_equal(res.n, 2);
	assert_string_equal(res.hits[0].id, "b"); /* shorter document, same tf: higher */
	inverted_result_free(&res);
	assert_int_equal(inverted_search(ix, "\"quick brown\"", 10, &res, &err), SL_OK);
	assert_int_equal(res.n, 1);
	assert_string_equal(res.hits[0].id, "a");
	inverted_result_free(&res);
	assert_int_equal(inverted_search(ix, "CAFE", 10, &res, &err), SL_OK); /* accents and case fold */
	assert_int_equal(res.n, 1);
	assert_string_equal(res.hits[0].id, "c");
	inverted_result_free(&res);
	assert_int_equal(inverted_search(ix, "dog NOT lazy", 10, &res, &err), SL_OK);
	assert_int_equal(res.n, 1);
	assert_string_equal(res.hits[0].id, "c");
	inverted_result_free(&res);
	/* An update replaces; a delete removes; both after the commit. */
	assert_int_equal(inverted_add(ix, sl_slice_str("d"), sl_slice_str("fox den"), &err), SL_OK);
	bool found;
	assert_int_equal(inverted_delete(ix, sl_slice_str("a"), &found, &err), SL_OK);
	assert_true(found);
	assert_int_equal(inverted_delete(ix, sl_slice_str("zz"), &found, &err), SL_OK);
	assert_false(found);
	assert_int_equal(inverted_commit(ix, &err), SL_OK);
	assert_int_equal(inverted_search(ix, "fox", 10, &res, &err), SL_OK);
	assert_int_equal(res.n, 2);
	assert_string_equal(res.hits[0].id, "d");
	assert_string_equal(res.hits[1].id, "b");
	inverted_result_free(&res);
	check_index(ix);
	inverted_close(ix);
	/* Reopened: the same; explained, a score can be redone from what is shown. */
	opts.explain = true;
	assert_int_equal(inverted_open(f->env, f->path, &opts, &ix, &err), SL_OK);
	assert_int_equal(inverted_search(ix, "quick OR dog NOT lazy", 10, &res, &err), SL_OK);
	assert_int_equal(res.nleaves, 3);
	assert_string_equal(res.leaves[0].text, "quick");
	assert_int_equal(res.leaves[0].df, 1); /* b only: a was deleted */
	assert_false(res.leaves[2].scores);
	assert_int_equal(res.docs, 3);
	bm25_t bm = bm25_params(res.docs, (uint64_t)(res.avgdl * res.docs + 0.5));
	for (size_t i = 0; i < res.n; i++) {
		double sum = 0;
		for (size_t l = 0; l < 2; l++)
			if (res.hits[i].tf[l] > 0)
				sum += bm25_term(&bm, res.leaves[l].idf, res.hits[i].tf[l], res.hits[i].dl);
		assert_true(fabs(sum - res.hits[i].score) < 1e-12);
	}
	assert_string_equal(res.hits[0].id, "b");
	assert_int_equal(res.hits[0].tf[0], 3);
	inverted_result_free(&res);
	assert_int_equal(inverted_search(ix, "lazy", 10, &res, &err), SL_OK);
	assert_int_equal(res.n, 0);
	inverted_result_free(&res);
	check_index(ix);
	inverted_close(ix);
}

static char *render(const inv_qnode_t *n, char *out)
{
	static const char *names[] = { "", "", "AND", "OR", "NOT" };
	if (n->kind == INV_Q_TERM || n->kind == INV_Q_PHRASE) {
		strcat(out, n->kind == INV_Q_PHRASE ? "\"" : "");
		for (unsigned i = 0; i < n->nterms; i++) {
			strncat(out, (const char *)n->terms[i].data, n->terms[i].len);
			strcat(out, i + 1 < n->nterms ? " " : "");
		}
		strcat(out, n->kind == INV_Q_PHRASE ? "\"" : "");
		return out;
	}
	strcat(out, names[n->kind]);
	strcat(out, "(");
	for (unsigned i = 0; i < n->nkids; i++) {
		render(n->kids[i], out);
		strcat(out, i + 1 < n->nkids ? "," : ")");
	}
	return out;
}

static void test_parser(void **state)
{
	(void)state;
	static const char *cases[][2] = {
		{ "a b OR c", "OR(AND(a,b),c)" },
		{ "a AND b", "AND(a,b)" },
		{ "a NOT b c", "AND(NOT(a,b),c)" },
		{ "(a OR b) c", "AND(OR(a,b),c)" },
		{ "\"New York\" OR la", "OR(\"new york\",la)" },
		{ "e-mail", "\"e mail\"" },
		{ "a -- b", "AND(a,b)" },
		{ "a NOT --", "a" },
		{ "  Déjà  ", "deja" },
		{ "a OR (b NOT (c d))", "OR(a,NOT(b,AND(c,d)))" },
		{ "and or not", "AND(and,or,not)" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		inv_query_t q;
		sl_err_t err;
		assert_int_equal(inv_query_parse(cases[i][0], NULL, &q, &err), SL_OK);
		char out[256] = "";
		assert_non_null(q.root);
		assert_string_equal(render(q.root, out), cases[i][1]);
		inv_query_free(&q);
	}
	static const char *bad[][2] = {
		{ "(a OR b", "column 8" },   { "a)", "column 2" },  { "\"a b", "column 5" },
		{ "a AND", "column 6" },     { "OR a", "column 1" }, { "a OR OR b", "column 6" }, { "()", "column 2" },
		{ "\xff", "UTF-8" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		inv_query_t q;
		sl_err_t err;
		assert_int_equal(inv_query_parse(bad[i][0], NULL, &q, &err), SL_INVALID);
		if (strstr(err.msg, bad[i][1]) == NULL)
			fail_msg("'%s': %s (wanted %s)", bad[i][0], err.msg, bad[i][1]);
	}
	inv_query_t q;
	sl_err_t err;
	assert_int_equal(inv_query_parse("-- . (?)", NULL, &q, &err), SL_OK);
	assert_null(q.root); /* nothing to search for: no hits, no error */
	inv_query_free(&q);
}

/*
 * Random adds, updates, deletes and commits (with flushes and merges), checked
 * throughout. One index grows over six rounds; the soak mode runs fifty such
 * indexes from fresh seeds rather than one fifty times larger (the oracle reads
 * every document for every query).
 */
static void random_epoch(tu_fixture_t *f, uint64_t seed);

static void test_random_vs_oracle(void **state)
{
	tu_fixture_t *f = *state;
	uint64_t epochs = tu_rounds(1);
	for (uint64_t e = 0; e < epochs; e++) {
		tu_rmrf(f->path);
		random_epoch(f, tu_seed() + e * 7919);
	}
}

static void random_epoch(tu_fixture_t *f, uint64_t seed)
{
	tu_rng_t r;
	tu_rng_init(&r, seed);
	make_vocab(&r);
	oracle_t o = { 0 };
	inverted_opts_t opts = small_opts();
	inverted_t *ix;
	sl_err_t err;
	assert_int_equal(inverted_open(f->env, f->path, &opts, &ix, &err), SL_OK);
	uint64_t rounds = 6, next_id = 0;
	for (uint64_t round = 0; round < rounds; round++) {
		uint64_t ops = 1500;
		for (uint64_t i = 0; i < ops; i++) {
			char id[24];
			uint64_t op = tu_below(&r, 100);
			if (op < 75 || o.n == 0) {
				snprintf(id, sizeof id, "doc-%06llu", (unsigned long long)next_id++);
				oracle_add(&o, ix, &r, id);
			} else if (op < 88) {
				odoc_t *d = &o.docs[tu_below(&r, o.n)];
				snprintf(id, sizeof id, "%s", d->id); /* an update (or re-add) */
				oracle_add(&o, ix, &r, id);
			} else {
				odoc_t *d = &o.docs[tu_below(&r, o.n)];
				bool found;
				assert_int_equal(inverted_delete(ix, sl_slice_str(d->id), &found, &err), SL_OK);
				odoc_t *live = oracle_find(&o, d->id);
				assert_int_equal(found, live != NULL);
				if (live)
					live->live = false;
			}
			if (tu_below(&r, 400) == 0) {
				if (inverted_commit(ix, &err) != SL_OK)
					fail_msg("commit: %s", err.msg);
				check_queries(ix, &o, &r, 5);
			}
		}
		assert_int_equal(inverted_commit(ix, &err), SL_OK);
		check_index(ix);
		check_queries(ix, &o, &r, 150);
	}
	inverted_stats_t st;
	assert_int_equal(inverted_stats(ix, &st, &err), SL_OK);
	print_message("%llu docs, %llu segments, %llu flushes, %llu merges\n",
		      (unsigned long long)st.docs, (unsigned long long)st.segments,
		      (unsigned long long)st.flushes, (unsigned long long)st.merges);
	assert_true(st.merges > 0);
	inverted_close(ix);
	/* Reopened, then merged into one segment: the same answers. */
	assert_int_equal(inverted_open(f->env, f->path, &opts, &ix, &err), SL_OK);
	check_index(ix);
	check_queries(ix, &o, &r, 100);
	assert_int_equal(inverted_optimize(ix, &err), SL_OK);
	assert_int_equal(inverted_stats(ix, &st, &err), SL_OK);
	assert_int_equal(st.segments, 1);
	assert_int_equal(st.deleted, 0);
	check_index(ix);
	check_queries(ix, &o, &r, 150);
	inverted_close(ix);
	/* Without pruning: the same answers. */
	opts.exhaustive = true;
	opts.read_only = true;
	assert_int_equal(inverted_open(f->env, f->path, &opts, &ix, &err), SL_OK);
	check_queries(ix, &o, &r, 100);
	inverted_close(ix);
	free(o.docs);
}

/* A fresh index (defaults) of n random documents, prefix0, prefix1, ..., committed. */
static inverted_t *random_index(tu_fixture_t *f, tu_rng_t *r, oracle_t *o, int n,
				const char *prefix)
{
	make_vocab(r);
	inverted_opts_t opts = inverted_defaults();
	inverted_t *ix;
	sl_err_t err;
	assert_int_equal(inverted_open(f->env, f->path, &opts, &ix, &err), SL_OK);
	for (int i = 0; i < n; i++) {
		char id[24];
		snprintf(id, sizeof id, "%s%d", prefix, i);
		oracle_add(o, ix, r, id);
	}
	assert_int_equal(inverted_commit(ix, &err), SL_OK);
	return ix;
}

/* MaxScore scores far fewer documents than an OR has matches, and answers the same. */
static void test_pruning(void **state)
{
	tu_fixture_t *f = *state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed() + 1);
	oracle_t o = { 0 };
	sl_err_t err;
	inverted_t *ix = random_index(f, &r, &o, 20000, "d");
	char q[128];
	snprintf(q, sizeof q, "%s OR %s OR %s", vocab[0], vocab[1], vocab[60]);
	check_query(ix, &o, q, 10);
	inverted_result_t res;
	assert_int_equal(inverted_search(ix, q, 10, &res, &err), SL_OK);
	print_message("'%s': %llu postings, %llu scored, %llu pruned, %llu blocks skipped\n", q,
		      (unsigned long long)res.stats.postings, (unsigned long long)res.stats.scored,
		      (unsigned long long)res.stats.pruned, (unsigned long long)res.stats.blocks_skipped);
	assert_true(res.stats.scored * 4 < res.stats.postings);
	assert_true(res.stats.blocks_skipped > 0);
	inverted_result_free(&res);
	inverted_close(ix);
	free(o.docs);
}

/* A flipped byte anywhere in any file: an error naming damage, or the same answers. */
static void test_damage_never_misleads(void **state)
{
	tu_fixture_t *f = *state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed() + 2);
	oracle_t o = { 0 };
	inverted_opts_t opts = inverted_defaults();
	sl_err_t err;
	inverted_t *ix = random_index(f, &r, &o, 600, "x");
	bool found;
	assert_int_equal(inverted_delete(ix, sl_slice_str("x5"), &found, &err), SL_OK);
	oracle_find(&o, "x5")->live = false;
	assert_int_equal(inverted_commit(ix, &err), SL_OK);
	inverted_close(ix);
	static const char *files[] = { "COMMIT", "000000.seg", "000000_2.del" };
	uint64_t damaged = 0, caught = 0;
	for (size_t fi = 0; fi < 3; fi++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", f->path, files[fi]);
		uint64_t size = tu_file_size(path);
		assert_true(size > 0);
		uint64_t step = size / 400 + 1;
		for (uint64_t off = tu_below(&r, step); off < size; off += step) {
			uint8_t mask = (uint8_t)(1u << tu_below(&r, 8));
			tu_flip_byte(path, off, mask);
			damaged++;
			int rc = inverted_open(f->env, f->path, &opts, &ix, &err);
			if (rc == SL_OK) {
				rc = inverted_check(ix, &err);
				if (rc == SL_OK) {
					char q[256];
					for (int i = 0; i < 10; i++) {
						random_query(&r, &o, q);
						check_query(ix, &o, q, 10);
					}
				}
				inverted_close(ix);
			}
			if (rc != SL_OK) {
				assert_int_equal(rc, SL_CORRUPT);
				caught++;
			}
			tu_flip_byte(path, off, mask);
		}
	}
	print_message("%llu flipped bytes: %llu reported as damage, the rest harmless\n",
		      (unsigned long long)damaged, (unsigned long long)caught);
	assert_true(caught * 10 > damaged * 9);
	free(o.docs);
}

/* Adds documents k<from>..k<to-1> (the same text for a number, every time). */
static void add_numbered(inverted_t *ix, uint32_t from, uint32_t to)
{
	sl_err_t err;
	for (uint32_t i = from; i < to; i++) {
		char id[24], text[96];
		snprintf(id, sizeof id, "k%u", i);
		snprintf(text, sizeof text, "word%u common text number %u and word%u", i % 17, i, i % 5);
		if (inverted_add(ix, sl_slice_str(id), sl_slice_str(text), &err) != SL_OK)
			fail_msg("add %s: %s", id, err.msg);
	}
}

static uint64_t live_docs(env_t *env, const char *dir)
{
	inverted_opts_t opts = inverted_defaults();
	inverted_t *ix;
	sl_err_t err;
	if (inverted_open(env, dir, &opts, &ix, &err) != SL_OK)
		fail_msg("reopen: %s", err.msg);
	check_index(ix);
	inverted_stats_t st;
	assert_int_equal(inverted_stats(ix, &st, &err), SL_OK);
	inverted_close(ix);
	return st.docs;
}

/*
 * Every write, fsync and rename of a commit (segment, bitmap, COMMIT) fails in
 * turn: the commit reports it, the handle refuses writes from then on, and the
 * index reopens at the commit before, whole.
 */
static void test_faults_at_commit(void **state)
{
	tu_fixture_t *f = *state;
	static const env_op_t ops[] = { ENV_OP_WRITE, ENV_OP_SYNC, ENV_OP_RENAME };
	uint64_t faults = 0;
	for (size_t o = 0; o < 3; o++)
		for (uint64_t nth = 1;; nth++) {
			tu_rmrf(f->path);
			inverted_opts_t opts = inverted_defaults();
			inverted_t *ix;
			sl_err_t err;
			assert_int_equal(inverted_open(f->env, f->path, &opts, &ix, &err), SL_OK);
			add_numbered(ix, 0, 200);
			assert_int_equal(inverted_commit(ix, &err), SL_OK);
			add_numbered(ix, 200, 300);
			bool found;
			assert_int_equal(inverted_delete(ix, sl_slice_str("k7"), &found, &err), SL_OK);
			uint64_t before = env_faults_injected(f->env);
			env_fault_set(f->env, ops[o], nth, o == 0 ? ENV_FAULT_ENOSPC : ENV_FAULT_EIO, false);
			int rc = inverted_commit(ix, &err);
			env_fault_clear(f->env);
			bool hit = env_faults_injected(f->env) > before;
			if (hit) {
				faults++;
				assert_int_not_equal(rc, SL_OK);
				assert_int_equal(inverted_add(ix, sl_slice_str("z"), sl_slice_str("z"), &err),
						 SL_READONLY);
			} else {
				assert_int_equal(rc, SL_OK);
			}
			inverted_close(ix);
			uint64_t docs = live_docs(f->env, f->path);
			/* A failed rename may still have replaced COMMIT (the call did not run). */
			assert_true(docs == 200 || docs == 299);
			if (!hit) {
				assert_int_equal(docs, 299);
				break;
			}
		}
	print_message("%llu injected faults during commits, each reported, none lost a commit\n",
		      (unsigned long long)faults);
	assert_true(faults >= 6);
}

/* The power cut of the child below: fired from a thread at a random moment. */
typedef struct cutter {
	env_t *env;
	uint64_t seed;
	uint32_t delay_us;
	env_loss_mode_t mode;
	int fd;
} cutter_t;

static void *cutter_main(void *p)
{
	cutter_t *c = p;
	struct timespec ts = { 0, (long)c->delay_us * 1000L };
	nanosleep(&ts, NULL);
	env_loss_report_t rep;
	if (env_power_loss(c->env, c->seed, c->mode, &rep) != SL_OK)
		_exit(6);
	uint32_t marker = UINT32_MAX;
	if (write(c->fd, &marker, sizeof marker) != sizeof marker)
		_exit(7);
	_exit(0); /* the power is off: nothing more reaches the files */
}

/*
 * The child of the crash tests: indexes documents 50 at a time, committing and
 * acknowledging each commit through the pipe, until it is killed (SIGKILL from
 * the parent) or its power is cut (by a thread, at a random moment, in one of
 * env_loss's modes) — during an add, a flush, a commit or a merge.
 */
static void crash_child(const char *dir, int fd, bool power, uint64_t round)
{
	env_t *env = env_new();
	if (env == NULL || (power && env_loss_track(env, true) != SL_OK))
		_exit(2);
	inverted_opts_t opts = small_opts();
	inverted_t *ix;
	sl_err_t err;
	if (inverted_open(env, dir, &opts, &ix, &err) != SL_OK)
		_exit(3);
	cutter_t c = { env, round * 7919 + tu_seed(),
		       (uint32_t)(2000 + (round * 104729 + tu_seed()) % 60000),
		       (env_loss_mode_t)(round % 4), fd };
	pthread_t t;
	if (power && pthread_create(&t, NULL, cutter_main, &c) != 0)
		_exit(8);
	for (uint32_t done = 0;; done += 50) {
		add_numbered(ix, done, done + 50);
		if (inverted_commit(ix, &err) != SL_OK)
			pause(); /* the power is off; wait for the cutter to end us */
		uint32_t acked = done + 50;
		if (write(fd, &acked, sizeof acked) != sizeof acked)
			_exit(5);
	}
}

/* Rounds of crash_child, each checked: a whole commit, no older than the last acknowledged. */
static void crash_rounds(const char *dir, env_t *env, uint64_t rounds, bool power)
{
	for (uint64_t round = 0; round < rounds; round++) {
		tu_rmrf(dir);
		int fds[2];
		assert_int_equal(pipe(fds), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			crash_child(dir, fds[1], power, round);
		}
		close(fds[1]);
		if (!power) {
			tu_sleep_ms(20 + (unsigned)((tu_seed() * 7919 + round * 104729) % 300));
			kill(pid, SIGKILL);
		}
		int status;
		waitpid(pid, &status, 0);
		uint32_t acked = 0, v;
		while (read(fds[0], &v, sizeof v) == sizeof v && v != UINT32_MAX)
			acked = v;
		close(fds[0]);
		uint64_t docs = live_docs(env, dir);
		if (docs < acked || docs % 50 != 0)
			fail_msg("round %llu (%s): %llu documents after the crash, %u acknowledged",
				 (unsigned long long)round, power ? "power cut" : "SIGKILL",
				 (unsigned long long)docs, acked);
	}
}

/* Killed while indexing, flushing and merging: the last commit is whole, nothing later leaks in. */
static void test_sigkill_during_indexing(void **state)
{
	tu_fixture_t *f = *state;
	crash_rounds(f->path, f->env, tu_rounds(6), false);
}

/*
 * Power cuts at random moments while indexing, committing and merging, in
 * every loss mode (unsynced writes dropped, kept in part, torn, zeroed): the
 * index reopens at a whole commit no older than the last acknowledged one.
 */
static void test_power_loss(void **state)
{
	tu_fixture_t *f = *state;
	crash_rounds(f->path, f->env, tu_rounds(8), true);
}

/* The ids of the hits of query, space-separated, best first. */
static void hit_ids(inverted_t *ix, const char *query, char *out, size_t size)
{
	inverted_result_t res;
	sl_err_t err;
	if (inverted_search(ix, query, 10, &res, &err) != SL_OK)
		fail_msg("search '%s': %s", query, err.msg);
	out[0] = '\0';
	for (size_t i = 0; i < res.n; i++) {
		strncat(out, i ? " " : "", size - strlen(out) - 1);
		strncat(out, res.hits[i].id, size - strlen(out) - 1);
	}
	inverted_result_free(&res);
}

/*
 * Stop words and stemming: chosen when the index is made, kept in COMMIT, used
 * for every later query; stop words leave their gaps in phrases.
 */
static void test_analyzers(void **state)
{
	tu_fixture_t *f = *state;
	bool stem = analyzer_can_stem();
	inverted_opts_t opts = inverted_defaults();
	opts.analyzer = stem ? "unicode61 stop stem=english" : "unicode61 stop";
	inverted_t *ix;
	sl_err_t err;
	assert_int_equal(inverted_open(f->env, f->path, &opts, &ix, &err), SL_OK);
	static const char *docs[][2] = {
		{ "a", "Running out of memory" },
		{ "b", "The runner runs fast" },
		{ "c", "Memory of the world" },
	};
	for (int i = 0; i < 3; i++)
		assert_int_equal(inverted_add(ix, sl_slice_str(docs[i][0]), sl_slice_str(docs[i][1]), &err),
				 SL_OK);
	assert_int_equal(inverted_commit(ix, &err), SL_OK);
	check_index(ix);
	inverted_close(ix);
	/* Reopened without naming an analyzer: the index's own is used. */
	opts.analyzer = NULL;
	assert_int_equal(inverted_open(f->env, f->path, &opts, &ix, &err), SL_OK);
	char out[256];
	hit_ids(ix, "the", out, sizeof out);
	assert_string_equal(out, ""); /* only a stop word: nothing to search for */
	hit_ids(ix, "\"out of memory\"", out, sizeof out);
	assert_string_equal(out, "a");
	hit_ids(ix, "\"out memory\"", out, sizeof out);
	assert_string_equal(out, ""); /* "out" and "memory" are two apart in a */
	hit_ids(ix, "memory world", out, sizeof out);
	assert_string_equal(out, "c");
	hit_ids(ix, "run", out, sizeof out);
	assert_string_equal(out, stem ? "a b" : ""); /* running, runs: equal scores, the earlier first */
	inverted_stats_t st;
	assert_int_equal(inverted_stats(ix, &st, &err), SL_OK);
	assert_int_equal(st.tokens, 3 + 3 + 2); /* stop words are not counted in lengths */
	inverted_close(ix);
	/* Another analyzer than the index's is refused, naming both. */
	opts.analyzer = "unicode61";
	assert_int_equal(inverted_open(f->env, f->path, &opts, &ix, &err), SL_INVALID);
	assert_non_null(strstr(err.msg, "built with analyzer"));
	opts.analyzer = "nonsense";
	assert_int_equal(inverted_open(f->env, f->path, &opts, &ix, &err), SL_INVALID);
}

static void test_bad_input(void **state)
{
	tu_fixture_t *f = *state;
	inverted_t *ix;
	sl_err_t err;
	inverted_opts_t opts = inverted_defaults();
	assert_int_equal(inverted_open(f->env, f->path, &opts, &ix, &err), SL_OK);
	assert_int_equal(inverted_add(ix, sl_slice_str(""), sl_slice_str("text"), &err), SL_INVALID);
	char longid[INVERTED_MAX_ID + 2];
	memset(longid, 'i', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	assert_int_equal(inverted_add(ix, sl_slice_str(longid), sl_slice_str("x"), &err), SL_INVALID);
	assert_int_equal(inverted_add(ix, sl_slice_str("u"), sl_slice("ok \xc3\x28", 5), &err),
			 SL_INVALID);
	assert_non_null(strstr(err.msg, "byte 3"));
	/* Over-long tokens are cut, not refused. */
	char big[2000];
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(inverted_add(ix, sl_slice_str("big"), sl_slice_str(big), &err), SL_OK);
	assert_int_equal(inverted_commit(ix, &err), SL_OK);
	inverted_result_t res;
	assert_int_equal(inverted_search(ix, big, 10, &res, &err), SL_OK);
	assert_int_equal(res.n, 1);
	inverted_result_free(&res);
	assert_int_equal(inverted_search(ix, "(a", 10, &res, &err), SL_INVALID);
	check_index(ix);
	/* A second writer is refused while the first holds the lock. */
	inverted_t *two;
	assert_int_equal(inverted_open(f->env, f->path, &opts, &two, &err), SL_BUSY);
	inverted_close(ix);
	/* Read-only: searches, refuses writes. */
	opts.read_only = true;
	assert_int_equal(inverted_open(f->env, f->path, &opts, &ix, &err), SL_OK);
	assert_int_equal(inverted_add(ix, sl_slice_str("n"), sl_slice_str("x"), &err), SL_READONLY);
	inverted_close(ix);
	/* A directory that is not an index. */
	opts = inverted_defaults();
	assert_int_equal(inverted_open(f->env, f->dir, &opts, &ix, &err), SL_INVALID);
	assert_non_null(strstr(err.msg, "not an index"));
}

int main(void)
{
	tu_seed();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_by_hand, tu_setup, tu_teardown),
		cmocka_unit_test(test_parser),
		cmocka_unit_test_setup_teardown(test_random_vs_oracle, tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_pruning, tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_during_indexing, tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_damage_never_misleads, tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_faults_at_commit, tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_power_loss, tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_analyzers, tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, tu_setup, tu_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
