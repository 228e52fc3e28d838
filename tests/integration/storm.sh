#!/bin/bash
# bench/storm, the boot-storm load generator, against pxed (the sanitizer
# build): 20 UEFI PXE clients through a DHCP relay (two subnets, leases
# from both), each fetching its boot file by TFTP as EDK2 does (size query,
# then the download from the same port), chaining into iPXE's DHCP, then
# its script, kernel and initrd over HTTP; every byte compared.  No loss on
# the link, so nothing may be resent either: an EDK2 download whose RRQ is
# read before the ERROR ending its size query must be served at once, not
# after the client's 4 s timeout.  pxed's DHCP replies arrive marked DSCP
# CS6 and its TFTP packets low-delay (TOS 0x10), counted by nftables on the
# clients' input.  Proves the tool works (bench/storm-peers uses it for the
# figures).  Needs root, nft, build/bench/storm (make all).
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/lab.sh
lab_plan 12

STORM=${STORM:-build/bench/storm}
N=20
BOOT=$((1 << 20))
KERNEL=$((2 << 20))
INITRD=$((3 << 20))

[ -x "$STORM" ] || { not_ok "setup: $STORM missing (make all)"; exit 1; }
lab_up || { not_ok "setup: lab"; exit 1; }
for net in 198.51.100.0/24 203.0.113.0/24; do
	in_srv ip route add "$net" via $LAB_CLI_IP &&
		in_cli ip route add local "$net" dev lo ||
		{ not_ok "setup: routes to $net"; exit 1; }
done
make_file snponly.efi $BOOT
make_file vmlinuz $KERNEL
make_file initrd.img $INITRD
printf '#!ipxe\nkernel http://%s/vmlinuz quiet\ninitrd initrd.img\nboot\n' $LAB_SRV_IP \
	>"$LAB_ROOT/boot.ipxe"
SCRIPT=$(stat -c %s "$LAB_ROOT/boot.ipxe")
cat >"$LAB_DIR/pxed.conf" <<EOF
boot = efi64 snponly.efi
boot = ipxe http://$LAB_SRV_IP/boot.ipxe
[subnet 198.51.100.0/24]
range = 198.51.100.10 198.51.100.200
[subnet 203.0.113.0/24]
range = 203.0.113.10 203.0.113.200
EOF
# counters on the clients' input: DHCP replies, and packets from pxed's
# TFTP transfer ports, each in all and marked
{
	in_cli nft add table inet storm &&
		in_cli nft add chain inet storm in '{ type filter hook input priority 0; }' &&
		in_cli nft add rule inet storm in udp sport 67 counter &&
		in_cli nft add rule inet storm in udp sport 67 ip dscp cs6 counter &&
		in_cli nft add rule inet storm in ip saddr $LAB_SRV_IP udp sport '>' 1023 counter &&
		in_cli nft add rule inet storm in ip saddr $LAB_SRV_IP udp sport '>' 1023 ip dscp 4 counter
} || { not_ok "setup: nftables counters"; exit 1; }
pxed_start --config "$LAB_DIR/pxed.conf" || { not_ok "setup: pxed"; exit 1; }

OUT=$(in_cli timeout 120 "$STORM" --server $LAB_SRV_IP --relay 198.51.100.1,203.0.113.1 \
	--clients $N --root "$LAB_ROOT" --ramp-ms 500 --deadline-s 100 2>"$LAB_DIR/storm.err")
RC=$?
echo "$OUT" | sed 's/^/# /'
sed 's/^/# /' "$LAB_DIR/storm.err"
f() { sed -n "s/^storm: $1.* $2=\\([^ ]*\\).*/\\1/p" <<<"$OUT" | head -1; }

check "storm exits 0: every client booted with every byte right" [ "$RC" -eq 0 ]
check "all $N clients done, none failed" [ "$(f clients ok)/$(f clients failed)" = "$N/0" ]
check "no failure at any step" \
	[ "$(f failed dhcp)$(f failed tftp)$(f failed ipxe_dhcp)$(f failed http)" = 0000 ]
check "TFTP bytes verified: the boot file, once per client" \
	[ "$(f verified tftp_bytes)" = $((N * BOOT)) ]
check "HTTP bytes verified: script, kernel and initrd, once per client" \
	[ "$(f verified http_bytes)" = $((N * (SCRIPT + KERNEL + INITRD))) ]
check "no loss, so nothing resent: no DHCP retransmission, no TFTP timeout" \
	[ "$(f resent dhcp)/$(f resent ipxe_dhcp)/$(f resent tftp_timeouts)" = 0/0/0 ]
slowest=$(f tftp_end_ms max)
check "every TFTP download ends well before EDK2's 4 s timeout (slowest ${slowest} ms)" \
	awk -v t="${slowest:-99999}" 'BEGIN { exit !(t < 3000) }'
acks() { grep -cE "ACK $1\.[0-9]+ boot http://" "$LAB_DIR/pxed.log"; }
leases="$(acks '198\.51\.100')+$(acks '203\.0\.113')"
check "pxed ACKed iPXE's DHCP of every client, half from each relay's subnet ($leases)" \
	[ "$leases" = "$((N / 2))+$((N / 2))" ]
COUNTS=$(in_cli nft list chain inet storm in | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | tr '\n' ' ')
read -r dhcp_all dhcp_cs6 tftp_all tftp_low <<<"$COUNTS"
# all_marked ALL MARKED MIN: at least MIN packets, every one marked
all_marked() { [ "${1:-0}" -ge "$3" ] && [ "$2" = "$1" ]; }
check "every DHCP reply marked DSCP CS6 ($dhcp_cs6 of $dhcp_all)" \
	all_marked "$dhcp_all" "$dhcp_cs6" $((4 * N))
# (nftables sees a GSO train of DATA as one packet: at least two a client,
# the size query's OACK and the download)
check "every TFTP packet marked low-delay ($tftp_low of $tftp_all)" \
	all_marked "$tftp_all" "$tftp_low" $((2 * N))
check "pxed stops cleanly" pxed_stop
check "no sanitizer report" pxed_log_clean
lab_finish
