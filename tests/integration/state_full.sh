#!/bin/bash
# The state directory on a full filesystem (a small tmpfs): a lease that
# cannot be stored is not ACKed (no answer: the client asks again), the
# failure is logged once rather than per request, leases already given are
# still served, and when space returns pxed stores and ACKs again by itself
# and says so once; the database passes SQLite's integrity_check.
LAB_ID=sf$$
source "$(dirname "$0")/../lib/lab.sh"
lab_plan 11
lab_up || exit 1
command -v sqlite3 >/dev/null || { not_ok "setup: sqlite3 is not installed"; exit 1; }
STATE=$LAB_DIR/state
mkdir -p "$STATE" && mount -t tmpfs -o size=4m,mode=0755 tmpfs "$STATE" ||
	{ not_ok "setup: a 4 MiB tmpfs for the state directory"; exit 1; }
LAB_CLEANUPS+=("umount -l '$STATE'")
pxed_start --dhcp-range 192.0.2.100,192.0.2.199,1h || { not_ok "setup: pxed"; exit 1; }

# dora MAC XID: DISCOVER, then REQUEST of the address offered; sets OFFERED
# and ACK_TYPE (ACK, NAK or empty: no answer)
dora() {
	OFFERED= ACK_TYPE=
	dprobe --iface c0 --to 255.255.255.255:67 --any-xid --wait-ms 700 --mac "$1" \
		--xid "$2" >/dev/null
	OFFERED=$(rfield "$(reply_from $LAB_SRV_IP)" yiaddr)
	[ -n "$OFFERED" ] || return 0
	dprobe --iface c0 --to 255.255.255.255:67 --any-xid --wait-ms 700 --mac "$1" \
		--xid "$2" --type request --requested "$OFFERED" --server-id $LAB_SRV_IP >/dev/null
	ACK_TYPE=$(rfield "$(reply_from $LAB_SRV_IP)" type)
}
lease_rows() { sqlite3 -readonly "$STATE/pxed.db" "SELECT count(*) FROM leases WHERE mac = X'$(tr -d : <<<"$1")'" 2>/dev/null; }

dora 52:54:00:00:05:01 0e000001
check "before the disk fills: a lease ($OFFERED) is ACKed" [ "$ACK_TYPE" = ACK ]
FIRST=$OFFERED

# Fill the filesystem to the last block, then write leases until the store
# meets it (the WAL may have room for a few commits of its own).
dd if=/dev/zero of="$STATE/filler" bs=4k 2>/dev/null
sync
MARK=$(log_mark)
got=none
for i in $(seq 10 40); do
	dora "52:54:00:00:05:$i" "0e0000$i"
	[ "$ACK_TYPE" = ACK ] && continue
	got="$i $OFFERED ${ACK_TYPE:-no answer}"
	break
done
FULL_MAC=52:54:00:00:05:${got%% *}
check "disk full: a new lease is offered but not ACKed ($got)" [ "${got##* }" = answer ]
for i in 1 2 3 4 5; do
	dprobe --iface c0 --to 255.255.255.255:67 --any-xid --wait-ms 300 --mac "$FULL_MAC" \
		--xid 0f00000$i --type request --requested "$OFFERED" --server-id $LAB_SRV_IP >/dev/null
done
check "disk full: five more REQUESTs, still no ACK" [ -z "$(reply_from $LAB_SRV_IP)" ]
nlines=$(log_since "$MARK" | grep -c "not stored\|commit failed")
check "the failure is logged once, not per request ($nlines line(s))" [ "$nlines" -eq 1 ]
check "pxed serves on: a DISCOVER is still answered" \
	dprobe --iface c0 --to 255.255.255.255:67 --any-xid --wait-ms 700 --mac 52:54:00:00:05:02 \
	--expect-replies 1

# Space returns: the same client's REQUEST is stored and ACKed
rm -f "$STATE/filler"
sync
ack=
for i in 1 2 3 4 5; do
	dprobe --iface c0 --to 255.255.255.255:67 --any-xid --wait-ms 700 --mac "$FULL_MAC" \
		--xid 0f10000$i --type request --requested "$OFFERED" --server-id $LAB_SRV_IP >/dev/null
	ack=$(rfield "$(reply_from $LAB_SRV_IP)" type)
	[ "$ack" = ACK ] && break
	sleep 1
done
check "space back: the REQUEST is ACKed ($ack)" [ "$ack" = ACK ]
check "pxed says once that the store takes writes again" wait_log "lease store takes writes again" 5
check "the lease ACKed after the disk was full is stored" [ "$(lease_rows "$FULL_MAC")" = 1 ]
check "the lease ACKed before is stored ($FIRST)" [ "$(lease_rows 52:54:00:00:05:01)" = 1 ]
check "pxed stops cleanly" pxed_stop
check "the database passes integrity_check" \
	[ "$(sqlite3 -readonly "$STATE/pxed.db" 'PRAGMA integrity_check' 2>&1)" = ok ]
