#!/bin/bash
# RFC 2090 multicast option on port 69 (tftp-multicast = yes).  Client
# namespaces share one segment (a bridge) with pxed:
#  - three RFC 2090 clients (tests/lib/rfc2090_client.py) started apart on a
#    6 MiB file: one transfer, the late one listens, then leads in its turn
#    (master rotation) to fill what it missed; all byte-identical;
#  - a silent first client (made master, never ACKs) is skipped and the
#    others still finish;
#  - requests without the option, with a value in it, or with a blksize
#    smaller than the group's get ordinary TFTP; curl tftp:// too;
#  - Debian's atftp client (--option multicast) as a second real client.
cd "$(dirname "$0")/../.." || exit 1
LAB_ID=${LAB_ID:-tm$$}
source tests/lib/lab.sh
lab_plan 28
CLIENT=tests/lib/rfc2090_client.py

for tool in atftp curl python3; do
	command -v $tool >/dev/null || { echo "not ok - $tool is not installed"; exit 1; }
done
lab_up || { echo "not ok - lab_up"; exit 1; }
lab_bridge || { echo "not ok - lab_bridge"; exit 1; }
# flood multicast on the segment: no IGMP querier in a lab
ip -n "$LAB_SRV" link set br0 type bridge mcast_snooping 0
NS=()
for i in 1 2 3 4; do
	ns=tmc$i-$LAB_ID
	lab_attach "$ns" eth0 "192.0.2.2$i/24" || { echo "not ok - lab_attach $ns"; exit 1; }
	ip -n "$ns" route add 224.0.0.0/4 dev eth0
	NS+=("$ns")
done
OUT=$LAB_DIR/out
mkdir -p "$OUT"
make_file big.bin $((6 * 1024 * 1024 + 777))
make_file small.bin 300000

cat >"$LAB_DIR/pxed.conf" <<CONF
tftp-multicast = yes
tftp-multicast-group = 239.255.69.1
tftp-multicast-port = 1758
CONF
pxed_start --config "$LAB_DIR/pxed.conf" || exit 1

# mc NS OUTNAME ARGS...: the RFC 2090 client, bounded
mc() {
	local ns=$1 o=$2
	shift 2
	ip netns exec "$ns" timeout 90 python3 "$CLIENT" "$LAB_SRV_IP" "$@" "$OUT/$o" \
		>"$OUT/$o.log" 2>&1
}
same() { cmp -s "$OUT/$1" "$LAB_ROOT/$2"; }
# done_same STATUSES OUT FILE [OUT FILE]...: every exit status in STATUSES
# (digits run together) is 0, and each OUT is its FILE byte for byte
done_same() {
	[[ $1 =~ ^0+$ ]] || { echo "# exit statuses $1"; return 1; }
	shift
	while [ $# -ge 2 ]; do
		same "$1" "$2" || { echo "# $1 differs from $2"; return 1; }
		shift 2
	done
}

# --- three clients, started apart: one transfer, master rotation ---
m=$(log_mark)
t0=$(date +%s%N)
mc "${NS[0]}" a big.bin --blksize 1024 &
pa=$!
sleep 0.3
mc "${NS[1]}" b big.bin --blksize 1428 &
pb=$!
sleep 0.8
mc "${NS[2]}" c big.bin --blksize 1024 &
pc=$!
wait $pa; ra=$?
wait $pb; rb=$?
wait $pc; rc=$?
t1=$(date +%s%N)
echo "# 3 clients, 6 MiB: exit codes $ra $rb $rc, $(((t1 - t0) / 1000000)) ms"
for c in a b c; do sed "s/^/# $c: /" "$OUT/$c.log"; done
check "three RFC 2090 clients exit 0" [ "$ra$rb$rc" = 000 ]
for c in a b c; do
	check "client $c has big.bin byte for byte" same $c big.bin
done
check "one multicast transfer for the file (group 239.255.69.1)" \
	[ "$(log_since "$m" | grep -c "multicast to 239.255.69.1:1758 .* master, 1 client")" -eq 1 ]
# listened IP: pxed's log has IP's RRQ joining the transfer as a listener
listened() { log_since "$m" | grep -q "^.* $1:[0-9]*: RRQ big.bin octet multicast to .* listening, "; }
check "the second client listened first (mc=0)" listened 192.0.2.22
check "the third client listened first (mc=0)" listened 192.0.2.23
check "client b (asked 1428) got the group's blksize 1024" grep -q "blksize=1024" "$OUT/b.log"
check "a later client was made master (oacks 0,1)" grep -qE "oacks=0,1" "$OUT/b.log" "$OUT/c.log"
check "the transfer ended with 3 clients done, none skipped, 3 masters" \
	grep -qE "ended in .* 3 client\(s\) done, 0 skipped, 3 master" <(log_since "$m")
log_since "$m" | grep -E "multicast|ended" | cut -c1-170 | sed 's/^/# /'

# --- a silent master is skipped; the others still finish ---
m=$(log_mark)
mc "${NS[3]}" s small.bin --silent &
ps=$!
wait_log "RRQ small.bin octet multicast .* master" 10 "$m"
mc "${NS[0]}" d small.bin &
pd=$!
mc "${NS[1]}" e small.bin &
pe=$!
wait $ps; rs=$?
wait $pd; rd=$?
wait $pe; re=$?
for c in s d e; do sed "s/^/# $c: /" "$OUT/$c.log"; done
silent_master() { [ "$rs" -eq 2 ] && grep -q "silent-master" "$OUT/s.log"; }
check "the silent client was made master and never ACKed (exit 2)" silent_master
check "the two others exit 0 with small.bin byte for byte" done_same "$rd$re" d small.bin e small.bin
check "the silent master was skipped" \
	grep -q "192.0.2.24:.* small.bin multicast: silent as master, skipped" <(log_since "$m")
check "... and the transfer ended with 2 done, 1 skipped" \
	grep -qE "multicast small.bin .* 2 client\(s\) done, 1 skipped" <(log_since "$m")
check "the second file took the next group (239.255.69.2)" \
	grep -q "RRQ small.bin octet multicast to 239.255.69.2:1758" <(log_since "$m")

# --- what stays ordinary TFTP ---
m=$(log_mark)
mc "${NS[0]}" p1 big.bin --plain --no-option
check "a request without the option: plain TFTP, byte for byte" done_same $? p1 big.bin
mc "${NS[0]}" p2 small.bin --plain --value 1
check "multicast with a value is ignored: plain TFTP, byte for byte" done_same $? p2 small.bin
ip netns exec "${NS[1]}" timeout 60 curl -sS -o "$OUT/curl" "tftp://$LAB_SRV_IP/big.bin"
check "curl tftp:// still gets big.bin" same curl big.bin
check "none of them was multicast" log_lacks "$m" "octet multicast to"
# a blksize smaller than the group's: unicast, while the transfer runs
m=$(log_mark)
mc "${NS[0]}" f big.bin --blksize 1428 &
pf=$!
wait_log "RRQ big.bin octet multicast .* master" 30 "$m" ||
	{ not_ok "setup: the first client leads a multicast transfer within 30 s"; exit 1; }
mc "${NS[1]}" g big.bin --blksize 1000 --plain
rg=$?
wait $pf; rf=$?
check "a smaller blksize than the group's falls back to unicast (both byte for byte)" \
	done_same "$rg$rf" g big.bin f big.bin
check "... and the log says so" \
	grep -q "192.0.2.22:.*RRQ big.bin: multicast refused (blksize smaller than the group's)" \
	<(log_since "$m")

# --- Debian's atftp client speaks RFC 2090 (--option multicast) ---
m=$(log_mark)
atftp_mc() {
	ip netns exec "$1" timeout 90 atftp --option "multicast" --option "blksize 1024" \
		-g -r big.bin -l "$OUT/$2" $LAB_SRV_IP 69 >"$OUT/$2.log" 2>&1
}
# the python client leads (it is slower than atftp: the atftp clients join
# while it runs), the atftp clients listen, then lead in their turn
mc "${NS[2]}" at1 big.bin --blksize 1024 &
p1=$!
wait_log "RRQ big.bin octet multicast .* master" 30 "$m" ||
	{ not_ok "setup: the first client leads a multicast transfer within 30 s"; exit 1; }
sleep 0.2
atftp_mc "${NS[0]}" at2 &
p2=$!
sleep 0.2
atftp_mc "${NS[1]}" at3 &
p3=$!
wait $p1; r1=$?
wait $p2; r2=$?
wait $p3; r3=$?
for c in at1 at2 at3; do tail -3 "$OUT/$c.log" | sed "s/^/# $c: /"; done
check "one python client and two atftp clients exit 0" [ "$r1$r2$r3" = 000 ]
for c in at1 at2 at3; do
	check "$c has big.bin byte for byte" same $c big.bin
done
check "... in one multicast transfer; each atftp client made master in its turn" \
	grep -qE "ended in .* 3 client\(s\) done, 0 skipped, 3 master" <(log_since "$m")
log_since "$m" | grep -E "multicast|ended" | cut -c1-170 | sed 's/^/# /'

pxed_stop
check "pxed exits cleanly" [ $? -eq 0 ]
check "no sanitizer reports" pxed_log_clean
lab_finish
