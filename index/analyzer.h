/*
 * analyzer.h — the tokenizer plus what a search index may do to its tokens
 * before it keeps them: drop stop words, stem.
 *
 * "The", "of" and "and" are in most English documents; under BM25 they weigh
 * almost nothing, yet their postings lists are the longest of an index and a
 * phrase like "out of memory" must read them. A stop list drops them from
 * documents and queries alike; their positions still count, so the phrase
 * "out of memory" still needs "out" and "memory" two positions apart.
 *
 * "Runs", "running" and "run" are one word to a reader. A stemmer (Martin
 * Porter's Snowball stemmers, through Debian's libstemmer when it was there at
 * build time) cuts each to a common stem, so a query for one finds the others.
 *
 * An analyzer is named by a spec, which an index records in its COMMIT so that
 * queries are always analyzed as its documents were:
 *
 *   unicode61                   the tokenizer alone (FTS5's default; the kit's)
 *   unicode61 stop              and the English stop list below
 *   unicode61 stem=LANG         and the Snowball stemmer for LANG (english, ...)
 *   unicode61 stop stem=LANG    both: stop words are dropped before stemming
 */
#ifndef SL_ANALYZER_H
#define SL_ANALYZER_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/slice.h"
#include "engine/status.h"
#include "index/tokenizer.h"

#define ANALYZER_SPEC_BYTES 32 /* the longest spec, with its NUL */
#define ANALYZER_DEFAULT "unicode61"

typedef struct analyzer {
	char spec[ANALYZER_SPEC_BYTES]; /* in its canonical form */
	bool stop;                      /* drop the English stop words */
	void *stemmer;                  /* a libstemmer handle, or NULL */
	tokenizer_t tk;
	const uint8_t *term;            /* the current term: stemmed, or the token */
	size_t term_len;
	uint32_t position;              /* its token's position (stop words counted) */
} analyzer_t;

/*
 * Prepares an analyzer for spec (NULL = ANALYZER_DEFAULT). SL_INVALID for a spec
 * it cannot read or a language Snowball lacks, SL_NOTSUP for stemming when the
 * kit was built without libstemmer (install libstemmer-dev and rebuild).
 */
int analyzer_open(analyzer_t *a, const char *spec, sl_err_t *err);
void analyzer_close(analyzer_t *a);

/* Starts on text; SL_INVALID (naming the byte) for text that is not UTF-8. */
int analyzer_start(analyzer_t *a, sl_slice_t text, sl_err_t *err);

/* Moves to the next term kept: true with term, term_len and position set. */
bool analyzer_next(analyzer_t *a);

/* Whether stemming was built in. */
bool analyzer_can_stem(void);

/* Whether a folded token is one of the English stop words. */
bool analyzer_is_stop(const uint8_t *tok, size_t len);

#endif
