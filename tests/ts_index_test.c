/*
 * ts_index_test.c — the label index (kv/ts_index): stable ids, and every
 * selection equal to a brute-force filter over all series (kv/ts_select's
 * matcher on each name), on random series and random selectors.
 */
#include "tests/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/ts_index.h"
#include "kv/ts_parse.h"
#include "kv/ts_select.h"

static void test_ids_and_selections(void **state)
{
	(void)state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	ts_index_t *ix = ts_index_new();
	assert_non_null(ix);
	static const char *names[] = { "host", "mode", "dc", "job" };
	static const char *vals[] = { "a", "b", "c", "ab", "" };
	buf_t s = BUF_INIT;
	char why[TS_WHY_BYTES];
	sl_err_t err;
	uint32_t series = tu_ops(3000);
	for (uint32_t i = 0; i < series; i++) {
		char text[256];
		int len = snprintf(text, sizeof text, "m%u{", (unsigned)tu_below(&r, 4));
		for (int l = 0; l < 4; l++)
			len += snprintf(text + len, sizeof text - (size_t)len, "%s=\"%s\",", names[l],
					vals[tu_below(&r, 5)]);
		snprintf(text + len, sizeof text - (size_t)len, "}");
		assert_true(ts_series_parse(sl_slice_str(text), &s, why));
		uint32_t id, again;
		assert_int_equal(ts_index_add(ix, buf_slice(&s), &id, &err), SL_OK);
		assert_true(ts_index_find(ix, buf_slice(&s), &again) && again == id);
		assert_int_equal(ts_index_add(ix, buf_slice(&s), &again, &err), SL_OK);
		assert_int_equal(again, id); /* the same series, the same id */
		sl_slice_t back = ts_index_series(ix, id);
		assert_true(back.len == s.len && memcmp(back.data, s.data, s.len) == 0);
	}
	print_message("%u series, %u distinct\n", series, ts_index_count(ix));
	static const char *ops[] = { "=", "!=", "=~", "!~" };
	static const char *res[] = { "a", "a.*", "a|b", ".*", "" };
	uint64_t tested = 0, candidates = 0;
	for (int q = 0; q < 300; q++) {
		char st[256];
		int sl = snprintf(st, sizeof st, "%s{", tu_below(&r, 3) ? (const char *[]){ "m0", "m1", "m2", "m3" }[tu_below(&r, 4)] : "");
		int nm = (st[0] == '{') + (int)tu_below(&r, 3);
		for (int k = 0; k < nm; k++) {
			int op = (int)tu_below(&r, 4);
			sl += snprintf(st + sl, sizeof st - (size_t)sl, "%s%s%s\"%s\"", k ? "," : "",
				       names[tu_below(&r, 4)], ops[op],
				       op < 2 ? vals[tu_below(&r, 5)] : res[tu_below(&r, 5)]);
		}
		snprintf(st + sl, sizeof st - (size_t)sl, "}");
		ts_selector_t sel;
		char swhy[TS_SELECT_WHY_BYTES];
		if (!ts_select_parse(st, &sel, swhy))
			fail_msg("'%s': %s", st, swhy);
		uint32_t *ids;
		size_t n;
		ts_index_stats_t stats;
		assert_int_equal(ts_index_select(ix, &sel, &ids, &n, &stats, &err), SL_OK);
		/* The oracle: every series, tested by name. */
		size_t k = 0;
		for (uint32_t id = 0; id < ts_index_count(ix); id++) {
			if (!ts_select_match(&sel, ts_index_series(ix, id)))
				continue;
			if (k >= n || ids[k] != id)
				fail_msg("'%s': series %u missing or out of order", st, id);
			k++;
		}
		assert_int_equal(k, n);
		tested += stats.tested;
		candidates += ts_index_count(ix);
		free(ids);
		ts_select_free(&sel);
	}
	print_message("300 selections: %llu series tested by name of %llu (the lists did the rest)\n",
		      (unsigned long long)tested, (unsigned long long)candidates);
	assert_true(tested < candidates);
	buf_free(&s);
	ts_index_free(ix);
}

int main(void)
{
	tu_seed();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_and_selections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
