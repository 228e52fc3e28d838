#!/bin/bash
# A reload does not wait on the database on the event loop (pxed/reload.h):
# its store reads (the subnets changed with pxectl, the stored leases) run
# on a thread of their own.  PostgreSQL (tests/lib/pg.sh) is frozen
# (SIGSTOP of the postmaster and its backends), the config file's range
# changed and pxed sent SIGHUP three times: DISCOVERs are still answered,
# from the running range, and a 1 MiB TFTP download completes while the
# reload waits; after SIGCONT the reload completes (the three asks made
# two rounds: one under way, one coalesced) and new clients get the new
# range.  Frozen past the reload's bound (10 s), pxectl reload fails with
# the reason, the log names it, and after SIGCONT the old range still
# serves (the late reads are dropped, not applied); with PostgreSQL up,
# pxectl reload applies it.  SIGTERM with a reload's reads stuck in the
# frozen database: pxed exits, the reader left behind.
LAB_ID=pr$$
source "$(dirname "$0")/../lib/lab.sh"
source "$(dirname "$0")/../lib/api.sh"
source "$(dirname "$0")/../lib/pg.sh"
lab_plan 18
lab_up || exit 1
pg_start || { not_ok "setup: PostgreSQL did not start (tests/lib/pg.sh)"; exit 1; }
LAB_CLEANUPS+=("pg_stop")
make_file big.bin 1048576
CONF=$LAB_DIR/pxed.conf
write_range() { printf '[subnet 192.0.2.0/24]\nrange = %s\n' "$1" >"$CONF"; }
write_range "192.0.2.100 192.0.2.119"
pxed_start --config "$CONF" --state-url "$PG_URL" || { not_ok "setup: pxed"; exit 1; }
pm=$(head -n 1 "$PG_DIR/data/postmaster.pid")
PG_PIDS="$pm $(ps -o pid= --ppid "$pm" | tr '\n' ' ')"
LAB_CLEANUPS+=("kill -CONT $PG_PIDS 2>/dev/null")
# shellcheck disable=SC2086
freeze() { kill -STOP $PG_PIDS; }
# shellcheck disable=SC2086
thaw() { kill -CONT $PG_PIDS; }
# offered_in MAC LOW HIGH: a DISCOVER from MAC is offered an address whose
# last byte is in LOW..HIGH
offered_in() {
	dprobe --iface c0 --to 255.255.255.255:67 --any-xid --wait-ms 1500 --mac "$1" \
		--expect-replies 1
	local y
	y=$(rfield "$(reply_from $LAB_SRV_IP)" yiaddr)
	echo "# offered ${y:-nothing}"
	[ -n "$y" ] && [ "${y##*.}" -ge "$2" ] && [ "${y##*.}" -le "$3" ]
}
since_has() { log_since "$1" | grep -qE -- "$2"; }
since_count() { log_since "$1" | grep -cE -- "$2"; }
DONE_RE="configuration reloaded|reload refused"

check "before: a DISCOVER is offered from the file's range (.100-.119)" \
	offered_in 52:54:00:d0:00:01 100 119

# Frozen database, three SIGHUPs: the first round's reads wait on it, the
# next two asks are coalesced into one more round.
write_range "192.0.2.120 192.0.2.139"
freeze
MARK=$(log_mark)
kill -HUP "$PXED_PID"
sleep 0.2
kill -HUP "$PXED_PID"
kill -HUP "$PXED_PID"
t0=$(date +%s%N)
in_cli timeout 10 curl -sS -o "$LAB_DIR/big.got" "tftp://$LAB_SRV_IP/big.bin" &
tftp_pid=$!
check "reload pending on a frozen PostgreSQL: a DISCOVER is answered, from the running range" \
	offered_in 52:54:00:d0:00:02 100 119
ms=$((($(date +%s%N) - t0) / 1000000))
echo "# answered within $ms ms of the SIGHUPs"
wait "$tftp_pid"
ms=$((($(date +%s%N) - t0) / 1000000))
check "reload pending on a frozen PostgreSQL: a 1 MiB TFTP download completes (in $ms ms)" \
	cmp -s "$LAB_ROOT/big.bin" "$LAB_DIR/big.got"
pending=yes
since_has "$MARK" "$DONE_RE" && pending=no
check "the reload is still pending while PostgreSQL is frozen" [ "$pending" = yes ]
sleep 1
thaw
wait_log "configuration reloaded" 10 "$MARK"
sleep 2         # the coalesced round, and no third one
rounds=$(since_count "$MARK" "$DONE_RE")
check "after SIGCONT: three SIGHUPs made two rounds, both reloaded ($rounds)" \
	[ "$(since_count "$MARK" "configuration reloaded")" = 2 ]
check "after SIGCONT the reload's new range (.120-.139) is offered" \
	offered_in 52:54:00:d0:00:03 120 139

# Frozen past the bound: pxectl reload fails as a whole, with its reason.
write_range "192.0.2.140 192.0.2.159"
ctl status >/dev/null 2>&1      # the API thread's own connection, made before the freeze
freeze
MARK=$(log_mark)
t0=$(date +%s%N)
out=$(ctl reload 2>&1)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
echo "# pxectl reload: exit $rc after $ms ms: $out"
check "PostgreSQL frozen past the bound: pxectl reload fails (exit $rc after $ms ms)" \
	[ "$rc" -ne 0 ]
check "pxectl reload names why: the store did not answer the reads in time" \
	has "$out" "did not answer the reload's reads"
check "the log names the refusal and why" \
	since_has "$MARK" "reload refused, keeping the running configuration: the state store did not answer"
check "PostgreSQL still frozen: a DISCOVER is answered, from the running range (.120-.139)" \
	offered_in 52:54:00:d0:00:04 120 139
thaw
wait_log "answered a failed reload's reads at last: dropped" 10 "$MARK"
check "after SIGCONT the failed reload's late reads are dropped (logged)" \
	since_has "$MARK" "answered a failed reload's reads at last: dropped"
check "the failed reload was not applied: the running range (.120-.139) is offered" \
	offered_in 52:54:00:d0:00:05 120 139
out=$(ctl reload 2>&1)
check "PostgreSQL up: pxectl reload succeeds" has "$out" "configuration reloaded"
check "the reloaded range (.140-.159) is offered" offered_in 52:54:00:d0:00:06 140 159
check "pxed so far: no sanitizer report" pxed_log_clean

# SIGTERM with a reload's reads stuck in a frozen PostgreSQL: pxed stops
# (the reader is waited for 2 s, then left behind; the store worker 10 s
# for its writes, the heartbeat thread 2 s).
freeze
MARK=$(log_mark)
kill -HUP "$PXED_PID"
sleep 0.5
t0=$(date +%s%N)
kill -TERM "$PXED_PID"
for i in $(seq 1 250); do
	kill -0 "$PXED_PID" 2>/dev/null || break
	sleep 0.1
done
ms=$((($(date +%s%N) - t0) / 1000000))
gone=yes
kill -0 "$PXED_PID" 2>/dev/null && gone=no
thaw            # a pxed still waiting on the database goes on from here
wait "$PXED_PID"
rc=$?
stopped_in_time() { [ "$gone" = yes ] && [ "$rc" = 0 ]; }
check "SIGTERM with a reload's reads stuck: pxed exits 0 within 25 s (gone: $gone after $ms ms)" \
	stopped_in_time
check "... the reload's reader is named as left behind" \
	since_has "$MARK" "the store reader did not finish within 2000 ms"
check "... and no sanitizer report at that stop" pxed_log_clean
lab_finish
