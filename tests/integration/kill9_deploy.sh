#!/bin/bash
# kill -9 of pxed at random points while pxe-agent captures a disk and then
# deploys it (on disk files, no VM, as imaging.sh), over a 10 Mbit/s link
# so that each transfer lasts long enough to be cut several times, while
# DHCP clients take leases one after another (dora.py).  pxed is
# killed 0.3-1.5 s after it last started, as long as the agent runs (at most
# KILL9_MAX kills per phase, each phase bounded in time), and started again
# on the same state directory.  The agent must carry on by itself
# (--retry-for) and finish: the capture published and verified chunk by
# chunk, the deploy byte-identical to the source disk (cmp of the whole
# disk).  Between kills the task must still be running with its resume
# point never going back; at the end the tasks are done, every lease ACKed
# on the wire is in the store with its address, SQLite's
# integrity_check passes and no pxed run had a sanitizer report.
LAB_ID=${LAB_ID:-kd$$}
source "$(dirname "$0")/../lib/lab.sh"
source "$(dirname "$0")/../lib/disk.sh"
source "$(dirname "$0")/../lib/api.sh"
lab_plan 20
AGENT=${PXE_AGENT:-build/asan/pxe-agent}
MAX=${KILL9_MAX:-6}
lab_up || exit 1
command -v sqlite3 >/dev/null || { not_ok "setup: sqlite3 is not installed"; exit 1; }
W=$LAB_DIR/work
mkdir -p "$W/src/etc"
MAC=52:54:00:bd:00:01
head -c 6000000 /dev/urandom >"$W/src/blob.bin"
seq 1 300000 >"$W/src/numbers.txt"
echo "kill -9 during imaging" >"$W/src/etc/motd"
disk_make "$W/src" "$W/source.img" 128 || { not_ok "setup: the source disk"; exit 1; }
cp "$W/source.img" "$W/source.orig"

NETEM_SH=$(dirname "$0")/../lib/netem.sh
export NETEM_RELAY=${NETEM_RELAY:-build/tools/netem-relay}
source "$NETEM_SH"
LAB_CLEANUPS+=(netem_stop)
ip -n "$LAB_SRV" link del s0
netem_link "$LAB_SRV" "$LAB_CLI" $LAB_SRV_IP/24 $LAB_CLI_IP/24 --rate-mbit 10 ||
	{ not_ok "setup: a rate-limited link (10 Mbit/s)"; exit 1; }
start() { pxed_start --dhcp-range 192.0.2.10,192.0.2.250,1h; }
start || { not_ok "setup: pxed"; exit 1; }
ctl host add "$MAC" lab1 >/dev/null || { not_ok "setup: the host"; exit 1; }

# phase TYPE ARGS...: a task of TYPE for the host, its agent in the
# background on $DISK, pxed killed at random points until the agent ends;
# sets TID, RC (the agent's exit), KILLS (kills while the agent ran) and
# BACK (resume points that went back or tasks not running after a restart)
phase() {
	local tt apid dpid t0 prev=0 r s ms
	ctl task "$@" >/dev/null || return 1
	TID=$(task_of "$MAC")
	tt=$(token_of "$MAC")
	[ -n "$TID" ] && [ -n "$tt" ] || return 1
	in_cli timeout 240 "$AGENT" --server "$URL" --token "$tt" --task "$TID" --disk "$DISK" \
		--retry-for 60 >"$W/agent.$TID.log" 2>&1 &
	apid=$!
	LAB_PIDS+=("$apid")
	# DHCP clients one after another all along (through the same link)
	in_cli timeout 200 python3 tests/lib/dora.py --iface "$NETEM_IF_B" \
		--prefix "$(printf '52:54:00:c1:%02x' "$TID")" --count 250 --pace-ms 100 --wait-ms 300 \
		--deadline-s 180 >"$W/acks.$TID" 2>/dev/null &
	dpid=$!
	LAB_PIDS+=("$dpid")
	KILLS=0 BACK=0
	t0=$SECONDS
	while [ "$KILLS" -lt "$MAX" ] && [ $((SECONDS - t0)) -lt 120 ]; do
		ms=$((300 + RANDOM % 1200))
		sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
		kill -0 "$apid" 2>/dev/null || break
		kill -9 "$PXED_PID"
		wait "$PXED_PID" 2>/dev/null
		KILLS=$((KILLS + 1))
		start >/dev/null || { echo "# pxed did not start again after kill $KILLS"; return 1; }
		s=$(json "/api/v1/tasks/$TID" '["state"]' 2>/dev/null)
		r=$(json "/api/v1/tasks/$TID" '["resume_offset"]' 2>/dev/null)
		echo "# kill $KILLS at $((SECONDS - t0)) s: task $TID $s, resume point ${r:-?}"
		case $s in running|done) ;; *) BACK=$((BACK + 1)) ;; esac
		[ "${r:-0}" -ge "$prev" ] || BACK=$((BACK + 1))
		prev=${r:-0}
	done
	wait "$apid"
	RC=$?
	kill "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	ACKS=$(grep -c '^ACK' "$W/acks.$TID")
}

# phase_checks NAME: what every phase must show (after phase)
phase_checks() {
	check "$1: pxed was killed while the agent ran ($KILLS times)" [ "$KILLS" -ge 2 ]
	check "$1: after each restart the task still ran, its resume point never went back" \
		[ "$BACK" = 0 ]
	check "$1: pxe-agent finished with 0 (exit $RC)" [ "$RC" = 0 ]
	check "$1: the agent saw the server go away and retried" \
		grep -qE "\(retrying\)$" "$W/agent.$TID.log"
	check "$1: the task is done" eq "$(json "/api/v1/tasks/$TID" '["state"]')" done
	check "$1: DHCP clients got leases between the kills ($ACKS)" [ "$ACKS" -ge 10 ]
}

# --- capture under kills ------------------------------------------------------
DISK=$W/source.img
phase capture lab1 golden || { not_ok "setup: the capture task"; exit 1; }
phase_checks capture
check "capture: the source disk is unchanged" cmp -s "$W/source.img" "$W/source.orig"
check "capture: the image verifies chunk by chunk" \
	has "$(ctl image verify golden)" "every chunk verified"

# --- deploy under kills -------------------------------------------------------
DISK=$W/target.img
truncate -s 128M "$DISK"
phase deploy lab1 golden || { not_ok "setup: the deploy task"; exit 1; }
phase_checks deploy
check "deploy: the disk is byte-identical to the source" cmp "$W/source.orig" "$W/target.img"
check "deploy: every file reads back identical (debugfs, ntfscat)" \
	disk_same_files "$W/src" "$W/target.img"

check "every lease ACKed during both phases is stored with its address" leases_lost "$W"/acks.*
check "pxed stops cleanly" pxed_stop
check "the database passes integrity_check" \
	[ "$(sqlite3 -readonly "$LAB_DIR/state/pxed.db" 'PRAGMA integrity_check' 2>&1)" = ok ]
check "no sanitizer report in any run" pxed_log_clean
tap_failed && for f in "$W"/agent.*.log; do echo "--- $f ---"; tail -25 "$f"; done
lab_finish
