#!/bin/bash
# End-to-end network boots of real x86 firmware under QEMU (TCG) against pxed:
#   1. full DHCP mode: SeaBIOS + QEMU's iPXE ROM (e1000) gets the iPXE script
#      URL in its first DHCP (the ROM already says iPXE) and runs the script;
#      OVMF's own EDK2 PXE (virtio-net, romfile=) loads snponly.efi over TFTP
#      (size probe, then blksize 1468 windowsize 4), whose iPXE does DHCP
#      again with user class iPXE and runs the script.
#   2. proxyDHCP mode: the same two firmware with dnsmasq as the site's DHCP
#      server on the same segment and pxed --proxy giving the boot program.
# Both VMs of a mode boot in parallel.  Markers come from the serial logs
# (see tests/lib/qemu.sh) and pxed's log; the boot timeline API is checked
# for the VMs' MACs.  Needs qemu-system-x86, ipxe-qemu, ovmf, ipxe,
# dnsmasq-base.  About 2 minutes on 2 cores.
cd "$(dirname "$0")/../.." || exit 1
LAB_ID=qb$$
source tests/lib/lab.sh
source tests/lib/qemu.sh
lab_plan 42
T_ALL=$(date +%s)
VM_SECS=${VM_SECS:-240}

for k in bios uefi; do
	qemu_have "$k" || { not_ok "QEMU for $k is installed (qemu-system-x86 ipxe-qemu ovmf)"; lab_finish; }
done
for f in /usr/lib/ipxe/undionly.kpxe /usr/lib/ipxe/snponly.efi; do
	[ -f "$f" ] || { not_ok "$f exists (package ipxe)"; lab_finish; }
done

vm_lab_up || exit 1
cp /usr/lib/ipxe/undionly.kpxe /usr/lib/ipxe/snponly.efi "$LAB_ROOT/"
chmod 644 "$LAB_ROOT"/*
NBP_SIZE=$(stat -c %s "$LAB_ROOT/snponly.efi")
# iPXE 1.0.0 (2019, Debian 12) has no "poweroff": the VM is killed once the
# marker is seen.
printf '#!ipxe\necho PXED-IPXE-SCRIPT-OK ip=${net0/ip}\nexit\n' >"$LAB_ROOT/boot.ipxe"
chmod 644 "$LAB_ROOT/boot.ipxe"
BOOT_RULES=(--boot bios=undionly.kpxe --boot efi64=snponly.efi
	--boot ipxe=http://192.0.2.1/boot.ipxe)
SCRIPT_OK='PXED-IPXE-SCRIPT-OK ip=192\.0\.2\.[0-9]+'
# the path failed: iPXE found nothing, or EDK2 moved on to the next boot option
BIOS_FAIL='Nothing to boot|No bootable device'
UEFI_FAIL='Nothing to boot|PXE-E[0-9]|Start PXE over IPv6|Start HTTP Boot'

# logq REGEX: pxed's log (this run) matches
logq() { grep -qE -- "$1" "$LAB_DIR/pxed.log"; }
# script_ip VM: the address iPXE reported in the script's echo
script_ip() { vm_serial_text "$1" | sed -n 's/.*PXED-IPXE-SCRIPT-OK ip=\([0-9.]*\).*/\1/p' | head -1; }
# timeline MAC: the boot timeline of MAC (JSON), fetched from the client side
timeline() {
	in_cli timeout 10 curl -sS -H "$(lab_auth)" \
		-w '\n# curl: http %{http_code}, %{time_total}s\n' \
		"http://$LAB_SRV_IP/api/v1/clients/$1" 2>&1
}
has_event() {
	local j
	j=$(timeline "$1")
	grep -q "\"kind\": *\"$2\"" <<<"$j" && return 0
	echo "# timeline of $1: $(head -c 600 <<<"$j" | tr '\n' ' ')"
	return 1
}
clients_has() {
	local j m
	j=$(in_cli timeout 5 curl -s -H "$(lab_auth)" "http://$LAB_SRV_IP/api/v1/clients")
	for m in "$@"; do grep -q "$m" <<<"$j" || return 1; done
}
# no_tftp_from IP: there is an address, and pxed's log has no TFTP line from it
no_tftp_from() { [ -n "$1" ] && ! logq "tftp ${1//./\\.}:"; }
in_range() {    # IP FIRST-LAST-OCTET LAST-OCTET
	local o=${1##*.}
	[ "${1%.*}" = 192.0.2 ] && [ "$o" -ge "$2" ] && [ "$o" -le "$3" ]
}

# boot_bios VM MODE LO HI: wait for the BIOS VM's script and check it
boot_bios() {
	local vm=$1 mode=$2 lo=$3 hi=$4 mac=$5 ip
	if vm_wait_serial "$vm" "$SCRIPT_OK" "$VM_SECS" "$BIOS_FAIL"; then
		ok "$mode BIOS: iPXE ROM ran the script from pxed ($(vm_elapsed "$vm")s)"
	else
		not_ok "$mode BIOS: iPXE ROM ran the script from pxed (gave up after $(vm_elapsed "$vm")s)"
		vm_serial_text "$vm" | grep -v '^ *$' | tail -8 | sed 's/^/# serial: /'
	fi
	vm_stop "$vm"
	ip=$(script_ip "$vm")
	check "$mode BIOS: address from the ${mode/full/pxed} range ($ip)" in_range "${ip:-x.0}" "$lo" "$hi"
	check "$mode BIOS: pxed logged GET /boot.ipxe 200 from the VM" \
		logq "http ${ip:-none}:[0-9]+ GET /boot.ipxe 200"
	check "$mode BIOS: no TFTP at all (the ROM asked as iPXE at once)" no_tftp_from "$ip"
}

# boot_uefi VM MODE LO HI MAC: EDK2 PXE -> snponly.efi -> iPXE -> script
boot_uefi() {
	local vm=$1 mode=$2 lo=$3 hi=$4 mac=$5 ip
	if vm_wait_serial "$vm" "NBP file downloaded successfully" "$VM_SECS" "$UEFI_FAIL"; then
		ok "$mode UEFI: EDK2 PXE downloaded snponly.efi ($(vm_elapsed "$vm")s)"
	else
		not_ok "$mode UEFI: EDK2 PXE downloaded snponly.efi (gave up after $(vm_elapsed "$vm")s)"
		vm_serial_text "$vm" | grep -v '^ *$' | tail -8 | sed 's/^/# serial: /'
	fi
	ip=$(vm_serial_text "$vm" | sed -n 's/.*Station IP address is \([0-9.]*\).*/\1/p' | head -1)
	check "$mode UEFI: EDK2's address from the ${mode/full/pxed} range ($ip)" in_range "${ip:-x.0}" "$lo" "$hi"
	check "$mode UEFI: size probe RRQ (blksize 1468, windowsize 4, tsize)" \
		logq "tftp ${ip:-none}:[0-9]+: RRQ snponly.efi octet \($NBP_SIZE bytes\) blksize 1468 window 4 tsize"
	check "$mode UEFI: download with windowsize 4 granted" \
		logq "tftp ${ip:-none}:[0-9]+: sent snponly.efi \($NBP_SIZE bytes, blksize 1468, window 4\)"
	if vm_wait_serial "$vm" "$SCRIPT_OK" "$VM_SECS" "$UEFI_FAIL"; then
		ok "$mode UEFI: snponly.efi (iPXE) ran the script from pxed ($(vm_elapsed "$vm")s)"
	else
		not_ok "$mode UEFI: snponly.efi (iPXE) ran the script from pxed (gave up after $(vm_elapsed "$vm")s)"
		vm_serial_text "$vm" | grep -v '^ *$' | tail -8 | sed 's/^/# serial: /'
	fi
	vm_stop "$vm"
	check "$mode UEFI: iPXE's second DHCP was classed ipxe" \
		logq "$mac: DISCOVER .*class ipxe, vendor 'PXEClient:Arch:00007:UNDI:003010'"
	ip=$(script_ip "$vm")
	check "$mode UEFI: pxed logged GET /boot.ipxe 200 from iPXE" \
		logq "http ${ip:-none}:[0-9]+ GET /boot.ipxe 200"
}

# --- 1. full DHCP mode ---
B1=52:54:00:12:34:56
U1=52:54:00:12:34:58
pxed_start --interface br0 --dhcp-range 192.0.2.100,192.0.2.150 "${BOOT_RULES[@]}" || exit 1
vm_start b1 bios $B1 "$VM_SECS" || exit 1
vm_start u1 uefi $U1 "$VM_SECS" || exit 1
boot_bios b1 full 100 150 $B1
check "full BIOS: pxed ACKed it with the script URL" \
	logq "$B1: ACK 192\.0\.2\.[0-9]+ boot http://192\.0\.2\.1/boot\.ipxe"
boot_uefi u1 full 100 150 $U1
check "full UEFI: pxed's first OFFER named snponly.efi" logq "$U1: OFFER 192\.0\.2\.[0-9]+ boot snponly\.efi"
for ev in dhcp-discover dhcp-offer dhcp-ack; do
	check "timeline of $B1 has $ev" has_event $B1 $ev
done
for ev in dhcp-discover dhcp-offer dhcp-ack tftp-start tftp-done; do
	check "timeline of $U1 has $ev" has_event $U1 $ev
done
check "/api/v1/clients lists both VMs" clients_has $B1 $U1
check "full mode: pxed stops cleanly" pxed_stop
check "full mode: sanitizer clean" pxed_log_clean
pxed_log_rotate

# --- 2. proxyDHCP mode: dnsmasq (192.0.2.3) gives the addresses ---
B2=52:54:00:12:34:57
U2=52:54:00:12:34:59
dnsmasq_dhcp_start 192.0.2.3 192.0.2.50,192.0.2.90 || { not_ok "dnsmasq started"; lab_finish; }
pxed_start --interface br0 --proxy "${BOOT_RULES[@]}" || exit 1
vm_start b2 bios $B2 "$VM_SECS" || exit 1
vm_start u2 uefi $U2 "$VM_SECS" || exit 1
boot_bios b2 proxy 50 90 $B2
check "proxy BIOS: pxed sent a proxy OFFER with the script URL" \
	logq "$B2: OFFER 0\.0\.0\.0 boot http://192\.0\.2\.1/boot\.ipxe"
check "proxy BIOS: dnsmasq ACKed the VM" grep -qi "DHCPACK(d0) 192.0.2.[0-9]* $B2" "$LAB_DIR/dnsmasq.log"
boot_uefi u2 proxy 50 90 $U2
check "proxy UEFI: pxed sent a proxy OFFER naming snponly.efi" logq "$U2: OFFER 0\.0\.0\.0 boot snponly\.efi"
check "proxy UEFI: dnsmasq ACKed the VM" grep -qi "DHCPACK(d0) 192.0.2.[0-9]* $U2" "$LAB_DIR/dnsmasq.log"
check "timeline of $U2 has proxy-offer" has_event $U2 proxy-offer
check "proxy mode: pxed stops cleanly" pxed_stop
check "proxy mode: sanitizer clean" pxed_log_clean
echo "# qemu_boot.sh took $(($(date +%s) - T_ALL))s"
lab_finish
