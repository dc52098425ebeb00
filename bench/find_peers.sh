#!/bin/sh
# find_peers.sh — which peer libraries this compiler can really use.
#
#   usage: sh bench/find_peers.sh "CC" WANTED ["CXX"]
#     CC      the compiler command, words and all (the Makefile's $(CC))
#     WANTED  auto (every peer), none, or a comma-separated list (leveldb,sqlite)
#     CXX     the C++ compiler, for the peers with a C++ API only (xapian)
#
# For each wanted peer it compiles AND links a tiny program that includes the
# peer's header and calls one of its functions. Only a peer whose probe builds is
# reported: a header without its library, or a library without its header, does
# not count. (The probe this replaces asked the preprocessor about an escaped
# "\#include" line, which it passed through untouched, so every peer was "found".)
#
# It prints one line, `found: NAMES; missing: NAME(PACKAGE) ...; unknown: NAMES`,
# which the Makefile splits (unknown: names in WANTED that are no peer). The names are the Makefile's peer names, not store names
# (kyoto is both kyoto-hash and kyoto-tree).
set -u
cc=$1
wanted=${2:-auto}
cxx=${3:-c++}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# probe NAME PACKAGE HEADER LIB CALL: does a program calling CALL build and link?
found=""
missing=""
probe() {
	name=$1 package=$2 header=$3 lib=$4 call=$5 compiler=${6:-$cc} ext=${7:-c}
	case ",$wanted," in
	,none,) return ;;
	,auto,|*,"$name",*) ;;
	*) return ;;
	esac
	printf '#include <%s>\nint main(void) { %s; return 0; }\n' "$header" "$call" >"$tmp/$name.$ext"
	# The C compiler's view of the headers decides what is installed, for the C++ peer
	# too: a view that hides a peer (tests/without_peers.sh) hides it from both.
	if [ "$ext" = cc ] && ! printf '#if __has_include(<%s>)\nfound\n#endif\n' "$header" |
		$cc -E -x c - 2>/dev/null | grep -q found; then
		missing="$missing $name($package)"
		return
	fi
	# $compiler is deliberately unquoted: it may be a compiler with options (cc -nostdinc ...).
	if $compiler -o "$tmp/$name" "$tmp/$name.$ext" "$lib" >/dev/null 2>&1; then
		found="$found $name"
	else
		missing="$missing $name($package)"
	fi
}

probe leveldb libleveldb-dev leveldb/c.h -lleveldb \
	'leveldb_options_destroy(leveldb_options_create())'
probe rocksdb librocksdb-dev rocksdb/c.h -lrocksdb \
	'rocksdb_options_destroy(rocksdb_options_create())'
probe lmdb liblmdb-dev lmdb.h -llmdb \
	'(void)mdb_version(0, 0, 0)'
probe sqlite libsqlite3-dev sqlite3.h -lsqlite3 \
	'(void)sqlite3_libversion()'
probe kyoto libkyotocabinet-dev kclangc.h -lkyotocabinet \
	'kcdbdel(kcdbnew())'
probe xapian libxapian-dev xapian.h -lxapian \
	'(void)Xapian::version_string()' "$cxx" cc

unknown=""
case $wanted in
auto|none) ;;
*)	for w in $(echo "$wanted" | tr ',' ' '); do
		case " leveldb rocksdb lmdb sqlite kyoto xapian " in
		*" $w "*) ;;
		*) unknown="$unknown $w" ;;
		esac
	done ;;
esac
echo "found:$found; missing:$missing; unknown:$unknown"
