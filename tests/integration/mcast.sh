#!/bin/bash
# Multicast deploy, pxe-agent on disk files (no VM) in receiver namespaces
# on one bridge with pxed: three receivers get byte-identical disks, one of
# them joining late, one behind a link that drops 5% of the multicast, one
# killed halfway and started again; a second session on another group at
# the same time does not mix; forged packets (another session's id, and
# this session's id with garbage) are ignored or caught by the chunk
# hashes.  The session is slowed to 40 Mbit/s so that it lasts a few
# seconds per pass.  Then a session with forward error correction (16,2)
# to a fifth receiver behind the same 5% loss: a byte-identical disk, lost
# slices rebuilt from parity, and fewer repairs than receiver 2 needed
# without FEC.  Last, an early receiver waits longer than its 10 s silence
# limit for a session that has not started (the session announces itself).
LAB_ID=${LAB_ID:-mc$$}
source "$(dirname "$0")/../lib/lab.sh"
source "$(dirname "$0")/../lib/disk.sh"
source "$(dirname "$0")/../lib/api.sh"
lab_plan 48

AGENT=${PXE_AGENT:-build/asan/pxe-agent}
lab_up || { echo "not ok - lab_up"; exit 1; }
W=$LAB_DIR/work
mkdir -p "$W"
# mcast_show_done NAME: pxectl mcast show NAME, once it says finished (5 s at most)
mcast_show_done() {
	local out
	for _ in $(seq 1 50); do
		out=$(ctl mcast show "$1")
		grep -q finished <<<"$out" && break
		sleep 0.1
	done
	echo "$out"
}
# agent NS TOKEN TASK DISK LOG: pxe-agent in namespace NS, in the background
agent_bg() {
	ip netns exec "$1" timeout 300 "$AGENT" --server "$URL" --token "$2" --task "$3" \
		--disk "$4" --retry-for 60 >"$5" 2>&1 &
	LAB_PIDS+=("$!")
}

# --- two images: capture two source disks over HTTP ------------------------
for n in 1 2; do
	mkdir -p "$W/src$n/etc"
	head -c $((12000000 + n * 1000000)) /dev/urandom >"$W/src$n/blob.bin"
	seq 1 $((50000 * n)) >"$W/src$n/numbers.txt"
	echo "image $n" >"$W/src$n/etc/motd"
	disk_make "$W/src$n" "$W/source$n.img" 128 || { not_ok "source disk $n"; lab_finish; }
done
lab_bridge || { not_ok "bridge"; lab_finish; }
pxed_start --mcast-rate-mbit 40 --mcast-min-rate-mbit 8 || exit 1
ctl host add 52:54:00:cc:00:01 capturer >/dev/null
for n in 1 2; do
	ctl task capture capturer "image$n" >/dev/null
	tok=$(token_of 52:54:00:cc:00:01)
	in_cli timeout 120 "$AGENT" --server "$URL" --token "$tok" --task "$(task_of 52:54:00:cc:00:01)" \
		--disk "$W/source$n.img" >"$W/capture$n.log" 2>&1
	check "image$n captured" [ $? -eq 0 ]
done

NCHUNKS1=$(json /api/v1/images/image1 '["chunks"]')
check "image1 has chunks ($NCHUNKS1)" [ "${NCHUNKS1:-0}" -gt 0 ]

# --- receivers on the segment ---------------------------------------------------
for i in 1 2 3 4 5; do
	lab_attach "pxr$i-$LAB_ID" r0 "192.0.2.1$i/24" || { not_ok "receiver namespace $i"; lab_finish; }
	out=$(ctl host add "52:54:00:cc:01:0$i" "rx$i")
	check "host rx$i added" has "$out" "name      rx$i"
	truncate -s 128M "$W/rx$i.img"
done
# receivers 2 and 5 lose 5% of the multicast on the way in
for i in 2 5; do
	ip netns exec "pxr$i-$LAB_ID" nft -f - <<'NFT' || { not_ok "setup: nftables loss rule ($i)"; exit 1; }
table inet loss {
	chain input_loss {
		type filter hook input priority 0;
		udp dport 9000 numgen random mod 100 < 5 drop
	}
}
NFT
done

out=$(ctl task deploy --multicast room1 --min-receivers 2 --start-after 20 image1 rx1 rx2 rx3)
check "pxectl task deploy --multicast: session room1 waiting" has "$out" "session room1: image image1, waiting"
out=$(ctl task deploy --multicast room2 --min-receivers 1 image2 rx4)
check "a second session (room2) on another group" has "$out" "group 239.255.42.2"

for i in 1 2 4; do
	agent_bg "pxr$i-$LAB_ID" "$(token_of 52:54:00:cc:01:0$i "pxr$i-$LAB_ID")" "$(task_of 52:54:00:cc:01:0$i)" \
		"$W/rx$i.img" "$W/rx$i.log"
	eval "A$i=\$!"
done

sleep 2
check "room1 started with two receivers" has "$(ctl mcast show room1)" "sending"

# --- forged packets while room1 runs: learn the session id from the group,
# then send DATA with another id and garbage DATA with the right one
ip netns exec "pxr4-$LAB_ID" python3 - >"$W/forge.log" 2>&1 <<'PY' &
import socket, struct, time
g, port = "239.255.42.1", 9000
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
r.bind((g, port))
r.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             socket.inet_aton(g) + socket.inet_aton("192.0.2.14"))
r.settimeout(10)
pkt = r.recv(10000)
sid = pkt[8:16]
chunk, flen, off, pss, total = struct.unpack(">IIIHI", pkt[24:42])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("192.0.2.14"))
sent = 0
for i in range(400):
    c = i % total
    for session in (b"\x01" * 8, sid):
        body = struct.pack(">IIIHI", c, 1400 * 4, 1400 * (i % 4), pss, total) + b"\xee" * 1400
        hdr = b"PXMC" + bytes([1, 1]) + struct.pack(">H", len(body)) + session + b"\0" * 8
        s.sendto(hdr + body, (g, port))
        sent += 1
    time.sleep(0.005)
print("forged", sent, "packets; session id", sid.hex())
PY
FORGER=$!
LAB_PIDS+=("$FORGER")

# --- receiver 1 killed halfway and started again -----------------------------------
sleep 1
kill -9 "$A1" 2>/dev/null
pkill -9 -f "pxe-agent .*rx1.img" 2>/dev/null
sleep 1
agent_bg "pxr1-$LAB_ID" "$(token_of 52:54:00:cc:01:01 "pxr1-$LAB_ID")" "$(task_of 52:54:00:cc:01:01)" \
	"$W/rx1.img" "$W/rx1.log"
A1=$!
# the late joiner
agent_bg "pxr3-$LAB_ID" "$(token_of 52:54:00:cc:01:03 "pxr3-$LAB_ID")" "$(task_of 52:54:00:cc:01:03)" \
	"$W/rx3.img" "$W/rx3.log"
A3=$!
wait "$FORGER"
grep -q "^forged" "$W/forge.log" || { not_ok "setup: the forger sent nothing: $(tail -1 "$W/forge.log")"; exit 1; }
echo "# $(tail -1 "$W/forge.log")"
for i in 1 2 3 4; do
	eval "wait \$A$i"
	rc=$?
	check "receiver $i: pxe-agent exit 0 ($rc)" [ $rc -eq 0 ]
done
for i in 1 2 3; do
	check "receiver $i: partition tables identical" disk_tables_equal "$W/source1.img" "$W/rx$i.img"
	check "receiver $i: every file identical" disk_same_files "$W/src1" "$W/rx$i.img"
	n=$(sed -n 's/.* \([0-9]*\) chunks (.*came by multicast.*/\1/p' "$W/rx$i.log" | tail -1)
	check "receiver $i: chunks came by multicast (${n:-0})" [ "${n:-0}" -gt 0 ]
done
check "receiver 2 (5% loss) got every chunk by multicast (repairs)" \
	grep -q "every chunk received; $NCHUNKS1 chunks" "$W/rx2.log"
check "receiver 3 (late) got every chunk by multicast" \
	grep -q "every chunk received; $NCHUNKS1 chunks" "$W/rx3.log"
check "room2's receiver got image2, not image1" disk_same_files "$W/src2" "$W/rx4.img"
out=$(mcast_show_done room1)
echo "$out" | sed 's/^/# /'
check "room1 finished" has "$out" "finished"
check "room1 without FEC (mcast-fec off): no parity sent" has "$out" "FEC off (0 parity)"

# --- forward error correction: room3, 16,2, one receiver behind 5% loss ---------
out=$(ctl task deploy --multicast room3 --fec 4,5 image1 rx5 2>&1)
check "a session's FEC 4,5 is refused (M > K)" has "$out" "fec:"
out=$(ctl task deploy --multicast room3 --fec 16,2 --min-receivers 1 image1 rx5)
check "room3 created with FEC 16,2" has "$out" "FEC 16,2"
agent_bg "pxr5-$LAB_ID" "$(token_of 52:54:00:cc:01:05 "pxr5-$LAB_ID")" "$(task_of 52:54:00:cc:01:05)" \
	"$W/rx5.img" "$W/rx5.log"
wait "$!"
rc=$?
check "receiver 5 (FEC): pxe-agent exit 0 ($rc)" [ $rc -eq 0 ]
check "receiver 5 (FEC): partition tables identical" disk_tables_equal "$W/source1.img" "$W/rx5.img"
check "receiver 5 (FEC): every file identical" disk_same_files "$W/src1" "$W/rx5.img"
check "receiver 5 (FEC) got every chunk by multicast" \
	grep -q "every chunk received; $NCHUNKS1 chunks" "$W/rx5.log"
# "...; N slices rebuilt by FEC, R came as repairs"
rebuilt=$(sed -n 's/.* \([0-9]*\) slices rebuilt by FEC.*/\1/p' "$W/rx5.log" | tail -1)
rep5=$(sed -n 's/.*, \([0-9]*\) came as repairs.*/\1/p' "$W/rx5.log" | tail -1)
rep2=$(sed -n 's/.*, \([0-9]*\) came as repairs.*/\1/p' "$W/rx2.log" | tail -1)
check "receiver 5: slices rebuilt from parity (${rebuilt:-none})" [ "${rebuilt:-0}" -gt 0 ]
fewer() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" -lt "$2" ]; }
check "receiver 5 needed fewer repairs with FEC (${rep5:-?}) than receiver 2 without (${rep2:-?})" \
	fewer "$rep5" "$rep2"
out=$(mcast_show_done room3)
echo "$out" | sed 's/^/# /'
check "room3 finished, parity sent" grep -qE "finished.*FEC 16,2 \([1-9][0-9]* parity\)" <<<"$out"

# --- an early machine waits for the rest (longer than the receivers' 10 s
# silence limit): the waiting session keeps it, and both get image2 by
# multicast
for i in 1 4; do truncate -s 0 "$W/rx$i.img"; truncate -s 128M "$W/rx$i.img"; done
out=$(ctl task deploy --multicast room4 --min-receivers 2 --start-after 60 image2 rx1 rx4)
check "room4 waiting for two receivers" has "$out" "session room4: image image2, waiting"
agent_bg "pxr1-$LAB_ID" "$(token_of 52:54:00:cc:01:01 "pxr1-$LAB_ID")" "$(task_of 52:54:00:cc:01:01)" \
	"$W/rx1.img" "$W/rx1-room4.log"
A1=$!
sleep 13
check "room4 still waiting, its first receiver still in it" \
	bash -c "kill -0 $A1 && grep -q waiting <<<'$(ctl mcast show room4)'"
agent_bg "pxr4-$LAB_ID" "$(token_of 52:54:00:cc:01:04 "pxr4-$LAB_ID")" "$(task_of 52:54:00:cc:01:04)" \
	"$W/rx4.img" "$W/rx4-room4.log"
A4=$!
for i in 1 4; do
	eval "wait \$A$i"
	rc=$?
	check "room4 receiver rx$i: pxe-agent exit 0 ($rc)" [ $rc -eq 0 ]
	check "room4 receiver rx$i: every chunk by multicast" \
		grep -q "every chunk received" "$W/rx$i-room4.log"
	check "room4 receiver rx$i: image2's files" disk_same_files "$W/src2" "$W/rx$i.img"
done
pxed_stop
check "pxed stopped cleanly" [ $? -eq 0 ]
check "no sanitizer report" pxed_log_clean
for f in "$W"/rx*.log; do grep -h "multicast:" "$f" | sed "s|^|# $(basename "$f"): |"; done
lab_finish
