/*
 * tokenizer_test.c — the unicode61-compatible tokenizer (index/tokenizer):
 * worked examples, UTF-8 validation, and FTS5's own tokenizer as the oracle on
 * random text from many scripts (when the SQLite peer is built).
 */
#include "tests/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/tokenizer.h"
#ifdef SL_PEER_SQLITE
#include <sqlite3.h>
#endif

/* The tokens of text joined by '|' into out. */
static void tokens_of(const char *text, size_t len, buf_t *out)
{
	tokenizer_t t = { 0 };
	sl_err_t err = { 0 };
	buf_clear(out);
	assert_int_equal(tokenizer_init(&t, sl_slice(text, len), &err), SL_OK);
	while (tokenizer_next(&t)) {
		if (out->len > 0)
			buf_append(out, "|", 1);
		buf_append(out, t.token.data, t.token.len);
	}
	buf_append(out, "", 1); /* a C string */
	tokenizer_free(&t);
}

static void expect(const char *text, const char *want)
{
	buf_t got = BUF_INIT;
	tokens_of(text, strlen(text), &got);
	if (strcmp((const char *)got.data, want) != 0)
		fail_msg("'%s': got '%s', want '%s'", text, (const char *)got.data, want);
	buf_free(&got);
}

/* What unicode61 does, worked through by hand. */
static void test_worked_examples(void **state)
{
	(void)state;
	expect("", "");
	expect("  ,;  ", "");
	expect("Hello, World!", "hello|world");
	expect("v1.2 SQLITE_ERROR don't", "v1|2|sqlite|error|don|t");
	expect("D\xc3\xa9j\xc3\xa0 vu R\xc3\xa9sum\xc3\xa9", "deja|vu|resume");       /* Déjà vu Résumé */
	expect("R\xc3\x89SUM\xc3\x89", "resume");                                       /* RÉSUMÉ */
	expect("Stra\xc3\x9f" "e", "stra\xc3\x9f" "e");                                 /* ß stays */
	expect("e\xcc\x81t\xc3\xa9", "ete");                        /* e + U+0301, then é */
	expect("\xcc\x81" "abc", "abc");                            /* a diacritic starts nothing */
	expect("\xe2\x85\xa2 Grey", "\xe2\x85\xb2|grey");           /* Ⅲ (Nl) folds to ⅲ */
	expect("\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", /* Привет */
	       "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
	expect("\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c", /* 你好世界: one token */
	       "\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c");
	expect("a\xf0\x9f\x98\x80" "b", "a|b");                    /* an emoji separates */
	expect("\xc4\xb0stanbul", "istanbul");                      /* İ lowercases to i */
}

/* Positions count tokens; start and stop are the token's bytes in the text. */
static void test_positions_and_offsets(void **state)
{
	(void)state;
	const char *text = "  ab, C\xc3\xa9 d";
	tokenizer_t t = { 0 };
	sl_err_t err = { 0 };
	assert_int_equal(tokenizer_init(&t, sl_slice_str(text), &err), SL_OK);
	size_t want[][3] = { { 0, 2, 4 }, { 1, 6, 9 }, { 2, 10, 11 } };
	for (int i = 0; i < 3; i++) {
		assert_true(tokenizer_next(&t));
		assert_int_equal(t.position, want[i][0]);
		assert_int_equal(t.start, want[i][1]);
		assert_int_equal(t.stop, want[i][2]);
	}
	assert_false(tokenizer_next(&t));
	tokenizer_free(&t);
}

/* Not UTF-8: refused with the offset and the reason, never split. */
static void test_invalid_utf8(void **state)
{
	(void)state;
	static const struct { const char *bytes; size_t len, at; const char *why; } bad[] = {
		{ "ab\xff", 3, 2, "starts no" },
		{ "ab\xc3", 3, 2, "cut short" },
		{ "\xe2\x82", 2, 0, "cut short" },
		{ "x\xc0\xaf", 3, 1, "overlong" },             /* '/' in two bytes */
		{ "\xed\xa0\x80", 3, 0, "surrogate" },
		{ "\xf4\x90\x80\x80", 4, 0, "past U+10FFFF" },
		{ "ok\xe2\x28\xa1", 5, 2, "cut short" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tokenizer_t t = { 0 };
		sl_err_t err = { 0 };
		assert_int_equal(tokenizer_init(&t, sl_slice(bad[i].bytes, bad[i].len), &err),
				 SL_INVALID);
		char at[32];
		snprintf(at, sizeof at, "byte %zu", bad[i].at);
		if (!strstr(err.msg, at) || !strstr(err.msg, bad[i].why))
			fail_msg("case %zu: %s", i, err.msg);
		assert_false(tokenizer_next(&t));
		tokenizer_free(&t);
	}
}

/* Random text: code points drawn from blocks where the rules differ. */
static size_t random_text(tu_rng_t *r, char *out, size_t max)
{
	static const uint32_t blocks[][2] = {
		{ 0x20, 0x7E },     { 0xA0, 0x24F },    { 0x300, 0x36F },  { 0x370, 0x3FF },
		{ 0x400, 0x52F },   { 0x1E00, 0x1EFF }, { 0x2000, 0x218F }, { 0x3040, 0x30FF },
		{ 0x4E00, 0x4E80 }, { 0xAC00, 0xAC80 }, { 0xE000, 0xE010 }, { 0xFF00, 0xFFEF },
		{ 0x10400, 0x1044F }, { 0x1F300, 0x1F6FF }, { 0x8A0, 0x8FF }, { 0x1E900, 0x1E95F },
	};
	size_t n = 0;
	while (n + 8 < max) {
		uint32_t c;
		if (tu_below(r, 3) == 0) {
			c = ' ';
		} else {
			size_t b = tu_below(r, sizeof blocks / sizeof blocks[0]);
			c = blocks[b][0] + (uint32_t)tu_below(r, blocks[b][1] - blocks[b][0] + 1);
		}
		if (c >= 0xD800 && c <= 0xDFFF)
			continue;
		if (c < 0x80) {
			out[n++] = (char)c;
		} else if (c < 0x800) {
			out[n++] = (char)(0xC0 | c >> 6), out[n++] = (char)(0x80 | (c & 0x3F));
		} else if (c < 0x10000) {
			out[n++] = (char)(0xE0 | c >> 12), out[n++] = (char)(0x80 | (c >> 6 & 0x3F));
			out[n++] = (char)(0x80 | (c & 0x3F));
		} else {
			out[n++] = (char)(0xF0 | c >> 18), out[n++] = (char)(0x80 | (c >> 12 & 0x3F));
			out[n++] = (char)(0x80 | (c >> 6 & 0x3F)), out[n++] = (char)(0x80 | (c & 0x3F));
		}
		if (tu_below(r, 40) == 0)
			break;
	}
	return n;
}

/*
 * Tokenizing is stable: each token of random text, tokenized again, is exactly
 * one token equal to itself (folding twice changes nothing, and no token holds
 * a separator) — what lets a query term meet the terms of the documents.
 */
static void test_tokens_are_stable(void **state)
{
	(void)state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed() + 1);
	char text[600];
	buf_t again = BUF_INIT;
	uint64_t tokens = 0;
	for (uint64_t i = 0; i < tu_ops(2000); i++) {
		size_t len = random_text(&r, text, sizeof text);
		tokenizer_t t = { 0 };
		sl_err_t err = { 0 };
		assert_int_equal(tokenizer_init(&t, sl_slice(text, len), &err), SL_OK);
		while (tokenizer_next(&t)) {
			tokens_of((const char *)t.token.data, t.token.len, &again);
			if (again.len - 1 != t.token.len || memcmp(again.data, t.token.data, t.token.len))
				fail_msg("token '%.*s' tokenizes to '%s'", (int)t.token.len,
					 (const char *)t.token.data, (const char *)again.data);
			tokens++;
		}
		tokenizer_free(&t);
	}
	print_message("%llu tokens, each stable\n", (unsigned long long)tokens);
	buf_free(&again);
}

#ifdef SL_PEER_SQLITE
/* FTS5's tokens of text, in order, joined by '|' (its fts5vocab 'instance' table). */
static void fts5_tokens_of(sqlite3 *db, const char *text, size_t len, buf_t *out)
{
	sqlite3_stmt *st;
	buf_clear(out);
	assert_int_equal(sqlite3_exec(db, "DELETE FROM f", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO f(rowid, x) VALUES (1, ?)", -1, &st,
					    NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, text, (int)len, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT term FROM v ORDER BY offset", -1, &st,
					    NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (out->len > 0)
			buf_append(out, "|", 1);
		buf_append(out, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
	}
	sqlite3_finalize(st);
	buf_append(out, "", 1);
}
#endif

/* Random text from many scripts splits and folds exactly as FTS5's unicode61 does. */
static void test_same_tokens_as_fts5(void **state)
{
	(void)state;
#ifndef SL_PEER_SQLITE
	tu_skip_no_peer("sqlite", "libsqlite3-dev", "FTS5 is not there to compare with");
#else
	sqlite3 *db;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE VIRTUAL TABLE f USING fts5(x); "
				      "CREATE VIRTUAL TABLE v USING fts5vocab(f, 'instance')",
				      NULL, NULL, NULL), SQLITE_OK);
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	buf_t ours = BUF_INIT, theirs = BUF_INIT;
	char text[600];
	uint64_t rounds = tu_ops(3000), tokens = 0;
	for (uint64_t i = 0; i < rounds; i++) {
		size_t len = random_text(&r, text, sizeof text);
		tokens_of(text, len, &ours);
		fts5_tokens_of(db, text, len, &theirs);
		if (strcmp((const char *)ours.data, (const char *)theirs.data) != 0)
			fail_msg("'%.*s':\n ours  '%s'\n fts5  '%s'", (int)len, text,
				 (const char *)ours.data, (const char *)theirs.data);
		for (size_t k = 0; k + 1 < ours.len; k++)
			tokens += ours.data[k] == '|';
	}
	print_message("%llu random texts, about %llu tokens: the same as FTS5's\n",
		      (unsigned long long)rounds, (unsigned long long)(tokens + rounds));
	buf_free(&ours);
	buf_free(&theirs);
	sqlite3_close(db);
#endif
}

int main(void)
{
	tu_seed();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worked_examples),
		cmocka_unit_test(test_positions_and_offsets),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_tokens_are_stable),
		cmocka_unit_test(test_same_tokens_as_fts5),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
