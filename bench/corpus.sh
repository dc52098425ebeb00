#!/bin/sh
# corpus.sh — text corpora for the inverted index, as `id<TAB>text` lines (the
# input of `storelab index --corpus` and of the fts bench suite).
#
#   sh bench/corpus.sh debian [OUT]            the English descriptions of the Debian
#                                              packages this machine's apt knows
#   sh bench/corpus.sh translations FILE...    the same, from Translation files given
#   sh bench/corpus.sh zipf DOCS [SEED] [OUT]  synthetic text, for a machine without apt
#   sh bench/corpus.sh queries CORPUS N [SEED] [OUT] [MAXDF]
#                                              N queries (KIND<TAB>words) drawn from CORPUS
#
# debian: apt fetches the Translation-en lists (`apt-get update -o
# Acquire::Languages=en`, as root: Docker images turn them off), `apt-get
# indextargets` finds them and `apt-helper cat-file` opens them whatever their
# compression. One document per package: its id is the package name (the first
# list that has it wins), its text the short description, then the long one,
# paragraphs joined by spaces. About 64,000 documents, 26 MB of text on Debian 12.
#
# zipf: DOCS documents of 20 to 300 words drawn from a 50,000-word vocabulary
# with Zipf's law (the word of rank r comes with probability proportional to
# 1/r), as natural text roughly does, so postings lengths span the same orders of
# magnitude. The same SEED (default 1) gives the same corpus.
#
# queries: a queries file for `storelab bench --suite fts`, a quarter of each
# kind, words taken from random documents of the corpus (lower-cased runs of
# ASCII letters and digits, 3 to 20 long) so that most queries have matches:
# term (one word), and (two words of one document), or (a word from each of two
# documents), phrase (two or three words side by side in one document, any length).
# With MAXDF, the queries holding a word that more than MAXDF documents contain
# are then dropped (fewer than N remain): queries of rarer words, closer to what
# people type into a search box than words drawn as often as they occur.
set -eu

out() { if [ -n "${1:-}" ]; then exec >"$1"; fi; }

# Translation stanzas on stdin -> one TSV line per new package.
to_tsv() {
	awk '
	function flush() {
		if (id != "" && !(id in seen) && text != "") {
			seen[id] = 1
			gsub(/\t/, " ", text)
			print id "\t" text
		}
		id = ""; text = ""; indesc = 0
	}
	/^Package: / { flush(); id = $2; next }
	/^Description-[a-zA-Z_]+: / { sub(/^Description-[a-zA-Z_]+: /, ""); text = $0; indesc = 1; next }
	/^ \.$/ && indesc { next }
	/^ / && indesc { sub(/^ /, ""); text = text " " $0; next }
	/^$/ { flush(); next }
	{ indesc = 0 }
	END { flush() }'
}

case "${1:-}" in
debian)
	if [ "$(id -u)" != 0 ]; then
		echo "corpus.sh debian: run as root (apt-get update fetches the Translation-en lists)" >&2
		exit 1
	fi
	apt-get update -qq -o Acquire::Languages=en >/dev/null
	files=$(apt-get indextargets -o Acquire::Languages=en --format '$(FILENAME)' \
		'Identifier: Translations' 'Language: en')
	if [ -z "$files" ]; then
		echo "corpus.sh debian: apt has no English Translation lists (try: sh bench/corpus.sh zipf 60000)" >&2
		exit 1
	fi
	out "${2:-}"
	for f in $files; do
		[ -e "$f" ] && /usr/lib/apt/apt-helper cat-file "$f"
		echo
	done | to_tsv
	;;
translations)
	shift
	for f in "$@"; do
		case $f in
		*.lz4|*.gz|*.xz|*.bz2|*.zst) /usr/lib/apt/apt-helper cat-file "$f" ;;
		*) cat "$f" ;;
		esac
		echo
	done | to_tsv
	;;
zipf)
	docs=${2:?usage: corpus.sh zipf DOCS [SEED] [OUT]}
	seed=${3:-1}
	out "${4:-}"
	awk -v docs="$docs" -v seed="$seed" '
	function word(r,    w, x) {   # the word of rank r: letters from its number
		w = ""; x = r * 7919 + 13
		do { w = w substr("etaoinshrdlucmfwypvbgkqjxz", x % 26 + 1, 1); x = int(x / 26) } while (x > 0)
		return w
	}
	BEGIN {
		srand(seed); V = 50000; total = 0
		for (r = 1; r <= V; r++) { total += 1 / r; cdf[r] = total }
		for (d = 1; d <= docs; d++) {
			n = 20 + int(rand() * 281); line = ""
			for (i = 0; i < n; i++) {
				u = rand() * total; lo = 1; hi = V
				while (lo < hi) { mid = int((lo + hi) / 2); if (cdf[mid] < u) lo = mid + 1; else hi = mid }
				line = line (i ? " " : "") word(lo)
			}
			printf "doc%d\t%s\n", d, line
		}
	}'
	;;
queries)
	corpus=${2:?usage: corpus.sh queries CORPUS N [SEED] [OUT] [MAXDF]}
	n=${3:?usage: corpus.sh queries CORPUS N [SEED] [OUT] [MAXDF]}
	seed=${4:-1}
	out "${5:-}"
	awk -F '\t' -v n="$n" -v seed="$seed" -v maxdf="${6:-0}" '
	{
		text[NR] = $2
		if (maxdf > 0) {   # document frequencies, for dropping queries of common words
			m = split(tolower($2), raw, /[^a-z0-9]+/); delete seen
			for (i = 1; i <= m; i++)
				if (raw[i] != "" && !(raw[i] in seen)) { seen[raw[i]] = 1; df[raw[i]]++ }
		}
	}
	function rare(q,    k, i, ws) {   # every word of q in at most maxdf documents
		if (maxdf <= 0) return 1
		k = split(q, ws, " ")
		for (i = 1; i <= k; i++) if (df[ws[i]] > maxdf) return 0
		return 1
	}
	function emit(kind, q) { if (rare(q)) print kind "\t" q }
	function words(d,    t, k, i, m) {   # the words of document d into w[1..nw]
		t = tolower(text[d]); m = split(t, raw, /[^a-z0-9]+/); nw = 0; na = 0
		for (i = 1; i <= m; i++) {
			if (raw[i] != "") all[++na] = raw[i]
			if (length(raw[i]) >= 3 && length(raw[i]) <= 20) w[++nw] = raw[i]
		}
		return nw
	}
	function pick() { return 1 + int(rand() * NR) }
	END {
		srand(seed)
		for (q = 0; q < n; q++) {
			kind = q % 4
			do { d = pick() } while (words(d) < 3)
			a = w[1 + int(rand() * nw)]
			if (kind == 0) emit("term", a)
			else if (kind == 1) emit("and", a " " w[1 + int(rand() * nw)])
			else if (kind == 2) {
				do { d = pick() } while (words(d) < 3)
				emit("or", a " " w[1 + int(rand() * nw)])
			} else {
				len = na >= 4 && rand() < 0.5 ? 3 : 2; i = 1 + int(rand() * (na - len + 1))
				p = all[i]; for (j = 1; j < len; j++) p = p " " all[i + j]
				emit("phrase", p)
			}
		}
	}' "$corpus"
	;;
*)
	sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
