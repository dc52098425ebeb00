/*
 * peer_xapian.cc — Xapian, the fts suite's second peer (bench/fts_bench.h),
 * through its C++ API; compiled only when libxapian-dev is installed.
 *
 * Set up as its users would for this job, at its best: one WritableDatabase
 * (the default glass backend), documents added with add_document, positions
 * kept, committed once. (Raising XAPIAN_FLUSH_THRESHOLD from its default of
 * 10,000 documents to the whole corpus, as Xapian's documentation suggests for
 * bulk loads, made this build slower here — 7,600 docs/s against 10,300, with
 * four times the memory — so the default stays.)
 * queries built with the Query API (OP_AND, OP_OR, OP_PHRASE) and ranked with
 * BM25Weight(k1 1.2, k2 0, k3 1, b 0.75, min_normlen 0.5), the same k1 and b
 * as ours and FTS5's. The terms are cut by the kit's tokenizer (FTS5's
 * unicode61 rules) for documents and queries alike, so the three engines rank
 * the same terms; Xapian's own TermGenerator folds accents differently.
 */
#include <xapian.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "bench/fts_bench.h"
#include "index/tokenizer.h"
}

namespace {

struct xap {
	Xapian::WritableDatabase db;
	tokenizer_t tk;
};

int fail(char *err, size_t n, const char *what, const Xapian::Error &e)
{
	std::snprintf(err, n, "xapian: %s: %s", what, e.get_description().c_str());
	return -1;
}

std::vector<std::string> terms_of(tokenizer_t *tk, const char *text, size_t len)
{
	std::vector<std::string> out;
	sl_err_t e;
	if (tokenizer_init(tk, sl_slice(text, len), &e) != SL_OK)
		return out;
	while (tokenizer_next(tk))
		out.emplace_back(reinterpret_cast<const char *>(tk->token.data), tk->token.len);
	return out;
}

int xap_open(const char *dir, void **h, char *err, size_t n)
{
	try {
		std::string path = std::string(dir) + "/xapian";
		xap *x = new xap{ Xapian::WritableDatabase(path, Xapian::DB_CREATE_OR_OPEN), {} };
		*h = x;
		return 0;
	} catch (const Xapian::Error &e) {
		return fail(err, n, "open", e);
	}
}

int xap_add(void *h, sl_slice_t id, sl_slice_t text, char *err, size_t n)
{
	xap *x = static_cast<xap *>(h);
	try {
		Xapian::Document doc;
		sl_err_t e;
		if (tokenizer_init(&x->tk, text, &e) != SL_OK) {
			std::snprintf(err, n, "xapian: %s", e.msg);
			return -1;
		}
		while (tokenizer_next(&x->tk))
			doc.add_posting(std::string(reinterpret_cast<const char *>(x->tk.token.data),
						    x->tk.token.len),
					x->tk.position + 1);
		doc.set_data(std::string(reinterpret_cast<const char *>(id.data), id.len));
		x->db.add_document(doc);
		return 0;
	} catch (const Xapian::Error &e) {
		return fail(err, n, "add", e);
	}
}

int xap_commit(void *h, char *err, size_t n)
{
	try {
		static_cast<xap *>(h)->db.commit();
		return 0;
	} catch (const Xapian::Error &e) {
		return fail(err, n, "commit", e);
	}
}

/* Our query syntax goes through unchanged: kind<TAB>words is rebuilt in xap_search. */
void xap_query(int kind, const char *words, buf_t *out)
{
	buf_clear(out);
	char k = (char)('0' + kind);
	buf_append(out, &k, 1);
	buf_append(out, words, std::strlen(words) + 1);
}

int xap_search(void *h, const char *query, size_t k, fts_hit_t *hits, size_t *nhits, char *err,
	       size_t n)
{
	xap *x = static_cast<xap *>(h);
	*nhits = 0;
	try {
		int kind = query[0] - '0';
		std::vector<std::string> words = terms_of(&x->tk, query + 1, std::strlen(query + 1));
		Xapian::Query::op op = kind == FTS_OR ? Xapian::Query::OP_OR
				       : kind == FTS_PHRASE ? Xapian::Query::OP_PHRASE
							    : Xapian::Query::OP_AND;
		Xapian::Query q(op, words.begin(), words.end());
		Xapian::Enquire enquire(x->db);
		enquire.set_query(q);
		enquire.set_weighting_scheme(Xapian::BM25Weight(1.2, 0, 1, 0.75, 0.5));
		Xapian::MSet m = enquire.get_mset(0, (Xapian::doccount)k);
		for (Xapian::MSetIterator i = m.begin(); i != m.end() && *nhits < k; ++i) {
			fts_hit_t *hit = &hits[(*nhits)++];
			std::snprintf(hit->id, sizeof hit->id, "%s", i.get_document().get_data().c_str());
			hit->score = i.get_weight();
		}
		return 0;
	} catch (const Xapian::Error &e) {
		return fail(err, n, "query", e);
	}
}

void xap_close(void *h)
{
	xap *x = static_cast<xap *>(h);
	try {
		x->db.close();
	} catch (const Xapian::Error &) {
	}
	tokenizer_free(&x->tk);
	delete x;
}

} // namespace

extern "C" const fts_ops_t peer_xapian_ops = {
	"xapian", xap_open, xap_add, xap_commit, xap_query, xap_search, xap_close,
};
