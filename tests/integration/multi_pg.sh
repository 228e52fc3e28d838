#!/bin/bash
# Three pxed on one PostgreSQL (state-url) serving one DHCP range on one
# LAN (a bridge): servers A (192.0.2.1), B (.3) and C (.4) in namespaces
# of their own, PostgreSQL 15 from tests/lib/pg.sh reached by all three on
# its unix socket.  Real clients: busybox udhcpc in six namespaces (20 s
# leases: they rebind every 10 s) and tests/lib/dora.py (DISCOVER, OFFER,
# REQUEST, ACK, one client after another, printing every ACK).
#  - every client gets an address, each of the three servers gave some
#    (the RFC 3074 split), no address is held by two clients: on the
#    clients' side (every ACK seen) and in the database;
#  - each client is offered an address by one server only (its bucket's);
#  - the split is per subnet: a fourth server D on the same database gives
#    addresses on another subnet (198.51.100.0/24) on a link of its own
#    (a veth to a client namespace): with D live, 20 more LAN clients are
#    each offered by one of A, B, C and all ACKed, and D's 10 clients are
#    all offered and ACKed by D;
#  - A reloaded (SIGHUP): its subnets' buckets are made again, 16 more LAN
#    clients are each offered by one server, all ACKed, A among them;
#  - a RELEASE at one server frees the address at the others: ISC
#    dhclient leased it; a client of another server's bucket asking for it
#    is offered another one while it is held, and it within 6 s after
#    dhclient -r (ACKed; in the database its row, by that server);
#  - a REQUEST naming server T for an address server S has just ACKed to
#    another client (T has not read the leases since) is not ACKed: T's
#    conditional write lost in the database; sent again, it is NAKed;
#  - kill -9 one server while perfdhcp (Kea's, 10 exchanges/s for 12 s,
#    nearly each a new client) and dora.py run: a survivor logs that it
#    serves its buckets; at least two thirds of perfdhcp's 4-way exchanges
#    done (its report), every one of its clients that asked outside the
#    takeover (from the kill to the survivor's log line) ACKed, by each of
#    the three servers (tcpdump on the bridge: what was sent to them, every
#    ACK perfdhcp counted among it); the killed server's udhcpc clients are
#    ACKed by another server with the same address before their lease ends,
#    new clients still get addresses, nothing is given twice (perfdhcp's
#    ACKs on the wire among the clients' and the database's checks);
#  - the server comes back: the others log it, it answers its clients
#    again (leases written by it);
#  - a shell task made through A, its boot script fetched from B, its
#    agent's progress and result sent to C: done, seen so by A, B and C;
#    two results of one task sent to A and B at once: one 204, one 409;
#  - an HTTP and a TFTP download from A held in flight are listed by A's,
#    B's and C's API with server A; a TFTP download from E, a fifth server
#    without DHCP (it beats too, taking no bucket), is listed by B's with
#    server E; A killed -9, B no longer lists them within 8 s.
LAB_ID=mp$$
source "$(dirname "$0")/../lib/lab.sh"
source "$(dirname "$0")/../lib/api.sh"
source "$(dirname "$0")/../lib/pg.sh"
lab_plan 48
T0=$(date +%s)
lab_up || exit 1
lab_bridge || { not_ok "setup: bridge"; exit 1; }
pg_start || { not_ok "setup: PostgreSQL did not start (tests/lib/pg.sh)"; exit 1; }
LAB_CLEANUPS+=("pg_stop")
# dora PREFIX COUNT [dora.py args]: its ACKs as "TIME MAC ADDRESS" in
# $LAB_DIR/acks (every line stamped as it arrives)
DORA_PY="$(dirname "$0")/../lib/dora.py"
dora() {
	local prefix=$1 count=$2
	shift 2
	in_cli timeout 60 python3 "$DORA_PY" --iface c0 --prefix "$prefix" --count "$count" \
		--nak-retries 2 "$@" |
		while read -r what mac addr; do
			[ "$what" = ACK ] && echo "$(date +%s) $mac $addr" >>"$LAB_DIR/acks"
		done
}
acks_of() { grep -c " ${1}:" "$LAB_DIR/acks"; }      # ACKs of MAC prefix
TOKEN=$(head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n')
echo "$TOKEN" >"$LAB_DIR/api-token" && chmod 600 "$LAB_DIR/api-token"
chown "$(lab_daemon_user)" "$LAB_DIR/api-token" 2>/dev/null

declare -A NS IP PID TFTP_PORT RANGE
TFTP_PORT[A]=69         # A serves TFTP too (the transfers it runs, below)
for n in A B C; do RANGE[$n]=192.0.2.10,192.0.2.254,255.255.255.0,20s; done
NS[A]=$LAB_SRV IP[A]=192.0.2.1
NS[B]=pxb-$LAB_ID IP[B]=192.0.2.3
NS[C]=pxk-$LAB_ID IP[C]=192.0.2.4
lab_attach "${NS[B]}" e0 192.0.2.3/24 || { not_ok "setup: namespace B"; exit 1; }
lab_attach "${NS[C]}" e0 192.0.2.4/24 || { not_ok "setup: namespace C"; exit 1; }

# srv_start NAME: that server, its log $LAB_DIR/NAME.log (appended)
srv_start() {
	local n=$1 from=1 i
	mkdir -p "$LAB_DIR/$n"
	[ -f "$LAB_DIR/$n.log" ] && from=$(($(wc -l <"$LAB_DIR/$n.log") + 1))
	ip netns exec "${NS[$n]}" "$PXED" --foreground --root "$LAB_ROOT" --listen "${IP[$n]}" \
		--state-dir "$LAB_DIR/$n" --state-url "$PG_URL" --server-name "$n" \
		--api-token-file "$LAB_DIR/api-token" --tftp-port "${TFTP_PORT[$n]:-0}" \
		--dhcp-rogue-probe 0 \
		${RANGE[$n]:+--dhcp-range "${RANGE[$n]}"} >>"$LAB_DIR/$n.log" 2>&1 &
	PID[$n]=$!
	LAB_PIDS+=("${PID[$n]}")
	for i in $(seq 1 100); do
		tail -n +$from "$LAB_DIR/$n.log" | grep -q "serving" && return 0
		sleep 0.1
	done
	not_ok "setup: server $n did not start"
	tail -20 "$LAB_DIR/$n.log"
	exit 1
}
for n in A B C; do srv_start $n; done

# wait_for SECONDS CMD...: until CMD succeeds (bounded)
wait_for() {
	local t=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -ge "$t" ] && return 1
		sleep 0.25
	done
}
live_count() { pg_psql "SELECT count(*) FROM servers WHERE heartbeat >
	(extract(epoch FROM clock_timestamp()) * 1000)::bigint - 4000"; }
three_live() { [ "$(live_count)" = 3 ]; }
wait_for 10 three_live
check "three heartbeats in the servers table" eq "$(live_count)" 3
# every server knows the three: C started last (it saw them at its start),
# A and B logged C's arrival
split_known() {
	grep -q "pools shared with 3 live" "$LAB_DIR/C.log" &&
		grep -q "C is live" "$LAB_DIR/A.log" && grep -q "C is live" "$LAB_DIR/B.log"
}
wait_for 5 split_known || { not_ok "setup: the servers did not see each other"; exit 1; }

# six udhcpc clients, one namespace each; their script records every
# lease as "TIME EVENT IP SERVERID" and puts the address on the interface
cat >"$LAB_DIR/udhcpc.sh" <<'SCRIPT'
#!/bin/sh
case "$1" in
bound | renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	echo "$(date +%s) $1 $ip $serverid" >>"$EVENTS" ;;
deconfig) ip addr flush dev "$interface" ;;
esac
exit 0
SCRIPT
chmod +x "$LAB_DIR/udhcpc.sh"
for i in 1 2 3 4 5 6; do
	lab_attach "pu$i-$LAB_ID" e0 || { not_ok "setup: client namespace $i"; exit 1; }
	ip netns exec "pu$i-$LAB_ID" env EVENTS="$LAB_DIR/u$i.events" busybox udhcpc -i e0 -f \
		-t 20 -T 1 -A 1 -s "$LAB_DIR/udhcpc.sh" >>"$LAB_DIR/udhcpc.log" 2>&1 &
	LAB_PIDS+=($!)
done
all_bound() {
	local i
	for i in 1 2 3 4 5 6; do grep -q " bound " "$LAB_DIR/u$i.events" 2>/dev/null || return 1; done
}
dora 52:54:00:aa:01 30 --wait-ms 1000
wait_for 15 all_bound
check "six udhcpc clients bound" all_bound
check "dora.py: 30 clients ACKed" eq "$(acks_of 52:54:00:aa:01)" 30
writers=$(pg_psql "SELECT string_agg(DISTINCT server, ' ' ORDER BY server) FROM leases")
check "each of the three servers gave leases (the split)" eq "$writers" "A B C"

# every ACK a client saw, "TIME CLIENT ADDRESS": dora.py's (by MAC) and
# udhcpc's (u1 .. u6), oldest first
client_view() {
	local i
	{
		cat "$LAB_DIR/acks" 2>/dev/null
		for i in 1 2 3 4 5 6; do
			awk -v c="u$i" '{ print $1, c, $3 }' "$LAB_DIR/u$i.events" 2>/dev/null
		done
	} | sort -n -s -k1,1
}
# No address ACKed to a client while another one's lease on it (20 s from
# its last ACK, 1 s of slack for the clocks' seconds) was running.
no_shared_address() {
	local dup
	dup=$(client_view | awk '{
		if (($3 in who) && who[$3] != $2 && $1 < when[$3] + 19)
			print $3 " to " who[$3] " at " when[$3] " and to " $2 " at " $1
		who[$3] = $2; when[$3] = $1 }')
	[ -z "$dup" ] || { echo "# ACKed to two clients at once: $dup"; return 1; }
}
# In the database: no MAC with two live leases, and every dora.py client
# whose lease still runs has its ACKed address as its row.
db_consistent() {
	local two bad=0 now row
	two=$(pg_psql "SELECT count(*) FROM (SELECT mac FROM leases WHERE state = 2
		AND expires > extract(epoch FROM now()) GROUP BY mac HAVING count(*) > 1) t")
	[ "$two" = 0 ] || { echo "# MACs with two live leases: $two"; return 1; }
	now=$(date +%s)
	while read -r mac addr; do
		row=$(pg_psql "SELECT (address >> 24) || '.' || (address >> 16 & 255) || '.' ||
			(address >> 8 & 255) || '.' || (address & 255) FROM leases
			WHERE mac = '\\x${mac//:/}'::bytea AND state = 2")
		[ "$row" = "$addr" ] || { echo "# $mac: ACKed $addr, row '$row'"; bad=$((bad + 1)); }
	done < <(awk -v now="$now" '$1 > now - 18 { last[$2] = $3 } END {
		for (m in last) print m, last[m] }' "$LAB_DIR/acks")
	[ "$bad" = 0 ]
}
check "no address ACKed to two clients (clients' side)" no_shared_address
check "the database agrees: one live lease per MAC, each client's ACKed address" db_consistent

# a client gets an address from its server S; at once (before the others'
# next read of the leases, every 2 s) another client asks another server T
# for it, in a REQUEST naming T: T's lease write loses in the database,
# T sends no ACK and learns the holder's lease; the client's second
# REQUEST is NAKed
dprobe --iface c0 --to 255.255.255.255:67 --wait-ms 1500 --expect-replies 1 --mac 52:54:00:bb:00:01 --broadcast
S_IP=$(sed -n 's/^reply from=\([0-9.]*\):.*/\1/p' <<<"$OUT" | head -1)
Q=$(rfield "$OUT" yiaddr)
dprobe --iface c0 --to 255.255.255.255:67 --wait-ms 1500 --expect-replies 1 --mac 52:54:00:bb:00:01 --broadcast \
	--type request --requested "$Q" --server-id "$S_IP"
[ "$(rfield "$(reply_from "$S_IP")" type)" = ACK ] || { not_ok "setup: $Q not ACKed"; exit 1; }
T_IP=192.0.2.1
[ "$S_IP" = 192.0.2.1 ] && T_IP=192.0.2.3
dprobe --iface c0 --to 255.255.255.255:67 --wait-ms 1500 --expect-replies 1 --mac 52:54:00:bb:00:02 --broadcast \
	--type request --requested "$Q" --server-id "$T_IP"
check "$S_IP ACKed $Q; a REQUEST of another client to $T_IP for it: not ACKed" \
	eq "$(rfield "$(reply_from "$T_IP")" type)" ""
dprobe --iface c0 --to 255.255.255.255:67 --wait-ms 1500 --expect-replies 1 --mac 52:54:00:bb:00:02 --broadcast \
	--type request --requested "$Q" --server-id "$T_IP"
check "... the same REQUEST sent again: NAK ($T_IP's pool learned the holder)" \
	eq "$(rfield "$(reply_from "$T_IP")" type)" NAK
owner=$(pg_psql "SELECT encode(mac, 'hex') FROM leases WHERE address =
	(SELECT address FROM leases WHERE mac = '\\x525400bb0001'::bytea)")
check "... and $Q stays the first client's in the database" eq "$owner" 525400bb0001
# each client was offered an address by one server (its bucket's)
one_offerer() {
	local n
	n=$(cat "$LAB_DIR"/[ABC].log | grep -o "$1[0-9a-f:]*: OFFER" | sort | uniq -c |
		awk '$1 != 1' | wc -l)
	[ "$n" = 0 ] || { echo "# $n client(s) offered by more than one server"; return 1; }
	[ "$(cat "$LAB_DIR"/[ABC].log | grep -c "$1[0-9a-f:]*: OFFER")" -ge "$2" ]
}
check "the 30 dora.py clients were each offered by one server" one_offerer 52:54:00:aa:01: 30

# D: a fourth server on the database, giving addresses on another subnet
# on a link of its own (namespace pxq, a veth to its clients' namespace
# pqc): it takes no bucket of the LAN's, and answers all its own clients
NS[D]=pxq-$LAB_ID IP[D]=198.51.100.1 RANGE[D]=198.51.100.10,198.51.100.99,255.255.255.0,20s
lab_netns "${NS[D]}" && lab_netns "pqc-$LAB_ID" &&
	ip link add dq0-$LAB_ID type veth peer name dq1-$LAB_ID &&
	ip link set dq0-$LAB_ID netns "${NS[D]}" name e0 &&
	ip link set dq1-$LAB_ID netns "pqc-$LAB_ID" name e0 &&
	ip -n "${NS[D]}" addr add 198.51.100.1/24 dev e0 &&
	ip -n "${NS[D]}" link set e0 up && ip -n "pqc-$LAB_ID" link set e0 up ||
	{ not_ok "setup: D's link"; exit 1; }
srv_start D
d_known() {
	grep -q "D is live, giving addresses on none of our subnets" "$LAB_DIR/A.log" &&
		grep -q "D is live, giving addresses on none of our subnets" "$LAB_DIR/B.log" &&
		grep -q "D is live, giving addresses on none of our subnets" "$LAB_DIR/C.log"
}
wait_for 5 d_known
check "D (198.51.100.0/24) live: A, B and C log that it gives addresses on none of their subnets" \
	d_known
dora 52:54:00:aa:05 20 --wait-ms 1000
check "with D live: 20 more LAN clients ACKed, each offered by one of A, B, C" \
	one_offerer 52:54:00:aa:05: 20
check "... all 20 ACKed" eq "$(acks_of 52:54:00:aa:05)" 20
ip netns exec "pqc-$LAB_ID" timeout 60 python3 "$DORA_PY" --iface e0 --prefix 52:54:00:ab:01 \
	--count 10 --wait-ms 1000 --nak-retries 2 >"$LAB_DIR/d-acks"
d_offers=$(grep -o "52:54:00:ab:01:[0-9a-f]*: OFFER" "$LAB_DIR/D.log" | sort -u | wc -l)
check "D's 10 clients on its own link: all ACKed ($(grep -c '^ACK .* 198\.51\.100\.' "$LAB_DIR/d-acks")), each offered by D ($d_offers)" \
	eq "$(grep -c '^ACK .* 198\.51\.100\.' "$LAB_DIR/d-acks") $d_offers" "10 10"
# a reload rebuilds the subnets (dhcp/reload.c): their buckets are made
# again at once (dhcp_share_resplit), else A would answer none
kill -HUP "${PID[A]}"
reloaded() { grep -q "configuration reloaded" "$LAB_DIR/A.log"; }
wait_for 5 reloaded || { not_ok "setup: A did not reload"; exit 1; }
dora 52:54:00:aa:06 16 --wait-ms 1000
check "A reloaded (SIGHUP): 16 more LAN clients, each offered by one server" \
	one_offerer 52:54:00:aa:06: 16
a_acks=$(grep -c "52:54:00:aa:06:[0-9a-f]*: ACK" "$LAB_DIR/A.log")
r_acks=$(acks_of 52:54:00:aa:06)
check "... all ACKed ($r_acks), A among the servers ($a_acks)" [ "$r_acks" = 16 -a "$a_acks" -ge 1 ]

# A RELEASE handled by one server frees the address at the others: client
# R, ISC dhclient in a namespace of its own, gets X from S (its bucket's
# server); a client D of another server T's bucket asks T for X (option
# 50 in its DISCOVER) and is offered another address (T read R's lease);
# R releases X to S (dhclient -r); within 6 s T offers X to D (T read the
# released row: the others' leases are read every 2 s) and ACKs it.  An
# offer D did not take is let go (a RELEASE of it) before D asks again: T
# would offer D the same address otherwise.
# disc MAC [ADDRESS]: a DISCOVER (asking for ADDRESS): the first answer's
# server in RS, its address in RY
disc() {
	dprobe --iface c0 --to 255.255.255.255:67 --wait-ms 1000 --expect-replies 1 --mac "$1" \
		--broadcast ${2:+--requested "$2"} >/dev/null
	RS=$(sed -n 's/^reply from=\([0-9.]*\):.*/\1/p' <<<"$OUT" | head -1)
	RY=$(rfield "$OUT" yiaddr)
}
# let_go MAC ADDRESS SERVER: MAC's RELEASE of ADDRESS, unicast to SERVER
let_go() {
	dprobe --bind 192.0.2.2:68 --to "$3:67" --type release --ciaddr "$2" --server-id "$3" \
		--mac "$1" --wait-ms 200 --expect-replies 0 >/dev/null
}
# dhclient runs its script with an environment of its own: the path baked in
cat >"$LAB_DIR/dhclient.sh" <<SCRIPT
#!/bin/sh
case "\$reason" in BOUND|RENEW|REBOOT|REBIND)
	ip addr add "\$new_ip_address/24" dev "\$interface" 2>/dev/null
	echo "\$reason \$new_ip_address \$new_dhcp_server_identifier" >>"$LAB_DIR/dhclient.events" ;;
esac
exit 0
SCRIPT
chmod +x "$LAB_DIR/dhclient.sh"
lab_attach "pd-$LAB_ID" e0 || { not_ok "setup: dhclient's namespace"; exit 1; }
# dhcl ARGS: dhclient in R's namespace (forks once bound; -1: one try)
dhcl() {
	ip netns exec "pd-$LAB_ID" timeout 30 dhclient -v -lf "$LAB_DIR/dhclient.leases" \
		-pf "$LAB_DIR/dhclient.pid" -sf "$LAB_DIR/dhclient.sh" "$@" e0 >>"$LAB_DIR/dhclient.log" 2>&1
}
LAB_CLEANUPS+=('[ -s "$LAB_DIR/dhclient.pid" ] && kill "$(cat "$LAB_DIR/dhclient.pid")"')
dhcl -1
read -r _ X S_IP < <(tail -1 "$LAB_DIR/dhclient.events" 2>/dev/null)
[ -n "${X:-}" ] && [ -n "${S_IP:-}" ] || { not_ok "setup: dhclient's lease"; cat "$LAB_DIR/dhclient.log"; exit 1; }
# D: the first of 52:54:00:ee:01:NN another server answers, offered
# another address than X (T read R's lease: at most 3 s).  Every offer
# is let go, X's too: T may read R's row only once it is released (reads
# every 2 s), and would keep X for the client it offered it to; a RELEASE
# by another MAC does not touch R's row (store_lease_release)
D= T_IP= other=
for i in $(seq 10 40); do
	mac=52:54:00:ee:01:$i
	disc $mac "$X"
	[ -n "$RS" ] && let_go $mac "$RY" "$RS"
	[ -n "$RS" ] && [ "$RS" != "$S_IP" ] || continue
	D=$mac T_IP=$RS other=$RY
	[ "$RY" != "$X" ] && break
	sleep 0.5
done
[ -n "$D" ] || { not_ok "setup: no client of another server's bucket"; exit 1; }
check "$S_IP leased $X to dhclient; $T_IP, asked for it by another client, offers another ($other)" \
	[ "$other" != "$X" ]
dhcl -r        # R's RELEASE to S; the dhclient still running stops
RELEASED_AT=$(date +%s)
for n in A B C; do [ "${IP[$n]}" = "$S_IP" ] && S=$n; done
released() { grep -q "RELEASE $X\$" "$LAB_DIR/$S.log"; }
wait_for 3 released
check "... dhclient -r: $S logged the RELEASE of $X" released
offered_x() {
	disc "$D" "$X"
	[ -n "$RS" ] && [ "$RY" != "$X" ] && let_go "$D" "$RY" "$RS"
	[ "$RS $RY" = "$T_IP $X" ]
}
wait_for 6 offered_x
check "dhclient released $X to $S_IP: $T_IP offers it to the other client ($(($(date +%s) - RELEASED_AT)) s after; asked for 6 s)" \
	eq "$RS $RY" "$T_IP $X"
dprobe --iface c0 --to 255.255.255.255:67 --wait-ms 1500 --expect-replies 1 --mac "$D" --broadcast \
	--type request --requested "$X" --server-id "$T_IP" >/dev/null
check "... and ACKs it" eq "$(rfield "$(reply_from "$T_IP")" type)" ACK
IFS=. read -r o1 o2 o3 o4 <<<"$X"
row=$(pg_psql "SELECT encode(mac, 'hex') || ' ' || server || ' ' || state FROM leases
	WHERE address = $(((o1 << 24) | (o2 << 16) | (o3 << 8) | o4))")
for n in A B C; do [ "${IP[$n]}" = "$T_IP" ] && T=$n; done
check "... in the database: $X is the other client's, by $T, bound" eq "$row" "${D//:/} $T 2"

# kill -9 the server of udhcpc client 1, while dora.py runs
K=$(for n in A B C; do
	grep -q " bound .* ${IP[$n]}\$" "$LAB_DIR/u1.events" && echo $n; done | head -1)
[ -n "$K" ] || { not_ok "setup: client 1's server"; exit 1; }
# K's udhcpc clients renew 15 s after their last ACK and rebind until
# their lease ends at 20 s: the kill (about 4 s after this) comes at most
# 12 s after client 1's last ACK, so that the takeover (4-5 s) is done
# before its lease ends
k_fresh() {
	local last
	last=$(tail -1 "$LAB_DIR/u1.events" | cut -d' ' -f1)
	[ $(($(date +%s) - last)) -le 8 ]
}
wait_for 10 k_fresh
# the load: perfdhcp (Kea's generator, from kea-admin) in a namespace of
# its own on the LAN (192.0.2.5), 4-way exchanges at PERF_RATE/s for
# PERF_S s, nearly each from a new MAC (52:54:00:dd:..:.., -R 60000); it
# sends as a relay agent on the link would (giaddr its own address, port
# 67, to 255.255.255.255), and each DISCOVER is answered by the server of
# the client's bucket.  tcpdump on the bridge keeps what the servers sent
# it: perfdhcp names no addresses.  At 10/s for 12 s and 20 s leases about
# 120 of its leases run at once: with the others' (six udhcpc, 30 + 40
# dora.py) within the range's 245 addresses less the 10 % pxed keeps for
# known clients (dhcp-pool-reserve), which perfdhcp's new clients would
# otherwise find exhausted.
PERF_RATE=10 PERF_S=12
lab_attach "pp-$LAB_ID" e0 192.0.2.5/24 && ip -n "pp-$LAB_ID" link set e0 promisc on ||
	{ not_ok "setup: perfdhcp's namespace"; exit 1; }
ip netns exec "${NS[A]}" tcpdump -i br0 -U -n -s 0 -w "$LAB_DIR/lan.pcap" \
	udp port 67 or udp port 68 >"$LAB_DIR/tcpdump.log" 2>&1 &
CAPTURE=$!
LAB_PIDS+=("$CAPTURE")
capturing() { grep -q "listening on" "$LAB_DIR/tcpdump.log"; }
wait_for 10 capturing || { not_ok "setup: tcpdump on the bridge"; exit 1; }
ip netns exec "pp-$LAB_ID" timeout $((PERF_S + 20)) perfdhcp -4 -l e0 -r "$PERF_RATE" \
	-R 60000 -b mac=52:54:00:dd:00:00 -p "$PERF_S" all >"$LAB_DIR/perfdhcp.txt" 2>&1 &
PERF=$!
LAB_PIDS+=("$PERF")
sleep 1.5
dora 52:54:00:aa:02 40 --wait-ms 800 --pace-ms 100 &
DORA_PID=$!
LAB_PIDS+=("$DORA_PID")
sleep 1.5
KILLED_AT=$(date +%s)
kill -9 "${PID[$K]}"
wait "${PID[$K]}" 2>/dev/null
SURV=()
for n in A B C; do [ "$n" != "$K" ] && SURV+=("$n"); done
took_over() { grep -qh "dhcp: serving buckets of $K (heartbeat lost)" \
	"$LAB_DIR/${SURV[0]}.log" "$LAB_DIR/${SURV[1]}.log"; }
wait_for 10 took_over
check "$K killed: a survivor logs 'serving buckets of $K (heartbeat lost)' within 10 s" took_over
# the takeover ends when both survivors split K's buckets (each on its own
# once-a-second tick; one may get none of them)
both_split() {
	local n
	for n in "${SURV[@]}"; do
		grep -qE "dhcp: (serving buckets of $K \(heartbeat lost\)|$K: heartbeat lost)" \
			"$LAB_DIR/$n.log" || return 1
	done
}
wait_for 5 both_split
TOOK_AT=$(date +%s)
timeout 60 tail --pid="$DORA_PID" -f /dev/null
timeout $((PERF_S + 20)) tail --pid="$PERF" -f /dev/null
sleep 1                 # tcpdump is behind: what it has not read when stopped is lost
kill -INT "$CAPTURE"
timeout 10 tail --pid="$CAPTURE" -f /dev/null
# perfdhcp's report: DISCOVERs sent, ACKs received (4-way exchanges done)
perf_stat() {           # SECTION FIELD
	awk -v s="Statistics for: $1" -v f="$2 packets:" '
		index($0, s) { in_s = 1; next } /Statistics for:/ { in_s = 0 }
		in_s && index($0, f) == 1 { print $3 }' "$LAB_DIR/perfdhcp.txt"
}
P_SENT=$(perf_stat DISCOVER-OFFER sent) P_DONE=$(perf_stat REQUEST-ACK received)
[ -n "$P_SENT" ] && [ "$P_SENT" -gt 0 ] ||
	{ not_ok "setup: no perfdhcp report"; cat "$LAB_DIR/perfdhcp.txt"; exit 1; }
# the messages of type $1 (tcpdump's name: Discover, ACK) on the wire for
# MACs of prefix $2: "TIME MAC YOUR-IP SERVER-ID"
wire_msgs() {
	tcpdump -tt -n -v -r "$LAB_DIR/lan.pcap" 2>/dev/null | awk -v m="$1" -v p="$2" '
		function out() { if (type == m && index(mac, p) == 1) print t, mac, yi, sid; type = "" }
		/^[0-9]+\.[0-9]+ / { out(); t = int($1); mac = yi = sid = ""; next }
		/Your-IP / { yi = $2 }
		/Client-Ethernet-Address / { mac = $2 }
		/DHCP-Message \(53\)/ { type = $NF }
		/Server-ID \(54\)/ { sid = $NF }
		END { out() }'
}
wire_msgs ACK 52:54:00:dd >"$LAB_DIR/perf-acks"
wire_msgs Discover 52:54:00:dd >"$LAB_DIR/perf-discovers"
# perfdhcp's clients that were never ACKed (each exchange is a new MAC),
# but those that asked between the kill and the takeover (K's buckets had
# no server then) and in perfdhcp's last second (it does not finish them)
lost_outside() {
	local end
	end=$(tail -1 "$LAB_DIR/perf-discovers" | cut -d' ' -f1)
	awk -v k="$KILLED_AT" -v t="$TOOK_AT" -v e="$end" 'NR == FNR { acked[$2] = 1; next }
		!($2 in acked) && ($1 < k - 1 || $1 > t + 1) && $1 < e - 1' \
		"$LAB_DIR/perf-acks" "$LAB_DIR/perf-discovers" | sort -u -k2,2
}
P_LOST=$(lost_outside | wc -l)
lost_outside | head -5 | sed 's/^/# not ACKed: /'
P_CLIENTS=$(cut -d' ' -f2 "$LAB_DIR/perf-acks" | sort -u | wc -l)
P_SERVERS=$(cut -d' ' -f4 "$LAB_DIR/perf-acks" | sort -u | xargs)
echo "# perfdhcp: $P_DONE of $P_SENT exchanges done; ACKs on the wire to $P_CLIENTS clients, from $P_SERVERS"
check "perfdhcp across the kill: $P_DONE of $P_SENT 4-way exchanges done (at least two thirds)" \
	[ $((P_DONE * 3)) -ge $((P_SENT * 2)) ]
check "... every one of its clients that asked outside the takeover was ACKed ($P_LOST not)" \
	eq "$P_LOST" 0
check "... its clients ACKed by each of the three servers" eq "$P_SERVERS" "${IP[A]} ${IP[B]} ${IP[C]}"
check "... every ACK perfdhcp counted was on the wire" [ "$(wc -l <"$LAB_DIR/perf-acks")" -ge "$P_DONE" ]
# from now on the checks of addresses (both sides) count perfdhcp's clients
cut -d' ' -f1-3 "$LAB_DIR/perf-acks" >>"$LAB_DIR/acks"

# K's udhcpc clients: ACKed again by a survivor, same address, before
# their 20 s lease ended
K_CLIENTS=()
for i in 1 2 3 4 5 6; do
	last=$(awk -v t="$KILLED_AT" '$1 <= t' "$LAB_DIR/u$i.events" | tail -1)
	[ "${last##* }" = "${IP[$K]}" ] && K_CLIENTS+=("$i")
done
rebound() {
	local i last before
	for i in "${K_CLIENTS[@]}"; do
		before=$(awk -v t="$KILLED_AT" '$1 <= t' "$LAB_DIR/u$i.events" | tail -1)
		last=$(awk -v t="$KILLED_AT" -v k="${IP[$K]}" '$1 > t && $4 != k' \
			"$LAB_DIR/u$i.events" | head -1)
		[ -n "$last" ] || return 1
		set -- $before
		local b_time=$1 b_ip=$3
		set -- $last
		[ "$3" = "$b_ip" ] && [ $(($1 - b_time)) -le 20 ] || return 1
	done
}
wait_for 25 rebound
check "$K's ${#K_CLIENTS[@]} udhcpc client(s) rebound with a survivor: same address, within the lease" rebound
check "... at least one client was $K's" [ "${#K_CLIENTS[@]}" -ge 1 ]
dora 52:54:00:aa:03 20 --wait-ms 1000
check "after the takeover: 20 new clients ACKed by the two survivors" \
	eq "$(acks_of 52:54:00:aa:03)" 20
check "... each offered by one of them" one_offerer 52:54:00:aa:03: 20
check "no address ACKed to two clients (clients' side, after the kill; perfdhcp's $P_CLIENTS among them)" \
	no_shared_address
check "the database agrees (after the kill; perfdhcp's clients among them)" db_consistent

# K comes back and takes its buckets back
S0=$(wc -l <"$LAB_DIR/${SURV[0]}.log") S1=$(wc -l <"$LAB_DIR/${SURV[1]}.log")
srv_start "$K"
back() {        # in the survivors' lines since the restart
	{ tail -n +$((S0 + 1)) "$LAB_DIR/${SURV[0]}.log"; tail -n +$((S1 + 1)) "$LAB_DIR/${SURV[1]}.log"; } |
		grep -q "dhcp: $K is live: its buckets are its own again"
}
wait_for 10 back
check "$K restarted: the survivors log that its buckets are its own again" back
dora 52:54:00:aa:04 20 --wait-ms 1000
check "20 more clients ACKed" eq "$(acks_of 52:54:00:aa:04)" 20
mine=$(pg_psql "SELECT count(*) FROM leases WHERE server = '$K'
	AND mac >= '\\x525400aa0400'::bytea AND mac <= '\\x525400aa04ff'::bytea")
check "$K answers its share of them again ($mine of 20)" [ "${mine:-0}" -ge 1 ]
check "no address ACKed to two clients (clients' side, in all)" no_shared_address
check "the database agrees (in all)" db_consistent

# --- tasks: made through A, booted from B, reported to C -----------------
# api SERVER METHOD PATH [TOKEN [curl args...]]: "STATUS BODY"
api() {
	local s=$1 method=$2 path=$3 token=${4:-} auth=()
	shift 4 2>/dev/null || shift $#
	[ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
	in_cli timeout 20 curl -sS -X "$method" "${auth[@]}" -o "$LAB_DIR/body.$s" \
		-w '%{http_code}' "$@" "http://${IP[$s]}$path"
	echo " $(cat "$LAB_DIR/body.$s" 2>/dev/null)"
}
code() { echo "${1%% *}"; }
jget() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "${1#* }" "$2"; }
TM=52:54:00:cc:00:01
r=$(api A POST /api/v1/hosts "$TOKEN" -d "{\"mac\":\"$TM\",\"name\":\"multi1\"}")
[ "$(code "$r")" = 201 ] || [ "$(code "$r")" = 200 ] || { not_ok "setup: host add on A: $r"; exit 1; }
task_new() {
	local r
	r=$(api A POST /api/v1/tasks "$TOKEN" -d '{"host":"multi1","type":"shell"}')
	jget "$r" id
}
task_token() {          # the token in B's boot script
	api B GET "/api/v1/boot/${TM//:/-}.ipxe" | sed -n 's/.*pxed\.token=\([0-9a-f]*\).*/\1/p'
}
ID=$(task_new)
TT=$(task_token)
[ "${#TT}" = 64 ] || { not_ok "setup: B's boot script has no task token"; exit 1; }
r1=$(api C GET /api/v1/agent/task "$TT")
r2=$(api C POST /api/v1/agent/progress "$TT" -d '{"phase":"shell","bytes":1,"total":2}')
r3=$(api C POST /api/v1/agent/result "$TT" -d '{"ok":true,"message":"done on C"}')
check "task $ID (made on A, script from B): C takes its agent's calls (200 204 204)" \
	eq "$(code "$r1") $(code "$r2") $(code "$r3")" "200 204 204"
states=$(for s in A B C; do jget "$(api $s GET "/api/v1/tasks/$ID" "$TOKEN")" state; done | xargs)
check "A, B and C all see task $ID done" eq "$states" "done done done"

ID2=$(task_new)
TT=$(task_token)
api C GET /api/v1/agent/task "$TT" >/dev/null
api A POST /api/v1/agent/result "$TT" -d '{"ok":true,"message":"from A"}' >"$LAB_DIR/race.A" &
ra=$!
api B POST /api/v1/agent/result "$TT" -d '{"ok":false,"message":"from B"}' >"$LAB_DIR/race.B" &
rb=$!
wait "$ra" "$rb"
codes=$(for s in A B; do code "$(cat "$LAB_DIR/race.$s")"; done | sort | xargs)
check "two results of task $ID2 at once to A and B: one 204, one 409" eq "$codes" "204 409"

# --- what a server runs, shown by the others -------------------------------
# an HTTP download from A held in flight (curl --limit-rate, small socket
# buffers: A's side lasts as long as the client's reading) and a TFTP one
# (tests/lib/tftp_slow.py: each block acknowledged after 0.2 s); each
# server publishes its transfers with its heartbeat (the servers table)
# owners SERVER FILE: "PROTO/SERVER" of SERVER's transfers of FILE, sorted
owners() {
	local r
	r=$(api "$1" GET /api/v1/transfers "$TOKEN")
	[ "$(code "$r")" = 200 ] || { echo "status $(code "$r")"; return; }
	python3 -c 'import json, sys
v = json.loads(sys.argv[1])
print(" ".join(sorted(t["proto"] + "/" + t.get("server", "-")
	for t in v["transfers"] if t["file"] == sys.argv[2])))' "${r#* }" "$2"
}
head -c 16M /dev/zero >"$LAB_ROOT/big.bin" && ln "$LAB_ROOT/big.bin" "$LAB_ROOT/big-e.bin" ||
	{ not_ok "setup: a 16 MiB file"; exit 1; }
# E: no DHCP (no range), TFTP only, on the LAN
NS[E]=pxe-$LAB_ID IP[E]=192.0.2.6 TFTP_PORT[E]=69
lab_attach "${NS[E]}" e0 192.0.2.6/24 || { not_ok "setup: namespace E"; exit 1; }
srv_start E
in_cli sysctl -qw net.ipv4.tcp_rmem="4096 32768 65536" &&
	ip netns exec "${NS[A]}" sysctl -qw net.ipv4.tcp_wmem="4096 32768 65536" ||
	{ not_ok "setup: small TCP buffers"; exit 1; }
in_cli timeout 60 curl -sS --limit-rate 100k -o /dev/null "http://${IP[A]}/big.bin" 2>/dev/null &
SLOW=$!
LAB_PIDS+=("$SLOW")
in_cli timeout 60 python3 "$(dirname "$0")/../lib/tftp_slow.py" "${IP[A]}" big.bin 0.2 &
SLOW_TFTP=$!
LAB_PIDS+=("$SLOW_TFTP")
in_cli timeout 60 python3 "$(dirname "$0")/../lib/tftp_slow.py" "${IP[E]}" big-e.bin 0.2 &
SLOW_E=$!
LAB_PIDS+=("$SLOW_E")
published() { [ "$(owners B big.bin)" = "http/A tftp/A" ]; }
wait_for 5 published
check "an HTTP and a TFTP download from A in flight: listed by A's API with server A" \
	eq "$(owners A big.bin)" "http/A tftp/A"
check "... by B's with server A" eq "$(owners B big.bin)" "http/A tftp/A"
check "... by C's with server A" eq "$(owners C big.bin)" "http/A tftp/A"
# pxectl transfers on C: a SERVER column, A's two rows
ctl_rows_of_a() {
	in_cli timeout 20 "$PXECTL" --server "http://${IP[C]}" --token-file "$LAB_DIR/api-token" \
		transfers >"$LAB_DIR/ctl-transfers" || return 1
	grep -qE '^SERVER +PROTO ' "$LAB_DIR/ctl-transfers" &&
		[ "$(grep -cE '^A +(http|tftp) +read .* big\.bin ' "$LAB_DIR/ctl-transfers")" = 2 ]
}
check "pxectl transfers on C: a SERVER column, A's HTTP and TFTP rows" ctl_rows_of_a
e_listed() { [ "$(owners B big-e.bin)" = tftp/E ]; }
wait_for 3 e_listed
check "a TFTP download from E (no DHCP) in flight: listed by B's API with server E" \
	eq "$(owners B big-e.bin)" tftp/E
e_no_bucket() {
	local n
	for n in A B C; do
		grep -q "E is live, giving addresses on none of our subnets (none)" \
			"$LAB_DIR/$n.log" || return 1
	done
}
check "... and E took no bucket: A, B and C log that it gives addresses on none of their subnets" \
	e_no_bucket
kill -9 "${PID[A]}"
wait "${PID[A]}" 2>/dev/null
KILLED_AT=$(date +%s)
gone() { [ -z "$(owners B big.bin)" ]; }
wait_for 8 gone
check "A killed: B no longer lists it ($(($(date +%s) - KILLED_AT)) s, at most 8)" gone
kill "$SLOW" "$SLOW_TFTP" "$SLOW_E" 2>/dev/null

for n in A B C D E; do
	[ "$n" = "$K" ] || kill -0 "${PID[$n]}" 2>/dev/null || continue
	kill -TERM "${PID[$n]}" 2>/dev/null
done
for n in A B C D E; do timeout 20 tail --pid="${PID[$n]}" -f /dev/null; done
cat "$LAB_DIR"/[ABCDE].log >>"$LAB_DIR/pxed.log"
check "no sanitizer report" pxed_log_clean
echo "# $(($(date +%s) - T0)) s"
lab_finish
