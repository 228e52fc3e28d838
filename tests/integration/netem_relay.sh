#!/bin/bash
# Self-test for build/tools/netem-relay and tests/lib/netem.sh: two network
# namespaces linked through the relay; checks connectivity, delay, loss and
# a byte-exact TCP transfer through reordering and duplication, and TCP
# super-frames through per-segment loss: a transfer routed on through a
# third namespace whose link computes checksums in software (so the
# pseudo-header sums and IP headers of the frames the relay split are
# checked by a real stack), the relay's loss rate counted per segment.  Prints one
# "ok - ..." / "not ok - ..." line per check (tests/lib/tap.sh); exits 1 if
# any failed or the plan was not kept.
# Needs root, ip(8), python3, and ping (iputils or busybox).
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${HERE%/tests/integration}
# shellcheck source=tests/lib/netem.sh
. "$ROOT/tests/lib/netem.sh"
. "$ROOT/tests/lib/tap.sh"
lab_plan 9

NS_A=pxt-$$-a
NS_B=pxt-$$-b
NS_C=pxt-$$-c
ADDR_C=198.51.100.2
ADDR_A=192.0.2.1
ADDR_B=192.0.2.2
PORT=5001
WORK=

# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
	local rc=$?
	tap_failed && [ "$rc" -eq 0 ] && rc=1
	tap_done || rc=1
	netem_stop
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	ip netns del "$NS_C" 2>/dev/null
	[ -n "$WORK" ] && rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# result STATUS WHAT: one check from a status computed before
result() {
	if [ "$1" -eq 0 ]; then ok "$2"; else not_ok "$2"; fi
}

if [ "$(id -u)" -ne 0 ]; then
	echo "Bail out! needs root (network namespaces)"
	exit 1
fi
if command -v ping >/dev/null 2>&1; then
	PING=(ping)
else
	PING=(busybox ping)
fi
if [ ! -x "${NETEM_RELAY:-$ROOT/build/tools/netem-relay}" ]; then
	echo "Bail out! build/tools/netem-relay not built"
	exit 1
fi

WORK=$(mktemp -d /tmp/netem-test.XXXXXX) || exit 1
NETEM_TMPDIR=$WORK/relay
mkdir -p "$NETEM_TMPDIR"
ip netns add "$NS_A" || exit 1
ip netns add "$NS_B" || exit 1

link() {
	netem_link "$NS_A" "$NS_B" "$ADDR_A/24" "$ADDR_B/24" "$@"
}

# ping_a ARGS...: ping from A to B, bounded.
ping_a() {
	timeout 30 ip netns exec "$NS_A" "${PING[@]}" "$@" "$ADDR_B" 2>&1
}

# "rtt min/avg/max/mdev = 1/2/3/4 ms" or "round-trip min/avg/max = 1/2/3 ms"
rtt_field() {
	sed -n 's|.*min/avg/max[^=]*= *\([0-9./]*\).*|\1|p' | cut -d/ -f"$1"
}

received() {
	sed -n 's/.* \([0-9][0-9]*\) \(packets \)\{0,1\}received.*/\1/p'
}

cat >"$WORK/xfer.py" <<'EOF'
import socket, sys, time
mode, host, port, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if mode == "recv":
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, port))
    srv.listen(1)
    srv.settimeout(30)
    conn, _ = srv.accept()
    conn.settimeout(30)
    with open(path, "wb") as f:
        while True:
            buf = conn.recv(1 << 16)
            if not buf:
                break
            f.write(buf)
    conn.close()
else:
    deadline = time.monotonic() + 5
    while True:
        try:
            s = socket.create_connection((host, port), timeout=5)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    s.settimeout(30)
    with open(path, "rb") as f:
        s.sendfile(f)
    s.shutdown(socket.SHUT_WR)
    while s.recv(1 << 16):
        pass
    s.close()
EOF

# transfer MIB: sends MIB MiB of random data A -> B (or to $XFER_NS at
# $XFER_ADDR) over TCP; sets XFER_MS.
transfer() {
	local ns=${XFER_NS:-$NS_B} addr=${XFER_ADDR:-$ADDR_B}
	local src=$WORK/src.bin dst=$WORK/dst.bin rpid t0 t1 rc
	head -c "$(($1 * 1024 * 1024))" /dev/urandom >"$src"
	rm -f "$dst"
	timeout 60 ip netns exec "$ns" python3 "$WORK/xfer.py" recv \
		"$addr" "$PORT" "$dst" &
	rpid=$!
	t0=$(date +%s%N)
	timeout 60 ip netns exec "$NS_A" python3 "$WORK/xfer.py" send \
		"$addr" "$PORT" "$src"
	rc=$?
	t1=$(date +%s%N)
	wait "$rpid" || rc=1
	XFER_MS=$(((t1 - t0) / 1000000))
	[ "$rc" -eq 0 ] && cmp -s "$src" "$dst"
}

# (a) plain connectivity
if link; then
	out=$(ping_a -c 3 -W 2)
	[ "$(received <<<"$out")" = 3 ]
	result $? "ping through the relay"
else
	result 1 "ping through the relay (link setup failed)"
fi
netem_stop

# (b) 10 ms one-way delay gives 20..60 ms RTT (first ping warms ARP)
if link --delay-ms 10; then
	ping_a -c 1 -W 2 >/dev/null
	out=$(ping_a -c 5 -i 0.2 -W 2)
	min=$(rtt_field 1 <<<"$out")
	max=$(rtt_field 3 <<<"$out")
	echo "# delay 10 ms: rtt min/max = ${min:-?}/${max:-?} ms"
	[ -n "$min" ] && [ -n "$max" ] &&
		awk -v a="$min" -v b="$max" 'BEGIN { exit !(a >= 20 && b < 60) }'
	result $? "--delay-ms 10 gives 20 ms <= RTT < 60 ms"
else
	result 1 "--delay-ms 10 (link setup failed)"
fi
netem_stop

# (c) 30 % loss: some but not all of 50 pings lost
if link --loss 30 --seed 42; then
	# warm ARP without loss noise deciding the result
	ping_a -c 5 -i 0.05 -W 1 >/dev/null
	out=$(ping_a -i 0.01 -c 50 -W 1)
	got=$(received <<<"$out")
	echo "# loss 30 %: ${got:-?} of 50 replies"
	[ -n "$got" ] && [ "$got" -gt 0 ] && [ "$got" -lt 50 ]
	result $? "--loss 30 loses some but not all of 50 pings"
else
	result 1 "--loss 30 (link setup failed)"
fi
netem_stop

# (d) 20 MiB byte-identical through reordering and duplication
if link --delay-ms 2 --reorder 5 --duplicate 5; then
	transfer 20
	rc=$?
	echo "# 20 MiB with reorder 5 %, duplicate 5 %, delay 2 ms: ${XFER_MS} ms"
	result $rc "20 MiB TCP transfer intact with --reorder 5 --duplicate 5"
else
	result 1 "20 MiB transfer (link setup failed)"
fi
netem_stop

# (e) throughput at 1 ms one-way delay (informational rate, checks integrity)
if link --delay-ms 1; then
	transfer 50
	rc=$?
	echo "# 50 MiB at --delay-ms 1: ${XFER_MS} ms" \
		"($((50 * 1000 / (XFER_MS > 0 ? XFER_MS : 1))) MiB/s)"
	result $rc "50 MiB TCP transfer intact with --delay-ms 1"
else
	result 1 "50 MiB transfer (link setup failed)"
fi
netem_stop

# (f) TCP super-frames through 2 % loss (A -> B only), routed on by B to C
# over a veth without checksum offload: B's kernel segments what the relay
# wrote and completes the checksums from the relay's pseudo-header sums, B
# checks the IP headers, C the TCP checksums.
# nstat_get NS COUNTER: an absolute counter of NS's network stack
nstat_get() {
	ip netns exec "$1" nstat -asz "$2" | awk -v k="$2" '$1 == k { print $2 }'
}
# relay_get DIR FIELD: a counter of the last relay's log ("a->b segments")
relay_get() {
	sed -n "s/.* $1 .* $2=\([0-9]*\).*/\1/p" "$NETEM_LOG"
}
router_setup() {
	ip netns add "$NS_C" &&
		ip -n "$NS_B" link add vb type veth peer name vc netns "$NS_C" &&
		ip -n "$NS_B" addr add 198.51.100.1/24 dev vb &&
		ip -n "$NS_C" addr add "$ADDR_C/24" dev vc &&
		ip -n "$NS_B" link set vb up && ip -n "$NS_C" link set vc up &&
		ip -n "$NS_C" link set lo up &&
		ip netns exec "$NS_B" ethtool -K vb tx off >/dev/null &&
		ip netns exec "$NS_B" sysctl -qw net.ipv4.ip_forward=1 &&
		ip -n "$NS_A" route add 198.51.100.0/24 via "$ADDR_B" &&
		ip -n "$NS_C" route add default via 198.51.100.1
}
if link --delay-ms 1 --loss-a-to-b 2 --loss-b-to-a 0 --seed 7 && router_setup; then
	XFER_NS=$NS_C XFER_ADDR=$ADDR_C transfer 20
	rc=$?
	errs=$(($(nstat_get "$NS_B" IpExtInCsumErrors) + $(nstat_get "$NS_B" IpInHdrErrors) +
		$(nstat_get "$NS_C" TcpInCsumErrors) + $(nstat_get "$NS_C" TcpInErrs)))
	out=$(nstat_get "$NS_A" TcpOutSegs)
	retrans=$(nstat_get "$NS_A" TcpRetransSegs)
	netem_stop
	segs=$(relay_get 'a->b' segments)
	lost=$(relay_get 'a->b' lost)
	super=$(relay_get 'a->b' super)
	split=$(relay_get 'a->b' split)
	echo "# 20 MiB through 2 % loss: ${XFER_MS} ms; relay: ${segs:-?} segments," \
		"${lost:-?} lost, ${super:-?} super-frames, ${split:-?} split;" \
		"sender: ${out:-?} segments, ${retrans:-?} retransmitted; checksum/header errors: $errs"
	result $rc "20 MiB TCP transfer intact through 2 % per-segment loss and a router"
	seen=no
	[ "${super:-0}" -gt 10 ] && [ "${split:-0}" -gt 0 ] && seen=yes
	check "super-frames crossed the relay and some were split around a loss" \
		[ "$seen" = yes ]
	rate=$(awk -v l="${lost:-0}" -v s="${segs:-0}" 'BEGIN { if (s > 0) printf "%.2f", 100 * l / s }')
	echo "# relay's loss per segment: ${rate:-?} % (asked 2 %)"
	check "the relay's counted loss is 2 % of segments (1.5..2.5)" \
		awk -v r="${rate:-0}" 'BEGIN { exit !(r >= 1.5 && r <= 2.5) }'
	check "no IP header or TCP checksum error in the router or the receiver" \
		[ "$errs" -eq 0 ]
else
	result 1 "20 MiB transfer through loss (link setup failed)"
	not_ok "super-frames split (no link)"
	not_ok "loss per segment (no link)"
	not_ok "checksums (no link)"
fi
netem_stop

tap_failed && exit 1
exit 0
