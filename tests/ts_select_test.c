/*
 * ts_select_test.c — series selectors (kv/ts_select): parsing and its errors,
 * label lookup in canonical series, and matching checked against a brute-force
 * evaluator on random series and random selectors.
 */
#include "tests/testutil.h"

#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "kv/ts_parse.h"
#include "kv/ts_select.h"

static void canon(const char *text, buf_t *out)
{
	char why[TS_WHY_BYTES];
	if (!ts_series_parse(sl_slice_str(text), out, why))
		fail_msg("'%s': %s", text, why);
}

static void test_parse_and_match(void **state)
{
	(void)state;
	buf_t s = BUF_INIT;
	ts_selector_t sel;
	char why[TS_SELECT_WHY_BYTES];
	struct { const char *sel, *series; bool match; } cases[] = {
		{ "cpu", "cpu{host=\"a\"}", true },
		{ "cpu", "cpux", false },
		{ "cpu{host=\"a\"}", "cpu{host=\"a\",mode=\"user\"}", true },
		{ "cpu{host!=\"a\"}", "cpu{host=\"b\"}", true },
		{ "cpu{host!=\"a\"}", "cpu", true },              /* absent is "" */
		{ "{host=\"\"}", "cpu", true },
		{ "{host!=\"\"}", "cpu", false },
		{ "{mode=~\"us.*\"}", "cpu{mode=\"user\"}", true },
		{ "{mode=~\"us\"}", "cpu{mode=\"user\"}", false },  /* anchored */
		{ "{mode!~\"idle|iowait\"}", "cpu{mode=\"idle\"}", false },
		{ "{mode!~\"idle|iowait\"}", "cpu{mode=\"nice\"}", true },
		{ " cpu { host = \"a\\\"b\" , } ", "cpu{host=\"a\\\"b\"}", true },
		{ "{__name__=~\"c.u\"}", "cpu", true },
		{ "{v=\"x\\ny\"}", "m{v=\"x\\ny\"}", true },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (!ts_select_parse(cases[i].sel, &sel, why))
			fail_msg("'%s': %s", cases[i].sel, why);
		canon(cases[i].series, &s);
		if (ts_select_match(&sel, buf_slice(&s)) != cases[i].match)
			fail_msg("'%s' on %s: wanted %d", cases[i].sel, cases[i].series, cases[i].match);
		ts_select_free(&sel);
	}
	static const char *bad[][2] = {
		{ "", "needs a metric name" }, { "{}", "needs a metric name" },
		{ "cpu{host}", "column 9" },   { "cpu{host=a}", "double quotes" },
		{ "cpu{host=\"a\"", "column 13" }, { "{x=~\"(\"}", "regular expression" },
		{ "9cpu", "digit" },          { "cpu} ", "after the selector" },
		{ "cpu{h=\"a\" m=\"b\"}", "',' or '}'" }, { "{x=\"\\q\"}", "escape" },
		{ "{x=~\"((a{99}){99}){99}\"}", "1,000" }, { "{x=~\"(((a+)+)+)+++++++++++\"}", "repetition of a repetition" },
		{ "{x=~\"((((((((((a)*)*)*)*)*)*)*)*)*)*\"}", "1,000" },
		{ "{x=~\"a{5000}\"}", "above 1,000" }, { "{x=~\"(a*)*\\\\1\"}", "back-references" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_false(ts_select_parse(bad[i][0], &sel, why));
		if (strstr(why, bad[i][1]) == NULL)
			fail_msg("'%s': %s (wanted %s)", bad[i][0], why, bad[i][1]);
	}
	buf_free(&s);
}

/* Random series over a few labels, random selectors; a brute-force evaluator as the oracle. */
static void test_random_vs_oracle(void **state)
{
	(void)state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	static const char *names[] = { "host", "mode", "dc" };
	static const char *vals[] = { "a", "b", "ab", "ba", "" };
	static const char *ops[] = { "=", "!=", "=~", "!~" };
	static const char *res[] = { "a", "b.*", "a|b", ".*", "(ab)?" };
	buf_t s = BUF_INIT;
	uint64_t checked = 0;
	for (int round = 0; round < 2000; round++) {
		/* A series: metric m0..m2, each label present or not. */
		int metric = (int)tu_below(&r, 3);
		const char *have[3];
		char text[256];
		int len = snprintf(text, sizeof text, "m%d{", metric);
		for (int l = 0; l < 3; l++) {
			have[l] = vals[tu_below(&r, 5)];
			len += snprintf(text + len, sizeof text - (size_t)len, "%s=\"%s\",", names[l], have[l]);
		}
		snprintf(text + len, sizeof text - (size_t)len, "}");
		canon(text, &s);
		/* A selector of 1..3 matchers. */
		char st[256];
		int sl = snprintf(st, sizeof st, "%s{", tu_below(&r, 2) ? "" : (const char *[]){ "m0", "m1", "m2" }[tu_below(&r, 3)]);
		bool want = st[0] != '{' ? st[1] - '0' == metric : true;
		int nm = 1 + (int)tu_below(&r, 3);
		for (int k = 0; k < nm; k++) {
			int l = (int)tu_below(&r, 3), op = (int)tu_below(&r, 4);
			const char *v = op < 2 ? vals[tu_below(&r, 5)] : res[tu_below(&r, 5)];
			sl += snprintf(st + sl, sizeof st - (size_t)sl, "%s%s%s\"%s\"", k ? "," : "", names[l],
				       ops[op], v);
			bool m;
			if (op < 2) {
				m = strcmp(have[l], v) == 0;
			} else {
				char anchored[32];
				regex_t re;
				snprintf(anchored, sizeof anchored, "^(%s)$", v);
				assert_int_equal(regcomp(&re, anchored, REG_EXTENDED | REG_NOSUB), 0);
				m = regexec(&re, have[l], 0, NULL, 0) == 0;
				regfree(&re);
			}
			want = want && (op % 2 == 0 ? m : !m);
		}
		snprintf(st + sl, sizeof st - (size_t)sl, "}");
		ts_selector_t sel;
		char why[TS_SELECT_WHY_BYTES];
		if (!ts_select_parse(st, &sel, why))
			fail_msg("'%s': %s", st, why);
		if (ts_select_match(&sel, buf_slice(&s)) != want)
			fail_msg("'%s' on %s: wanted %d", st, text, want);
		ts_select_free(&sel);
		checked++;
	}
	print_message("%llu random (series, selector) pairs agree with the oracle\n",
		      (unsigned long long)checked);
	buf_free(&s);
}

int main(void)
{
	tu_seed();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_match),
		cmocka_unit_test(test_random_vs_oracle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
