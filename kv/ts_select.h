/*
 * ts_select.h — series selectors: which series a time-series query reads.
 *
 * A selector is written as in Prometheus:
 *
 *   cpu_seconds{host="a", mode!="idle", dc=~"eu-.*", job!~"test|dev"}
 *
 * the metric name (optional when there is at least one matcher) and matchers
 * on labels: = equal, != not equal, =~ matches the regular expression whole,
 * !~ does not match it. The expressions are POSIX extended regular expressions
 * (regcomp's REG_EXTENDED), anchored at both ends as in Prometheus, without
 * back-references and with bounded repetition (see ts_sel_regex_ok): a query
 * must not be able to make the store spend minutes or gigabytes. A label a
 * series lacks has the empty value: {host=""} selects series without a host,
 * and {host!=""} those with one. (A regular expression sees a value up to its
 * first NUL byte, should a label value hold one.)
 *
 * ts_select_match tests a series in canonical form (kv/ts_parse.h); the store's
 * label index uses the equality matchers to pick candidate series first.
 */
#ifndef SL_TS_SELECT_H
#define SL_TS_SELECT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/buf.h"
#include "engine/slice.h"

typedef enum ts_match_op { TS_EQ, TS_NE, TS_RE, TS_NRE } ts_match_op_t;

typedef struct ts_matcher {
	char *name;            /* label name ("__name__" for the metric name) */
	char *value;           /* the value or the expression, unescaped */
	ts_match_op_t op;
	regex_t re;            /* TS_RE, TS_NRE: compiled, anchored */
} ts_matcher_t;

typedef struct ts_selector {
	ts_matcher_t *m;
	size_t n;
} ts_selector_t;

#define TS_SELECT_WHY_BYTES 160

/* Parses text; false with the reason (and its column) in why. */
bool ts_select_parse(const char *text, ts_selector_t *sel, char *why);
void ts_select_free(ts_selector_t *sel);

/* Whether the series (canonical form) is selected. */
bool ts_select_match(const ts_selector_t *sel, sl_slice_t series);

/* The value of label name in a canonical series, unescaped into out: false when absent. */
bool ts_series_label(sl_slice_t series, const char *name, buf_t *out);

#endif
