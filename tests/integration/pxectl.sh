#!/bin/bash
# pxectl against pxed in a two-namespace lab: the local pxed found from its
# config file (--config: listen, http-port, api-token-file; $PXED_SERVER),
# `pxectl status` (the services and their sockets, a slow TFTP transfer in
# flight with its bytes and rate, an active task, the clients), tables
# whose columns are as wide as their content (a name with non-ASCII
# letters too), --json on every command (each output parsed by python3),
# metrics --json against the Prometheus text, and the bash completion
# (etc/pxectl.bash-completion sourced, COMPREPLY for a few prefixes).
LAB_ID=${LAB_ID:-ct$$}
source "$(dirname "$0")/../lib/lab.sh"
source "$(dirname "$0")/../lib/api.sh"
lab_plan 46

lab_up || { echo "not ok - setup: lab_up"; exit 1; }
MAC=52:54:00:cc:00:01
MAC2=52:54:00:cc:00:02
CONF=$LAB_DIR/pxed.conf
cat >"$CONF" <<CONF || { not_ok "setup: config"; exit 1; }
listen = $LAB_SRV_IP
http-port = 8080
api-token-file = $LAB_DIR/state/the-token
dhcp-range = 192.0.2.100,192.0.2.150
boot = bios=slow.bin
tftp-session-timeout = 2
CONF
make_file slow.bin 300000
pxed_start --config "$CONF" || { not_ok "setup: pxed_start"; exit 1; }
# pxectl on the server, as an administrator there runs it: no --server
sctl() { in_srv timeout 30 "$PXECTL" --config "$CONF" "$@"; }
# the column (in characters) where WORD starts in LINE
col() { python3 -c 'import sys; print(sys.argv[1].find(sys.argv[2]))' "$1" "$2"; }
json_object() { python3 -c 'import json,sys; v=json.loads(sys.argv[1]); sys.exit(0 if isinstance(v, dict) else 1)' "$1"; }
# pyval JSON EXPR: a value out of JSON text, e.g. pyval "$j" '["total"]'
pyval() { python3 -c 'import json,sys; v=json.loads(sys.argv[1]); print(eval("v"+sys.argv[2]))' "$1" "$2"; }

# --- the local pxed from its config file -------------------------------------
out=$(sctl status 2>&1)
check "pxectl --config: finds pxed at listen:http-port (status answers)" \
	has "$out" "^pxed 0.1.0, up "
out=$(sctl host add "$MAC" lab-one 2>&1)
check "pxectl --config: the token from api-token-file (host add)" has "$out" "approved  yes"
out=$(in_srv timeout 10 "$PXECTL" --server "http://$LAB_SRV_IP:8080" \
	--token-file /nonexistent host add "$MAC2" x 2>&1)
check "without that token: refused (401)" has "$out" "HTTP 401"
out=$(in_srv env PXED_SERVER="http://$LAB_SRV_IP:8080" timeout 10 "$PXECTL" status 2>&1)
check "\$PXED_SERVER instead of a config" has "$out" "^pxed 0.1.0, up "
out=$(in_srv timeout 10 "$PXECTL" --config "$LAB_DIR/nonexistent.conf" status 2>&1)
rc=$?
check "--config of a missing file: exit 2, says why" \
	sh -c "[ $rc -eq 2 ] && grep -q 'No such file' <<'X'
$out
X"

# --- status: services ----------------------------------------------------------
out=$(sctl status)
check "status: tftp on its socket" has "$out" "^tftp  *$LAB_SRV_IP:69  *in flight 0, requests 0, sent 0 B$"
check "status: http on its socket" has "$out" "^http  *$LAB_SRV_IP:8080  *connections [0-9]"
check "status: dhcp, server mode, port 67" has "$out" "^dhcp  *server  *0.0.0.0:67$"
check "status: pxe on 4011" has "$out" "^pxe  *0.0.0.0:4011$"
check "status: no transfer in flight yet" has "$out" "^transfers in flight: 0$"
check "status: the subnet served, its mode and where it is reached from" \
	has "$out" "^192\.0\.2\.0/24  *full  *file  *(not seen)  *0  *0  *0$"

# --- status: a transfer in flight and a task --------------------------------
cli_bg python3 tests/lib/tftp_slow.py "$LAB_SRV_IP" slow.bin 0.05
SLOW=$BG_PID
sleep 2.5
kill -0 "$SLOW" || { not_ok "setup: the slow transfer still runs"; exit 1; }
sctl task wipe lab-one >/dev/null
out=$(sctl status)
echo "$out" | sed 's/^/# /'
check "status: the transfer in flight (peer, MAC, file, done, size, rate, time)" has "$out" \
	"^tftp  *read  *$LAB_CLI_IP:[0-9]*  *-  *slow.bin  *[0-9.]* KiB  *293.0 KiB  *[0-9.]* KiB/s  *[0-9.]* s$"
check "status: one task pending" has "$out" "^tasks pending or running: 1$"
check "status: the task's row" has "$out" "^ *[0-9]*  $MAC  wipe  .*pending  reboot"
j=$(sctl --json status)
check "status --json: sections status, subnets, transfers, mcast, tasks, clients" \
	eq "$(pyval "$j" '.keys().__len__()') $(pyval "$j" '["transfers"]["transfers"][0]["file"]')" "6 slow.bin"
bytes=$(pyval "$j" '["transfers"]["transfers"][0]["bytes"]')
rate=$(pyval "$j" '["transfers"]["transfers"][0]["rate"]')
echo "# in flight: $bytes bytes, $rate bytes/s (the client acknowledges 512 bytes every 50 ms)"
check "status --json: bytes acknowledged, between 0 and the size" \
	sh -c "[ $bytes -gt 0 ] && [ $bytes -lt 300000 ]"
check "status --json: rate above 1 KB/s, at most the client's 10240 B/s (+5%)" \
	sh -c "[ $rate -gt 1000 ] && [ $rate -le 10752 ]"
kill "$SLOW" 2>/dev/null
# tftp-session-timeout 2 s after the last ACK, then the next snapshot
for _ in $(seq 1 40); do
	out=$(sctl status)
	grep -q "^transfers in flight: 0$" <<<"$out" && break
	sleep 0.25
done
check "status: the transfer gone once its session was abandoned" \
	has "$out" "^transfers in flight: 0$"

# --- tables: columns as wide as their content ---------------------------------
sctl host add "$MAC2" "a-much-longer-name-ünïcødé" >/dev/null
out=$(sctl host list)
echo "$out" | sed 's/^/# /'
head=$(sed -n 1p <<<"$out")
row1=$(grep "^$MAC " <<<"$out")
row2=$(grep "^$MAC2 " <<<"$out")
check "host list: APPROVED starts where the longest name ends + 2" \
	eq "$(col "$head" APPROVED)" $((17 + 2 + 26 + 2))
check "host list: each row's approval in the APPROVED column" \
	eq "$(col "$row1" yes) $(col "$row2" yes)" "$(col "$head" APPROVED) $(col "$head" APPROVED)"
out=$(sctl group add room "$MAC" "$MAC2")
out=$(sctl group list)
check "group list: HOSTS right-aligned under its title" \
	eq "$(sed -n 2p <<<"$out")" "$(printf '%-5s  %5s' room 2)"

# --- --json on every command --------------------------------------------------
TASK=$(pyval "$(sctl --json task list)" '["tasks"][0]["id"]')
for cmd in "status" "clients" "metrics" "host list" "host show $MAC" "group list" \
	"group show room" "image list" "task list" "task show $TASK" "mcast list"; do
	# shellcheck disable=SC2086
	out=$(sctl --json $cmd 2>&1)
	check "pxectl --json $cmd: one JSON object" json_object "$out"
done
dhcp=$(in_cli timeout 10 build/tools/dhcp-probe --iface c0 --to 255.255.255.255:67 \
	--broadcast --mac 52:54:00:cc:00:09 --vendor PXEClient:Arch:00000:UNDI:002001 \
	--arch 0 --expect-replies 1 --wait-ms 3000)
grep -q "type=OFFER" <<<"$dhcp" || { not_ok "setup: a DHCP client seen"; exit 1; }
# boot events are written by DHCP's store worker at least every 500 ms when
# it is idle (later under load): wait for the client's, at most 10 s
for _ in $(seq 50); do
	sctl --json client 52:54:00:cc:00:09 >/dev/null 2>&1 && break
	sleep 0.2
done
out=$(sctl --json client 52:54:00:cc:00:09)
check "pxectl --json client MAC: one JSON object" json_object "$out"
out=$(sctl client 52:54:00:cc:00:09)
check "pxectl client MAC: the DISCOVER in a TIME EVENT DETAIL table" \
	has "$out" "^  [0-9-]* [0-9:]*  dhcp-discover  "

m=$(sctl --json metrics)
prom=$(in_srv curl -s "http://$LAB_SRV_IP:8080/metrics" | sed -n 's/^pxed_tftp_requests_total //p')
check "metrics --json: the Prometheus counter's value" \
	eq "$(pyval "$m" '["pxed_tftp_requests_total"]')" "$prom"

# --- bash completion -------------------------------------------------------------
# complete LINE: COMPREPLY of _pxectl at the end of LINE, with the words
# split as bash splits them (at blanks, and at ':' of COMP_WORDBREAKS)
complete_words() {
	bash -c 'source /usr/share/bash-completion/bash_completion
		source etc/pxectl.bash-completion
		COMP_LINE=$1; COMP_POINT=${#COMP_LINE}
		read -ra COMP_WORDS <<<"${COMP_LINE//:/ : }"
		[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_pxectl pxectl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		echo "${COMPREPLY[*]}"' complete "$1"
}
check "completion: pxectl st -> status, stats" eq "$(complete_words "pxectl st")" "status stats"
check "completion: pxectl task de -> deploy" eq "$(complete_words "pxectl task de")" "deploy"
check "completion: pxectl task d -> deploy, diagnose" \
	eq "$(complete_words "pxectl task d")" "deploy diagnose"
check "completion: pxectl stats -> boots" eq "$(complete_words "pxectl stats ")" "boots"
check "completion: pxectl host -> its verbs" \
	eq "$(complete_words "pxectl host ")" "list add show rm approve deny wol set"
check "completion: pxectl --js -> --json" eq "$(complete_words "pxectl --js")" "--json"
check "completion: an option's value skipped: pxectl --server URL im -> image" \
	eq "$(complete_words "pxectl --server http://192.0.2.1:8080 im")" "image"
check "completion: --after p -> poweroff" \
	eq "$(complete_words "pxectl task wipe --after p")" "poweroff"
check "completion: --level z -> zero" eq "$(complete_words "pxectl task wipe lab1 --level z")" "zero"
check "completion: nothing after a verb's arguments" eq "$(complete_words "pxectl status ")" ""

pxed_stop
check "pxed stops cleanly" pxed_log_clean
lab_finish
