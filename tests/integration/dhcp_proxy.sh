#!/bin/bash
# proxyDHCP beside a real DHCP server: dnsmasq hands out addresses on the
# segment, pxed (--proxy) answers PXE clients only, with a yiaddr-0 OFFER
# holding the boot file, then the PXE boot server on 4011 (from client
# port 68 and 4011, with and without a boot item).  Clients: dhcp-probe
# and busybox udhcpc.  Nothing touches the host's /etc.
cd "$(dirname "$0")/../.." || exit 1
LAB_ID=dp$$
source tests/lib/lab.sh
lab_plan 58
lab_up || exit 1
ip -n "$LAB_CLI" addr flush dev c0          # clients start without an address
make_file undionly.kpxe 70000
make_file snponly.efi 90000

# dnsmasq: the segment's real DHCP server, 192.0.2.3, in its own namespace
DNSM=pxd-$LAB_ID
DNSM_IP=192.0.2.3
lab_attach "$DNSM" d0 $DNSM_IP/24 || exit 1
ip netns exec "$DNSM" dnsmasq -k --conf-file=/dev/null --port=0 --no-resolv --no-hosts \
	--user=root --interface=d0 --bind-interfaces --no-ping --log-dhcp \
	--dhcp-range=192.0.2.50,192.0.2.69,255.255.255.0,1h --dhcp-option=3,$DNSM_IP \
	--dhcp-leasefile="$LAB_DIR/dnsmasq.leases" --pid-file="$LAB_DIR/dnsmasq.pid" \
	--log-facility="$LAB_DIR/dnsmasq.log" &
LAB_PIDS+=("$!")

pxed_start --proxy --boot bios=undionly.kpxe --boot efi64=snponly.efi || exit 1
for _ in $(seq 1 50); do grep -q "DHCP, IP range" "$LAB_DIR/dnsmasq.log" 2>/dev/null && break; sleep 0.1; done

EFI_VC=PXEClient:Arch:00007:UNDI:003000
UUID=00d0c1b2a3948576695a4b3c2d1e0f0a1b
# shellcheck disable=SC2054  # the commas are one argument (--prl)
PXE_ARGS=(--vendor "$EFI_VC" --arch 7 --ndi --uuid "$UUID" --max-size 1472
	--prl 1,3,6,43,54,60,66,67,97,128,129,130)
hex_pxeclient=$(hexstr PXEClient)
in_dnsm_range() { case "$1" in 192.0.2.[56][0-9]) return 0 ;; esac; return 1; }

# --- a PXE client's DISCOVER: an address from dnsmasq, boot data from pxed ---
dprobe --iface c0 --to 255.255.255.255:67 --broadcast --mac 52:54:00:00:01:01 \
	--xid 0a000001 "${PXE_ARGS[@]}" --wait-ms 2500
D=$(reply_from $DNSM_IP)
P=$(reply_from $LAB_SRV_IP)
lease=$(rfield "$D" yiaddr)
check "dnsmasq offered an address ($lease)" in_dnsm_range "$lease"
check "pxed sent a proxy OFFER" [ "$(rfield "$P" type)" = OFFER ]
check "proxy OFFER: exactly one from pxed" [ "$(grep -c "^reply from=$LAB_SRV_IP:" <<<"$OUT")" -eq 1 ]
check "proxy OFFER: from port 67 to 255.255.255.255 (client has no address)" \
	grep -q "^reply from=$LAB_SRV_IP:67 to=255.255.255.255 " <<<"$P"
check "proxy OFFER: yiaddr 0.0.0.0" [ "$(rfield "$P" yiaddr)" = 0.0.0.0 ]
check "proxy OFFER: siaddr 192.0.2.1" [ "$(rfield "$P" siaddr)" = $LAB_SRV_IP ]
check "proxy OFFER: file snponly.efi (x64 UEFI rule)" [ "$(rfield "$P" file)" = snponly.efi ]
check "proxy OFFER: option 60 is exactly PXEClient" [ "$(rfield "$P" o60)" = "$hex_pxeclient" ]
check "proxy OFFER: option 54 is 192.0.2.1" [ "$(rfield "$P" o54)" = c0000201 ]
o43=$(rfield "$P" o43)
check "proxy OFFER: option 43 has discovery control (6) and ends with 255 ($o43)" \
	grep -qE '^(..)*0601..(..)*ff$' <<<"$o43"
check "proxy OFFER: option 97 echoed" [ "$(rfield "$P" o97)" = "$UUID" ]
for o in o1 o3 o6 o15 o28 o50 o51 o58 o59; do
	check "proxy OFFER: no option ${o#o}" rlacks "$P" $o
done
check "proxy OFFER: xid copied" [ "$(rfield "$P" xid)" = 0a000001 ]
# the DISCOVER registered the machine as a host, with option 97's UUID
# (events reach the store every 0.5 s)
for _ in $(seq 1 30); do
	HOST=$(in_srv timeout 10 "${PXECTL:-build/asan/pxectl}" --server "http://$LAB_SRV_IP" \
		--token-file "$LAB_DIR/state/api-token" \
		host show 52:54:00:00:01:01 2>&1)
	grep -q "uuid  *[0-9a-f]" <<<"$HOST" && break
	sleep 0.2
done
check "pxectl host show: the UUID from option 97" \
	grep -q "^  uuid      d0c1b2a3-9485-7669-5a4b-3c2d1e0f0a1b$" <<<"$HOST"
check "dnsmasq's offer is a plain one (no PXEClient)" rlacks "$D" o60

# --- the BIOS class gets the other rule ---
dprobe --iface c0 --to 255.255.255.255:67 --broadcast --mac 52:54:00:00:01:02 \
	--vendor PXEClient:Arch:00000:UNDI:002001 --arch 0 --wait-ms 1500
check "BIOS PXE client: proxy OFFER with undionly.kpxe" \
	[ "$(rfield "$(reply_from $LAB_SRV_IP)" file)" = undionly.kpxe ]

# --- a plain client: dnsmasq answers, pxed stays silent ---
mark=$(log_mark)
dprobe --iface c0 --to 255.255.255.255:67 --broadcast --mac 52:54:00:00:01:03 \
	--xid 0a000003 --prl 1,3,6,43,60,66,67 --wait-ms 2000
check "plain client: an offer from dnsmasq" in_dnsm_range "$(rfield "$(reply_from $DNSM_IP)" yiaddr)"
check "plain client: nothing from pxed" [ -z "$(reply_from $LAB_SRV_IP)" ]
check "plain client: pxed logged no proxy offer" log_lacks "$mark" "52:54:00:00:01:03: OFFER"
# a vendor class that only looks like PXE, and an HTTPClient without a rule
dprobe --iface c0 --to 255.255.255.255:67 --broadcast --mac 52:54:00:00:01:04 \
	--vendor MSFT\ 5.0 --wait-ms 1500
check "vendor class 'MSFT 5.0': nothing from pxed" [ -z "$(reply_from $LAB_SRV_IP)" ]

# --- the PXE client takes dnsmasq's address (SELECTING); pxed ignores it ---
mark=$(log_mark)
dprobe --iface c0 --to 255.255.255.255:67 --broadcast --mac 52:54:00:00:01:01 \
	--xid 0a000005 --type request --server-id $DNSM_IP --requested "$lease" \
	"${PXE_ARGS[@]}" --wait-ms 2000
check "dnsmasq ACKed $lease" [ "$(rfield "$(reply_from $DNSM_IP)" type)" = ACK ]
check "pxed does not answer the REQUEST to dnsmasq" [ -z "$(reply_from $LAB_SRV_IP)" ]
ip -n "$LAB_CLI" addr add "$lease/24" dev c0

# --- 4011: DHCPREQUEST with ciaddr, 60/93/94/97 (as EDK2 sends it) ---
# ack4011 SRC_PORT [extra args]: the request; the reply line is in $A
ack4011() {
	local port=$1
	shift
	dprobe --bind "$lease:$port" --to $LAB_SRV_IP:4011 --type request --ciaddr "$lease" \
		--mac 52:54:00:00:01:01 --xid "$(printf %08x "$port")" "${PXE_ARGS[@]}" "$@" --wait-ms 2000
	A=$(reply_from $LAB_SRV_IP)
}
for port in 68 4011; do
	ack4011 $port
	check "4011 from port $port: a DHCPACK" [ "$(rfield "$A" type)" = ACK ]
	check "4011 from port $port: from 192.0.2.1:4011 back to $lease (unicast)" \
		grep -q "^reply from=$LAB_SRV_IP:4011 to=$lease " <<<"$A"
	check "4011 from port $port: file snponly.efi" [ "$(rfield "$A" file)" = snponly.efi ]
	check "4011 from port $port: siaddr 192.0.2.1" [ "$(rfield "$A" siaddr)" = $LAB_SRV_IP ]
	check "4011 from port $port: option 54 192.0.2.1" [ "$(rfield "$A" o54)" = c0000201 ]
	check "4011 from port $port: option 60 PXEClient" [ "$(rfield "$A" o60)" = "$hex_pxeclient" ]
	check "4011 from port $port: option 97 echoed" [ "$(rfield "$A" o97)" = "$UUID" ]
	check "4011 from port $port: no lease options" rlacks "$A" o51
done
ack4011 4011 --boot-item 32768,0
check "4011 with boot item 0x8000 layer 0: ACK" [ "$(rfield "$A" type)" = ACK ]
check "4011 with boot item: 43 echoes 71 = type 0x8000 layer 0 ($(rfield "$A" o43))" \
	grep -qE '^(..)*470480000000(..)*ff$' <<<"$(rfield "$A" o43)"
check "4011 with boot item: file snponly.efi" [ "$(rfield "$A" file)" = snponly.efi ]
ack4011 68 --boot-item 32768,1
check "4011 with boot item layer 1: 71 echoed with layer 1" \
	grep -qE '^(..)*470480000001(..)*ff$' <<<"$(rfield "$A" o43)"
# a plain client on 4011 and a DISCOVER on 4011: no answer
dprobe --bind "$lease:68" --to $LAB_SRV_IP:4011 --type request --ciaddr "$lease" \
	--mac 52:54:00:00:01:01 --wait-ms 1500 --expect-replies 0
check "4011: a REQUEST without PXEClient gets no answer" [ "$PROBE_RC" -eq 0 ]
dprobe --bind "$lease:68" --to $LAB_SRV_IP:4011 --type discover --ciaddr "$lease" \
	--mac 52:54:00:00:01:01 "${PXE_ARGS[@]}" --wait-ms 1500 --expect-replies 0
check "4011: a DISCOVER gets no answer" [ "$PROBE_RC" -eq 0 ]
ip -n "$LAB_CLI" addr flush dev c0

# --- busybox udhcpc: a plain client gets its lease from dnsmasq; pxed is silent ---
cat >"$LAB_DIR/udhcpc.sh" <<'SCRIPT'
#!/bin/sh
[ "$1" = bound ] || [ "$1" = renew ] || exit 0
echo "ip=$ip router=$router boot_file=$boot_file siaddr=$siaddr serverid=$serverid" >"$OUT"
exit 0
SCRIPT
chmod +x "$LAB_DIR/udhcpc.sh"
udhcpc_run() {   # out-file MAC [extra udhcpc args]
	local out=$1
	ip -n "$LAB_CLI" link set c0 address "$2"
	shift 2
	in_cli env OUT="$out" timeout 30 busybox udhcpc -i c0 -n -q -f -t 3 -T 2 \
		-s "$LAB_DIR/udhcpc.sh" "$@" >"$out.log" 2>&1
}
mark=$(log_mark)
udhcpc_run "$LAB_DIR/u1" 52:54:00:00:01:08
u_ip=$(sed -n 's/.*ip=\([^ ]*\).*/\1/p' "$LAB_DIR/u1" 2>/dev/null)
check "udhcpc (plain) got a dnsmasq address ($u_ip)" in_dnsm_range "$u_ip"
check "udhcpc (plain): router and server id from dnsmasq" \
	grep -q "router=$DNSM_IP .*serverid=$DNSM_IP" "$LAB_DIR/u1"
check "udhcpc (plain): pxed sent nothing" log_lacks "$mark" "52:54:00:00:01:08: OFFER"
# udhcpc with a PXE vendor class is not a PXE client: it takes the first
# OFFER, and pxed's yiaddr-0 proxy OFFER usually comes first.  Recorded,
# not checked (dnsmasq's proxy mode behaves the same).
udhcpc_run "$LAB_DIR/u2" 52:54:00:00:01:09 -V "$EFI_VC" -x 0x5d:0007
echo "# note: udhcpc -V $EFI_VC: $(grep -c 'select for 0.0.0.0' "$LAB_DIR/u2.log") REQUEST(s)" \
	"for 0.0.0.0 to pxed; result: $(tail -1 "$LAB_DIR/u2.log")"

check "dnsmasq saw the clients (its log)" grep -q "DHCPACK(d0) $lease" "$LAB_DIR/dnsmasq.log"
check "pxed stops cleanly" pxed_stop
check "sanitizer clean" pxed_log_clean
lab_finish
