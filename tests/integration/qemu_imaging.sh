#!/bin/bash
# Imaging end to end with real firmware under QEMU (TCG): a BIOS machine
# (SeaBIOS + iPXE ROM, e1000) whose virtio disk holds a GPT with an ext4 and
# an NTFS partition (built on the host without mounting) PXE boots from pxed,
# gets its per-host iPXE script, boots the imaging environment (make
# bootenv) and pxe-agent captures the disk; then a UEFI machine (OVMF: EDK2
# PXE -> snponly.efi -> iPXE) with a blank disk deploys the image.  The host
# checks that both disks' partition tables are identical, every file reads
# back identical (debugfs, ntfscat), and the capture stored far less than the
# disk.  Each VM reboots when its task is done (-no-reboot ends QEMU).
cd "$(dirname "$0")/../.." || exit 1
LAB_ID=qi$$
source tests/lib/lab.sh
source tests/lib/qemu.sh
source tests/lib/disk.sh
source tests/lib/api.sh          # ctl, json (with the token), eq, wait_task
lab_plan 32
VM_SECS=${VM_SECS:-420}

for k in bios uefi; do
	qemu_have "$k" || { not_ok "QEMU for $k is installed"; lab_finish; }
done
if [ ! -f build/bootenv/vmlinuz ] || [ ! -f build/bootenv/initrd ]; then
	scripts/bootenv.sh build/pxe-agent >"$LAB_DIR/bootenv.log" 2>&1 ||
		{ not_ok "make bootenv"; tail -20 "$LAB_DIR/bootenv.log"; lab_finish; }
fi
vm_lab_up || exit 1
mkdir -p "$LAB_ROOT/bootenv"
cp build/bootenv/vmlinuz build/bootenv/initrd "$LAB_ROOT/bootenv/"
cp /usr/lib/ipxe/snponly.efi "$LAB_ROOT/"
chmod -R a+rX "$LAB_ROOT"

W=$LAB_DIR/work
SRC=$W/src
mkdir -p "$SRC/etc/deep" "$SRC/docs"
head -c 6000000 /dev/urandom >"$SRC/blob.bin"
cp /usr/share/common-licenses/GPL-3 /usr/share/common-licenses/Apache-2.0 "$SRC/docs/"
seq 1 100000 >"$SRC/numbers.txt"
echo "captured by a BIOS machine, deployed to a UEFI one" >"$SRC/etc/deep/motd"
disk_make "$SRC" "$W/source.img" 256 ||
	{ not_ok "setup: the source disk (GPT: ext4 + NTFS, no mounts)"; exit 1; }
cp --sparse=always "$W/source.img" "$W/source.orig"
truncate -s 256M "$W/blank.img"

B=52:54:00:de:00:01
U=52:54:00:de:00:02
# wait_vm NAME SECONDS: until QEMU exited (the machine rebooted)
wait_vm() {
	for _ in $(seq 1 "$2"); do
		kill -0 "${VM_PID[$1]}" 2>/dev/null || return 0
		sleep 1
	done
	return 1
}

pxed_start --interface br0 --dhcp-range 192.0.2.100,192.0.2.150 \
	--boot efi64=snponly.efi --boot 'ipxe=http://${next-server}/api/v1/boot/${mac}.ipxe' ||
	exit 1
ctl host add $B source >/dev/null
ctl host add $U target >/dev/null

# --- capture on a BIOS machine ------------------------------------------------
ctl task capture source golden >/dev/null
vm_start cap bios $B "$VM_SECS" "$W/source.img" || exit 1
state=$(wait_task 1 "$VM_SECS")
check "BIOS capture: the task is done ($state, $(vm_elapsed cap)s)" eq "$state" done
check "BIOS capture: the machine rebooted when done" wait_vm cap 60
vm_stop cap
check "BIOS capture: iPXE fetched the per-host script" \
	grep -qE "GET /api/v1/boot/52-54-00-de-00-01.ipxe 200" "$LAB_DIR/pxed.log"
check "BIOS capture: the imaging environment came over HTTP" \
	grep -qE "GET /bootenv/initrd 200" "$LAB_DIR/pxed.log"
check "BIOS capture: the kernel ran pxe-agent (serial log)" \
	grep -aq "pxe-agent: capture" "$(vm_serial cap)"
check "BIOS capture: the disk was not changed" cmp -s "$W/source.img" "$W/source.orig"
STORED=$(json /api/v1/images/golden '["stored"]' 2>/dev/null || echo 0)
echo "# capture stored $STORED bytes for a 256 MiB disk"
check "BIOS capture: stored far less than the disk (< 1/8)" \
	[ "${STORED:-0}" -gt 0 -a "${STORED:-0}" -lt $((256 * 1048576 / 8)) ]
out=$(ctl host show source)
check "BIOS capture: the agent's inventory reached the host record" grep -q "cores" <<<"$out"

# --- deploy on a UEFI machine ---------------------------------------------------
ctl task deploy target golden >/dev/null
vm_start dep uefi $U "$VM_SECS" "$W/blank.img" || exit 1
state=$(wait_task 2 "$VM_SECS")
check "UEFI deploy: the task is done ($state, $(vm_elapsed dep)s)" eq "$state" done
check "UEFI deploy: the machine rebooted when done" wait_vm dep 60
vm_stop dep
# (the BIOS machine before it used no TFTP: its ROM is iPXE already)
uefi_chain() {
	grep -qE "tftp [0-9.]+:[0-9]+: sent snponly\.efi " "$LAB_DIR/pxed.log" &&
		grep -qE "GET /api/v1/boot/52-54-00-de-00-02.ipxe 200" "$LAB_DIR/pxed.log"
}
check "UEFI deploy: EDK2 PXE loaded snponly.efi, iPXE the per-host script" uefi_chain
check "UEFI deploy: partition tables identical (primary and backup GPT)" \
	disk_tables_equal "$W/source.img" "$W/blank.img"
check "UEFI deploy: every file reads back identical (debugfs, ntfscat)" \
	disk_same_files "$SRC" "$W/blank.img"
check "UEFI deploy: the verify pass ran" grep -aq "every chunk reads back" "$(vm_serial dep)"

sleep 1         # boot events reach the store within half a second
TL=$(in_cli timeout 10 curl -sS -H "$(lab_auth)" "http://$LAB_SRV_IP/api/v1/clients/$U")
for ev in '"tftp-done"' '"boot-script"' '"http-done".*bootenv/vmlinuz' '"http-done".*bootenv/initrd' \
	'"task-start"' '"task-done"'; do
	check "UEFI deploy: the boot timeline has $ev" grep -qE -- "$ev" <<<"$TL"
done

# --- multicast: two machines (BIOS and UEFI) deploy the image at once -----------
M1=52:54:00:de:00:11
M2=52:54:00:de:00:12
ctl host add $M1 room-a >/dev/null
ctl host add $M2 room-b >/dev/null
truncate -s 256M "$W/blank-a.img"
truncate -s 256M "$W/blank-b.img"
out=$(ctl task deploy --multicast lab --min-receivers 2 --start-after 120 --rate-mbit 200 \
	golden room-a room-b)
check "multicast session created for two machines" grep -q "session lab: image golden, waiting" <<<"$out"
vm_start ma bios $M1 "$VM_SECS" "$W/blank-a.img" || exit 1
vm_start mb uefi $M2 "$VM_SECS" "$W/blank-b.img" || exit 1
sa=$(wait_task 3 "$VM_SECS")
sb=$(wait_task 4 "$VM_SECS")
check "multicast: the BIOS machine's task is done ($sa, $(vm_elapsed ma)s)" eq "$sa" done
check "multicast: the UEFI machine's task is done ($sb, $(vm_elapsed mb)s)" eq "$sb" done
wait_vm ma 60
wait_vm mb 60
vm_stop ma
vm_stop mb
out=$(ctl mcast show lab)
echo "$out" | sed 's/^/# /'
check "multicast: the session finished with both receivers complete" \
	bash -c "grep -q finished <<<'$out' && [ \$(grep -c complete <<<'$out') -eq 2 ]"
for v in a b; do
	check "multicast: machine $v's tables identical" disk_tables_equal "$W/source.img" "$W/blank-$v.img"
	check "multicast: machine $v's files identical" disk_same_files "$SRC" "$W/blank-$v.img"
done
check "multicast: the chunks came by multicast (serial logs)" \
	bash -c "grep -aq 'every chunk received' '$(vm_serial ma)' && grep -aq 'every chunk received' '$(vm_serial mb)'"

# --- no task: local boot ------------------------------------------------------
r=$(in_cli timeout 10 curl -sS "http://$LAB_SRV_IP/api/v1/boot/52-54-00-de-00-02.ipxe")
check "with no task left, the script boots the local disk" grep -q '^exit' <<<"$r"

check "pxed stops cleanly" pxed_stop
check "sanitizer clean" pxed_log_clean
if tap_failed; then
	for v in cap dep ma mb; do
		echo "--- serial $v (tail) ---"
		vm_serial_text "$v" | grep -v '^ *$' | tail -25
	done
fi
lab_finish
