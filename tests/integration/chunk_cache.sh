#!/bin/bash
# Image chunks from an HTTP cache (docs/IMAGING.md, "Chunks from caches"):
# a building (tests/lib/campus.sh's router namespace, 198.51.100.1) runs
# Debian's nginx as a caching reverse proxy of pxed's /images/chunks/ with
# etc/nginx-chunk-cache.conf as it is; its subnet names the cache
# (chunk-sources in [subnet 198.51.100.0/24]).  pxe-agent runs on disk files
# in a namespace of that building (198.51.100.10).  What each side served
# is counted from pxed's own log (its "http PEER GET /images/chunks/..."
# lines), never from the cache's claims:
# - a capture (on the server's LAN) goes to pxed;
# - the first deploy in the building fills the cache: pxed served every
#   chunk once, to the cache, none to the agent; the disk is identical;
# - the second deploy takes no chunk from pxed at all;
# - a chunk damaged in nginx's cache directory is caught by its hash and
#   fetched from pxed: that chunk alone;
# - a dead cache (nginx stopped) and a silent one (its packets dropped) are
#   skipped after 3 failures and the deploy completes from pxed;
# - an agent on the server's LAN gets no cache (the subnet decides);
# - pxed with image-repo naming another server (a read-only mirror)
#   refuses a capture task with 409 saying where captures go, at creation
#   and when an agent fetches one made before; bad settings are refused.
LAB_ID=${LAB_ID:-cc$$}
source "$(dirname "$0")/../lib/lab.sh"
source "$(dirname "$0")/../lib/campus.sh"
source "$(dirname "$0")/../lib/disk.sh"
source "$(dirname "$0")/../lib/api.sh"
lab_plan 53

AGENT=${PXE_AGENT:-build/asan/pxe-agent}
NGINX_CONF=$(dirname "$0")/../../etc/nginx-chunk-cache.conf
W=$LAB_DIR/work
NG=$LAB_DIR/nginx
BLD=pxb-$LAB_ID                 # a machine in the building
BLD_IP=198.51.100.10
CACHE=http://$CAMPUS_GIADDR:8080/pxed/images/chunks/
MAC=52:54:00:cc:00:01
MAC2=52:54:00:cc:00:02
mkdir -p "$W" "$NG/cache" "$NG/tmp"

command -v nginx >/dev/null || { not_ok "setup: nginx (Debian's nginx-light) installed"; exit 1; }
campus_up || { not_ok "setup: the campus namespaces"; exit 1; }
campus_probe_ns "$BLD" || { not_ok "setup: a machine in the building"; exit 1; }
ip -n "$BLD" addr add "$BLD_IP/24" dev eth0
ip -n "$BLD" route add default via "$CAMPUS_GIADDR"

# nginx in the building: the example file with this lab's cache directory,
# in a main config of the lab's own (pid, logs, temporary files)
nginx_start() {
	sed "s|/var/cache/nginx/pxed-chunks|$NG/cache|" "$NGINX_CONF" >"$NG/chunk-cache.conf"
	cat >"$NG/nginx.conf" <<EOF
user root;
worker_processes 1;
pid $NG/nginx.pid;
error_log $NG/error.log info;
events { worker_connections 256; }
http {
	access_log $NG/access.log;
	client_body_temp_path $NG/tmp/body;
	proxy_temp_path $NG/tmp/proxy;
	fastcgi_temp_path $NG/tmp/fastcgi;
	uwsgi_temp_path $NG/tmp/uwsgi;
	scgi_temp_path $NG/tmp/scgi;
	include $NG/chunk-cache.conf;
}
EOF
	ip netns exec "$CAMPUS_RTR" nginx -p "$NG" -c "$NG/nginx.conf" -g 'daemon off;' \
		>>"$NG/nginx.out" 2>&1 &
	NGINX_PID=$!
	LAB_PIDS+=("$NGINX_PID")
	for _ in $(seq 1 50); do
		in_rtr timeout 2 curl -s -o /dev/null "http://$CAMPUS_GIADDR:8080/" && return 0
		sleep 0.1
	done
	cat "$NG/nginx.out" "$NG/error.log" 2>/dev/null
	return 1
}
nginx_start || { not_ok "setup: nginx caching proxy in the building"; exit 1; }

cat >"$LAB_DIR/pxed.conf" <<EOF
[subnet $CAMPUS_NET]
chunk-sources = $CACHE
EOF
pxed_start --config "$LAB_DIR/pxed.conf" || { not_ok "setup: pxed_start"; exit 1; }
ctl host add "$MAC" lab1 >/dev/null || { not_ok "setup: host lab1"; exit 1; }
ctl host add "$MAC2" lab2 >/dev/null || { not_ok "setup: host lab2"; exit 1; }

# task NS TYPE ARGS...: a task for $MAC; prints its token (from the boot
# script, fetched in namespace NS where its agent runs: a task's token is
# bound to the first address that uses it)
task() {
	local ns=$1
	shift
	ctl task "$@" >/dev/null || return 1
	token_of "$MAC" "$ns"
}
# agent_in NS TOKEN DISK: pxe-agent for $MAC's task in namespace NS; its
# output goes to $W/agent.log (all runs) and $W/last.log (this run)
agent_in() {
	local ns=$1 tok=$2 disk=$3 id
	id=$(task_of "$MAC")
	ip netns exec "$ns" timeout 300 "$AGENT" --server "$URL" --token "$tok" --task "$id" \
		--disk "$disk" --retry-for 30 >"$W/last.log" 2>&1
	local rc=$?
	cat "$W/last.log" >>"$W/agent.log"
	LAST_ID=$id
	return $rc
}
# deploy NS NAME: deploy golden onto a blank $W/NAME.img from namespace NS
deploy() {
	local tok
	truncate -s 128M "$W/$2.img"
	tok=$(task "$1" deploy lab1 golden) || return 1
	agent_in "$1" "$tok" "$W/$2.img"
}
# chunk_gets MARK [PEER]: GETs of chunks pxed answered 200 after MARK (from PEER)
chunk_gets() {
	log_since "$1" | grep -cE "http ${2:-[0-9.]+}:[0-9]+ GET /images/chunks/[0-9a-f]{2}/[0-9a-f]{64}\.zst 200 "
}
# served_by SOURCE: the chunks the last agent run says SOURCE served
served_by() {
	sed -n "s|.*chunk source $1: \([0-9]*\) chunks.*|\1|p" "$W/last.log" | tail -1
}
done_and_same() {
	eq "$(json "/api/v1/tasks/$LAST_ID" '["state"]')" done && disk_tables_equal "$W/source.img" "$1" &&
		disk_same_files "$SRC" "$1"
}
# deployed WHAT NS NAME: deploy from namespace NS onto $W/NAME.img; checks
# that the agent exits 0 and the disk is right; M: pxed's log mark before
# it, SECS: how long it took
deployed() {
	local t0 rc
	M=$(log_mark)
	t0=$(date +%s)
	deploy "$2" "$3"
	rc=$?
	SECS=$(($(date +%s) - t0))
	echo "# $1: the deploy took $SECS s"
	check "$1: pxe-agent exits 0" [ $rc -eq 0 ]
	check "$1: done, tables and every file identical" done_and_same "$W/$3.img"
}

# --- the image: captured on the server's LAN --------------------------------------
SRC=$W/src
mkdir -p "$SRC/etc"
head -c 6000000 /dev/urandom >"$SRC/blob.bin"
seq 1 100000 >"$SRC/numbers.txt"
echo "chunks from a cache" >"$SRC/etc/motd"
disk_make "$SRC" "$W/source.img" 128 || { not_ok "setup: the source disk"; exit 1; }
TT=$(task "$LAB_CLI" capture lab1 golden)
agent_in "$LAB_CLI" "$TT" "$W/source.img"
check "capture on the server's LAN: pxe-agent exits 0" [ $? -eq 0 ]
check "capture: the task is done" eq "$(json "/api/v1/tasks/$LAST_ID" '["state"]')" done
# hashes HEX: the chunks of golden's manifest (table and data) as their
# hashes, one a line; N of them, U different ones (the same bytes at two
# places are one chunk file, fetched once by the cache)
hashes() {
	python3 -c 'import json,sys; m=json.load(open(sys.argv[1]));
[print(c[2]) for c in m["table_chunks"] + m["chunks"]]' "$LAB_DIR/state/images/manifests/golden.json"
}
N=$(hashes | wc -l)
U=$(hashes | sort -u | wc -l)
echo "# image golden: $N chunks, $U different"
check "capture: the image has chunks ($N)" [ "$N" -gt 2 ]
H=$(hashes | head -1)
HEAD=$(in_cli timeout 10 curl -sS -D - -o /dev/null "$URL/images/chunks/${H:0:2}/$H.zst")
check "pxed serves a chunk as cacheable for good (immutable)" \
	has "$HEAD" "Cache-Control: public, max-age=31536000, immutable"

# --- first deploy in the building: fills the cache --------------------------------
C0=$(pxed_status_field http chunks_sent)
deployed "first deploy in the building" "$BLD" first
check "first deploy: pxed named the building's cache (subnet $CAMPUS_NET)" \
	has "$(log_since "$M")" "chunk sources for $BLD_IP: subnet $CAMPUS_NET's: 1 before this server"
check "first deploy: pxed served the cache every chunk once ($U GETs from $CAMPUS_RTR_IP)" \
	eq "$(chunk_gets "$M" "$CAMPUS_RTR_IP")" "$U"
check "first deploy: pxed served the agent no chunk" eq "$(chunk_gets "$M" "$BLD_IP")" 0
check "first deploy: the agent counts $N chunks from the cache" eq "$(served_by "$CACHE")" "$N"
check "first deploy: pxed's counter of chunks sent grew by $U" \
	eq "$(($(pxed_status_field http chunks_sent) - C0))" "$U"
CACHED=$(find "$NG/cache" -type f | wc -l)
check "first deploy: nginx's cache directory holds $U entries" eq "$CACHED" "$U"

# --- second deploy: nothing from pxed ------------------------------------------------
C0=$(pxed_status_field http chunks_sent)
deployed "second deploy in the building" "$BLD" second
check "second deploy: pxed served no chunk at all (its log)" eq "$(chunk_gets "$M")" 0
check "second deploy: pxed's counter of chunks sent did not move" \
	same_value "$C0" "$(pxed_status_field http chunks_sent)"
check "second deploy: the agent counts $N chunks from the cache" eq "$(served_by "$CACHE")" "$N"
check "second deploy: and none from the server" eq "$(served_by "(the server) $URL/images/chunks/")" 0

# --- a chunk damaged in the cache ---------------------------------------------------
VICTIM=$(find "$NG/cache" -type f -size +100k | sort | head -1)
VHEX=$(grep -aom1 "KEY: /pxed/images/chunks/../[0-9a-f]*" "$VICTIM" | sed 's|.*/||')
[ -n "$VHEX" ] || { not_ok "setup: a cached chunk to damage"; exit 1; }
SIZE=$(stat -c %s "$VICTIM")
printf '\x00\x01\x02\x03\x04\x05\x06\x07' |
	dd of="$VICTIM" bs=1 seek=$((SIZE - 5000)) conv=notrunc status=none
deployed "damaged cached chunk" "$BLD" damaged
check "damaged cached chunk: the agent caught it by its hash and went on" \
	grep -q "chunk $VHEX at offset [0-9]* from $CACHE: not the chunk (bad frame or hash): trying the next source" \
	"$W/last.log"
K=$(hashes | grep -c "$VHEX")          # places of the image that hold it
check "damaged cached chunk: pxed served the agent that chunk ($K time(s))" \
	eq "$(log_since "$M" | grep -cE "http $BLD_IP:[0-9]+ GET /images/chunks/../$VHEX\.zst 200 ")" "$K"
check "damaged cached chunk: and no other chunk" eq "$(chunk_gets "$M")" "$K"
check "damaged cached chunk: the cache served the other $((N - K))" \
	eq "$(served_by "$CACHE")" $((N - K))

# deploy_past_cache WHAT NAME: a deploy in the building while the cache
# fails: done and identical, the cache skipped after 3 failures in a row,
# every chunk from pxed; SECS: how long it took
deploy_past_cache() {
	deployed "$1" "$BLD" "$2"
	check "$1: skipped after 3 failures in a row" \
		grep -q "chunk source $CACHE: 3 failures in a row: skipped for 30 s" "$W/last.log"
	check "$1: pxed served the agent every chunk ($N)" eq "$(chunk_gets "$M" "$BLD_IP")" "$N"
}

# --- a dead cache ----------------------------------------------------------------------
campus_end "$NGINX_PID"
deploy_past_cache "dead cache (nginx stopped)" dead
# 3 failures put it to rest; fetches already under way (4 workers) may add 3
FAILED=$(sed -n "s|.*chunk source $CACHE: 0 chunks.* \([0-9]*\) failed.*|\1|p" "$W/last.log")
check "dead cache: tried at most 6 times ($FAILED)" [ "${FAILED:-99}" -le 6 ]

# --- a silent cache: its packets dropped -------------------------------------------
nginx_start || { not_ok "setup: nginx started again"; exit 1; }
in_rtr nft -f - <<EOF || { not_ok "setup: nftables drop for the cache's port"; exit 1; }
table inet chunkcache {
	chain input { type filter hook input priority 0; tcp dport 8080 drop; }
}
EOF
LAB_CLEANUPS+=("ip netns exec $CAMPUS_RTR nft delete table inet chunkcache")
deploy_past_cache "silent cache (packets dropped)" silent
check "silent cache: the failures were connect timeouts" \
	grep -q "from $CACHE: .*Timeout was reached: trying the next source" "$W/last.log"
check "silent cache: the deploy took less than 60 s ($SECS)" [ "$SECS" -lt 60 ]
in_rtr nft delete table inet chunkcache

# --- the server's LAN: no cache for it -----------------------------------------------
deployed "deploy on the server's LAN" "$LAB_CLI" lan
check "deploy on the server's LAN: pxed named no cache" \
	lacks "$(log_since "$M")" "chunk sources for $LAB_CLI_IP"
check "deploy on the server's LAN: the agent tried no cache" \
	lacks "$(cat "$W/last.log")" "chunk source 1:"
check "deploy on the server's LAN: every chunk from pxed ($N)" \
	eq "$(chunk_gets "$M" "$LAB_CLI_IP")" "$N"

# --- a server that holds a mirror: captures refused ------------------------------------
ctl task capture lab2 elsewhere >/dev/null || { not_ok "setup: a capture task for lab2"; exit 1; }
TT2=$(token_of "$MAC2")
ID2=$(task_of "$MAC2")
check "pxed stops cleanly (before the mirror)" pxed_stop
pxed_log_rotate
CENTRAL=http://203.0.113.5/
pxed_start --config "$LAB_DIR/pxed.conf" --image-repo "$CENTRAL" ||
	{ not_ok "setup: pxed as a mirror"; exit 1; }
ANSWER=$(in_cli timeout 10 curl -s -w ' %{http_code}' -H "$(lab_auth)" \
	-H 'Content-Type: application/json' -d '{"host": "lab1", "type": "capture", "image": "x"}' \
	"$URL/api/v1/tasks")
check "mirror: a capture task is refused with 409" eq "${ANSWER##* }" 409
check "mirror: the answer says where captures go" \
	has "$ANSWER" "read-only mirror of the image repository: captures go to $CENTRAL"
# the API's error form: {"error": TEXT, "code": "conflict"}
error_code() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])["code"])' "${ANSWER% *}"; }
check "mirror: the refusal is JSON {error, code} with code conflict" eq "$(error_code)" conflict
in_cli timeout 60 "$AGENT" --server "$URL" --token "$TT2" --task "$ID2" --disk "$W/source.img" \
	--retry-for 10 >"$W/last.log" 2>&1
check "mirror: the agent of a capture made before fails" [ $? -ne 0 ]
check "mirror: the agent was told 409 and why" has "$(cat "$W/last.log")" "HTTP 409: this server holds a read-only mirror"
check "mirror: that task failed, saying where captures go" \
	has "$(json "/api/v1/tasks/$ID2" '["state"]') $(json "/api/v1/tasks/$ID2" '["message"]')" \
	"failed this server holds a read-only mirror of the image repository: captures go to $CENTRAL"
check "mirror: deploys are still served (the image listed)" has "$(ctl image list)" golden
check "pxed stops cleanly (the mirror)" pxed_stop

# --- bad settings ----------------------------------------------------------------------------
printf '[subnet 198.51.100.0/24]\nchunk-sources = https://cache/\n' >"$LAB_DIR/bad.conf"
BAD=$("$PXED" --check-config --config "$LAB_DIR/bad.conf" 2>&1)
check "chunk-sources with an https:// URL refused, naming the line" \
	has "$BAD" "bad.conf:2: chunk-sources: a chunk source is an http:// URL"
BAD=$("$PXED" --check-config --image-repo 'ftp://x/' 2>&1)
check "image-repo that is not local or an http(s) URL refused" has "$BAD" "image-repo: 'ftp://x/' is not local"
# the example docs/IMAGING.md shows is the file this test runs
doc_quotes_conf() {
	cmp -s "$NGINX_CONF" <(sed -n '/^```nginx$/,/^```$/p' "$(dirname "$0")/../../docs/IMAGING.md" |
		sed '1d;$d')
}
check "docs/IMAGING.md shows etc/nginx-chunk-cache.conf as it is" doc_quotes_conf
check "no sanitizer report" pxed_log_clean
