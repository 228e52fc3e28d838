#!/bin/bash
# HTTP and multicast deploy through a bad link (issue 16, "Faults"; TFTP
# has its own: tftp_loss.sh).  One namespace, "lossy" (192.0.2.3), sits
# behind build/tools/netem-relay (tests/lib/netem.sh), whose server-side
# TAP is a port of pxed's bridge; the lab's client (192.0.2.2) is on the
# same bridge through a plain veth.  The relay applies, to every frame in
# EACH direction: 20% loss, 10% duplicated, 10% held back 1 ms (reordered
# behind the frames after it), 1 ms delay (2 ms round trip); ARP and IGMP
# pay it too.  The bridge floods multicast (snooping off): a lost IGMP
# report must not decide who gets the session.  pxed runs with its
# defaults for slow clients (http-header-timeout 10 s, http-body-min-rate
# 4096 B/s).
#   1. Boot files with curl: three 8 MiB downloads at once through the
#      link while the clean client fetches the same file again and again
#      (each < 5 s); 30 small requests at once, each on a new connection.
#   2. pxe-agent through the link: a capture of a 64 MiB disk (chunk
#      uploads: request bodies), every chunk of the image fetched with
#      curl, and a unicast deploy (the agent's chunk fetch).
#   3. A multicast session with three receivers: one behind the link, one
#      on the bridge, one whose interface goes down once it has joined.
#      The first two finish, the session ends, the third gives up with an
#      error.
# Every transfer is bounded (timeout) and compared by SHA-256 (disks
# whole); the slow-client limits cut nothing (/metrics); the relay's own
# counters show the loss, duplication and reordering it applied.  Times
# are reported as "#" lines (~90 s in all).
LAB_ID=${LAB_ID:-lf$$}
source "$(dirname "$0")/../lib/lab.sh"
source "$(dirname "$0")/../lib/disk.sh"
source "$(dirname "$0")/../lib/api.sh"
lab_plan 27

AGENT=${PXE_AGENT:-build/asan/pxe-agent}
for tool in curl nft sgdisk; do
	command -v $tool >/dev/null || { not_ok "setup: $tool is not installed"; exit 1; }
done
export NETEM_RELAY=${NETEM_RELAY:-$(dirname "$0")/../../build/tools/netem-relay}
[ -x "$NETEM_RELAY" ] || { not_ok "setup: $NETEM_RELAY is built (make all)"; exit 1; }
# shellcheck source=tests/lib/netem.sh
source "$(dirname "$0")/../lib/netem.sh"
LAB_CLEANUPS+=(netem_stop)
NETEM_TMPDIR=$LAB_DIR/relay     # its log outlives it: the counters are checked
mkdir -p "$NETEM_TMPDIR"

LOSSY=pxl-$LAB_ID
LOSSY_IP=192.0.2.3
IMPAIR=(--delay-ms 1 --loss 20 --reorder 10 --duplicate 10 --seed "${LINK_SEED:-$$}")
W=$LAB_DIR/work
mkdir -p "$W"

lab_up || { not_ok "setup: lab_up"; exit 1; }
lab_bridge || { not_ok "setup: bridge"; exit 1; }
ip -n "$LAB_SRV" link set br0 type bridge mcast_snooping 0 ||
	{ not_ok "setup: bridge without multicast snooping"; exit 1; }
lab_netns "$LOSSY" || { not_ok "setup: lossy namespace"; exit 1; }
netem_link "$LAB_SRV" "$LOSSY" - "$LOSSY_IP/24" "${IMPAIR[@]}" ||
	{ not_ok "setup: netem relay (${IMPAIR[*]})"; exit 1; }
ip -n "$LAB_SRV" link set "$NETEM_IF_A" master br0 ||
	{ not_ok "setup: the relay's TAP in the bridge"; exit 1; }
echo "# link to $LOSSY_IP, each way: ${IMPAIR[*]}"
in_lossy() { ip netns exec "$LOSSY" "$@"; }

pxed_start --mcast-rate-mbit 100 --mcast-min-rate-mbit 8 || { not_ok "setup: pxed_start"; exit 1; }

# metric NAME: a counter of /metrics (read from the clean side)
metric() { in_cli timeout 10 curl -sS "$URL/metrics" | sed -n "s/^$1 \([0-9]*\)$/\1/p"; }

# ms_since T0: milliseconds since T0 (date +%s%N)
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
# sha256 FILE: its SHA-256 (hex)
sha256() { sha256sum "$1" | cut -d' ' -f1; }
# same_sha FILE COPY: COPY exists and has FILE's SHA-256
same_sha() { [ -s "$2" ] && same_value "$(sha256 "$1")" "$(sha256 "$2")"; }
# get NS PATH OUT BOUND: curl in NS, at most BOUND s; prints curl's total
# time (or its error); status is curl's (timeout's 124 on the bound)
get() {
	rm -f "$3"
	ip netns exec "$1" timeout "$4" curl -sS --fail -o "$3" -w '%{time_total}' "$URL/$2" 2>&1
}
# secs_below LIST MAX: every number of LIST is below MAX
secs_below() {
	[ -n "$1" ] && ! grep -qv '^[0-9.]*$' <<<"$1" &&
		awk -v m="$2" '$1 >= m { bad = 1 } END { exit bad }' <<<"$1" ||
		{ echo "# not all below $2: $(tr '\n' ' ' <<<"$1")"; return 1; }
}

# --- 1. boot files with curl ------------------------------------------------------
make_file kernel.bin $((8 * 1024 * 1024))
make_file boot.ipxe 3000
BOUND=60
base=$(get "$LAB_CLI" kernel.bin "$W/base.bin" 10)
echo "# clean client, kernel.bin (8 MiB) alone: ${base} s"
for i in 1 2 3; do
	(get "$LOSSY" kernel.bin "$W/lossy$i.bin" $BOUND >"$W/lossy$i.time"; echo $? >"$W/lossy$i.rc") &
	LAB_PIDS+=("$!")
	eval "L$i=\$!"
done
# the clean client fetches the same file again and again while any of the
# three runs (at most 100 times)
running() { kill -0 "$L1" 2>/dev/null || kill -0 "$L2" 2>/dev/null || kill -0 "$L3" 2>/dev/null; }
clean=
n=0
while running && [ $n -lt 100 ]; do
	t=$(get "$LAB_CLI" kernel.bin "$W/clean.bin" 20) && same_sha "$LAB_ROOT/kernel.bin" "$W/clean.bin" ||
		t="failed: $t"
	clean+="$t"$'\n'
	n=$((n + 1))
done
slowest=$(sort -g <<<"$clean" | tail -1)
echo "# clean client, kernel.bin $n times during the lossy downloads, slowest ${slowest} s"
check "the clean client is served meanwhile: $n intact 8 MiB downloads, each < 5 s" secs_below "$clean" 5
for i in 1 2 3; do
	eval "wait \$L$i"
	rc=$(cat "$W/lossy$i.rc")
	echo "# lossy download $i of kernel.bin (8 MiB): $(cat "$W/lossy$i.time") s (curl exit $rc)"
	check "lossy download $i ends within ${BOUND} s (curl exit $rc)" [ "$rc" -eq 0 ]
	check "lossy download $i: sha256 identical" same_sha "$LAB_ROOT/kernel.bin" "$W/lossy$i.bin"
done

# 30 small requests at once, each on its own connection
S=()
t0=$(date +%s%N)
for i in $(seq 1 30); do
	(get "$LOSSY" boot.ipxe "$W/small$i" $BOUND >/dev/null; echo $? >"$W/small$i.rc") &
	LAB_PIDS+=("$!")
	S+=("$!")
done
wait "${S[@]}"
intact=0
for i in $(seq 1 30); do
	[ "$(cat "$W/small$i.rc")" = 0 ] && same_sha "$LAB_ROOT/boot.ipxe" "$W/small$i" >/dev/null &&
		intact=$((intact + 1))
done
echo "# 30 new connections through the link at once: $(ms_since "$t0") ms"
check "30 small requests on new connections through the link: all intact ($intact)" [ $intact -eq 30 ]

# --- 2. pxe-agent through the link: capture, chunks with curl, deploy -----------
# agent NS MAC DISK LOG [RETRY]: pxe-agent for the host's task in namespace
# NS, bounded, retrying the server for RETRY s (30); status is the agent's
agent() {
	local tok=
	for _ in 1 2 3; do
		tok=$(token_of "$2" "$1") && [ -n "$tok" ] && break
	done
	ip netns exec "$1" timeout $BOUND "$AGENT" --server "$URL" --token "$tok" \
		--task "$(task_of "$2")" --disk "$3" --retry-for "${5:-30}" >"$4" 2>&1
}
mkdir -p "$W/src/etc"
head -c 6000000 /dev/urandom >"$W/src/blob.bin"
seq 1 100000 >"$W/src/numbers.txt"
echo "link faults" >"$W/src/etc/motd"
disk_make "$W/src" "$W/source.img" 64 || { not_ok "setup: the source disk"; exit 1; }
ctl host add 52:54:00:1f:00:01 lossy1 >/dev/null && ctl task capture lossy1 golden >/dev/null ||
	{ not_ok "setup: capture task"; exit 1; }
t0=$(date +%s%N)
agent "$LOSSY" 52:54:00:1f:00:01 "$W/source.img" "$W/capture.log"
rc=$?
echo "# capture of a 64 MiB disk through the link: $(ms_since "$t0") ms (exit $rc)"
check "capture through the link: pxe-agent exit 0 ($rc)" [ $rc -eq 0 ]
chunks=$(find "$LAB_DIR/state/images/chunks" -name '*.zst' | sort)
nchunks=$(wc -l <<<"$chunks")
# every chunk of the repository fetched with curl through the link, its
# SHA-256 against the file pxed holds
bad=0
for f in $chunks; do
	rel=${f#"$LAB_DIR/state/images/"}
	get "$LOSSY" "images/$rel" "$W/chunk.zst" $BOUND >/dev/null && same_sha "$f" "$W/chunk.zst" >/dev/null ||
		bad=$((bad + 1))
done
check "the image's $nchunks chunks fetched with curl through the link: none differs ($bad)" [ $bad -eq 0 ]
truncate -s 64M "$W/deploy.img"
ctl task deploy lossy1 golden >/dev/null || { not_ok "setup: deploy task"; exit 1; }
t0=$(date +%s%N)
agent "$LOSSY" 52:54:00:1f:00:01 "$W/deploy.img" "$W/deploy.log"
rc=$?
echo "# deploy of it through the link: $(ms_since "$t0") ms (exit $rc)"
grep -h "fetched over HTTP" "$W/deploy.log" | sed 's/^/# deploy: /'
check "deploy through the link: pxe-agent exit 0 ($rc)" [ $rc -eq 0 ]
check "deploy through the link: the disk's sha256 is the source's" same_sha "$W/source.img" "$W/deploy.img"

# --- 3. multicast: a receiver behind the link, one on the bridge, one whose
# link dies ------------------------------------------------------------------
# The session waits for the three (at most 20 s).  The third receiver's
# interface goes down as soon as it has joined: the session must not wait
# for it forever, and its agent must give up (10 s without the sender,
# then 5 s of retries over HTTP) with an error.
DEAD=pxd-$LAB_ID
lab_attach "$DEAD" r0 192.0.2.4/24 || { not_ok "setup: the third receiver's namespace"; exit 1; }
ctl host add 52:54:00:1f:00:02 clean1 >/dev/null && ctl host add 52:54:00:1f:00:03 dead1 >/dev/null ||
	{ not_ok "setup: receivers' hosts"; exit 1; }
for d in mlossy mclean mdead; do truncate -s 64M "$W/$d.img"; done
ctl task deploy --multicast room1 --min-receivers 3 --start-after 20 golden lossy1 clean1 dead1 >/dev/null ||
	{ not_ok "setup: multicast session"; exit 1; }
t0=$(date +%s%N)
(agent "$LOSSY" 52:54:00:1f:00:01 "$W/mlossy.img" "$W/mlossy.log"; echo "$? $(ms_since "$t0")" >"$W/mlossy.rc") &
ML=$!
(agent "$LAB_CLI" 52:54:00:1f:00:02 "$W/mclean.img" "$W/mclean.log"; echo "$? $(ms_since "$t0")" >"$W/mclean.rc") &
MC=$!
# (10 s of silence, 5 s of retries, and a progress report on its kept-alive
# connection that stalls for 30 s: pxe-agent's stall limit)
(BOUND=90 agent "$DEAD" 52:54:00:1f:00:03 "$W/mdead.img" "$W/mdead.log" 5; echo "$? $(ms_since "$t0")" >"$W/mdead.rc") &
MD=$!
LAB_PIDS+=("$ML" "$MC" "$MD")
# joined NAME: wait (30 s at most) until receiver NAME has joined the session
joined() {
	for _ in $(seq 1 300); do grep -q "multicast: joined" "$W/$1.log" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
joined mdead && ip -n "$DEAD" link set r0 down || { not_ok "setup: the third receiver's link down"; exit 1; }
# The receiver behind the link: its HTTP answers from pxed (its progress
# reports) are dropped for 12 s from its join; the multicast and its
# STATUS reports to the sender still go.
joined mlossy && ip netns exec "$LOSSY" nft -f - <<EOF || { not_ok "setup: nft rule dropping HTTP answers"; exit 1; }
table inet pxhttp {
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr $LAB_SRV_IP tcp sport 80 counter drop
	}
}
EOF
(sleep 12; ip netns exec "$LOSSY" nft delete table inet pxhttp) &
LAB_PIDS+=("$!")
wait "$ML" "$MC"
read -r rc_l ms_l <"$W/mlossy.rc"
read -r rc_c ms_c <"$W/mclean.rc"
echo "# multicast of golden: receiver behind the link $ms_l ms (exit $rc_l), on the bridge $ms_c ms (exit $rc_c)"
for f in mlossy mclean; do grep -h "multicast: \(every\|the\|too\)" "$W/$f.log" | sed "s/^/# $f: /"; done
check "multicast, receiver behind the link: pxe-agent exit 0 ($rc_l)" [ "$rc_l" -eq 0 ]
check "multicast, receiver behind the link: the disk's sha256 is the source's" same_sha "$W/source.img" "$W/mlossy.img"
rep=$(sed -n 's/.*, \([0-9]*\) came as repairs.*/\1/p' "$W/mlossy.log" | tail -1)
n=$(sed -n 's/.* \([0-9]*\) chunks (.*came by multicast.*/\1/p' "$W/mlossy.log" | tail -1)
dg=$(sed -n 's/.*(\([0-9]*\) datagrams in.*/\1/p' "$W/mlossy.log" | tail -1)
# a fifth of the slices is lost on the way in: at least 1 in 20 came as a repair
check "multicast, receiver behind the link: slices repaired (${rep:-0} of ${dg:-?} received)" \
	[ "${rep:-0}" -gt 0 -a $((${rep:-0} * 20)) -ge "${dg:-1}" ]
# a progress report stalled for 12 s does not stop the receiving
stalled=$(grep -c "progress report failed" "$W/mlossy.log")
check "multicast, receiver behind the link: every chunk by multicast (${n:-0} of $nchunks), its progress reports failing meanwhile ($stalled)" \
	[ "${n:-0}" -eq "$nchunks" -a "$stalled" -gt 0 ]
check "multicast, receiver on the bridge: pxe-agent exit 0 ($rc_c)" [ "$rc_c" -eq 0 ]
check "multicast, receiver on the bridge: the disk's sha256 is the source's" same_sha "$W/source.img" "$W/mclean.img"
check "multicast, receiver on the bridge: done within 20 s (${ms_c} ms)" [ "$ms_c" -lt 20000 ]
t1=$(date +%s%N)
out=
for _ in $(seq 1 300); do
	out=$(ctl mcast show room1)
	grep -q finished <<<"$out" && break
	sleep 0.1
done
echo "$out" | sed 's/^/# /'
check "the session ends, one receiver silent ($(ms_since "$t1") ms after the others were done)" has "$out" finished
wait "$MD"
read -r rc_d ms_d <"$W/mdead.rc"
grep -h "multicast: \(every\|the\|too\)\|gave up\|fail" "$W/mdead.log" | tail -3 | sed "s/^/# mdead: /"
check "the receiver whose link died gives up within 90 s ($ms_d ms, exit $rc_d)" [ "$rc_d" -ne 0 -a "$rc_d" -ne 124 ]

# --- the slow-client limits cut nothing, the link did what it says -------------------
hs=$(metric pxed_http_headers_slow_total)
bs=$(metric pxed_http_bodies_slow_total)
check "http-header-timeout cut no connection through the link (${hs:-?})" [ "${hs:-1}" -eq 0 ]
check "http-body-min-rate cut no upload through the link (${bs:-?})" [ "${bs:-1}" -eq 0 ]
pxed_stop
check "pxed stopped cleanly" [ $? -eq 0 ]
check "pxed log has no sanitizer report" pxed_log_clean
netem_stop 2>/dev/null
# "netem-relay: a->b rx=N tx=N segments=N lost=N ... duplicated=N reordered=N ..."
# impaired DIR: the relay lost 15-25% of the segments it got in direction
# DIR (loss is drawn per TCP segment of a super-frame, per frame otherwise),
# and duplicated and reordered some
impaired() {
	local line rx lost dup re
	line=$(grep "netem-relay: $1 " "$NETEM_LOG")
	echo "# relay: ${line#netem-relay: }"
	rx=$(sed -n 's/.* segments=\([0-9]*\).*/\1/p' <<<"$line")
	lost=$(sed -n 's/.* lost=\([0-9]*\).*/\1/p' <<<"$line")
	dup=$(sed -n 's/.* duplicated=\([0-9]*\).*/\1/p' <<<"$line")
	re=$(sed -n 's/.* reordered=\([0-9]*\).*/\1/p' <<<"$line")
	[ "${rx:-0}" -gt 1000 ] && [ $((lost * 100)) -ge $((rx * 15)) ] && [ $((lost * 100)) -le $((rx * 25)) ] &&
		[ "${dup:-0}" -gt 0 ] && [ "${re:-0}" -gt 0 ]
}
check "the link lost 15-25% toward the lossy namespace, duplicated and reordered" impaired "a->b"
check "the link lost 15-25% from the lossy namespace, duplicated and reordered" impaired "b->a"

lab_finish
