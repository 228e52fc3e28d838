#!/bin/bash
# Diagnose and repair without a VM: pxed in a server namespace, pxe-agent
# (the sanitizer build) in a client namespace on disk files, the tools
# (memtester, stress-ng, smartctl, badblocks) of this machine.
#   - bad input: unknown tests, a destructive test without --destructive,
#     an unknown host, an unknown environment: clear errors, no task made,
#     the disk unchanged (checksum);
#   - a diagnose task on a disk file: disk-read, memory, cpu, network (a
#     timed download from pxed), smart (no SMART on a file: skipped),
#     inventory; each result reaches pxed; task show prints the report as a
#     table, host show the latest verdict of each test; the API keeps the
#     host's history;
#   - disk-write with --destructive: badblocks writes the disk;
#   - wipe zero --verify and random --verify on disk files that held a
#     known pattern: every byte checked here afterwards (zero: all zeros;
#     random: no 4 KiB block left as it was, no zero block, incompressible),
#     the certificate's figures match; fast wipe leaves a certificate too;
#     sanitize on a file: the task fails saying why, nothing written, no
#     certificate.
LAB_ID=${LAB_ID:-dg$$}
source "$(dirname "$0")/../lib/lab.sh"
lab_plan 59
source "$(dirname "$0")/../lib/api.sh"

AGENT=${PXE_AGENT:-build/asan/pxe-agent}
lab_up || { not_ok "setup: lab_up"; exit 1; }
W=$LAB_DIR/work
mkdir -p "$W" "$LAB_ROOT/bootenv"
MAC=52:54:00:d9:00:01
head -c 8000000 /dev/urandom >"$LAB_ROOT/bootenv/initrd"      # the network test's download
chmod -R a+rX "$LAB_ROOT"

# new_task ARGS...: pxectl task ARGS for lab1; the task id in $ID, the
# token its boot script carries in $TT
new_task() {
	ID='' TT=''
	ctl task "$@" >"$W/task.out" 2>&1 || return 1
	ID=$(task_of "$MAC")
	TT=$(token_of "$MAC")
}
# agent TOKEN DISK: run pxe-agent for task $ID on DISK
agent() {
	in_cli timeout 300 "$AGENT" --server "$URL" --token "$1" --task "$ID" --disk "$2" \
		--retry-for 30 >>"$W/agent.log" 2>&1
}
sum() { sha256sum <"$1" | cut -d' ' -f1; }
tasks_total() { json /api/v1/tasks '["total"]'; }
# jx PATH EXPR: EXPR of the GET answer v
jx() { in_cli timeout 10 curl -sS -H "$(lab_auth)" "$URL$1" | python3 -c "import json,sys; v=json.load(sys.stdin); print($2)"; }
# refused ARGS...: pxectl task ARGS fails; its message in $MSG
refused() { MSG=$(ctl task "$@" 2>&1); [ $? -ne 0 ]; }

pxed_start || { not_ok "setup: pxed_start"; exit 1; }
ctl host add "$MAC" lab1 >/dev/null

# --- bad input ------------------------------------------------------------------------
head -c $((16 << 20)) /dev/urandom >"$W/disk.img"
SUM0=$(sum "$W/disk.img")
check "diagnose --tests smart,fan: refused" refused diagnose lab1 --tests smart,fan
check "  ... naming the unknown test and the known ones" \
	has "$MSG" 'unknown test "fan" (the tests: inventory, smart, disk-read, disk-write'
check "diagnose --tests disk-write without --destructive: refused" \
	refused diagnose lab1 --tests disk-write
check "  ... saying why" has "$MSG" "refused without --destructive"
check "diagnose of an unknown host: refused" refused diagnose nosuchhost
check "  ... saying so" has "$MSG" "no host nosuchhost"
check "boot of an unknown environment: refused" refused boot lab1 nosuchenv
check "  ... saying so" has "$MSG" "no environment nosuchenv"
check "wipe --level shred: refused" refused wipe lab1 --level shred
ctl host add 52:54:00:d9:00:02 lab2 >/dev/null
ctl group add room lab1 lab2 >/dev/null
check "diagnose --group with an unknown test: refused for the whole group" \
	refused diagnose --group room --tests fan
check "no task was made by any of them" eq "$(tasks_total)" 0
check "the disk is unchanged (sha256)" eq "$(sum "$W/disk.img")" "$SUM0"

OUT=$(ctl task diagnose --group room --tests cpu --duration 2)
check "diagnose --group room: a task for each member" \
	bash -c "[ \$(grep -c ' diagnose ' <<<'$OUT') -eq 2 ]"
for h in lab1 lab2; do ctl task cancel "$(json "/api/v1/hosts/$h" '["task"]["id"]')" >/dev/null; done

# --- a diagnose task on a disk file -------------------------------------------------------
new_task diagnose lab1 --tests disk-read,memory,cpu,network,smart,inventory --duration 4 \
	--memory-mb 64
check "diagnose task made" [ -n "$TT" ]
check "  ... with its tests and duration" \
	has "$(json "/api/v1/tasks/$ID" '["params"]')" "'duration': 4"
t0=$(date +%s)
agent "$TT" "$W/disk.img"
rc=$?
check "diagnose: pxe-agent exits 0 (no test failed; $(($(date +%s) - t0))s)" [ "$rc" -eq 0 ]
check "diagnose: the task is done" eq "$(json "/api/v1/tasks/$ID" '["state"]')" done
REPORT=$(json "/api/v1/tasks/$ID" '["report"]')
for t in inventory smart network cpu memory disk-read; do
	check "diagnose: $t reported" has "$REPORT" "'test': '$t'"
done
status_of() { json "/api/v1/tasks/$ID" "[\"report\"][[r['test'] for r in v['report']].index('$1')][\"$2\"]"; }
check "disk-read passed" eq "$(status_of disk-read status)" pass
check "  ... every sector of the 16 MiB file read" \
	eq "$(status_of disk-read details | python3 -c "import sys,ast; d=ast.literal_eval(sys.stdin.read())['disks'][0]; print(d['size'], d['bad_sectors'])")" "16777216 0"
check "memory passed within its bound" eq "$(status_of memory status)" pass
check "cpu passed (stress-ng --verify)" eq "$(status_of cpu status)" pass
check "network passed (a timed download from pxed)" eq "$(status_of network status)" pass
check "  ... with a rate" python3 -c "import sys; sys.exit(0 if float('$(status_of network details | python3 -c "import sys,ast; print(ast.literal_eval(sys.stdin.read())['mbit_s'])")') > 0 else 1)"
check "smart on a file: skipped (no SMART), not failed" eq "$(status_of smart status)" skipped
check "memory and cpu kept their bound (4 s each, under 15 s)" \
	python3 -c "import sys; sys.exit(0 if $(status_of memory duration_ms) < 15000 and $(status_of cpu duration_ms) < 15000 else 1)"
check "the disk is unchanged by diagnose (sha256)" eq "$(sum "$W/disk.img")" "$SUM0"
OUT=$(ctl task show "$ID")
echo "$OUT" | sed 's/^/# /'
check "task show prints the report as a table" \
	bash -c "grep -qE '^  TEST +STATUS +STARTED +TOOK +SUMMARY' <<<'$OUT' &&
		grep -qE '^  disk-read +pass ' <<<'$OUT' && grep -qE '^  smart +skipped ' <<<'$OUT'"
OUT=$(ctl host show lab1)
check "host show prints the latest verdict of each test, with its time" \
	bash -c "grep -qE '^    cpu +pass +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} +$ID ' <<<'$OUT'"
check "the host's inventory came from the diagnose (NICs with their driver)" \
	has "$(json /api/v1/hosts/lab1 '["inventory"]["nics"]')" "'driver'"

# --- history, failing tests reported ------------------------------------------------------
new_task diagnose lab1 --tests cpu --duration 2
agent "$TT" "$W/disk.img"
check "a second report" eq "$(jx /api/v1/hosts/lab1/diagnostics 'len(v["reports"])')" 2
check "  ... newest first" eq "$(json /api/v1/hosts/lab1/diagnostics '["reports"][0]["task"]')" "$ID"
check "health keeps the latest of each test (cpu from the second, disk-read from the first)" \
	eq "$(jx /api/v1/hosts/lab1 '[(h["test"], h["task"]) for h in v["health"] if h["test"] in ("cpu","disk-read")]')" \
	"[('cpu', $ID), ('disk-read', $((ID - 1)))]"

# --- disk-write, destructive ---------------------------------------------------------------
new_task diagnose lab1 --tests disk-write --destructive
agent "$TT" "$W/disk.img"
check "disk-write --destructive: done" eq "$(json "/api/v1/tasks/$ID" '["state"]')" done
check "  ... badblocks wrote the disk" bash -c "[ '$(sum "$W/disk.img")' != '$SUM0' ]"
check "  ... and read every block back" eq "$(status_of disk-write status)" pass

# --- wipes ---------------------------------------------------------------------------------
# a disk file of a known pattern: 4 KiB blocks that each hold their number
pattern() { python3 -c "
import sys
with open('$1', 'wb') as f:
    for i in range($2 * 256):
        f.write((b'PXED-PATTERN-%016d   ' % i) * 128)"; }
cert() { json "/api/v1/tasks/$ID" "[\"certificates\"][0][\"$1\"]"; }
SIZE=$((24 << 20))
pattern "$W/zero.img" 24
new_task wipe lab1 --level zero --verify
agent "$TT" "$W/zero.img"
check "wipe zero --verify: done" eq "$(json "/api/v1/tasks/$ID" '["state"]')" done
check "  ... every byte is zero (cmp with /dev/zero)" cmp -s -n "$SIZE" "$W/zero.img" /dev/zero
check "  ... the certificate: method zero, size, bytes written and verified, verify pass" \
	eq "$(cert method) $(cert size) $(cert bytes_written) $(cert bytes_verified) $(cert verify) $(cert ok)" \
	"zero $SIZE $SIZE $SIZE pass True"
check "  ... the certificate names the disk and its times" \
	bash -c "[ '$(cert disk)' = '$W/zero.img' ] && [ $(cert finished) -ge $(cert started) ]"

pattern "$W/random.img" 24
new_task wipe lab1 --level random --verify
agent "$TT" "$W/random.img"
check "wipe random --verify: done" eq "$(json "/api/v1/tasks/$ID" '["state"]')" done
check "  ... every 4 KiB block differs from what it held, none is zero, the data is incompressible" \
	python3 -c "
import sys, zlib
d = open('$W/random.img', 'rb').read()
assert len(d) == $SIZE
for i in range(len(d) // 4096):
    b = d[i * 4096:(i + 1) * 4096]
    assert b != (b'PXED-PATTERN-%016d   ' % i) * 128, i
    assert b.count(0) < 64, i
assert len(zlib.compress(d, 1)) > 0.99 * len(d)"
check "  ... the certificate: method random, every byte written and read back" \
	eq "$(cert method) $(cert bytes_written) $(cert bytes_verified) $(cert verify)" \
	"random $SIZE $SIZE pass"

pattern "$W/sanitize.img" 4
SUMS=$(sum "$W/sanitize.img")
new_task wipe lab1 --level sanitize
agent "$TT" "$W/sanitize.img"
check "wipe sanitize on a file: the agent fails" [ $? -ne 0 ]
check "  ... the task failed" eq "$(json "/api/v1/tasks/$ID" '["state"]')" failed
check "  ... saying why" has "$(json "/api/v1/tasks/$ID" '["message"]')" \
	"cannot purge itself: it is not a block device"
check "  ... nothing written (sha256)" eq "$(sum "$W/sanitize.img")" "$SUMS"
check "  ... and no certificate" eq "$(jx "/api/v1/tasks/$ID" 'len(v["certificates"])')" 0

pattern "$W/fast.img" 4
new_task wipe lab1
agent "$TT" "$W/fast.img"
check "wipe (fast): done, with a certificate" \
	eq "$(cert method) $(cert bytes_written) $(cert verify)" "fast 2097152 none"
OUT=$(ctl host show lab1)
check "host show lists the wipe certificates" \
	bash -c "grep -qE 'wipe certificate [0-9]+ \\(task [0-9]+\\): done' <<<'$OUT' &&
		grep -q 'method zero, 24.0 MiB written, verify pass' <<<'$OUT'"
check "  ... all three counted" eq "$(json "/api/v1/wipes?host=lab1" '["total"]')" 3
check "the certificates are listed by the API, newest first" \
	eq "$(jx "/api/v1/wipes?host=lab1" '[c["method"] for c in v["certificates"]]')" \
	"['fast', 'random', 'zero']"

check "pxed stops cleanly" pxed_stop
check "no sanitizer report" pxed_log_clean
tap_failed && { echo "--- agent log ---"; tail -40 "$W/agent.log"; }
lab_finish
