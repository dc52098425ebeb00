#!/bin/sh
# without_peers.sh — `make test` as on a machine that lacks some or all peers,
# whatever this machine has installed.
#
#   usage: sh tests/without_peers.sh [PEER...]     (default: every peer)
#     PEER  leveldb rocksdb lmdb sqlite kyoto xapian
#
# It builds a compiler view — a folder of links to everything in /usr/include
# except the hidden peers' headers, used with -nostdinc — and runs `make test`
# with that compiler in build/without-<peers>/. Then it checks what a fresh
# machine needs: the suites pass, no adapter of a hidden peer was compiled, and
# each hidden peer's test was skipped by name (never passed in silence).
# .ci/run calls it, so a peer probe that says "yes" to a missing header (the
# bug of issue 11) turns CI red: the build would try to compile that adapter.
set -eu
cd "$(dirname "$0")/.."
hidden=${*:-leveldb rocksdb lmdb sqlite kyoto xapian}
build=build/without-$(echo "$hidden" | tr ' ' '-')
view=$build/include-view

# The headers each peer's package puts in /usr/include.
peer_headers() {
	case $1 in
	leveldb) echo leveldb ;;
	rocksdb) echo rocksdb ;;
	lmdb) echo lmdb.h ;;
	sqlite) echo sqlite3.h sqlite3ext.h ;;
	kyoto) (cd /usr/include && echo kc*.h) ;;
	xapian) echo xapian.h xapian ;;
	*) echo "without_peers.sh: no peer named $1 (leveldb rocksdb lmdb sqlite kyoto xapian)" >&2; exit 2 ;;
	esac
}

# The kit's own dependencies first: the view is a snapshot of /usr/include.
make deps
hide=""
for p in $hidden; do hide="$hide $(peer_headers "$p" | tr '\n' ' ')"; done
rm -rf "$build"   # from scratch: a stale adapter object must not pass or fail the check
mkdir -p "$view"
for entry in /usr/include/*; do
	name=${entry##*/}
	case " $hide " in *" $name "*) continue ;; esac
	ln -s "$entry" "$view/$name"
done
cc_view="cc -nostdinc -isystem $(cc -print-file-name=include) -isystem /usr/local/include"
cc_view="$cc_view -isystem $PWD/$view/$(cc -print-multiarch) -isystem $PWD/$view"
# The C++ compiler (the Xapian adapter's) sees the same view, its own headers included.
cxxv=$(c++ -dumpversion | cut -d. -f1)
arch=$(c++ -print-multiarch)
cxx_view="c++ -nostdinc -nostdinc++ -isystem $PWD/$view/c++/$cxxv"
cxx_view="$cxx_view -isystem $PWD/$view/$arch/c++/$cxxv -isystem $PWD/$view/c++/$cxxv/backward"
cxx_view="$cxx_view -isystem $(c++ -print-file-name=include) -isystem /usr/local/include"
cxx_view="$cxx_view -isystem $PWD/$view/$arch -isystem $PWD/$view"

echo "== make test with these peers hidden: $hidden"
log=$build/test.log
status=0
make test BUILD="$build" CC="$cc_view" CXX="$cxx_view" >"$log" 2>&1 || status=$?
grep -E '^(peers built|ok:|FAILED|   skipped|[0-9]+ passed)' "$log" || true
if [ "$status" -ne 0 ]; then
	tail -n 40 "$log"
	echo "without_peers.sh: make test failed with $hidden hidden (log: $log)"
	exit 1
fi

# Nothing of a hidden peer may have been compiled, and its test must say skipped.
for p in $hidden; do
	if ls "$build"/bench/peer_"$p"*.o >/dev/null 2>&1; then
		echo "without_peers.sh: $p was hidden, yet its adapter was compiled"
		exit 1
	fi
	case $p in
	kyoto) stores="kyoto-hash kyoto-tree" ;;
	xapian) stores="" ;; # a search engine, not a key-value store: no harness test
	*) stores=$p ;;
	esac
	for s in $stores; do
		grep -q "skipped in harness_test:.*test_peer $s\\b" "$log" || {
			echo "without_peers.sh: the harness did not report peer $s as skipped"
			exit 1
		}
	done
	case $p in sqlite) fts=fts5 ;; xapian) fts=xapian ;; *) fts="" ;; esac
	if [ -n "$fts" ] && ! grep -q "skipped in cli_test:.*test_fts_peer_$fts\\b" "$log"; then
		echo "without_peers.sh: the fts suite's test did not report peer $fts as skipped"
		exit 1
	fi
done
echo "without_peers.sh: ok with $hidden hidden"
