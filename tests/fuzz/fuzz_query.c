/*
 * fuzz_query.c — arbitrary bytes as a search query (index/inv_query): parsing
 * must succeed or fail with SL_INVALID, never crash, leak or recurse without
 * bound; a parsed tree's leaves must be numbered in order and hold tokens.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "index/inv_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const inv_qnode_t *n)
{
	if (n->kind == INV_Q_TERM || n->kind == INV_Q_PHRASE) {
		if (n->nterms == 0 || (n->kind == INV_Q_TERM) != (n->nterms == 1))
			abort();
		for (unsigned i = 0; i < n->nterms; i++)
			if (n->terms[i].len == 0 || n->terms[i].len > INV_MAX_TERM)
				abort();
		return;
	}
	if (n->nkids < 2)
		abort();
	for (unsigned i = 0; i < n->nkids; i++)
		check(n->kids[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	inv_query_t q;
	sl_err_t err;
	int rc = inv_query_parse(text, NULL, &q, &err);
	if (rc != SL_OK && rc != SL_INVALID && rc != SL_NOMEM)
		abort();
	if (rc == SL_OK) {
		if (q.root != NULL)
			check(q.root);
		for (unsigned i = 0; i < q.nleaves; i++)
			if (q.leaves[i]->leaf != (int)i)
				abort();
		inv_query_free(&q);
	}
	free(text);
	return 0;
}
