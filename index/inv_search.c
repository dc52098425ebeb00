/*
 * inv_search.c — answering a query: BM25 top-k over the live segments.
 *
 * In three steps:
 *
 *  1. Statistics. Each term is looked up in every segment; its document
 *     frequency n (live documents holding it) gives its idf. A phrase is
 *     evaluated whole, segment by segment, into a small in-memory list of
 *     (document, occurrences): its n is that list's length, exactly as FTS5
 *     counts it, and afterwards the phrase is walked like a term.
 *  2. Matching, document at a time, segment by segment (oldest first, so
 *     documents come in the order they were added). Every node of the query
 *     tree keeps its current match; advance(node, target) moves it to its first
 *     match at or after target: a leaf skips through its postings (whole blocks
 *     by their headers), AND leapfrogs its children to a common document, OR
 *     takes the smallest of its children's, NOT takes its left side's matches
 *     that its right side does not hold.
 *  3. Scoring. A matching document scores the BM25 of every scoring leaf whose
 *     subtree matched it, summed in query order (so that equal documents get
 *     bit-for-bit equal scores whatever order the leaves were visited in), and
 *     goes through a heap of the k best; ties go to the earlier document.
 *
 * An OR of terms (the query "best documents for these words") skips most of
 * the matching with MaxScore (Turtle and Flood, 1995): a term's score can never
 * exceed its upper bound (its idf at the list's largest tf and the segment's
 * shortest document). Sort the terms by bound; once the heap is full, the
 * terms whose bounds add up to no more than the heap's worst score cannot put
 * a document into the top k by themselves, so they become "non-essential":
 * candidates come only from the essential terms' lists, and a non-essential
 * list is consulted (skipped forward to the candidate) only while the score so
 * far plus the bounds still to add could beat the threshold. A common word's
 * long list is then never walked in full.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "index/inv_int.h"

/* A leaf (term or phrase) in one segment. */
typedef struct inv_lcur {
	bool present;                /* the segment holds it */
	bool phrase;
	inv_cursor_t c;              /* term */
	u32s_t docs, tfs;        /* phrase: its matches, materialized */
	uint32_t i;
	uint32_t max_tf;
} inv_lcur_t;

typedef struct inv_entry {
	double score;
	uint64_t doc;                /* global: segment base + local */
	uint32_t seg, local;
} inv_entry_t;

typedef struct inv_eval {
	inverted_t *ix;
	inv_query_t *q;
	bm25_t bm;
	inv_lcur_t *lc;              /* [leaf * nsegs + segment] */
	double *idf;
	uint64_t *df;                /* each leaf's document frequency (live) */
	double *contrib;             /* per leaf, for the document being scored */
	inv_seg_t *seg;              /* the segment being evaluated */
	double impact_scale;         /* max(1, index mean length / the segment's): see inv_int.h */
	uint32_t si;
	uint64_t base;
	inv_entry_t *heap;           /* worst at the top */
	size_t k, n;
	inverted_query_stats_t *st;
	sl_err_t *err;
	int rc;
	uint32_t *pos[2];            /* scratch for phrases */
	size_t pos_cap[2];
} inv_eval_t;

static inv_lcur_t *inv_lc(inv_eval_t *ev, unsigned leaf, uint32_t seg)
{
	return &ev->lc[(size_t)leaf * ev->ix->nsegs + seg];
}

/* ---------------------------------------------------------------- leaves */

static uint32_t inv_lcur_doc(const inv_lcur_t *l)
{
	if (!l->present)
		return INV_END;
	if (l->phrase)
		return l->i < l->docs.n ? l->docs.v[l->i] : INV_END;
	return postings_iter_valid(&l->c.it) ? postings_iter_doc(&l->c.it) : INV_END;
}

static uint32_t inv_lcur_tf(const inv_lcur_t *l)
{
	return l->phrase ? l->tfs.v[l->i] : postings_iter_tf(&l->c.it);
}

/* On document d (and not moved shallowly past it). */
static bool inv_lcur_on(const inv_lcur_t *l, uint32_t d)
{
	if (!l->present || (!l->phrase && l->c.it.pending))
		return false;
	return inv_lcur_doc(l) == d;
}

/*
 * Moves the leaf to the block holding its first document >= target without
 * decoding it (a phrase list is in memory: it just moves). false at the end.
 */
static bool inv_lcur_shallow(inv_eval_t *ev, inv_lcur_t *l, uint32_t target)
{
	if (!l->present)
		return false;
	if (l->phrase) {
		while (l->i < l->docs.n && l->docs.v[l->i] < target)
			l->i++;
		return l->i < l->docs.n;
	}
	int rc = postings_iter_shallow(&l->c.it, target, ev->err);
	if (rc != SL_OK)
		ev->rc = rc;
	return rc == SL_OK && postings_iter_valid(&l->c.it);
}

/* The last document of the leaf's current block (a phrase's list is one block). */
static uint32_t inv_lcur_block_last(const inv_lcur_t *l)
{
	return l->phrase ? INV_END - 1 : postings_iter_block_last(&l->c.it);
}

/* The best score any document of the leaf's current block can get from it. */
static double inv_lcur_block_bound(const inv_eval_t *ev, unsigned leaf, const inv_lcur_t *l)
{
	double b = l->phrase ? bm25_term(&ev->bm, ev->idf[leaf], l->max_tf, ev->seg->min_dl)
			     : ev->idf[leaf] * ev->impact_scale *
				       inv_impact_decode(&ev->seg->bm, postings_iter_block_impact(&l->c.it));
	return b * (1 + 1e-9) + 1e-12; /* rounding slack */
}

static uint32_t inv_lcur_advance(inv_eval_t *ev, inv_lcur_t *l, uint32_t target)
{
	if (!l->present)
		return INV_END;
	if (l->phrase) {
		while (l->i < l->docs.n && l->docs.v[l->i] < target)
			l->i++;
	} else {
		int rc = postings_iter_advance(&l->c.it, target, ev->err);
		if (rc != SL_OK) {
			ev->rc = rc;
			return INV_END;
		}
	}
	return inv_lcur_doc(l);
}

/* ---------------------------------------------------------------- statistics */

/* Grows scratch i to hold n positions. */
static uint32_t *inv_scratch(inv_eval_t *ev, int i, size_t n)
{
	if (n > ev->pos_cap[i]) {
		uint32_t *p = realloc(ev->pos[i], n * sizeof *p);
		if (p == NULL)
			return NULL;
		ev->pos[i] = p;
		ev->pos_cap[i] = n;
	}
	return ev->pos[i];
}

/*
 * The occurrences of the phrase in the current document: positions p of its
 * first term with term j at p + offsets[j] for every j (offsets[j] is j unless
 * stop words were dropped between). The candidates shrink term by
 * term (a merge of two sorted lists each time).
 */
static int inv_phrase_count(inv_eval_t *ev, inv_cursor_t *cs, const uint32_t *offsets, unsigned n,
			    uint32_t *count)
{
	uint32_t tf0 = postings_iter_tf(&cs[0].it);
	uint32_t *cand = inv_scratch(ev, 0, tf0);
	if (cand == NULL)
		return sl_errf(ev->err, SL_NOMEM, "search: out of memory");
	int rc = inv_cursor_positions(&cs[0], cand, ev->err);
	uint32_t nc = tf0;
	for (unsigned j = 1; rc == SL_OK && j < n && nc > 0; j++) {
		uint32_t tf = postings_iter_tf(&cs[j].it);
		uint32_t *pj = inv_scratch(ev, 1, tf);
		cand = ev->pos[0];
		if (pj == NULL)
			return sl_errf(ev->err, SL_NOMEM, "search: out of memory");
		rc = inv_cursor_positions(&cs[j], pj, ev->err);
		uint32_t a = 0, b = 0, out = 0;
		while (rc == SL_OK && a < nc && b < tf) {
			uint64_t want = (uint64_t)cand[a] + offsets[j];
			if (pj[b] < want)
				b++;
			else if (pj[b] > want)
				a++;
			else
				cand[out++] = cand[a++];
		}
		nc = out;
	}
	*count = nc;
	return rc;
}

/* Evaluates a phrase in one segment into l's list; adds its live matches to *df. */
static int inv_phrase_materialize(inv_eval_t *ev, inv_qnode_t *leaf, inv_seg_t *s,
				  inv_lcur_t *l, uint64_t *df)
{
	l->phrase = true;
	inv_cursor_t *cs = calloc(leaf->nterms, sizeof *cs);
	if (cs == NULL)
		return sl_errf(ev->err, SL_NOMEM, "search: out of memory");
	inv_term_entry_t e = { 0 };
	int rc = SL_OK;
	unsigned opened = 0;
	for (; opened < leaf->nterms && rc == SL_OK; opened++) {
		rc = inv_seg_lookup(s, buf_slice(&leaf->terms[opened]), &e, ev->err);
		ev->st->terms++;
		if (rc == SL_OK)
			rc = inv_cursor_open(&cs[opened], s, &e, ev->err);
	}
	buf_free(&e.inline_bytes);
	if (rc == SL_NOTFOUND) {
		opened--;
		rc = SL_OK;
		goto out; /* a term the segment lacks: no match here */
	}
	l->present = true;
	uint32_t d = 0;
	while (rc == SL_OK) {
		/* Leapfrog to a document every term holds. */
		unsigned agree = 0;
		for (unsigned j = 0; agree < leaf->nterms && rc == SL_OK; j = (j + 1) % leaf->nterms) {
			rc = postings_iter_advance(&cs[j].it, d, ev->err);
			if (!postings_iter_valid(&cs[j].it))
				goto out;
			uint32_t got = postings_iter_doc(&cs[j].it);
			agree = got == d ? agree + 1 : 1;
			d = got;
		}
		if (rc != SL_OK)
			break;
		uint32_t count = 0;
		if (!inv_seg_deleted(s, d))
			rc = inv_phrase_count(ev, cs, leaf->offsets, leaf->nterms, &count);
		if (rc == SL_OK && count > 0) {
			if (!u32s_push(&l->docs, d) || !u32s_push(&l->tfs, count))
				rc = sl_errf(ev->err, SL_NOMEM, "search: out of memory");
			if (count > l->max_tf)
				l->max_tf = count;
			(*df)++;
		}
		if (d == INV_END - 1)
			break;
		d++;
	}
out:
	INV_TRACE(ev->ix, "phrase of %u terms in segment %06" PRIu64 ": %s%zu"
		  " documents hold it (positions compared where every term is present)", leaf->nterms,
		  s->number, l->present ? "" : "a term is not in the dictionary; ", l->docs.n);
	for (unsigned j = 0; j < opened; j++)
		inv_cursor_free(&cs[j]);
	free(cs);
	return rc;
}

static char *inv_leaf_text(const inv_qnode_t *leaf);

/* Looks a term up in one segment; adds its live documents to *df. */
static int inv_term_open(inv_eval_t *ev, inv_qnode_t *leaf, inv_seg_t *s, inv_lcur_t *l,
			 uint64_t *df)
{
	inv_term_entry_t e = { 0 };
	ev->st->terms++;
	int rc = inv_seg_lookup(s, buf_slice(&leaf->terms[0]), &e, ev->err);
	if (rc == SL_OK)
		rc = inv_cursor_open(&l->c, s, &e, ev->err);
	if (rc == SL_OK) {
		l->present = true;
		l->max_tf = e.max_tf;
		ev->st->postings += e.df;
		if (s->del == NULL) {
			*df += e.df;
		} else {
			/* Deleted documents are still in the list until a merge: count the live ones. */
			inv_cursor_t count;
			rc = inv_cursor_open(&count, s, &e, ev->err);
			for (; rc == SL_OK && postings_iter_valid(&count.it);
			     rc = postings_iter_next(&count.it, ev->err))
				*df += !inv_seg_deleted(s, postings_iter_doc(&count.it));
			inv_cursor_free(&count);
		}
	}
	buf_free(&e.inline_bytes);
	if (rc == SL_OK)
		INV_TRACE(ev->ix, "term \"%.*s\" in segment %06" PRIu64 ": %" PRIu32 " postings in %"
			  PRIu32 " blocks of %d, largest tf %" PRIu32, (int)leaf->terms[0].len,
			  (const char *)leaf->terms[0].data, s->number, e.df,
			  (e.df + POSTINGS_BLOCK - 1) / POSTINGS_BLOCK, POSTINGS_BLOCK, e.max_tf);
	else if (rc == SL_NOTFOUND)
		INV_TRACE(ev->ix, "term \"%.*s\" in segment %06" PRIu64 ": not in its dictionary",
			  (int)leaf->terms[0].len, (const char *)leaf->terms[0].data, s->number);
	return rc == SL_NOTFOUND ? SL_OK : rc;
}

static int inv_eval_stats(inv_eval_t *ev)
{
	inverted_t *ix = ev->ix;
	uint64_t docs = 0, tokens = 0;
	for (uint32_t s = 0; s < ix->nsegs; s++) {
		if (ix->segs[s]->fresh)
			continue; /* not committed: not searched */
		docs += ix->segs[s]->docs - ix->segs[s]->ndel;
		tokens += ix->segs[s]->live_tokens;
	}
	ev->bm = bm25_params(docs, tokens);
	ev->bm.idf = ix->opts.idf;
	for (unsigned i = 0; i < ev->q->nleaves; i++) {
		inv_qnode_t *leaf = ev->q->leaves[i];
		uint64_t df = 0;
		for (uint32_t s = 0; s < ix->nsegs; s++) {
			inv_lcur_t *l = inv_lc(ev, i, s);
			if (ix->segs[s]->fresh)
				continue;
			int rc = leaf->kind == INV_Q_TERM
					 ? inv_term_open(ev, leaf, ix->segs[s], l, &df)
					 : inv_phrase_materialize(ev, leaf, ix->segs[s], l, &df);
			if (rc != SL_OK)
				return rc;
		}
		ev->df[i] = df < docs ? df : docs;
		ev->idf[i] = bm25_idf(&ev->bm, ev->df[i]);
		if (trace_on(&ix->trace)) {
			char *text = inv_leaf_text(leaf);
			trace_emit(&ix->trace, "%s: %" PRIu64 " of %" PRIu64 " live documents hold it: "
				   "idf %.4f", text ? text : "?", ev->df[i], docs, ev->idf[i]);
			free(text);
		}
	}
	return SL_OK;
}

/* ---------------------------------------------------------------- the heap */

/* true when a ranks below b (a lower score, or equal and later). */
static bool inv_worse(const inv_entry_t *a, const inv_entry_t *b)
{
	return a->score < b->score || (a->score == b->score && a->doc > b->doc);
}

static void inv_heap_sift_down(inv_entry_t *h, size_t n, size_t i)
{
	for (;;) {
		size_t w = i, l = 2 * i + 1, r = l + 1;
		if (l < n && inv_worse(&h[l], &h[w]))
			w = l;
		if (r < n && inv_worse(&h[r], &h[w]))
			w = r;
		if (w == i)
			return;
		inv_entry_t t = h[i];
		h[i] = h[w];
		h[w] = t;
		i = w;
	}
}

static void inv_heap_offer(inv_eval_t *ev, double score, uint32_t local)
{
	inv_entry_t e = { score, ev->base + local, ev->si, local };
	INV_TRACE(ev->ix, "document %" PRIu64 " scores %.4f: %s", e.doc, score,
		  ev->n < ev->k ? "into the top k (it has room)"
		  : inv_worse(&ev->heap[0], &e) ? "into the top k, pushing out the worst"
						: "not above the k-th best");
	if (ev->n < ev->k) {
		size_t i = ev->n++;
		ev->heap[i] = e;
		while (i > 0 && inv_worse(&ev->heap[i], &ev->heap[(i - 1) / 2])) {
			inv_entry_t t = ev->heap[i];
			ev->heap[i] = ev->heap[(i - 1) / 2];
			ev->heap[(i - 1) / 2] = t;
			i = (i - 1) / 2;
		}
	} else if (inv_worse(&ev->heap[0], &e)) {
		ev->heap[0] = e;
		inv_heap_sift_down(ev->heap, ev->n, 0);
	}
}

/* The score a document must beat to enter (-inf while the heap has room). */
static double inv_threshold(const inv_eval_t *ev)
{
	return ev->n < ev->k ? -INFINITY : ev->heap[0].score;
}

/* ---------------------------------------------------------------- matching */

static double inv_leaf_score(inv_eval_t *ev, unsigned leaf, inv_lcur_t *l, uint32_t d)
{
	return bm25_term(&ev->bm, ev->idf[leaf], inv_lcur_tf(l), inv_seg_doclen(ev->seg, d));
}

/* The first document at or after target that node matches (INV_END: none). */
static uint32_t inv_advance(inv_eval_t *ev, inv_qnode_t *n, uint32_t target)
{
	if (n->cur >= (int64_t)target)
		return (uint32_t)n->cur;
	uint32_t d = target;
	switch (n->kind) {
	case INV_Q_TERM:
	case INV_Q_PHRASE:
		d = inv_lcur_advance(ev, inv_lc(ev, (unsigned)n->leaf, ev->si), target);
		break;
	case INV_Q_AND:
		for (unsigned i = 0, agree = 0; agree < n->nkids && d != INV_END; i = (i + 1) % n->nkids) {
			uint32_t got = inv_advance(ev, n->kids[i], d);
			agree = got == d ? agree + 1 : 1;
			d = got;
		}
		break;
	case INV_Q_OR:
		d = INV_END;
		for (unsigned i = 0; i < n->nkids; i++) {
			uint32_t got = inv_advance(ev, n->kids[i], target);
			if (got < d)
				d = got;
		}
		break;
	case INV_Q_NOT:
		for (;;) {
			d = inv_advance(ev, n->kids[0], d);
			if (d == INV_END || inv_advance(ev, n->kids[1], d) != d)
				break;
			d++;
		}
		break;
	}
	if (ev->rc != SL_OK)
		d = INV_END;
	n->cur = d;
	return d;
}

/* Adds the scores of the scoring leaves of the subtrees of n that matched d. */
static void inv_collect(inv_eval_t *ev, inv_qnode_t *n, uint32_t d)
{
	if (n->cur != (int64_t)d)
		return;
	if (n->kind == INV_Q_TERM || n->kind == INV_Q_PHRASE) {
		inv_lcur_t *l = inv_lc(ev, (unsigned)n->leaf, ev->si);
		ev->contrib[n->leaf] = inv_leaf_score(ev, (unsigned)n->leaf, l, d);
		return;
	}
	unsigned kids = n->kind == INV_Q_NOT ? 1 : n->nkids;
	for (unsigned i = 0; i < kids; i++)
		inv_collect(ev, n->kids[i], d);
}

static double inv_sum(inv_eval_t *ev)
{
	double s = 0;
	for (unsigned i = 0; i < ev->q->nleaves; i++) {
		s += ev->contrib[i];
		ev->contrib[i] = 0;
	}
	return s;
}

static void inv_reset(inv_qnode_t *n)
{
	n->cur = -1;
	for (unsigned i = 0; i < n->nkids; i++)
		inv_reset(n->kids[i]);
}

/* Every match of the query in the segment, scored. */
static void inv_eval_all(inv_eval_t *ev)
{
	for (uint32_t d = 0; ev->rc == SL_OK;) {
		d = inv_advance(ev, ev->q->root, d);
		if (d == INV_END)
			break;
		if (!inv_seg_deleted(ev->seg, d)) {
			inv_collect(ev, ev->q->root, d);
			ev->st->scored++;
			inv_heap_offer(ev, inv_sum(ev), d);
		}
		if (d == INV_END - 1)
			break;
		d++;
	}
}

/* ---------------------------------------------------------------- MaxScore */

typedef struct inv_ms {
	unsigned leaf;
	inv_lcur_t *l;
	double ub;                   /* the bound of its score in this segment */
} inv_ms_t;

static int inv_ms_cmp(const void *a, const void *b)
{
	const inv_ms_t *x = a, *y = b;
	return (x->ub > y->ub) - (x->ub < y->ub);
}

/* The number of leading (smallest-bound) terms that cannot reach the threshold together. */
static unsigned inv_ms_split(const double *prefix, unsigned n, double threshold)
{
	unsigned e = 0;
	while (e < n && prefix[e + 1] <= threshold)
		e++;
	return e;
}

/*
 * Block-max: before looking at documents one by one, ask the blocks. Every
 * essential list sits in a block whose header bounds its scores; until the
 * first of those blocks ends, no document can score more than the sum of the
 * blocks' bounds plus the non-essential lists' bounds. When that is not above
 * the threshold, the whole window is passed over — headers read, nothing
 * unpacked — and the next window is asked, until one could hold a winner.
 * Returns the first document the lists may still hold (or INV_END), and
 * in *window_end the last document of the window found worth reading: until
 * the candidates pass it (or the threshold rises) the blocks need no asking.
 */
static uint32_t inv_ms_skip_blocks(inv_eval_t *ev, inv_ms_t *ms, unsigned e, unsigned n,
				   double rest, double threshold, uint32_t d, uint32_t *window_end)
{
	uint32_t end;
	for (;;) {
		double bound = rest;
		bool any = false;
		end = INV_END;
		for (unsigned i = e; i < n; i++) {
			if (!inv_lcur_shallow(ev, ms[i].l, d))
				continue;
			any = true;
			bound += inv_lcur_block_bound(ev, ms[i].leaf, ms[i].l);
			if (inv_lcur_block_last(ms[i].l) < end)
				end = inv_lcur_block_last(ms[i].l);
		}
		if (!any || ev->rc != SL_OK)
			return INV_END;
		if (bound > threshold || end >= INV_END - 1)
			break;
		ev->st->pruned++; /* a window of blocks passed over unread */
		INV_TRACE(ev->ix, "documents %" PRIu32 "..%" PRIu32 " passed over: their blocks' bounds "
			  "add up to %.4f, not above the threshold %.4f (blocks not unpacked)", d, end,
			  bound, threshold);
		d = end + 1;
	}
	/* Unpack the blocks of the window that may hold a winner. */
	*window_end = end;
	uint32_t next = INV_END;
	for (unsigned i = e; i < n; i++) {
		uint32_t got = inv_lcur_advance(ev, ms[i].l, d);
		if (got < next)
			next = got;
	}
	return next;
}

/* Scores d from the non-essential lists, best bound first, while it can still win. */
static bool inv_ms_complete(inv_eval_t *ev, inv_ms_t *ms, unsigned e, const double *prefix,
			    double threshold, uint32_t d, double s)
{
	for (unsigned i = e; i-- > 0;) {
		if (s + prefix[i + 1] <= threshold)
			return false;
		if (!inv_lcur_shallow(ev, ms[i].l, d))
			continue;
		/* The block's bound is tighter than the list's: check it before decoding. */
		if (inv_lcur_block_last(ms[i].l) >= d &&
		    s + inv_lcur_block_bound(ev, ms[i].leaf, ms[i].l) + prefix[i] <= threshold)
			return false;
		if (inv_lcur_advance(ev, ms[i].l, d) == d) {
			ev->contrib[ms[i].leaf] = inv_leaf_score(ev, ms[i].leaf, ms[i].l, d);
			s += ev->contrib[ms[i].leaf];
		}
	}
	return true;
}

/*
 * Scores candidate d: the essential lists first, then the others while d can
 * still win; a whole score goes to the heap, and a higher threshold may make
 * more terms non-essential (*e, *threshold updated).
 */
static void inv_ms_candidate(inv_eval_t *ev, inv_ms_t *ms, unsigned n, const double *prefix,
			     double *threshold, unsigned *e, uint32_t d)
{
	double s = 0;
	for (unsigned i = *e; i < n; i++)
		if (inv_lcur_on(ms[i].l, d)) {
			ev->contrib[ms[i].leaf] = inv_leaf_score(ev, ms[i].leaf, ms[i].l, d);
			s += ev->contrib[ms[i].leaf];
		}
	bool whole = inv_ms_complete(ev, ms, *e, prefix, *threshold, d, s);
	double total = inv_sum(ev); /* and the contributions start again from 0 */
	if (!whole) {
		ev->st->pruned++;
		INV_TRACE(ev->ix, "document %" PRIu64 " pruned: %.4f from the essential lists plus "
			  "what the others could add is not above %.4f", ev->base + d, s, *threshold);
		return;
	}
	ev->st->scored++;
	inv_heap_offer(ev, total, d);
	if (inv_threshold(ev) == *threshold)
		return;
	*threshold = inv_threshold(ev);
	unsigned was = *e;
	*e = inv_ms_split(prefix, n, *threshold);
	if (*e != was)
		INV_TRACE(ev->ix, "threshold %.4f: the %u terms of smallest bound (together %.4f) are "
			  "now non-essential", *threshold, *e, prefix[*e]);
}

static void inv_eval_maxscore(inv_eval_t *ev)
{
	inv_qnode_t *root = ev->q->root;
	unsigned n = root->kind == INV_Q_OR ? root->nkids : 1;
	inv_ms_t *ms = calloc(n, sizeof *ms);
	double *prefix = calloc(n + 1, sizeof *prefix);
	if (ms == NULL || prefix == NULL) {
		ev->rc = sl_errf(ev->err, SL_NOMEM, "search: out of memory");
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned leaf = (unsigned)(n == 1 ? root : root->kids[i])->leaf;
		ms[i].leaf = leaf;
		ms[i].l = inv_lc(ev, leaf, ev->si);
		double ub = bm25_term(&ev->bm, ev->idf[leaf], ms[i].l->max_tf, ev->seg->min_dl);
		ms[i].ub = ms[i].l->present ? ub * (1 + 1e-9) + 1e-12 : 0; /* rounding slack */
	}
	qsort(ms, n, sizeof *ms, inv_ms_cmp);
	for (unsigned i = 0; i < n; i++)
		prefix[i + 1] = prefix[i] + ms[i].ub;
	double threshold = inv_threshold(ev);
	unsigned e = inv_ms_split(prefix, n, threshold);
	uint32_t d = 0, window_end = 0;
	double window_threshold = -INFINITY;
	while (e < n && ev->rc == SL_OK) {
		if (threshold > -INFINITY && (d > window_end || threshold != window_threshold)) {
			d = inv_ms_skip_blocks(ev, ms, e, n, prefix[e], threshold, d, &window_end);
			window_threshold = threshold;
		} else {
			d = INV_END; /* the heap has room: every document is a candidate */
			for (unsigned i = e; i < n; i++) {
				uint32_t got = inv_lcur_doc(ms[i].l);
				if (got < d)
					d = got;
			}
		}
		if (d == INV_END)
			break;
		if (!inv_seg_deleted(ev->seg, d))
			inv_ms_candidate(ev, ms, n, prefix, &threshold, &e, d);
		if (d == INV_END - 1)
			break;
		for (unsigned i = 0; i < n; i++)
			if (inv_lcur_on(ms[i].l, d))
				inv_lcur_advance(ev, ms[i].l, d + 1);
		d++;
	}
	if (e >= n) {
		ev->st->pruned++; /* the rest of the segment could not enter: counted once */
		INV_TRACE(ev->ix, "the bounds of all %u terms add up to %.4f, not above the threshold: "
			  "the rest of the segment is passed over", n, prefix[n]);
	}
out:
	free(ms);
	free(prefix);
}

/*
 * An AND of terms and phrases: leapfrog to documents every list holds, with
 * the same block-max window as MaxScore (a document must be in every list, so
 * its score is at most the sum of the blocks' bounds: a window where that is
 * not above the threshold is passed over, its blocks never unpacked).
 */
static void inv_eval_conjunction(inv_eval_t *ev)
{
	inv_qnode_t *root = ev->q->root;
	unsigned n = root->nkids;
	uint32_t d = 0, window_end = 0;
	double window_threshold = -INFINITY;
	while (ev->rc == SL_OK) {
		double threshold = inv_threshold(ev);
		if (threshold > -INFINITY && (d > window_end || threshold != window_threshold)) {
			for (;;) {
				double bound = 0;
				uint32_t end = INV_END;
				for (unsigned i = 0; i < n; i++) {
					unsigned leaf = (unsigned)root->kids[i]->leaf;
					inv_lcur_t *l = inv_lc(ev, leaf, ev->si);
					if (!inv_lcur_shallow(ev, l, d))
						return; /* a list has ended: no more matches */
					bound += inv_lcur_block_bound(ev, leaf, l);
					if (inv_lcur_block_last(l) < end)
						end = inv_lcur_block_last(l);
				}
				window_end = end;
				if (bound > threshold || end >= INV_END - 1)
					break;
				ev->st->pruned++;
				INV_TRACE(ev->ix, "documents %" PRIu32 "..%" PRIu32 " passed over: their "
					  "blocks' bounds add up to %.4f, not above the threshold %.4f",
					  d, end, bound, threshold);
				d = end + 1;
			}
			window_threshold = threshold;
		}
		/* Leapfrog: every list to a common document at or after d. */
		for (unsigned i = 0, agree = 0; agree < n; i = (i + 1) % n) {
			uint32_t got = inv_lcur_advance(ev, inv_lc(ev, (unsigned)root->kids[i]->leaf, ev->si), d);
			if (got == INV_END)
				return;
			agree = got == d ? agree + 1 : 1;
			d = got;
		}
		if (d > window_end && threshold > -INFINITY)
			continue; /* past the window: ask the blocks first */
		if (!inv_seg_deleted(ev->seg, d)) {
			for (unsigned i = 0; i < n; i++) {
				unsigned leaf = (unsigned)root->kids[i]->leaf;
				ev->contrib[leaf] = inv_leaf_score(ev, leaf, inv_lc(ev, leaf, ev->si), d);
			}
			ev->st->scored++;
			inv_heap_offer(ev, inv_sum(ev), d);
		}
		if (d == INV_END - 1)
			return;
		d++;
	}
}

/* An AND whose children are all terms and phrases. */
static bool inv_is_conjunction(const inv_qnode_t *root)
{
	if (root->kind != INV_Q_AND)
		return false;
	for (unsigned i = 0; i < root->nkids; i++)
		if (root->kids[i]->kind != INV_Q_TERM && root->kids[i]->kind != INV_Q_PHRASE)
			return false;
	return true;
}

/* An OR of scoring leaves, or one leaf: MaxScore applies. */
static bool inv_is_disjunction(const inv_qnode_t *root)
{
	if (root->kind == INV_Q_TERM || root->kind == INV_Q_PHRASE)
		return true;
	if (root->kind != INV_Q_OR)
		return false;
	for (unsigned i = 0; i < root->nkids; i++)
		if (root->kids[i]->kind != INV_Q_TERM && root->kids[i]->kind != INV_Q_PHRASE)
			return false;
	return true;
}

/* ---------------------------------------------------------------- the whole search */

static int inv_eval_results(inv_eval_t *ev, inverted_result_t *res)
{
	/* Pop the heap from the worst: the array fills from the back. */
	res->hits = calloc(ev->n + 1, sizeof *res->hits);
	if (res->hits == NULL)
		return sl_errf(ev->err, SL_NOMEM, "search: out of memory");
	res->n = ev->n;
	buf_t id = { 0 };
	int rc = SL_OK;
	for (size_t left = ev->n; left > 0 && rc == SL_OK; left--) {
		inv_entry_t e = ev->heap[0];
		ev->heap[0] = ev->heap[left - 1];
		inv_heap_sift_down(ev->heap, left - 1, 0);
		inverted_hit_t *h = &res->hits[left - 1];
		h->score = e.score;
		h->doc = e.doc;
		rc = inv_seg_id(ev->ix->segs[e.seg], e.local, &id, ev->err);
		if (rc == SL_OK && (h->id = malloc(id.len + 1)) == NULL)
			rc = sl_errf(ev->err, SL_NOMEM, "search: out of memory");
		if (rc == SL_OK) {
			memcpy(h->id, id.data, id.len);
			h->id[id.len] = '\0';
		}
	}
	buf_free(&id);
	return rc;
}

/* A leaf's text: its tokens, a phrase in quotes. */
static char *inv_leaf_text(const inv_qnode_t *leaf)
{
	buf_t b = { 0 };
	if (leaf->kind == INV_Q_PHRASE)
		buf_append(&b, "\"", 1);
	for (unsigned i = 0; i < leaf->nterms; i++) {
		if (i > 0)
			buf_append(&b, " ", 1);
		buf_append(&b, leaf->terms[i].data, leaf->terms[i].len);
	}
	if (leaf->kind == INV_Q_PHRASE)
		buf_append(&b, "\"", 1);
	buf_append(&b, "", 1);
	if (!buf_ok(&b)) {
		buf_free(&b);
		return NULL;
	}
	return (char *)b.data;
}

/* The frequency of leaf in local document d of segment s (0 when absent). */
static int inv_explain_tf(inv_eval_t *ev, unsigned leaf, uint32_t s, uint32_t d, uint32_t *tf)
{
	*tf = 0;
	inv_lcur_t *l = inv_lc(ev, leaf, s);
	if (!l->present)
		return SL_OK;
	if (l->phrase) {
		for (size_t i = 0; i < l->docs.n; i++)
			if (l->docs.v[i] == d)
				*tf = l->tfs.v[i];
		return SL_OK;
	}
	inv_term_entry_t e = { 0 };
	inv_cursor_t c;
	int rc = inv_seg_lookup(ev->ix->segs[s], buf_slice(&ev->q->leaves[leaf]->terms[0]), &e, ev->err);
	if (rc == SL_OK)
		rc = inv_cursor_open(&c, ev->ix->segs[s], &e, ev->err);
	if (rc == SL_OK) {
		rc = postings_iter_advance(&c.it, d, ev->err);
		if (rc == SL_OK && postings_iter_valid(&c.it) && postings_iter_doc(&c.it) == d)
			*tf = postings_iter_tf(&c.it);
		inv_cursor_free(&c);
	}
	buf_free(&e.inline_bytes);
	return rc == SL_NOTFOUND ? SL_OK : rc;
}

/* Fills what --explain shows: N, avgdl, each leaf's df and idf, each hit's tfs and length. */
static int inv_explain(inv_eval_t *ev, inverted_result_t *res)
{
	res->docs = ev->bm.docs;
	res->avgdl = ev->bm.avgdl;
	res->nleaves = ev->q->nleaves;
	res->leaves = calloc(res->nleaves + 1, sizeof *res->leaves);
	if (res->leaves == NULL)
		return sl_errf(ev->err, SL_NOMEM, "search: out of memory");
	for (unsigned i = 0; i < ev->q->nleaves; i++) {
		inverted_leaf_t *lf = &res->leaves[i];
		lf->text = inv_leaf_text(ev->q->leaves[i]);
		lf->idf = ev->idf[i];
		lf->df = ev->df[i];
		lf->scores = ev->q->leaves[i]->positive;
		if (lf->text == NULL)
			return sl_errf(ev->err, SL_NOMEM, "search: out of memory");
	}
	for (size_t h = 0; h < res->n; h++) {
		inverted_hit_t *hit = &res->hits[h];
		/* The hit's segment and local number, from its global number. */
		uint64_t base = 0;
		uint32_t s = 0;
		while (s + 1 < ev->ix->nsegs && base + ev->ix->segs[s]->docs <= hit->doc)
			base += ev->ix->segs[s++]->docs;
		uint32_t d = (uint32_t)(hit->doc - base);
		hit->dl = inv_seg_doclen(ev->ix->segs[s], d);
		if ((hit->tf = calloc(res->nleaves + 1, sizeof *hit->tf)) == NULL)
			return sl_errf(ev->err, SL_NOMEM, "search: out of memory");
		for (unsigned i = 0; i < ev->q->nleaves; i++) {
			int rc = inv_explain_tf(ev, i, s, d, &hit->tf[i]);
			if (rc != SL_OK)
				return rc;
		}
	}
	return SL_OK;
}

static void inv_eval_free(inv_eval_t *ev)
{
	if (ev->lc != NULL) {
		for (size_t i = 0; i < (size_t)ev->q->nleaves * ev->ix->nsegs; i++) {
			inv_cursor_free(&ev->lc[i].c);
			u32s_free(&ev->lc[i].docs);
			u32s_free(&ev->lc[i].tfs);
		}
	}
	free(ev->lc);
	free(ev->idf);
	free(ev->df);
	free(ev->contrib);
	free(ev->heap);
	free(ev->pos[0]);
	free(ev->pos[1]);
}

/* Counts the postings blocks the terms' cursors never unpacked. */
static void inv_eval_skipped(inv_eval_t *ev)
{
	for (size_t i = 0; i < (size_t)ev->q->nleaves * ev->ix->nsegs; i++) {
		inv_lcur_t *l = &ev->lc[i];
		if (l->present && !l->phrase && l->c.listed) {
			uint32_t blocks = (l->c.it.count + POSTINGS_BLOCK - 1) / POSTINGS_BLOCK;
			ev->st->blocks_skipped += blocks - l->c.it.unpacked;
		}
	}
}

int inverted_search(inverted_t *ix, const char *query, size_t k, inverted_result_t *res,
		    sl_err_t *err)
{
	memset(res, 0, sizeof *res);
	inv_query_t q;
	int rc = inv_query_parse(query, &ix->qan, &q, err);
	if (rc != SL_OK)
		return rc;
	if (q.root == NULL || k == 0 || ix->nsegs == 0) {
		inv_query_free(&q);
		return SL_OK;
	}
	if (k > (1u << 24))
		k = 1u << 24;
	inv_eval_t ev = { .ix = ix, .q = &q, .k = k, .st = &res->stats, .err = err };
	ev.lc = calloc((size_t)q.nleaves * ix->nsegs, sizeof *ev.lc);
	ev.idf = calloc(q.nleaves, sizeof *ev.idf);
	ev.df = calloc(q.nleaves, sizeof *ev.df);
	ev.contrib = calloc(q.nleaves, sizeof *ev.contrib);
	ev.heap = calloc(k, sizeof *ev.heap);
	if (ev.lc == NULL || ev.idf == NULL || ev.df == NULL || ev.contrib == NULL || ev.heap == NULL)
		rc = sl_errf(err, SL_NOMEM, "search: out of memory");
	if (rc == SL_OK)
		rc = inv_eval_stats(&ev);
	bool disjunction = !ix->opts.exhaustive && inv_is_disjunction(q.root);
	bool conjunction = !ix->opts.exhaustive && inv_is_conjunction(q.root);
	for (uint32_t s = 0; rc == SL_OK && s < ix->nsegs && !ix->segs[s]->fresh; s++) {
		ev.seg = ix->segs[s];
		ev.si = s;
		ev.impact_scale = ev.bm.avgdl > ev.seg->bm.avgdl ? ev.bm.avgdl / ev.seg->bm.avgdl : 1.0;
		inv_reset(q.root);
		INV_TRACE(ix, "segment %06" PRIu64 " (%" PRIu32 " documents, %" PRIu32 " deleted): %s",
			  ev.seg->number, ev.seg->docs, ev.seg->ndel,
			  disjunction ? "MaxScore over the OR's terms, block-max windows"
			  : conjunction ? "leapfrog AND, block-max windows"
					: "every match scored (no pruning)");
		if (disjunction)
			inv_eval_maxscore(&ev);
		else if (conjunction)
			inv_eval_conjunction(&ev);
		else
			inv_eval_all(&ev);
		rc = ev.rc;
		ev.base += ev.seg->docs;
	}
	if (rc == SL_OK) {
		inv_eval_skipped(&ev);
		rc = inv_eval_results(&ev, res);
		INV_TRACE(ix, "%" PRIu64 " documents scored, %" PRIu64 " pruned, %" PRIu64 " postings "
			  "blocks never unpacked; %zu hits", res->stats.scored, res->stats.pruned,
			  res->stats.blocks_skipped, res->n);
	}
	if (rc == SL_OK && ix->opts.explain)
		rc = inv_explain(&ev, res);
	if (rc != SL_OK)
		inverted_result_free(res);
	inv_eval_free(&ev);
	inv_query_free(&q);
	return rc;
}

void inverted_result_free(inverted_result_t *res)
{
	for (size_t i = 0; i < res->n; i++) {
		free(res->hits[i].id);
		free(res->hits[i].tf);
	}
	free(res->hits);
	for (size_t i = 0; i < res->nleaves; i++)
		free(res->leaves[i].text);
	free(res->leaves);
	res->hits = NULL;
	res->leaves = NULL;
	res->n = res->nleaves = 0;
}
