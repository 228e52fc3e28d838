#!/bin/bash
# Runs every test and ends with one line: "N passed, N failed".
#
# Unit tests (cmocka) run twice: optimised and under ASan+UBSan.
# Integration tests (tests/integration/*.sh) run the sanitizer build of
# pxed in network namespaces they create; each prints its plan "1..N" and
# "ok - ..." or "not ok - ..." per check: a script without a plan, with a
# number of checks other than its plan, or with no check at all fails.
# tests/lib/lint_checks.py (one check) fails on check calls that test less
# than they say.  Fuzz harnesses run a bounded number of iterations over
# their committed corpus.
set -u
cd "$(dirname "$0")/.."
LOG_DIR=build/test-logs
mkdir -p "$LOG_DIR"
passed=0
failed=0
failures=()

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

record() {     # name status
	if [ "$2" -eq 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$1")
	fi
}

run_unit() {   # binary
	local bin=$1 name log out
	name=${bin#build/}
	log="$LOG_DIR/$(echo "$name" | tr / _).log"
	timeout 300 "$bin" >"$log" 2>&1
	local rc=$?
	# cmocka: "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)...", once
	# a group (the store's tests run a group on each engine)
	local p f
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{ n += $1 } END { print n + 0 }')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{ n += $1 } END { print n + 0 }')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1     # crashed or sanitizer report
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		failures+=("$name (see $log)")
		tail -30 "$log"
	fi
	printf '%-40s %s passed, %s failed\n' "$name" "$p" "$f"
}

run_integration() {  # script
	local script=$1 name log
	name=$(basename "$script" .sh)
	log="$LOG_DIR/integration_$name.log"
	PXED=${PXED:-build/asan/pxed} timeout 900 bash "$script" >"$log" 2>&1
	local rc=$?
	local p f plan ran
	p=$(grep -cE '^ok( [0-9]+)? - ' "$log")
	f=$(grep -cE '^not ok( [0-9]+)? - ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with $rc" >>"$log"
	fi
	# the plan: "1..N" once; the checks run, its own "plan:" failure aside
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$log")
	ran=$((p + f - $(grep -cE '^not ok( [0-9]+)? - (plan:|[^ ]* exited with)' "$log")))
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name printed no check" >>"$log"
	elif grep -qE '^not ok( [0-9]+)? - plan:' "$log"; then
		:   # tests/lib/tap.sh said so already
	elif [ -z "$plan" ] || [ "$(wc -l <<<"$plan")" -ne 1 ]; then
		f=$((f + 1))
		echo "not ok - $name has no plan line (1..N, lab_plan N) or more than one" >>"$log"
	elif [ "$ran" -ne "$plan" ]; then
		f=$((f + 1))
		echo "not ok - $name: plan $plan, $ran checks ran" >>"$log"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		failures+=("integration/$name (see $log)")
		grep -E '^not ok' "$log"
		tail -40 "$log"
	fi
	printf '%-40s %s passed, %s failed\n' "integration/$name" "$p" "$f"
}

run_fuzz() {   # harness
	local bin=$1 name corpus log
	name=$(basename "$bin")
	corpus=fuzz/corpus/$name
	log="$LOG_DIR/fuzz_$name.log"
	local work
	work=$(mktemp -d)
	cp -r "$corpus"/. "$work"/ 2>/dev/null
	# 100,000 executions, or 60 s for the harnesses that drive a real
	# API on SQLite (fuzz_boot_script: ~1,000 a second)
	timeout 300 "$bin" -runs="${FUZZ_RUNS:-100000}" -max_total_time=60 -max_len=4096 \
		"$work" >"$log" 2>&1
	record "fuzz/$name" $?
	rm -rf "$work"
	printf '%-40s %s\n' "fuzz/$name" "$(tail -1 "$log" | cut -c1-60)"
}

run_lint() {
	local log=$LOG_DIR/lint_checks.log
	python3 tests/lib/lint_checks.py >"$log" 2>&1
	local rc=$?
	record "lint_checks" $rc
	[ "$rc" -eq 0 ] || cat "$log"
	printf '%-40s %s\n' "lint_checks" "$(tail -1 "$log")"
}

# One PostgreSQL for every unit test of the store (tests/lib/pg.sh): each
# test makes a schema of its own in it.
. tests/lib/pg.sh
if pg_start; then
	export PXED_TEST_PG=$PG_DIR
	trap pg_stop EXIT
else
	echo "PostgreSQL did not start (tests/lib/pg.sh): the store's tests start their own"
fi

run_lint
for t in build/tests/test_* build/asan/tests/test_*; do
	[ -x "$t" ] && run_unit "$t"
done
pg_stop
unset PXED_TEST_PG
if [ "$(id -u)" -eq 0 ]; then
	for s in tests/integration/*.sh; do
		[ -f "$s" ] && run_integration "$s"
	done
else
	echo "integration tests need root (network namespaces): skipped"
	failed=$((failed + 1))
	failures+=("integration (not root)")
fi
for f in build/fuzz/fuzz_*; do
	[ -x "$f" ] && run_fuzz "$f"
done

if [ "${#failures[@]}" -gt 0 ]; then
	echo "failures:"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
