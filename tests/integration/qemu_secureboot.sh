#!/bin/bash
# A Secure Boot network boot chain under QEMU (TCG) against pxed in full
# DHCP mode: OVMF with Secure Boot on and Microsoft's keys enrolled
# (OVMF_CODE_4M.ms.fd + a copy of OVMF_VARS_4M.ms.fd, q35 with SMM, secure
# pflash) boots Debian's signed shim (--boot efi64=shimx64.efi) over EDK2's
# own PXE; shim fetches grubx64.efi (Debian's signed network GRUB) from the
# same directory over the firmware's TFTP, checks it, and GRUB reads
# /grub/grub.cfg from pxed and reaches its prompt.
#
# Checked: the serial log (shim's "Fetching Netboot Image grubx64.efi", the
# grub.cfg marker, the GRUB prompt), pxed's log (both RRQs, shim's first,
# with windowsize 4 granted, both sent whole), the boot timeline (pxectl
# client MAC from the client namespace: dhcp-ack, tftp-done for both files).
# A second VM at the same time, whose host rule gives it an unsigned EFI
# program, must be refused by the firmware ("Access Denied") after a whole
# download: Secure Boot really is enforced.
#
# Needs qemu-system-x86, ovmf, shim-signed, grub-efi-amd64-signed (and its
# dependency grub-efi-amd64-bin for the unsigned GRUB).  About 1-2 minutes on
# 2 cores; each VM is bounded by `timeout -s KILL $VM_SECS` (300).
cd "$(dirname "$0")/../.." || exit 1
LAB_ID=qs$$
source tests/lib/lab.sh
source tests/lib/qemu.sh
source tests/lib/qemu_sb.sh
lab_plan 17
T_ALL=$(date +%s)
VM_SECS=${VM_SECS:-300}
PXECTL=${PXECTL:-build/pxectl}

# make check installs all of it (scripts/deps.sh): a missing part is a failure
qemu_have_sb || {
	not_ok "setup: QEMU and the Secure Boot chain are installed (qemu-system-x86 ovmf shim-signed grub-efi-amd64-signed)"
	lab_finish
}
[ -f "$SB_UNSIGNED" ] || { not_ok "setup: $SB_UNSIGNED is installed (grub-efi-amd64-bin)"; lab_finish; }
[ -x "$PXECTL" ] || { not_ok "setup: $PXECTL is built (make)"; lab_finish; }

vm_lab_up || exit 1
cp "$SB_SHIM" "$LAB_ROOT/shimx64.efi"
cp "$SB_GRUB" "$LAB_ROOT/grubx64.efi"
mkdir -p "$LAB_ROOT/grub" "$LAB_ROOT/unsigned"
# grubnetx64's prefix is (tftp,SERVER)/grub: it reads /grub/grub.cfg.  No
# menu entry, so GRUB drops to its prompt after the echo.
# shellcheck disable=SC2016  # a GRUB variable
printf 'echo PXED-GRUB-CFG-OK ip=$net_default_ip\n' >"$LAB_ROOT/grub/grub.cfg"
cp "$SB_UNSIGNED" "$LAB_ROOT/unsigned/grubnetx64.efi"
chmod -R a+rX "$LAB_ROOT"
SHIM_SIZE=$(stat -c %s "$LAB_ROOT/shimx64.efi")
GRUB_SIZE=$(stat -c %s "$LAB_ROOT/grubx64.efi")

S1=52:54:00:12:35:01    # the signed chain
S2=52:54:00:12:35:02    # an unsigned NBP (host rule)
cat >"$LAB_DIR/pxed.conf" <<EOF
[host $S2]
boot = efi64 unsigned/grubnetx64.efi
EOF

# the path failed: a signature was refused, or EDK2 moved on to the next
# boot option
SB_FAIL='Access Denied|Security Violation|Verification failed|PXE-E[0-9]|Start PXE over IPv6|Start HTTP Boot'
logq() { grep -qE -- "$1" "$LAB_DIR/pxed.log"; }
serial_tail() { vm_serial_text "$1" | grep -v '^ *$' | tail -"${2:-8}" | sed 's/^/# serial: /'; }
# first_line REGEX: the line number of the first log line that matches
first_line() { grep -nE -- "$1" "$LAB_DIR/pxed.log" | head -1 | cut -d: -f1; }
rrq_order() {
	local a b
	a=$(first_line "$RRQ_SHIM")
	b=$(first_line "$RRQ_GRUB")
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}
# timeline_has MAC REGEX: pxectl's timeline of MAC has a line matching REGEX
# (events are recorded within about a second: poll for 3 s)
timeline_has() {
	local t
	for _ in 1 2 3 4 5 6; do
		t=$(in_cli timeout 10 "$PXECTL" --server "http://$LAB_SRV_IP" --token-file "$LAB_DIR/state/api-token" client "$1" 2>&1)
		grep -qE -- "$2" <<<"$t" && return 0
		sleep 0.5
	done
	sed 's/^/# pxectl: /' <<<"$t" | head -20
	return 1
}

pxed_start --config "$LAB_DIR/pxed.conf" --interface br0 \
	--dhcp-range 192.0.2.100,192.0.2.150 --boot efi64=shimx64.efi || exit 1
vm_start_sb s1 $S1 "$VM_SECS" || exit 1
vm_start_sb s2 $S2 "$VM_SECS" || exit 1

# --- 1. the signed chain: firmware -> shim -> GRUB ---
if vm_wait_serial s1 "Fetching Netboot Image grubx64\.efi" 240 "$SB_FAIL"; then
	ok "Secure Boot: firmware started shim, shim fetches grubx64.efi ($(vm_elapsed s1)s)"
else
	not_ok "Secure Boot: firmware started shim, shim fetches grubx64.efi (gave up after $(vm_elapsed s1)s)"
	serial_tail s1 12
fi
if vm_wait_serial s1 "PXED-GRUB-CFG-OK" 120 "$SB_FAIL"; then
	ok "Secure Boot: shim verified and started GRUB, GRUB ran grub.cfg from pxed ($(vm_elapsed s1)s)"
else
	not_ok "Secure Boot: shim verified and started GRUB, GRUB ran grub.cfg from pxed (gave up after $(vm_elapsed s1)s)"
	serial_tail s1 12
fi
if vm_wait_serial s1 "grub>" 30 "$SB_FAIL"; then
	ok "Secure Boot: GRUB reached its prompt ($(vm_elapsed s1)s)"
else
	not_ok "Secure Boot: GRUB reached its prompt (gave up after $(vm_elapsed s1)s)"
	serial_tail s1 12
fi
vm_stop s1
IP1=$(vm_serial_text s1 | sed -n 's/.*Station IP address is \([0-9.]*\).*/\1/p' | head -1)
IP1=${IP1:-none}
grub_ip_ok() { vm_serial_text s1 | grep -qF "PXED-GRUB-CFG-OK ip=$IP1"; }
check "GRUB's address is the one pxed gave ($IP1)" grub_ip_ok
check "pxed ACKed $S1 with shimx64.efi" logq "$S1: ACK $IP1 boot shimx64\.efi"
# EDK2 asks blksize 1468 windowsize 4 (a tsize probe, then the download);
# shim asks GRUB through the firmware's MTFTP with blksize 512, windowsize 4.
RRQ_SHIM="tftp $IP1:[0-9]+: RRQ shimx64\.efi octet \($SHIM_SIZE bytes\) blksize 1468 window 4\$"
RRQ_GRUB="tftp $IP1:[0-9]+: RRQ grubx64\.efi octet \($GRUB_SIZE bytes\) blksize [0-9]+ window 4\$"
check "pxed log: RRQ shimx64.efi with windowsize 4 granted" logq "$RRQ_SHIM"
check "pxed log: RRQ grubx64.efi with windowsize 4 granted" logq "$RRQ_GRUB"
check "pxed log: shimx64.efi was asked for before grubx64.efi" rrq_order
check "pxed log: sent shimx64.efi whole (window 4)" \
	logq "tftp $IP1:[0-9]+: sent shimx64\.efi \($SHIM_SIZE bytes, blksize 1468, window 4\) in [0-9]+ ms"
check "pxed log: sent grubx64.efi whole (window 4)" \
	logq "tftp $IP1:[0-9]+: sent grubx64\.efi \($GRUB_SIZE bytes, blksize [0-9]+, window 4\) in [0-9]+ ms"
grep -E "tftp $IP1:[0-9]+: (RRQ|sent) (shim|grub)x64" "$LAB_DIR/pxed.log" | sed 's/^/# pxed: /'
check "timeline of $S1 has dhcp-ack" timeline_has $S1 "dhcp-ack +$IP1 boot shimx64\.efi"
check "timeline of $S1 has tftp-done shimx64.efi" timeline_has $S1 "tftp-done +shimx64\.efi $SHIM_SIZE bytes"
check "timeline of $S1 has tftp-done grubx64.efi" timeline_has $S1 "tftp-done +grubx64\.efi $GRUB_SIZE bytes"

# --- 2. Secure Boot is enforced: an unsigned NBP is refused ---
if vm_wait_serial s2 'PXEv4.*Access Denied|PXEv4.*Security Violation' 240 'Fetching Netboot|grub> |Start PXE over IPv6'; then
	ok "Secure Boot enforced: the firmware refused an unsigned NBP ($(vm_elapsed s2)s)"
else
	not_ok "Secure Boot enforced: the firmware refused an unsigned NBP (gave up after $(vm_elapsed s2)s)"
	serial_tail s2 12
fi
vm_stop s2
check "pxed sent the unsigned NBP whole (the refusal is the firmware's)" \
	logq "sent unsigned/grubnetx64\.efi \($(stat -c %s "$SB_UNSIGNED") bytes, blksize 1468, window 4\)"

check "pxed stops cleanly" pxed_stop
check "sanitizer clean" pxed_log_clean
echo "# qemu_secureboot.sh took $(($(date +%s) - T_ALL))s"
lab_finish
