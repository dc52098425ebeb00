#!/bin/sh
# Runs every cmocka suite, adds up cmocka's own counts, and ends with the line
# "N passed, N failed". A suite that crashes or exits non-zero without reporting
# a failure counts as one failed test. Exits 1 when anything failed.
#   usage: tests/run.sh BUILD_DIR SUITE...
build=$1; shift
export SL_BIN="$build/storelab"
passed=0; failed=0
log=$(mktemp)
for suite in "$@"; do
	"$build/tests/$suite" >"$log" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	p=${p:-0}; f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	if [ "$f" -ne 0 ]; then
		cat "$log"
		echo "FAILED: $suite ($p passed, $f failed, exit status $rc)"
	else
		echo "ok: $suite ($p tests)"
	fi
	passed=$((passed + p)); failed=$((failed + f))
done
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
