/*
 * report_test.c — the JSON and CSV writers, read back (bench/report).
 *
 * A small JSON parser lives here, so the test does not trust the writer to
 * judge its own output: it must parse, and carry every field of the contract.
 */
#include "tests/testutil.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/report.h"

/* ---------------------------------------------------------------- a tiny JSON DOM */

typedef struct jnode {
	char type;               /* o(bject) a(rray) s(tring) n(umber) l(iteral) */
	char key[64];            /* member name inside an object */
	double num;
	char str[256];
	struct jnode *kids[64];
	int nkids;
} jnode_t;

static const char *jp;

static void jspace(void)
{
	while (isspace((unsigned char)*jp))
		jp++;
}

static int jstring(char *out, size_t size)
{
	if (*jp != '"')
		return -1;
	size_t n = 0;
	for (jp++; *jp && *jp != '"'; jp++) {
		char c = *jp;
		if (c == '\\') {
			jp++;
			if (*jp == 'u') {
				jp += 4;
				c = '?';
			} else {
				c = *jp;
			}
		}
		if (n + 1 < size)
			out[n++] = c;
	}
	out[n] = '\0';
	if (*jp != '"')
		return -1;
	jp++;
	return 0;
}

static jnode_t *jvalue(void);

static jnode_t *jcontainer(char open, char close, char type)
{
	jnode_t *n = calloc(1, sizeof *n);
	n->type = type;
	jp++;
	jspace();
	if (*jp == close) {
		jp++;
		return n;
	}
	for (;;) {
		char key[64] = "";
		jspace();
		if (open == '{') {
			if (jstring(key, sizeof key) != 0)
				return NULL;
			jspace();
			if (*jp++ != ':')
				return NULL;
		}
		jnode_t *kid = jvalue();
		if (kid == NULL || n->nkids == 64)
			return NULL;
		snprintf(kid->key, sizeof kid->key, "%s", key);
		n->kids[n->nkids++] = kid;
		jspace();
		if (*jp == ',') {
			jp++;
			continue;
		}
		if (*jp++ != close)
			return NULL;
		return n;
	}
}

static jnode_t *jvalue(void)
{
	jspace();
	if (*jp == '{')
		return jcontainer('{', '}', 'o');
	if (*jp == '[')
		return jcontainer('[', ']', 'a');
	jnode_t *n = calloc(1, sizeof *n);
	if (*jp == '"') {
		n->type = 's';
		return jstring(n->str, sizeof n->str) == 0 ? n : NULL;
	}
	char *end;
	n->num = strtod(jp, &end);
	if (end == jp)
		return NULL;
	n->type = 'n';
	jp = end;
	return n;
}

static jnode_t *jget(const jnode_t *o, const char *key)
{
	for (int i = 0; o && i < o->nkids; i++)
		if (strcmp(o->kids[i]->key, key) == 0)
			return o->kids[i];
	return NULL;
}

static void jfree(jnode_t *n)
{
	for (int i = 0; n && i < n->nkids; i++)
		jfree(n->kids[i]);
	free(n);
}

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

static void test_json_parses_with_contract_fields(void **state)
{
	(void)state;
	bench_cfg_t cfg;
	bench_result_t r[3];
	sample(&cfg, r);
	char *text = capture(report_json, &cfg, r, 3);
	jp = text;
	jnode_t *root = jvalue();
	jspace();
	assert_non_null(root);
	assert_int_equal(*jp, '\0');
	jnode_t *results = jget(root, "results");
	assert_non_null(results);
	assert_int_equal(results->nkids, 3);
	const char *fields[] = { "store", "workload", "ops", "seconds", "ops_per_sec", "lat_us",
				 "write_amp", "read_amp", "space_amp", "disk_bytes", "peak_rss_bytes" };
	for (int i = 0; i < 3; i++)
		for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
			if (jget(results->kids[i], fields[f]) == NULL)
				fail_msg("result %d lacks %s", i, fields[f]);
	jnode_t *first = results->kids[0];
	jnode_t *lat = jget(first, "lat_us");
	const char *qs[] = { "p50", "p90", "p99", "p999", "max" };
	for (int q = 0; q < 5; q++)
		assert_true(fabs(jget(lat, qs[q])->num - (q + 1) * 1.5) < 1e-9);
	assert_true(jget(first, "ops_per_sec")->num == 2000);
	assert_true(jget(first, "disk_bytes")->num == 123456789012.0);
	assert_string_equal(jget(results->kids[1], "store")->str, "with \"quote\"");
	assert_true(jget(jget(results->kids[1], "figures"), "btree.height")->num == 3);
	assert_string_equal(jget(results->kids[2], "status")->str, "failed");
	assert_string_equal(jget(results->kids[2], "error")->str, "it \"broke\", badly");
	assert_true(jget(results->kids[2], "ops_per_sec")->num == 0); /* NaN never reaches JSON */
	assert_non_null(jget(jget(jget(first, "ops_by_kind"), "read"), "lat_us"));
	assert_string_equal(jget(jget(root, "config"), "sync")->str, "none");
	jfree(root);
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
		cmocka_unit_test(test_json_parses_with_contract_fields),
		cmocka_unit_test(test_csv_reads_back),
		cmocka_unit_test(test_svg_table_markdown_summary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
