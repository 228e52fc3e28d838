#!/bin/bash
# DHCP through a relay: server (192.0.2.1) <-> relay (192.0.2.254 /
# 198.51.100.1) <-> client (198.51.100.0/24).  First dhcp-probe plays the
# relay (giaddr, from port 67, option 82): OFFER/ACK/NAK go to giaddr:67,
# 82 comes back unchanged, a NAK via a relay has the BROADCAST bit; then a
# client that holds a relayed lease talks to the server directly (RENEW,
# INFORM, RELEASE: unicast, giaddr 0, ciaddr on the remote subnet); then
# dnsmasq relays for busybox udhcpc (nft counts what reaches giaddr:67).
cd "$(dirname "$0")/../.." || exit 1
LAB_ID=dr$$
source tests/lib/lab.sh
lab_plan 41
lab_up || exit 1
make_file undionly.kpxe 70000

# Rewire: the client's peer s0 moves into the relay namespace; the relay
# reaches the server over a second veth pair (s1 <-> r0).
RLY=pxr-$LAB_ID
RLY_IN=192.0.2.254          # toward the server
GIADDR=198.51.100.1         # toward the clients
lab_netns "$RLY" || exit 1
ip -n "$LAB_SRV" link set s0 netns "$RLY"
ip link add s1-$LAB_ID type veth peer name r0-$LAB_ID || exit 1
ip link set s1-$LAB_ID netns "$LAB_SRV" name s1
ip link set r0-$LAB_ID netns "$RLY" name r0
ip -n "$LAB_SRV" addr add $LAB_SRV_IP/24 dev s1
ip -n "$LAB_SRV" link set s1 up
ip -n "$LAB_SRV" route add 198.51.100.0/24 via $RLY_IN
ip -n "$RLY" addr add $RLY_IN/24 dev r0
ip -n "$RLY" addr add $GIADDR/24 dev s0
ip -n "$RLY" link set r0 up
ip -n "$RLY" link set s0 up
ip netns exec "$RLY" sysctl -qw net.ipv4.ip_forward=1
ip -n "$LAB_CLI" addr flush dev c0
in_rly() { ip netns exec "$RLY" "$@"; }

cat >"$LAB_DIR/pxed.conf" <<EOF
[subnet 192.0.2.0/24]
range = 192.0.2.100 192.0.2.150
router = 192.0.2.1

[subnet 198.51.100.0/24]
range = 198.51.100.100 198.51.100.150
router = 198.51.100.1
dns = 198.51.100.53
domain = remote.example
lease-time = 30m

[relay port-9]
boot = bios lab-port9.kpxe

[relay sw-lab-2]
match = remote-id
boot = bios lab-switch2.kpxe
EOF
pxed_start --config "$LAB_DIR/pxed.conf" --boot bios=undionly.kpxe || exit 1
in_remote() { case "$1" in 198.51.100.1[0-4][0-9]|198.51.100.150) return 0 ;; esac; return 1; }

# relay ARGS...: dhcp-probe in the relay namespace as a relay agent
# (from 192.0.2.254:67, giaddr 198.51.100.1, hops 1) to the server.
relay() {
	dprobe_in "$RLY" --bind 0.0.0.0:67 --to $LAB_SRV_IP:67 --giaddr $GIADDR --hops 1 \
		--wait-ms 1500 "$@"
	R=$(reply_from $LAB_SRV_IP)
}
O82=0106$(hexstr port-7)0208$(hexstr sw-lab-1)   # circuit id, remote id
MAC1=52:54:00:00:02:01

# --- a relayed DISCOVER with option 82 ---
relay --mac $MAC1 --xid 0c000001 --broadcast --opt 82=$O82 --prl 1,3,6,15,51,54
addr1=$(rfield "$R" yiaddr)
check "relayed DISCOVER: an OFFER from the remote subnet ($addr1)" in_remote "$addr1"
check "relayed OFFER: sent from 192.0.2.1:67 to giaddr 198.51.100.1" \
	grep -q "^reply from=$LAB_SRV_IP:67 to=$GIADDR " <<<"$R"
check "relayed OFFER: giaddr kept" [ "$(rfield "$R" giaddr)" = $GIADDR ]
check "relayed OFFER: hops 0" [ "$(rfield "$R" hops)" = 0 ]
check "relayed OFFER: router 198.51.100.1" [ "$(rfield "$R" o3)" = c6336401 ]
check "relayed OFFER: netmask /24" [ "$(rfield "$R" o1)" = ffffff00 ]
check "relayed OFFER: DNS 198.51.100.53" [ "$(rfield "$R" o6)" = c6336435 ]
check "relayed OFFER: domain remote.example" [ "$(rfield "$R" o15)" = "$(hexstr remote.example)" ]
check "relayed OFFER: the subnet's lease time 30 min" [ "$(rfield "$R" o51)" = 00000708 ]
check "relayed OFFER: server id 192.0.2.1" [ "$(rfield "$R" o54)" = c0000201 ]
check "relayed OFFER: option 82 echoed unchanged (RFC 3046)" [ "$(rfield "$R" o82)" = "$O82" ]

# --- without 82: none in the reply (never originated) ---
relay --mac 52:54:00:00:02:02 --xid 0c000002
check "relayed DISCOVER without 82: OFFER without 82" rlacks "$R" o82
check "... and an address of the remote subnet" in_remote "$(rfield "$R" yiaddr)"

# --- SELECTING REQUEST via the relay: ACK to giaddr, 82 echoed ---
relay --mac $MAC1 --xid 0c000003 --type request --server-id $LAB_SRV_IP \
	--requested "$addr1" --opt 82=$O82
check "relayed REQUEST: ACK for $addr1" \
	[ "$(rfield "$R" type) $(rfield "$R" yiaddr)" = "ACK $addr1" ]
check "relayed ACK: to giaddr 198.51.100.1" grep -q " to=$GIADDR " <<<"$R"
check "relayed ACK: option 82 echoed" [ "$(rfield "$R" o82)" = "$O82" ]

# --- NAKs via the relay: BROADCAST bit set, to giaddr:67 ---
relay --mac 52:54:00:00:02:03 --xid 0c000004 --type request --requested 192.0.2.77 --opt 82=$O82
check "INIT-REBOOT for an address of another subnet via the relay: NAK" \
	[ "$(rfield "$R" type)" = NAK ]
check "relayed NAK: BROADCAST bit set" [ "$(rfield "$R" flags)" = 8000 ]
check "relayed NAK: to giaddr 198.51.100.1:67" grep -q " to=$GIADDR " <<<"$R"
check "relayed NAK: yiaddr and siaddr 0, no file" \
	grep -q "yiaddr=0.0.0.0 siaddr=0.0.0.0 giaddr=$GIADDR sname= file= " <<<"$R"
check "relayed NAK: only 53, 54, 56 (+82)" \
	grep -qE " order=53,54(,56)?(,82)? " <<<"$R"
relay --mac 52:54:00:00:02:04 --xid 0c000005 --type request --requested "$addr1"
check "INIT-REBOOT for another client's address via the relay: NAK, BROADCAST bit" \
	[ "$(rfield "$R" type) $(rfield "$R" flags)" = "NAK 8000" ]
relay --mac 52:54:00:00:02:05 --xid 0c000006 --type request --requested 198.51.100.149
check "INIT-REBOOT of an unknown client for a free address: silence" [ -z "$R" ]

# --- a relayed PXE client: boot data and the remote subnet's options ---
relay --mac 52:54:00:00:02:06 --xid 0c000007 --vendor PXEClient:Arch:00000:UNDI:002001 --arch 0
check "relayed PXE DISCOVER: file undionly.kpxe, siaddr 192.0.2.1" \
	[ "$(rfield "$R" file) $(rfield "$R" siaddr)" = "undionly.kpxe $LAB_SRV_IP" ]

# --- option 82 selects rules: [relay ID] by circuit id or remote id ---
PXEB=(--vendor PXEClient:Arch:00000:UNDI:002001 --arch 0)
relay --mac 52:54:00:00:02:07 --xid 0c000008 "${PXEB[@]}" --opt 82=0106$(hexstr port-9)
check "circuit id port-9 selects its [relay] rule: lab-port9.kpxe" \
	[ "$(rfield "$R" file)" = lab-port9.kpxe ]
relay --mac 52:54:00:00:02:08 --xid 0c000009 "${PXEB[@]}" \
	--opt 82=0106$(hexstr port-7)0208$(hexstr sw-lab-2)
check "remote id sw-lab-2 selects its [relay] rule: lab-switch2.kpxe" \
	[ "$(rfield "$R" file)" = lab-switch2.kpxe ]
relay --mac 52:54:00:00:02:09 --xid 0c00000a "${PXEB[@]}" --opt 82=$O82
check "another circuit keeps the global rule: undionly.kpxe" [ "$(rfield "$R" file)" = undionly.kpxe ]

# --- the client of addr1 talks to the server directly (RFC 2131 4.3.2/4.4.5) ---
ip -n "$LAB_CLI" link set c0 address $MAC1
ip -n "$LAB_CLI" addr add "$addr1/24" dev c0
ip -n "$LAB_CLI" route add default via $GIADDR
dprobe --bind "$addr1:68" --to $LAB_SRV_IP:67 --type request --ciaddr "$addr1" \
	--mac $MAC1 --xid 0c000010 --wait-ms 2000
A=$(reply_from $LAB_SRV_IP)
check "RENEWING (unicast, ciaddr $addr1, no giaddr): ACK" [ "$(rfield "$A" type)" = ACK ]
check "RENEWING: ACK unicast to ciaddr" grep -q " to=$addr1 " <<<"$A"
check "RENEWING: the remote subnet's router" [ "$(rfield "$A" o3)" = c6336401 ]
dprobe --bind "$addr1:68" --to $LAB_SRV_IP:67 --type inform --ciaddr "$addr1" \
	--mac $MAC1 --xid 0c000011 --wait-ms 2000 --prl 1,3,6,15
A=$(reply_from $LAB_SRV_IP)
check "INFORM from $addr1 (direct): ACK" [ "$(rfield "$A" type)" = ACK ]
check "INFORM from $addr1: the remote subnet's router 198.51.100.1" [ "$(rfield "$A" o3)" = c6336401 ]
check "INFORM from $addr1: the remote subnet's domain" \
	[ "$(rfield "$A" o15)" = "$(hexstr remote.example)" ]
mark=$(log_mark)
dprobe --bind "$addr1:68" --to $LAB_SRV_IP:67 --type release --ciaddr "$addr1" \
	--server-id $LAB_SRV_IP --mac $MAC1 --xid 0c000012 --wait-ms 500
check "RELEASE of $addr1 (direct): pxed freed it" wait_log "RELEASE $addr1" 3 "$mark"
ip -n "$LAB_CLI" addr flush dev c0
ip -n "$LAB_CLI" route flush dev c0 2>/dev/null

# --- dnsmasq as the relay, busybox udhcpc behind it ---
in_rly nft -f - <<EOF
table inet pxtest {
	chain input {
		type filter hook input priority 0;
		ip saddr $LAB_SRV_IP ip daddr $GIADDR udp sport 67 udp dport 67 counter
	}
}
EOF
ip netns exec "$RLY" dnsmasq -k --conf-file=/dev/null --port=0 --no-resolv --no-hosts --user=root \
	--dhcp-relay=$GIADDR,$LAB_SRV_IP --log-dhcp --log-facility="$LAB_DIR/dnsmasq.log" \
	--pid-file="$LAB_DIR/dnsmasq.pid" &
LAB_PIDS+=("$!")
sleep 0.5
cat >"$LAB_DIR/udhcpc.sh" <<'SCRIPT'
#!/bin/sh
[ "$1" = bound ] || [ "$1" = renew ] || exit 0
echo "ip=$ip mask=$mask router=$router dns=$dns domain=$domain lease=$lease serverid=$serverid" >"$OUT"
exit 0
SCRIPT
chmod +x "$LAB_DIR/udhcpc.sh"
ip -n "$LAB_CLI" link set c0 address 52:54:00:00:02:10
mark=$(log_mark)
in_cli env OUT="$LAB_DIR/u1" timeout 30 busybox udhcpc -i c0 -n -q -f -t 4 -T 2 \
	-s "$LAB_DIR/udhcpc.sh" >"$LAB_DIR/udhcpc.log" 2>&1
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" "$LAB_DIR/u1" 2>/dev/null; }
check "udhcpc behind dnsmasq's relay: an address in 198.51.100.x ($(field ip))" in_remote "$(field ip)"
check "udhcpc: router 198.51.100.1, DNS 198.51.100.53" \
	[ "$(field router) $(field dns)" = "198.51.100.1 198.51.100.53" ]
check "udhcpc: domain remote.example, lease 1800, server 192.0.2.1" \
	[ "$(field domain) $(field lease) $(field serverid)" = "remote.example 1800 $LAB_SRV_IP" ]
check "pxed saw the DISCOVER via the relay" wait_log "52:54:00:00:02:10: DISCOVER via relay" 1 "$mark"
hits=$(in_rly nft list table inet pxtest | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
check "pxed's replies reached giaddr 198.51.100.1:67 from 192.0.2.1:67 ($hits packets)" \
	[ "${hits:-0}" -ge 2 ]
grep -E "DHCP relay|relay" "$LAB_DIR/dnsmasq.log" | head -3 | sed 's/^/# /'

check "pxed stops cleanly" pxed_stop
check "sanitizer clean" pxed_log_clean
lab_finish
