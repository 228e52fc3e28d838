# shellcheck shell=bash
# Real firmware under QEMU (TCG, no KVM needed) booting from pxed.  Source
# after lab.sh.  The lab: lab_up + lab_bridge (the server's 192.0.2.1 on
# bridge br0, the client namespace's veth a port of it); every VM gets its
# own tap on br0, inside the server namespace (QEMU runs there too).
#
#   vm_lab_up: lab_up, lab_bridge, and a fixed MAC for br0 (see below).
#   lab_tap_add NAME: a tap in the server namespace, a port of br0.
#   dnsmasq_dhcp_start IP FIRST,LAST: dnsmasq as the site's plain DHCP
#       server (no DNS/TFTP/PXE) on a host IP of its own on br0 (namespace
#       pxd-ID, via lab_attach).  Log $LAB_DIR/dnsmasq.log.
#   vm_start NAME KIND MAC SECONDS [DISK]
#       Starts a VM in the server namespace on a new tap "tNAME" (a port of
#       br0), bounded by `timeout SECONDS`, with DISK (a raw file) as its
#       virtio disk when given (and 512 MiB of memory then).  KIND:
#         bios   SeaBIOS + QEMU's iPXE ROM, e1000 (iPXE does the PXE boot)
#         uefi   OVMF x64, virtio-net-pci with romfile= (EDK2's own PXE)
#         arm64  AAVMF, virtio-net-pci with romfile= (EDK2 PXE, then HTTP boot)
#       Serial log: $LAB_DIR/NAME.serial (vm_serial NAME); QEMU's own output:
#       $LAB_DIR/NAME.qemu.  The VM's pid is remembered as VM_PID_NAME and it
#       is killed on exit.  Records the start time for vm_elapsed.
#       VM_EXTRA=(ARGS...) adds QEMU arguments (more disks, -smbios).
#   vm_wait_serial NAME REGEX SECONDS [FAIL_REGEX]: wait until the serial
#       log matches REGEX; returns early, failing, when the VM has exited or
#       the log matches FAIL_REGEX (the firmware gave up on this path).
#   vm_stop NAME: kill the VM (bounded wait).
#   vm_elapsed NAME: seconds since vm_start NAME.
#   qemu_have KIND: the binaries and firmware for KIND are installed.
#
# VM_NS and VM_BRIDGE (default: the server namespace and br0) put the VMs
# and their taps elsewhere, e.g. on a routed client LAN (tests/lib/campus.sh).
#
# QEMU's serial log comes from the guest's UART; firmware writes colour and
# cursor escapes there, so matching strips nothing but uses grep -a.

QEMU_OVMF_CODE=${QEMU_OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
QEMU_OVMF_VARS=${QEMU_OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}
QEMU_AAVMF_CODE=${QEMU_AAVMF_CODE:-/usr/share/AAVMF/AAVMF_CODE.fd}
QEMU_AAVMF_VARS=${QEMU_AAVMF_VARS:-/usr/share/AAVMF/AAVMF_VARS.fd}
declare -A VM_PID=()
declare -A VM_T0=()

qemu_have() {
	case $1 in
	bios) command -v qemu-system-x86_64 >/dev/null && [ -f /usr/lib/ipxe/qemu/efi-e1000.rom ] ;;
	uefi) command -v qemu-system-x86_64 >/dev/null && [ -f "$QEMU_OVMF_CODE" ] ;;
	arm64) command -v qemu-system-aarch64 >/dev/null && [ -f "$QEMU_AAVMF_CODE" ] ;;
	*) return 1 ;;
	esac
}

vm_serial() { echo "$LAB_DIR/$1.serial"; }

vm_start() {
	local name=$1 kind=$2 mac=$3 secs=$4 disk=${5:-} tap=t$1 mem=256
	local serial=$LAB_DIR/$name.serial
	local -a cmd extra=()
	lab_tap_add "$tap" || return 1
	: >"$serial"
	local net=(-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no")
	if [ -n "$disk" ]; then
		extra=(-drive "file=$disk,format=raw,if=virtio,cache=writeback")
		mem=512
	fi
	# VM_EXTRA=(ARGS...): more QEMU arguments for this VM (disks, -smbios)
	if [ -n "${VM_EXTRA+x}" ] && [ "${#VM_EXTRA[@]}" -gt 0 ]; then
		extra+=("${VM_EXTRA[@]}")
		mem=512
	fi
	case $kind in
	bios)
		cmd=(qemu-system-x86_64 -machine accel=tcg -m $mem -boot n "${net[@]}"
			-device "e1000,netdev=n0,mac=$mac") ;;
	uefi)
		cp "$QEMU_OVMF_VARS" "$LAB_DIR/$name.vars"
		# shellcheck disable=SC2054  # commas belong to QEMU's arguments
		cmd=(qemu-system-x86_64 -machine q35,accel=tcg -m 512 -boot n
			-drive "if=pflash,format=raw,readonly=on,file=$QEMU_OVMF_CODE"
			-drive "if=pflash,format=raw,file=$LAB_DIR/$name.vars"
			"${net[@]}" -device "virtio-net-pci,netdev=n0,mac=$mac,romfile=") ;;
	arm64)
		cp "$QEMU_AAVMF_VARS" "$LAB_DIR/$name.vars"
		cmd=(qemu-system-aarch64 -machine virt -cpu cortex-a57 -m 512
			-drive "if=pflash,format=raw,readonly=on,file=$QEMU_AAVMF_CODE"
			-drive "if=pflash,format=raw,file=$LAB_DIR/$name.vars"
			"${net[@]}" -device "virtio-net-pci,netdev=n0,mac=$mac,romfile=") ;;
	*) echo "vm_start: unknown kind $kind" >&2; return 1 ;;
	esac
	ip netns exec "${VM_NS:-$LAB_SRV}" timeout -s KILL "$secs" "${cmd[@]}" "${extra[@]}" -nographic \
		-serial "file:$serial" -monitor none -display none -no-reboot \
		>"$LAB_DIR/$name.qemu" 2>&1 &
	VM_PID[$name]=$!
	VM_T0[$name]=$(date +%s)
	LAB_PIDS+=("$!")
}

vm_elapsed() { echo $(($(date +%s) - ${VM_T0[$1]})); }

vm_wait_serial() {
	local name=$1 re=$2 secs=$3 fail=${4:-}
	local serial=$LAB_DIR/$name.serial
	for _ in $(seq 1 $((secs * 2))); do
		grep -aqE -- "$re" "$serial" 2>/dev/null && return 0
		if [ -n "$fail" ] && grep -aqE -- "$fail" "$serial" 2>/dev/null; then
			sleep 1         # the marker may still be on its way
			break
		fi
		kill -0 "${VM_PID[$name]}" 2>/dev/null || break
		sleep 0.5
	done
	grep -aqE -- "$re" "$serial" 2>/dev/null
}

vm_stop() {
	local pid=${VM_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	ip -n "${VM_NS:-$LAB_SRV}" link del "t$1" 2>/dev/null
	return 0
}

# vm_serial_text NAME: the serial log with escape sequences and CRs removed.
vm_serial_text() {
	sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\r//g' "$LAB_DIR/$1.serial" | tr -cd '\11\12\40-\176'
}

# A bridge without an address of its own takes the lowest MAC of its ports
# and changes it when that port goes (a VM's tap at vm_stop): neighbours
# keep the old MAC in their ARP cache and lose 192.0.2.1 for a while.  So
# br0 gets a fixed MAC.
vm_lab_up() {
	lab_up && lab_bridge && ip -n "$LAB_SRV" link set br0 address 02:00:00:00:02:01
}

lab_tap_add() {
	local ns=${VM_NS:-$LAB_SRV}
	ip netns exec "$ns" ip tuntap add dev "$1" mode tap || return 1
	ip -n "$ns" link set "$1" master "${VM_BRIDGE:-br0}"
	ip -n "$ns" link set "$1" up
}

dnsmasq_dhcp_start() {
	local ns=pxd-$LAB_ID
	lab_attach "$ns" d0 "$1/24" || return 1
	ip netns exec "$ns" dnsmasq -k --conf-file=/dev/null --port=0 --no-resolv --no-hosts \
		--user=root --interface=d0 --bind-interfaces --no-ping --log-dhcp \
		--dhcp-range="$2,255.255.255.0,1h" --dhcp-option=3,"$1" \
		--dhcp-leasefile="$LAB_DIR/dnsmasq.leases" --pid-file="$LAB_DIR/dnsmasq.pid" \
		--log-facility="$LAB_DIR/dnsmasq.log" &
	LAB_PIDS+=("$!")
	for _ in $(seq 1 50); do
		grep -q "DHCP, IP range" "$LAB_DIR/dnsmasq.log" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$LAB_DIR/dnsmasq.log" 2>/dev/null
	return 1
}

# qemu_arm64_grub: prints the path of Debian's signed grubnetaa64.efi (an
# ARM64 EFI program that shows a GRUB prompt on the serial console).  From
# $GRUB_ARM64_EFI, else build/cache/, else fetched there with
# `apt-get download grub-efi-arm64-signed:arm64` (needs the arm64 package
# lists: dpkg --add-architecture arm64 && apt-get update, see scripts/deps.sh).
qemu_arm64_grub() {
	local cache=build/cache f=build/cache/grubnetaa64.efi.signed deb tmp
	if [ -n "${GRUB_ARM64_EFI:-}" ]; then
		echo "$GRUB_ARM64_EFI"
		return 0
	fi
	[ -s "$f" ] && { echo "$f"; return 0; }
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/dl.XXXXXX")
	chmod 777 "$tmp"        # apt's _apt user writes there
	if (cd "$tmp" && apt-get download -q grub-efi-arm64-signed:arm64) >&2; then
		deb=$(ls "$tmp"/grub-efi-arm64-signed_*.deb 2>/dev/null | head -1)
		[ -n "$deb" ] && dpkg -x "$deb" "$tmp/x" &&
			cp "$tmp/x/usr/lib/grub/arm64-efi-signed/grubnetaa64.efi.signed" "$f"
	fi
	rm -rf "$tmp"
	[ -s "$f" ] && echo "$f"
}
