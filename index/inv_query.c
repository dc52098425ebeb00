/*
 * inv_query.c — parsing search queries into a tree of terms, phrases, AND, OR
 * and NOT.
 *
 * The syntax is FTS5's (and most web search boxes'):
 *
 *   query   := or
 *   or      := and ("OR" and)*
 *   and     := not (["AND"] not)*        words side by side are ANDed
 *   not     := primary ("NOT" primary)*  "a NOT b": a, without the documents holding b
 *   primary := word | "quoted phrase" | "(" or ")"
 *
 * so NOT binds tighter than AND, and AND than OR: `a b OR c` is (a AND b) OR c.
 * AND, OR and NOT are operators only in capitals; a word or phrase goes through
 * the index's analyzer (tokenizer, stop words, stemmer), and becomes a term (one
 * token), a phrase (several: "e-mail" is the phrase "e mail", as in Lucene), or
 * nothing (no token, or only stop words: "--" is dropped, and an operator left
 * without operands drops with it). A phrase keeps the gaps stop words leave.
 */
#include <stdlib.h>
#include <string.h>

#include "index/inv_int.h"

typedef struct inv_parser {
	const char *text;
	analyzer_t *an;
	size_t pos;
	inv_query_t *q;
	sl_err_t *err;
	int rc;
	int depth;
} inv_parser_t;

enum { INV_MAX_DEPTH = 64, INV_MAX_LEAVES = 256 };

static inv_qnode_t *inv_fail(inv_parser_t *ps, int code, const char *what)
{
	if (ps->rc == SL_OK)
		ps->rc = sl_errf(ps->err, code, "query: %s at column %zu", what, ps->pos + 1);
	return NULL;
}

static void inv_node_free(inv_qnode_t *n)
{
	if (n == NULL)
		return;
	for (unsigned i = 0; i < n->nkids; i++)
		inv_node_free(n->kids[i]);
	for (unsigned i = 0; i < n->nterms; i++)
		buf_free(&n->terms[i]);
	free(n->kids);
	free(n->terms);
	free(n->offsets);
	free(n);
}

static void inv_skip_space(inv_parser_t *ps)
{
	while (ps->text[ps->pos] == ' ' || ps->text[ps->pos] == '\t' || ps->text[ps->pos] == '\n' ||
	       ps->text[ps->pos] == '\r')
		ps->pos++;
}

static bool inv_is_word_end(char c)
{
	return c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' ||
	       c == ')' || c == '"';
}

/* The operator keyword at pos, if any ("AND", "OR", "NOT" as whole words). */
static bool inv_keyword(inv_parser_t *ps, const char *kw)
{
	size_t n = strlen(kw);
	return strncmp(ps->text + ps->pos, kw, n) == 0 && inv_is_word_end(ps->text[ps->pos + n]);
}

/* A leaf for the terms of text[from, to): NULL when it has none (or on error). */
static inv_qnode_t *inv_leaf(inv_parser_t *ps, size_t from, size_t to)
{
	sl_err_t e;
	if (analyzer_start(ps->an, sl_slice(ps->text + from, to - from), &e) != SL_OK)
		return inv_fail(ps, SL_INVALID, "text that is not UTF-8");
	inv_qnode_t *n = calloc(1, sizeof *n);
	if (n == NULL)
		return inv_fail(ps, SL_NOMEM, "out of memory");
	uint32_t first = 0;
	while (analyzer_next(ps->an)) {
		buf_t *terms = realloc(n->terms, (n->nterms + 1) * sizeof *terms);
		uint32_t *offs = terms ? realloc(n->offsets, (n->nterms + 1) * sizeof *offs) : NULL;
		if (terms != NULL)
			n->terms = terms;
		if (offs == NULL) {
			inv_node_free(n);
			return inv_fail(ps, SL_NOMEM, "out of memory");
		}
		n->offsets = offs;
		if (n->nterms == 0)
			first = ps->an->position;
		n->offsets[n->nterms] = ps->an->position - first;
		memset(&n->terms[n->nterms], 0, sizeof(buf_t));
		buf_set(&n->terms[n->nterms++], ps->an->term, inv_term_cut(ps->an->term, ps->an->term_len));
	}
	if (n->nterms == 0) {
		inv_node_free(n);
		return NULL;
	}
	if (ps->q->nleaves == INV_MAX_LEAVES) {
		inv_node_free(n);
		return inv_fail(ps, SL_INVALID, "more than 256 terms and phrases");
	}
	n->kind = n->nterms == 1 ? INV_Q_TERM : INV_Q_PHRASE;
	n->leaf = (int)ps->q->nleaves;
	ps->q->leaves[ps->q->nleaves++] = n;
	return n;
}

static inv_qnode_t *inv_parse_or(inv_parser_t *ps);

static inv_qnode_t *inv_parse_primary(inv_parser_t *ps, bool *empty)
{
	inv_skip_space(ps);
	*empty = false;
	char c = ps->text[ps->pos];
	if (c == '(') {
		if (++ps->depth > INV_MAX_DEPTH)
			return inv_fail(ps, SL_INVALID, "parentheses nested too deep");
		ps->pos++;
		inv_qnode_t *n = inv_parse_or(ps);
		inv_skip_space(ps);
		if (ps->rc != SL_OK) {
			inv_node_free(n);
			return NULL;
		}
		if (ps->text[ps->pos] != ')') {
			inv_node_free(n);
			return inv_fail(ps, SL_INVALID, "a '(' without its ')'");
		}
		ps->pos++;
		ps->depth--;
		*empty = n == NULL;
		return n;
	}
	if (c == '"') {
		size_t from = ++ps->pos;
		while (ps->text[ps->pos] != '"' && ps->text[ps->pos] != '\0')
			ps->pos++;
		if (ps->text[ps->pos] != '"')
			return inv_fail(ps, SL_INVALID, "a '\"' without its closing '\"'");
		inv_qnode_t *n = inv_leaf(ps, from, ps->pos++);
		*empty = n == NULL;
		return n;
	}
	if (c == ')' || c == '\0' || inv_keyword(ps, "AND") || inv_keyword(ps, "OR") ||
	    inv_keyword(ps, "NOT"))
		return inv_fail(ps, SL_INVALID, c == ')' ? "a ')' without its '('"
					       : c == '\0' ? "the query ends where a word was expected"
							   : "an operator where a word was expected");
	size_t from = ps->pos;
	while (!inv_is_word_end(ps->text[ps->pos]))
		ps->pos++;
	inv_qnode_t *n = inv_leaf(ps, from, ps->pos);
	*empty = n == NULL;
	return n;
}

/* Joins kids into one node of kind (the kid itself when there is one). */
static inv_qnode_t *inv_join(inv_parser_t *ps, inv_qkind_t kind, inv_qnode_t **kids, unsigned n)
{
	if (n <= 1) {
		inv_qnode_t *only = n ? kids[0] : NULL;
		free(kids);
		return only;
	}
	inv_qnode_t *node = calloc(1, sizeof *node);
	if (node == NULL) {
		for (unsigned i = 0; i < n; i++)
			inv_node_free(kids[i]);
		free(kids);
		return inv_fail(ps, SL_NOMEM, "out of memory");
	}
	node->kind = kind;
	node->kids = kids;
	node->nkids = n;
	node->leaf = -1;
	return node;
}

static inv_qnode_t *inv_parse_not(inv_parser_t *ps)
{
	bool empty;
	inv_qnode_t *left = inv_parse_primary(ps, &empty);
	for (;;) {
		if (ps->rc != SL_OK) {
			inv_node_free(left);
			return NULL;
		}
		inv_skip_space(ps);
		if (!inv_keyword(ps, "NOT"))
			return left;
		ps->pos += 3;
		inv_qnode_t *right = inv_parse_primary(ps, &empty);
		if (ps->rc != SL_OK || right == NULL || left == NULL) {
			inv_node_free(right);
			continue; /* "a NOT --" is a; "-- NOT b" is nothing */
		}
		inv_qnode_t **kids = malloc(2 * sizeof *kids);
		if (kids == NULL) {
			inv_node_free(right);
			inv_node_free(left);
			return inv_fail(ps, SL_NOMEM, "out of memory");
		}
		kids[0] = left;
		kids[1] = right;
		left = inv_join(ps, INV_Q_NOT, kids, 2);
	}
}

/* Parses a list of sub expressions separated by sep (or side by side when implicit). */
static inv_qnode_t *inv_parse_list(inv_parser_t *ps, inv_qkind_t kind, const char *sep,
				   bool implicit, inv_qnode_t *(*sub)(inv_parser_t *))
{
	inv_qnode_t **kids = NULL;
	unsigned n = 0;
	for (;;) {
		inv_qnode_t *k = sub(ps);
		if (ps->rc != SL_OK)
			break;
		if (k != NULL) {
			inv_qnode_t **more = realloc(kids, (n + 1) * sizeof *kids);
			if (more == NULL) {
				inv_node_free(k);
				inv_fail(ps, SL_NOMEM, "out of memory");
				break;
			}
			kids = more;
			kids[n++] = k;
		}
		inv_skip_space(ps);
		char c = ps->text[ps->pos];
		if (inv_keyword(ps, sep))
			ps->pos += strlen(sep);
		else if (!implicit || c == '\0' || c == ')' || inv_keyword(ps, "OR"))
			return inv_join(ps, kind, kids, n);
	}
	for (unsigned i = 0; i < n; i++)
		inv_node_free(kids[i]);
	free(kids);
	return NULL;
}

static inv_qnode_t *inv_parse_and(inv_parser_t *ps)
{
	return inv_parse_list(ps, INV_Q_AND, "AND", true, inv_parse_not);
}

static inv_qnode_t *inv_parse_or(inv_parser_t *ps)
{
	return inv_parse_list(ps, INV_Q_OR, "OR", false, inv_parse_and);
}

/*
 * Numbers the leaves afresh in query order (left to right: a leaf dropped with
 * an empty operator side is gone), marks those that score (not under a NOT's
 * right side) and counts the nodes.
 */
static void inv_mark(inv_query_t *q, inv_qnode_t *n, bool positive)
{
	q->nnodes++;
	n->positive = positive;
	if (n->kind == INV_Q_TERM || n->kind == INV_Q_PHRASE) {
		n->leaf = (int)q->nleaves;
		q->leaves[q->nleaves++] = n;
	}
	for (unsigned i = 0; i < n->nkids; i++)
		inv_mark(q, n->kids[i], positive && !(n->kind == INV_Q_NOT && i == 1));
}

int inv_query_parse(const char *text, analyzer_t *an, inv_query_t *q, sl_err_t *err)
{
	memset(q, 0, sizeof *q);
	analyzer_t plain;
	if (an == NULL) {
		(void)analyzer_open(&plain, NULL, NULL); /* the default cannot fail */
		an = &plain;
	}
	q->leaves = calloc(INV_MAX_LEAVES, sizeof *q->leaves);
	if (q->leaves == NULL) {
		if (an == &plain)
			analyzer_close(&plain);
		return sl_errf(err, SL_NOMEM, "query: out of memory");
	}
	inv_parser_t ps = { .text = text, .an = an, .q = q, .err = err };
	q->root = inv_parse_or(&ps);
	inv_skip_space(&ps);
	if (ps.rc == SL_OK && text[ps.pos] != '\0')
		inv_fail(&ps, SL_INVALID, "a ')' without its '('");
	if (an == &plain)
		analyzer_close(&plain);
	if (ps.rc != SL_OK) {
		inv_node_free(q->root);
		q->root = NULL;
		inv_query_free(q);
		return ps.rc;
	}
	q->nleaves = 0;
	if (q->root != NULL)
		inv_mark(q, q->root, true);
	return SL_OK;
}

void inv_query_free(inv_query_t *q)
{
	inv_node_free(q->root);
	free(q->leaves);
	memset(q, 0, sizeof *q);
}
