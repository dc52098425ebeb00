#!/bin/sh
# Runs every cmocka suite, adds up cmocka's own counts, and ends with the line
# "N passed, N failed" (", N skipped" when a test skipped, each one named above,
# e.g. a peer that was not built). A suite that crashes or exits non-zero without
# reporting a failure counts as one failed test. Exits 1 when anything failed.
#   usage: tests/run.sh BUILD_DIR SUITE...
build=$1; shift
export SL_BIN="$build/storelab"
passed=0; failed=0; skipped=0
log=$(mktemp)
for suite in "$@"; do
	"$build/tests/$suite" >"$log" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	k=$(sed -n 's/^\[  SKIPPED \] \([0-9][0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	p=${p:-0}; f=${f:-0}; k=${k:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	if [ "$f" -ne 0 ]; then
		cat "$log"
		echo "FAILED: $suite ($p passed, $f failed, exit status $rc)"
	else
		echo "ok: $suite ($p tests)"
	fi
	if [ "$k" -ne 0 ]; then
		names=$(sed -n 's/^\[  SKIPPED \] \([^0-9].*\)/\1/p' "$log" | sort -u | paste -sd, - | sed 's/,/, /g')
		echo "   skipped in $suite: $names"
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
done
rm -f "$log"
if [ "$skipped" -ne 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
