#!/bin/bash
# make fuzz-run: every libFuzzer harness (build/fuzz/fuzz_*) for a while,
# each on a copy of its committed corpus (fuzz/corpus/NAME) kept in
# build/fuzz/corpus-NAME, so that what one run finds the next starts from.
# Crashes, leaks and timeouts go to build/fuzz/crashes/NAME/.  Ends with a
# table: executions, seconds, executions per second, corpus size and
# findings per harness (also in build/fuzz/summary.txt); exits 1 when any
# harness found something.
#
#   FUZZ_SECONDS=60   time per harness
#   FUZZ_RUNS=N       or a number of executions per harness instead
#   FUZZ_JOBS=1       harnesses run at once (each one process)
#   FUZZ_ONLY="a b"   only these harnesses (names without fuzz_)
set -u
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
JOBS=${FUZZ_JOBS:-1}
OUT=build/fuzz
mkdir -p "$OUT/logs" "$OUT/crashes"

harnesses=()
for bin in "$OUT"/fuzz_*; do
	[ -x "$bin" ] && [ -f "fuzz/$(basename "$bin").c" ] || continue
	name=${bin##*/fuzz_}
	if [ -n "${FUZZ_ONLY:-}" ] && ! grep -qw -- "$name" <<<"$FUZZ_ONLY"; then
		continue
	fi
	harnesses+=("$(basename "$bin")")
done

run_one() {
	local h=$1 corpus=$OUT/corpus-$1 crashes=$OUT/crashes/$1 limit
	mkdir -p "$corpus" "$crashes"
	cp -n "fuzz/corpus/$h"/* "$corpus"/ 2>/dev/null
	if [ -n "${FUZZ_RUNS:-}" ]; then
		limit="-runs=$FUZZ_RUNS"
	else
		limit="-max_total_time=$SECONDS_EACH"
	fi
	nice -n 19 "$OUT/$h" "$limit" -max_len=4096 -timeout=25 -rss_limit_mb=4096 \
		-artifact_prefix="$crashes/" -print_final_stats=1 "$corpus" \
		>"$OUT/logs/$h.log" 2>&1
	echo $? >"$OUT/logs/$h.rc"
}

running=0
for h in "${harnesses[@]}"; do
	echo "== $h"
	run_one "$h" &
	running=$((running + 1))
	if [ "$running" -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

found=0
{
	printf '%-22s %14s %8s %10s %8s %s\n' harness executions seconds exec/s corpus findings
	for h in "${harnesses[@]}"; do
		log=$OUT/logs/$h.log
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
		secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
		rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
		corpus=$(find "$OUT/corpus-$h" -type f | wc -l)
		crashes=$(find "$OUT/crashes/$h" -type f | wc -l)
		rc=$(cat "$OUT/logs/$h.rc" 2>/dev/null || echo '?')
		what=none
		if [ "$rc" != 0 ] || [ "$crashes" -gt 0 ]; then
			what="exit $rc, $crashes file(s) in $OUT/crashes/$h"
			found=1
		fi
		printf '%-22s %14s %8s %10s %8s %s\n' "$h" "${runs:-?}" "${secs:-?}" "${rate:-?}" \
			"$corpus" "$what"
	done
} | tee "$OUT/summary.txt"
exit "$found"
