#!/bin/bash
# Live reconfiguration and subnets managed while pxed runs, in the campus
# lab (tests/lib/campus.sh: a routed client subnet 198.51.100.0/24 whose
# router relays to pxed).  dhcp-probe plays the relay (from the router,
# giaddr 198.51.100.1) and local clients on 192.0.2.0/24 (full mode).
#   - a relayed subnet with pxe = no gets no offer; the file says yes and
#     SIGHUP: offers, and the log names the change; pxectl subnet disable /
#     enable --proxy do the same through the API, survive a restart, and
#     subnet list/show say how and from where;
#   - a lease and a TFTP transfer in flight survive every step;
#   - the 4011 exchange across the router, and the proxy-mode client's TFTP
#     download in its timeline (the MAC from the address it said it has);
#   - a range changed by SIGHUP is used at once; a broken file is refused
#     and the running configuration kept;
#   - bad input: malformed and overlapping CIDRs, a subnet no relay was
#     seen from (accepted, with a warning), a relayed request from an
#     unknown subnet (logged once, listed as discovered), reloads racing a
#     storm of DISCOVERs.
cd "$(dirname "$0")/../.." || exit 1
LAB_ID=rl$$
source tests/lib/lab.sh
source tests/lib/api.sh
source tests/lib/campus.sh
lab_plan 48
campus_up || { not_ok "setup: campus lab"; lab_finish; }
make_file undionly.kpxe 70000
make_file snponly.efi 90000
make_file big.bin $((48 << 20))

CONF=$LAB_DIR/pxed.conf
# write_conf PXE RANGE: the config file, the relayed subnet's pxe = PXE,
# the local subnet's range RANGE.
write_conf() {
	cat >"$CONF" <<EOF
${EXTRA:-}
boot = bios undionly.kpxe
boot = efi64 snponly.efi
[subnet 192.0.2.0/24]
range = $2
[subnet 198.51.100.0/24]
proxy = yes
pxe = $1
EOF
}
write_conf no "192.0.2.100 192.0.2.150"
pxed_start --config "$CONF" || { not_ok "setup: pxed started"; lab_finish; }

PXE_VENDOR=PXEClient:Arch:00000:UNDI:002001
# relayed MAC: a PXE DISCOVER relayed from the client subnet; $R = pxed's reply
relayed() {
	dprobe_in "$CAMPUS_RTR" --bind 0.0.0.0:67 --to $LAB_SRV_IP:67 --giaddr "${GI:-$CAMPUS_GIADDR}" \
		--hops 1 --wait-ms 1200 --mac "$1" --vendor $PXE_VENDOR --arch 0
	R=$(reply_from $LAB_SRV_IP)
}
offered() { relayed "$1"; [ "$(rfield "$R" type)" = OFFER ]; }
not_offered() { relayed "$1"; [ -z "$R" ]; }
# the local client on 192.0.2.0/24 (dprobe_lease: lab.sh)
LEASE_MAC=52:54:00:00:07:01
# lease_kept: the lease's client is ACKed its address again (INIT-REBOOT),
# another client asking for it is not given it
lease_kept() {
	dprobe --iface c0 --to 255.255.255.255:67 --wait-ms 1000 --mac $LEASE_MAC --broadcast \
		--type request --requested "$LEASE_ADDR"
	[ "$(rfield "$(reply_from $LAB_SRV_IP)" type)" = ACK ] || return 1
	dprobe --iface c0 --to 255.255.255.255:67 --wait-ms 1000 --mac 52:54:00:00:07:99 \
		--broadcast --requested "$LEASE_ADDR"
	[ "$(rfield "$(reply_from $LAB_SRV_IP)" yiaddr)" != "$LEASE_ADDR" ]
}
reload_hup() { local m; m=$(log_mark); kill -HUP "$PXED_PID"; wait_log "configuration reloaded|reload refused" 10 "$m"; }
logged_since() { log_since "$1" | grep -qE -- "$2"; }
# ctl_shows REGEX ARGS...: pxectl ARGS prints a line matching REGEX
ctl_shows() { local re=$1; shift; ctl "$@" 2>&1 | grep -qE -- "$re"; }

check "a lease on the local subnet" dprobe_lease $LEASE_MAC
LEASE_ADDR=$ADDR

# a transfer that lasts through the reloads (curl paces it)
in_cli timeout 120 curl -s --limit-rate 3M -o "$LAB_DIR/big.out" "tftp://$LAB_SRV_IP/big.bin" &
CURL_PID=$!
LAB_PIDS+=("$CURL_PID")

# --- SIGHUP: pxe no -> yes ---
M1=52:54:00:00:07:11
check "pxe = no: a relayed PXE DISCOVER gets no offer" not_offered $M1
check "the relayed subnet counts the request (subnet show: reached by relay)" \
	ctl_shows "^reached by +relay 198.51.100.1" subnet show 198.51.100.0/24
write_conf yes "192.0.2.100 192.0.2.150"
mark=$(log_mark)
check "SIGHUP reloads" reload_hup
check "the log names the change: subnet 198.51.100.0/24: pxe no -> yes" \
	logged_since "$mark" "reload: subnet 198.51.100.0/24: pxe no -> yes"
check "... and how the subnet is served now: off -> proxy" \
	logged_since "$mark" "reload: subnet 198.51.100.0/24: served off -> proxy"
check "the reload log counts the changes" logged_since "$mark" "configuration reloaded: 2 change"
check "pxe = yes after SIGHUP: offer at once" offered $M1
check "the proxy offer to the relay asks for a broadcast (flags 8000)" [ "$(rfield "$R" flags)" = 8000 ]
check "the lease survived the reload" lease_kept

# --- pxectl subnet disable / enable ---
M2=52:54:00:00:07:12
out=$(ctl subnet disable 198.51.100.0/24 2>&1)
echo "$out" | head -3 | sed 's/^/# /'
check "pxectl subnet disable: mode off" grep -q "^mode *off" <<<"$out"
check "disabled: no offer" not_offered $M2
check "disabled: subnet list says off, from pxectl, reached by the relay" \
	ctl_shows "^198.51.100.0/24 +off +pxectl +relay 198.51.100.1 " subnet list
out=$(ctl subnet enable 198.51.100.0/24 --proxy 2>&1)
check "pxectl subnet enable --proxy: mode proxy" grep -q "^mode *proxy" <<<"$out"
check "enabled: offer at once" offered $M2
check "subnet show: proxy came from pxectl" grep -qE "^proxy +yes +pxectl" <<<"$out"
check "subnet show: when it was changed (today, not 1970)" \
	grep -qE "^changed +$(date +%Y-%m-%d) [0-9:]+ with pxectl" <<<"$out"
check "subnet show: the router setting's source is the default" grep -qE "^router +- +default" <<<"$out"
check "the lease survived the API's reloads" lease_kept

# --- the 4011 exchange routed, and a proxy-mode client's timeline ---
PNS=pxp-$LAB_ID
M4=52:54:00:00:07:14
campus_probe_ns "$PNS" || { not_ok "setup: a client namespace on the client LAN"; lab_finish; }
ip -n "$PNS" addr add 198.51.100.20/24 dev eth0
ip -n "$PNS" route add default via $CAMPUS_GIADDR
dprobe_in "$PNS" --bind 198.51.100.20:68 --to $LAB_SRV_IP:4011 --type request --wait-ms 1500 \
	--ciaddr 198.51.100.20 --mac $M4 --vendor PXEClient:Arch:00007:UNDI:003000 --arch 7
R=$(reply_from $LAB_SRV_IP)
check "4011 from the routed subnet: an ACK" [ "$(rfield "$R" type)" = ACK ]
check "4011 from the routed subnet: back to the client's address across the router" \
	grep -q "^reply from=$LAB_SRV_IP:4011 to=198.51.100.20 " <<<"$R"
check "4011 from the routed subnet: file snponly.efi" [ "$(rfield "$R" file)" = snponly.efi ]
ip netns exec "$PNS" timeout 10 curl -s -o /dev/null "tftp://$LAB_SRV_IP/snponly.efi"
sleep 1
timeline_has() { in_cli timeout 5 curl -s -H "$(lab_auth)" "http://$LAB_SRV_IP/api/v1/clients/$1" | grep -q "\"kind\": *\"$2\""; }
check "proxy mode: the client's TFTP download is in its timeline (MAC from its 4011 ciaddr)" \
	timeline_has $M4 tftp-done
check "proxy mode: its 4011 ACK is in its timeline" timeline_has $M4 pxe-ack

# --- a range changed by SIGHUP is used at once ---
write_conf yes "192.0.2.200 192.0.2.210"
mark=$(log_mark)
reload_hup
check "the log names the new range" logged_since "$mark" \
	"reload: subnet 192.0.2.0/24: range 192.0.2.100 192.0.2.150 -> 192.0.2.200 192.0.2.210"
dprobe_lease 52:54:00:00:07:21
check "a new client gets an address of the new range ($ADDR)" \
	sh -c "case '$ADDR' in 192.0.2.20[0-9]|192.0.2.210) exit 0;; esac; exit 1"
write_conf yes "192.0.2.100 192.0.2.150"
reload_hup
check "the range back: the first lease is still its client's (the store kept it)" lease_kept

# --- a broken file is refused ---
echo "this is not a setting" >>"$CONF"
mark=$(log_mark)
reload_hup
check "a broken file: reload refused" logged_since "$mark" "reload refused, keeping the running"
check "a broken file: offers go on" offered 52:54:00:00:07:13
EXTRA="http-timeout = 61" write_conf yes "192.0.2.100 192.0.2.150"
mark=$(log_mark)
reload_hup
check "a setting read at start-up is named as needing a restart" logged_since "$mark" \
	"reload: http-timeout changed \(60 -> 61\): takes effect at the next restart"

# --- bad input through the API ---
api_status() { in_cli curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/json' -d '{}' "http://$LAB_SRV_IP/api/v1/subnets/$1/enable"; }
TOKEN=$(cat "$LAB_DIR/state/api-token")
check "enable a malformed CIDR: 400" [ "$(api_status 198.51.100.0/33)" = 400 ]
check "enable a CIDR with host bits set: 400" [ "$(api_status 198.51.100.7/24)" = 400 ]
check "enable an overlapping CIDR: 409" [ "$(api_status 198.51.100.0/25)" = 409 ]
check "enable without the token: 401" [ "$(in_cli curl -s -o /dev/null -w '%{http_code}' -X POST \
	"http://$LAB_SRV_IP/api/v1/subnets/203.0.113.0/24/enable")" = 401 ]
out=$(ctl subnet enable 203.0.113.0/24 2>&1)
check "enable a subnet no relay was seen from: accepted" grep -q "^mode *proxy" <<<"$out"
check "... with a warning that no relayed request was seen" grep -q "^warning: no relayed request" <<<"$out"
mark=$(log_mark)
GI=192.0.2.77 relayed 52:54:00:00:07:31
GI=192.0.2.77 relayed 52:54:00:00:07:32
GI=198.18.0.1 relayed 52:54:00:00:07:33
GI=198.18.0.1 relayed 52:54:00:00:07:34
n=$(log_since "$mark" | grep -c "not configured here: relay 198.18.0.1")
check "an unknown relayed subnet is logged once ($n)" [ "$n" = 1 ]
check "subnet list shows it as discovered" ctl_shows "^198.18.0.1 +2 " subnet list

# --- reloads racing a storm of DISCOVERs ---
in_cli timeout 20 "$DHCP_PROBE" --iface c0 --to 255.255.255.255:67 --count 3000 --macs 40 \
	--wait-ms 100 --quiet >/dev/null 2>&1 &
STORM=$!
for _ in 1 2 3 4 5; do kill -HUP "$PXED_PID"; sleep 0.2; done
wait $STORM
check "pxed is alive after reloads during a storm" kill -0 "$PXED_PID"
check "the lease survived the storm and the reloads" lease_kept

# --- the transfer, and a restart ---
wait $CURL_PID
check "the TFTP transfer in flight completed across the reloads" cmp -s "$LAB_ROOT/big.bin" "$LAB_DIR/big.out"
check "pxed stops cleanly" pxed_stop
pxed_log_rotate
pxed_start --config "$CONF" || { not_ok "setup: pxed restarted"; lab_finish; }
out=$(ctl subnet list 2>&1)
echo "$out" | sed 's/^/# /'
check "after a restart: 203.0.113.0/24 (enabled with pxectl) is still served" \
	grep -qE "^203.0.113.0/24 +proxy +pxectl" <<<"$out"
check "after a restart: 198.51.100.0/24 is still proxy (pxectl)" \
	grep -qE "^198.51.100.0/24 +proxy +pxectl" <<<"$out"
check "after a restart: offers" offered 52:54:00:00:07:41
check "after a restart: the lease is still its client's" lease_kept
check "pxed stops cleanly" pxed_stop
check "sanitizer clean" pxed_log_clean
lab_finish
