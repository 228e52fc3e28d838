#!/bin/bash
# No amplification: an unauthenticated UDP request (its source may be
# forged: the answers go to whoever it names) gets a bounded multiple of
# its size back before the client proves it receives by answering.  Each
# case sends one request with udp-probe, never answers, listens until pxed
# gives up, and compares the bytes that came back with the bytes sent:
#  - TFTP RRQ, no options: DATA 1 and at most 3 resends, nothing more;
#  - TFTP RRQ asking windowsize 64, blksize 1468 and tsize: only OACKs,
#    never DATA before ACK 0;
#  - RFC 2090 multicast RRQ: only OACKs;
#  - PXE MTFTP open (a master that never ACKs): block 1 and its resends,
#    no pass multicast to the end (tcpdump counts the group's datagrams);
#  - DHCP: a 4011 request and an INFORM (answered to ciaddr) asking for
#    replies of 1472 bytes: at most 3 times the request;
#  - and an ACK to an OACK does bring the window (the bound is on what
#    comes before it, not on transfers).
LAB_ID=${LAB_ID:-am$$}
source "$(dirname "$0")/../lib/lab.sh"
lab_plan 13

lab_up || { not_ok "setup: lab_up"; exit 1; }
make_file big.bin $((4 * 1024 * 1024))
cat >"$LAB_DIR/pxed.conf" <<CONF
tftp-multicast = yes
mtftp-file = big.bin 239.255.1.1 3001
boot = bios big.bin
[subnet 192.0.2.0/24]
range = 192.0.2.100 192.0.2.150
CONF
pxed_start --config "$LAB_DIR/pxed.conf" --tftp-session-timeout 6 ||
	{ not_ok "setup: pxed_start"; exit 1; }

# amp ARGS...: udp-probe from the client; prints "OUT IN" (bytes)
amp() {
	local out
	out=$(in_cli timeout 30 "$UDP_PROBE" --to "$LAB_SRV_IP:$1" "${@:2}" --quiet)
	sed -n 's/^bytes sent \([0-9]*\) received \([0-9]*\)$/\1 \2/p' <<<"$out"
}
# within IN OUT MAX_BYTES FACTOR: OUT is at most MAX_BYTES and FACTOR x IN
within() {
	echo "# $1 bytes in, $2 bytes out ($(( $2 / ($1 > 0 ? $1 : 1) ))x)"
	[ -n "$2" ] && [ "$2" -le "$3" ] && [ "$2" -le $(( $1 * $4 )) ]
}

read -r in out < <(amp 69 --rrq big.bin --wait-ms 9000)
check "TFTP RRQ, never ACKed: DATA 1 and at most 3 resends (<= 4 x 516 bytes)" \
	within "$in" "$out" $((4 * 516)) 200
check "... and some" [ "${out:-0}" -ge 516 ]

read -r in out < <(amp 69 --rrq big.bin --opt windowsize=64 --opt blksize=1468 --opt tsize=0 \
	--wait-ms 9000)
check "TFTP RRQ with windowsize 64, blksize 1468: OACKs only (at most 5 x the request: tsize), no DATA" \
	within "$in" "$out" $((5 * in)) 5
check "... and an OACK came" [ "${out:-0}" -gt 0 ]

read -r in out < <(amp 69 --rrq big.bin --opt multicast= --opt blksize=1428 --wait-ms 9000)
check "RFC 2090 multicast RRQ, never ACKed: OACKs only (at most 5 x the request)" \
	within "$in" "$out" $((5 * in)) 5

# MTFTP: the group's datagrams are counted on the server's link
in_srv timeout 12 tcpdump -i s0 -n -l -q "udp and dst host 239.255.1.1" \
	>"$LAB_DIR/mcast.txt" 2>/dev/null &
TCPDUMP=$!
LAB_PIDS+=("$TCPDUMP")
sleep 1
read -r in out < <(amp 1759 --rrq big.bin --wait-ms 9000)
wait "$TCPDUMP"
n=$(wc -l <"$LAB_DIR/mcast.txt")
echo "# MTFTP: $n datagrams to the group, $out bytes to the opener"
check "PXE MTFTP open, never ACKed: block 1 and its resends to the opener, no more" \
	within "$in" "$out" $((5 * 516)) 200
check "... and no pass to the end on the group (a file of 8192 blocks; at most 5)" \
	[ "$n" -le 5 ]

# DHCP: 4011 answers go to the request's source, INFORM answers to ciaddr
# dbytes ARGS...: dhcp-probe from the client; prints "OUT IN" (bytes)
dbytes() {
	in_cli timeout 10 "$DHCP_PROBE" "$@" --wait-ms 1500 --expect-replies 1 |
		sed -n 's/^bytes sent \([0-9]*\) received \([0-9]*\)$/\1 \2/p'
}
read -r in out < <(dbytes --to "$LAB_SRV_IP:4011" --bind 192.0.2.2:4011 --type request \
	--vendor PXEClient:Arch:00000:UNDI:002001 --arch 0 --ndi --max-size 1472 --ciaddr 192.0.2.2)
check "a 4011 request asking for 1472 bytes: an answer at most 3 x its size" \
	within "$in" "$out" 1472 3
read -r in out < <(dbytes --to "$LAB_SRV_IP:67" --type inform --ciaddr 192.0.2.2 \
	--max-size 1472 --prl 1,3,6,12,15,28,42,43,60,66,67)
check "an INFORM (answered to ciaddr): an answer at most 3 x its size" \
	within "$in" "$out" 1472 3

# the bound is before the proof only: an ACK 0 brings the window
out=$(in_cli timeout 30 "$UDP_PROBE" --to "$LAB_SRV_IP:69" --rrq big.bin --opt windowsize=8 \
	--download "$LAB_DIR/got.bin" --wait-ms 5000)
check "an ACKing client downloads the whole file with a window of 8" \
	cmp -s "$LAB_DIR/got.bin" "$LAB_ROOT/big.bin"
check "the gave-up transfers are logged" \
	grep -q "no answer from the client" "$LAB_DIR/pxed.log"
check "pxed stops cleanly" pxed_stop
check "sanitizer clean" pxed_log_clean
lab_finish
