/*
 * report_test.c — the JSON and CSV writers, read back (bench/report), and the
 * JSON reader (bench/json) the guide reads runs with.
 *
 * The writer's output is read by bench/json, which the first test checks on
 * hand-written documents: it must parse, and carry every field of the contract.
 */
#include "tests/testutil.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/json.h"
#include "bench/report.h"

/* ---------------------------------------------------------------- fixtures */

static void sample(bench_cfg_t *cfg, bench_result_t r[3])
{
	bench_cfg_defaults(cfg);
	memset(r, 0, 3 * sizeof *r);
	const char *stores[] = { "ref", "with \"quote\"", "peer" };
	for (int i = 0; i < 3; i++) {
		snprintf(r[i].store, sizeof r[i].store, "%s", stores[i]);
		snprintf(r[i].workload, sizeof r[i].workload, "readrandom");
		r[i].ops = 1000;
		r[i].seconds = 0.5 + i;
		r[i].ops_per_sec = 2000.0 / (i + 1);
		r[i].ops_per_sec_min = r[i].ops_per_sec * 0.9;
		r[i].ops_per_sec_max = r[i].ops_per_sec * 1.1;
		for (int q = 0; q < 5; q++)
			r[i].lat_us[q] = (q + 1) * 1.5;
		r[i].write_amp = 1.25;
		r[i].space_amp = 2.5;
		r[i].disk_bytes = 123456789012ull;
		r[i].peak_rss_bytes = 1 << 20;
		r[i].kind_ops[OP_READ] = 1000;
		r[i].repeats = 3;
	}
	r[1].nfigures = 1;
	snprintf(r[1].figure_names[0], 48, "btree.height");
	r[1].figures[0] = 3;
	r[2].status = SL_IO;
	snprintf(r[2].error, sizeof r[2].error, "it \"broke\", badly");
	r[2].ops_per_sec = NAN;
}

static char *capture(void (*fn)(FILE *, const bench_cfg_t *, const bench_result_t *, size_t),
		     const bench_cfg_t *cfg, const bench_result_t *r, size_t n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	fn(f, cfg, r, n);
	fclose(f);
	return text;
}

/* The reader on documents whose values are known: escapes, numbers, nesting, errors. */
static void test_json_reader(void **state)
{
	(void)state;
	const char *doc = " {\"a\": [1, -2.5e3, true, false, null, {}], \"s\": \"q\\\"\\\\\\/\\n\\u00e9\\ud83d\\ude00\","
			  " \"o\": {\"x\": {\"y\": []}}, \"a\": 7} ";
	json_t v;
	char why[128];
	assert_int_equal(json_parse(doc, strlen(doc), &v, why, sizeof why), 0);
	const json_t *a = json_get(&v, "a");
	assert_int_equal(a->kind, JSON_ARRAY); /* the first of a repeated key */
	assert_int_equal(a->n, 6);
	assert_true(json_number(&a->items[1], 0) == -2500);
	assert_true(a->items[2].boolean && !a->items[3].boolean && a->items[4].kind == JSON_NULL);
	assert_int_equal(a->items[5].kind, JSON_OBJECT);
	assert_string_equal(json_string(json_get(&v, "s"), ""), "q\"\\/\n\xc3\xa9\xf0\x9f\x98\x80");
	assert_int_equal(json_get(json_get(json_get(&v, "o"), "x"), "y")->n, 0);
	assert_null(json_get(&v, "missing"));
	assert_null(json_get(a, "a")); /* an array has no members */
	assert_true(json_number(json_get(&v, "s"), 42) == 42);
	json_free(&v);
	static const char *const bad[] = { "", "{", "[1,]", "{\"a\" 1}", "{1: 2}", "\"open",
					   "[1] 2", "tru", "\"\\x\"", "\"\\ud800\"", "01x", "\"a\tb\"" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why[0] = 0;
		assert_int_equal(json_parse(bad[i], strlen(bad[i]), &v, why, sizeof why), -1);
		assert_non_null(strstr(why, "at byte"));
	}
	char deep[200];
	memset(deep, '[', sizeof deep);
	assert_int_equal(json_parse(deep, sizeof deep, &v, why, sizeof why), -1);
	assert_non_null(strstr(why, "too deep"));
}

static void test_json_parses_with_contract_fields(void **state)
{
	(void)state;
	bench_cfg_t cfg;
	bench_result_t r[3];
	sample(&cfg, r);
	char *text = capture(report_json, &cfg, r, 3);
	json_t root;
	char why[128];
	if (json_parse(text, strlen(text), &root, why, sizeof why) != 0)
		fail_msg("the JSON does not parse: %s", why);
	const json_t *results = json_get(&root, "results");
	assert_non_null(results);
	assert_int_equal(results->n, 3);
	const char *fields[] = { "store", "workload", "ops", "seconds", "ops_per_sec", "lat_us",
				 "write_amp", "read_amp", "space_amp", "disk_bytes", "peak_rss_bytes" };
	for (size_t i = 0; i < 3; i++)
		for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
			if (json_get(&results->items[i], fields[f]) == NULL)
				fail_msg("result %zu lacks %s", i, fields[f]);
	const json_t *first = &results->items[0];
	const json_t *lat = json_get(first, "lat_us");
	const char *qs[] = { "p50", "p90", "p99", "p999", "max" };
	for (int q = 0; q < 5; q++)
		assert_true(fabs(json_number(json_get(lat, qs[q]), -1) - (q + 1) * 1.5) < 1e-9);
	assert_true(json_number(json_get(first, "ops_per_sec"), -1) == 2000);
	assert_true(json_number(json_get(first, "disk_bytes"), -1) == 123456789012.0);
	assert_string_equal(json_string(json_get(&results->items[1], "store"), ""), "with \"quote\"");
	assert_true(json_number(json_get(json_get(&results->items[1], "figures"), "btree.height"), -1) == 3);
	assert_string_equal(json_string(json_get(&results->items[2], "status"), ""), "failed");
	assert_string_equal(json_string(json_get(&results->items[2], "error"), ""), "it \"broke\", badly");
	assert_true(json_number(json_get(&results->items[2], "ops_per_sec"), -1) == 0); /* NaN never reaches JSON */
	assert_non_null(json_get(json_get(json_get(first, "ops_by_kind"), "read"), "lat_us"));
	assert_string_equal(json_string(json_get(json_get(&root, "config"), "sync"), ""), "none");
	json_free(&root);
	free(text);
}

static void test_csv_reads_back(void **state)
{
	(void)state;
	bench_cfg_t cfg;
	bench_result_t r[3];
	sample(&cfg, r);
	char *text = capture(report_csv, &cfg, r, 3);
	int lines = 0, header_fields = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), lines++) {
		/* Count fields, honouring quotes. */
		int fields = 1;
		bool quoted = false;
		for (char *c = line; *c; c++) {
			if (*c == '"')
				quoted = !quoted;
			else if (*c == ',' && !quoted)
				fields++;
		}
		if (lines == 0) {
			header_fields = fields;
			assert_non_null(strstr(line, "ops_per_sec"));
		} else {
			assert_int_equal(fields, header_fields);
		}
	}
	assert_int_equal(lines, 4);
	free(text);
}

static void test_svg_table_markdown_summary(void **state)
{
	(void)state;
	bench_cfg_t cfg;
	bench_result_t r[3];
	sample(&cfg, r);
	char *svg = capture(report_svg, &cfg, r, 3);
	assert_true(strncmp(svg, "<svg", 4) == 0);
	assert_non_null(strstr(svg, "</svg>"));
	assert_non_null(strstr(svg, "Throughput"));
	assert_null(strstr(svg, "nan"));
	assert_true(tu_xml_elements(svg) > 20);
	/* every store named in the legend, in full and escaped; a failed run says n/a and why */
	assert_non_null(strstr(svg, "font-size='12'>ref</text>"));
	assert_non_null(strstr(svg, "font-size='12'>with &quot;quote&quot;</text>"));
	assert_non_null(strstr(svg, "n/a<title>peer readrandom: it &quot;broke&quot;, badly</title>"));
	char *table = capture(report_table, &cfg, r, 3);
	assert_non_null(strstr(table, "FAILED: it \"broke\""));
	char *md = capture(report_markdown, &cfg, r, 3);
	assert_non_null(strstr(md, "| ref | readrandom |"));
	char *summary = NULL;
	size_t len;
	FILE *f = open_memstream(&summary, &len);
	report_summary(f, r, 3);
	fclose(f);
	assert_non_null(strstr(summary, "Random point reads"));
	assert_non_null(strstr(summary, "ref (2.0k ops/s), 2.00x the next best"));
	/* a lead inside the repeats' spread is a tie */
	r[1].ops_per_sec = 1900;
	r[1].ops_per_sec_max = 2100;
	free(summary);
	f = open_memstream(&summary, &len);
	report_summary(f, r, 3);
	fclose(f);
	assert_non_null(strstr(summary, "and with \"quote\" tie: 1.05x, inside the runs' spread"));
	char si[16];
	assert_string_equal(report_si(si, sizeof si, 1234567), "1.23M");
	free(svg);
	free(table);
	free(md);
	free(summary);
}

int main(void)
{
	tu_seed();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_reader),
		cmocka_unit_test(test_json_parses_with_contract_fields),
		cmocka_unit_test(test_csv_reads_back),
		cmocka_unit_test(test_svg_table_markdown_summary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
