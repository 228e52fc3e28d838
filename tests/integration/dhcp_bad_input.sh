#!/bin/bash
# pxed's DHCP ports (67, 4011) against bad input and RFC corner cases, on
# the wire with dhcp-probe: malformed messages get no answer and pxed keeps
# serving; a flood of random datagrams and valid DISCOVERs/4011 REQUESTs,
# then a real udhcpc still gets a lease and RSS stays bounded; INFORM,
# SELECTING another server, RELEASE, option 57 = 576, the parameter request
# list order, client identifiers (61) as the lease key and echoed.
cd "$(dirname "$0")/../.." || exit 1
LAB_ID=db$$
source tests/lib/lab.sh
lab_plan 81
lab_up || exit 1
make_file undionly.kpxe 70000
make_file snponly.efi 90000
LONG=boot/$(printf 'x%.0s' $(seq 1 105)).efi   # a 114-byte boot file name (config items: < 128)
make_file "$LONG" 1000
# RSS bound (KiB): ASan pxed starts near 20 MiB; the flood must not add much.
# What is measured is memory held, not memory churned: ASan keeps freed
# blocks in a quarantine of up to 256 MiB by default, which churn fills
# (the boot events' INSERT ... RETURNING id built a temporary table in
# SQLite per row: the flood took the default quarantine from 35 to 263 MiB;
# 34 to 49 MiB since the id comes from db_last_id), so the quarantine is
# bounded at 16 MiB here and the RSS bound sees growth.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
RSS_MAX_KB=${RSS_MAX_KB:-131072}
BIG_HOST=52:54:00:00:03:99          # gets a hostname and the long boot file

cat >"$LAB_DIR/pxed.conf" <<EOF
[host $BIG_HOST]
hostname = $(printf 'h%.0s' $(seq 1 60))
boot = bios $LONG
EOF
# The pool leaves room for the flood below: its 50 DISCOVERing MACs and the
# garbage DISCOVERs that parse (random tails, about 1 in 80: 25 +- 5 of 2000)
# take offers held 60 s, and the starvation guard serves no new client once
# dhcp-pool-reserve (10%) is all that is free -- with 100 addresses the
# client-id checks at the end were refused now and then.
pxed_start --config "$LAB_DIR/pxed.conf" --dhcp-range 192.0.2.100,192.0.2.254,1h \
	--dhcp-router 192.0.2.1 --dhcp-dns 192.0.2.53 --dhcp-domain lab.example \
	--dhcp-host id:ff:aa:bb:cc:dd:ee:01,192.0.2.77,by-id \
	--boot bios=undionly.kpxe --boot efi64=snponly.efi || exit 1
CLI=$LAB_CLI_IP
PXE=(--vendor PXEClient:Arch:00000:UNDI:002001 --arch 0)
len_le() { [ -n "$1" ] && [ "$(rfield "$1" len)" -le "$2" ]; }
in_pool() { case "$1" in 192.0.2.1[0-9][0-9] | 192.0.2.2[0-4][0-9] | 192.0.2.25[0-4]) return 0 ;; esac; return 1; }

# on67 / on4011 ARGS...: one message to 67 (broadcast) or 4011 (unicast
# from 192.0.2.2:68, ciaddr set); every datagram coming back counts.
on67() { dprobe --iface c0 --to 255.255.255.255:67 --any-xid --wait-ms 700 "$@"; }
on4011() {
	dprobe --bind $CLI:68 --to $LAB_SRV_IP:4011 --any-xid --wait-ms 700 --type request \
		--ciaddr $CLI "$@"
}
serving() {      # a valid PXE DISCOVER and a valid 4011 REQUEST are answered
	on67 --mac 52:54:00:00:03:01 "${PXE[@]}" --expect-replies 1 >/dev/null &&
		on4011 --mac 52:54:00:00:03:01 "${PXE[@]}" --expect-replies 1 >/dev/null
}
check "baseline: pxed answers a PXE DISCOVER on 67 and a REQUEST on 4011" serving

# --- malformed messages: silence on both ports ---
# Each is a PXE DISCOVER (67) / REQUEST (4011) pxed would answer, damaged.
BAD=(        # "what|dhcp-probe arguments"
	"short (100 bytes)|--cut 100"
	"header only (236 bytes)|--cut 236"
	"op 3|--poke 0=03"
	"op BOOTREPLY|--poke 0=02"
	"hlen 17|--poke 2=11"
	"truncated option (60 says 32 bytes, 3 follow)|--no-end --raw 3c20414243"
	"option length past the end|--no-end --raw 3dff01"
	"overload value 7|--opt 52=07"
	"overload twice|--opt 52=01 --opt 52=02"
	"overload into a file area holding a truncated option|--opt 52=01 --poke 234=3c50"
	"overload into an sname area holding a truncated option|--opt 52=02 --poke 106=0c40"
	"no message type (BOOTP)|--type none"
	"message type 9|--type none --opt 53=09"
	"message type 0|--type none --opt 53=00"
	"message type of 2 bytes|--type none --opt 53=0101"
	"no magic cookie|--poke 236=00000000"
)
for item in "${BAD[@]}"; do
	what=${item%%|*}
	read -ra args <<<"${item#*|}"
	on67 --mac 52:54:00:00:03:02 "${PXE[@]}" "${args[@]}" --expect-replies 0 >/dev/null
	check "67: $what: no answer" [ "$PROBE_RC" -eq 0 ]
	on4011 --mac 52:54:00:00:03:02 "${PXE[@]}" "${args[@]}" --expect-replies 0 >/dev/null
	check "4011: $what: no answer" [ "$PROBE_RC" -eq 0 ]
done
in_cli timeout 10 "$UDP_PROBE" --to $LAB_SRV_IP:67 --bind $CLI:68 --random 1600-4000 \
	--count 20 --wait-ms 300 --expect-replies 0 >/dev/null
check "67: datagrams of 1600-4000 bytes (truncated on receipt): no answer" [ $? -eq 0 ]
check "pxed still serves after the malformed messages" serving
check "pxed logged them as bad messages" wait_log "bad message .*: (truncated option|bad overload option|not a BOOTREQUEST)" 1

# --- a flood: random datagrams, garbage options, valid DISCOVERs and 4011 REQUESTs ---
rss0=$(pxed_rss_kb)
t0=$(date +%s.%N)
for port in 67 4011; do
	in_cli timeout 60 "$UDP_PROBE" --to $LAB_SRV_IP:$port --bind $CLI:0 --sources 50 \
		--random 1-600 --count 5000 --wait-ms 200 --quiet >/dev/null
	in_cli timeout 60 "$DHCP_PROBE" --to $LAB_SRV_IP:$port --bind $CLI:0 "${PXE[@]}" \
		--count 2000 --macs 2000 --mac 52:54:01:00:00:00 --random-tail 120 --no-end \
		--wait-ms 200 --quiet >/dev/null
done
in_cli timeout 60 "$DHCP_PROBE" --iface c0 --to 255.255.255.255:67 "${PXE[@]}" \
	--count 2000 --macs 50 --mac 52:54:02:00:00:00 --xid 20000000 --wait-ms 1500 --quiet \
	>"$LAB_DIR/flood67"
in_cli timeout 60 "$DHCP_PROBE" --bind $CLI:4011 --to $LAB_SRV_IP:4011 --type request \
	--ciaddr $CLI "${PXE[@]}" --count 2000 --macs 2000 --mac 52:54:03:00:00:00 \
	--xid 30000000 --wait-ms 1500 --quiet >"$LAB_DIR/flood4011"
t1=$(date +%s.%N)
r67=$(sed -n 's/sent \([0-9]*\) replies \([0-9]*\)/\2 of \1/p' "$LAB_DIR/flood67")
r4011=$(sed -n 's/sent \([0-9]*\) replies \([0-9]*\)/\2 of \1/p' "$LAB_DIR/flood4011")
echo "# flood: 20000 random/garbage + 4000 valid in $(echo "$t1 - $t0" | bc) s;" \
	"DISCOVERs answered $r67, 4011 REQUESTs answered $r4011"
check "flood: pxed answered most valid DISCOVERs ($r67)" [ "${r67%% *}" -ge 1000 ]
check "flood: pxed answered most 4011 REQUESTs ($r4011)" [ "${r4011%% *}" -ge 1000 ]
check "pxed is alive after the flood" kill -0 "$PXED_PID"
cat >"$LAB_DIR/udhcpc.sh" <<'SCRIPT'
#!/bin/sh
[ "$1" = bound ] || exit 0
echo "ip=$ip lease=$lease" >"$OUT"
exit 0
SCRIPT
chmod +x "$LAB_DIR/udhcpc.sh"
ip -n "$LAB_CLI" link set c0 address 52:54:00:00:03:0a
in_cli env OUT="$LAB_DIR/u1" timeout 30 busybox udhcpc -i c0 -n -q -f -t 4 -T 2 \
	-s "$LAB_DIR/udhcpc.sh" >"$LAB_DIR/udhcpc.log" 2>&1
u_ip=$(sed -n 's/.*ip=\([^ ]*\).*/\1/p' "$LAB_DIR/u1" 2>/dev/null)
check "after the flood a real udhcpc gets a lease ($u_ip)" in_pool "$u_ip"
rss1=$(pxed_rss_kb)
echo "# RSS: ${rss0} KiB before the flood, ${rss1} KiB after;" \
	"state dir $(du -sk "$LAB_DIR/state" | cut -f1) KiB"
if command -v sqlite3 >/dev/null; then
	echo "# events in pxed.db: $(timeout 5 sqlite3 -readonly "$LAB_DIR/state/pxed.db" \
		'SELECT count(*) || " rows, " || count(DISTINCT mac) || " MACs" FROM events' 2>&1)"
fi
# rss_bounded: under RSS_MAX_KB after the flood, and grown by less than 64 MiB
rss_bounded() { [ "$rss1" -lt "$RSS_MAX_KB" ] && [ $((rss1 - rss0)) -lt 65536 ]; }
check "RSS bounded after the flood (${rss1} KiB < ${RSS_MAX_KB} KiB, grew $((rss1 - rss0)) KiB < 65536)" \
	rss_bounded

# --- INFORM: configuration, yiaddr 0, no lease time, unicast to ciaddr ---
dprobe --bind $CLI:68 --to $LAB_SRV_IP:67 --type inform --ciaddr $CLI \
	--mac 52:54:00:00:03:10 --prl 1,3,6,15,51,58,59 --wait-ms 1500
A=$(reply_from $LAB_SRV_IP)
check "INFORM: a DHCPACK" [ "$(rfield "$A" type)" = ACK ]
check "INFORM: unicast to ciaddr 192.0.2.2:68" grep -q " to=$CLI " <<<"$A"
check "INFORM: yiaddr 0.0.0.0" [ "$(rfield "$A" yiaddr)" = 0.0.0.0 ]
check "INFORM: router, DNS, domain, netmask" \
	[ "$(rfield "$A" o3) $(rfield "$A" o6) $(rfield "$A" o1)" = "c0000201 c0000235 ffffff00" ]
check "INFORM: server id" [ "$(rfield "$A" o54)" = c0000201 ]
for o in o51 o58 o59 o50; do
	check "INFORM: no option ${o#o}" rlacks "$A" $o
done

# --- SELECTING another server's offer: no answer, our offer is freed ---
# (a client that holds an offer keeps it: each "next client" is a new MAC)
offer() {       # MAC XID [args]: a DISCOVER; the offered address in $Y
	on67 --mac "$1" --xid "$2" "${@:3}" >/dev/null
	R=$(reply_from $LAB_SRV_IP)
	Y=$(rfield "$R" yiaddr)
}
# another_address X Y: both are pool addresses and differ; same_address:
# Y is X, a pool address
another_address() { in_pool "$1" && in_pool "$2" && [ "$1" != "$2" ]; }
same_address() { in_pool "$1" && [ "$1" = "$2" ]; }
offer 52:54:00:00:03:20 0d000001
X=$Y
offer 52:54:00:00:03:21 0d000002 --requested "$X"
check "offered $X to A; B asking for it gets another address ($Y)" another_address "$X" "$Y"
on67 --mac 52:54:00:00:03:20 --xid 0d000003 --type request --server-id 192.0.2.99 \
	--requested "$X" --expect-replies 0 >/dev/null
check "A's REQUEST selecting server 192.0.2.99: no answer" [ "$PROBE_RC" -eq 0 ]
offer 52:54:00:00:03:22 0d000004 --requested "$X"
check "... and A's offer of $X is free again: a new client asking for it gets it" same_address "$X" "$Y"

# --- RELEASE frees the address; a RELEASE by another client does not ---
offer 52:54:00:00:03:30 0d000010
X=$Y
on67 --mac 52:54:00:00:03:30 --xid 0d000011 --type request --server-id $LAB_SRV_IP \
	--requested "$X" >/dev/null
check "C is bound to $X" [ "$(rfield "$(reply_from $LAB_SRV_IP)" type)" = ACK ]
offer 52:54:00:00:03:31 0d000012 --requested "$X"
check "D asking for C's $X gets another address ($Y)" another_address "$X" "$Y"
on67 --mac 52:54:00:00:03:32 --xid 0d000013 --type request --requested "$X" >/dev/null
check "E's INIT-REBOOT for C's $X: NAK" [ "$(rfield "$(reply_from $LAB_SRV_IP)" type)" = NAK ]
mark=$(log_mark)
dprobe --bind $CLI:68 --to $LAB_SRV_IP:67 --type release --ciaddr "$X" --server-id $LAB_SRV_IP \
	--mac 52:54:00:00:03:30 --xid 0d000014 --wait-ms 500 --expect-replies 0 >/dev/null
check "C's RELEASE: no answer" [ "$PROBE_RC" -eq 0 ]
check "C's RELEASE: logged" wait_log "RELEASE $X" 3 "$mark"
offer 52:54:00:00:03:33 0d000015 --requested "$X"
check "after the RELEASE a new client F asking for $X gets it" same_address "$X" "$Y"
on67 --mac 52:54:00:00:03:33 --xid 0d000016 --type request --server-id $LAB_SRV_IP \
	--requested "$X" >/dev/null
check "F is bound to $X" [ "$(rfield "$(reply_from $LAB_SRV_IP)" type)" = ACK ]
dprobe --bind $CLI:68 --to $LAB_SRV_IP:67 --type release --ciaddr "$X" --server-id $LAB_SRV_IP \
	--mac 52:54:00:00:03:34 --xid 0d000017 --wait-ms 300 >/dev/null
offer 52:54:00:00:03:35 0d000018 --requested "$X"
check "a RELEASE of $X by another MAC does not free F's lease ($Y offered)" another_address "$X" "$Y"

# --- option 57 = 576: the reply fits 548 bytes ---
PRL_BIG=1,3,6,12,15,28,42,43,51,54,58,59,60,66,67,97,119,128,129,130,131,132,133,134,135,175
on67 --mac 52:54:00:00:03:40 "${PXE[@]}" --uuid "00$(printf '%032x' 7)" --max-size 576 \
	--prl $PRL_BIG --client-id 01525400000340 >/dev/null
A=$(reply_from $LAB_SRV_IP)
check "57 = 576: an OFFER of at most 548 bytes ($(rfield "$A" len))" \
	len_le "$A" 548
# a client whose full reply would not fit (host name, 199-byte boot file,
# 64-byte client id): RFC 2131 wants the reply within 576 without the
# options that do not fit, not silence
CID64=ff$(printf '%0126x' 1)
on67 --mac $BIG_HOST --xid 0d000020 "${PXE[@]}" --uuid "00$(printf '%032x' 9)" --max-size 1472 \
	--prl $PRL_BIG --client-id "$CID64" >/dev/null
A=$(reply_from $LAB_SRV_IP)
check "57 = 1472, big reply: an OFFER of $(rfield "$A" len) bytes with the long file" \
	[ "$(rfield "$A" o67)" = "$(hexstr "$LONG")" ]
on67 --mac $BIG_HOST --xid 0d000021 "${PXE[@]}" --uuid "00$(printf '%032x' 9)" --max-size 576 \
	--prl $PRL_BIG --client-id "$CID64" >/dev/null
A=$(reply_from $LAB_SRV_IP)
check "57 = 576, same client: still an OFFER, at most 548 bytes (got: ${A:+$(rfield "$A" len) bytes}${A:-none})" \
	len_le "$A" 548
keeps_51_54_61() { rhas "$A" o51 && rhas "$A" o54 && [ "$(rfield "$A" o61)" = "$CID64" ]; }
check "57 = 576, same client: the OFFER keeps 51, 54 and 61" keeps_51_54_61
on67 --mac $BIG_HOST --xid 0d000022 "${PXE[@]}" --uuid "00$(printf '%032x' 9)" \
	--prl $PRL_BIG --client-id "$CID64" >/dev/null
A=$(reply_from $LAB_SRV_IP)
check "no 57 (576 assumed), same client: an OFFER of at most 548 bytes" \
	len_le "$A" 548

# --- the parameter request list order is followed ---
# in_prl_order PRL ORDER: the codes of ORDER that are in PRL appear in PRL order
in_prl_order() {
	local want got
	want=$(tr , '\n' <<<"$1" | grep -xF -f <(tr , '\n' <<<"$2") | paste -sd,)
	got=$(tr , '\n' <<<"$2" | grep -xF -f <(tr , '\n' <<<"$1") | paste -sd,)
	echo "# PRL $1 -> present in order: $got"
	[ -n "$got" ] && [ "$want" = "$got" ]
}
for prl in 15,6,3,1,59,58,51 51,1,3,6,15,58,59 67,66,60,43,3,1; do
	args=()
	[[ $prl == 67* ]] && args=("${PXE[@]}")
	on67 --mac 52:54:00:00:03:50 --prl $prl "${args[@]}" >/dev/null
	check "PRL $prl: options in that order" in_prl_order $prl "$(rfield "$(reply_from $LAB_SRV_IP)" order)"
done

# --- a reservation by client identifier: whatever the MAC ---
on67 --mac 52:54:00:00:03:70 --xid 0d000040 --client-id ffaabbccddee01 >/dev/null
A=$(reply_from $LAB_SRV_IP)
check "reservation by client id: 192.0.2.77 ($(rfield "$A" yiaddr))" [ "$(rfield "$A" yiaddr)" = 192.0.2.77 ]
check "reservation by client id: its host name" [ "$(rfield "$A" o12)" = "$(hexstr by-id)" ]
on67 --mac 52:54:00:00:03:71 --xid 0d000041 --client-id ffaabbccddee01 >/dev/null
check "the same client id from another MAC: the same reservation" \
	[ "$(rfield "$(reply_from $LAB_SRV_IP)" yiaddr)" = 192.0.2.77 ]
on67 --mac 52:54:00:00:03:72 --xid 0d000042 >/dev/null
check "another client gets a pool address, never the reserved 192.0.2.77" \
	in_pool "$(rfield "$(reply_from $LAB_SRV_IP)" yiaddr)"

# --- client identifier (61): the lease key, echoed (RFC 6842) ---
MAC61=52:54:00:00:03:60
on67 --mac $MAC61 --xid 0d000030 --client-id 01525400000360 >/dev/null
A1=$(reply_from $LAB_SRV_IP)
on67 --mac $MAC61 --xid 0d000031 --client-id ff00000001000102030405 >/dev/null
A2=$(reply_from $LAB_SRV_IP)
on67 --mac $MAC61 --xid 0d000032 >/dev/null
A3=$(reply_from $LAB_SRV_IP)
check "same MAC, two client ids: two different addresses ($(rfield "$A1" yiaddr), $(rfield "$A2" yiaddr))" \
	another_address "$(rfield "$A1" yiaddr)" "$(rfield "$A2" yiaddr)"
check "same MAC without a client id: the address of 61 = 01+MAC, as dnsmasq ($(rfield "$A3" yiaddr))" \
	same_address "$(rfield "$A1" yiaddr)" "$(rfield "$A3" yiaddr)"
check "client id echoed in the OFFERs" \
	[ "$(rfield "$A1" o61) $(rfield "$A2" o61)" = "01525400000360 ff00000001000102030405" ]
check "no client id sent, none echoed" rlacks "$A3" o61
on67 --mac 52:54:00:00:03:61 --xid 0d000033 --client-id ff00000001000102030405 >/dev/null
check "another MAC with the second (non-MAC) client id: that client's address" \
	same_address "$(rfield "$A2" yiaddr)" "$(rfield "$(reply_from $LAB_SRV_IP)" yiaddr)"
on67 --mac $MAC61 --xid 0d000034 --client-id 01525400000360 --type request \
	--requested 192.0.2.99 >/dev/null
A=$(reply_from $LAB_SRV_IP)
check "NAK echoes the client id too" [ "$(rfield "$A" type) $(rfield "$A" o61)" = "NAK 01525400000360" ]

check "pxed stops cleanly" pxed_stop
check "sanitizer clean" pxed_log_clean
lab_finish
