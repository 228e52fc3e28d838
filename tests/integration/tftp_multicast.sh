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
check "the second and third client listened first (mc=0)" \
	grep -q "listening, 3 client" <(log_since "$m")
check "client b (asked 1428) got the group's blksize 1024" grep -q "blksize=1024" "$OUT/b.log"
check "a later client was made master (oacks 0,1)" grep -qE "oacks=0,1" "$OUT/b.log" "$OUT/c.log"
check "the transfer ended with 3 clients done, none skipped, 3 masters" \
	grep -qE "ended in .* 3 client\(s\) done, 0 skipped, 3 master" <(log_since "$m")
log_since "$m" | grep -E "multicast|ended" | cut -c1-170 | sed 's/^/# /'

pxed_stop
check "pxed exits cleanly" [ $? -eq 0 ]
check "no sanitizer reports" pxed_log_clean
lab_finish
