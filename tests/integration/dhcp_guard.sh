#!/bin/bash
# DHCP starvation and rogue servers (dhcp/guard.c, dhcp/rogue.c):
# floods of made-up MACs straight from the link and through a relay are
# served at no more than dhcp-new-client-rate / dhcp-relay-rate (plus one
# second's burst), summed up in the log once, counted; the pool fills to
# its reserve and no further for new clients, while a [host] and a client
# leased before the flood still get their addresses; the pool-low alarm
# (log once, /metrics, the subnet list, an "alarm" event); then dnsmasq
# answering on the served subnet is found by pxed's probe (log once,
# /metrics, the subnet list, an "alarm" event) and is not reported once
# it is named in dhcp-rogue-allow.
LAB_ID=${LAB_ID:-dg$$}
source "$(dirname "$0")/../lib/lab.sh"
lab_plan 27

lab_up || { not_ok "setup: lab_up"; exit 1; }
OUT=$LAB_DIR/out
mkdir -p "$OUT"
# the relay: the client namespace also holds 198.51.100.1, pxed routes the
# relayed subnet back to it (replies go to giaddr:67)

# the rogue's namespace on the segment (dnsmasq starts later)
DNSM=pxd-$LAB_ID
lab_attach "$DNSM" d0 192.0.2.3/24 || { not_ok "setup: the rogue's namespace"; exit 1; }
# (after the bridge: the route goes with 192.0.2.1's move to br0)
ip -n "$LAB_CLI" addr add 198.51.100.1/24 dev c0 &&
	ip -n "$LAB_SRV" route add 198.51.100.0/24 via $LAB_CLI_IP ||
	{ not_ok "setup: the relay's address"; exit 1; }

# conf [ALLOW]: pxed.conf, with dhcp-rogue-allow = ALLOW when given
conf() {
	cat >"$LAB_DIR/pxed.conf" <<CONF
dhcp-new-client-rate = 10
dhcp-relay-rate = 5
dhcp-pool-reserve = 10
dhcp-pool-low = 50
dhcp-rogue-probe = 2
[subnet 192.0.2.0/24]
range = 192.0.2.100 192.0.2.139
lease-time = 1h
[subnet 198.51.100.0/24]
range = 198.51.100.100 198.51.100.199
[host 52:54:00:00:77:01]
hostname = known
CONF
	[ -z "${1:-}" ] || sed -i "1i dhcp-rogue-allow = $1" "$LAB_DIR/pxed.conf"
}
conf
pxed_start --config "$LAB_DIR/pxed.conf" || { not_ok "setup: pxed_start"; exit 1; }

metric() { in_cli curl -sS "http://$LAB_SRV_IP/metrics" | sed -n "s/^$1 \([0-9]*\)$/\1/p"; }
subnets() { in_cli curl -sS -H "$(lab_auth)" "http://$LAB_SRV_IP/api/v1/subnets"; }
# pool FIELD: a field of 192.0.2.0/24's pool in the subnet list
pool() {
	subnets | python3 -c 'import json,sys
s = [s for s in json.load(sys.stdin)["subnets"] if s["cidr"] == "192.0.2.0/24"][0]
print(str(s["pool"][sys.argv[1]]).lower())' "$1"
}
offers() { grep -c ' type=OFFER ' <<<"$OUT"; }
# at_most N MAX: N is a number no larger than MAX
at_most() { [ -n "$1" ] && [ "$1" -le "$2" ] || { echo "# $1 > $2"; return 1; }; }

# --- a client leased before anything happens ---
dprobe --iface c0 --to 255.255.255.255:67 --broadcast --mac 52:54:00:00:77:02 --wait-ms 1500 \
	--expect-replies 1
OLD=$(rfield "$(grep ' type=OFFER ' <<<"$OUT")" yiaddr)
dprobe --iface c0 --to 255.255.255.255:67 --broadcast --type request --mac 52:54:00:00:77:02 \
	--requested "$OLD" --server-id $LAB_SRV_IP --wait-ms 1500 --expect-replies 1
check "a client leased before the flood" grep -q ' type=ACK ' <<<"$OUT"

# --- a flood straight from the link: 500 new MACs at once ---
t0=$(date +%s%N)
dprobe --iface c0 --to 255.255.255.255:67 --broadcast --count 500 --macs 500 \
	--mac 52:54:aa:00:00:00 --wait-ms 1500
secs=$(( ($(date +%s%N) - t0 + 999999999) / 1000000000 ))
n=$(offers)
echo "# $n offers in ${secs} s"
check "a flood of 500 new MACs: at most 10 + 10/s offers" at_most "$n" $((10 + 10 * secs))
check "... and some" [ "$n" -ge 5 ]
check "the rest counted as refused" [ "$(metric pxed_dhcp_new_clients_refused_total)" -ge $((500 - n)) ]

# --- through a relay: its own, tighter rate ---
t0=$(date +%s%N)
dprobe --bind 198.51.100.1:67 --to $LAB_SRV_IP:67 --giaddr 198.51.100.1 --hops 1 \
	--count 300 --macs 300 --mac 52:54:bb:00:00:00 --wait-ms 1500
secs=$(( ($(date +%s%N) - t0 + 999999999) / 1000000000 ))
n=$(offers)
echo "# $n relayed offers in ${secs} s"
check "300 new MACs through a relay: at most 5 + 5/s offers" at_most "$n" $((5 + 5 * secs))
check "... and some" [ "$n" -ge 3 ]

# --- more floods until the pool is down to its reserve (4 of 40) ---
# (the event stream is listened to from now: in a flood of boot events the
# bus's ring would not keep the alarm for a late reader)
cli_bg timeout 60 curl -sS -N -H "$(lab_auth)" "http://$LAB_SRV_IP/api/v1/events" \
	-o "$LAB_DIR/events.txt"
sleep 0.5
for i in 1 2 3 4 5 6 7; do
	dprobe --iface c0 --to 255.255.255.255:67 --broadcast --count 200 --macs 200 \
		--mac "52:54:c$i:00:00:00" --wait-ms 900
done
sleep 1.5                       # a count of the pool (once a second)
check "the pool filled to its reserve and no further: 4 free" same_value 4 "$(pool free)"
dprobe --iface c0 --to 255.255.255.255:67 --broadcast --mac 52:54:dd:00:00:01 --wait-ms 1200
check "a new client gets nothing from the reserve" [ "$(offers)" -eq 0 ]
dprobe --iface c0 --to 255.255.255.255:67 --broadcast --mac 52:54:00:00:77:01 --wait-ms 1500 \
	--expect-replies 1
check "a known host ([host]) still gets an address" [ "$(offers)" -eq 1 ]
dprobe --iface c0 --to 255.255.255.255:67 --broadcast --mac 52:54:00:00:77:02 --wait-ms 1500 \
	--expect-replies 1
check "the client leased before the flood gets its address back" \
	same_value "$OLD" "$(rfield "$(grep ' type=OFFER ' <<<"$OUT")" yiaddr)"
n=$(grep -c "subnet 192.0.2.0/24: [0-9]* request(s) of new clients not served" "$LAB_DIR/pxed.log")
check "thousands of refusals: one log line (once a minute)" [ "$n" -eq 1 ]
check "the pool-low alarm: logged once" \
	[ "$(grep -c 'subnet 192.0.2.0/24: pool low' "$LAB_DIR/pxed.log")" -eq 1 ]
check "... in /metrics" [ "$(metric pxed_dhcp_pools_low)" = 1 ]
check "... in the subnet list" [ "$(pool low)" = true ]
check "... and an alarm event" grep -q '"alarm":"pool-low","subnet":"192.0.2.0/24","low":true' \
	"$LAB_DIR/events.txt"

# --- another DHCP server on the served subnet ---
ip netns exec "$DNSM" dnsmasq -k --conf-file=/dev/null --port=0 --no-resolv --no-hosts \
	--user=root --interface=d0 --bind-interfaces --no-ping --log-dhcp \
	--dhcp-range=192.0.2.200,192.0.2.210,255.255.255.0,1h \
	--dhcp-leasefile="$LAB_DIR/dnsmasq.leases" --pid-file="$LAB_DIR/dnsmasq.pid" \
	--log-facility="$LAB_DIR/dnsmasq.log" &
LAB_PIDS+=("$!")
check "another server answering on 192.0.2.0/24 is found by the probe (logged)" \
	wait_log "another DHCP server answers on subnet 192.0.2.0/24: server id 192.0.2.3" 15
sleep 5                         # two more probes
check "... logged once" \
	[ "$(grep -c 'another DHCP server answers on subnet 192.0.2.0/24' "$LAB_DIR/pxed.log")" -eq 1 ]
check "... counted in /metrics" [ "$(metric pxed_dhcp_rogue_servers)" = 1 ]
check "... and our probes too" [ "$(metric pxed_dhcp_probes_sent_total)" -ge 3 ]
r=$(subnets)
check "... listed with the subnets" grep -q '"server":"192.0.2.3","source":"192.0.2.3","subnet":"192.0.2.0/24"' <<<"$r"
ev=$(in_cli timeout 5 curl -sS -N --max-time 2 -H "$(lab_auth)" -H "Last-Event-ID: 0" \
	"http://$LAB_SRV_IP/api/v1/events" 2>/dev/null)
check "... and an alarm event" grep -q '"alarm":"rogue-dhcp","subnet":"192.0.2.0/24","server":"192.0.2.3"' \
	<<<"$ev"
check "pxed never answered its own probe" \
	bash -c "! grep -qE 'dhcp [^ ]+ 02:70:78:65:64:[0-9a-f]+: (OFFER|ACK)' '$LAB_DIR/pxed.log'"
check "pxed stops cleanly" pxed_stop
pxed_log_rotate

# --- the same server named in dhcp-rogue-allow: not reported ---
conf 192.0.2.3
pxed_start --config "$LAB_DIR/pxed.conf" || { not_ok "setup: pxed restart"; exit 1; }
sleep 6
check "a server named in dhcp-rogue-allow: probed, not reported" \
	bash -c "! grep -q 'another DHCP server' '$LAB_DIR/pxed.log'"
check "... the probes went out" [ "$(metric pxed_dhcp_probes_sent_total)" -ge 2 ]
check "pxed stops cleanly (2)" pxed_stop
check "sanitizer clean" pxed_log_clean
lab_finish
