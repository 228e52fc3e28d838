#!/bin/bash
# Wake-on-LAN: receivers in namespaces see exactly what pxed sends.
#   server (192.0.2.1, bridge br0) -- local receiver "wl" 192.0.2.20
#                                  \-- router "rt" 192.0.2.254 | 198.51.100.1
#                                          -- remote receiver "wr" 198.51.100.20
# The router forwards directed broadcasts (bc_forwarding), as a campus
# router configured for Wake-on-LAN does; pxed knows 198.51.100.0/24 from a
# [subnet] section.  Each host is "seen" by fetching its boot script from
# its receiver's address.  Checks: a host on pxed's own subnet gets a
# link-layer broadcast, one behind the router a directed broadcast; each
# payload is exactly 6 x 0xff + 16 x its MAC (+ its SecureOn password when
# set), sent 3 times; the other subnet sees nothing; wake --group; --wake on
# a task; a host never seen: a clear error, nothing sent.
LAB_ID=${LAB_ID:-wk$$}
source "$(dirname "$0")/../lib/lab.sh"
lab_plan 21
source "$(dirname "$0")/../lib/api.sh"

lab_up || { not_ok "setup: lab_up"; exit 1; }
WL=pxwl-$LAB_ID WR=pxwr-$LAB_ID RT=pxrt-$LAB_ID
L=52:54:00:aa:00:01
R=52:54:00:aa:00:02
N=52:54:00:aa:00:03
{
	lab_attach "$WL" eth0 192.0.2.20/24 &&
	lab_attach "$RT" eth0 192.0.2.254/24 &&
	lab_netns "$WR" &&
	ip link add "r1-$LAB_ID" type veth peer name "r2-$LAB_ID" &&
	ip link set "r1-$LAB_ID" netns "$RT" name eth1 &&
	ip link set "r2-$LAB_ID" netns "$WR" name eth0 &&
	ip -n "$RT" addr add 198.51.100.1/24 dev eth1 && ip -n "$RT" link set eth1 up &&
	ip -n "$WR" addr add 198.51.100.20/24 dev eth0 && ip -n "$WR" link set eth0 up &&
	ip -n "$WR" route add default via 198.51.100.1 &&
	ip -n "$WL" route add default via 192.0.2.1 &&
	ip -n "$LAB_SRV" route add 198.51.100.0/24 via 192.0.2.254 &&
	ip netns exec "$RT" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.bc_forwarding=1 \
		net.ipv4.conf.eth0.bc_forwarding=1 net.ipv4.conf.eth1.bc_forwarding=1
} || { not_ok "setup: namespaces and routes"; exit 1; }

# receiver NS LOG: every UDP datagram to port 9 as "SOURCE HEX" lines
receiver() {
	ip netns exec "$1" python3 -u -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.bind(("0.0.0.0", 9))
while True:
    d, a = s.recvfrom(4096)
    print(a[0], d.hex(), flush=True)' >"$2" 2>&1 &
	LAB_PIDS+=("$!")
}
receiver "$WL" "$LAB_DIR/wl.log"
receiver "$WR" "$LAB_DIR/wr.log"

cat >"$LAB_DIR/pxed.conf" <<'EOF'
[subnet 198.51.100.0/24]
EOF
pxed_start --config "$LAB_DIR/pxed.conf" --interface br0 || { not_ok "setup: pxed_start"; exit 1; }
ctl host add "$L" local1 >/dev/null
ctl host add "$R" remote1 >/dev/null
ctl host add "$N" never >/dev/null
# each host fetches its boot script from its receiver's namespace
ip netns exec "$WL" timeout 10 curl -sS -o /dev/null "http://192.0.2.1/api/v1/boot/$L.ipxe" &&
	ip netns exec "$WR" timeout 10 curl -sS -o /dev/null "http://192.0.2.1/api/v1/boot/$R.ipxe" ||
	{ not_ok "setup: boot scripts fetched from the receivers"; exit 1; }

magic() { printf 'ffffffffffff'; for _ in $(seq 16); do printf '%s' "${1//:/}"; done; printf '%s' "${2:-}"; }
# lines LOG FROM: the lines of LOG after line FROM
lines() { tail -n +"$(($2 + 1))" "$1"; }
count() { wc -l <"$1"; }
# got LOG FROM SOURCE PAYLOAD: exactly 3 datagrams since FROM, each PAYLOAD from SOURCE
got() {
	local want
	want=$(printf '%s %s\n%s %s\n%s %s' "$3" "$4" "$3" "$4" "$3" "$4")
	for _ in $(seq 20); do [ "$(lines "$1" "$2" | wc -l)" -ge 3 ] && break; sleep 0.1; done
	sleep 0.3
	eq "$(lines "$1" "$2")" "$want"
}
none() { sleep 0.3; eq "$(lines "$1" "$2")" ""; }

check "host show: local1 was seen at 192.0.2.20" eq "$(json /api/v1/hosts/local1 '["last_addr"]')" 192.0.2.20
check "host show: remote1 was seen at 198.51.100.20" eq "$(json /api/v1/hosts/remote1 '["last_addr"]')" 198.51.100.20

a=$(count "$LAB_DIR/wl.log") b=$(count "$LAB_DIR/wr.log")
OUT=$(ctl wake local1)
echo "# $OUT"
check "wake local1: pxectl says where it sent" \
	has "$OUT" "3 magic packets to 192.0.2.255:9 (interface br0; last seen at 192.0.2.20)"
check "  ... the local receiver got 3 x (6 x ff + 16 x its MAC) from pxed's address" \
	got "$LAB_DIR/wl.log" "$a" 192.0.2.1 "$(magic $L)"
check "  ... the routed subnet got nothing" none "$LAB_DIR/wr.log" "$b"

a=$(count "$LAB_DIR/wl.log") b=$(count "$LAB_DIR/wr.log")
OUT=$(ctl wake remote1)
echo "# $OUT"
check "wake remote1: a directed broadcast to its subnet" \
	has "$OUT" "3 magic packets to 198.51.100.255:9 (routed to subnet 198.51.100.0/24"
check "  ... the receiver behind the router got exactly the magic packet, 3 times" \
	got "$LAB_DIR/wr.log" "$b" 192.0.2.1 "$(magic $R)"
check "  ... the local subnet got nothing" none "$LAB_DIR/wl.log" "$a"

check "host wol remote1 (a SecureOn password)" ctl host wol remote1 a1:b2:c3:d4:e5:f6
b=$(count "$LAB_DIR/wr.log")
ctl wake remote1 >/dev/null
check "  ... then the packet carries the password after the MAC" \
	got "$LAB_DIR/wr.log" "$b" 192.0.2.1 "$(magic $R a1b2c3d4e5f6)"
check "host wol with a bad password: refused" \
	has "$(ctl host wol remote1 xyz 2>&1)" "(HTTP 400)"
ctl host wol remote1 none >/dev/null

a=$(count "$LAB_DIR/wl.log") b=$(count "$LAB_DIR/wr.log")
ctl group add room local1 remote1 >/dev/null
OUT=$(ctl wake --group room)
check "wake --group room: both hosts" \
	bash -c "[ \$(grep -c '3 magic packets' <<<'$OUT') -eq 2 ]"
check "  ... the local one's packets" got "$LAB_DIR/wl.log" "$a" 192.0.2.1 "$(magic $L)"
check "  ... the remote one's packets" got "$LAB_DIR/wr.log" "$b" 192.0.2.1 "$(magic $R)"

a=$(count "$LAB_DIR/wl.log")
OUT=$(ctl task diagnose local1 --wake)
check "task diagnose --wake: the task is made and the host woken" \
	bash -c "grep -q 'diagnose' <<<'$OUT' && grep -q 'wake 52:54:00:aa:00:01: 3 magic packets' <<<'$OUT'"
check "  ... the local receiver got its packets" got "$LAB_DIR/wl.log" "$a" 192.0.2.1 "$(magic $L)"

a=$(count "$LAB_DIR/wl.log") b=$(count "$LAB_DIR/wr.log")
MSG=$(ctl wake never 2>&1)
check "wake of a host never seen: refused, saying why" \
	has "$MSG" "cannot wake 52:54:00:aa:00:03: never seen: no address known"
check "  ... nothing sent" bash -c "sleep 0.3; [ \$(wc -l <'$LAB_DIR/wl.log') -eq $a ] && [ \$(wc -l <'$LAB_DIR/wr.log') -eq $b ]"
check "wake of an unknown host: 404" has "$(ctl wake nosuch 2>&1)" "(HTTP 404)"

check "pxed stops cleanly" pxed_stop
check "no sanitizer report" pxed_log_clean
lab_finish
