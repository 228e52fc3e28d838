#!/bin/bash
# make demo: start pxed in a throw-away lab network (namespaces on a
# bridge), fetch boot files with real clients over TFTP and HTTP, then
# network-boot a UEFI virtual machine (QEMU + OVMF) from pxed: DHCP, the
# iPXE boot program over TFTP with windowsize, iPXE's script over HTTP.
# Shows the machine's boot timeline and pxed's log.  Needs root (network
# namespaces); leaves nothing behind.  DEMO_VM=no skips the VM.
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
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
VM_MAC=52:54:00:de:00:01

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
mkdir -p "$LAB_ROOT/Boot"
head -c 16384 /dev/urandom >"$LAB_ROOT/Boot/BCD"
chmod -R a+rX "$LAB_ROOT"
ls -l "$LAB_ROOT"

step "start pxed as the lab's DHCP server and boot server"
echo "  $PXED --root $LAB_ROOT --listen $LAB_SRV_IP --dhcp-range 192.0.2.100,192.0.2.150"
echo "       --boot bios=undionly.kpxe --boot efi64=snponly.efi --boot ipxe=http://\${next-server}/boot.ipxe"
pxed_start --log-level info --dhcp-range 192.0.2.100,192.0.2.150 --boot bios=undionly.kpxe \
	--boot efi64=snponly.efi --boot 'ipxe=http://${next-server}/boot.ipxe'

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
for f in undionly.kpxe; do cmp "$LAB_DIR/$f" "$LAB_ROOT/$f" && echo "  $f: identical"; done
for f in boot-curl.img boot-atftp.img boot-http.img; do
	cmp "$LAB_DIR/$f" "$LAB_ROOT/boot.img" && echo "  $f: identical"
done
cmp "$LAB_DIR/bcd" "$LAB_ROOT/Boot/BCD" && echo "  \\boot\\bcd -> Boot/BCD: identical"

step "refused: a path that leaves the root"
in_cli timeout 10 curl -s --path-as-is -o /dev/null "tftp://$LAB_SRV_IP/../../etc/passwd" ||
	echo "  curl: refused (exit $?)"

if [ "${DEMO_VM:-yes}" != no ] && qemu_have uefi && [ -f "$LAB_ROOT/snponly.efi" ]; then
	step "network-boot a UEFI machine (QEMU + OVMF, software emulation: about a minute)"
	vm_start demo uefi $VM_MAC 240
	if vm_wait_serial demo "pxed demo: iPXE fetched" 230; then
		echo "  booted in $(vm_elapsed demo) s; what the machine printed:"
		vm_serial_text demo | grep -aE "Start PXE|NBP file|iPXE initialising|pxed demo" |
			sed 's/^/    /' | head -12
	else
		echo "  the machine did not finish booting within the time allowed; its console:"
		vm_serial_text demo | tail -15 | sed 's/^/    /'
	fi
	vm_stop demo
	sleep 1         # boot events reach the store within half a second
	step "the machine's boot timeline: pxectl client $VM_MAC"
	in_cli build/pxectl --server "http://$LAB_SRV_IP" client $VM_MAC
fi

step "pxectl status (over the HTTP API)"
in_cli build/pxectl --server "http://$LAB_SRV_IP" status

step "pxed's log"
pxed_stop || true
sed 's/^/  /' "$LAB_DIR/pxed.log"
step "done: the lab is removed on exit"
