#!/bin/bash
# make demo: start pxed in a throw-away lab network (namespaces on a
# bridge), fetch boot files with real clients over TFTP and HTTP, then the
# whole imaging story with two virtual machines (QEMU, software emulation):
# a BIOS machine network-boots the imaging environment (make bootenv) and
# captures its disk (GPT, ext4 + NTFS) into an image; a blank UEFI machine
# network-boots (EDK2 PXE -> iPXE over TFTP with windowsize -> its per-host
# script over HTTP) and deploys the image; the disks are compared file by
# file.  Shows the boot timeline, tasks, images and pxed's log.  Needs root
# (network namespaces); leaves nothing behind.
#
# Exits 1 when something the demo shows is wrong: a fetched file that
# differs from the served one, a capture or deploy that did not end done,
# a deployed disk whose partition tables or files differ from the source.
# The VMs need QEMU, OVMF, iPXE and the imaging environment (make bootenv):
# without them that part is skipped, and the demo says so and why.
# DEMO_VM=no skips the VMs; DEMO_VM=yes makes their absence an error.
set -u
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "make demo needs root: it creates network namespaces (try: sudo make demo)" >&2
	exit 1
fi
PXED=build/pxed
LAB_ID=demo$$
source tests/lib/lab.sh
source tests/lib/qemu.sh
source tests/lib/disk.sh
lab_plan none      # a demo, not a test: it says what is wrong and exits 1
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
DEMO_FAILED=()
# demo_fail WHAT: something the demo shows is wrong; the demo ends with exit 1
demo_fail() {
	printf '  \033[1;31mFAILED: %s\033[0m\n' "$*"
	DEMO_FAILED+=("$*")
}
# same LABEL FILE1 FILE2: say whether the two files are identical
same() {
	if cmp -s "$2" "$3"; then
		echo "  $1: identical"
	else
		demo_fail "$1 differs from the file pxed serves ($2, $3)"
	fi
}
SRC_MAC=52:54:00:de:00:01
DST_MAC=52:54:00:de:00:02

step "lab network: namespace $LAB_SRV (server, $LAB_SRV_IP on bridge br0) and $LAB_CLI (client, $LAB_CLI_IP)"
vm_lab_up
if [ -f /usr/lib/ipxe/undionly.kpxe ]; then
	cp /usr/lib/ipxe/undionly.kpxe /usr/lib/ipxe/snponly.efi "$LAB_ROOT/"
else
	head -c 70000 /dev/urandom >"$LAB_ROOT/undionly.kpxe"
fi
cat >"$LAB_ROOT/boot.ipxe" <<'IPXE'
#!ipxe
echo
echo ====== pxed demo: iPXE fetched this script from pxed over HTTP ======
echo ====== this machine is ${net0/mac}, address ${net0/ip} ======
poweroff
IPXE
head -c $((16 << 20)) /dev/urandom >"$LAB_ROOT/boot.img"
if [ -f build/bootenv/vmlinuz ]; then
	mkdir -p "$LAB_ROOT/bootenv"
	cp build/bootenv/vmlinuz build/bootenv/initrd "$LAB_ROOT/bootenv/"
fi
mkdir -p "$LAB_ROOT/Boot"
head -c 16384 /dev/urandom >"$LAB_ROOT/Boot/BCD"
chmod -R a+rX "$LAB_ROOT"
ls -l "$LAB_ROOT"

step "start pxed as the lab's DHCP server and boot server"
echo "  $PXED --root $LAB_ROOT --listen $LAB_SRV_IP --dhcp-range 192.0.2.100,192.0.2.150"
echo "       --boot bios=undionly.kpxe --boot efi64=snponly.efi"
echo "       --boot 'ipxe=http://\${next-server}/api/v1/boot/\${mac}.ipxe'"
pxed_start --log-level info --interface br0 --dhcp-range 192.0.2.100,192.0.2.150 \
	--boot bios=undionly.kpxe --boot efi64=snponly.efi \
	--boot 'ipxe=http://${next-server}/api/v1/boot/${mac}.ipxe' ||
	{ echo "make demo: FAILED: pxed did not start" >&2; exit 1; }
ctl() { in_cli build/pxectl --server "http://$LAB_SRV_IP" --token-file "$LAB_DIR/state/api-token" "$@"; }

fetch() {  # label command...
	local label=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	in_cli timeout 60 "$@" >/dev/null 2>&1
	t1=$(date +%s.%N)
	printf '  %-52s %6.3f s\n' "$label" "$(echo "$t1 - $t0" | bc -l 2>/dev/null || echo "$t1 $t0" | awk '{print $1-$2}')"
}

step "fetch with real clients from the client namespace"
fetch "curl tftp:// undionly.kpxe (lock-step, blksize 1468)" \
	curl -s --tftp-blksize 1468 -o "$LAB_DIR/undionly.kpxe" "tftp://$LAB_SRV_IP/undionly.kpxe"
fetch "curl tftp:// boot.img 16 MiB (lock-step, blksize 1468)" \
	curl -s --tftp-blksize 1468 -o "$LAB_DIR/boot-curl.img" "tftp://$LAB_SRV_IP/boot.img"
fetch "atftp boot.img 16 MiB (blksize 1468, windowsize 16)" \
	atftp --option "blksize 1468" --option "windowsize 16" -g -r boot.img \
	-l "$LAB_DIR/boot-atftp.img" "$LAB_SRV_IP"
fetch "curl tftp:// \\Boot\\BCD (Windows path, any case)" \
	curl -s -o "$LAB_DIR/bcd" "tftp://$LAB_SRV_IP/%5Cboot%5Cbcd"
fetch "curl http:// boot.img 16 MiB" \
	curl -s -o "$LAB_DIR/boot-http.img" "http://$LAB_SRV_IP/boot.img"

step "verify every byte"
same undionly.kpxe "$LAB_DIR/undionly.kpxe" "$LAB_ROOT/undionly.kpxe"
for f in boot-curl.img boot-atftp.img boot-http.img; do
	same "$f" "$LAB_DIR/$f" "$LAB_ROOT/boot.img"
done
same '\boot\bcd -> Boot/BCD' "$LAB_DIR/bcd" "$LAB_ROOT/Boot/BCD"

step "refused: a path that leaves the root"
in_cli timeout 10 curl -s --path-as-is -o /dev/null "tftp://$LAB_SRV_IP/../../etc/passwd" ||
	echo "  curl: refused (exit $?)"

# task_state ID: the task's state
task_state() { in_cli curl -s -H "$(lab_auth)" "http://$LAB_SRV_IP/api/v1/tasks/$1" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])' 2>/dev/null; }
# run_vm NAME KIND MAC DISK TASK: boot it and wait for its task to end;
# fails unless the task ended done
run_vm() {
	local s=""
	vm_start "$1" "$2" "$3" 600 "$4" || { demo_fail "VM $1 did not start"; return 1; }
	for _ in $(seq 1 600); do
		s=$(task_state "$5")
		case $s in done|failed|cancelled) break ;; esac
		sleep 1
	done
	echo "  task $5: $s after $(vm_elapsed "$1") s; what the machine printed:"
	vm_serial_text "$1" | grep -aE "iPXE initialising|NBP file|pxed task|pxe-agent:" |
		sed 's/^/    /' | head -14
	for _ in $(seq 1 30); do kill -0 "${VM_PID[$1]}" 2>/dev/null || break; sleep 1; done
	vm_stop "$1"
	[ "$s" = done ] || { demo_fail "task $5 ($1) ended '${s:-unknown}', not done"; return 1; }
}

# Why the VMs cannot run here (nothing: they can).
vm_missing() {
	if ! qemu_have bios; then
		echo "QEMU for a BIOS machine is missing (qemu-system-x86_64 and" \
			"/usr/lib/ipxe/qemu/efi-e1000.rom: apt-get install qemu-system-x86 ipxe-qemu)"
	elif ! qemu_have uefi; then
		echo "UEFI firmware is missing ($QEMU_OVMF_CODE: apt-get install ovmf)"
	elif [ ! -f "$LAB_ROOT/snponly.efi" ]; then
		echo "iPXE is missing (/usr/lib/ipxe/snponly.efi: apt-get install ipxe)"
	elif [ ! -f "$LAB_ROOT/bootenv/initrd" ]; then
		echo "the imaging environment is missing (build/bootenv/initrd: make bootenv)"
	fi
}

VM_SKIPPED=""
if [ "${DEMO_VM:-auto}" = no ]; then
	VM_SKIPPED="DEMO_VM=no"
else
	VM_SKIPPED=$(vm_missing)
	[ -n "$VM_SKIPPED" ] && [ "${DEMO_VM:-auto}" = yes ] &&
		demo_fail "DEMO_VM=yes, but the VMs cannot run: $VM_SKIPPED"
fi
if [ -n "$VM_SKIPPED" ]; then
	step "the imaging story with two virtual machines is SKIPPED: $VM_SKIPPED"
else
	step "a machine's disk: GPT with ext4 and NTFS, built without mounting"
	SRC=$LAB_DIR/src
	mkdir -p "$SRC/etc" "$SRC/docs"
	cp /usr/share/common-licenses/GPL-3 "$SRC/docs/"
	head -c 4000000 /dev/urandom >"$SRC/data.bin"
	echo "hello from the source machine" >"$SRC/etc/motd"
	disk_make "$SRC" "$LAB_DIR/source.img" 256
	truncate -s 256M "$LAB_DIR/blank.img"
	sgdisk -p "$LAB_DIR/source.img" | tail -3 | sed 's/^/  /'

	step "register the machines and give the first a task: pxectl host add, task capture"
	ctl host add $SRC_MAC source | head -1
	ctl host add $DST_MAC target | head -1
	ctl task capture source golden

	step "BIOS machine: PXE boot -> iPXE -> imaging environment -> pxe-agent captures its disk"
	run_vm src bios $SRC_MAC "$LAB_DIR/source.img" 1 && ctl image show golden

	step "blank UEFI machine: pxectl task deploy target golden, then it PXE boots"
	ctl task deploy target golden && run_vm dst uefi $DST_MAC "$LAB_DIR/blank.img" 2

	step "compare the two disks on the host"
	if disk_tables_equal "$LAB_DIR/source.img" "$LAB_DIR/blank.img"; then
		echo "  partition tables (primary and backup GPT): identical"
	else
		demo_fail "the deployed disk's partition tables differ from the source's"
	fi
	if disk_same_files "$SRC" "$LAB_DIR/blank.img"; then
		echo "  every file of the ext4 and NTFS partitions: identical"
	else
		demo_fail "the deployed disk's files differ from the source's"
	fi

	step "pxectl task list"
	ctl task list
	sleep 1         # boot events reach the store within half a second
	step "the deployed machine's boot timeline: pxectl client $DST_MAC"
	ctl client $DST_MAC
fi

step "pxectl status (over the HTTP API)"
in_cli build/pxectl --server "http://$LAB_SRV_IP" --token-file "$LAB_DIR/state/api-token" status

step "pxed's log"
pxed_stop || true
grep -v 'GET /api/v1/tasks/' "$LAB_DIR/pxed.log" | sed 's/^/  /'
[ -n "$VM_SKIPPED" ] &&
	printf '\n\033[1mNOTE: the virtual machines did not run: %s\033[0m\n' "$VM_SKIPPED"
if [ "${#DEMO_FAILED[@]}" -gt 0 ]; then
	printf '\n\033[1;31mmake demo FAILED:\033[0m\n'
	printf '  - %s\n' "${DEMO_FAILED[@]}"
	exit 1
fi
step "done: the lab is removed on exit"
