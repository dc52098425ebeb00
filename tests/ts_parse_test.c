/*
 * ts_parse_test.c — time-series input (kv/ts_parse): series in canonical form,
 * timestamps in every unit and RFC 3339, values, CSV lines, and every kind of
 * malformed input refused with a reason.
 */
#include "tests/testutil.h"

#include <math.h>
#include <string.h>

#include "kv/ts_parse.h"

static void test_series(void **state)
{
	(void)state;
	static const char *ok[][2] = {
		{ "up", "up" },
		{ "up{}", "up" },
		{ "cpu_seconds{mode=\"user\",host=\"a\"}", "cpu_seconds{host=\"a\",mode=\"user\"}" },
		{ " cpu { host = \"a\" , } ", "cpu{host=\"a\"}" },
		{ "node:cpu.rate{x=\"\"}", "node:cpu.rate" }, /* an empty value is no label */
		{ "m{v=\"a \\\"q\\\" \\\\ \\n\"}", "m{v=\"a \\\"q\\\" \\\\ \\n\"}" },
		{ "m{v=\"caf\xc3\xa9, {x}\"}", "m{v=\"caf\xc3\xa9, {x}\"}" },
	};
	buf_t out = BUF_INIT, again = BUF_INIT;
	char why[TS_WHY_BYTES];
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		if (!ts_series_parse(sl_slice_str(ok[i][0]), &out, why))
			fail_msg("'%s': %s", ok[i][0], why);
		assert_int_equal(out.len, strlen(ok[i][1]));
		assert_memory_equal(out.data, ok[i][1], out.len);
		/* The canonical form parses to itself. */
		assert_true(ts_series_parse(buf_slice(&out), &again, why));
		assert_int_equal(again.len, out.len);
		assert_memory_equal(again.data, out.data, out.len);
	}
	static const char *bad[][2] = {
		{ "", "metric name" },          { "9lives", "metric name" },
		{ "m{a=b}", "double quotes" },  { "m{a=\"b\"", "'}'" },
		{ "m{a=\"b}", "closing quote" }, { "m{a=\"1\",a=\"2\"}", "twice" },
		{ "m{1a=\"x\"}", "label name" }, { "m{a\"x\"}", "'='" },
		{ "m{a=\"\\t\"}", "escape" },    { "m x", "after the series" },
		{ "m{a=\"\xff\"}", "UTF-8" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_false(ts_series_parse(sl_slice_str(bad[i][0]), &out, why));
		if (strstr(why, bad[i][1]) == NULL)
			fail_msg("'%s': %s (wanted %s)", bad[i][0], why, bad[i][1]);
	}
	buf_free(&out);
	buf_free(&again);
}

static void test_times(void **state)
{
	(void)state;
	struct { const char *text; ts_unit_t given, store; int64_t want; ts_unit_t seen; } ok[] = {
		{ "1700000000", TS_UNIT_AUTO, TS_UNIT_MS, 1700000000000, TS_UNIT_S },
		{ "1700000000123", TS_UNIT_AUTO, TS_UNIT_MS, 1700000000123, TS_UNIT_MS },
		{ "1700000000123456", TS_UNIT_AUTO, TS_UNIT_US, 1700000000123456, TS_UNIT_US },
		{ "1700000000123456789", TS_UNIT_AUTO, TS_UNIT_NS, 1700000000123456789, TS_UNIT_NS },
		{ "1700000000123000000", TS_UNIT_AUTO, TS_UNIT_MS, 1700000000123, TS_UNIT_NS },
		{ "42", TS_UNIT_S, TS_UNIT_NS, 42000000000, TS_UNIT_S },
		{ "-5", TS_UNIT_MS, TS_UNIT_MS, -5, TS_UNIT_MS },
		{ "2023-11-14T22:13:20Z", TS_UNIT_AUTO, TS_UNIT_MS, 1700000000000, TS_UNIT_NS },
		{ "2023-11-14t22:13:20.5z", TS_UNIT_AUTO, TS_UNIT_MS, 1700000000500, TS_UNIT_NS },
		{ "2023-11-14 23:13:20.123456789+01:00", TS_UNIT_AUTO, TS_UNIT_NS, 1700000000123456789,
		  TS_UNIT_NS },
		{ "1970-01-01T00:00:00Z", TS_UNIT_AUTO, TS_UNIT_S, 0, TS_UNIT_NS },
		{ "1969-12-31T23:59:59Z", TS_UNIT_AUTO, TS_UNIT_S, -1, TS_UNIT_NS },
		{ "2024-02-29T00:00:00Z", TS_UNIT_AUTO, TS_UNIT_S, 1709164800, TS_UNIT_NS },
	};
	char why[TS_WHY_BYTES];
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		int64_t ts;
		ts_unit_t seen;
		if (!ts_time_parse(sl_slice_str(ok[i].text), ok[i].given, ok[i].store, &ts, &seen, why))
			fail_msg("'%s': %s", ok[i].text, why);
		assert_true(ts == ok[i].want);
		assert_int_equal(seen, ok[i].seen);
	}
	struct { const char *text; ts_unit_t given, store; const char *why; } bad[] = {
		{ "17000000001", TS_UNIT_AUTO, TS_UNIT_MS, "11 digits" },
		{ "1700000000123", TS_UNIT_AUTO, TS_UNIT_S, "finer than" },
		{ "9223372036854775807", TS_UNIT_S, TS_UNIT_MS, "fit 64 bits" },
		{ "99999999999999999999", TS_UNIT_NS, TS_UNIT_NS, "fit 64 bits" },
		{ "2023-13-01T00:00:00Z", TS_UNIT_AUTO, TS_UNIT_MS, "out of range" },
		{ "2023-02-29T00:00:00Z", TS_UNIT_AUTO, TS_UNIT_MS, "out of range" },
		{ "2023-11-14T22:13:20", TS_UNIT_AUTO, TS_UNIT_MS, "Z or an offset" },
		{ "2023-11-14T22:13:20.Z", TS_UNIT_AUTO, TS_UNIT_MS, "fractional" },
		{ "2023-11-14T22:13:20.1234567891Z", TS_UNIT_AUTO, TS_UNIT_NS, "9 digits" },
		{ "2500-01-01T00:00:00Z", TS_UNIT_AUTO, TS_UNIT_MS, "1678 to 2262" },
		{ "yesterday", TS_UNIT_AUTO, TS_UNIT_MS, "RFC 3339" },
		{ "", TS_UNIT_AUTO, TS_UNIT_MS, "no timestamp" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t ts;
		assert_false(ts_time_parse(sl_slice_str(bad[i].text), bad[i].given, bad[i].store, &ts,
					   NULL, why));
		if (strstr(why, bad[i].why) == NULL)
			fail_msg("'%s': %s (wanted %s)", bad[i].text, why, bad[i].why);
	}
	ts_unit_t u;
	assert_true(ts_unit_parse("us", &u) && u == TS_UNIT_US);
	assert_false(ts_unit_parse("minutes", &u));
}

static void test_csv_lines(void **state)
{
	(void)state;
	buf_t series = BUF_INIT;
	ts_csv_point_t p;
	char why[TS_WHY_BYTES];
	assert_true(ts_csv_line(sl_slice_str("1700000000123,cpu{mode=\"user\",host=\"a\"},0.25\r"),
				TS_UNIT_AUTO, TS_UNIT_MS, &p, &series, why));
	assert_true(p.ts == 1700000000123 && p.value == 0.25 && p.seen == TS_UNIT_MS);
	assert_int_equal(series.len, strlen("cpu{host=\"a\",mode=\"user\"}"));
	assert_true(ts_csv_line(sl_slice_str("1700000000,\"m{a=\"\"x,y\"\"}\",NaN"), TS_UNIT_AUTO,
				TS_UNIT_MS, &p, &series, why));
	assert_true(isnan(p.value));
	assert_memory_equal(series.data, "m{a=\"x,y\"}", series.len);
	assert_true(ts_csv_line(sl_slice_str("1700000000,up,-Inf"), TS_UNIT_AUTO, TS_UNIT_MS, &p,
				&series, why));
	assert_true(isinf(p.value) && p.value < 0);
	static const char *bad[][2] = {
		{ "1700000000,up", "not timestamp,series,value" },
		{ "x,up,1", "timestamp:" },
		{ "1700000000,up,one", "value:" },
		{ "1700000000,up,0x10", "value:" },
		{ "1700000000,9up,1", "series:" },
		{ "1700000000,,1", "series:" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_false(ts_csv_line(sl_slice_str(bad[i][0]), TS_UNIT_AUTO, TS_UNIT_MS, &p, &series,
					 why));
		if (strstr(why, bad[i][1]) == NULL)
			fail_msg("'%s': %s (wanted %s)", bad[i][0], why, bad[i][1]);
	}
	buf_free(&series);
}

static void test_line_protocol(void **state)
{
	(void)state;
	buf_t series[TS_LP_MAX_FIELDS] = { BUF_INIT };
	double v[TS_LP_MAX_FIELDS];
	size_t n;
	int64_t ts;
	char why[TS_WHY_BYTES];
	if (!ts_lp_line(sl_slice_str("cpu,host=a,mode=user usage_idle=97.5,count=12i,up=t "
				     "1700000000123000000"),
			TS_UNIT_AUTO, TS_UNIT_MS, &ts, series, v, &n, why))
		fail_msg("%s", why);
	assert_int_equal(n, 3);
	assert_true(ts == 1700000000123);
	static const char *want[] = { "cpu_usage_idle{host=\"a\",mode=\"user\"}",
				      "cpu_count{host=\"a\",mode=\"user\"}",
				      "cpu_up{host=\"a\",mode=\"user\"}" };
	static const double vals[] = { 97.5, 12, 1 };
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(series[i].len, strlen(want[i]));
		assert_memory_equal(series[i].data, want[i], series[i].len);
		assert_true(v[i] == vals[i]);
	}
	/* Escapes, and names made of what a metric name can hold. */
	if (!ts_lp_line(sl_slice_str("disk\\ io,dev=sd\\,a\\ 1,mount-point=/ read-bytes=5u 1700000000"),
			TS_UNIT_S, TS_UNIT_MS, &ts, series, v, &n, why))
		fail_msg("%s", why);
	assert_int_equal(n, 1);
	assert_true(ts == 1700000000000);
	const char *w = "disk_io_read_bytes{dev=\"sd,a 1\",mount_point=\"/\"}";
	assert_int_equal(series[0].len, strlen(w));
	assert_memory_equal(series[0].data, w, series[0].len);
	static const char *bad[][2] = {
		{ "cpu usage=1", "no timestamp" },
		{ "cpu", "not measurement" },
		{ "cpu msg=\"hi\" 1700000000000000000", "string field" },
		{ "cpu,host usage=1 1700000000000000000", "tag without" },
		{ "cpu usage 1700000000000000000", "field without" },
		{ "cpu usage=lots 1700000000000000000", "field usage" },
		{ "cpu usage=1 soon", "timestamp" },
		{ "9cpu usage=1 1700000000000000000", "series" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_false(ts_lp_line(sl_slice_str(bad[i][0]), TS_UNIT_AUTO, TS_UNIT_MS, &ts, series, v,
					&n, why));
		assert_int_equal(n, 0);
		if (strstr(why, bad[i][1]) == NULL)
			fail_msg("'%s': %s (wanted %s)", bad[i][0], why, bad[i][1]);
	}
	for (size_t i = 0; i < TS_LP_MAX_FIELDS; i++)
		buf_free(&series[i]);
}

int main(void)
{
	tu_seed();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_series),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_csv_lines),
		cmocka_unit_test(test_line_protocol),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
