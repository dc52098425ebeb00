/* cmdline_test.c — shell tokens, escapes and reply escaping (bench/cmdline). */
#include "tests/testutil.h"

#include <string.h>

#include "bench/cmdline.h"

static void parse_ok(cmdline_t *cl, const char *line)
{
	if (cmdline_parse(cl, line, strlen(line)) != 0)
		fail_msg("parse '%s': %s", line, cl->error);
}

static void test_plain_and_quoted_tokens(void **state)
{
	(void)state;
	cmdline_t cl = { 0 };
	parse_ok(&cl, "  put  key\tvalue  ");
	assert_int_equal(cl.ntok, 3);
	assert_true(sl_slice_eq(cl.tok[0], sl_slice_str("put")));
	assert_true(sl_slice_eq(cl.tok[2], sl_slice_str("value")));
	parse_ok(&cl, "put \"hello world\" \"\"");
	assert_int_equal(cl.ntok, 3);
	assert_true(sl_slice_eq(cl.tok[1], sl_slice_str("hello world")));
	assert_int_equal(cl.tok[2].len, 0);
	parse_ok(&cl, "");
	assert_int_equal(cl.ntok, 0);
	cmdline_free(&cl);
}

static void test_escapes(void **state)
{
	(void)state;
	cmdline_t cl = { 0 };
	parse_ok(&cl, "k\\x00\\xFF\\\\ \"q\\\"\\n\\t\\r\\0\"");
	assert_int_equal(cl.ntok, 2);
	assert_true(sl_slice_eq(cl.tok[0], sl_slice("k\x00\xff\\", 4)));
	assert_true(sl_slice_eq(cl.tok[1], sl_slice("q\"\n\t\r\0", 6)));
	cmdline_free(&cl);
}

static void test_errors(void **state)
{
	(void)state;
	cmdline_t cl = { 0 };
	const char *bad[] = { "put \"open", "get \\q", "get \\x4", "get \\xZZ", "get \"a\"b",
			      "a b c d e f g h i j k l m n o p q" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(cmdline_parse(&cl, bad[i], strlen(bad[i])), -1);
		assert_true(cl.error[0] != '\0');
	}
	assert_non_null(strstr(cl.error, "too many"));
	cmdline_free(&cl);
}

/* Any bytes, escaped as a token, parse back to themselves. */
static void test_escape_roundtrip(void **state)
{
	(void)state;
	tu_rng_t r;
	tu_rng_init(&r, tu_seed());
	cmdline_t cl = { 0 };
	buf_t text = BUF_INIT;
	for (int round = 0; round < 2000; round++) {
		uint8_t bytes[40];
		size_t n = 1 + (size_t)tu_below(&r, sizeof bytes);
		tu_fill(&r, bytes, n);
		buf_clear(&text);
		cmdline_escape(&text, sl_slice(bytes, n), 1);
		for (size_t i = 0; i < text.len; i++)
			assert_true(text.data[i] > 0x20 && text.data[i] < 0x7f && text.data[i] != '=');
		assert_int_equal(cmdline_parse(&cl, (const char *)text.data, text.len), 0);
		assert_int_equal(cl.ntok, 1);
		assert_true(sl_slice_eq(cl.tok[0], sl_slice(bytes, n)));
	}
	/* The empty token, found by fuzz_cmdline: it must come back as one token. */
	buf_clear(&text);
	cmdline_escape(&text, sl_slice("", 0), 1);
	assert_int_equal(cmdline_parse(&cl, (const char *)text.data, text.len), 0);
	assert_int_equal(cl.ntok, 1);
	assert_int_equal(cl.tok[0].len, 0);
	buf_free(&text);
	cmdline_free(&cl);
}

static void test_value_never_reads_as_status(void **state)
{
	(void)state;
	buf_t out = BUF_INIT;
	const char *cases[][2] = {
		{ "OK", "\\x4fK" }, { "NOTFOUND", "\\x4eOTFOUND" }, { "ERR x", "\\x45RR x" },
		{ "OKAY", "OKAY" }, { "a b", "a b" }, { "tab\there", "tab\\x09here" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		buf_clear(&out);
		cmdline_escape_value(&out, sl_slice_str(cases[i][0]));
		assert_true(sl_slice_eq(buf_slice(&out), sl_slice_str(cases[i][1])));
	}
	buf_free(&out);
}

int main(void)
{
	tu_seed();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_quoted_tokens),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_escape_roundtrip),
		cmocka_unit_test(test_value_never_reads_as_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
