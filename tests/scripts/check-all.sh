#!/bin/sh
# Sets everything up on a Debian 12 machine and runs the whole test suite
# twice: a normal build, then a build with AddressSanitizer and
# UndefinedBehaviorSanitizer; then the tests of the message path (event
# loops, workers, plugin processes, renewal) in a ThreadSanitizer build.
# Ends with one line: "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

# The tests, and the smoke run of the benchmark, need their tools too.
sh tests/scripts/deps-debian.sh test && sh tests/scripts/deps-debian.sh bench || exit 1
# Separate build directories need an unconfigured source tree.
if [ -f config.status ]; then
	echo "check-all: the source tree is configured in place; running make distclean"
	make distclean >/dev/null 2>&1 || true
fi
[ -x configure ] || ./autogen.sh >/dev/null 2>&1 || { echo "autogen failed"; exit 1; }

passed=0; failed=0; skipped=0; only=
count() {
	# One .trs file per test program; one :test-result: line per TAP case.
	p=$(cat $(find "$1" -name '*.trs') 2>/dev/null | grep -c '^:test-result: PASS')
	f=$(cat $(find "$1" -name '*.trs') 2>/dev/null | grep -Ec '^:test-result: (FAIL|ERROR|XPASS)')
	s=$(cat $(find "$1" -name '*.trs') 2>/dev/null | grep -c '^:test-result: SKIP')
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

run() {
	name=$1; shift
	dir="$top/build-$name"
	rm -rf "$dir"; mkdir -p "$dir"
	echo "== $name build: configure $*"
	if ! (cd "$dir" && "$top/configure" -q "$@" >config.out 2>&1 && make -j2 >make.out 2>&1); then
		echo "== $name build failed"; tail -n 30 "$dir/config.out" "$dir/make.out" 2>/dev/null
		failed=$((failed + 1)); return
	fi
	if grep -q 'warning:' "$dir/make.out"; then
		echo "== $name build has compiler warnings:"; grep 'warning:' "$dir/make.out" | head -n 20
		failed=$((failed + 1))
	fi
	if [ -n "$only" ]; then
		(cd "$dir" && make -j2 check TESTS="$only" >check.out 2>&1)
	else
		(cd "$dir" && make -j2 check >check.out 2>&1)
	fi
	grep -E '^(FAIL|ERROR|XPASS):' "$dir/check.out"
	grep -E '^# (TOTAL|PASS|FAIL|SKIP|ERROR):' "$dir/check.out" | sed "s/^/== $name: /"
	count "$dir"
	if grep -qE '^(FAIL|ERROR):' "$dir/check.out"; then
		for log in $(grep -lE '^not ok' $(find "$dir/tests" -name '*.log')); do
			echo "---- $log"; grep -B2 -A15 '^not ok' "$log" | head -n 60
		done
	fi
}

run plain
# The sanitizers need clang's or gcc's runtime; leaks are errors too.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS UBSAN_OPTIONS
run sanitizers --enable-sanitizers
unset ASAN_OPTIONS UBSAN_OPTIONS

# The daemon's threads share state (loops, workers, the session store, the
# tree): its message-path tests run again under ThreadSanitizer; a race is
# a failure. ca_pkcs11.sh: the CA key in a token, one object for all issuing threads.
# A plugin that crashes on purpose dies of its signal, not of the
# sanitizer's report of it.
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 handle_segv=0"
export TSAN_OPTIONS
only="tests/unit/test_http tests/unit/test_sstore tests/unit/test_tree tests/integration/session_e2e.sh
tests/integration/tree_routing.sh tests/integration/scenario.sh tests/integration/plugin_hang_path.sh
tests/integration/plugin_echo.sh tests/integration/plugin_concurrency.sh tests/integration/plugin_calls.sh tests/integration/session_attack.sh tests/integration/session_evil.sh
tests/integration/tree_renew.sh tests/integration/tree_renew_inflight.sh tests/integration/strict_input.sh
tests/unit/test_heap tests/integration/conn_hygiene.sh tests/integration/strict_edge.sh tests/integration/plugin_confine.sh
tests/integration/metrics.sh tests/integration/health.sh tests/integration/plugin_http.sh tests/integration/ca_pkcs11.sh"
only=$(echo $only)
run threads --enable-thread-sanitizer
only=

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
