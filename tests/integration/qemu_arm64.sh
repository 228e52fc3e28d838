#!/bin/bash
# End-to-end ARM64 UEFI network boots (qemu-system-aarch64 + AAVMF, TCG)
# against pxed in full DHCP mode, two VMs in parallel:
#   a1: UEFI PXE over TFTP (arch 0x0b, rule arm64=grubnetaa64.efi); GRUB
#       then reads grub/grub.cfg from pxed over TFTP itself.
#   a2: real UEFI HTTP boot (HTTPClient arch 0x13, rule arm64-http=URL).
#       A [host] rule "arm64 local" makes its PXE entries find nothing, so
#       the firmware moves on (PXEv4, PXEv6, then HTTPv4: ~2 min under TCG).
# Boot file: Debian's signed grubnetaa64.efi (qemu_arm64_grub in
# tests/lib/qemu.sh); the GRUB prompt on the serial log proves the boot.
# Needs qemu-system-arm, qemu-efi-aarch64 and the arm64 package lists (for
# the GRUB download).  A separate script so it can run beside the others:
# about 2.5 minutes.
cd "$(dirname "$0")/../.." || exit 1
LAB_ID=qa$$
source tests/lib/lab.sh
source tests/lib/qemu.sh
lab_plan 20
T_ALL=$(date +%s)
VM_SECS=${VM_SECS:-420}

qemu_have arm64 || { not_ok "QEMU for arm64 is installed (qemu-system-arm qemu-efi-aarch64)"; lab_finish; }
GRUB=$(qemu_arm64_grub) || { not_ok "grubnetaa64.efi (grub-efi-arm64-signed:arm64) available"; lab_finish; }

vm_lab_up || exit 1
cp "$GRUB" "$LAB_ROOT/grubnetaa64.efi"
mkdir -p "$LAB_ROOT/grub"
printf 'echo PXED-GRUB-CFG-OK net=$net_default_ip\n' >"$LAB_ROOT/grub/grub.cfg"
chmod 755 "$LAB_ROOT/grub"
chmod 644 "$LAB_ROOT/grubnetaa64.efi" "$LAB_ROOT/grub/grub.cfg"
SIZE=$(stat -c %s "$LAB_ROOT/grubnetaa64.efi")
A1=52:54:00:12:34:70
A2=52:54:00:12:34:71
cat >"$LAB_DIR/pxed.conf" <<CONF
[host $A2]
boot = arm64 local
CONF

logq() { grep -qE -- "$1" "$LAB_DIR/pxed.log"; }
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
serial_tail() { vm_serial_text "$1" | grep -v '^ *$' | tail -"${2:-8}" | cut -c1-200 | sed 's/^/# serial: /'; }

pxed_start --config "$LAB_DIR/pxed.conf" --interface br0 --dhcp-range 192.0.2.100,192.0.2.150 \
	--boot arm64=grubnetaa64.efi --boot arm64-http=http://192.0.2.1/grubnetaa64.efi || exit 1
vm_start a1 arm64 $A1 "$VM_SECS" || exit 1
vm_start a2 arm64 $A2 "$VM_SECS" || exit 1

# --- a1: PXE over TFTP ---
if vm_wait_serial a1 'grub>' "$VM_SECS" 'Start PXE over IPv6|Start HTTP Boot'; then
	ok "ARM64 PXE: AAVMF booted grubnetaa64.efi to the GRUB prompt ($(vm_elapsed a1)s)"
else
	not_ok "ARM64 PXE: AAVMF booted grubnetaa64.efi to the GRUB prompt (gave up after $(vm_elapsed a1)s)"
	serial_tail a1
fi
vm_stop a1
check "ARM64 PXE: serial shows NBP file downloaded successfully" \
	grep -aq "NBP file downloaded successfully" "$(vm_serial a1)"
check "ARM64 PXE: pxed classed it arm64 (PXEClient:Arch:00011)" \
	logq "$A1: DISCOVER .*class arm64, vendor 'PXEClient:Arch:00011:UNDI:003000'"
check "ARM64 PXE: pxed ACKed it with grubnetaa64.efi" logq "$A1: ACK 192\.0\.2\.[0-9]+ boot grubnetaa64\.efi"
check "ARM64 PXE: TFTP download with windowsize 4" \
	logq "sent grubnetaa64\.efi \($SIZE bytes, blksize 1468, window 4\)"
check "ARM64 PXE: GRUB read grub/grub.cfg from pxed over TFTP" \
	grep -aq "PXED-GRUB-CFG-OK net=192.0.2." "$(vm_serial a1)"
for ev in dhcp-discover dhcp-offer dhcp-ack tftp-done; do
	check "timeline of $A1 has $ev" has_event $A1 $ev
done

# --- a2: UEFI HTTP boot ---
if vm_wait_serial a2 'grub>' "$VM_SECS" 'Start HTTP Boot over IPv6|EFI Internal Shell'; then
	ok "ARM64 HTTP boot: AAVMF booted grubnetaa64.efi to the GRUB prompt ($(vm_elapsed a2)s)"
else
	not_ok "ARM64 HTTP boot: AAVMF booted grubnetaa64.efi to the GRUB prompt (gave up after $(vm_elapsed a2)s)"
	serial_tail a2
fi
vm_stop a2
check "ARM64 HTTP boot: the firmware's HTTPv4 entry used pxed's URL" \
	grep -aq "URI: http://192.0.2.1/grubnetaa64.efi" "$(vm_serial a2)"
check "ARM64 HTTP boot: pxed classed it arm64-http (HTTPClient:Arch:00019)" \
	logq "$A2: DISCOVER .*class arm64-http, vendor 'HTTPClient:Arch:00019:UNDI:003000'"
check "ARM64 HTTP boot: pxed ACKed it with the URL" \
	logq "$A2: ACK 192\.0\.2\.[0-9]+ boot http://192\.0\.2\.1/grubnetaa64\.efi"
check "ARM64 HTTP boot: the firmware's HEAD, then GET of the URL" \
	bash -c "grep -E 'HEAD /grubnetaa64\.efi 200|GET /grubnetaa64\.efi 200 $SIZE' '$LAB_DIR/pxed.log' |
		awk '{print \$5}' | tr '\n' ' ' | grep -q '^HEAD GET'"
check "ARM64 HTTP boot: no TFTP from it (only a1's size probe and download)" \
	[ "$(grep -c 'RRQ grubnetaa64' "$LAB_DIR/pxed.log")" = 2 ]
for ev in dhcp-discover dhcp-ack; do
	check "timeline of $A2 has $ev" has_event $A2 $ev
done

check "pxed stops cleanly" pxed_stop
check "sanitizer clean" pxed_log_clean
echo "# qemu_arm64.sh took $(($(date +%s) - T_ALL))s"
lab_finish
