# shellcheck shell=bash
# Link two network namespaces through build/tools/netem-relay, a userspace
# TAP relay that adds delay, loss, reordering and duplication (this kernel
# has no netem qdisc).  Source this file; namespaces are created by the
# caller.
#
#   netem_link NS_A NS_B ADDR_A/24 ADDR_B/24 [relay args...]
#       Starts a relay from the current (root) namespace, waits until its
#       TAPs exist, moves one into each namespace, sets MTU 1500, the
#       addresses and brings them (and lo) up.  Sets NETEM_IF_A / NETEM_IF_B
#       (interface names inside the namespaces), NETEM_PID and NETEM_LOG
#       (the relay's stderr, which gets its counters on exit).  May be
#       called several times; every relay started is remembered.  An
#       address "-" leaves that TAP without one (e.g. to put it in a
#       bridge: ip -n NS link set NETEM_IF_A master br0).
#   netem_drops NS IF
#       Prints "NS/IF tx_dropped=N rx_dropped=N": frames the kernel dropped
#       at a TAP (a full queue when the relay falls behind) -- losses of the
#       lab itself, on top of the relay's --loss.  Call before netem_stop.
#   netem_stop
#       Stops every relay started by netem_link (SIGTERM, then SIGKILL after
#       5 s), echoes their counters as "# " lines on stderr.  The TAPs vanish
#       with the relay.  Safe to call more than once, e.g. from a trap.
#
# Environment: NETEM_RELAY (path to the binary, default
# build/tools/netem-relay below the repository), NETEM_TMPDIR (where ready
# files and logs go, default a mktemp -d directory removed by netem_stop).

# shellcheck disable=SC2034  # NETEM_IF_* are for the caller
NETEM_PIDS=()
NETEM_LOGS=()
NETEM_SEQ=0
NETEM_PID=
NETEM_LOG=
NETEM_IF_A=
NETEM_IF_B=
NETEM_OWN_TMPDIR=

_netem_root() {
	local here
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) || return 1
	printf '%s\n' "${here%/tests/lib}"
}

_netem_tmpdir() {
	if [ -z "${NETEM_TMPDIR:-}" ]; then
		NETEM_TMPDIR=$(mktemp -d /tmp/netem.XXXXXX) || return 1
		NETEM_OWN_TMPDIR=1
	fi
}

# _netem_wait_ready FILE PID: up to 5 s for FILE to appear while PID lives.
_netem_wait_ready() {
	local file=$1 pid=$2 i
	for ((i = 0; i < 250; i++)); do
		[ -e "$file" ] && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.02
	done
	return 1
}

# _netem_attach TAP NS ADDR: move TAP into NS and configure it (ADDR "-":
# no address).
_netem_attach() {
	local tap=$1 ns=$2 addr=$3
	ip link set "$tap" netns "$ns" &&
		ip -n "$ns" link set lo up &&
		ip -n "$ns" link set "$tap" mtu 1500 &&
		{ [ "$addr" = - ] || ip -n "$ns" addr add "$addr" dev "$tap"; } &&
		ip -n "$ns" link set "$tap" up
}

netem_link() {
	if [ $# -lt 4 ]; then
		echo "usage: netem_link NS_A NS_B ADDR_A/24 ADDR_B/24 [relay args...]" >&2
		return 2
	fi
	local ns_a=$1 ns_b=$2 addr_a=$3 addr_b=$4
	shift 4
	local relay=${NETEM_RELAY:-$(_netem_root)/build/tools/netem-relay}
	if [ ! -x "$relay" ]; then
		echo "netem_link: $relay not built (make build/tools/netem-relay)" >&2
		return 1
	fi
	_netem_tmpdir || return 1
	NETEM_SEQ=$((NETEM_SEQ + 1))
	local tag=$$-$NETEM_SEQ
	local tap_a="nr$$x${NETEM_SEQ}a" tap_b="nr$$x${NETEM_SEQ}b"
	local ready="$NETEM_TMPDIR/ready.$tag"
	NETEM_LOG="$NETEM_TMPDIR/relay.$tag.log"
	rm -f "$ready"
	"$relay" --tap-a "$tap_a" --tap-b "$tap_b" --ready-file "$ready" "$@" \
		</dev/null >"$NETEM_LOG" 2>&1 &
	NETEM_PID=$!
	NETEM_PIDS+=("$NETEM_PID")
	NETEM_LOGS+=("$NETEM_LOG")
	if ! _netem_wait_ready "$ready" "$NETEM_PID"; then
		echo "netem_link: relay did not become ready:" >&2
		sed 's/^/  /' "$NETEM_LOG" >&2
		return 1
	fi
	_netem_attach "$tap_a" "$ns_a" "$addr_a" || return 1
	_netem_attach "$tap_b" "$ns_b" "$addr_b" || return 1
	# shellcheck disable=SC2034
	NETEM_IF_A=$tap_a
	# shellcheck disable=SC2034
	NETEM_IF_B=$tap_b
}

netem_drops() {
	local d=/sys/class/net/$2/statistics tx rx
	tx=$(ip netns exec "$1" cat "$d/tx_dropped" 2>/dev/null) || tx='?'
	rx=$(ip netns exec "$1" cat "$d/rx_dropped" 2>/dev/null) || rx='?'
	printf '%s/%s tx_dropped=%s rx_dropped=%s\n' "$1" "$2" "$tx" "$rx"
}

# _netem_kill PID: SIGTERM, up to 5 s grace, then SIGKILL; reaps it.
_netem_kill() {
	local pid=$1
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

netem_stop() {
	local i
	for i in "${!NETEM_PIDS[@]}"; do
		_netem_kill "${NETEM_PIDS[$i]}"
		[ -f "${NETEM_LOGS[$i]}" ] && sed 's/^/# /' "${NETEM_LOGS[$i]}" >&2
	done
	NETEM_PIDS=()
	NETEM_LOGS=()
	NETEM_PID=
	if [ -n "$NETEM_OWN_TMPDIR" ] && [ -n "${NETEM_TMPDIR:-}" ]; then
		rm -rf "$NETEM_TMPDIR"
		NETEM_TMPDIR=
		NETEM_OWN_TMPDIR=
	fi
	return 0
}
