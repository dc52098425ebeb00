/*
 * analyzer_test.c — the analyzer (index/analyzer): specs, the stop list, the
 * gaps dropped stop words leave, and Snowball stemming (skipped by name when
 * the kit was built without libstemmer).
 */
#include "tests/testutil.h"

#include <stdio.h>
#include <string.h>

#include "index/analyzer.h"

/* The terms of text under spec, space-separated, each with @position. */
static void terms_of(const char *spec, const char *text, char *out, size_t size)
{
	analyzer_t a;
	sl_err_t err;
	assert_int_equal(analyzer_open(&a, spec, &err), SL_OK);
	assert_int_equal(analyzer_start(&a, sl_slice_str(text), &err), SL_OK);
	out[0] = '\0';
	while (analyzer_next(&a)) {
		char one[64];
		snprintf(one, sizeof one, "%s%.*s@%u", out[0] ? " " : "", (int)a.term_len,
			 (const char *)a.term, a.position);
		strncat(out, one, size - strlen(out) - 1);
	}
	analyzer_close(&a);
}

static void test_specs(void **state)
{
	(void)state;
	analyzer_t a;
	sl_err_t err;
	assert_int_equal(analyzer_open(&a, NULL, &err), SL_OK);
	assert_string_equal(a.spec, "unicode61");
	analyzer_close(&a);
	assert_int_equal(analyzer_open(&a, "unicode61   stop", &err), SL_OK);
	assert_string_equal(a.spec, "unicode61 stop"); /* canonical spelling */
	analyzer_close(&a);
	static const char *bad[] = { "", "porter", "unicode61 stop stop", "unicode61 stem=",
				     "unicode61 stem=english stop", "unicode61 quick",
				     "unicode61 stop stem=a-language-name-far-too-long" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(analyzer_open(&a, bad[i], &err), SL_INVALID);
		assert_non_null(strstr(err.msg, "analyzer"));
		analyzer_close(&a);
	}
}

static void test_stop_words_keep_positions(void **state)
{
	(void)state;
	char out[512];
	terms_of("unicode61", "Out of THE memory", out, sizeof out);
	assert_string_equal(out, "out@0 of@1 the@2 memory@3");
	terms_of("unicode61 stop", "Out of THE memory", out, sizeof out);
	assert_string_equal(out, "out@0 memory@3"); /* the gap stays: phrases need it */
	assert_true(analyzer_is_stop((const uint8_t *)"the", 3));
	assert_true(analyzer_is_stop((const uint8_t *)"with", 4));
	assert_false(analyzer_is_stop((const uint8_t *)"thee", 4));
	assert_false(analyzer_is_stop((const uint8_t *)"", 0));
}

static void test_stemming(void **state)
{
	(void)state;
	analyzer_t a;
	sl_err_t err;
	if (!analyzer_can_stem()) {
		assert_int_equal(analyzer_open(&a, "unicode61 stem=english", &err), SL_NOTSUP);
		assert_non_null(strstr(err.msg, "libstemmer-dev"));
		analyzer_close(&a);
		tu_skip_no_peer("libstemmer", "libstemmer-dev", "stemming is optional");
	}
	char out[512];
	terms_of("unicode61 stem=english", "Running runs RUNNER connected connections", out,
		 sizeof out);
	assert_string_equal(out, "run@0 run@1 runner@2 connect@3 connect@4");
	terms_of("unicode61 stop stem=english", "the Cafés of Paris", out, sizeof out);
	assert_string_equal(out, "cafe@1 pari@3"); /* folded, then stemmed */
	assert_int_equal(analyzer_open(&a, "unicode61 stem=klingon", &err), SL_INVALID);
	assert_non_null(strstr(err.msg, "klingon"));
	analyzer_close(&a);
}

int main(void)
{
	tu_seed();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_specs),
		cmocka_unit_test(test_stop_words_keep_positions),
		cmocka_unit_test(test_stemming),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
