# shellcheck shell=bash
# OVMF with Secure Boot on, for tests/integration/qemu_secureboot.sh.
# Source after lab.sh and qemu.sh (it uses their VM_PID/VM_T0 tables, so
# vm_wait_serial, vm_stop, vm_elapsed and vm_serial_text work on its VMs).
#
#   qemu_have_sb: QEMU, the Secure Boot OVMF build (Microsoft keys
#       enrolled: OVMF_CODE_4M.ms.fd + OVMF_VARS_4M.ms.fd, package ovmf),
#       Debian's signed shim (shim-signed) and signed network GRUB
#       (grub-efi-amd64-signed) are installed.
#   vm_start_sb NAME MAC SECONDS: like `vm_start NAME uefi MAC SECONDS`, but
#       with the Secure Boot firmware: q35 with SMM, secure pflash, a copy of
#       the Microsoft-key variable store.  EDK2's own PXE (virtio-net with
#       romfile=) does the network boot.
#
# Without smm=on and a secure pflash the .ms firmware does not start (its
# variable store needs SMM); this OVMF build enables Secure Boot itself when
# the Microsoft keys are enrolled, as they are in OVMF_VARS_4M.ms.fd.

QEMU_OVMF_SB_CODE=${QEMU_OVMF_SB_CODE:-/usr/share/OVMF/OVMF_CODE_4M.ms.fd}
QEMU_OVMF_SB_VARS=${QEMU_OVMF_SB_VARS:-/usr/share/OVMF/OVMF_VARS_4M.ms.fd}
SB_SHIM=${SB_SHIM:-/usr/lib/shim/shimx64.efi.signed}
SB_GRUB=${SB_GRUB:-/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed}
# an EFI program nobody signed, for the negative check
SB_UNSIGNED=${SB_UNSIGNED:-/usr/lib/grub/x86_64-efi/monolithic/grubnetx64.efi}

qemu_have_sb() {
	command -v qemu-system-x86_64 >/dev/null && [ -f "$QEMU_OVMF_SB_CODE" ] &&
		[ -f "$QEMU_OVMF_SB_VARS" ] && [ -f "$SB_SHIM" ] && [ -f "$SB_GRUB" ]
}

vm_start_sb() {
	local name=$1 mac=$2 secs=$3 tap=t$1
	local serial=$LAB_DIR/$name.serial
	lab_tap_add "$tap" || return 1
	: >"$serial"
	cp "$QEMU_OVMF_SB_VARS" "$LAB_DIR/$name.vars" || return 1
	# shellcheck disable=SC2054  # commas belong to QEMU's arguments
	local cmd=(qemu-system-x86_64 -machine q35,smm=on,accel=tcg -m 512 -boot n
		-global driver=cfi.pflash01,property=secure,value=on
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$QEMU_OVMF_SB_CODE"
		-drive "if=pflash,format=raw,unit=1,file=$LAB_DIR/$name.vars"
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no"
		-device "virtio-net-pci,netdev=n0,mac=$mac,romfile=")
	ip netns exec "$LAB_SRV" timeout -s KILL "$secs" "${cmd[@]}" -nographic \
		-serial "file:$serial" -monitor none -display none -no-reboot \
		>"$LAB_DIR/$name.qemu" 2>&1 &
	# shellcheck disable=SC2034  # tables of qemu.sh
	VM_PID[$name]=$!
	# shellcheck disable=SC2034
	VM_T0[$name]=$(date +%s)
	LAB_PIDS+=("$!")
}
