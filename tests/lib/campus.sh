# shellcheck shell=bash
# A campus in namespaces: a routed client subnet whose router relays DHCP
# both to the site's DHCP server and to pxed.  Source after lab.sh (and
# qemu.sh for VMs).
#
#   192.0.2.0/24 (server LAN, bridge br0 in $LAB_SRV)
#     192.0.2.1    pxed ($LAB_SRV)
#     192.0.2.2    the lab's client namespace ($LAB_CLI: curl, pxectl)
#     192.0.2.3    the site's DHCP server ($CAMPUS_SITE: dnsmasq or Kea)
#     192.0.2.254  the router ($CAMPUS_RTR, interface r0)
#   198.51.100.0/24 (client LAN, bridge lan0 in $CAMPUS_RTR)
#     198.51.100.1 the router's address there: the relay's giaddr
#     VMs (VM_NS=$CAMPUS_RTR, VM_BRIDGE=lan0) and probe namespaces
#
#   campus_up: the namespaces, bridges and routes.
#   campus_site_start dnsmasq|kea: the site server, addresses
#       198.51.100.50-90 for the client LAN, nothing about booting.
#       Its log: $LAB_DIR/site.log; campus_site_leases prints the MACs it
#       holds a lease for (lower case).
#   campus_relay_start dnsmasq|dhcrelay: the router's relay, forwarding to
#       the site server and to pxed (two helpers, as a campus router does).
#       Its log: $LAB_DIR/relay.log.  campus_relay_stop ends it.
#   campus_capture_start / campus_capture_stop: tcpdump on the client LAN
#       (lan0) into $LAB_DIR/lan.pcap; campus_capture_text prints it.
# Daemons are started with "ip netns exec" itself in the background (not
# through a shell function), so that $! is the daemon and stopping it works.
#   campus_probe_ns NAME: a namespace with interface eth0 on the client LAN
#       (no address), for dhcp-probe and other synthetic clients.

CAMPUS_RTR=pxr-$LAB_ID
CAMPUS_SITE=pxd-$LAB_ID
CAMPUS_SITE_IP=192.0.2.3
CAMPUS_RTR_IP=192.0.2.254
CAMPUS_GIADDR=198.51.100.1
CAMPUS_NET=198.51.100.0/24
CAMPUS_RELAY_PID=
CAMPUS_SITE_PID=
CAMPUS_CAPTURE_PID=

campus_up() {
	lab_up && lab_bridge || return 1
	ip -n "$LAB_SRV" link set br0 address 02:00:00:00:02:01
	lab_attach "$CAMPUS_RTR" r0 "$CAMPUS_RTR_IP/24" || return 1
	lab_attach "$CAMPUS_SITE" d0 "$CAMPUS_SITE_IP/24" || return 1
	ip -n "$CAMPUS_RTR" link add lan0 address 02:00:00:00:33:01 type bridge || return 1
	ip -n "$CAMPUS_RTR" link set lan0 type bridge forward_delay 0 stp_state 0
	ip -n "$CAMPUS_RTR" addr add "$CAMPUS_GIADDR/24" dev lan0
	ip -n "$CAMPUS_RTR" link set lan0 up
	ip netns exec "$CAMPUS_RTR" sysctl -qw net.ipv4.ip_forward=1
	local ns
	for ns in "$LAB_SRV" "$CAMPUS_SITE" "$LAB_CLI"; do
		ip -n "$ns" route add "$CAMPUS_NET" via "$CAMPUS_RTR_IP" || return 1
	done
}

in_rtr() { ip netns exec "$CAMPUS_RTR" "$@"; }
in_site() { ip netns exec "$CAMPUS_SITE" "$@"; }

# campus_wait_file FILE REGEX SECONDS
campus_wait_file() {
	for _ in $(seq 1 $(($3 * 10))); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

campus_kea_conf() {
	cat <<EOF
{ "Dhcp4": {
    "interfaces-config": { "interfaces": [ "d0/$CAMPUS_SITE_IP" ], "dhcp-socket-type": "udp" },
    "lease-database": { "type": "memfile", "persist": true,
        "name": "$LAB_DIR/kea-leases4.csv", "lfc-interval": 0 },
    "valid-lifetime": 3600,
    "authoritative": true,
    "subnet4": [ { "id": 1, "subnet": "$CAMPUS_NET",
        "pools": [ { "pool": "198.51.100.50 - 198.51.100.90" } ],
        "option-data": [ { "name": "routers", "data": "$CAMPUS_GIADDR" } ] } ],
    "loggers": [ { "name": "kea-dhcp4", "severity": "INFO",
        "output_options": [ { "output": "$LAB_DIR/site.log" } ] } ]
} }
EOF
}

campus_site_start() {
	CAMPUS_SITE_KIND=$1
	: >"$LAB_DIR/site.log"
	case $1 in
	dnsmasq)
		ip netns exec "$CAMPUS_SITE" dnsmasq -k --conf-file=/dev/null --port=0 --no-resolv --no-hosts \
			--user=root --interface=d0 --bind-interfaces --no-ping --log-dhcp \
			--dhcp-range=198.51.100.50,198.51.100.90,255.255.255.0,1h \
			--dhcp-option=3,$CAMPUS_GIADDR \
			--dhcp-leasefile="$LAB_DIR/site.leases" --pid-file="$LAB_DIR/site.pid" \
			--log-facility="$LAB_DIR/site.log" &
		CAMPUS_SITE_PID=$!
		LAB_PIDS+=("$!")
		campus_wait_file "$LAB_DIR/site.log" "DHCP, IP range" 10 ;;
	kea)
		campus_kea_conf >"$LAB_DIR/kea.conf"
		ip netns exec "$CAMPUS_SITE" env KEA_PIDFILE_DIR="$LAB_DIR" KEA_LOCKFILE_DIR="$LAB_DIR" \
			kea-dhcp4 -c "$LAB_DIR/kea.conf" >"$LAB_DIR/kea.out" 2>&1 &
		CAMPUS_SITE_PID=$!
		LAB_PIDS+=("$!")
		campus_wait_file "$LAB_DIR/site.log" "DHCP4_STARTED|DHCPSRV_CFGMGR_ADD_IFACE" 15 ;;
	*) return 1 ;;
	esac
}

# campus_end PID [SIGNAL]: stop a process of the lab (bounded wait).
campus_end() {
	[ -n "$1" ] || return 0
	kill "-${2:-TERM}" "$1" 2>/dev/null
	timeout 10 tail --pid="$1" -f /dev/null 2>/dev/null
}

campus_site_stop() {
	campus_end "$CAMPUS_SITE_PID"
	CAMPUS_SITE_PID=
	rm -f "$LAB_DIR/site.leases" "$LAB_DIR/kea-leases4.csv"
}

# campus_site_leases: the MACs the site server holds a lease for.
campus_site_leases() {
	case $CAMPUS_SITE_KIND in
	dnsmasq) awk '{ print tolower($2) }' "$LAB_DIR/site.leases" 2>/dev/null ;;
	kea) awk -F, 'NR > 1 && $4 > 0 { print tolower($2) }' "$LAB_DIR/kea-leases4.csv" 2>/dev/null ;;
	esac
}

campus_relay_start() {
	: >"$LAB_DIR/relay.log"
	case $1 in
	dnsmasq)
		ip netns exec "$CAMPUS_RTR" dnsmasq -k --conf-file=/dev/null --port=0 --no-resolv --no-hosts --user=root \
			--dhcp-relay=$CAMPUS_GIADDR,$CAMPUS_SITE_IP \
			--dhcp-relay=$CAMPUS_GIADDR,$LAB_SRV_IP --log-dhcp \
			--log-facility="$LAB_DIR/relay.log" --pid-file="$LAB_DIR/relay.pid" &
		CAMPUS_RELAY_PID=$!
		LAB_PIDS+=("$!")
		campus_wait_file "$LAB_DIR/relay.log" "DHCP relay" 10 ;;
	dhcrelay)
		# -d: foreground, logs on stderr; upstream r0, downstream lan0
		ip netns exec "$CAMPUS_RTR" dhcrelay -d -4 -pf "$LAB_DIR/relay.pid" -iu r0 -id lan0 \
			$CAMPUS_SITE_IP $LAB_SRV_IP >"$LAB_DIR/relay.log" 2>&1 &
		CAMPUS_RELAY_PID=$!
		LAB_PIDS+=("$!")
		campus_wait_file "$LAB_DIR/relay.log" "Listening on LPF/lan0" 10 ;;
	*) return 1 ;;
	esac
}

campus_relay_stop() {
	campus_end "$CAMPUS_RELAY_PID"
	CAMPUS_RELAY_PID=
}

campus_capture_start() {
	ip netns exec "$CAMPUS_RTR" tcpdump -i lan0 -U -n -s 0 -w "$LAB_DIR/lan.pcap" udp port 67 or udp port 68 \
		>"$LAB_DIR/tcpdump.log" 2>&1 &
	CAMPUS_CAPTURE_PID=$!
	LAB_PIDS+=("$!")
	campus_wait_file "$LAB_DIR/tcpdump.log" "listening on" 10
}

campus_capture_stop() {
	campus_end "$CAMPUS_CAPTURE_PID" INT
	CAMPUS_CAPTURE_PID=
}

campus_capture_text() { tcpdump -n -v -r "$LAB_DIR/lan.pcap" 2>/dev/null; }

CAMPUS_PROBES=0
campus_probe_ns() {
	local ns=$1 tag
	CAMPUS_PROBES=$((CAMPUS_PROBES + 1))
	tag=p$CAMPUS_PROBES${LAB_ID: -10}
	lab_netns "$ns" || return 1
	ip link add "b$tag" type veth peer name "n$tag" || return 1
	ip link set "b$tag" netns "$CAMPUS_RTR"
	ip link set "n$tag" netns "$ns" name eth0
	ip -n "$CAMPUS_RTR" link set "b$tag" master lan0 up
	ip -n "$ns" link set eth0 up
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
}
