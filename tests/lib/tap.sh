# Checks and the plan of an integration script (bash, sourced; tests/lib/lab.sh
# sources it).  docs/TESTING.md, "Writing a check", has the rules.
#
# lab_plan N            the script runs exactly N checks; prints the TAP plan "1..N"
#                       (tests/run-all.sh fails a script without one)
# check "what" CMD...   runs ONE simple command: "ok - what" when it succeeds,
#                       "not ok - what" otherwise (never "check x A && B" or
#                       "check x A | B": bash runs B outside check;
#                       tests/lib/lint_checks.py fails on them)
# ok WHAT / not_ok WHAT print a result directly; each counts as one check
# tap_done              at exit (lab.sh's trap): "not ok - plan: ..." and status 1
#                       when the number of checks run is not the plan
#
# Checks are counted in a file, so that a check run in a subshell counts too.

TAP_TALLY=$(mktemp /tmp/pxed-tap.XXXXXX)
TAP_PLAN=
LAB_FAILED=0

ok() {
	echo "ok - $*"
	echo ok >>"$TAP_TALLY"
}
not_ok() {
	echo "not ok - $*"
	echo "not ok" >>"$TAP_TALLY"
	LAB_FAILED=1
}
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# lab_plan N: declared once, near the top, before the first check.
# lab_plan none: not a test (scripts/demo.sh): no plan line, and no check.
lab_plan() {
	TAP_PLAN=$1
	[ "$1" = none ] || echo "1..$1"
}

# tap_failed: some check of this script (or of one of its subshells) failed.
tap_failed() { [ "$LAB_FAILED" -ne 0 ] || grep -qx "not ok" "$TAP_TALLY" 2>/dev/null; }

tap_done() {
	local ran
	ran=$(wc -l <"$TAP_TALLY" 2>/dev/null || echo 0)
	rm -f "$TAP_TALLY"
	if [ -z "$TAP_PLAN" ]; then
		echo "not ok - plan: no lab_plan, $ran ran"
		return 1
	fi
	[ "$TAP_PLAN" = none ] && TAP_PLAN=0
	if [ "$ran" -ne "$TAP_PLAN" ]; then
		echo "not ok - plan: $TAP_PLAN planned, $ran ran"
		return 1
	fi
	return 0
}
