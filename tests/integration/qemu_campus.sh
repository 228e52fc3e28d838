#!/bin/bash
# One central pxed for a campus: real firmware on a routed client subnet
# (198.51.100.0/24) whose router relays DHCP both to the site's DHCP server
# and to pxed (tests/lib/campus.sh), as an "ip helper-address" pair does.
#
#   A. relay dnsmasq --dhcp-relay (twice), site server Kea (kea-dhcp4):
#      a BIOS machine (SeaBIOS + iPXE ROM) and a UEFI machine (OVMF's EDK2
#      PXE -> snponly.efi over TFTP across the router -> iPXE) reach pxed's
#      iPXE script (proxy mode); Kea holds their leases, pxed none.
#   B. relay ISC dhcrelay, site server dnsmasq: the same two firmware.
#   C. full mode through dhcrelay: pxed gives the address (no site server).
# Each relay and each site server is thus crossed by both firmware (4
# proxy boots rather than all 8 pairings; with the full-mode one, 5 boots).
# A capture on the client LAN shows pxed's proxy offers arriving there as
# broadcasts (the relay could not unicast a reply without an address).  The
# UEFI machine's timeline has its DHCP, proxy offer, TFTP and HTTP steps.
# Needs qemu-system-x86, ipxe-qemu, ovmf, ipxe, dnsmasq-base,
# kea-dhcp4-server, isc-dhcp-relay, tcpdump.  About 2-3 minutes.
cd "$(dirname "$0")/../.." || exit 1
LAB_ID=qc$$
source tests/lib/lab.sh
source tests/lib/api.sh
source tests/lib/qemu.sh
source tests/lib/campus.sh
lab_plan 43
T_ALL=$(date +%s)
VM_SECS=${VM_SECS:-240}
# shellcheck disable=SC2034  # read by tests/lib/qemu.sh
VM_NS=$CAMPUS_RTR
# shellcheck disable=SC2034
VM_BRIDGE=lan0

for k in bios uefi; do
	qemu_have "$k" || { not_ok "QEMU for $k is installed (qemu-system-x86 ipxe-qemu ovmf)"; lab_finish; }
done
for t in kea-dhcp4 dhcrelay dnsmasq tcpdump; do
	command -v $t >/dev/null || { not_ok "$t is installed (scripts/deps.sh)"; lab_finish; }
done
campus_up || { not_ok "setup: campus lab"; lab_finish; }
cp /usr/lib/ipxe/undionly.kpxe /usr/lib/ipxe/snponly.efi "$LAB_ROOT/"
printf '#!ipxe\necho PXED-IPXE-SCRIPT-OK ip=${net0/ip}\nexit\n' >"$LAB_ROOT/boot.ipxe"
chmod 644 "$LAB_ROOT"/*
NBP_SIZE=$(stat -c %s "$LAB_ROOT/snponly.efi")
SCRIPT_OK='PXED-IPXE-SCRIPT-OK ip=198\.51\.100\.[0-9]+'
BIOS_FAIL='Nothing to boot|No bootable device'
UEFI_FAIL='Nothing to boot|PXE-E[0-9]|Start PXE over IPv6|Start HTTP Boot'

proxy_conf() {
	cat >"$LAB_DIR/pxed.conf" <<EOF
proxy = yes
boot = bios undionly.kpxe
boot = efi64 snponly.efi
boot = ipxe http://192.0.2.1/boot.ipxe
[subnet 198.51.100.0/24]
proxy = yes
EOF
}
full_conf() {
	cat >"$LAB_DIR/pxed.conf" <<EOF
boot = bios undionly.kpxe
boot = efi64 snponly.efi
boot = ipxe http://192.0.2.1/boot.ipxe
[subnet 198.51.100.0/24]
range = 198.51.100.100 198.51.100.150
router = 198.51.100.1
EOF
}

logq() { grep -qE -- "$1" "$LAB_DIR/pxed.log"; }
# relays forward from their address toward pxed (dhcrelay) or from giaddr (dnsmasq)
RELAY_FROM="dhcp ($CAMPUS_RTR_IP|$CAMPUS_GIADDR)"
script_ip() { vm_serial_text "$1" | sed -n 's/.*PXED-IPXE-SCRIPT-OK ip=\([0-9.]*\).*/\1/p' | head -1; }
in_range() { local o=${1##*.}; [ "${1%.*}" = 198.51.100 ] && [ "$o" -ge "$2" ] && [ "$o" -le "$3" ]; }
site_has_lease() { campus_site_leases | grep -qx "$1"; }
has_event() {
	local j
	j=$(in_cli timeout 10 curl -s -H "$(lab_auth)" "http://$LAB_SRV_IP/api/v1/clients/$1")
	grep -q "\"kind\": *\"$2\"" <<<"$j" && return 0
	echo "# timeline of $1: $(head -c 600 <<<"$j" | tr '\n' ' ')"
	return 1
}
# pxed_leases CIDR: the leases pxed holds there (pxectl subnet show)
pxed_leases() { ctl subnet show "$1" | sed -n 's/.* \([0-9]*\) lease(s) now/\1/p'; }
broadcast_offers() { campus_capture_text | grep -c "198.51.100.1.67 > 255.255.255.255.68: BOOTP/DHCP, Reply"; }

# wait_script VM WHAT FAIL_REGEX: the VM ran pxed's script
wait_script() {
	if vm_wait_serial "$1" "$SCRIPT_OK" "$VM_SECS" "$3"; then
		ok "$2: reached pxed's iPXE script ($(vm_elapsed "$1")s)"
	else
		not_ok "$2: reached pxed's iPXE script (gave up after $(vm_elapsed "$1")s)"
		vm_serial_text "$1" | grep -v '^ *$' | tail -8 | sed 's/^/# serial: /'
	fi
	vm_stop "$1"
}

# phase NAME RELAY SITE: two VMs through RELAY with SITE giving addresses
phase() {
	local name=$1 relay=$2 site=$3 b=$4 u=$5 ip
	campus_site_start "$site" || { not_ok "setup: $site started"; cat "$LAB_DIR/site.log"; lab_finish; }
	campus_relay_start "$relay" || { not_ok "setup: $relay started"; cat "$LAB_DIR/relay.log"; lab_finish; }
	proxy_conf
	pxed_start --config "$LAB_DIR/pxed.conf" || lab_finish
	campus_capture_start || { not_ok "setup: tcpdump"; lab_finish; }
	vm_start "b$name" bios "$b" "$VM_SECS" || lab_finish
	vm_start "u$name" uefi "$u" "$VM_SECS" || lab_finish
	wait_script "b$name" "$name BIOS via $relay, $site" "$BIOS_FAIL"
	ip=$(script_ip "b$name")
	check "$name BIOS: its address is from $site's range ($ip)" in_range "${ip:-x.0}" 50 90
	check "$name BIOS: pxed's proxy OFFER went to the relay" \
		logq "$RELAY_FROM:67 $b: OFFER 0\.0\.0\.0 boot http://192\.0\.2\.1/boot\.ipxe"
	check "$name BIOS: $site holds its lease" site_has_lease "$b"
	check "$name BIOS: GET /boot.ipxe 200 across the router" logq "http ${ip:-none}:[0-9]+ GET /boot.ipxe 200"
	if vm_wait_serial "u$name" "NBP file downloaded successfully" "$VM_SECS" "$UEFI_FAIL"; then
		ok "$name UEFI via $relay, $site: EDK2 downloaded snponly.efi ($(vm_elapsed "u$name")s)"
	else
		not_ok "$name UEFI via $relay, $site: EDK2 downloaded snponly.efi"
	fi
	wait_script "u$name" "$name UEFI (EDK2 -> snponly.efi -> iPXE) via $relay, $site" "$UEFI_FAIL"
	ip=$(script_ip "u$name")
	check "$name UEFI: its address is from $site's range ($ip)" in_range "${ip:-x.0}" 50 90
	check "$name UEFI: TFTP of snponly.efi across the router" \
		logq "tftp ${ip:-none}:[0-9]+: sent snponly.efi \($NBP_SIZE bytes"
	check "$name UEFI: $site holds its lease" site_has_lease "$u"
	for ev in dhcp-discover proxy-offer tftp-done http-done; do
		check "$name UEFI: the timeline of $u has $ev" has_event "$u" "$ev"
	done
	campus_capture_stop
	n=$(broadcast_offers)
	check "$name: pxed's offers reached the client LAN as broadcasts ($n)" [ "${n:-0}" -ge 2 ]
	check "$name: pxed holds no lease on the relayed subnet" [ "$(pxed_leases 198.51.100.0/24)" = 0 ]
	check "$name: pxed stops cleanly" pxed_stop
	check "$name: sanitizer clean" pxed_log_clean
	pxed_log_rotate
	campus_relay_stop
	campus_site_stop
}

phase A dnsmasq kea 52:54:00:33:0a:01 52:54:00:33:0a:02
phase B dhcrelay dnsmasq 52:54:00:33:0b:01 52:54:00:33:0b:02

# --- C. full mode through dhcrelay: pxed gives the address ---
B3=52:54:00:33:0c:01
: >"$LAB_DIR/pxed.log"
campus_relay_start dhcrelay || { not_ok "setup: dhcrelay started"; lab_finish; }
full_conf
pxed_start --config "$LAB_DIR/pxed.conf" || lab_finish
vm_start bC bios $B3 "$VM_SECS" || lab_finish
wait_script bC "C full mode BIOS via dhcrelay" "$BIOS_FAIL"
ip=$(script_ip bC)
check "C full mode: its address is from pxed's range ($ip)" in_range "${ip:-x.0}" 100 150
check "C full mode: pxed ACKed it through the relay" logq "$RELAY_FROM:67 $B3: ACK 198\.51\.100\.[0-9]+ boot http"
check "C full mode: pxed holds its lease" [ "$(pxed_leases 198.51.100.0/24)" = 1 ]
subnet_list_has() { ctl subnet list | grep -qE -- "$1"; }
check "C full mode: subnet list says full, reached by relay 198.51.100.1" \
	subnet_list_has "^198.51.100.0/24 +full +file +relay 198.51.100.1 "
check "C: pxed stops cleanly" pxed_stop
check "C: sanitizer clean" pxed_log_clean
echo "# qemu_campus.sh took $(($(date +%s) - T_ALL))s"
lab_finish
