#!/bin/bash
# Allocation failure injection (curl's "torture" idea) across the DHCP,
# TFTP and API paths: build/torture/pxed (make torture: the sanitizer build
# with pxed's allocation functions wrapped, tests/torture/alloc_fail.c)
# fails the Nth allocation after start-up when PXED_FAIL_ALLOC=N.
#
# A scripted sequence of requests: a DHCP DORA and a release (dora.py), a
# TFTP download with options (curl: blksize, tsize, timeout), one with
# windowsize 4 (atftp) and one by RFC 2090 multicast (rfc2090_client.py),
# each compared byte for byte, a TFTP error (a missing file), an HTTP
# download, the API with a token (POST a host, GET it, POST a wipe task for
# it, GET its boot script, DELETE it: the task ends with it) and a
# configuration reload (SIGHUP,
# which rebuilds DHCP's subnets).  A counting run (N = 0) gives T, the
# allocations the sequence makes; then for N = 1 .. T (every K-th N when T
# is larger than the runs asked for, K = ceil(T / runs), from a random
# offset printed for a rerun: ALLOC_FAIL_FROM) a fresh pxed runs the
# sequence once with the Nth allocation failing (anything may be answered,
# an error or nothing), then once more, which must be answered correctly in
# every part; pxed must stop cleanly (exit 0), with no sanitizer report and
# no leak (LeakSanitizer at exit); and a host the first sequence's POST was
# answered 5XX for is not there at its GET (a stored host is answered as
# stored, whatever failed after).  The loop ends at the first N the
# sequence no longer reaches, or at ALLOC_FAIL_SECONDS (it says so).  Two
# series: pxed's own allocations with jansson's and libuv's
# (ALLOC_FAIL_RUNS, 30), then the same with SQLite's
# (ALLOC_FAIL_RUNS_SQLITE, 20: many more allocations, sampled sparsely).
LAB_ID=af$$
source "$(dirname "$0")/../lib/lab.sh"
source "$(dirname "$0")/../lib/api.sh"
PXED=${TORTURE_PXED:-build/torture/pxed}
RUNS=${ALLOC_FAIL_RUNS:-30}
RUNS_SQLITE=${ALLOC_FAIL_RUNS_SQLITE:-20}
SECONDS_MAX=${ALLOC_FAIL_SECONDS:-240}
lab_plan 14
[ -x "$PXED" ] || { not_ok "setup: $PXED is not built (make torture)"; exit 1; }
lab_up || exit 1
make_file boot.bin 300000
DORA=(python3 "$(pwd)/tests/lib/dora.py" --iface c0 --count 1 --release --wait-ms 500
	--deadline-s 3)
SEQ_NO=0
start() { pxed_start --dhcp-range 192.0.2.10,192.0.2.250,1h --tftp-multicast; }
ip -n "$LAB_CLI" route add 224.0.0.0/4 dev c0 || { not_ok "setup: a multicast route"; exit 1; }

# sequence TAG NUMBER: the requests, one result word each, on stdout; the
# MACs (DHCP's NUMBER:00, the API's host NUMBER:01) are used once in the
# whole run: a host an injected failure left behind must not answer later
sequence() {
	local mac r
	mac=$(printf '52:54:00:%02x:%02x' $(($2 >> 8 & 255)) $(($2 & 255)))
	r=$(in_cli timeout 5 "${DORA[@]}" --prefix "$mac" 2>/dev/null | awk '{print $1}' | tr '\n' +)
	echo "dhcp=${r:-none}"
	rm -f "$LAB_DIR/got.$1"
	in_cli timeout 5 curl -s --max-time 4 --tftp-blksize 1468 \
		"tftp://$LAB_SRV_IP/boot.bin" -o "$LAB_DIR/got.$1"
	r=$?
	cmp -s "$LAB_DIR/got.$1" "$LAB_ROOT/boot.bin" && r=same
	echo "tftp=$r"
	in_cli timeout 5 curl -s --max-time 4 "tftp://$LAB_SRV_IP/no/such/file" -o /dev/null
	echo "tftp-missing=$?"
	rm -f "$LAB_DIR/got.w$1"
	in_cli timeout 5 atftp --option "blksize 1024" --option "windowsize 4" --option "tsize 0" \
		-g -r boot.bin -l "$LAB_DIR/got.w$1" "$LAB_SRV_IP" >/dev/null 2>&1
	r=$?
	cmp -s "$LAB_DIR/got.w$1" "$LAB_ROOT/boot.bin" && r=same
	echo "tftp-window=$r"
	rm -f "$LAB_DIR/got.m$1"
	in_cli timeout 8 python3 tests/lib/rfc2090_client.py "$LAB_SRV_IP" boot.bin \
		"$LAB_DIR/got.m$1" --deadline 6 >/dev/null 2>&1
	r=$?
	cmp -s "$LAB_DIR/got.m$1" "$LAB_ROOT/boot.bin" && r=same
	echo "tftp-multicast=$r"
	r=$(in_cli timeout 5 curl -s --max-time 4 "$URL/boot.bin" | cmp -s - "$LAB_ROOT/boot.bin" &&
		echo same)
	echo "http=${r:-differs}"
	api POST /api/v1/hosts "{\"mac\":\"$mac:01\"}"
	api GET "/api/v1/hosts/$mac:01"
	api POST /api/v1/tasks "{\"host\":\"$mac:01\",\"type\":\"wipe\"}"
	r=$(in_cli timeout 5 curl -s --max-time 4 "$URL/api/v1/boot/$mac:01.ipxe" | head -1)
	echo "script=${r:0:6}"
	api DELETE "/api/v1/hosts/$mac:01"
	r=$(log_mark)
	kill -HUP "$PXED_PID" 2>/dev/null
	wait_log "configuration reloaded|reload refused" 5 "$r"
	r=$(log_since "$r" | grep -oE "configuration reloaded|reload refused" | head -1)
	echo "reload=${r// /-}"
}
# api METHOD PATH [JSON]: "METHOD=CODE" ("TASK=CODE" for a task's POST)
api() {
	local data=() w=$1
	[ "$2" = /api/v1/tasks ] && w=TASK
	[ -z "${3:-}" ] || data=(-H 'Content-Type: application/json' -d "$3")
	echo "$w=$(in_cli timeout 5 curl -s --max-time 4 -o /dev/null -w '%{http_code}' \
		-X "$1" -H "$(lab_auth)" "${data[@]}" "$URL$2")"
}
WANT="dhcp=ACK+RELEASE+ tftp=same tftp-missing=68 tftp-window=same tftp-multicast=same http=same POST=201 GET=200 TASK=201 script=#!ipxe DELETE=204 reload=configuration-reloaded"

# symbolize: the stacks of a log with file:line (the sandbox lets no
# symbolizer run inside pxed: its frames are "(binary+0xOFFSET)")
symbolize() {
	local line bin off
	while IFS= read -r line; do
		if [[ $line =~ \((/[^+]*)\+(0x[0-9a-f]+)\)$ ]]; then
			bin=${BASH_REMATCH[1]} off=${BASH_REMATCH[2]}
			echo "${line%(*} $(addr2line -Cfpe "$bin" "$off" 2>/dev/null)"
		else
			echo "$line"
		fi
	done
}
# site N: where the failed allocation of run N was asked for: the first
# frame of pxed's source below the wrappers, "src/FILE:LINE(FUNCTION)"
site() {
	sed -n '/^alloc-fail: allocation/,/^$/p' "$RUNS_FILE.$1.log" | grep -F "$PXED+" |
		symbolize | grep -v tests/torture | head -1 |
		sed -n 's| (discriminator [0-9]*)$||; s|.* \([^ ]*\) at .*/src/\(.*\)$|src/\2(\1)|p'
}

# run N: pxed with PXED_FAIL_ALLOC=N, the sequence, the sequence again
# (only when the first reached N: not in the counting run, N = 0, whose
# T is the first sequence's count), stop; one line in $RUNS_FILE,
# "N hit|miss alive|dead second:ok|RESULTS rc=STATUS clean|REPORT
# first:RESULTS :SITE", the failed allocation's stack in $RUNS_FILE.N.log
run() {
	local n=$1 from first second alive=alive rc report=clean hit=miss
	from=1
	[ -f "$LAB_DIR/pxed.log" ] && from=$(($(wc -l <"$LAB_DIR/pxed.log") + 1))
	PXED_FAIL_ALLOC=$n start || { echo "$n start-failed" >>"$RUNS_FILE"; return 1; }
	SEQ_NO=$((SEQ_NO + 2))
	first=$(sequence 1 "$SEQ_NO" | tr '\n' ' ')
	kill -0 "$PXED_PID" 2>/dev/null || alive=dead
	# the counting run: the one sequence must be answered correctly; a
	# run whose sequence did not reach N stops there (the loop's end)
	second=$first
	sleep 0.1
	grep -q "^alloc-fail: allocation $n failed" <(tail -n +"$from" "$LAB_DIR/pxed.log") &&
		second=$(sequence 2 $((SEQ_NO + 1)) | tr '\n' ' ')
	pxed_stop
	rc=$?
	tail -n +"$from" "$LAB_DIR/pxed.log" >"$RUNS_FILE.$n.log"
	grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$RUNS_FILE.$n.log" &&
		report=REPORT
	grep -q "^alloc-fail: allocation $n failed" "$RUNS_FILE.$n.log" && hit=hit:$(site "$n")
	[ "${second% }" = "$WANT" ] && second=ok
	echo "$n ${hit%%:*} $alive second:${second// /,} rc=$rc $report first:${first// /,} ${hit#hit}" \
		>>"$RUNS_FILE"
}

# field COLUMN VALUE: the runs of this series whose COLUMN is not VALUE
# (printed; true when there is none)
field() {
	local v
	v=$(awk -v c="$1" -v w="$2" 'NR > 1 && $c != w' "$RUNS_FILE")
	[ -z "$v" ] || { sed 's/^/# /' <<<"$v" | head -5; return 1; }
}

# stored_not_5xx: no run whose first sequence had its host answered 5XX
# and then found (POST=5XX,GET=200); those runs printed
stored_not_5xx() {
	local v
	v=$(grep -E "first:.*,POST=5[0-9][0-9],GET=200," "$RUNS_FILE")
	[ -z "$v" ] || { sed 's/^/# /' <<<"$v" | head -5; return 1; }
}

# series NAME RUNS: the counting run, then N from FROM every K up to the
# first N the sequence does not reach (or the time is up); its checks
series() {
	local name=$1 runs=$2 t k from n last=0 hits end
	RUNS_FILE=$LAB_DIR/runs.$name
	: >"$RUNS_FILE"
	run 0
	t=$(sed -n 's/^alloc-fail: \([0-9]*\) allocations counted after start-up$/\1/p' \
		"$RUNS_FILE.0.log" | tail -1)
	check "$name: counting run: the sequence is answered correctly, pxed stops cleanly, T = ${t:-?}" \
		grep -q "^0 miss alive second:ok rc=0 clean" "$RUNS_FILE"
	[ "${t:-0}" -gt 0 ] || return 1
	k=$(((t + runs - 1) / runs))
	from=${ALLOC_FAIL_FROM:-$((RANDOM % k + 1))}
	echo "# $name: T = $t; N from $from every $k (ALLOC_FAIL_FROM=$from to rerun)"
	end=$((SECONDS + SECONDS_MAX))
	n=$from
	while [ $SECONDS -lt $end ]; do
		run "$n" || break
		last=$n
		tail -1 "$RUNS_FILE" | grep -q "^$n miss" && break
		n=$((n + k))
	done
	tail -n +2 "$RUNS_FILE" | sed "s/^/# $name N=/"
	hits=$(awk 'NR > 1 && $2 == "hit"' "$RUNS_FILE" | wc -l)
	check "$name: $hits allocations failed, up to an N past the sequence's ($last, ${SECONDS_MAX} s at most)" \
		grep -q "^$last miss" "$RUNS_FILE"
	check "$name: pxed never crashed (alive after every failure)" field 3 alive
	check "$name: the next sequence after every failure is answered correctly" \
		field 4 second:ok
	check "$name: pxed stopped cleanly every time (exit 0)" field 5 rc=0
	check "$name: no sanitizer report and no leak at any N" field 6 clean
	check "$name: no host answered 5XX was stored (POST=5XX then GET=200)" stored_not_5xx
	tap_failed || return 0
	awk 'NR > 1 && ($3 != "alive" || $4 != "second:ok" || $5 != "rc=0" || $6 != "clean") {print $1}' \
		"$RUNS_FILE" | head -3 | while read -r n; do
		echo "--- $name: run N=$n ---"
		grep -v "^\[" "$RUNS_FILE.$n.log" | symbolize | head -80
	done
}

# pxed's own allocations, jansson's and libuv's
series own "$RUNS"
# the same and SQLite's: many more, sampled more sparsely
PXED_FAIL_ALLOC_SQLITE=1 series sqlite "$RUNS_SQLITE"
lab_finish
