#!/bin/sh
# The benchmark program runs and prints every row with its baseline (each
# operation once: figures from this run mean nothing and are not read).
. "$top_srcdir/tests/lib.sh"
"$top_builddir/tests/bench/bench_crypto" 0 >"$WORK/bench" 2>&1
st=$?
check "bench_crypto runs" test $st = 0
for r in "session (offer + accept)" "section seal + open, 1 KB" "section seal + open, 16 KB"; do
	check "it prints '$r' beside its baseline" grep -q "^$r .*x\$" "$WORK/bench"
done
check "and the memory a provider holds per session" grep -q "^provider memory per session .* bytes" "$WORK/bench"
