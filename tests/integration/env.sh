#!/bin/bash
# Boot environments without a VM (the Linux one and memtest86+ boot under
# QEMU in qemu_diag.sh): pxed with [environment] sections, Debian's
# memtest86+ from memtest-dir, environments made through the API; curl
# plays iPXE from the client namespace.
#   - WinPE through wimboot: the script carries exactly wimboot, BCD,
#     boot.sdi and boot.wim with their initrd -n names, and each URL it
#     names answers 200 with the file's bytes (no Windows binaries exist
#     here to boot: the files are stand-ins);
#   - a boot task is booting once its script is served and done once its
#     program has been served whole to the address that fetched the
#     script (not before, not to another address);
#   - a Linux environment's script (kernel, initrd names, command line);
#   - memtest86+: pxectl task memtest, both programs served from
#     memtest-dir (and nothing else from there);
#   - environments through the API (files checked: 422 names the missing
#     one), config ones are not the API's to change; a task for an
#     environment whose files are missing is refused; the no-task menu
#     offers the environments with menu = yes.
LAB_ID=${LAB_ID:-ev$$}
source "$(dirname "$0")/../lib/lab.sh"
lab_plan 39
source "$(dirname "$0")/../lib/api.sh"

lab_up || { not_ok "setup: lab_up"; exit 1; }
MAC=52:54:00:e0:00:01
mkdir -p "$LAB_ROOT/winpe" "$LAB_ROOT/rescue" "$LAB_DIR/memtest"
for f in wimboot BCD boot.sdi boot.wim; do head -c $((RANDOM * 8 + 1000)) /dev/urandom >"$LAB_ROOT/winpe/$f"; done
head -c 3000000 /dev/urandom >"$LAB_ROOT/rescue/vmlinuz"
head -c 2000000 /dev/urandom >"$LAB_ROOT/rescue/initrd.img"
head -c 100000 /dev/urandom >"$LAB_ROOT/rescue/extra.img"
chmod -R a+rX "$LAB_ROOT"
# Debian's memtest86+ (the real files), and one more file beside them that
# must not be served
MEMTEST=/boot
if [ ! -f /boot/memtest86+x64.bin ] || [ ! -f /boot/memtest86+x64.efi ]; then
	not_ok "Debian's memtest86+ is installed (/boot/memtest86+x64.bin, .efi)"
	lab_finish
fi
cp /boot/memtest86+x64.bin /boot/memtest86+x64.efi "$LAB_DIR/memtest/"
echo secret >"$LAB_DIR/memtest/config-6.1"
chmod -R a+rX "$LAB_DIR/memtest"
cat >"$LAB_DIR/pxed.conf" <<EOF
no-task = menu
memtest-dir = $LAB_DIR/memtest

[environment winpe]
kind = wimboot
title = Windows PE
wimboot = winpe/wimboot
bcd = winpe/BCD
boot-sdi = winpe/boot.sdi
boot-wim = winpe/boot.wim

[environment rescue]
kind = linux
title = Rescue system
menu = yes
kernel = rescue/vmlinuz
initrd = rescue/initrd.img
initrd = rescue/extra.img
args = console=ttyS0 rescue.marker=1

[environment broken]
kind = linux
kernel = rescue/no-such-vmlinuz
EOF
pxed_start --config "$LAB_DIR/pxed.conf" || { not_ok "setup: pxed_start"; exit 1; }
ctl host add "$MAC" lab1 >/dev/null

script() { in_cli timeout 10 curl -sS "$URL/api/v1/boot/$MAC.ipxe"; }
state() { json "/api/v1/tasks/$1" '["state"]'; }
# get_cmp URL FILE: the URL answers 200 with FILE's bytes (from the client)
get_cmp() {
	local code
	code=$(in_cli timeout 10 curl -sS -o "$LAB_DIR/got" -w '%{http_code}' "$1") || return 1
	[ "$code" = 200 ] && cmp -s "$LAB_DIR/got" "$2"
}

OUT=$(ctl env list)
echo "$OUT" | sed 's/^/# /'
check "env list: the config's environments and memtest86+" \
	bash -c "grep -qE '^winpe +wimboot +config' <<<'$OUT' && grep -qE '^rescue +linux +config +yes' <<<'$OUT' &&
		grep -qE '^memtest86\\+ +chain +builtin' <<<'$OUT'"
check "env show broken: not ready, naming the missing kernel" \
	has "$(ctl env show broken)" "kernel rescue/no-such-vmlinuz: missing under the root"

# --- bad input: no task ---------------------------------------------------------------
MSG=$(ctl task boot lab1 broken 2>&1)
check "task boot of an environment whose files are missing: refused (422)" \
	has "$MSG" "kernel rescue/no-such-vmlinuz: missing under the root (HTTP 422)"
check "  ... and no task made" eq "$(json /api/v1/tasks '["total"]')" 0

# --- WinPE --------------------------------------------------------------------------------
ctl task boot lab1 winpe >/dev/null
ID=$(task_of "$MAC")
check "task boot lab1 winpe: pending" eq "$(state "$ID")" pending
S=$(script)
echo "$S" | sed 's/^/# /'
B="http://$LAB_SRV_IP"
check "the WinPE script is exactly wimboot and its three files, with their initrd -n names" \
	eq "$(grep -v '^#' <<<"$S")" "kernel $B/winpe/wimboot
initrd -n BCD $B/winpe/BCD BCD
initrd -n boot.sdi $B/winpe/boot.sdi boot.sdi
initrd -n boot.wim $B/winpe/boot.wim boot.wim
boot"
check "  ... it starts with #!ipxe" eq "$(head -1 <<<"$S")" "#!ipxe"
check "the task is booting once its script is served" eq "$(state "$ID")" booting
# wimboot last: its serving ends the task
for u in $(grep -oE 'http://[^ ]+' <<<"$S" | sort -t/ -k5 | grep -v wimboot) $B/winpe/wimboot; do
	check "  $u answers 200 with the file's bytes" get_cmp "$u" "$LAB_ROOT/${u#"$B"/}"
	[ "${u##*/}" = wimboot ] || check "  ... the task is still booting after ${u##*/}" \
		eq "$(state "$ID")" booting
done
sleep 0.5
check "done once wimboot has been served" eq "$(state "$ID")" done
check "  ... saying what was served" eq "$(json "/api/v1/tasks/$ID" '["message"]')" \
	"winpe/wimboot served"

# --- a Linux environment; another address does not end the task -------------------------------
lab_add_client_ip 192.0.2.3
ctl task boot lab1 rescue >/dev/null
ID=$(task_of "$MAC")
S=$(script)
check "the Linux script: the kernel with its initrds' names and command line" \
	eq "$(grep -v '^#' <<<"$S")" "kernel $B/rescue/vmlinuz initrd=0-initrd.img initrd=1-extra.img console=ttyS0 rescue.marker=1
initrd --name 0-initrd.img $B/rescue/initrd.img
initrd --name 1-extra.img $B/rescue/extra.img
boot"
in_cli timeout 10 curl -sS -o /dev/null --interface 192.0.2.3 "$B/rescue/vmlinuz"
sleep 0.5
check "the kernel served to another address does not end the task" eq "$(state "$ID")" booting
in_cli timeout 10 curl -sS -o /dev/null -r 0-99 "$B/rescue/vmlinuz"
sleep 0.5
check "  ... nor a part of it (a range) to the host" eq "$(state "$ID")" booting
check "GRUB gets the local disk for a boot task (environments need iPXE)" \
	has "$(in_cli timeout 10 curl -sS "$URL/api/v1/boot/$MAC.grub")" "boot environments need iPXE"
ctl task cancel "$ID" >/dev/null

# --- memtest86+ ----------------------------------------------------------------------------
ctl task memtest lab1 >/dev/null
ID=$(task_of "$MAC")
check "task memtest: a boot task of memtest86+" eq "$(json "/api/v1/tasks/$ID" '["image"]')" "memtest86+"
S=$(script)
echo "$S" | sed 's/^/# /'
check "memtest86+: the UEFI program chained with the serial console" \
	has "$S" "chain $B/pxed-builtin/memtest86+/memtest86+x64.efi console=ttyS0,115200 || goto pxed-failed"
check "memtest86+: the BIOS program likewise" \
	has "$S" "chain $B/pxed-builtin/memtest86+/memtest86+x64.bin console=ttyS0,115200 || goto pxed-failed"
check "memtest86+x64.efi served from memtest-dir, byte for byte" \
	get_cmp "$B/pxed-builtin/memtest86+/memtest86+x64.efi" "$LAB_DIR/memtest/memtest86+x64.efi"
sleep 0.5
check "  ... and the memtest task is done" eq "$(state "$ID")" done
check "memtest86+x64.bin served byte for byte" \
	get_cmp "$B/pxed-builtin/memtest86+/memtest86+x64.bin" "$LAB_DIR/memtest/memtest86+x64.bin"
code=$(in_cli timeout 10 curl -sS -o /dev/null -w '%{http_code}' "$B/pxed-builtin/memtest86+/config-6.1")
check "nothing else of memtest-dir is served (404)" eq "$code" 404

# --- environments through the API -------------------------------------------------------------
MSG=$(ctl env set r2 kind=linux kernel=rescue/vmlinuz initrd=rescue/nope.img 2>&1)
check "env set with a missing initrd: refused, naming it (422)" \
	has "$MSG" "initrd rescue/nope.img: missing under the root (HTTP 422)"
MSG=$(ctl env set r2 kind=linux kernel=../etc/passwd 2>&1)
check "env set with a path out of the root: refused (400)" has "$MSG" "(HTTP 400)"
check "env set r2 with its files: made" \
	has "$(ctl env set r2 kind=linux title=Second menu=yes kernel=rescue/vmlinuz initrd=rescue/initrd.img)" \
	"environment r2 (linux, from the API), in the no-task menu"
check "env set rescue (a config one): refused" has "$(ctl env set rescue kind=linux kernel=rescue/vmlinuz 2>&1)" \
	"comes from the config file"
check "env rm rescue: refused" has "$(ctl env rm rescue 2>&1)" "(HTTP 409)"
MENU=$(in_cli timeout 10 curl -sS "$URL/api/v1/boot/52:54:00:e0:00:99.ipxe")
echo "$MENU" | sed 's/^/# /' | head -12
check "the no-task menu offers the environments with menu = yes (rescue, r2), not winpe" \
	bash -c "grep -qE '^item env-[0-9]+ Rescue system$' <<<'$MENU' &&
		grep -qE '^item env-[0-9]+ Second$' <<<'$MENU' && ! grep -q 'Windows PE' <<<'$MENU'"
check "  ... each with its label and lines" \
	bash -c "grep -qE '^:env-[0-9]+$' <<<'$MENU' && grep -q 'kernel $B/rescue/vmlinuz initrd=0-initrd.img' <<<'$MENU'"
check "env rm r2" ctl env rm r2
check "  ... gone" has "$(ctl env show r2 2>&1)" "(HTTP 404)"

check "pxed stops cleanly" pxed_stop
check "no sanitizer report" pxed_log_clean
lab_finish
