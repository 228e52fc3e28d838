#!/bin/bash
# Capture and deploy end to end, pxe-agent run directly on disk files (no
# VM) in a client namespace, pxed in a server namespace: a GPT disk with an
# ext4 and an NTFS partition (built without mounting) is captured, captured
# again (dedup: nothing new uploaded), deployed to a blank disk (partition
# tables and every file identical); the faults: a disk too small, a
# corrupted chunk on the server, a wrong task token; disks of other sizes:
# 1 GiB larger (the GPT moves to its end; sgdisk -v clean; captured again;
# --no-grow: agentfs.sh covers growing),
# smaller than the source but not than its partitions (deployed, verified),
# and smaller than a partition (refused, the disk untouched); on a slow
# link: a deploy cancelled mid-way (the agent stops at once), the agent
# killed mid-deploy and a new one resuming from the server's resume point,
# pxed killed mid-deploy and restarted (the agent retries); and a wipe.
# A deploy from a mirror of the chunks (--chunk-url: python's http.server
# on the repository's chunks/ directory): the same disk, no chunk from
# pxed, the task token never sent to the mirror.
LAB_ID=${LAB_ID:-im$$}
source "$(dirname "$0")/../lib/lab.sh"
source "$(dirname "$0")/../lib/disk.sh"
source "$(dirname "$0")/../lib/api.sh"
lab_plan 81

AGENT=${PXE_AGENT:-build/asan/pxe-agent}
lab_up || { echo "not ok - lab_up"; exit 1; }
W=$LAB_DIR/work
mkdir -p "$W"
MAC=52:54:00:bb:00:01
# task TYPE ARGS...: create a task for $MAC and print the task token its
# boot script carries.
task() {
	ctl task "$@" >/dev/null || return 1
	in_cli timeout 10 curl -sS "$URL/api/v1/boot/$MAC.ipxe" |
		sed -n 's/.*pxed\.token=\([0-9a-f]*\).*/\1/p'
}
# agent TOKEN TASK DISK [args]: run pxe-agent in the client namespace.
agent() {
	local tok=$1 id=$2 disk=$3
	shift 3
	in_cli timeout 300 "$AGENT" --server "$URL" --token "$tok" --task "$id" --disk "$disk" \
		--retry-for 60 "$@" >>"$W/agent.log" 2>&1
}
zeros() { cmp -s -n "$(stat -c %s "$1")" "$1" /dev/zero; }

# --- the source disk ---------------------------------------------------------
SRC=$W/src
mkdir -p "$SRC/etc/deep/er" "$SRC/licenses"
head -c 8000000 /dev/urandom >"$SRC/blob.bin"
cp /usr/share/common-licenses/* "$SRC/licenses/" 2>/dev/null
seq 1 200000 >"$SRC/numbers.txt"
echo "pxed imaging test" >"$SRC/etc/deep/er/motd"
: >"$SRC/empty"
disk_make "$SRC" "$W/source.img" 256 ||
	{ not_ok "setup: the source disk (GPT, ext4 + NTFS, no mounts)"; exit 1; }

pxed_start || { echo "not ok - pxed_start"; exit 1; }
ctl host add "$MAC" lab1 >/dev/null

# --- capture ---------------------------------------------------------------
TT=$(task capture lab1 golden)
agent "$TT" 1 "$W/source.img"
check "capture: pxe-agent exits 0" [ $? -eq 0 ]
check "capture: the task is done" eq "$(json /api/v1/tasks/1 '["state"]')" done
check "capture: image listed" has "$(ctl image list)" golden
USED=$(json /api/v1/images/golden '["used"]')
STORED=$(json /api/v1/images/golden '["stored"]')
echo "# captured: disk 256 MiB, used $USED bytes, stored $STORED bytes"
check "capture: stores far less than the disk (< 1/8)" [ "$STORED" -lt $((256 * 1024 * 1024 / 8)) ]
check "capture: both filesystems recognised" \
	eq "$(json /api/v1/images/golden '["partition_list"][0]["fs"]')/$(json /api/v1/images/golden '["partition_list"][1]["fs"]')" ext/ntfs
BEFORE=$(du -sb "$LAB_DIR/state/images/chunks" | cut -f1)
TT=$(task capture lab1 golden2)
agent "$TT" 2 "$W/source.img"
check "second capture: exits 0" [ $? -eq 0 ]
check "second capture: no new chunk uploaded (dedup)" has "$(tail -5 "$W/agent.log")" " 0 new chunks"
check "second capture: the repository did not grow" \
	eq "$(du -sb "$LAB_DIR/state/images/chunks" | cut -f1)" "$BEFORE"

# --- deploy ------------------------------------------------------------------
truncate -s 256M "$W/blank.img"
TT=$(task deploy lab1 golden)
agent "$TT" 3 "$W/blank.img"
check "deploy: exits 0" [ $? -eq 0 ]
check "deploy: the task is done" eq "$(json /api/v1/tasks/3 '["state"]')" done
check "deploy: partition tables identical (primary and backup GPT)" \
	disk_tables_equal "$W/source.img" "$W/blank.img"
check "deploy: every file reads back identical (debugfs, ntfscat)" \
	disk_same_files "$SRC" "$W/blank.img"

# --- faults --------------------------------------------------------------------
truncate -s 64M "$W/small.img"
TT=$(task deploy lab1 golden)
agent "$TT" 4 "$W/small.img"
check "disk too small: pxe-agent fails" [ $? -ne 0 ]
check "disk too small: the task failed, saying so" \
	has "$(json /api/v1/tasks/4 '["message"]')" "too small"
check "disk too small: nothing written" zeros "$W/small.img"

truncate -s 256M "$W/bad-token.img"
in_cli timeout 60 "$AGENT" --server "$URL" --token "$(printf '%064d' 7)" --task 4 \
	--disk "$W/bad-token.img" --retry-for 5 >>"$W/agent.log" 2>&1
check "wrong task token: pxe-agent fails" [ $? -ne 0 ]
check "wrong task token: the server said 403" has "$(tail -3 "$W/agent.log")" "403"
check "wrong task token: nothing written" zeros "$W/bad-token.img"

# one chunk of the image damaged on the server's disk
VICTIM=$(find "$LAB_DIR/state/images/chunks" -name '*.zst' -size +100k | sort | head -1)
VHEX=$(basename "$VICTIM" .zst)
cp "$VICTIM" "$W/victim.bak"
printf '\x00\x01\x02\x03\x04\x05\x06\x07' | dd of="$VICTIM" bs=1 seek=200 conv=notrunc status=none
truncate -s 256M "$W/blank2.img"
TT=$(task deploy lab1 golden)
agent "$TT" 5 "$W/blank2.img"
check "corrupted chunk: pxe-agent fails" [ $? -ne 0 ]
check "corrupted chunk: the task failed" eq "$(json /api/v1/tasks/5 '["state"]')" failed
check "corrupted chunk: the error names the chunk" has "$(json /api/v1/tasks/5 '["message"]')" "$VHEX"
check "corrupted chunk: image verify finds it" has "$(ctl image verify golden)" "$VHEX"
cp "$W/victim.bak" "$VICTIM"
check "image verify is clean again" has "$(ctl image verify golden)" "every chunk verified"

# --- disks of another size ----------------------------------------------------------
# log_since MARK: the agent's log after line MARK.
log_since() { tail -n +$(($1 + 1)) "$W/agent.log"; }
# check_moved WHAT EXIT ID DISK SOURCE: a deploy (task ID, the agent's exit
# status EXIT, its log after $MARK) that moved the GPT to the end of DISK:
# done, verified, sgdisk -v clean, SOURCE's partitions, every file.
check_moved() {
	local what=$1 rc=$2 id=$3 disk=$4 source=$5
	check "$what: pxe-agent exits 0" [ "$rc" -eq 0 ]
	check "$what: the task is done" eq "$(json "/api/v1/tasks/$id" '["state"]')" done
	check "$what: the agent moved the GPT" has "$(log_since "$MARK")" "GPT moved"
	check "$what: verify read the moved GPT back" \
		has "$(log_since "$MARK")" "the moved GPT with its CRCs"
	check "$what: sgdisk -v finds no problem" disk_gpt_clean "$disk"
	check "$what: the same partitions" disk_same_parts "$source" "$disk"
	check "$what: every file identical" disk_same_files "$SRC" "$disk"
}
MARK=$(wc -l <"$W/agent.log")
truncate -s 1280M "$W/big.img"
TT=$(task deploy lab1 golden --no-grow)
agent "$TT" 6 "$W/big.img"
check_moved "larger disk (+1 GiB)" $? 6 "$W/big.img" "$W/source.img"
check "larger disk: the backup GPT header is the last sector" \
	eq "$(tail -c 512 "$W/big.img" | head -c 8)" "EFI PART"
TT=$(task capture lab1 grown)
agent "$TT" 7 "$W/big.img"
check "larger disk captured again: pxe-agent exits 0" [ $? -eq 0 ]
check "larger disk captured again: the task is done" \
	eq "$(json /api/v1/tasks/7 '["state"]')" done
check "larger disk captured again: the image is of the larger disk" \
	eq "$(json /api/v1/images/grown '["disk_size"]')" $((1280 * 1024 * 1024))

# a source whose partitions end at 229 MiB of 256
disk_make "$SRC" "$W/short-src.img" 256 100 ||
	{ not_ok "setup: a source disk with free space after its partitions"; exit 1; }
# ... used before: a previous owner's data after the last partition (old
# random bytes from 230 MiB up to the backup GPT), which capture leaves out
head -c $((25 * 1024 * 1024)) /dev/urandom |
	dd of="$W/short-src.img" bs=1M seek=230 conv=notrunc status=none
TT=$(task capture lab1 short)
agent "$TT" 8 "$W/short-src.img"
check "capture of that disk: pxe-agent exits 0" [ $? -eq 0 ]
# the partitions' used bytes, the 1 MiB before the first partition (tables
# and boot loader gap) and the backup GPT: nothing of the old data
PARTS_USED=$(json /api/v1/images/short '["partition_list"][0]["used"] + v["partition_list"][1]["used"]')
LIMIT=$((PARTS_USED + 1024 * 1024 + 33 * 512))
USED=$(json /api/v1/images/short '["used"]')
STORED=$(json /api/v1/images/short '["stored"]')
echo "# old data after the partitions: partitions use $PARTS_USED, image used $USED, stored $STORED bytes"
check "capture of a used disk: no more than the partitions' data and the boot loader gap ($USED <= $LIMIT)" \
	[ "$USED" -le "$LIMIT" ]
check "capture of a used disk: stored size within the same bound ($STORED <= $LIMIT)" \
	[ "$STORED" -le "$LIMIT" ]
MARK=$(wc -l <"$W/agent.log")
truncate -s 240M "$W/smaller.img"
TT=$(task deploy lab1 short --no-grow)
agent "$TT" 9 "$W/smaller.img"
check_moved "smaller disk (240 MiB, partitions end at 229)" $? 9 "$W/smaller.img" \
	"$W/short-src.img"

truncate -s 200M "$W/tiny.img"
head -c 1048576 /dev/urandom | dd of="$W/tiny.img" conv=notrunc status=none
head -c 1048576 /dev/urandom | dd of="$W/tiny.img" bs=1M seek=199 conv=notrunc status=none
SUM=$(sha256sum <"$W/tiny.img")
TT=$(task deploy lab1 short)
agent "$TT" 10 "$W/tiny.img"
check "disk smaller than a partition (200 MiB): pxe-agent fails" [ $? -ne 0 ]
check "disk smaller than a partition: the task failed" \
	eq "$(json /api/v1/tasks/10 '["state"]')" failed
check "disk smaller than a partition: the message names the partition and the sizes" \
	has "$(json /api/v1/tasks/10 '["message"]')" \
	"too small: partition 2 ends at byte 240123904 and the backup GPT needs 16896 bytes after it, so the disk needs 240140800 bytes; it has 209715200"
check "disk smaller than a partition: the disk is untouched" \
	eq "$(sha256sum <"$W/tiny.img")" "$SUM"

# --- a slow link for the faults mid-deploy ---------------------------------------
NETEM_SH=$(dirname "$0")/../lib/netem.sh
export NETEM_RELAY=${NETEM_RELAY:-build/tools/netem-relay}
source "$NETEM_SH"
LAB_CLEANUPS+=(netem_stop)
check "pxed stops cleanly (before the slow link)" pxed_stop
ip -n "$LAB_SRV" link del s0
netem_link "$LAB_SRV" "$LAB_CLI" $LAB_SRV_IP/24 $LAB_CLI_IP/24 --rate-mbit 10 ||
	{ not_ok "setup: a rate-limited link (10 Mbit/s)"; exit 1; }
pxed_start || { echo "not ok - pxed_start"; exit 1; }
IMAGE_BYTES=$(json /api/v1/images/golden '["used"]')

# deploy_bg TOKEN ID DISK LOG: a deploy agent in the background; APID
deploy_bg() {
	in_cli timeout 300 "$AGENT" --server "$URL" --token "$1" --task "$2" --disk "$3" \
		--retry-for 120 >"$4" 2>&1 &
	APID=$!
	LAB_PIDS+=("$APID")
}
# deploy_start NAME: a deploy task of golden for $MAC onto a blank
# $W/NAME.img, its agent in the background logging to $W/NAME.log; sets TT,
# TID and APID
deploy_start() {
	truncate -s 256M "$W/$1.img"
	TT=$(task deploy lab1 golden)
	TID=$(task_of "$MAC")
	deploy_bg "$TT" "$TID" "$W/$1.img" "$W/$1.log"
}
# wait_task ID FIELD MIN: until the task's FIELD is at least MIN (20 s at most)
wait_task() {
	local v=0
	for _ in $(seq 1 200); do
		v=$(json "/api/v1/tasks/$1" "[\"$2\"]" 2>/dev/null || echo 0)
		[ "${v:-0}" -ge "$3" ] && break
		sleep 0.1
	done
	echo "${v:-0}"
}
# exited_within PID SECONDS: waits for PID to end; false when it did not
exited_within() {
	for _ in $(seq 1 $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# --- cancelled mid-deploy: the agent stops at once ------------------------------
deploy_start cancel
CID=$TID
b=$(wait_task "$CID" bytes 1)
check "cancel: the deploy was under way ($b of $IMAGE_BYTES bytes)" [ "$b" -gt 0 ]
ctl task cancel "$CID" >/dev/null
T0=$(date +%s%N)
if exited_within "$APID" 5; then
	ok "cancel: pxe-agent ended within 5 s ($((($(date +%s%N) - T0) / 1000000)) ms)"
else
	not_ok "cancel: pxe-agent still runs 5 s after the cancel"
	kill "$APID" 2>/dev/null
fi
wait "$APID"
rc=$?
check "cancel: pxe-agent exits 1 (exit $rc)" [ $rc -eq 1 ]
check "cancel: the task is cancelled" eq "$(json "/api/v1/tasks/$CID" '["state"]')" cancelled
check "cancel: the agent's log says it was cancelled" \
	grep -q "cancelled: the server no longer runs this task (HTTP 409: task $CID was cancelled" \
	"$W/cancel.log"
check "cancel: the agent did not report the deploy done" \
	bash -c "! grep -qE 'deploy done|deployed image' '$W/cancel.log'"
check "cancel: the disk was not written to the end" \
	bash -c "! cmp -s '$W/source.img' '$W/cancel.img'"

# --- the agent killed mid-deploy: a new one resumes --------------------------------
deploy_start agent-kill
KID=$TID
r=$(wait_task "$KID" resume_offset 1)
check "agent killed: the server stored a resume point ($r)" [ "$r" -gt 0 ]
# APID is the subshell; below it timeout(1), below that the agent
KILLED=$(pgrep -P "$(pgrep -P "$APID" -x timeout)" -x pxe-agent)
[ -n "$KILLED" ] || { not_ok "setup: the agent's process to kill not found"; exit 1; }
kill -KILL $KILLED
wait "$APID" 2>/dev/null
check "agent killed: the task still runs" eq "$(json "/api/v1/tasks/$KID" '["state"]')" running
TT2=$(token_of "$MAC")
check "agent killed: the boot script fetched again carries the same token" same_value "$TT" "$TT2"
deploy_bg "$TT2" "$KID" "$W/agent-kill.img" "$W/agent-kill-2.log"
wait "$APID"
rc=$?
check "agent killed: the new pxe-agent finished with 0 (exit $rc)" [ $rc -eq 0 ]
check "agent killed: the new agent resumed" grep -q "^.*resuming at offset [1-9]" "$W/agent-kill-2.log"
fetched=$(sed -n 's/.*deploy: [0-9]* chunks (\([0-9]*\) bytes) fetched over HTTP.*/\1/p' \
	"$W/agent-kill-2.log")
# fetched_part: more than nothing, less than the whole image
fetched_part() { [ "${fetched:-0}" -gt 0 ] && [ "${fetched:-0}" -lt "$IMAGE_BYTES" ]; }
check "agent killed: it fetched only the rest (${fetched:-?} of $IMAGE_BYTES bytes)" fetched_part
check "agent killed: the task is done" eq "$(json "/api/v1/tasks/$KID" '["state"]')" done
check "agent killed: the disk is byte-identical to the source" cmp "$W/source.img" "$W/agent-kill.img"

# --- pxed killed mid-deploy: the same agent retries and carries on -------------------
deploy_start resume
RID=$TID
b=$(wait_task "$RID" bytes 1)
check "resume: the deploy was under way when pxed was killed ($b bytes)" [ "$b" -gt 0 ]
kill -9 "$PXED_PID"
sleep 2
pxed_start || { echo "not ok - pxed restart"; exit 1; }
wait "$APID"
rc=$?
check "resume: pxe-agent finished with 0 after the restart (exit $rc)" [ $rc -eq 0 ]
check "resume: the agent saw the server go away and retried" \
	grep -qE "\(retrying\)$" "$W/resume.log"
check "resume: ... and the server answered again" \
	grep -qE ": server answered again after [0-9]+ tries$" "$W/resume.log"
check "resume: the task is done" eq "$(json "/api/v1/tasks/$RID" '["state"]')" done
check "resume: partition tables identical" disk_tables_equal "$W/source.img" "$W/resume.img"
check "resume: every file identical" disk_same_files "$SRC" "$W/resume.img"

# --- deploy from a mirror of the chunks ------------------------------------------
# The mirror logs each request's path and whether it carried a token.
cat >"$W/mirror.py" <<'PY'
import functools, http.server, sys
class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("GET %s token=%s\n" % (self.path, "Authorization" in self.headers))
        sys.stderr.flush()
handler = functools.partial(Handler, directory=sys.argv[1])
http.server.ThreadingHTTPServer((sys.argv[2], 8090), handler).serve_forever()
PY
# (not through in_srv: $! must be python itself for the cleanup to stop it)
ip netns exec "$LAB_SRV" python3 "$W/mirror.py" "$LAB_DIR/state/images/chunks" $LAB_SRV_IP \
	</dev/null >/dev/null 2>"$W/mirror.log" &
LAB_PIDS+=("$!")
for _ in $(seq 1 50); do in_cli curl -s -o /dev/null "http://$LAB_SRV_IP:8090/" && break; sleep 0.1; done
truncate -s 256M "$W/mirrored.img"
PMARK=$(stat -c %s "$LAB_DIR/pxed.log")
TT=$(task deploy lab1 golden)
agent "$TT" "$(task_of "$MAC")" "$W/mirrored.img" --chunk-url "http://$LAB_SRV_IP:8090/"
check "deploy from a mirror (--chunk-url): exits 0" [ $? -eq 0 ]
check "deploy from a mirror: every file reads back identical" disk_same_files "$SRC" "$W/mirrored.img"
MGETS=$(grep -c '^GET /[0-9a-f][0-9a-f]/[0-9a-f]*\.zst ' "$W/mirror.log")
check "deploy from a mirror: the mirror served the chunks ($MGETS)" [ "$MGETS" -gt 0 ]
PGETS=$(tail -c +$((PMARK + 1)) "$LAB_DIR/pxed.log" | grep -c 'GET /images/chunks/')
check "deploy from a mirror: pxed served none ($PGETS)" [ "$PGETS" -eq 0 ]
check "deploy from a mirror: the task token never reached it" \
	lacks "$(cat "$W/mirror.log")" "token=True"

# --- wipe --------------------------------------------------------------------------
TT=$(task wipe lab1)
agent "$TT" "$(task_of "$MAC")" "$W/resume.img"
check "wipe: exits 0" [ $? -eq 0 ]
check "wipe: no partition table is left" \
	bash -c "! sgdisk -p '$W/resume.img' 2>/dev/null | grep -q '^ *1 '"
check "wipe: first and last MiB are zero" \
	bash -c "head -c 1048576 '$W/resume.img' | cmp -s - <(head -c 1048576 /dev/zero) &&
		tail -c 1048576 '$W/resume.img' | cmp -s - <(head -c 1048576 /dev/zero)"

pxed_stop
check "pxed stopped cleanly" [ $? -eq 0 ]
check "no sanitizer report" pxed_log_clean
tap_failed && { echo "--- agent log ---"; tail -40 "$W/agent.log"
	for f in cancel agent-kill agent-kill-2 resume; do
		echo "--- $f.log ---"; tail -20 "$W/$f.log"
	done; }
lab_finish
