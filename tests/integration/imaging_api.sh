#!/bin/bash
# The imaging API with curl and pxectl against pxed in a two-namespace lab:
# the API token, hosts (registration by boot script, approval), host groups,
# tasks and their guards, deploys to a group (unicast, and a multicast
# session of the group's hosts), the boot script and its task token (the
# same token for the task's life), the agent's endpoints (403 for a wrong
# token, 409 once the task has ended or was cancelled), captures that would
# replace an image (409 unless asked to), chunk uploads verified by hash,
# manifests published only whole, chunks served as files, the image
# catalogue (listed from the store, reconciled with the manifests at a
# restart), the chunks of a capture that failed or was cancelled collected
# (not while another capture runs), a full disk (507) that leaves nothing
# behind, persistence across a restart; what a task does after it
# (after=reboot|poweroff|shell), local tasks (done once served), the no-task
# menu (no-task = menu), pxectl host rm, pxectl --json lists.
LAB_ID=${LAB_ID:-ia$$}
source "$(dirname "$0")/../lib/lab.sh"
source "$(dirname "$0")/../lib/api.sh"
lab_plan 224

lab_up || { echo "not ok - lab_up"; exit 1; }
lab_add_client_ip 192.0.2.3 || { echo "not ok - setup: a second client address"; exit 1; }
OUT=$LAB_DIR/out
mkdir -p "$OUT"
MAC=52:54:00:aa:00:01
MAC2=52:54:00:aa:00:02

# api METHOD PATH [TOKEN] [curl args...]: prints "STATUS BODY"
api() {
	local method=$1 path=$2 token=${3:-} auth=()
	shift 3 2>/dev/null || shift $#
	[ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
	in_cli timeout 30 curl -sS -X "$method" "${auth[@]}" -o "$OUT/body" \
		-w '%{http_code}' "$@" "$URL$path"
	echo " $(cat "$OUT/body" 2>/dev/null)"
}
code() { echo "${1%% *}"; }
body() { echo "${1#* }"; }
jget() { python3 -c 'import json,sys; v=json.loads(sys.argv[1]); print(eval("v"+sys.argv[2]))' "$(body "$1")" "$2"; }

pxed_start || { echo "not ok - pxed_start"; exit 1; }

# --- the token --------------------------------------------------------------
TOKEN=$(cat "$LAB_DIR/state/api-token")
check "api token created, 64 hex digits" [ "${#TOKEN}" -eq 64 ]
check "api token file is mode 600" eq "$(stat -c %a "$LAB_DIR/state/api-token")" 600

# --- hosts ------------------------------------------------------------------
r=$(api POST /api/v1/hosts "" -d "{\"mac\":\"$MAC\",\"name\":\"lab1\"}")
check "host add without a token: 401" eq "$(code "$r")" 401
r=$(api POST /api/v1/hosts "wrong-token-0123456789" -d "{\"mac\":\"$MAC\",\"name\":\"lab1\"}")
check "host add with a wrong token: 401" eq "$(code "$r")" 401
r=$(api POST /api/v1/hosts "$TOKEN" -d '{"mac":"nonsense"}')
check "host add with a bad MAC: 400" eq "$(code "$r")" 400
r=$(api POST /api/v1/hosts "$TOKEN" -d '{"mac":')
check "host add with broken JSON: 400" eq "$(code "$r")" 400
out=$(ctl host add "$MAC" lab1)
check "pxectl host add" has "$out" "approved  yes"
r=$(api GET /api/v1/boot/52-54-00-aa-00-09.ipxe)
check "boot script of an unknown host: 200" eq "$(code "$r")" 200
check "boot script of an unknown host: local boot (exit)" has "$(body "$r")" "^exit"
out=$(ctl host list)
check "an unknown host that booted is registered" has "$out" "52:54:00:aa:00:09"
r=$(api GET /api/v1/boot/not-a-mac.ipxe)
check "boot script for a non-MAC: 404" eq "$(code "$r")" 404
r=$(api POST /api/v1/boot/52-54-00-aa-00-09.ipxe "" -d '{}')
check "boot script by POST: 405" eq "$(code "$r")" 405
r=$(api DELETE /api/v1/tasks "$TOKEN")
check "a method the API path does not take: 405" eq "$(code "$r")" 405
r=$(api PUT /api/v1/status "" -d '{}')
check "a method a read-only path does not take: 405" eq "$(code "$r")" 405

# --- host groups --------------------------------------------------------------
for i in 1 2 3 4; do ctl host add "52:54:00:aa:01:0$i" "gr$i" >/dev/null; done
r=$(api POST /api/v1/groups/room1/add "" -d '{"hosts":["gr1"]}')
check "group add without a token: 401" eq "$(code "$r")" 401
r=$(api POST /api/v1/groups/room1/add "wrong-token-0123456789" -d '{"hosts":["gr1"]}')
check "group add with a wrong token: 401" eq "$(code "$r")" 401
out=$(ctl group add room1 gr1 52-54-00-AA-01-02)
check "pxectl group add (by name and by MAC): 2 hosts" has "$out" "^group room1: 2 hosts"
check "pxectl group add lists the members" has "$out" "^52:54:00:aa:01:02  gr2 "
r=$(api POST /api/v1/groups/room1/add "$TOKEN" -d '{"hosts":["gr3","nobody"]}')
check "group add with an unknown host: 404 naming it" \
	eq "$(code "$r") $(jget "$r" '["error"]')" "404 no host nobody"
check "... and nothing added" eq "$(json /api/v1/groups/room1 '["hosts"].__len__()')" 2
r=$(api POST /api/v1/groups/bad%20name/add "$TOKEN" -d '{"hosts":["gr3"]}')
check "group add to a bad group name: 400" eq "$(code "$r")" 400
r=$(api POST /api/v1/groups/room1/add "$TOKEN" -d '{"hosts":"gr3"}')
check "group add with hosts not an array: 400" eq "$(code "$r")" 400
r=$(api POST /api/v1/groups/room1/add "$TOKEN" -d '{"hosts":[]}')
check "group add of no hosts: 400" eq "$(code "$r")" 400
r=$(api POST /api/v1/groups/room1/add "$TOKEN" -d '{"hosts":')
check "group add with broken JSON: 400" eq "$(code "$r")" 400
ctl group add lab gr3 gr1 gr4 >/dev/null
r=$(api GET /api/v1/groups "$TOKEN")
check "group list: names and member counts" eq "$(jget "$r" '["groups"]')" \
	"[{'name': 'lab', 'members': 3}, {'name': 'room1', 'members': 2}]"
out=$(ctl group list)
check "pxectl group list" has "$out" "^room1 *2$"
out=$(ctl --json group list)
check "pxectl --json group list prints the server's JSON" has "$out" '{"groups":\[{"name":"lab","members":3}'
r=$(api GET /api/v1/hosts/gr1 "$TOKEN")
check "a host lists its groups" eq "$(jget "$r" '["groups"]')" "['lab', 'room1']"
out=$(ctl host show gr1)
check "pxectl host show: its groups" has "$out" "^  groups    lab, room1$"
out=$(ctl host show gr2)
check "pxectl host show: one group" has "$out" "^  groups    room1$"
r=$(api GET /api/v1/groups/nowhere "$TOKEN")
check "an unknown group: 404" eq "$(code "$r")" 404
out=$(ctl group show nowhere 2>&1)
rc=$?
check "pxectl group show of an unknown group: exit 1, says why" \
	eq "$rc $(grep -c 'no group nowhere' <<<"$out")" "1 1"
r=$(api POST /api/v1/groups/room1/remove "$TOKEN" -d '{"hosts":["gr1","gr3"]}')
check "removing a host that is not in the group: 404 naming it" \
	eq "$(code "$r") $(jget "$r" '["error"]')" "404 host 52:54:00:aa:01:03 is not in group room1"
check "... and nothing removed" eq "$(json /api/v1/groups/room1 '["hosts"].__len__()')" 2
r=$(api POST /api/v1/groups/nowhere/remove "$TOKEN" -d '{"hosts":["gr1"]}')
check "removing from an unknown group: 404" eq "$(code "$r") $(jget "$r" '["error"]')" \
	"404 no group nowhere"
r=$(api POST /api/v1/groups/room1/remove "" -d '{"hosts":["gr1"]}')
check "group remove without a token: 401" eq "$(code "$r")" 401
out=$(ctl group rm lab gr3)
check "pxectl group rm" has "$out" "^group lab: 2 hosts"
out=$(ctl --json group show lab)
check "pxectl --json group show: the members" eq \
	"$(python3 -c 'import json,sys; print([h["name"] for h in json.loads(sys.argv[1])["hosts"]])' "$out")" \
	"['gr1', 'gr4']"
ctl host rm gr4 >/dev/null
check "removing a host takes it out of its groups" eq "$(json /api/v1/groups/lab '["hosts"].__len__()')" 1
r=$(api DELETE /api/v1/groups/lab "")
check "group delete without a token: 401" eq "$(code "$r")" 401
out=$(ctl group delete lab)
check "pxectl group delete" [ $? -eq 0 ]
r=$(api GET /api/v1/groups/lab "$TOKEN")
check "a deleted group is gone" eq "$(code "$r")" 404
r=$(api DELETE /api/v1/groups/lab "$TOKEN")
check "deleting an unknown group: 404" eq "$(code "$r")" 404
check "its hosts stay" eq "$(json /api/v1/hosts/gr1 '["groups"]')" "['room1']"

# --- tasks --------------------------------------------------------------------
r=$(api POST /api/v1/tasks "$TOKEN" -d "{\"host\":\"lab1\",\"type\":\"deploy\",\"image\":\"none\"}")
check "deploy of a missing image: 404" eq "$(code "$r")" 404
r=$(api POST /api/v1/tasks "$TOKEN" -d "{\"host\":\"lab1\",\"type\":\"explode\"}")
check "unknown task type: 400" eq "$(code "$r")" 400
r=$(api POST /api/v1/tasks "$TOKEN" -d "{\"host\":\"nobody\",\"type\":\"wipe\"}")
check "task for an unknown host: 404" eq "$(code "$r")" 404
out=$(ctl task capture lab1 golden)
check "pxectl task capture" has "$out" "capture  golden"
r=$(api POST /api/v1/tasks "$TOKEN" -d "{\"host\":\"$MAC\",\"type\":\"wipe\"}")
check "a second task for a busy host: 409" eq "$(code "$r")" 409

# --- the boot script and the task token ---------------------------------------
r=$(api GET /api/v1/boot/52:54:00:aa:00:01.grub)
g=$(body "$r")
check "GRUB script: linux line over (http,server)" \
	has "$g" "^linux (http,$LAB_SRV_IP)/bootenv/vmlinuz console=tty0 console=ttyS0 pxed.server=http://$LAB_SRV_IP pxed.task=1 "
check "GRUB script: initrd line" has "$g" "^initrd (http,$LAB_SRV_IP)/bootenv/initrd"
r=$(api GET /api/v1/boot/pxelinux.cfg/01-52-54-00-aa-00-01)
p=$(body "$r")
check "PXELINUX config (pxelinux.cfg/01-MAC): KERNEL, INITRD, APPEND" \
	bash -c "grep -q '^  KERNEL http://$LAB_SRV_IP/bootenv/vmlinuz' <<<'$p' &&
		grep -q '^  INITRD http://$LAB_SRV_IP/bootenv/initrd' <<<'$p' &&
		grep -q '^  APPEND .*pxed.token=[0-9a-f]\{64\}' <<<'$p'"
r=$(api GET /api/v1/boot/52-54-00-aa-00-09.pxelinux)
check "PXELINUX config without a task: LOCALBOOT" has "$(body "$r")" "LOCALBOOT 0"
r=$(api GET /api/v1/boot/52-54-00-AA-00-01.ipxe)
script=$(body "$r")
check "boot script with a task: kernel line" has "$script" "kernel http://$LAB_SRV_IP/bootenv/vmlinuz"
check "boot script with a task: initrd line" has "$script" "initrd --name initrd http://$LAB_SRV_IP/bootenv/initrd"
check "boot script with a task: server and task on the command line" \
	has "$script" "pxed.server=http://$LAB_SRV_IP pxed.task=1 "
TT=$(sed -n 's/.*pxed\.token=\([0-9a-f]*\).*/\1/p' <<<"$script")
check "boot script with a task: a 64-digit task token" [ "${#TT}" -eq 64 ]
check "the task token is not stored in clear" \
	bash -c "! grep -qa '$TT' '$LAB_DIR'/state/pxed.db*"
check "the token stays the same when the script is fetched again (PXELINUX, iPXE)" \
	has "$p" "pxed.token=$TT "
r=$(api GET /api/v1/agent/task "")
check "agent without a token: 401" eq "$(code "$r")" 401
r=$(api GET /api/v1/agent/task "$TOKEN")
check "agent with the admin token: 403" eq "$(code "$r")" 403
r=$(api GET /api/v1/agent/task "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
check "agent with a wrong task token: 403" eq "$(code "$r")" 403
r=$(api POST /api/v1/agent/progress "$TT" -d '{"phase":"capture","bytes":1,"total":2}')
check "progress before the task was fetched: 409" eq "$(code "$r")" 409
r=$(api GET /api/v1/agent/task "$TT")
check "agent fetches its task: 200" eq "$(code "$r")" 200
check "the task is a capture of golden" eq "$(jget "$r" '["type"]')/$(jget "$r" '["image"]')" capture/golden
check "the task names the chunk URL" eq "$(jget "$r" '["chunk_url"]')" "$URL/images/chunks/"
r=$(api POST /api/v1/agent/inventory "$TT" -d '{"cpu":"Test CPU","cores":2,"ram":1073741824}')
check "inventory: 204" eq "$(code "$r")" 204
check "a running task's token survives a fetch of the boot script" \
	eq "$(token_of "$MAC")" "$TT"
r=$(api POST /api/v1/agent/progress "$TT" -d '{"phase":"capture","bytes":1,"total":2}')
check "... and the running agent goes on: progress 204" eq "$(code "$r")" 204
# The token is bound to the address that fetched the script (192.0.2.2):
# from 192.0.2.3 the script (it would carry the token) and the agent's
# routes are refused, logged once per 10 s, put in the timeline, counted.
OTHER=(--interface 192.0.2.3)
mark=$(log_mark)
r=$(api GET "/api/v1/boot/52-54-00-aa-00-01.ipxe" "" "${OTHER[@]}")
check "the task's script fetched from another address: 403" eq "$(code "$r")" 403
check "... and it carries no token" lacks "$r" "$TT"
r=$(api GET /api/v1/agent/task "$TT" "${OTHER[@]}")
check "the task token used from another address: 403" eq "$(code "$r")" 403
for i in 1 2 3 4 5; do
	api POST /api/v1/agent/progress "$TT" "${OTHER[@]}" -d '{"phase":"x","bytes":1,"total":2}' \
		>/dev/null
done
n=$(log_since "$mark" | grep -c "task 1 (host $MAC) from 192.0.2.3, its token is bound to 192.0.2.2: refused")
check "seven refusals within 10 s: one log line" eq "$n" 1
r=$(api GET "/api/v1/clients/$MAC" "$TOKEN")
check "the refusal is in the host's boot timeline" has "$r" '"kind":"task-token-refused"'
n=$(in_cli curl -sS "$URL/metrics" | sed -n 's/^pxed_api_task_tokens_refused_total \([0-9]*\)$/\1/p')
check "... and counted in /metrics" eq "$n" 7
r=$(api POST /api/v1/agent/progress "$TT" -d '{"phase":"capture","bytes":1,"total":2}')
check "the agent goes on from its own address: progress 204" eq "$(code "$r")" 204
out=$(ctl host show lab1)
check "pxectl host show: inventory and running task" has "$out" "Test CPU (2 cores)"
check "pxectl host show: the task runs" has "$out" "running"

# --- chunks -------------------------------------------------------------------
head -c 3000000 /dev/urandom >"$OUT/c1"
yes pxed | head -c 2000000 >"$OUT/c2"
for c in c1 c2; do zstd -q -f "$OUT/$c" -o "$OUT/$c.zst"; done
S1=$(sha256sum <"$OUT/c1" | cut -c1-64)
S2=$(sha256sum <"$OUT/c2" | cut -c1-64)
r=$(api POST /api/v1/agent/chunks/missing "$TT" -d "[\"$S1\",\"$S2\"]")
check "chunks/missing: both missing" eq "$(jget "$r" '.__len__()')" 2
r=$(api PUT "/api/v1/agent/chunks/$S1" "$TT" --data-binary "@$OUT/c1.zst")
check "chunk upload: 201" eq "$(code "$r")" 201
r=$(api PUT "/api/v1/agent/chunks/$S1" "$TT" --data-binary "@$OUT/c1.zst")
check "the same chunk again: 200" eq "$(code "$r")" 200
r=$(api PUT "/api/v1/agent/chunks/$S2" "$TT" --data-binary "@$OUT/c1.zst")
check "a chunk under a wrong hash: 422" eq "$(code "$r")" 422
head -c 5000 "$OUT/c1.zst" >"$OUT/cut.zst"
r=$(api PUT "/api/v1/agent/chunks/$S2" "$TT" --data-binary "@$OUT/cut.zst")
check "a cut chunk: 400" eq "$(code "$r")" 400
head -c 20000000 /dev/zero >"$OUT/big"
r=$(api PUT "/api/v1/agent/chunks/$S2" "$TT" --data-binary "@$OUT/big")
check "a chunk body over the limit: 413" eq "$(code "$r")" 413
r=$(api POST /api/v1/agent/chunks/missing "$TT" -d "[\"$S1\",\"$S2\"]")
check "chunks/missing: only the second is missing" eq "$(jget "$r" '[0]')" "$S2"
r=$(api POST /api/v1/agent/chunks/missing "$TT" -d '["xyz"]')
check "chunks/missing with a bad hash: 400" eq "$(code "$r")" 400
man() {
	printf '{"format":1,"name":"%s","created":1700000000,"disk":{"size":%s,"sector_size":512,"table":"none"},"chunk_size":4194304,"partitions":[],"table_chunks":[],"chunks":[[0,3000000,"%s"],[4194304,2000000,"%s"]]}' \
		"$1" 67108864 "$S1" "$S2" >"$OUT/manifest"
}
man golden
r=$(api PUT /api/v1/agent/manifest "$TT" --data-binary "@$OUT/manifest")
check "manifest with a missing chunk: 409" eq "$(code "$r")" 409
check "manifest with a missing chunk: names it" has "$(body "$r")" "$S2"
check "no half image is listed (the catalogue is empty)" eq "$(json /api/v1/images '["images"]')" "[]"
r=$(api PUT "/api/v1/agent/chunks/$S2" "$TT" --data-binary "@$OUT/c2.zst")
check "second chunk upload: 201" eq "$(code "$r")" 201
man other
r=$(api PUT /api/v1/agent/manifest "$TT" --data-binary "@$OUT/manifest")
check "manifest for another image than the task's: 403" eq "$(code "$r")" 403
man golden
r=$(api PUT /api/v1/agent/manifest "$TT" --data-binary "@$OUT/manifest")
check "manifest published: 201" eq "$(code "$r")" 201
out=$(ctl image list)
check "pxectl image list shows golden" has "$out" "golden"
r=$(api GET /api/v1/images/golden "$TOKEN")
check "image info: 2 chunks, 5000000 bytes used" eq "$(jget "$r" '["chunks"]')/$(jget "$r" '["used"]')" 2/5000000
in_cli timeout 30 curl -sS -o "$OUT/got.zst" "$URL/images/chunks/${S1:0:2}/$S1.zst"
check "chunks are served as files" cmp "$OUT/got.zst" "$OUT/c1.zst"
r=$(api GET /api/v1/images/golden/manifest)
check "the manifest needs the token: 401" eq "$(code "$r")" 401
r=$(api GET /api/v1/images/golden/manifest "$TOKEN")
check "the manifest with the token: 200" eq "$(code "$r")" 200
r=$(api GET /images/manifests/golden.json)
check "manifests are not served as files" eq "$(code "$r")" 404
r=$(api POST /api/v1/agent/progress "$TT" -d '{"phase":"capture","bytes":5000000,"total":5000000,"rate":100}')
check "progress: 204" eq "$(code "$r")" 204
r=$(api POST /api/v1/agent/result "$TT" -d '{"ok":true,"message":"captured","log":"all good"}')
check "result: 204" eq "$(code "$r")" 204
out=$(ctl task show 1)
check "pxectl task show: done, captured" has "$out" "done"
r=$(api GET /api/v1/agent/task "$TT")
check "the token of an ended task: 409" eq "$(code "$r")" 409
check "... saying the task has ended" has "$(jget "$r" '["error"]')" "task 1 has ended (done)"
out=$(ctl image verify golden)
check "pxectl image verify: every chunk verified" has "$out" "every chunk verified"
check "the catalogue names the capture task that made the image" \
	eq "$(json /api/v1/images/golden '["task"]')" 1

# --- a capture into an existing image ---------------------------------------------
r=$(api POST /api/v1/tasks "$TOKEN" -d '{"host":"lab1","type":"capture","image":"golden"}')
check "a capture into an existing image: 409" eq "$(code "$r")" 409
check "... saying the image exists" has "$(jget "$r" '["error"]')" "image golden exists"
out=$(ctl task capture lab1 golden 2>&1)
check "pxectl task capture into an existing image fails" has "$out" "exists"
out=$(ctl task capture --replace lab1 golden)
check "pxectl task capture --replace: created" has "$out" "capture  golden"
RID=$(task_of "$MAC")
check "the task carries the replace flag" eq "$(json "/api/v1/tasks/$RID" '["replace"]')" True
ctl task cancel "$RID" >/dev/null
# two captures into one new name: the second to publish is refused
MAC3=52:54:00:aa:00:03
ctl host add "$MAC3" lab3 >/dev/null
ctl task capture lab1 twin >/dev/null
ctl task capture lab3 twin >/dev/null
T1=$(token_of "$MAC")
T3=$(token_of "$MAC3")
api GET /api/v1/agent/task "$T1" >/dev/null
api GET /api/v1/agent/task "$T3" >/dev/null
man twin
r=$(api PUT /api/v1/agent/manifest "$T1" --data-binary "@$OUT/manifest")
check "first capture into a new name publishes: 201" eq "$(code "$r")" 201
r=$(api PUT /api/v1/agent/manifest "$T3" --data-binary "@$OUT/manifest")
check "second capture into it (no replace): 409" eq "$(code "$r")" 409
check "... saying the image exists" has "$(jget "$r" '["error"]')" "image twin exists"
ctl task cancel "$(task_of "$MAC")" >/dev/null
ctl task cancel "$(task_of "$MAC3")" >/dev/null

# --- chunks of a capture that ends without an image -------------------------------
IMAGES=$LAB_DIR/state/images
chunk_file() { echo "$IMAGES/chunks/${1:0:2}/$1.zst"; }
# capture_started MAC IMAGE: a capture task for the host, fetched by its
# "agent"; prints the task token
capture_started() {
	ctl task capture "$1" "$2" >/dev/null
	local t
	t=$(token_of "$1")
	api GET /api/v1/agent/task "$t" >/dev/null
	echo "$t"
}
# new_chunk NAME: a random chunk in $OUT/NAME.zst; prints its sha256
new_chunk() {
	head -c 300000 /dev/urandom >"$OUT/$1"
	zstd -q -f "$OUT/$1" -o "$OUT/$1.zst"
	sha256sum <"$OUT/$1" | cut -c1-64
}
TA=$(capture_started "$MAC" orphan-a)
TB=$(capture_started "$MAC3" orphan-b)
SA=$(new_chunk ca)
SB=$(new_chunk cb)
r=$(api PUT "/api/v1/agent/chunks/$SA" "$TA" --data-binary "@$OUT/ca.zst")
check "capture A uploads a chunk: 201" eq "$(code "$r")" 201
r=$(api PUT "/api/v1/agent/chunks/$SB" "$TB" --data-binary "@$OUT/cb.zst")
check "capture B uploads a chunk: 201" eq "$(code "$r")" 201
m0=$(log_mark)
ctl task cancel "$(task_of "$MAC3")" >/dev/null
check "B cancelled while A runs: the chunks stay (A's may be among them)" \
	bash -c "[ -f '$(chunk_file "$SA")' ] && [ -f '$(chunk_file "$SB")' ]"
check "... and the log says why" has "$(log_since "$m0")" \
	'capture task [0-9]* cancelled; its chunks are kept while 1 other'
r=$(api POST /api/v1/agent/result "$TA" -d '{"ok":false,"message":"the disk went away"}')
check "capture A fails: 204" eq "$(code "$r")" 204
check "the last capture failed: both orphan chunks are deleted" \
	bash -c "[ ! -e '$(chunk_file "$SA")' ] && [ ! -e '$(chunk_file "$SB")' ]"
check "... and the log says what was freed" has "$(log_since "$m0")" \
	'capture task [0-9]* failed: 2 chunk(s) no image uses deleted, [0-9]* bytes freed'
check "the published images' chunks stay" \
	bash -c "[ -f '$(chunk_file "$S1")' ] && [ -f '$(chunk_file "$S2")' ]"
out=$(ctl image verify golden)
check "pxectl image verify golden after the collection: every chunk verified" \
	has "$out" "every chunk verified"
out=$(ctl image verify twin)
check "pxectl image verify twin after the collection: every chunk verified" \
	has "$out" "every chunk verified"
TA=$(capture_started "$MAC" orphan-c)
r=$(api PUT "/api/v1/agent/chunks/$SA" "$TA" --data-binary "@$OUT/ca.zst")
check "a new capture uploads a chunk: 201" eq "$(code "$r")" 201
m0=$(log_mark)
ctl task cancel "$(task_of "$MAC")" >/dev/null
check "the capture cancelled: its chunk is deleted" bash -c "[ ! -e '$(chunk_file "$SA")' ]"
check "... logged" has "$(log_since "$m0")" \
	'capture task [0-9]* cancelled: 1 chunk(s) no image uses deleted'
check "no image was made by the failed captures" \
	eq "$(json /api/v1/images '["images"] and [i["name"] for i in v["images"]]')" "['golden', 'twin']"

# --- deploy, cancel -------------------------------------------------------------
out=$(ctl task deploy lab1 golden)
check "pxectl task deploy" has "$out" "deploy  *golden"
r=$(api GET /api/v1/boot/$MAC.ipxe)
TT=$(sed -n 's/.*pxed\.token=\([0-9a-f]*\).*/\1/p' <<<"$(body "$r")")
r=$(api GET /api/v1/agent/task "$TT")
check "deploy task carries the manifest" eq "$(jget "$r" '["manifest"]["chunks"][1][2]')" "$S2"
r=$(api PUT "/api/v1/agent/chunks/$S1" "$TT" --data-binary "@$OUT/c1.zst")
check "a deploy task cannot upload chunks: 403" eq "$(code "$r")" 403
DID=$(task_of "$MAC")
out=$(ctl task cancel "$DID")
check "pxectl task cancel" has "$out" "cancelled"
r=$(api POST /api/v1/agent/progress "$TT" -d '{"phase":"deploy","bytes":1,"total":2}')
check "progress of a cancelled task: 409" eq "$(code "$r")" 409
check "... saying it was cancelled" \
	eq "$(jget "$r" '["state"]'): $(jget "$r" '["error"]')" \
	"cancelled: task $DID was cancelled (cancelled): cancelled by the administrator"
r=$(api POST /api/v1/agent/result "$TT" -d '{"ok":true,"message":"deployed"}')
check "the result of a cancelled task: 409" eq "$(code "$r")" 409
check "the cancelled task stays cancelled" eq "$(json "/api/v1/tasks/$DID" '["state"]')" cancelled
r=$(api GET /api/v1/boot/$MAC.ipxe)
check "the boot script once the task is cancelled: 200, an iPXE script" \
	has "$(code "$r") $(body "$r")" "^200 #!ipxe"
check "... without a token" lacks "$(body "$r")" pxed.token
ctl task wipe lab1 >/dev/null
NEWTT=$(token_of "$MAC")
new_token() { [ "${#NEWTT}" -eq 64 ] && [ "$NEWTT" != "$TT" ]; }
check "a new task gets a new token (${NEWTT:0:8}.., was ${TT:0:8}..)" new_token
ctl task cancel "$(task_of "$MAC")" >/dev/null

# --- what a task does after it, local tasks -----------------------------------------
out=$(ctl task wipe lab1 --after poweroff)
check "pxectl task wipe --after poweroff: shown" has "$out" " wipe .* pending  *poweroff "
AID=$(task_of "$MAC")
check "the task's JSON carries after" eq "$(json "/api/v1/tasks/$AID" '["after"]')" poweroff
r=$(api GET /api/v1/boot/$MAC.ipxe)
check "the boot script of an after=poweroff task carries it (iPXE)" \
	has "$(body "$r")" "pxed.mac=$MAC pxed.after=poweroff quiet$"
r=$(api GET /api/v1/boot/$MAC.grub)
check "... and GRUB" has "$(body "$r")" "^linux .* pxed.after=poweroff quiet$"
out=$(ctl task show "$AID")
check "pxectl task show: after" has "$out" "^  after   poweroff$"
ctl task cancel "$AID" >/dev/null
r=$(api POST /api/v1/tasks "$TOKEN" -d '{"host":"lab1","type":"wipe","after":"bogus"}')
check "after=bogus: 400 naming it" \
	eq "$(code "$r") $(jget "$r" '["error"]')" "400 after: 'bogus' is not reboot, poweroff or shell"
check "... and no task made" eq "$(json /api/v1/hosts/lab1 '["task"]')" None
out=$(ctl task capture lab1 newimg --after halt 2>&1)
rc=$?
check "pxectl task capture --after halt: exit 1, says why" \
	eq "$rc $(grep -c "'halt' is not reboot" <<<"$out")" "1 1"
r=$(api POST /api/v1/tasks "$TOKEN" -d '{"host":"lab1","type":"shell","after":"reboot"}')
check "a shell task told to reboot: 400" eq "$(code "$r")" 400
r=$(api POST /api/v1/tasks "$TOKEN" -d '{"host":"lab1","type":"local","after":"poweroff"}')
check "a local task with an after: 400" eq "$(code "$r")" 400
r=$(api POST /api/v1/tasks "$TOKEN" -d '{"host":"lab1","type":"shell"}')
check "a shell task stays at the shell" eq "$(code "$r") $(jget "$r" '["after"]')" "201 shell"
check "... and its script says so" has "$(body "$(api GET /api/v1/boot/$MAC.ipxe)")" "pxed.after=shell "
ctl task cancel "$(task_of "$MAC")" >/dev/null
r=$(api POST /api/v1/tasks "$TOKEN" -d '{"host":"lab1","type":"deploy","image":"golden"}')
check "a deploy reboots by default" eq "$(code "$r") $(jget "$r" '["after"]')" "201 reboot"
check "... and its script says so" has "$(body "$(api GET /api/v1/boot/$MAC.ipxe)")" "pxed.after=reboot "
ctl task cancel "$(task_of "$MAC")" >/dev/null
out=$(ctl task local lab1)
check "pxectl task local" has "$out" " local  .* pending "
LID=$(task_of "$MAC")
r=$(api GET /api/v1/boot/$MAC.ipxe)
check "a local task: the script boots the local disk" \
	eq "$(body "$r")" "$(printf '#!ipxe\n# pxed task %s: local: boot from the local disk\nexit' "$LID")"
check "the local task is done once its script was served" \
	eq "$(json "/api/v1/tasks/$LID" '["state"]')" done
r=$(api GET /api/v1/boot/$MAC.ipxe)
check "the next fetch is the no-task script" has "$(body "$r")" "^# no task: boot from the local disk$"
check "the boot timeline records the local boot" eq "$(python3 -c 'import sqlite3,sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
print(db.execute("SELECT count(*) FROM events WHERE kind = ? AND detail = ?",
    ("boot-script", "task %s: local (done)" % sys.argv[2])).fetchone()[0])' \
	"$LAB_DIR/state/pxed.db" "$LID")" 1
ctl task local lab1 >/dev/null
r=$(api GET /api/v1/boot/$MAC.pxelinux)
check "a local task, PXELINUX: LOCALBOOT" has "$(body "$r")" "^  LOCALBOOT 0$"
check "... and done" eq "$(json "/api/v1/tasks/$(($LID + 1))" '["state"]')" done

# --- pxectl host rm, --json ---------------------------------------------------------
ctl host add 52:54:00:aa:00:0e rmme >/dev/null
ctl group add rmgroup rmme >/dev/null
ctl task wipe rmme >/dev/null
RMID=$(task_of 52:54:00:aa:00:0e)
out=$(ctl host rm rmme)
check "pxectl host rm: exit 0" [ $? -eq 0 ]
check "... the host is gone" eq "$(code "$(api GET /api/v1/hosts/52:54:00:aa:00:0e "$TOKEN")")" 404
check "... with its task" eq "$(code "$(api GET "/api/v1/tasks/$RMID" "$TOKEN")")" 404
check "... and its group (it was the only member)" eq "$(code "$(api GET /api/v1/groups/rmgroup "$TOKEN")")" 404
out=$(ctl host rm rmme 2>&1)
rc=$?
check "pxectl host rm of an unknown host: exit 1, says why" \
	eq "$rc $(grep -c 'no host rmme' <<<"$out")" "1 1"
# json_ok TEXT EXPR: TEXT parses as JSON (v) and the Python EXPR holds
json_ok() {
	python3 -c 'import json,sys; v=json.load(sys.stdin); sys.exit(0 if eval(sys.argv[1]) else 1)' \
		"$2" <<<"$1" || { echo "# not JSON, or $2 is false: ${1:0:300}"; return 1; }
}
check "pxectl --json host list: JSON, the host's fields" json_ok "$(ctl --json host list)" \
	"[h for h in v['hosts'] if h['mac'] == '$MAC' and h['name'] == 'lab1' and h['approved']
	  and {'arch', 'uuid', 'first_seen', 'last_seen', 'inventory'} <= h.keys()]"
check "pxectl --json task list: JSON, the tasks' fields" json_ok "$(ctl --json task list)" \
	"[t for t in v['tasks'] if t['id'] == $LID and t['host'] == '$MAC' and t['type'] == 'local'
	  and t['state'] == 'done' and {'image', 'after', 'verify', 'created', 'message'} <= t.keys()]"
check "pxectl --json image list: JSON, the image's fields" json_ok "$(ctl --json image list)" \
	"[i for i in v['images'] if i['name'] == 'golden' and i['chunks'] == 2 and i['used'] == 5000000
	  and {'created', 'disk_size', 'stored', 'partitions'} <= i.keys()]"

# --- approval, restart ------------------------------------------------------------
# behind pxed's back: a manifest added, another removed; the catalogue
# (what the API lists) does not know until the next start
sed 's/"name":"golden"/"name":"extra"/' "$IMAGES/manifests/golden.json" >"$IMAGES/manifests/extra.json"
rm "$IMAGES/manifests/twin.json"
check "the API lists the catalogue, not the manifests (before a restart)" \
	eq "$(json /api/v1/images '["images"] and [i["name"] for i in v["images"]]')" "['golden', 'twin']"
m0=$(log_mark)
check "pxed stops cleanly (restart with host approval)" pxed_stop
pxed_start --host-approval yes || { echo "not ok - pxed restart"; exit 1; }
out=$(ctl image list)
check "a restart reconciles: the added manifest is listed, the removed one is not" \
	bash -c "grep -q '^extra ' <<<'$out' && grep -q '^golden ' <<<'$out' && ! grep -q twin <<<'$out'"
r=$(api GET /api/v1/images/extra "$TOKEN")
check "the added image's row agrees with its manifest (2 chunks, 5000000 bytes, no task)" \
	eq "$(jget "$r" '["chunks"]')/$(jget "$r" '["used"]')/$(jget "$r" '["task"]')" 2/5000000/0
check "the golden row is kept (its capture task still named)" \
	eq "$(json /api/v1/images/golden '["task"]')" 1
r=$(api GET /api/v1/images/twin "$TOKEN")
check "the removed image: 404" eq "$(code "$r")" 404
log=$(log_since "$m0")
check "the reconciliation is logged: added" has "$log" "images: extra: a published manifest without a catalogue row: row added"
check "the reconciliation is logged: removed" has "$log" "images: twin: its manifest is gone: catalogue row removed"
check "the reconciliation is logged: a summary" has "$log" "catalogue reconciled with .*: 1 image(s) as recorded, 1 added, 0 updated, 1 removed"
out=$(ctl image rm extra)
check "pxectl image rm: the manifest and the row go" \
	bash -c "[ ! -e '$IMAGES/manifests/extra.json' ] && ! grep -q extra <<<'$(ctl image list)'"
out=$(ctl task list)
check "tasks survive a restart" has "$out" "cancelled"
r=$(api GET /api/v1/boot/$MAC2.ipxe)
check "with host-approval, a new host boots locally" has "$(body "$r")" "not approved"
out=$(ctl task wipe "$MAC2")
r=$(api GET /api/v1/boot/$MAC2.ipxe)
check "... even with a task, until approved" has "$(body "$r")" "not approved"
ctl host approve "$MAC2" >/dev/null
WID=$(task_of "$MAC2")
r=$(api GET /api/v1/boot/$MAC2.ipxe)
check "approved: it boots its task" has "$(body "$r")" "pxed.task=$WID "
T2=$(sed -n 's/.*pxed\.token=\([0-9a-f]*\).*/\1/p' <<<"$(body "$r")")
check "pxed stops cleanly (restart with a pending task)" pxed_stop
pxed_start --host-approval yes || { echo "not ok - pxed restart"; exit 1; }
check "the task token is the same after a restart" same_value "$T2" "$(token_of "$MAC2")"
ctl task cancel "$WID" >/dev/null

# --- deploys to a group ---------------------------------------------------------------
# new_tasks N: "host/type/image/state" of the newest N tasks, sorted
new_tasks() {
	in_cli timeout 10 curl -sS -H "$(lab_auth)" "$URL/api/v1/tasks" | python3 -c "import json,sys
t = json.load(sys.stdin)['tasks'][:$1]
print(' '.join(sorted('/'.join((x['host'], x['type'], x['image'], x['state'])) for x in t)))"
}
ntasks() { json /api/v1/tasks '["tasks"].__len__()'; }
# cancel_newest N: cancel the newest N tasks
cancel_newest() {
	local id
	for id in $(in_cli timeout 10 curl -sS -H "$(lab_auth)" "$URL/api/v1/tasks" |
		python3 -c "import json,sys; print(*[t['id'] for t in json.load(sys.stdin)['tasks'][:$1]])"); do
		ctl task cancel "$id" >/dev/null
	done
}
check "groups survive a restart" eq "$(json /api/v1/groups/room1 '["hosts"].__len__()')" 2
n0=$(ntasks)
r=$(api POST /api/v1/mcast "$TOKEN" -d '{"name":"s0","image":"golden","group":"nowhere"}')
check "multicast deploy to an unknown group: 404" eq "$(code "$r") $(jget "$r" '["error"]')" \
	"404 no group nowhere (or it has no hosts)"
r=$(api POST /api/v1/mcast "$TOKEN" -d '{"name":"s0","image":"golden","group":"room1","hosts":["nobody"]}')
check "multicast deploy to a group and an unknown host: 404" eq "$(code "$r")" 404
r=$(api POST /api/v1/mcast "$TOKEN" -d '{"name":"s0","image":"golden"}')
check "multicast deploy without hosts or group: 400" eq "$(code "$r")" 400
out=$(ctl task deploy --group nowhere golden 2>&1)
check "pxectl task deploy --group of an unknown group fails" has "$out" "no group nowhere"
check "... and no session or task was made" \
	eq "$(json /api/v1/mcast '["sessions"].__len__()') $(ntasks)" "0 $n0"
out=$(ctl task deploy --multicast s1 --group room1 golden gr3 gr1)
check "task deploy --multicast S --group G IMAGE HOST: the session waits" \
	has "$out" "^session s1: image golden, waiting"
check "one deploy task for each of the group's hosts and the extra host" \
	eq "$(ntasks) $(new_tasks 3)" "$((n0 + 3)) 52:54:00:aa:01:01/deploy/golden/pending 52:54:00:aa:01:02/deploy/golden/pending 52:54:00:aa:01:03/deploy/golden/pending"
r=$(api GET /api/v1/mcast/s1 "$TOKEN")
check "the session waits for those 3 receivers" \
	eq "$(code "$r") $(jget "$r" '["min_receivers"]')" "200 3"
TT=$(token_of 52:54:00:aa:01:02)
r=$(api GET /api/v1/agent/task "$TT")
check "a group member's task joins session s1" eq "$(jget "$r" '["multicast"]["name"]')" s1
r=$(api POST /api/v1/mcast "$TOKEN" -d '{"name":"s2","image":"golden","group":"room1"}')
check "a session for a busy group: 409, no session" \
	eq "$(code "$r") $(code "$(api GET /api/v1/mcast/s2 "$TOKEN")")" "409 404"
ctl mcast cancel s1 >/dev/null
cancel_newest 3
n0=$(ntasks)
out=$(ctl task deploy --group room1 golden --no-verify)
check "pxectl task deploy --group: a unicast task per member" \
	eq "$(ntasks) $(new_tasks 2)" "$((n0 + 2)) 52:54:00:aa:01:01/deploy/golden/pending 52:54:00:aa:01:02/deploy/golden/pending"
check "pxectl task deploy --group prints the tasks" has "$out" "52:54:00:aa:01:02  deploy  *golden"
r=$(api POST /api/v1/tasks "$TOKEN" -d '{"group":"room1","type":"capture","image":"x"}')
check "a group capture: 400" eq "$(code "$r")" 400
r=$(api POST /api/v1/tasks "$TOKEN" -d '{"group":"room1","host":"gr3","type":"wipe"}')
check "a task for a host and a group: 400" eq "$(code "$r")" 400
r=$(api POST /api/v1/tasks "" -d '{"group":"room1","type":"wipe"}')
check "group tasks without a token: 401" eq "$(code "$r")" 401
cancel_newest 2

# --- no-task = menu ---------------------------------------------------------------------
check "pxed stops cleanly (restart with no-task = menu)" pxed_stop
pxed_start --no-task menu --no-task-menu-timeout 7 --host-approval yes ||
	{ echo "not ok - pxed restart"; exit 1; }
r=$(api GET /api/v1/boot/$MAC.ipxe)
m=$(body "$r")
check "no-task = menu: an iPXE menu" has "$m" "^menu "
check "... the local disk item" has "$m" "^item local Boot from local disk$"
check "... the shell item" has "$m" "^item shell Imaging environment: shell$"
check "... the local disk by default after the timeout" \
	has "$m" "^choose --default local --timeout 7000 target"
check "... the shell: the imaging environment with pxed.after=shell" \
	has "$m" "^kernel http://$LAB_SRV_IP/bootenv/vmlinuz initrd=initrd .*pxed.server=http://$LAB_SRV_IP pxed.mac=$MAC pxed.after=shell quiet$"
check "... and no task or token" lacks "$m" 'pxed.task\|pxed.token'
check "... the local item boots the disk" has "$m" "^:local$"
r=$(api GET /api/v1/boot/$MAC.grub)
m=$(body "$r")
check "no-task = menu, GRUB: the timeout" has "$m" "^set timeout=7$"
check "no-task = menu, GRUB: the local disk entry first (the default)" \
	eq "$(grep '^menuentry' <<<"$m" | head -1)" "menuentry 'Boot from local disk' {"
check "no-task = menu, GRUB: the shell entry" has "$m" "^menuentry 'Imaging environment: shell' {$"
check "no-task = menu, GRUB: the shell boots pxed.after=shell" \
	has "$m" "^linux (http,$LAB_SRV_IP)/bootenv/vmlinuz .*pxed.after=shell quiet$"
r=$(api GET /api/v1/boot/$MAC.pxelinux)
check "no-task = menu, PXELINUX: local by default after 70 tenths, shell label" \
	bash -c "grep -q '^DEFAULT local$' <<<'$(body "$r")' && grep -q '^TIMEOUT 70$' <<<'$(body "$r")' &&
	grep -q '^  APPEND .*pxed.after=shell quiet$' <<<'$(body "$r")'"
r=$(api GET /api/v1/boot/52:54:00:aa:00:0f.ipxe)
check "no-task = menu: a host awaiting approval boots locally only" \
	eq "$(body "$r")" "$(printf '#!ipxe\n# host not approved: boot from the local disk\nexit')"
ctl task wipe lab1 --after poweroff >/dev/null
r=$(api GET /api/v1/boot/$MAC.ipxe)
check "no-task = menu: a host with a task boots it" has "$(body "$r")" "pxed.after=poweroff quiet$"
ctl task cancel "$(task_of "$MAC")" >/dev/null

# --- a full disk ----------------------------------------------------------------------
SMALL=$LAB_DIR/small
mkdir -p "$SMALL"
mount -t tmpfs -o size=1m tmpfs "$SMALL" || { not_ok "setup: a 1 MiB tmpfs"; exit 1; }
LAB_CLEANUPS+=("umount -l '$SMALL'")
check "pxed stops cleanly (restart on a small image directory)" pxed_stop
pxed_start --image-dir "$SMALL" || { echo "not ok - pxed restart"; exit 1; }
ctl task capture lab1 big >/dev/null
r=$(api GET /api/v1/boot/$MAC.ipxe)
TT=$(sed -n 's/.*pxed\.token=\([0-9a-f]*\).*/\1/p' <<<"$(body "$r")")
api GET /api/v1/agent/task "$TT" >/dev/null
r=$(api PUT "/api/v1/agent/chunks/$S2" "$TT" --data-binary "@$OUT/c2.zst")
check "a chunk that fits: 201" eq "$(code "$r")" 201
r=$(api PUT "/api/v1/agent/chunks/$S1" "$TT" --data-binary "@$OUT/c1.zst")
check "a chunk on a full disk: 507" eq "$(code "$r")" 507
check "a full disk leaves no partial file behind" eq "$(find "$SMALL/chunks" -type f | wc -l)" 1
check "the server answers after a full disk" has "$(pxed_status)" '"version"'
r=$(api POST /api/v1/agent/result "$TT" -d '{"ok":false,"message":"server disk full"}')
check "the capture fails: 204" eq "$(code "$r")" 204
check "no half image is left: no manifest, no chunk" \
	eq "$(find "$SMALL/manifests" "$SMALL/chunks" -type f | wc -l)" 0
check "the catalogue follows the image directory: no image listed" \
	eq "$(json /api/v1/images '["images"]')" "[]"
pxed_stop
check "pxed stopped cleanly" [ $? -eq 0 ]
check "no sanitizer report" pxed_log_clean
lab_finish
