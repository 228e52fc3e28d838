#!/bin/bash
# pxed against bad and hostile TFTP input: malformed requests answered as
# documented, the EDK2 size-query pattern, a flood of garbage, clients
# that vanish, session caps, stray packets.  After each, pxed must still
# serve a normal download.  Needs root, ip(8), curl; uses build/tools/udp-probe.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/lab.sh
lab_plan 62

P=$UDP_PROBE
SRV=$LAB_SRV_IP:69
SMALL_SIZE=5000
BIG_SIZE=3000000
ABORT=0005000000              # ERROR 0 "": ends a probe's session at once
# RSS bounds: a clean run grows by a few MiB (ASan: ~12 -> ~19 MiB).  ASan's
# quarantine may keep up to 256 MiB of freed chunks, but 2000 short
# sessions of ~10 KiB free only ~20 MiB into it; so under 200 MiB in all and
# under 64 MiB of growth, while ~10 KiB kept per request (70 MiB) would fail.
RSS_MAX_KB=${RSS_MAX_KB:-204800}

# probe ARGS...: udp-probe from the client namespace, output in $OUT.
probe() {
	OUT=$(in_cli timeout 30 "$P" --to "$SRV" "$@" 2>&1)
	PROBE_RC=$?
	echo "$OUT" | grep -v '^tftp DATA\|^from .* 0003' | head -8 | sed 's/^/# /'
	return $PROBE_RC
}

# rrq_hex NAME MODE [OPTNAME OPTVALUE]...: an RRQ in hex.
rrq_hex() {
	local h=0001 s
	for s in "$@"; do
		h+=$(hexstr "$s")00
	done
	echo "$h"
}

in_range() { [ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
# all_error_1: udp-probe printed replies ("from ..." lines), and each one
# decoded as TFTP ERROR code 1 (no DATA, no OACK, no other code or opcode)
all_error_1() {
	local n e
	n=$(grep -c '^from ' <<<"$OUT")
	e=$(grep -c '^tftp ERROR code=1 ' <<<"$OUT")
	[ "$n" -ge 1 ] && [ "$e" -eq "$n" ] && [ "$(grep -c '^tftp ' <<<"$OUT")" -eq "$n" ]
}
out_has() { grep -qE -- "$1" <<<"$OUT"; }
out_lacks() { ! grep -qE -- "$1" <<<"$OUT"; }

# silence_or_error CODE: no reply, or only ERROR CODE.
silence_or_error() {
	out_has "replies 0$" && return 0
	out_has "tftp ERROR code=$1 " && ! grep '^tftp' <<<"$OUT" | grep -qv "ERROR code=$1 "
}

curl_ok() {
	in_cli timeout 30 curl -sf -o "$LAB_DIR/curl.out" "http://$LAB_SRV_IP/$1" &&
		cmp -s "$LAB_DIR/curl.out" "$LAB_ROOT/$1"
}

# tftp_ok NAME [udp-probe args]: a full TFTP download, byte-identical.
tftp_ok() {
	local name=$1
	shift
	probe --rrq "$name" "$@" --download "$LAB_DIR/tftp.out" --wait-ms 5000 &&
		cmp -s "$LAB_DIR/tftp.out" "$LAB_ROOT/$name"
}

# wait_sessions N SECONDS: until the status API reports N active sessions.
wait_sessions() {
	local i n
	for i in $(seq 1 $(($2 * 5))); do
		n=$(pxed_status_field tftp sessions_active)
		[ "$n" = "$1" ] && return 0
		sleep 0.2
	done
	echo "# sessions_active is ${n:-?}, expected $1"
	return 1
}

oack_value() { sed -n "s/^tftp OACK.* $1=\([0-9]*\).*/\1/p" <<<"$OUT" | head -1; }

test_malformed() {
	probe --hex "0001$(hexstr small.bin)" --expect-replies 1
	check "RRQ without NUL after the filename: ERROR 4" out_has "tftp ERROR code=4 "
	probe --hex "$(rrq_hex small.bin foo)" --expect-replies 1
	check "RRQ with an unknown mode: ERROR 4 (unknown transfer mode)" \
		out_has 'tftp ERROR code=4 msg=".*mode'
	probe --rrq small.bin --opt blksize=7 --expect-replies 1
	check "blksize 7: ERROR 8" out_has "tftp ERROR code=8 "
	probe --rrq small.bin --opt windowsize=0 --expect-replies 1
	check "windowsize 0: ERROR 8" out_has "tftp ERROR code=8 "

	probe --rrq small.bin --opt blksize=65465 --then "$ABORT" --expect-replies 1
	local b
	b=$(oack_value blksize)
	check "blksize 65465: OACK blksize $b within 512..1468 (MTU 1500 - 32)" \
		in_range "$b" 512 1468

	# "blksize 1024 tsize" with no value for tsize: trailing garbage.
	tftp_ok small.bin --hex "$(rrq_hex small.bin octet blksize 1024)$(hexstr tsize)00"
	check "an option without a value (trailing garbage): still served" [ $? -eq 0 ]
	check "an option without a value: OACK holds only blksize=1024" \
		out_has "^tftp OACK blksize=1024$"

	tftp_ok small.bin --opt foo=bar --opt blksize=1024 --opt x-unknown=1
	check "unknown options: served" [ $? -eq 0 ]
	check "unknown options: OACK without them" out_has "^tftp OACK blksize=1024$"

	tftp_ok small.bin --opt blksize=1024 --opt blksize=800
	check "duplicate option: served" [ $? -eq 0 ]
	check "duplicate option: the first wins (blksize=1024)" out_has "^tftp OACK blksize=1024$"

	probe --hex "0001$(printf 'A%.0s' $(seq 598) | od -An -v -tx1 | tr -d ' \n')" \
		--expect-replies 1
	check "600-byte RRQ of garbage without NUL: ERROR 4" out_has "tftp ERROR code=4 "
	probe --hex "0001$(head -c 598 /dev/urandom | od -An -v -tx1 | tr -d ' \n')" \
		--wait-ms 500
	check "600-byte RRQ of random bytes: silence or an ERROR, no transfer" \
		out_lacks "^tftp (DATA|OACK)"

	local op
	for op in 0000 0007 ffff; do
		probe --hex "${op}$(hexstr small.bin)00$(hexstr octet)00" --wait-ms 500 \
			--expect-replies 0
		check "opcode 0x$op to port 69: silence" [ "$PROBE_RC" -eq 0 ]
	done
	for op in 0003 0004 0005 0006; do
		probe --hex "${op}0001" --wait-ms 300 --expect-replies 0
		check "opcode $((16#$op)) (not a request) to port 69: silence" [ "$PROBE_RC" -eq 0 ]
	done
	probe --hex 01 --wait-ms 500
	check "1-byte datagram: silence or ERROR 4" silence_or_error 4
	probe --hex 000141 --wait-ms 500
	check "3-byte datagram: silence or ERROR 4" silence_or_error 4
	probe --hex "" --wait-ms 500
	check "empty datagram: silence or ERROR 4" silence_or_error 4

	local name
	for name in ../../../../etc/passwd /etc/passwd ..//small.bin; do
		probe --rrq "$name" --then "$ABORT" --expect-replies 1
		check "RRQ $name: an ERROR, no data" out_has "^tftp ERROR code=[12] "
	done

	check "after malformed requests: curl download works" curl_ok small.bin
	check "after malformed requests: TFTP download works" tftp_ok small.bin
}

test_edk2() {
	local err8 mark
	err8=00050008$(hexstr "User aborted")00
	mark=$(log_mark)
	probe --bind "$LAB_CLI_IP:41069" --rrq big.bin --opt tsize=0 --opt blksize=1468 \
		--opt windowsize=4 --then "$err8" --expect-replies 1
	check "EDK2: the size query's OACK carries tsize $BIG_SIZE" \
		[ "$(oack_value tsize)" = "$BIG_SIZE" ]
	tftp_ok big.bin --bind "$LAB_CLI_IP:41069" --opt blksize=1468 --opt windowsize=4
	check "EDK2: the second RRQ from the same port downloads" [ $? -eq 0 ]
	check "EDK2: the second RRQ gets blksize 1468 window 4" \
		out_has "^tftp OACK blksize=1468 windowsize=4$"
	check "EDK2: the log shows a size query, not a failure" \
		wait_log "client ended after the OACK \(size query\)" 2 "$mark"
	check "EDK2: no 'client aborted' for the size query" \
		not grep -q "client aborted" <(log_since "$mark")
}

test_flood() {
	local rss0 rss1 replies
	rss0=$(pxed_rss_kb)
	probe --random 1-600 --count 5000 --sources 200 --quiet --wait-ms 1000
	local drops0 drops1
	drops0=$(in_srv nstat -az UdpRcvbufErrors 2>/dev/null | awk '/UdpRcvbufErrors/ { print $2 }')
	# not --quiet: every reply is printed ("from ..." and, for TFTP, "tftp ...")
	probe --rrq missing.bin --count 2000 --sources 500 --wait-ms 3000
	replies=$(sed -n 's/^sent .* replies \([0-9]*\)$/\1/p' <<<"$OUT")
	drops1=$(in_srv nstat -az UdpRcvbufErrors 2>/dev/null | awk '/UdpRcvbufErrors/ { print $2 }')
	echo "# 2000 RRQs for a missing file: $replies replies;" \
		"server-side UdpRcvbufErrors ${drops0:-?} -> ${drops1:-?}"
	check "flood: RRQs for a missing file are answered (${replies:-0} of 2000)" \
		[ "${replies:-0}" -ge 1 ]
	check "flood: every answer ($(grep -c '^from ' <<<"$OUT") printed) is ERROR 1" all_error_1
	check "after the flood: curl download works" curl_ok big.bin
	check "after the flood: TFTP download works" tftp_ok small.bin
	check "after the flood: no sessions left" wait_sessions 0 5
	rss1=$(pxed_rss_kb)
	echo "# VmRSS before the flood ${rss0} kB, after ${rss1} kB (bound $RSS_MAX_KB kB)"
	check "after the flood: VmRSS ${rss1} kB < $RSS_MAX_KB kB" [ "${rss1:-999999999}" -lt "$RSS_MAX_KB" ]
	check "the flood grew VmRSS by < 64 MiB" [ $((${rss1:-999999999} - ${rss0:-0})) -lt 65536 ]
}

test_vanishing() {
	local mark dl retr
	mark=$(log_mark)
	retr=$(pxed_status_field tftp retransmits)
	probe --rrq big.bin --count 100 --sources 100 --wait-ms 0
	check "100 vanished clients: 100 sessions active" wait_sessions 100 3
	cli_bg timeout 30 "$P" --to "$SRV" --rrq big.bin --opt blksize=1468 \
		--download "$LAB_DIR/par.out" --wait-ms 5000 >"$LAB_DIR/par.log" 2>&1
	dl=$BG_PID
	check "100 vanished clients: a parallel HTTP download completes" curl_ok big.bin
	wait "$dl"
	check "100 vanished clients: a parallel TFTP download completes" \
		cmp -s "$LAB_DIR/par.out" "$LAB_ROOT/big.bin"
	check "100 vanished clients: sessions return to 0 after the timeout" wait_sessions 0 12
	check "100 vanished clients: pxed retransmitted" \
		[ "$(pxed_status_field tftp retransmits)" -gt "${retr:-0}" ]
	local n
	# they never answered: each got DATA 1 and 3 resends, then nothing
	# (tests/integration/amplification.sh)
	n=$(log_since "$mark" | grep -c "no answer from the client to 4 sends of the first packet")
	check "100 vanished clients: 100 transfers given up after 4 sends (log: $n)" [ "$n" -eq 100 ]
}

test_caps() {
	local h1 h2
	lab_add_client_ip 192.0.2.3
	cli_bg timeout 20 "$P" --to "$SRV" --rrq big.bin --count 3 --sources 3 --wait-ms 15000 \
		>/dev/null 2>&1
	h1=$BG_PID
	check "caps: 3 sessions from 192.0.2.2" wait_sessions 3 3
	probe --rrq small.bin --expect-replies 1
	check "caps: a 4th from the same address is refused (max-per-client 3)" \
		out_has 'tftp ERROR code=[0-9]+ msg="too many transfers from this address"'
	cli_bg timeout 20 "$P" --to "$SRV" --bind 192.0.2.3:0 --rrq big.bin --count 2 --sources 2 \
		--wait-ms 15000 >/dev/null 2>&1
	h2=$BG_PID
	check "caps: 2 more from 192.0.2.3 (5 in all)" wait_sessions 5 3
	probe --bind 192.0.2.3:0 --rrq small.bin --expect-replies 1
	check "caps: the 6th concurrent RRQ gets ERROR busy (max-sessions 5)" \
		out_has 'tftp ERROR code=[0-9]+ msg=".*busy'
	check "caps: the status API counts refusals" [ "$(pxed_status_field tftp refused)" -ge 2 ]
	check "caps: sessions end after the timeout" wait_sessions 0 12
	check "caps: served again from 192.0.2.2" tftp_ok small.bin
	check "caps: served again from 192.0.2.3" tftp_ok small.bin --bind 192.0.2.3:0
	kill "$h1" "$h2" 2>/dev/null
	wait "$h1" "$h2" 2>/dev/null
}

test_stray() {
	tftp_ok big.bin --stray 00040001
	check "stray: the transfer completes byte-identical" [ $? -eq 0 ]
	check "stray: a packet from another port gets ERROR 5" out_has "^tftp ERROR code=5 "
	tftp_ok big.bin --opt blksize=1468 --opt windowsize=8 --stray "$(rrq_hex x octet)"
	check "stray (windowed): the transfer completes" [ $? -eq 0 ]
	check "stray (windowed): ERROR 5" out_has "^tftp ERROR code=5 "
}

not() { ! "$@"; }

lab_up || { not_ok "lab set up"; lab_finish; }
make_file small.bin $SMALL_SIZE
make_file big.bin $BIG_SIZE

pxed_start --tftp-session-timeout 3 || { not_ok "pxed starts"; lab_finish; }
test_malformed
test_edk2
test_flood
test_vanishing
test_stray
check "pxed stops with status 0" pxed_stop
check "no sanitizer report" pxed_log_clean
pxed_log_rotate

pxed_start --tftp-session-timeout 3 --tftp-max-sessions 5 --tftp-max-per-client 3 ||
	{ not_ok "pxed starts (caps)"; lab_finish; }
test_caps
check "caps: pxed stops with status 0" pxed_stop
check "caps: no sanitizer report" pxed_log_clean
lab_finish
