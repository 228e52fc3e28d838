#!/bin/bash
# DHCP through a lost PostgreSQL (state-url; tests/lib/pg.sh): clients with
# leases keep renewing (tests/lib/dora.py --renew) and new clients keep
# coming while PostgreSQL is stopped (pg_ctl stop -m fast) and started
# again.  No ACK seen on the wire without its lease row in PostgreSQL
# covering it (address, MAC, and the lease's end: the REQUEST's second +
# option 51 <= the row's expires); renewals during the outage ACKed from
# memory with a lease time no longer than the stored lease still had (rows
# read just before the stop); new clients not ACKed during the outage and
# ACKed again once it is back, without a restart of pxed; pxectl status
# NOT REACHABLE, then reachable; the outage logged once each way and
# counted.  Then the loop does not wait on the database: with PostgreSQL
# frozen (SIGSTOP of the postmaster and its backends) a TFTP download
# completes and DISCOVERs are answered within a bound, while a new
# client's ACK is held back (its commit cannot happen); after SIGCONT the
# service goes on.  And a PXE DISCOVER registers a host through the
# worker's connection, waiting for approval (host-approval = yes).
LAB_ID=pl$$
source "$(dirname "$0")/../lib/lab.sh"
source "$(dirname "$0")/../lib/api.sh"
source "$(dirname "$0")/../lib/pg.sh"
lab_plan 19
lab_up || exit 1
pg_start || { not_ok "setup: PostgreSQL did not start (tests/lib/pg.sh)"; exit 1; }
LAB_CLEANUPS+=("pg_stop")
LEASE=120
pxed_start --dhcp-range 192.0.2.100,192.0.2.199,$LEASE --state-url "$PG_URL" \
	--host-approval yes || { not_ok "setup: pxed"; exit 1; }
DORA=(in_cli timeout 60 python3 "$(pwd)/tests/lib/dora.py" --iface c0 --lease-times)
# "ADDRESS MAC EXPIRES" of every bound lease row, the address dotted
rows() {
	pg_psql "SELECT (address >> 24) || '.' || ((address >> 16) & 255) || '.' ||
		((address >> 8) & 255) || '.' || (address & 255) || ' ' ||
		encode(mac, 'hex') || ' ' || expires FROM leases WHERE state = 2"
}
# uncovered ACKS ROWS: the ACK lines whose lease the rows do not cover
# (no row for the address, another MAC, or sent + lease past its expires)
uncovered() {
	python3 - "$1" "$2" <<'PY'
import sys
rows = {}
for line in open(sys.argv[2]):
    w = line.split()
    if len(w) == 3:
        rows[w[0]] = (w[1], int(w[2]))
n = 0
for line in open(sys.argv[1]):
    w = line.split()
    if len(w) != 5 or w[0] != "ACK":
        continue
    mac, addr = w[1].replace(":", ""), w[2]
    lease, sent = int(w[3].split("=")[1]), int(w[4].split("=")[1])
    row = rows.get(addr)
    if row is None or row[0] != mac or sent + lease > row[1]:
        print("# %s: row %s" % (line.strip(), row))
        n += 1
print(n)
PY
}
last_line() { tail -n 1 <<<"$1"; }
metric() { in_cli curl -sS "http://$LAB_SRV_IP/metrics" | sed -n "s/^$1 \([0-9]*\)$/\1/p"; }

# A PXE client's DISCOVER registers it as a host (written by the store
# worker, which has its own connection): waiting for approval.
dprobe --iface c0 --to 255.255.255.255:67 --any-xid --wait-ms 1000 --mac 52:54:00:c0:00:01 \
	--vendor PXEClient:Arch:00007:UNDI:003016 --expect-replies 1 >/dev/null ||
	{ not_ok "setup: a PXE DISCOVER"; exit 1; }
for i in $(seq 1 20); do
	seen=$(pg_psql "SELECT approved FROM hosts WHERE mac = '52:54:00:c0:00:01'" 2>&1)
	[ -n "$seen" ] && break
	sleep 0.25
done
check "a PXE client's DISCOVER registers a host waiting for approval (host-approval)" \
	eq "$seen" 0

# Eight clients take leases and renew them for 3 s with the database up.
"${DORA[@]}" --prefix 52:54:00:c1:00 --count 8 --wait-ms 1000 >"$LAB_DIR/first" 2>&1
check "8 clients got leases with PostgreSQL up" [ "$(grep -c '^ACK' "$LAB_DIR/first")" = 8 ]
"${DORA[@]}" --renew "$LAB_DIR/first" --deadline-s 3 --pace-ms 50 --wait-ms 1000 \
	>"$LAB_DIR/renew.up" 2>&1
full=$(grep -c "lease=$LEASE " "$LAB_DIR/renew.up")
check "renewals with PostgreSQL up get the full lease ($full of them)" [ "$full" -ge 8 ]

# The database stops under load: new clients keep coming (from before the
# stop), the renewals go on right after it.  The rows are read just before
# the stop, with no renewal in between: what the outage's ACKs may promise.
"${DORA[@]}" --prefix 52:54:00:c2:00 --count 60 --pace-ms 150 --wait-ms 300 --deadline-s 11 \
	>"$LAB_DIR/new.down" 2>&1 &
new_pid=$!
sleep 1
MARK=$(log_mark)
rows >"$LAB_DIR/rows.before" || { not_ok "setup: psql before the stop"; exit 1; }
pg_down || { not_ok "setup: pg_ctl stop"; exit 1; }
T_STOP=$(($(date +%s) + 1))     # a request sent from this second on was after the stop
"${DORA[@]}" --renew "$LAB_DIR/first" --deadline-s 8 --pace-ms 50 --wait-ms 500 \
	>"$LAB_DIR/renew.down" 2>&1
st=$(ctl status 2>&1)
check "pxectl status while PostgreSQL is down: NOT REACHABLE" has "$st" \
	"state store: postgresql, NOT REACHABLE"
wait "$new_pid"
# the ACK lines of requests sent after the stop
after_stop() { awk -v t="$T_STOP" '$1 == "ACK" { split($5, s, "="); if (s[2] >= t) print }' "$1"; }
after_stop "$LAB_DIR/renew.down" >"$LAB_DIR/renew.outage"
n=$(grep -c '^ACK' "$LAB_DIR/renew.outage")
short=$(grep -vc "lease=$LEASE " "$LAB_DIR/renew.outage")
all_short=no
[ "$n" -ge 8 ] && [ "$short" = "$n" ] && all_short=yes
check "renewals during the outage are ACKed from memory ($n, $short shorter than $LEASE s)" \
	[ "$all_short" = yes ]
bad=$(uncovered "$LAB_DIR/renew.outage" "$LAB_DIR/rows.before")
echo "$bad" | head -n -1
check "every renewal ACKed in the outage ends within the lease stored before it" \
	[ "$(last_line "$bad")" = 0 ]
during=$(after_stop "$LAB_DIR/new.down" | grep -c '^ACK')
before=$(($(grep -c '^ACK' "$LAB_DIR/new.down") - during))
check "no new client ACKed during the outage ($before before the stop)" [ "$during" = 0 ]
check "the outage is logged once when it starts" \
	[ "$(log_since "$MARK" | grep -c 'the state store does not answer: no new leases')" = 1 ]

# The database returns: pxed finds it by itself (backoff), service resumes.
pg_up || { not_ok "setup: pg_ctl start"; exit 1; }
for i in $(seq 1 60); do
	log_since "$MARK" | grep -q "the state store answers again" && break
	sleep 0.5
done
check "pxed logs once that the store answers again (within 30 s, no restart)" \
	[ "$(log_since "$MARK" | grep -c 'the state store answers again')" = 1 ]
"${DORA[@]}" --prefix 52:54:00:c3:00 --count 4 --wait-ms 1000 >"$LAB_DIR/new.up" 2>&1
check "new clients are ACKed again after PostgreSQL is back" \
	[ "$(grep -c '^ACK' "$LAB_DIR/new.up")" = 4 ]
"${DORA[@]}" --renew "$LAB_DIR/first" --deadline-s 2 --pace-ms 50 --wait-ms 1000 \
	>"$LAB_DIR/renew.back" 2>&1
check "renewals get the full lease again" has "$(cat "$LAB_DIR/renew.back")" "lease=$LEASE "
st=$(ctl status 2>&1)
check "pxectl status: reachable again" has "$st" "state store: postgresql, reachable"
outages=$(metric pxed_dhcp_store_outages_total)
renewed=$(metric pxed_dhcp_outage_renewals_total)
counted=no
[ "${outages:-0}" -ge 1 ] && [ "${renewed:-0}" -ge "$n" ] && counted=yes
check "the outage is counted ($outages outage(s), $renewed renewal(s) from memory)" \
	[ "$counted" = yes ]

# Every ACK seen on the wire, before, during and after: its row covers it.
rows >"$LAB_DIR/rows.after" || { not_ok "setup: psql after"; exit 1; }
cat "$LAB_DIR"/first "$LAB_DIR"/renew.* "$LAB_DIR"/new.* >"$LAB_DIR/all"
bad=$(uncovered "$LAB_DIR/all" "$LAB_DIR/rows.after")
echo "$bad" | head -n -1
check "no ACK on the wire without its lease row covering it ($(grep -c '^ACK' "$LAB_DIR/all") ACKs)" \
	[ "$(last_line "$bad")" = 0 ]

# Frozen database: the loop does not wait on it.  A new client's REQUEST
# first, so that a commit waits on the frozen server (the loop of a pxed
# that calls the database itself would be stuck in it from there on); then,
# within the 3 s after which pxed takes a silent store as unreachable (and
# stops offering), a TFTP download and DISCOVERs.
head -c 1048576 /dev/urandom >"$LAB_ROOT/big.bin"
pm=$(head -n 1 "$PG_DIR/data/postmaster.pid")
PG_PIDS="$pm $(ps -o pid= --ppid "$pm" | tr '\n' ' ')"
LAB_CLEANUPS+=("kill -CONT $PG_PIDS 2>/dev/null")
# shellcheck disable=SC2086
kill -STOP $PG_PIDS
"${DORA[@]}" --prefix 52:54:00:c4:00 --count 1 --wait-ms 1000 >"$LAB_DIR/frozen.acks" 2>&1
t0=$(date +%s%N)
in_cli timeout 10 curl -sS -o "$LAB_DIR/big.got" "tftp://$LAB_SRV_IP/big.bin" &
tftp_pid=$!
offers=0
for i in 1 2 3 4; do
	dprobe --iface c0 --to 255.255.255.255:67 --any-xid --wait-ms 1000 \
		--mac "52:54:00:c5:00:0$i" --expect-replies 1 >/dev/null && offers=$((offers + 1))
done
ms=$((($(date +%s%N) - t0) / 1000000))
check "PostgreSQL frozen, a commit waiting: 4 DISCOVERs answered ($offers in $ms ms)" \
	[ "$offers" = 4 ]
wait "$tftp_pid"
ms=$((($(date +%s%N) - t0) / 1000000))
check "PostgreSQL frozen: a 1 MiB TFTP download completes (in $ms ms, 10 s at most)" \
	cmp -s "$LAB_ROOT/big.bin" "$LAB_DIR/big.got"
check "PostgreSQL frozen: the new client's ACK is held back (its lease cannot be committed)" \
	[ "$(grep -c '^ACK' "$LAB_DIR/frozen.acks")" = 0 ]
# shellcheck disable=SC2086
kill -CONT $PG_PIDS
got=0
for i in $(seq 1 20); do
	"${DORA[@]}" --prefix "52:54:00:c6:$(printf %02x "$i")" --count 1 --wait-ms 1000 \
		>"$LAB_DIR/thawed" 2>&1
	grep -q '^ACK' "$LAB_DIR/thawed" && { got=1; break; }
	sleep 0.5
done
check "after SIGCONT a new client is ACKed again" [ "$got" = 1 ]
pxed_stop
check "pxed stops cleanly, no sanitizer report" pxed_log_clean
lab_finish
