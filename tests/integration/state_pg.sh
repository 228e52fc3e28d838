#!/bin/bash
# pxed with its state in PostgreSQL (state-url): a real PostgreSQL 15
# (tests/lib/pg.sh: initdb + pg_ctl as nobody in a temporary directory,
# unix socket only).  A lease ACKed to busybox udhcpc and a host added
# through the API are rows in PostgreSQL (psql reads them, no pxed.db is
# made); pxed restarted on the same database still has both; pxectl status
# names the engine and whether it answers, also while the server is down;
# two pxed started at once on one new database both migrate it, each
# version once.
LAB_ID=pg$$
source "$(dirname "$0")/../lib/lab.sh"
source "$(dirname "$0")/../lib/api.sh"
source "$(dirname "$0")/../lib/pg.sh"
lab_plan 16
lab_up || exit 1
pg_start || { not_ok "setup: PostgreSQL did not start (tests/lib/pg.sh)"; exit 1; }
LAB_CLEANUPS+=("pg_stop")

cat >"$LAB_DIR/udhcpc.sh" <<'SCRIPT'
#!/bin/sh
[ "$1" = bound ] || exit 0
echo "ip=$ip" >"$OUT"
exit 0
SCRIPT
chmod +x "$LAB_DIR/udhcpc.sh"
MAC=52:54:00:00:00:51
HOST=52:54:00:00:00:52
RANGE=(--dhcp-range 192.0.2.100,192.0.2.150,1h --state-url "$PG_URL")

pxed_start "${RANGE[@]}" || exit 1
ip -n "$LAB_CLI" link set c0 address $MAC
in_cli env OUT="$LAB_DIR/u1" timeout 20 busybox udhcpc -i c0 -n -q -f -t 4 -T 2 \
	-s "$LAB_DIR/udhcpc.sh" >>"$LAB_DIR/udhcpc.log" 2>&1
ADDR=$(sed -n 's/^ip=//p' "$LAB_DIR/u1" 2>/dev/null)
case "$ADDR" in 192.0.2.1[0-4][0-9] | 192.0.2.150) ;; *)
	not_ok "setup: udhcpc got no address from the pool ('$ADDR')"; exit 1 ;;
esac
IFS=. read -r a b c d <<<"$ADDR"
ADDR_INT=$(((a << 24) | (b << 16) | (c << 8) | d))
ctl host add $HOST pg-host >/dev/null || { not_ok "setup: pxectl host add"; exit 1; }

rows=$(pg_psql "SELECT count(*) FROM leases WHERE address = $ADDR_INT AND state = 2" 2>&1)
check "the ACKed lease ($ADDR) is a bound row in PostgreSQL (psql)" eq "$rows" 1
rows=$(pg_psql "SELECT name FROM hosts WHERE mac = '$HOST'" 2>&1)
check "the host added through the API is a row in PostgreSQL (psql)" eq "$rows" pg-host
check "no SQLite database in state-dir" [ ! -e "$LAB_DIR/state/pxed.db" ]
st=$(ctl status 2>&1)
check "pxectl status: the store is PostgreSQL and answers" has "$st" "state store: postgresql, reachable"

pxed_stop || { not_ok "setup: pxed did not stop cleanly"; exit 1; }
pxed_start "${RANGE[@]}" || exit 1
leases=$(in_cli timeout 10 curl -sS -H "$(lab_auth)" "$URL/api/v1/leases" 2>&1)
check "after a restart the lease is there ($ADDR, $MAC)" has "$leases" "\"$ADDR\""
name=$(json "/api/v1/hosts/$HOST" '["name"]' 2>&1)
check "after a restart the host is there" eq "$name" pg-host
in_cli env OUT="$LAB_DIR/u2" timeout 20 busybox udhcpc -i c0 -n -q -f -t 4 -T 2 \
	-s "$LAB_DIR/udhcpc.sh" >>"$LAB_DIR/udhcpc.log" 2>&1
check "the client gets its address again" same_value "$ADDR" "$(sed -n 's/^ip=//p' "$LAB_DIR/u2")"

# The database goes away: status says so; it comes back: status too
# (the API thread's connection is made again after its backoff, 1 s).
pg_down || { not_ok "setup: pg_ctl stop"; exit 1; }
st=$(ctl status 2>&1)
check "pxectl status while PostgreSQL is down: not reachable" has "$st" \
	"state store: postgresql, NOT REACHABLE"
pg_up || { not_ok "setup: pg_ctl start"; exit 1; }
for i in $(seq 1 40); do
	st=$(ctl status 2>&1)
	grep -q "state store: postgresql, reachable" <<<"$st" && break
	sleep 0.5
done
check "pxectl status after PostgreSQL is back: reachable (within 20 s)" has "$st" \
	"state store: postgresql, reachable"
pxed_stop
check "pxed stops cleanly (exit 0)" [ $? -eq 0 ]

# Two servers start at once on one new database (each in a namespace of
# its own, DHCP off): both migrate it or wait for the other, and every
# schema version is there once.
pg_psql "CREATE DATABASE pxed2" >/dev/null || { not_ok "setup: createdb pxed2"; exit 1; }
URL2="postgresql://pxed@/pxed2?host=$PG_DIR"
pids=()
for n in 1 2; do
	lab_netns "pxn$n-$LAB_ID" || exit 1
	mkdir -p "$LAB_DIR/s$n"
	ip netns exec "pxn$n-$LAB_ID" "$PXED" --foreground --root "$LAB_ROOT" --listen 127.0.0.1 \
		--state-dir "$LAB_DIR/s$n" --state-url "$URL2" --tftp-port 0 --http-port 8080 \
		>"$LAB_DIR/p$n.log" 2>&1 &
	pids+=($!)
	LAB_PIDS+=($!)
done
both_serving() { grep -q "serving" "$LAB_DIR/p1.log" && grep -q "serving" "$LAB_DIR/p2.log"; }
for i in $(seq 1 100); do
	both_serving && break
	sleep 0.1
done
check "both servers started on the new database" both_serving
reconciled() { grep -q "catalogue reconciled" "$LAB_DIR/p$1.log"; }
check "server 1 opened the store (image catalogue reconciled)" reconciled 1
check "server 2 opened the store (image catalogue reconciled)" reconciled 2
# the latest version: the first database's, migrated by one server alone
latest=$(pg_psql "SELECT max(version) FROM schema_version" 2>/dev/null)
migrated=$(cat "$LAB_DIR/p1.log" "$LAB_DIR/p2.log" | grep -c "schema migrated to version")
check "one server migrated, the other waited and found it done" eq "$migrated" "$latest"
psql2() { "$PG_BIN/psql" -h "$PG_DIR" -U pxed -d pxed2 -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
versions=$(psql2 "SELECT count(*) || ' ' || count(DISTINCT version) || ' ' || max(version)
	FROM schema_version" 2>&1)
check "every schema version once (rows, distinct, latest: $versions)" \
	eq "$versions" "$latest $latest $latest"
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${pids[@]}"; do timeout 20 tail --pid="$p" -f /dev/null; done
cat "$LAB_DIR/p1.log" "$LAB_DIR/p2.log" >>"$LAB_DIR/pxed.log"
check "no sanitizer report" pxed_log_clean
lab_finish
