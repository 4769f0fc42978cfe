#!/bin/sh
# A fuzzing campaign: runs each target named (token, csr, ...) for
# FUZZ_SECONDS (default 60) over a copy of its seed corpus, so that what it
# finds stays out of the source tree until someone adds it, and reports per
# target the coverage libFuzzer reached (its last cov: and ft: figures), the
# corpus it grew to, its executions and any crash. A crashing input is
# written to OUT/<target>/crashes/; copied into tests/fuzz/corpus/<target>/,
# make check replays it from then on. Runs in a build configured with
# --enable-fuzzing (make fuzz-campaign); FUZZ_JOBS targets at a time
# (default 1), FUZZ_TIMEOUT seconds at most for one input (default 30),
# under nice. Exits 1 when a target crashed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$here/../..}
top_builddir=${top_builddir:-$top_srcdir}
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
timeout=${FUZZ_TIMEOUT:-30}
out=${FUZZ_OUT:-$top_builddir/fuzz-campaign}
[ $# -gt 0 ] || { echo "usage: campaign.sh TARGET..." >&2; exit 2; }

run() {
	t=$1 dir=$out/$1
	rm -rf "$dir"
	mkdir -p "$dir/corpus" "$dir/crashes"
	cp "$top_srcdir/tests/fuzz/corpus/$t/"* "$dir/corpus/"
	nice -n 10 "$top_builddir/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout="$timeout" \
		-artifact_prefix="$dir/crashes/" "$dir/corpus" >"$dir/log" 2>&1
	echo $? >"$dir/status"
}

# What one target reached, on one line.
report() {
	t=$1 dir=$out/$1
	last=$(grep -a '^#[0-9].* cov: ' "$dir/log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([^ ]*\).*/\1/p')
	execs=$(echo "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
	found=$(ls "$dir/crashes" | head -n 1)
	if [ -n "$found" ]; then
		result="CRASH $dir/crashes/$found"
	elif [ "$(cat "$dir/status")" != 0 ]; then
		result="FAILED (exit $(cat "$dir/status"), see $dir/log)"
	else
		result=ok
	fi
	printf '%-10s %6s %7s %12s %10s  %s\n' "$t" "${cov:--}" "${ft:--}" "${corp:--}" "${execs:--}" "$result"
}

mkdir -p "$out"
echo "fuzz campaign: $# target(s), ${seconds}s each, $jobs at a time, in $out"
n=0
for t in "$@"; do
	run "$t" &
	n=$((n + 1))
	if [ "$n" -ge "$jobs" ]; then
		wait
		n=0
	fi
done
wait
status=0
printf '%-10s %6s %7s %12s %10s  %s\n' target cov ft corpus execs result
for t in "$@"; do
	line=$(report "$t")
	echo "$line"
	case $line in *CRASH*|*FAILED*) status=1 ;; esac
done
if [ "$status" != 0 ]; then
	echo "A crashing input becomes a seed: cp OUT/<target>/crashes/FILE $top_srcdir/tests/fuzz/corpus/<target>/"
fi
exit $status
