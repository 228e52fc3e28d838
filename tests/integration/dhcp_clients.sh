#!/bin/bash
# DHCP with real clients: dhclient, busybox udhcpc, dhcpcd.  Leases,
# renew (INIT-REBOOT), release, decline (udhcpc's ARP check against a host
# that already uses the address), restart after kill -9 (same addresses),
# boot fields and the boot timeline for a PXE client.  Relays are in
# dhcp_relay.sh.  Client scripts never touch the host's /etc.
LAB_ID=dc$$
source "$(dirname "$0")/../lib/lab.sh"
lab_plan 32
lab_up || exit 1
ip -n "$LAB_CLI" addr flush dev c0          # clients start without an address
make_file undionly.kpxe 70000

# A script for udhcpc and dhclient that records what it was given.
cat >"$LAB_DIR/udhcpc.sh" <<'SCRIPT'
#!/bin/sh
[ "$1" = bound ] || [ "$1" = renew ] || exit 0
echo "ip=$ip router=$router dns=$dns boot_file=$boot_file siaddr=$siaddr lease=$lease" >"$OUT"
ip addr add "$ip/${mask:-24}" dev "$interface" 2>/dev/null
exit 0
SCRIPT
# dhclient runs its script with an environment of its own: bake the path in
cat >"$LAB_DIR/dhclient.sh" <<SCRIPT
#!/bin/sh
case "\$reason" in BOUND|RENEW|REBOOT|REBIND)
	echo "reason=\$reason ip=\$new_ip_address router=\$new_routers dns=\$new_domain_name_servers" >>"$LAB_DIR/d1"
	ip addr add "\$new_ip_address/24" dev "\$interface" 2>/dev/null ;;
esac
exit 0
SCRIPT
chmod +x "$LAB_DIR/udhcpc.sh" "$LAB_DIR/dhclient.sh"

pxed_start --dhcp-range 192.0.2.100,192.0.2.150,1h --dhcp-router 192.0.2.1 \
	--dhcp-dns 192.0.2.53 --boot bios=undionly.kpxe || exit 1

udhcpc_run() {   # out-file [extra udhcpc args]
	local out=$1
	shift
	in_cli env OUT="$out" timeout 20 busybox udhcpc -i c0 -n -q -f -t 4 -T 2 \
		-s "$LAB_DIR/udhcpc.sh" "$@" >>"$LAB_DIR/udhcpc.log" 2>&1
}
field() { sed -n "s/.*$2=\([^ ]*\).*/\1/p" "$1" | tail -1; }
in_pool() { case "$1" in 192.0.2.1[0-4][0-9]|192.0.2.150) return 0 ;; esac; return 1; }

# --- busybox udhcpc ---
udhcpc_run "$LAB_DIR/u1"
u1=$(field "$LAB_DIR/u1" ip)
check "udhcpc got an address from the pool ($u1)" in_pool "$u1"
check "udhcpc got router 192.0.2.1" [ "$(field "$LAB_DIR/u1" router)" = 192.0.2.1 ]
check "udhcpc got DNS 192.0.2.53" [ "$(field "$LAB_DIR/u1" dns)" = 192.0.2.53 ]
check "udhcpc got a 1 h lease" [ "$(field "$LAB_DIR/u1" lease)" = 3600 ]
no_boot_file() { in_pool "$u1" && [ -z "$(field "$LAB_DIR/u1" boot_file)" ]; }
check "a plain client gets a lease and no boot file" no_boot_file
ip -n "$LAB_CLI" addr flush dev c0
udhcpc_run "$LAB_DIR/u2"
check "udhcpc again: the same address" same_value "$u1" "$(field "$LAB_DIR/u2" ip)"
ip -n "$LAB_CLI" addr flush dev c0

# --- a PXE client (vendor class + arch): boot file and next-server ---
ip -n "$LAB_CLI" link set c0 address 52:54:00:00:00:31
udhcpc_run "$LAB_DIR/u3" -V PXEClient:Arch:00000:UNDI:002001 -x 0x5d:0000
check "PXE client gets boot file undionly.kpxe" [ "$(field "$LAB_DIR/u3" boot_file)" = undionly.kpxe ]
check "PXE client gets next-server 192.0.2.1" [ "$(field "$LAB_DIR/u3" siaddr)" = 192.0.2.1 ]
check "PXE client's address differs from the other MAC's" other_value "$u1" "$(field "$LAB_DIR/u3" ip)"
in_cli timeout 20 curl -s -o "$LAB_DIR/nbp" "tftp://192.0.2.1/undionly.kpxe"
check "the PXE client downloads its boot file" cmp -s "$LAB_DIR/nbp" "$LAB_ROOT/undionly.kpxe"
# boot events reach the store within half a second: poll briefly
for i in $(seq 1 30); do
	in_cli timeout 10 build/pxectl --server http://192.0.2.1 --token-file "$LAB_DIR/state/api-token" \
		client 52:54:00:00:00:31 \
		>"$LAB_DIR/timeline" 2>&1
	grep -q " tftp-done " "$LAB_DIR/timeline" && break
	sleep 0.1
done
for kind in dhcp-discover dhcp-offer dhcp-ack tftp-start tftp-done; do
	check "pxectl client shows $kind in the boot timeline" grep -q " $kind " "$LAB_DIR/timeline"
done
check "the timeline names the boot file" grep -q "tftp-done *undionly.kpxe 70000 bytes" "$LAB_DIR/timeline"
in_cli timeout 10 build/pxectl --server http://192.0.2.1 --token-file "$LAB_DIR/state/api-token" clients >"$LAB_DIR/clients" 2>&1
check "pxectl clients lists the PXE client" grep -q "52:54:00:00:00:31" "$LAB_DIR/clients"
ip -n "$LAB_CLI" addr flush dev c0

# --- dhclient: lease, then INIT-REBOOT with its lease file, then release ---
ip -n "$LAB_CLI" link set c0 address 52:54:00:00:00:32
dhc() { in_cli timeout 30 dhclient -1 -v -lf "$LAB_DIR/dhclient.leases" \
	-pf "$LAB_DIR/dhclient.pid" -sf "$LAB_DIR/dhclient.sh" "$@" c0 >>"$LAB_DIR/dhclient.log" 2>&1; }
dhc
d1=$(field "$LAB_DIR/d1" ip)
check "dhclient got an address ($d1)" in_pool "$d1"
check "dhclient got router and DNS" grep -q "router=192.0.2.1 dns=192.0.2.53" "$LAB_DIR/d1"
in_cli timeout 10 dhclient -x -pf "$LAB_DIR/dhclient.pid" >/dev/null 2>&1
ip -n "$LAB_CLI" addr flush dev c0
dhc
check "dhclient reboot with its lease: same address" same_value "$d1" "$(field "$LAB_DIR/d1" ip)"
check "dhclient reboot was an INIT-REBOOT REQUEST (REBOOT)" grep -q "reason=REBOOT ip=$d1" "$LAB_DIR/d1"
in_cli timeout 10 dhclient -r -lf "$LAB_DIR/dhclient.leases" -pf "$LAB_DIR/dhclient.pid" \
	-sf "$LAB_DIR/dhclient.sh" c0 >/dev/null 2>&1
check "dhclient -r: pxed logged the RELEASE" wait_log "RELEASE $d1" 5
ip -n "$LAB_CLI" addr flush dev c0

# --- dhcpcd ---
ip -n "$LAB_CLI" link set c0 address 52:54:00:00:00:33
in_cli timeout 30 dhcpcd -4 -1 -t 20 --noipv4ll -f /dev/null -c /bin/true -d c0 \
	>"$LAB_DIR/dhcpcd.log" 2>&1
dc_ip=$(ip -n "$LAB_CLI" -4 -o addr show dev c0 | awk '{print $4}' | cut -d/ -f1 | head -1)
check "dhcpcd got an address ($dc_ip)" in_pool "$dc_ip"
in_cli timeout 10 dhcpcd -x c0 >/dev/null 2>&1
ip -n "$LAB_CLI" addr flush dev c0

# --- DECLINE: another host already uses the address we would get ---
ip netns add "pxo-$LAB_ID"
LAB_CLEANUPS+=("ip netns del pxo-$LAB_ID")
ip link add o0-$LAB_ID type veth peer name o1-$LAB_ID
ip link set o0-$LAB_ID netns "$LAB_SRV"
ip link set o1-$LAB_ID netns "pxo-$LAB_ID" name o0
# bridge the server's veths so all three hosts share one segment
ip -n "$LAB_SRV" link add br0 type bridge
ip -n "$LAB_SRV" addr del $LAB_SRV_IP/24 dev s0
ip -n "$LAB_SRV" link set s0 master br0
ip -n "$LAB_SRV" link set o0-$LAB_ID master br0 up
ip -n "$LAB_SRV" addr add $LAB_SRV_IP/24 dev br0
ip -n "$LAB_SRV" link set br0 up
ip -n "pxo-$LAB_ID" link set o0 up
ip -n "pxo-$LAB_ID" link set lo up
ip -n "$LAB_CLI" link set c0 address 52:54:00:00:00:35
check "pxed stops cleanly (before the restart on the bridge)" pxed_stop
check "sanitizer clean (before the restart on the bridge)" pxed_log_clean
pxed_log_rotate
pxed_start --dhcp-range 192.0.2.100,192.0.2.150,1h --interface br0 || exit 1
# the other host already uses 192.0.2.140; the client asks for it
ip -n "pxo-$LAB_ID" addr add 192.0.2.140/24 dev o0
udhcpc_run "$LAB_DIR/u6" -r 192.0.2.140 -a 500 -t 1
check "udhcpc -a found 192.0.2.140 in use and pxed logged the DECLINE" \
	wait_log "DECLINE 192.0.2.140" 5
# (after a DECLINE a client waits before it starts again: run it anew)
ip -n "$LAB_CLI" addr flush dev c0
udhcpc_run "$LAB_DIR/u6" -r 192.0.2.140 -a 500
got=$(field "$LAB_DIR/u6" ip)
# not_140 IP: a pool address other than the declined 192.0.2.140
not_140() { in_pool "$1" && [ "$1" != 192.0.2.140 ]; }
check "after the decline the client got another address ($got)" not_140 "$got"
ip -n "$LAB_CLI" addr flush dev c0
ip -n "$LAB_CLI" link set c0 address 52:54:00:00:00:36
udhcpc_run "$LAB_DIR/u5" -r 192.0.2.140
next=$(field "$LAB_DIR/u5" ip)
check "192.0.2.140 stays quarantined: another client asking for it gets $next" not_140 "$next"
ip -n "$LAB_CLI" addr flush dev c0

# --- kill -9, restart: every client keeps its address ---
ip -n "$LAB_CLI" link set c0 address 52:54:00:00:00:36
before=$next
kill -9 "$PXED_PID"
wait "$PXED_PID" 2>/dev/null
pxed_log_rotate
pxed_start --dhcp-range 192.0.2.100,192.0.2.150,1h --interface br0 || exit 1
udhcpc_run "$LAB_DIR/u7"
check "after kill -9 and restart the client keeps $before" same_value "$before" "$(field "$LAB_DIR/u7" ip)"
ip -n "$LAB_CLI" link set c0 address 52:54:00:00:00:35
ip -n "$LAB_CLI" addr flush dev c0
udhcpc_run "$LAB_DIR/u8"
check "... and so does the other one ($got)" same_value "$got" "$(field "$LAB_DIR/u8" ip)"

check "pxed stops cleanly" pxed_stop
check "sanitizer clean" pxed_log_clean
lab_finish
