/* analyzer.c — stop words and stemming over the tokenizer (see analyzer.h). */
#include "index/analyzer.h"

#include <stdio.h>
#include <string.h>

#ifdef SL_HAVE_STEMMER
#include <libstemmer.h>
#endif

/*
 * The English stop list of Lucene's StandardAnalyzer (33 words), sorted for a
 * binary search: articles, conjunctions, prepositions and forms of "to be"
 * that carry almost no meaning a query could want.
 */
static const char *const analyzer_stops[] = {
	"a",     "an",   "and",  "are",  "as",    "at",   "be",    "but",  "by",
	"for",   "if",   "in",   "into", "is",    "it",   "no",    "not",  "of",
	"on",    "or",   "such", "that", "the",   "their", "then", "there", "these",
	"they",  "this", "to",   "was",  "will",  "with",
};

bool analyzer_is_stop(const uint8_t *tok, size_t len)
{
	size_t lo = 0, hi = sizeof analyzer_stops / sizeof analyzer_stops[0];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = sl_slice_cmp(sl_slice_str(analyzer_stops[mid]), sl_slice(tok, len));
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool analyzer_can_stem(void)
{
#ifdef SL_HAVE_STEMMER
	return true;
#else
	return false;
#endif
}

/* Reads spec's words after "unicode61" into stop and lang; false when one is unknown. */
static bool analyzer_parse(const char *spec, bool *stop, char *lang, size_t lang_size)
{
	char words[ANALYZER_SPEC_BYTES];
	if (strlen(spec) >= sizeof words)
		return false;
	strcpy(words, spec);
	char *save = NULL, *w = strtok_r(words, " ", &save);
	if (w == NULL || strcmp(w, ANALYZER_DEFAULT) != 0)
		return false;
	*stop = false;
	lang[0] = '\0';
	while ((w = strtok_r(NULL, " ", &save)) != NULL) {
		if (strcmp(w, "stop") == 0 && !*stop && lang[0] == '\0')
			*stop = true;
		else if (strncmp(w, "stem=", 5) == 0 && lang[0] == '\0' && w[5] != '\0' &&
			 strlen(w + 5) < lang_size)
			strcpy(lang, w + 5);
		else
			return false;
	}
	return true;
}

int analyzer_open(analyzer_t *a, const char *spec, sl_err_t *err)
{
	memset(a, 0, sizeof *a);
	if (spec == NULL)
		spec = ANALYZER_DEFAULT;
	char lang[ANALYZER_SPEC_BYTES];
	if (!analyzer_parse(spec, &a->stop, lang, sizeof lang))
		return sl_errf(err, SL_INVALID,
			       "analyzer \"%.40s\": not one of unicode61, unicode61 stop, "
			       "unicode61 stem=LANG, unicode61 stop stem=LANG",
			       spec);
	/* The canonical spelling: never longer than the spec it came from. */
	size_t n = strlen(ANALYZER_DEFAULT) + (a->stop ? 5 : 0) + (lang[0] ? 6 + strlen(lang) : 0);
	if (n >= sizeof a->spec)
		return sl_errf(err, SL_INVALID, "analyzer \"%.40s\": too long", spec);
	strcpy(a->spec, ANALYZER_DEFAULT);
	if (a->stop)
		strcat(a->spec, " stop");
	if (lang[0]) {
		strcat(a->spec, " stem=");
		strcat(a->spec, lang);
	}
	if (lang[0] == '\0')
		return SL_OK;
#ifdef SL_HAVE_STEMMER
	a->stemmer = sb_stemmer_new(lang, "UTF_8");
	if (a->stemmer == NULL)
		return sl_errf(err, SL_INVALID, "analyzer: Snowball has no stemmer for \"%s\"", lang);
	return SL_OK;
#else
	return sl_errf(err, SL_NOTSUP,
		       "analyzer \"%s\": stemming needs libstemmer (install libstemmer-dev, rebuild)",
		       a->spec);
#endif
}

void analyzer_close(analyzer_t *a)
{
#ifdef SL_HAVE_STEMMER
	if (a->stemmer != NULL)
		sb_stemmer_delete(a->stemmer);
#endif
	a->stemmer = NULL;
	tokenizer_free(&a->tk);
}

int analyzer_start(analyzer_t *a, sl_slice_t text, sl_err_t *err)
{
	return tokenizer_init(&a->tk, text, err);
}

bool analyzer_next(analyzer_t *a)
{
	while (tokenizer_next(&a->tk)) {
		const uint8_t *t = a->tk.token.data;
		size_t n = a->tk.token.len;
		if (a->stop && analyzer_is_stop(t, n))
			continue; /* dropped, but its position is spent: phrases keep their gaps */
		a->position = a->tk.position;
		a->term = t;
		a->term_len = n;
#ifdef SL_HAVE_STEMMER
		if (a->stemmer != NULL) {
			const sb_symbol *s = sb_stemmer_stem(a->stemmer, t, (int)n);
			if (s != NULL && sb_stemmer_length(a->stemmer) > 0) { /* else keep the token */
				a->term = s;
				a->term_len = (size_t)sb_stemmer_length(a->stemmer);
			}
		}
#endif
		return true;
	}
	return false;
}
