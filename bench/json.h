/*
 * json.h — reading back the JSON the bench suites write.
 *
 * `storelab guide` puts several runs together (the kv, fts and ts suites, a
 * memory-capped run) to write docs/when-to-use.md; it reads their --format json
 * files with this: a whole document parsed into a tree of values. It accepts
 * RFC 8259 JSON (strings with every escape, \u included, numbers, literals,
 * nesting up to JSON_MAX_DEPTH) and says where the first error is.
 */
#ifndef SL_JSON_H
#define SL_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_MAX_DEPTH 64

typedef enum json_kind { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_kind_t;

typedef struct json {
	json_kind_t kind;
	bool boolean;
	double number;
	char *string;          /* JSON_STRING: unescaped UTF-8, NUL-terminated */
	struct json *items;    /* JSON_ARRAY, JSON_OBJECT: n values, in document order */
	char **keys;           /* JSON_OBJECT: their n keys */
	size_t n;
} json_t;

/* Parses text[0..len): 0, or -1 with what and where (byte offset) in why. */
int json_parse(const char *text, size_t len, json_t *out, char *why, size_t why_size);
void json_free(json_t *v);

/* The member key of an object (the first, if repeated); NULL when v is no object or lacks it. */
const json_t *json_get(const json_t *v, const char *key);
/* A number's value, or dflt when v is NULL or not a number. */
double json_number(const json_t *v, double dflt);
/* A string's text, or dflt when v is NULL or not a string. */
const char *json_string(const json_t *v, const char *dflt);

#endif
