# Shared helpers for integration tests (bash, sourced).
#
# A lab is two network namespaces joined by a veth pair:
#   server namespace $LAB_SRV: 192.0.2.1/24 on veth "s0"
#   client namespace $LAB_CLI: 192.0.2.2/24 on veth "c0"
# Everything is removed on exit (trap).  Only documentation ranges are used.
# Checks print "ok - what" or "not ok - what" (tests/lib/tap.sh); lab_finish
# exits 1 if any failed, and the exit trap fails a script whose number of
# checks is not its lab_plan.

set -u
PXED=${PXED:-build/asan/pxed}
LAB_ID=${LAB_ID:-$$}
LAB_SRV=pxs-$LAB_ID
LAB_CLI=pxc-$LAB_ID
LAB_SRV_IP=192.0.2.1
LAB_CLI_IP=192.0.2.2
LAB_DIR=$(mktemp -d /tmp/pxed-lab.XXXXXX)
LAB_ROOT=$LAB_DIR/root
LAB_PIDS=()
LAB_CLEANUPS=()
mkdir -p "$LAB_ROOT"
chmod 755 "$LAB_DIR" "$LAB_ROOT"
source "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

lab_cleanup() {
	set +e
	local pid
	for pid in "${LAB_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${LAB_PIDS[@]}"; do
		timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null
		kill -9 "$pid" 2>/dev/null
	done
	local c
	for c in "${LAB_CLEANUPS[@]}"; do
		eval "$c" 2>/dev/null
	done
	ip netns del "$LAB_SRV" 2>/dev/null
	ip netns del "$LAB_CLI" 2>/dev/null
	# LAB_SAVE=DIR keeps the lab's files (logs, disks) for a look afterwards
	[ -n "${LAB_SAVE:-}" ] && rm -rf "$LAB_SAVE" && cp -a "$LAB_DIR" "$LAB_SAVE"
	rm -rf "$LAB_DIR"
}
# At exit: the plan, then the cleanup; a failed check or a plan not kept
# fails the script, whatever its last command returned.
lab_exit() {
	local rc=$?
	tap_failed && [ "$rc" -eq 0 ] && rc=1
	tap_done || rc=1
	lab_cleanup
	exit "$rc"
}
trap lab_exit EXIT

# lab_up [mtu]: create the two namespaces and the link.
lab_up() {
	local mtu=${1:-1500}
	ip netns add "$LAB_SRV" || return 1
	ip netns add "$LAB_CLI" || return 1
	ip -n "$LAB_SRV" link set lo up
	ip -n "$LAB_CLI" link set lo up
	ip link add s0-$LAB_ID type veth peer name c0-$LAB_ID || return 1
	ip link set s0-$LAB_ID netns "$LAB_SRV" name s0
	ip link set c0-$LAB_ID netns "$LAB_CLI" name c0
	ip -n "$LAB_SRV" link set s0 mtu "$mtu" up
	ip -n "$LAB_CLI" link set c0 mtu "$mtu" up
	ip -n "$LAB_SRV" addr add $LAB_SRV_IP/24 dev s0
	ip -n "$LAB_CLI" addr add $LAB_CLI_IP/24 dev c0
}

in_srv() { ip netns exec "$LAB_SRV" "$@"; }
in_cli() { ip netns exec "$LAB_CLI" "$@"; }

# pxed_start [args...]: start pxed in the server namespace serving
# $LAB_ROOT on 192.0.2.1 (TFTP 69, HTTP 80) and wait until it answers.
# The log is $LAB_DIR/pxed.log; the pid is $PXED_PID.
pxed_start() {
	mkdir -p "$LAB_DIR/state"
	# Only lines this start adds count: the log is appended across restarts.
	local from=1
	[ -f "$LAB_DIR/pxed.log" ] && from=$(($(wc -l <"$LAB_DIR/pxed.log") + 1))
	ip netns exec "$LAB_SRV" "$PXED" --foreground --root "$LAB_ROOT" --listen $LAB_SRV_IP \
		--state-dir "$LAB_DIR/state" --log-level debug "$@" \
		>>"$LAB_DIR/pxed.log" 2>&1 &
	PXED_PID=$!
	LAB_PIDS+=("$PXED_PID")
	local i
	for i in $(seq 1 100); do
		if tail -n +$from "$LAB_DIR/pxed.log" 2>/dev/null | grep -q "serving"; then
			return 0
		fi
		kill -0 "$PXED_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "pxed did not start:"
	tail -n +$from "$LAB_DIR/pxed.log"
	return 1
}

# pxed_stop: SIGTERM and wait (bounded); returns pxed's exit status.
pxed_stop() {
	kill -TERM "$PXED_PID" 2>/dev/null
	local rc
	timeout 20 bash -c "while kill -0 $PXED_PID 2>/dev/null; do sleep 0.1; done"
	wait "$PXED_PID"
	rc=$?
	return $rc
}

# make_file NAME SIZE_BYTES: random content in the root.
make_file() {
	mkdir -p "$(dirname "$LAB_ROOT/$1")"
	head -c "$2" /dev/urandom >"$LAB_ROOT/$1"
	chmod 644 "$LAB_ROOT/$1"
}

# The sanitizer log must be free of reports when pxed stops: this run's log
# and those of the runs before it (pxed_log_rotate keeps them in pxed.log.all).
pxed_log_clean() {
	! cat "$LAB_DIR/pxed.log" "$LAB_DIR/pxed.log.all" 2>/dev/null |
		grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:"
}

# same_value A B: A is set and B equals it (two results that agree only
# because both are missing do not pass)
same_value() {
	[ -n "$1" ] && [ "$1" = "$2" ] || { echo "# got '$2', expected '$1' (not empty)"; return 1; }
}
# other_value A B: A and B are both set and differ
other_value() {
	[ -n "$1" ] && [ -n "$2" ] && [ "$1" != "$2" ] ||
		{ echo "# '$1' and '$2': not two different values"; return 1; }
}

lab_finish() {
	if tap_failed; then
		echo "--- pxed log (tail) ---"
		tail -60 "$LAB_DIR/pxed.log" 2>/dev/null
		exit 1
	fi
	exit 0
}

# --- Helpers added for tests/integration/daemon.sh and bad_input.sh ---

UDP_PROBE=${UDP_PROBE:-build/tools/udp-probe}

# pxed_start_nolevel [args...]: pxed_start without the forced
# "--log-level debug" (for tests whose config file sets the level).
pxed_start_nolevel() {
	mkdir -p "$LAB_DIR/state"
	# Only lines this start adds count: the log is appended across restarts.
	local from
	from=$(($(wc -l <"$LAB_DIR/pxed.log" 2>/dev/null || echo 0) + 1))
	ip netns exec "$LAB_SRV" "$PXED" --foreground --root "$LAB_ROOT" --listen $LAB_SRV_IP \
		--state-dir "$LAB_DIR/state" "$@" >>"$LAB_DIR/pxed.log" 2>&1 &
	PXED_PID=$!
	LAB_PIDS+=("$PXED_PID")
	wait_log "serving" 10 && return 0
	echo "pxed did not start:"
	tail -n +$from "$LAB_DIR/pxed.log"
	return 1
}

# pxed_log_rotate: after pxed_stop, move the log aside (to pxed.log.all) so
# that the next pxed_start waits for its own "serving" line.
pxed_log_rotate() {
	cat "$LAB_DIR/pxed.log" >>"$LAB_DIR/pxed.log.all" 2>/dev/null
	: >"$LAB_DIR/pxed.log"
}

# log_mark: print the current size of the log; log_since MARK: the log
# written after the mark.
log_mark() { stat -c %s "$LAB_DIR/pxed.log" 2>/dev/null || echo 0; }
log_since() { tail -c +"$(($1 + 1))" "$LAB_DIR/pxed.log"; }

# wait_log REGEX SECONDS [MARK]: wait until the log (after MARK) matches.
wait_log() {
	local i
	for i in $(seq 1 $(($2 * 10))); do
		log_since "${3:-0}" | grep -qE -- "$1" && return 0
		sleep 0.1
	done
	return 1
}

# hexstr TEXT: the bytes of TEXT in hex (no NUL added; "00" is a NUL).
hexstr() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }

# lab_auth: the Authorization header of the administrator's token (reads
# of the API need a token too), for curl -H.
lab_auth() { echo "Authorization: Bearer $(cat "$LAB_DIR/state/api-token" 2>/dev/null)"; }

# pxed_status: the /api/v1/status JSON, fetched from the client side.
pxed_status() { in_cli timeout 5 curl -s "http://$LAB_SRV_IP/api/v1/status"; }

# pxed_status_field GROUP KEY: one number of the status JSON (no jq needed).
pxed_status_field() {
	pxed_status | sed -n "s/.*\"$1\":{[^}]*\"$2\":\([0-9][0-9]*\).*/\1/p"
}

# pxed_rss_kb: pxed's resident set size in KiB.
pxed_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$PXED_PID/status"; }

# lab_daemon_user: the user pxed drops to when run as root without --user.
lab_daemon_user() {
	if getent passwd pxed >/dev/null; then echo pxed; else echo nobody; fi
}

# leases_lost FILE...: every "ACK MAC ADDRESS" line of dora.py's output in
# FILEs is a lease pxed's store holds (state 2) for MAC with ADDRESS; each
# one missing is printed
leases_lost() {
	local mac ip hex got n=0
	while read -r _ mac ip; do
		hex=$(tr -d : <<<"$mac")
		got=$(sqlite3 -readonly "$LAB_DIR/state/pxed.db" \
			"SELECT (address >> 24) || '.' || ((address >> 16) & 255) || '.' || ((address >> 8) & 255) || '.' || (address & 255) FROM leases WHERE mac = X'$hex' AND state = 2" 2>&1)
		[ "$got" = "$ip" ] || { echo "# lease of $mac: ACKed $ip, stored '$got'"; n=$((n + 1)); }
	done < <(cat "$@" | grep '^ACK')
	[ "$n" = 0 ]
}

# lab_add_client_ip IP: a second address on the client side (for tests of
# per-address limits); use it with udp-probe --bind IP:0.
lab_add_client_ip() { ip -n "$LAB_CLI" addr add "$1/24" dev c0; }

# cli_bg CMD...: run CMD in the client namespace in the background; its pid
# (the command itself, not a subshell) is $BG_PID and is killed on exit.
cli_bg() {
	ip netns exec "$LAB_CLI" "$@" &
	BG_PID=$!
	LAB_PIDS+=("$BG_PID")
}

# --- Helpers added for the DHCP tests (dhcp_proxy, dhcp_relay, dhcp_bad_input) ---

DHCP_PROBE=${DHCP_PROBE:-build/tools/dhcp-probe}

# lab_netns NAME: one more namespace (lo up), removed on exit.
lab_netns() {
	ip netns add "$1" || return 1
	LAB_CLEANUPS+=("ip netns del $1")
	ip -n "$1" link set lo up
}

# lab_bridge: put the server's s0 into a bridge br0 that holds 192.0.2.1
# (once), so that lab_attach can add more hosts to the segment.  br0 gets a
# fixed MAC: a bridge takes the lowest MAC of its ports otherwise, and
# changes it as ports come and go, and neighbours that cached the old one
# lose 192.0.2.1 until their ARP entry expires (tens of seconds).
lab_bridge() {
	ip -n "$LAB_SRV" link show br0 >/dev/null 2>&1 && return 0
	ip -n "$LAB_SRV" link add br0 address 02:00:00:00:02:01 type bridge || return 1
	ip -n "$LAB_SRV" link set br0 type bridge forward_delay 0 stp_state 0
	ip -n "$LAB_SRV" addr del $LAB_SRV_IP/24 dev s0
	ip -n "$LAB_SRV" link set s0 master br0
	ip -n "$LAB_SRV" addr add $LAB_SRV_IP/24 dev br0
	ip -n "$LAB_SRV" link set br0 up
}

# lab_attach NS IFNAME [IP/LEN]: a new namespace NS on the server's segment
# (bridge br0), with interface IFNAME and, if given, an address.
LAB_ATTACHED=0
lab_attach() {
	local ns=$1 ifn=$2
	LAB_ATTACHED=$((LAB_ATTACHED + 1))
	local tag=$LAB_ATTACHED${LAB_ID: -10}
	lab_bridge || return 1
	lab_netns "$ns" || return 1
	ip link add "b$tag" type veth peer name "n$tag" || return 1
	ip link set "b$tag" netns "$LAB_SRV"
	ip link set "n$tag" netns "$ns" name "$ifn"
	ip -n "$LAB_SRV" link set "b$tag" master br0 up
	ip -n "$ns" link set "$ifn" up
	[ -z "${3:-}" ] || ip -n "$ns" addr add "$3" dev "$ifn"
}

# dprobe ARGS...: dhcp-probe from the client namespace; output in $OUT
# (also echoed as "# " comments), exit status in $PROBE_RC.
dprobe() {
	OUT=$(in_cli timeout 30 "$DHCP_PROBE" "$@" 2>&1)
	PROBE_RC=$?
	echo "$OUT" | head -6 | cut -c1-400 | sed 's/^/# /'
	return $PROBE_RC
}

# dprobe_in NS ARGS...: the same from namespace NS.
dprobe_in() {
	local ns=$1
	shift
	OUT=$(ip netns exec "$ns" timeout 30 "$DHCP_PROBE" "$@" 2>&1)
	PROBE_RC=$?
	echo "$OUT" | head -6 | cut -c1-400 | sed 's/^/# /'
	return $PROBE_RC
}

# dprobe_lease MAC: a local client's DISCOVER and REQUEST (broadcast on
# c0); the address pxed ACKed in $ADDR; fails unless it ACKed.
dprobe_lease() {
	dprobe --iface c0 --to 255.255.255.255:67 --wait-ms 1000 --mac "$1" --broadcast
	local offer
	offer=$(rfield "$(reply_from $LAB_SRV_IP)" yiaddr)
	dprobe --iface c0 --to 255.255.255.255:67 --wait-ms 1000 --mac "$1" --broadcast \
		--type request --requested "$offer" --server-id $LAB_SRV_IP
	ADDR=$(rfield "$(reply_from $LAB_SRV_IP)" yiaddr)
	[ "$(rfield "$(reply_from $LAB_SRV_IP)" type)" = ACK ]
}

# reply_from IP: the reply lines of $OUT sent by IP (any port).
reply_from() { grep "^reply from=$1:" <<<"$OUT"; }
# rfield LINE KEY: the value of KEY= in a dhcp-probe reply line.
rfield() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1" | head -1; }
# rhas LINE KEY: the reply line has KEY= (e.g. o51).
rhas() { grep -q " $2=" <<<"$1"; }
# rlacks LINE KEY: there is a reply line, and it has no KEY=
rlacks() { [ -n "$1" ] && ! rhas "$@"; }
# log_lacks MARK REGEX: the log after MARK does not match.
log_lacks() { ! log_since "$1" | grep -qE -- "$2"; }

# o43_walk HEX: each sub-option of an option 43 value (hex, as rfield gives
# it) as "CODE VALUE" (decimal code, hex value), up to the end option 255;
# "bad" and status 1 when a length runs past the end.
o43_walk() {
	local h=$1 i=0 n=${#1} code len
	while [ "$i" -lt "$n" ]; do
		code=$((16#${h:i:2}))
		[ "$code" -eq 255 ] && { echo "255 -"; return 0; }
		if [ "$code" -eq 0 ]; then
			i=$((i + 2))
			continue
		fi
		[ $((i + 4)) -le "$n" ] || { echo bad; return 1; }
		len=$((16#${h:i+2:2}))
		[ $((i + 4 + 2 * len)) -le "$n" ] || { echo bad; return 1; }
		echo "$code ${h:i+4:2*len}"
		i=$((i + 4 + 2 * len))
	done
}
# o43_sub HEX CODE: the value (hex) of sub-option CODE; o43_codes HEX: the codes
o43_sub() { o43_walk "$1" | awk -v c="$2" '$1 == c { print $2; exit }'; }
o43_codes() { o43_walk "$1" | cut -d' ' -f1; }
