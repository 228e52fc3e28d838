#!/bin/bash
# The console's read-only views (docs/API.md), through a link of 25 ms
# each way (tests/tools/netem-relay):
#  - GET /api/v1/config: each setting's value and where it came from (a
#    default, the file, a flag), a SIGHUP with a changed file, a
#    restart-only setting waiting for the restart, a subnet's settings;
#    pxectl config;
#  - GET /api/v1/transfers: a TFTP download (lock-step, one 512-byte block
#    per round trip) and an HTTP download (curl --limit-rate, small socket
#    buffers) in flight, with file, peer, MAC and growing byte counts, gone
#    when done; pxectl transfers, pxectl status;
#  - GET /api/v1/stats/boots: a PXE client's DHCP exchange (dhcp-probe), a
#    task's boot script, a download cut off, a failed task, a missing file
#    counted (or not) in the current hour; pxectl stats boots.
LAB_ID=${LAB_ID:-vw$$}
source "$(dirname "$0")/../lib/lab.sh"
source "$(dirname "$0")/../lib/api.sh"
export NETEM_RELAY=${NETEM_RELAY:-$(dirname "$0")/../../build/tools/netem-relay}
source "$(dirname "$0")/../lib/netem.sh"
LAB_CLEANUPS+=(netem_stop)
lab_plan 44

W=$LAB_DIR/views            # (OUT is dprobe's)
mkdir -p "$W"
MAC_A=52:54:00:aa:00:01         # PXE client, reserved 192.0.2.2 (the client namespace)
MAC_B=52:54:00:aa:00:02         # a host with a task
MAC_C=52:54:00:aa:00:03         # a plain DHCP client, reserved 192.0.2.3
CONF=$LAB_DIR/pxed.conf

# pj FILE EXPR: a Python expression over the JSON answer in FILE (as v; a
# relative FILE is in $W)
pj() {
	local f=$1
	[ "${f#/}" != "$f" ] || f=$W/$f
	python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$f" "$2"
}
# setting FILE NAME: "VALUE SOURCE" of a main setting of a config answer
setting() { pj "$1" "' '.join(next((s['value'], s['source']) for s in v['settings'] if s['name'] == '$2'))"; }
# subnet_setting FILE CIDR NAME: "VALUE SOURCE" of a subnet's setting
subnet_setting() {
	pj "$1" "' '.join(next((s['value'], s['source']) for n in v['subnets'] if n['cidr'] == '$2' for s in n['settings'] if s['name'] == '$3'))"
}
# view PATH FILE: GET PATH with the admin token into $W/FILE
view() { in_cli timeout 10 curl -sS -H "$(lab_auth)" -o "$W/$2" "$URL$1"; }
# status PATH [TOKEN]: the HTTP status of a GET
status() {
	local auth=()
	[ -n "${2:-}" ] && auth=(-H "Authorization: Bearer $2")
	in_cli timeout 10 curl -sS -o /dev/null -w '%{http_code}' "${auth[@]}" "$URL$1"
}
write_conf() {     # WINDOW HTTP_THREADS
	cat >"$CONF" <<-EOF
	tftp-window-max = $1
	http-threads = $2
	dhcp-router = 192.0.2.254
	boot = efi64=slow.bin
	[subnet 192.0.2.0/24]
	range = 192.0.2.100 192.0.2.150
	[host $MAC_A]
	address = 192.0.2.2
	[host $MAC_C]
	address = 192.0.2.3
	EOF
}
# table_aligned FILE: in pxectl config's first table (up to its first blank
# line), the SOURCE column starts at the same place on every row
table_aligned() {
	awk 'NR > 2 && /^$/ { exit } NR > 2 { n = split($0, w, " "); col[length($0) - length(w[n])]++ }
		END { k = 0; for (c in col) k++; exit !(k == 1) }' "$1"
}

lab_up || { not_ok "setup: lab_up"; exit 1; }
ip -n "$LAB_SRV" link del s0
netem_link "$LAB_SRV" "$LAB_CLI" $LAB_SRV_IP/24 $LAB_CLI_IP/24 --delay-ms 25 ||
	{ not_ok "setup: a link of 25 ms each way (netem-relay)"; exit 1; }
CIF=$NETEM_IF_B
ip -n "$LAB_CLI" addr add 192.0.2.3/24 dev "$CIF" || { not_ok "setup: a second client address"; exit 1; }
# small socket buffers: the server's side of an HTTP download lasts about
# as long as the client's reading (curl --limit-rate)
in_cli sysctl -qw net.ipv4.tcp_rmem="4096 32768 65536" &&
	in_srv sysctl -qw net.ipv4.tcp_wmem="4096 32768 65536" ||
	{ not_ok "setup: small TCP buffers"; exit 1; }
make_file slow.bin 81920
make_file slow-http.bin 2097152
write_conf 32 2
pxed_start --config "$CONF" --tftp-session-timeout 7 || { not_ok "setup: pxed_start"; exit 1; }
READ=$(ctl token create viewer --scope read 2>/dev/null)
[ ${#READ} -eq 64 ] || { not_ok "setup: a read token"; exit 1; }

# --- who may read ---------------------------------------------------------------
check "no token: config, transfers, stats/boots answer 401" \
	eq "$(for p in config transfers stats/boots; do status /api/v1/$p; done | tr -d '\n')" 401401401
check "a read token: 200 for all three" \
	eq "$(for p in config transfers stats/boots; do status /api/v1/$p "$READ"; done | tr -d '\n')" 200200200

# --- the configuration ----------------------------------------------------------
view /api/v1/config c1.json || { not_ok "setup: GET /api/v1/config"; exit 1; }
check "a file setting: tftp-window-max 32 from the file" eq "$(setting c1.json tftp-window-max)" "32 file"
check "a flag: tftp-session-timeout 7 from a flag" eq "$(setting c1.json tftp-session-timeout)" "7 flag"
check "a default: tftp-max-sessions 1024" eq "$(setting c1.json tftp-max-sessions)" "1024 default"
check "the file is named" eq "$(pj c1.json "v['file']")" "$CONF"
check "a subnet's range comes from the file" \
	eq "$(subnet_setting c1.json 192.0.2.0/24 range)" "192.0.2.100 192.0.2.150 file"
check "... its router from the global dhcp-router" \
	eq "$(subnet_setting c1.json 192.0.2.0/24 router)" "192.0.2.254 global"
check "... pxe is its default" eq "$(subnet_setting c1.json 192.0.2.0/24 pxe)" "yes default"
check "no restart-only setting waits" eq "$(pj c1.json "v['restart_needed']")" "[]"

m=$(log_mark)
write_conf 16 3
kill -HUP "$PXED_PID"
wait_log "configuration reloaded" 10 "$m" || { not_ok "setup: the SIGHUP reload"; exit 1; }
view /api/v1/config c2.json
check "after SIGHUP: tftp-window-max 16 from the file" eq "$(setting c2.json tftp-window-max)" "16 file"
check "... the flag stands: tftp-session-timeout 7" eq "$(setting c2.json tftp-session-timeout)" "7 flag"
check "... http-threads (restart-only) keeps its running 2" eq "$(setting c2.json http-threads)" "2 file"
check "... and is named as waiting for a restart" eq "$(pj c2.json "v['restart_needed']")" "['http-threads']"
ctl config >"$W/ctl-config" || { not_ok "setup: pxectl config"; exit 1; }
check "pxectl config: a row 'tftp-window-max 16 file'" grep -qE '^tftp-window-max +16 +file$' "$W/ctl-config"
check "... an aligned table (NAME VALUE SOURCE)" table_aligned "$W/ctl-config"
check "... the subnet's table" grep -qE '^  router +192\.0\.2\.254 +global$' "$W/ctl-config"
check "... names http-threads as waiting for a restart" \
	grep -qE 'waiting for a restart.* http-threads' "$W/ctl-config"
ctl --json config >"$W/ctl-config.json"
check "pxectl --json config prints the answer" \
	eq "$(pj "$W/ctl-config.json" "v['settings'] == json.load(open('$W/c2.json'))['settings']")" True

# --- transfers in flight --------------------------------------------------------
# Boot events from here on are counted below in the current hour: stay clear
# of the hour's end.
left=$((3600 - $(date +%s) % 3600))
[ "$left" -gt 60 ] || sleep $((left + 1))
PXE=(--vendor PXEClient:Arch:00007:UNDI:003000 --arch 7 --ndi --max-size 1472)
dprobe --iface "$CIF" --to 255.255.255.255:67 --broadcast --mac $MAC_A --xid 0a000001 \
	"${PXE[@]}" --wait-ms 1500 >/dev/null
dprobe --iface "$CIF" --to 255.255.255.255:67 --broadcast --mac $MAC_A --xid 0a000002 \
	"${PXE[@]}" --type request --requested 192.0.2.2 --server-id $LAB_SRV_IP --wait-ms 1500 >/dev/null
ACK=$(reply_from $LAB_SRV_IP)
check "the PXE client $MAC_A gets 192.0.2.2 and the boot file" \
	eq "$(rfield "$ACK" type) $(rfield "$ACK" yiaddr) $(rfield "$ACK" file)" "ACK 192.0.2.2 slow.bin"
dprobe --iface "$CIF" --to 255.255.255.255:67 --broadcast --mac $MAC_C --xid 0c000001 \
	--wait-ms 1500 >/dev/null
dprobe --iface "$CIF" --to 255.255.255.255:67 --broadcast --mac $MAC_C --xid 0c000002 \
	--type request --requested 192.0.2.3 --server-id $LAB_SRV_IP --wait-ms 1500 >/dev/null
[ "$(rfield "$(reply_from $LAB_SRV_IP)" yiaddr)" = 192.0.2.3 ] ||
	{ not_ok "setup: the plain DHCP client $MAC_C gets 192.0.2.3"; exit 1; }

in_cli timeout 60 curl -sS --tftp-blksize 512 -o "$W/slow.bin" "tftp://$LAB_SRV_IP/slow.bin" &
T1=$!
in_cli timeout 60 curl -sS --limit-rate 400k -o "$W/slow-http.bin" "$URL/slow-http.bin" &
T2=$!
sleep 1.5
view /api/v1/transfers t1.json
ctl transfers >"$W/ctl-transfers"
ctl status >"$W/ctl-status"
sleep 1.5
view /api/v1/transfers t2.json
wait $T1 && wait $T2 || { not_ok "setup: the two slow downloads"; exit 1; }
view /api/v1/transfers t3.json

tftp_of() { pj "$1" "[t for t in v['transfers'] if t['proto'] == 'tftp' and t['file'] == 'slow.bin'][0]['$2']"; }
http_of() { pj "$1" "[t for t in v['transfers'] if t['proto'] == 'http' and t['file'] == 'slow-http.bin'][0]['$2']"; }
grows() { [ "$1" -gt 0 ] && [ "$2" -gt "$1" ] && [ "$3" -gt "$2" ] ||
	{ echo "# not 0 < $1 < $2 < $3"; return 1; }; }
within() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ] || { echo "# $1 not in $2..$3"; return 1; }; }
check "TFTP in flight: slow.bin from 192.0.2.2, 81920 bytes in all" \
	eq "$(tftp_of t1.json peer | cut -d: -f1) $(tftp_of t1.json total)" "192.0.2.2 81920"
check "... with the client's MAC (its lease, or the address it asked for)" eq "$(tftp_of t1.json mac)" $MAC_A
check "... its byte count grows between two looks" \
	grows "$(tftp_of t1.json bytes)" "$(tftp_of t2.json bytes)" 81920
check "... at about one 512-byte block per 50 ms round trip (rate)" \
	within "$(tftp_of t2.json rate)" 2000 12000
check "HTTP in flight: slow-http.bin from 192.0.2.2, 2 MiB in all, with the MAC" \
	eq "$(http_of t1.json peer | cut -d: -f1) $(http_of t1.json total) $(http_of t1.json mac)" \
	"192.0.2.2 2097152 $MAC_A"
check "... its byte count (acknowledged) grows between two looks" \
	grows "$(http_of t1.json bytes)" "$(http_of t2.json bytes)" 2097152
check "... at about the client's pace (curl --limit-rate 400k)" \
	within "$(http_of t2.json rate)" 250000 650000
check "... started within the last seconds" \
	within "$(http_of t1.json started)" $(($(date +%s) - 30)) "$(date +%s)"
check "pxectl transfers: the TFTP row with peer, MAC and file" \
	grep -qE "^tftp +read +192\.0\.2\.2:[0-9]+ +$MAC_A +slow\.bin " "$W/ctl-transfers"
check "pxectl status: a section of the 2 transfers in flight" \
	grep -q '^transfers in flight: 2$' "$W/ctl-status"
check "... listing the HTTP download" grep -qE "^http +read +192\.0\.2\.2:[0-9]+ +$MAC_A +slow-http\.bin " "$W/ctl-status"
check "both downloads arrived whole" sh -c "cmp -s '$W/slow.bin' '$LAB_ROOT/slow.bin' &&
	cmp -s '$W/slow-http.bin' '$LAB_ROOT/slow-http.bin'"
check "once done, nothing is in flight" eq "$(pj t3.json "(v['transfers'], v['more'])")" "([], 0)"

# --- boots and failures in the current hour -------------------------------------
# A: booted (DHCP above); a download cut off by the client: a failure
in_cli timeout 10 curl -s --max-time 1 --limit-rate 50k -o /dev/null "$URL/slow-http.bin"
# C: a missing file over TFTP: the normal answer to a probe, not a failure
in_cli timeout 10 curl -s --interface 192.0.2.3 -o /dev/null "tftp://$LAB_SRV_IP/missing.cfg"
# B: a task's boot script (a boot), then the task fails
ctl host add $MAC_B vb >/dev/null && ctl task shell vb >/dev/null ||
	{ not_ok "setup: a host and a task"; exit 1; }
TT=$(token_of $MAC_B)
in_cli timeout 10 curl -sS -o /dev/null -H "Authorization: Bearer $TT" "$URL/api/v1/agent/task"
in_cli timeout 10 curl -sS -o /dev/null -H "Authorization: Bearer $TT" \
	-d '{"ok":false,"message":"no disk"}' "$URL/api/v1/agent/result"
sleep 1         # the loop writes its boot events every 500 ms
check "C's missing file is in its timeline as tftp-failed" \
	has "$(in_cli timeout 10 curl -sS -H "$(lab_auth)" "$URL/api/v1/clients/$MAC_C")" \
	'"kind":"tftp-failed","detail":"missing.cfg: file not found"'
check "A's cut-off download is in its timeline as http-aborted" \
	has "$(in_cli timeout 10 curl -sS -H "$(lab_auth)" "$URL/api/v1/clients/$MAC_A")" '"http-aborted"'
view "/api/v1/stats/boots?hours=1" s1.json
now=$(date +%s)
check "hours=1: one hour, the current one" eq "$(pj s1.json "[h['start'] for h in v['hours']]")" \
	"[$((now / 3600 * 3600))]"
check "... 2 boots: A's PXE offer and B's boot script (C got no boot file)" \
	eq "$(pj s1.json "v['hours'][0]['boots']")" 2
check "... 2 failures: A's cut-off download, B's failed task (C's missing file is none)" \
	eq "$(pj s1.json "v['hours'][0]['failures']")" 2
view /api/v1/stats/boots s24.json
check "the default: 24 hours, oldest first, nothing before this one" \
	eq "$(pj s24.json "(len(v['hours']), v['hours'][-1], sum(h['boots'] + h['failures'] for h in v['hours'][:-1]))")" \
	"(24, $(pj s1.json "v['hours'][0]"), 0)"
check "hours=168: a week" eq "$(pj <(in_cli timeout 10 curl -sS -H "$(lab_auth)" \
	"$URL/api/v1/stats/boots?hours=168") "len(v['hours'])")" 168
check "hours 0, 169, x: 400" eq "$(for h in 0 169 x; do
	in_cli timeout 10 curl -sS -o /dev/null -w '%{http_code}' -H "$(lab_auth)" \
		"$URL/api/v1/stats/boots?hours=$h"; done)" 400400400
ctl stats boots 2 >"$W/ctl-stats"
check "pxectl stats boots 2: two hours, the last with 2 boots and 2 failures" \
	eq "$(grep -cE '^[0-9]{4}-' "$W/ctl-stats") $(grep -E '^[0-9]{4}-' "$W/ctl-stats" | tail -1 |
		awk '{ print $3, $4 }')" "2 2 2"

check "pxed stops cleanly" pxed_stop
check "no sanitizer report" pxed_log_clean
lab_finish
