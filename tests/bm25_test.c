/*
 * bm25_test.c — BM25 (index/bm25): worked numbers, the idf floor, and FTS5's own
 * bm25() as the oracle on a random corpus (when the SQLite peer is built).
 */
#include "tests/testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/bm25.h"
#include "index/tokenizer.h"
#ifdef SL_PEER_SQLITE
#include <sqlite3.h>
#endif

/* N 10, n 2, tf 3, a document of average length: by hand. */
static void test_worked_example(void **state)
{
	(void)state;
	bm25_t p = bm25_params(10, 1000); /* avgdl 100 */
	double idf = bm25_idf(&p, 2);
	assert_float_equal(idf, log(8.5 / 2.5), 1e-12);            /* 1.2238 */
	/* At average length the norm is k1: 3 * 2.2 / (3 + 1.2). */
	assert_float_equal(bm25_term(&p, idf, 3, 100), idf * 6.6 / 4.2, 1e-12);
	/* Longer documents score less for the same tf, shorter more. */
	assert_true(bm25_term(&p, idf, 3, 400) < bm25_term(&p, idf, 3, 100));
	assert_true(bm25_term(&p, idf, 3, 25) > bm25_term(&p, idf, 3, 100));
	/* tf saturates: the bound as tf grows is idf * (k1 + 1). */
	assert_true(bm25_term(&p, idf, 1000000, 100) < idf * 2.2);
}

/* FTS5's idf is floored (a term in most documents adds almost nothing); Lucene's is positive. */
static void test_idf_floor_and_lucene(void **state)
{
	(void)state;
	bm25_t p = bm25_params(10, 100);
	assert_float_equal(bm25_idf(&p, 5), 1e-6, 0); /* log(5.5 / 5.5) = 0: floored */
	assert_float_equal(bm25_idf(&p, 10), 1e-6, 0);
	p.idf = BM25_IDF_LUCENE;
	assert_float_equal(bm25_idf(&p, 10), log(1 + 0.5 / 10.5), 1e-12);
	assert_true(bm25_idf(&p, 5) > 0.6 && bm25_idf(&p, 1) > bm25_idf(&p, 5));
}

#ifdef SL_PEER_SQLITE
#define CORPUS_DOCS 300
#define VOCAB 60

/* A word of a small vocabulary with skewed frequencies: w0 in nearly every document. */
static int pick_word(tu_rng_t *r)
{
	uint64_t x = tu_below(r, 1000);
	return (int)(x * x / 1000 * VOCAB / 1000); /* quadratic skew toward low ranks */
}

/* One document's text: 5 to 80 words. */
static void make_doc(tu_rng_t *r, char *text, size_t size)
{
	size_t n = 0, words = 5 + tu_below(r, 76);
	for (size_t i = 0; i < words && n + 16 < size; i++)
		n += (size_t)snprintf(text + n, size - n, "%sW%d", i ? " " : "", pick_word(r));
}
#endif

/* Random AND queries over a random corpus: our scores equal FTS5's bm25() for every match. */
static void test_same_scores_as_fts5(void **state)
{
	(void)state;
#ifndef SL_PEER_SQLITE
	tu_skip_no_peer("sqlite", "libsqlite3-dev", "FTS5 is not there to compare with");
#else
	sqlite3 *db;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE VIRTUAL TABLE f USING fts5(x)", NULL, NULL, NULL),
			 SQLITE_OK);
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	static uint32_t tf[CORPUS_DOCS][VOCAB], dl[CORPUS_DOCS];
	uint32_t df[VOCAB] = { 0 };
	uint64_t tokens = 0;
	sqlite3_stmt *ins;
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO f(rowid, x) VALUES (?, ?)", -1, &ins,
					    NULL), SQLITE_OK);
	for (int d = 0; d < CORPUS_DOCS; d++) {
		char text[2048];
		make_doc(&r, text, sizeof text);
		tokenizer_t t = { 0 };
		sl_err_t err = { 0 };
		assert_int_equal(tokenizer_init(&t, sl_slice_str(text), &err), SL_OK);
		while (tokenizer_next(&t)) { /* our tokenizer gives the statistics */
			int w = 0; /* the token is "w<number>", t.token.len bytes, no NUL after them */
			for (size_t k = 1; k < t.token.len; k++)
				w = w * 10 + (t.token.data[k] - '0');
			df[w] += tf[d][w]++ == 0;
			dl[d]++;
		}
		tokenizer_free(&t);
		tokens += dl[d];
		sqlite3_bind_int(ins, 1, d);
		sqlite3_bind_text(ins, 2, text, -1, SQLITE_TRANSIENT);
		assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
		sqlite3_reset(ins);
	}
	sqlite3_finalize(ins);
	bm25_t p = bm25_params(CORPUS_DOCS, tokens);
	uint64_t compared = 0;
	for (int q = 0; q < 200; q++) {
		int terms[3], nt = 1 + (int)tu_below(&r, 3);
		char query[64] = "", sql[160];
		for (int i = 0; i < nt; i++) {
			terms[i] = pick_word(&r);
			snprintf(query + strlen(query), sizeof query - strlen(query), "%sw%d", i ? " " : "",
				 terms[i]);
		}
		snprintf(sql, sizeof sql, "SELECT rowid, -bm25(f) FROM f WHERE f MATCH '%s'", query);
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			int d = sqlite3_column_int(st, 0);
			double want = sqlite3_column_double(st, 1), ours = 0;
			for (int i = 0; i < nt; i++)
				ours += bm25_term(&p, bm25_idf(&p, df[terms[i]]), tf[d][terms[i]], dl[d]);
			if (fabs(ours - want) > 1e-9 * (1 + fabs(want)))
				fail_msg("query '%s', doc %d: ours %.12g, FTS5 %.12g", query, d, ours, want);
			compared++;
		}
		sqlite3_finalize(st);
	}
	print_message("%llu (query, document) scores equal FTS5's bm25()\n",
		      (unsigned long long)compared);
	assert_true(compared > 1000);
	sqlite3_close(db);
#endif
}

int main(void)
{
	tu_seed();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worked_example),
		cmocka_unit_test(test_idf_floor_and_lucene),
		cmocka_unit_test(test_same_scores_as_fts5),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
