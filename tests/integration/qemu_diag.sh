#!/bin/bash
# Diagnose and repair with real firmware under QEMU (TCG): five machines
# network-boot from pxed at once.
#   diag-bios  SeaBIOS + iPXE (e1000), an IDE disk and a virtio disk on
#   diag-uefi  OVMF -> snponly.efi -> iPXE (virtio-net), an AHCI disk and a
#              virtio disk on QEMU's blkdebug driver failing reads of the
#              sectors 10001-10010; -smbios vendor, product and serial
#              strings.  pxectl task diagnose (inventory, smart, disk-read,
#              memory, cpu, network): the boot script loads the diag layer,
#              the healthy disk passes, the other fails listing exactly that
#              range, the task ends failed naming disk-read; memory, cpu,
#              network pass within their bounds; inventory reports the DMI
#              strings exactly; SMART of the IDE/AHCI disk passes its
#              self-test.
#   mt-bios, mt-uefi  pxectl task memtest: Debian's memtest86+ (the .bin,
#              the .efi) served by pxed, its banner on the serial console;
#              the task is done once the program has been served.
#   env-linux  pxectl task boot of a Linux environment made through the API
#              (Debian's kernel + a small initrd printing a marker and its
#              command line).
# Each VM is killed once its marker is seen (or at VM_SECS).  Needs make
# bootenv (built here when missing), qemu-system-x86, ovmf, ipxe, memtest86+.
cd "$(dirname "$0")/../.." || exit 1
LAB_ID=qd$$
source tests/lib/lab.sh
lab_plan 34
source tests/lib/qemu.sh
source tests/lib/api.sh
T_ALL=$(date +%s)
VM_SECS=${VM_SECS:-600}
BAD_FIRST=10001
BAD_COUNT=10

for k in bios uefi; do
	qemu_have "$k" || { not_ok "QEMU for $k is installed"; lab_finish; }
done
[ -f /boot/memtest86+x64.bin ] && [ -f /boot/memtest86+x64.efi ] ||
	{ not_ok "Debian's memtest86+ is installed"; lab_finish; }
if [ ! -f build/bootenv/diag.initrd ] || [ ! -f build/bootenv/initrd ]; then
	scripts/bootenv.sh build/pxe-agent >"$LAB_DIR/bootenv.log" 2>&1 ||
		{ not_ok "make bootenv"; tail -20 "$LAB_DIR/bootenv.log"; lab_finish; }
fi
vm_lab_up || exit 1
mkdir -p "$LAB_ROOT/bootenv" "$LAB_ROOT/envlinux"
cp build/bootenv/vmlinuz build/bootenv/initrd build/bootenv/diag.initrd "$LAB_ROOT/bootenv/"
cp /usr/lib/ipxe/snponly.efi "$LAB_ROOT/"

# --- the Linux environment: Debian's kernel, an initrd printing a marker ---
E=$LAB_DIR/envroot
mkdir -p "$E/bin" "$E/dev" "$E/proc"
cp /bin/busybox "$E/bin/busybox"
cat >"$E/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox mount -t proc proc /proc
exec >/dev/console 2>&1
/bin/busybox echo "PXED-ENV-MARKER cmdline: $(/bin/busybox cat /proc/cmdline)"
/bin/busybox poweroff -f
EOF
chmod 755 "$E/init"
(cd "$E" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -9n) >"$LAB_ROOT/envlinux/initrd.gz" ||
	{ not_ok "setup: the environment's initrd"; lab_finish; }
cp build/bootenv/vmlinuz "$LAB_ROOT/envlinux/vmlinuz"
chmod -R a+rX "$LAB_ROOT"

# --- disks: a healthy one, one failing reads of a known range ---
W=$LAB_DIR/work
mkdir -p "$W"
for v in bios uefi; do
	head -c $((32 << 20)) /dev/urandom >"$W/$v-good.img"
	head -c $((32 << 20)) /dev/urandom >"$W/$v-bad.img"
	: >"$W/$v-bad.conf"
	for s in $(seq "$BAD_FIRST" $((BAD_FIRST + BAD_COUNT - 1))); do
		printf '[inject-error]\nevent = "read_aio"\nerrno = "5"\nsector = "%s"\nonce = "off"\n\n' \
			"$s" >>"$W/$v-bad.conf"
	done
done

pxed_start --interface br0 --dhcp-range 192.0.2.100,192.0.2.150 \
	--boot efi64=snponly.efi --boot 'ipxe=http://${next-server}/api/v1/boot/${mac}.ipxe' ||
	exit 1
DB=52:54:00:dd:00:01 DU=52:54:00:dd:00:02
MB=52:54:00:dd:00:11 MU=52:54:00:dd:00:12 LX=52:54:00:dd:00:21
for h in "$DB diag-bios" "$DU diag-uefi" "$MB mt-bios" "$MU mt-uefi" "$LX env-linux"; do
	# shellcheck disable=SC2086
	ctl host add $h >/dev/null || { not_ok "setup: host add $h"; lab_finish; }
done
ctl env set linuxenv kind=linux kernel=envlinux/vmlinuz initrd=envlinux/initrd.gz \
	'args=console=ttyS0 envmarker=42' >/dev/null || { not_ok "setup: env set linuxenv"; lab_finish; }
for h in diag-bios diag-uefi; do
	ctl task diagnose "$h" --tests inventory,smart,disk-read,memory,cpu,network --duration 15 \
		--after poweroff >/dev/null || { not_ok "setup: task diagnose $h"; lab_finish; }
done
ctl task memtest mt-bios >/dev/null && ctl task memtest mt-uefi >/dev/null &&
	ctl task boot env-linux linuxenv >/dev/null || { not_ok "setup: boot tasks"; lab_finish; }
ID_DB=$(task_of $DB) ID_DU=$(task_of $DU) ID_MB=$(task_of $MB) ID_MU=$(task_of $MU) ID_LX=$(task_of $LX)

# smbios VENDOR PRODUCT SERIAL: QEMU's -smbios type=1 (commas doubled)
smbios() { echo "type=1,manufacturer=$1,product=$2,serial=$3"; }
VM_EXTRA=(-smbios "$(smbios 'Pxed Test Inc.' 'Diag Box 3000' 'SN-0042-BIOS')"
	-drive "file=$W/bios-good.img,format=raw,if=ide,index=0"
	-drive "file=blkdebug:$W/bios-bad.conf:$W/bios-bad.img,format=raw,if=virtio")
vm_start diag-bios bios $DB "$VM_SECS" || exit 1
VM_EXTRA=(-smbios "$(smbios 'Pxed Test Inc.' 'Diag Box 4000 UEFI' 'SN-0043-UEFI')"
	-drive "file=$W/uefi-good.img,format=raw,if=ide,index=0"
	-drive "file=blkdebug:$W/uefi-bad.conf:$W/uefi-bad.img,format=raw,if=virtio")
vm_start diag-uefi uefi $DU "$VM_SECS" || exit 1
VM_EXTRA=()
vm_start mt-bios bios $MB 300 || exit 1
vm_start mt-uefi uefi $MU 300 || exit 1
vm_start env-linux bios $LX 300 || exit 1

# --- the boot tasks: a marker on the serial console, then the VM goes ---
BANNER='Memtest86\+ v[0-9]'
vm_wait_serial mt-bios "$BANNER" 240
check "memtest86+ (BIOS) booted: its banner on the serial console ($(vm_elapsed mt-bios)s)" \
	vm_wait_serial mt-bios "$BANNER" 1
vm_stop mt-bios
vm_wait_serial env-linux 'PXED-ENV-MARKER' 240
check "the Linux environment booted: its marker on the serial console ($(vm_elapsed env-linux)s)" \
	vm_wait_serial env-linux 'PXED-ENV-MARKER' 1
check "  ... with the environment's command line" \
	grep -aq 'PXED-ENV-MARKER cmdline: .*console=ttyS0 envmarker=42' "$(vm_serial env-linux)"
vm_stop env-linux
vm_wait_serial mt-uefi "$BANNER" 280
check "memtest86+ (UEFI) booted: its banner on the serial console ($(vm_elapsed mt-uefi)s)" \
	vm_wait_serial mt-uefi "$BANNER" 1
vm_stop mt-uefi
check "memtest (BIOS): the task is done once memtest86+x64.bin was served" \
	eq "$(json "/api/v1/tasks/$ID_MB" '["state"]') $(json "/api/v1/tasks/$ID_MB" '["message"]')" \
	"done pxed-builtin/memtest86+/memtest86+x64.bin served"
check "memtest (UEFI): the task is done once memtest86+x64.efi was served" \
	eq "$(json "/api/v1/tasks/$ID_MU" '["state"]') $(json "/api/v1/tasks/$ID_MU" '["message"]')" \
	"done pxed-builtin/memtest86+/memtest86+x64.efi served"
check "boot linuxenv: the task is done once its kernel was served" \
	eq "$(json "/api/v1/tasks/$ID_LX" '["state"]')" done

# --- the diagnose machines ---
# rep ID TEST KEY: a value of a test's result of the task's report
rep() { json "/api/v1/tasks/$1" "[\"report\"][[r['test'] for r in v['report']].index('$2')]$3"; }
for v in bios uefi; do
	id=$([ $v = bios ] && echo "$ID_DB" || echo "$ID_DU")
	vm=diag-$v
	state=$(wait_task "$id" "$VM_SECS")
	echo "# $vm: the task $state after $(vm_elapsed $vm)s"
	ctl task show "$id" | sed "s/^/# $vm: /"
	check "$vm: the diag layer was loaded with the imaging environment" \
		grep -aq 'pxed-init: layers: diag' "$(vm_serial $vm)"
	check "$vm: the task failed" eq "$state" failed
	check "$vm: ... naming disk-read, and only it" \
		eq "$(json "/api/v1/tasks/$id" '["message"]')" "diagnose: failed: disk-read"
	check "$vm: disk-read: the healthy disk (sda) read whole, no bad sector" \
		eq "$(rep "$id" disk-read "['details']['disks'][0]['disk']") $(rep "$id" disk-read "['details']['disks'][0]['bad_sectors']")" \
		"/dev/sda 0"
	check "$vm: disk-read: the blkdebug disk (vda) lists exactly sectors $BAD_FIRST+$BAD_COUNT" \
		eq "$(rep "$id" disk-read "['details']['disks'][1]['disk']") $(rep "$id" disk-read "['details']['disks'][1]['bad']")" \
		"/dev/vda [{'first': $BAD_FIRST, 'count': $BAD_COUNT}]"
	for t in memory cpu network; do
		check "$vm: $t passed ($(rep "$id" $t "['summary']" | cut -c1-90))" \
			eq "$(rep "$id" $t "['status']")" pass
	done
	check "$vm: memory and cpu kept their 15 s bound (under 60 s each)" \
		bash -c "[ $(rep "$id" memory "['duration_ms']") -lt 60000 ] && [ $(rep "$id" cpu "['duration_ms']") -lt 60000 ]"
	check "$vm: smart: the IDE/AHCI disk's health and short self-test passed" \
		eq "$(rep "$id" smart "['status']") $(rep "$id" smart "['details']['disks'][0]['self_test']")" \
		"pass passed"
	check "$vm: smart: the virtio disk has no SMART (skipped, not failed)" \
		eq "$(rep "$id" smart "['details']['disks'][1]['available']")" False
done
sys() { json "/api/v1/hosts/$1" "['inventory']['system']['$2']"; }
check "diag-bios: inventory: the DMI strings given to QEMU, exactly" \
	eq "$(sys diag-bios vendor)|$(sys diag-bios model)|$(sys diag-bios serial)" \
	"Pxed Test Inc.|Diag Box 3000|SN-0042-BIOS"
check "diag-uefi: inventory: the DMI strings given to QEMU, exactly" \
	eq "$(sys diag-uefi vendor)|$(sys diag-uefi model)|$(sys diag-uefi serial)" \
	"Pxed Test Inc.|Diag Box 4000 UEFI|SN-0043-UEFI"
OUT=$(ctl host show diag-bios)
echo "$OUT" | sed 's/^/# /'
check "host show diag-bios: which machine this is, and its health" \
	bash -c "grep -q '^  system    Pxed Test Inc. Diag Box 3000, serial SN-0042-BIOS, firmware SeaBIOS' <<<'$OUT' &&
		grep -qE '^    disk-read +fail ' <<<'$OUT' && grep -qE '^    cpu +pass ' <<<'$OUT'"
for vm in diag-bios diag-uefi; do vm_stop $vm; done

check "pxed stops cleanly" pxed_stop
check "sanitizer clean" pxed_log_clean
if tap_failed; then
	for v in diag-bios diag-uefi mt-bios mt-uefi env-linux; do
		echo "--- serial $v (tail) ---"
		vm_serial_text "$v" | grep -v '^ *$' | tail -25
	done
fi
echo "# qemu_diag.sh took $(($(date +%s) - T_ALL))s"
lab_finish
