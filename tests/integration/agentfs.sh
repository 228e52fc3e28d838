#!/bin/bash
# pxe-agent working inside a machine's filesystems, run directly on disk
# files (no VM) against pxed: deploys onto a disk 1 GiB larger grow the last
# partition and its filesystem (an NTFS image and an ext4 image; e2fsck -fn
# and ntfsresize --check clean, every file identical), --no-grow keeps the
# sizes; each host gets its own hostname (/etc/hostname and /etc/hosts of
# the ext4 image, the SYSTEM hive of the NTFS image read with hivexget; the
# hive is built by build/tools/mkhive and put on NTFS by
# build/tools/ntfs-put).
LAB_ID=${LAB_ID:-af$$}
source "$(dirname "$0")/../lib/lab.sh"
source "$(dirname "$0")/../lib/disk.sh"
source "$(dirname "$0")/../lib/api.sh"
lab_plan 120

AGENT=${PXE_AGENT:-build/asan/pxe-agent}
lab_up || { echo "not ok - lab_up"; exit 1; }
W=$LAB_DIR/work
mkdir -p "$W"
MAC=52:54:00:bb:01:01
MAC2=52:54:00:bb:01:02
# task MAC TYPE ARGS...: create a task for MAC and print the task token
# its boot script carries.
task() {
	local mac=$1
	shift
	ctl task "$@" >/dev/null || return 1
	in_cli timeout 10 curl -sS "$URL/api/v1/boot/$mac.ipxe" |
		sed -n 's/.*pxed\.token=\([0-9a-f]*\).*/\1/p'
}
# agent TOKEN TASK DISK: run pxe-agent in the client namespace.
agent() {
	in_cli timeout 300 "$AGENT" --server "$URL" --token "$1" --task "$2" --disk "$3" \
		--retry-for 60 >>"$W/agent.log" 2>&1
}
# run_task MAC DISK TYPE ARGS...: a task for MAC carried out on DISK; prints
# the task's id.  The agent's exit status is in $W/rc.
run_task() {
	local mac=$1 disk=$2 tok id
	shift 2
	tok=$(task "$mac" "$@") || return 1
	id=$(task_of "$mac")
	agent "$tok" "$id" "$disk"
	echo $? >"$W/rc"
	echo "$id"
}
state() { json "/api/v1/tasks/$1" '["state"]'; }

# --- the source disks ----------------------------------------------------------
SRC=$W/src
mkdir -p "$SRC/etc" "$SRC/data"
head -c 3000000 /dev/urandom >"$SRC/blob.bin"
seq 1 100000 >"$SRC/numbers.txt"
printf 'golden\n' >"$SRC/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tgolden\n::1\tlocalhost ip6-localhost\n' \
	>"$SRC/etc/hosts"
echo "data" >"$SRC/data/file.txt"
MKHIVE=build/tools/mkhive
CS='ControlSet001'
check "a SYSTEM hive built (mkhive)" $MKHIVE "$W/SYSTEM" dword Select Current 1 \
	sz "$CS\Control\ComputerName\ComputerName" ComputerName GOLDEN \
	sz "$CS\Services\Tcpip\Parameters" Hostname golden \
	sz "$CS\Services\Tcpip\Parameters" 'NV Hostname' golden
export NTFS_EXTRA="$W/SYSTEM:/Windows/System32/config/SYSTEM"
check "NTFS-last source disk built (GPT, ext4 + NTFS with a SYSTEM hive)" \
	disk_make "$SRC" "$W/ntfs-src.img" 128
unset NTFS_EXTRA
# the ext4 partitions' /etc/hostname and /etc/hosts are renamed by deploys
export SAME_FILES_EXCLUDE="-x hostname -x hosts"
check "ext4-last source disk built (GPT, one ext4)" disk_make_ext "$W/ext-src.img" 64 "$SRC"

mkdir -p "$W/clamdb"
export PXED_CLAMAV_CACHE=$W/clamav-cache          # the agent's copy of the database
pxed_start --clamav-db-dir "$W/clamdb" || { echo "not ok - pxed_start"; exit 1; }
ctl host add "$MAC" lab-one >/dev/null
ctl host add "$MAC2" lab-two >/dev/null

ID=$(run_task "$MAC" "$W/ntfs-src.img" capture lab-one ntfs-img)
check "capture of the NTFS-last disk is done" eq "$(state "$ID")" done
ID=$(run_task "$MAC" "$W/ext-src.img" capture lab-one ext-img)
check "capture of the ext4-last disk is done" eq "$(state "$ID")" done

# --- grow: NTFS as the last partition ----------------------------------------------
truncate -s $((128 + 1024))M "$W/ntfs-big.img"
ID=$(run_task "$MAC" "$W/ntfs-big.img" deploy lab-one ntfs-img)
check "NTFS grow: the deploy is done" eq "$(state "$ID")" done
check "NTFS grow: partition 2 ends at the last usable sector" \
	eq "$(disk_part_last "$W/ntfs-big.img" 2)" "$(disk_last_usable "$W/ntfs-big.img")"
P2=$(disk_part_bytes "$W/ntfs-big.img" 2)
INFO=$(disk_ntfs_bytes "$W/ntfs-big.img" 2)
VOL=$(head -1 <<<"$INFO")
echo "# NTFS partition $P2 bytes, volume ${VOL:-?} bytes"
check "NTFS grow: the volume fills its partition (${VOL:-?} of $P2 bytes)" \
	[ "${VOL:-0}" -gt $((P2 - 1024 * 1024)) ]
check "NTFS grow: ntfsresize --check is clean" has "$INFO" "check=0"
check "NTFS grow: sgdisk -v finds no problem" disk_gpt_clean "$W/ntfs-big.img"
check "NTFS grow: every file identical" disk_same_files "$SRC" "$W/ntfs-big.img"
check "NTFS grow: the agent logged the resize" has "$(cat "$W/agent.log")" "grow: partition 2 (ntfs)"

truncate -s $((128 + 1024))M "$W/ntfs-nogrow.img"
ID=$(run_task "$MAC" "$W/ntfs-nogrow.img" deploy lab-one ntfs-img --no-grow)
check "--no-grow: the deploy is done" eq "$(state "$ID")" done
check "--no-grow: the partitions are the image's" \
	disk_same_parts "$W/ntfs-src.img" "$W/ntfs-nogrow.img"
check "--no-grow: the NTFS volume keeps its size" \
	eq "$(head -1 <<<"$(disk_ntfs_bytes "$W/ntfs-nogrow.img" 2)")" \
	"$(head -1 <<<"$(disk_ntfs_bytes "$W/ntfs-src.img" 2)")"

# --- grow: ext4 as the last partition ------------------------------------------------
truncate -s $((64 + 1024))M "$W/ext-big.img"
ID=$(run_task "$MAC" "$W/ext-big.img" deploy lab-one ext-img)
check "ext4 grow: the deploy is done" eq "$(state "$ID")" done
check "ext4 grow: partition 1 ends at the last usable sector" \
	eq "$(disk_part_last "$W/ext-big.img" 1)" "$(disk_last_usable "$W/ext-big.img")"
P1=$(disk_part_bytes "$W/ext-big.img" 1)
E1=$(disk_ext_bytes "$W/ext-big.img" 1)
echo "# ext4 partition $P1 bytes, filesystem $E1 bytes"
check "ext4 grow: the filesystem fills its partition ($E1 of $P1 bytes)" \
	[ "$E1" -gt $((P1 - 1024 * 1024)) ]
check "ext4 grow: e2fsck -fn is clean" disk_ext_fsck "$W/ext-big.img" 1
check "ext4 grow: every file identical" \
	bash -c "source tests/lib/disk.sh; d=\$(mktemp -d); disk_ext_dump '$W/ext-big.img' \$d/x &&
		diff -r -q -x lost+found -x hostname -x hosts '$SRC' \$d/x; r=\$?; rm -rf \$d; exit \$r"

truncate -s $((64 + 1024))M "$W/ext-nogrow.img"
ID=$(run_task "$MAC" "$W/ext-nogrow.img" deploy lab-one ext-img --no-grow)
check "ext4 --no-grow: the filesystem keeps its size" \
	eq "$(disk_ext_bytes "$W/ext-nogrow.img" 1)" "$(disk_ext_bytes "$W/ext-src.img" 1)"

# --- each machine its own name ----------------------------------------------------------
# ext_file DISK N PATH: a file of the ext4 partition N
ext_file() { debugfs -R "cat $3" "$1?offset=$(disk_part_offset "$1" "$2")" 2>/dev/null; }
# hive_get DISK KEY VALUE: a value of the NTFS partition's SYSTEM hive
hive_get() {
	disk_ntfs_file "$1" /Windows/System32/config/SYSTEM >"$W/SYSTEM.out" &&
		hivexget "$W/SYSTEM.out" "$2" "$3"
}
# check_named DISK NAME NETBIOS: the NTFS-last image's systems are called NAME
check_named() {
	local disk=$1 name=$2 nb=$3
	check "hostname $name: /etc/hostname" eq "$(ext_file "$disk" 1 /etc/hostname)" "$name"
	check "hostname $name: the 127.0.1.1 line of /etc/hosts" \
		eq "$(ext_file "$disk" 1 /etc/hosts | grep '^127.0.1.1')" "$(printf '127.0.1.1\t%s' "$name")"
	check "hostname $name: /etc/hosts keeps its other lines" \
		has "$(ext_file "$disk" 1 /etc/hosts)" "::1	localhost ip6-localhost"
	check "hostname $name: ComputerName (hivexget)" \
		eq "$(hive_get "$disk" "$CS\Control\ComputerName\ComputerName" ComputerName)" "$nb"
	check "hostname $name: Tcpip Hostname (hivexget)" \
		eq "$(hive_get "$disk" "$CS\Services\Tcpip\Parameters" Hostname)" "$name"
	check "hostname $name: Tcpip NV Hostname (hivexget)" \
		eq "$(hive_get "$disk" "$CS\Services\Tcpip\Parameters" 'NV Hostname')" "$name"
}
check_named "$W/ntfs-big.img" lab-one LAB-ONE
check "the source image still says golden" \
	eq "$(hive_get "$W/ntfs-src.img" "$CS\Services\Tcpip\Parameters" Hostname)" golden
check "host set: hostname given" ctl host set lab-two hostname=pc-forty-two-in-room-1
ctl host set lab-two 'hostname=a b' >/dev/null 2>&1
check "host set: a bad hostname refused" [ $? -ne 0 ]
truncate -s 128M "$W/two.img"
ID=$(run_task "$MAC2" "$W/two.img" deploy lab-two ntfs-img)
check "second machine: the deploy is done" eq "$(state "$ID")" done
check_named "$W/two.img" pc-forty-two-in-room-1 PC-FORTY-TWO-IN
check "ext4 image: /etc/hostname of the grown deploy" \
	eq "$(ext_file "$W/ext-big.img" 1 /etc/hostname)" lab-one

# --- Windows disks as they are in the field ------------------------------------------
# hibernated (or Fast Startup): hiberfil.sys starts with "hibr"
{ printf 'hibr'; head -c 8188 /dev/zero; } >"$W/hiberfil.sys"
check "a SAM hive built (mkhive)" $MKHIVE "$W/SAM" user 500 Administrator d \
	user 1001 alice - user 1002 bob dl user 1003 carol b
export NTFS_EXTRA="$W/SYSTEM:/Windows/System32/config/SYSTEM $W/hiberfil.sys:/hiberfil.sys
	$W/SAM:/Windows/System32/config/SAM"
check "hibernated Windows source disk built" disk_make "$SRC" "$W/hib-src.img" 128
unset NTFS_EXTRA
ID=$(run_task "$MAC" "$W/hib-src.img" capture lab-one hib-img)
check "hibernated: captured" eq "$(state "$ID")" done
truncate -s 128M "$W/hib.img"
MARK=$(wc -l <"$W/agent.log")
ID=$(run_task "$MAC" "$W/hib.img" deploy lab-one hib-img)
check "hibernated: the deploy is done" eq "$(state "$ID")" done
check "hibernated: the agent says why Windows was not named" \
	has "$(tail -n +"$MARK" "$W/agent.log")" "partition 2 not written: ntfs: Windows is hibernated"
check "hibernated: the SYSTEM hive is the image's (nothing written)" \
	eq "$(hive_get "$W/hib.img" "$CS\Services\Tcpip\Parameters" Hostname)" golden
check "hibernated: the NTFS partition is byte-identical to the source's" \
	cmp <(dd if="$W/hib.img" bs=1M skip=65 count=63 status=none) \
	<(dd if="$W/hib-src.img" bs=1M skip=65 count=63 status=none)
check "hibernated: Linux beside it is named" eq "$(ext_file "$W/hib.img" 1 /etc/hostname)" lab-one

# BitLocker: the partition's boot sector says -FVE-FS-
truncate -s 64M "$W/bl.img"
sgdisk -n1:2048:+16M -t1:8300 -n2:0:+32M -t2:0700 "$W/bl.img" >/dev/null
mkfs.ext4 -q -F -E offset=$((2048 * 512)) "$W/bl.img" 16M
head -c $((32 * 1024 * 1024)) /dev/urandom |
	dd of="$W/bl.img" bs=1M seek=17 conv=notrunc status=none
printf '\353\130\220-FVE-FS-' | dd of="$W/bl.img" bs=1M seek=17 conv=notrunc status=none
ID=$(run_task "$MAC" "$W/bl.img" capture lab-one bl-img)
check "BitLocker: the capture fails" eq "$(state "$ID")" failed
check "BitLocker: ... naming the partition" \
	has "$(json "/api/v1/tasks/$ID" '["message"]')" "partition 2 is encrypted with BitLocker"
ID=$(run_task "$MAC" "$W/bl.img" capture lab-one bl-img --raw-encrypted)
check "BitLocker --raw-encrypted: captured" eq "$(state "$ID")" done
check "BitLocker --raw-encrypted: the partition whole, as bitlocker" \
	eq "$(json /api/v1/images/bl-img '["partition_list"][1]["fs"]')/$(json /api/v1/images/bl-img '["partition_list"][1]["used"]')" \
	"bitlocker/$((32 * 1024 * 1024))"

hib_before=$(sha256sum <"$W/hib.img")
ID=$(run_task "$MAC" "$W/hib.img" reset-password lab-one --user bob)
check "hibernated: reset-password fails" eq "$(state "$ID")" failed
check "hibernated: ... saying why" has "$(json "/api/v1/tasks/$ID" '["message"]')" "hibernated"
check "hibernated: ... and nothing was written" eq "$(sha256sum <"$W/hib.img")" "$hib_before"

# --- password reset ---------------------------------------------------------------------
export NTFS_EXTRA="$W/SYSTEM:/Windows/System32/config/SYSTEM $W/SAM:/Windows/System32/config/SAM"
check "Windows source disk with a SAM hive built" disk_make "$SRC" "$W/win.img" 128
unset NTFS_EXTRA
chntpw_list() { disk_ntfs_file "$1" /Windows/System32/config/SAM >"$W/sam.out" &&
	chntpw -l "$W/sam.out" 2>/dev/null | grep '^| [0-9a-f]'; }
# chntpw_user DISK USER: the account bits and failed logons chntpw shows
chntpw_user() { disk_ntfs_file "$1" /Windows/System32/config/SAM >"$W/sam.out" &&
	printf 'q\nn\n' | timeout 10 chntpw -u "$2" "$W/sam.out" 2>/dev/null |
	grep -E '^Account bits|^Failed login count'; }
BEFORE=$(chntpw_list "$W/win.img")
echo "$BEFORE" | sed 's/^/# before: /'
ID=$(run_task "$MAC" "$W/win.img" reset-password lab-one --list)
check "--list: done" eq "$(state "$ID")" done
check "--list: the four accounts with their RIDs" \
	eq "$(json "/api/v1/tasks/$ID" '["report"]["accounts"]' | tr -d "' ")" \
	"[{name:Administrator,rid:500,disabled:True,locked:False,password:True},{name:alice,rid:1001,disabled:False,locked:False,password:True},{name:bob,rid:1002,disabled:True,locked:True,password:True},{name:carol,rid:1003,disabled:False,locked:False,password:False}]"
check "--list: pxectl task show prints them" has "$(ctl task show "$ID")" "name=bob rid=1002 disabled=yes locked=yes password=yes"
check "--list: nothing written" eq "$(chntpw_list "$W/win.img")" "$BEFORE"
ID=$(run_task "$MAC" "$W/win.img" reset-password lab-one --user nobody)
check "unknown user: fails naming it" has "$(json "/api/v1/tasks/$ID" '["message"]')" 'no local account "nobody"'
ID=$(run_task "$MAC" "$W/win.img" reset-password lab-one --user BOB --unlock --enable)
check "reset bob: done" eq "$(state "$ID")" done
AFTER=$(chntpw_list "$W/win.img")
echo "$AFTER" | sed 's/^/# after: /'
check "reset bob: chntpw -l shows a blank password, not disabled or locked" \
	has "$AFTER" "| 03ea | bob                            |        | \*BLANK\*  |"
check "reset bob: the other accounts unchanged (chntpw -l)" \
	eq "$(grep -v ' bob ' <<<"$AFTER")" "$(grep -v ' bob ' <<<"$BEFORE")"
check "reset bob: chntpw -u: normal account, no lockout, 0 failed logons" \
	eq "$(chntpw_user "$W/win.img" bob | tr -s ' ')" "$(printf 'Account bits: 0x0010 =\nFailed login count: 0, while max tries is: 4294967295')"
disk_ntfs_file "$W/win.img" "/Windows/System32/config/SAM.pxed-$ID.bak" >"$W/sam.bak"
check "reset bob: the backup hive equals the original" cmp "$W/sam.bak" "$W/SAM"
check "reset bob: the report lists bob without a password" \
	has "$(json "/api/v1/tasks/$ID" '["report"]["accounts"][2]')" "'password': False"
check "reset bob: the task's log holds no hash" bash -c "! grep -qiE '[0-9a-f]{32}' <<<\"\$(ctl task show $ID)\""

# a damaged hive: refused, the file untouched
cp "$W/SAM" "$W/SAM.bad"
printf 'xxxx' | dd of="$W/SAM.bad" bs=1 seek=4096 conv=notrunc status=none
export NTFS_EXTRA="$W/SAM.bad:/Windows/System32/config/SAM"
check "disk with a damaged SAM hive built" disk_make "$SRC" "$W/badsam.img" 128
unset NTFS_EXTRA
bad_before=$(disk_ntfs_file "$W/badsam.img" /Windows/System32/config/SAM | sha256sum)
ID=$(run_task "$MAC" "$W/badsam.img" reset-password lab-one --user bob)
check "damaged hive: the task fails" eq "$(state "$ID")" failed
check "damaged hive: ... saying so" has "$(json "/api/v1/tasks/$ID" '["message"]')" "the SAM hive is damaged"
check "damaged hive: the file is untouched" \
	eq "$(disk_ntfs_file "$W/badsam.img" /Windows/System32/config/SAM | sha256sum)" "$bad_before"
ID=$(run_task "$MAC" "$W/ext-src.img" reset-password lab-one --user bob)
check "no Windows: the task fails saying so" \
	has "$(json "/api/v1/tasks/$ID" '["message"]')" "no Windows installation found"

# --- malware scan -------------------------------------------------------------------------
# The signatures the test writes: a hash signature of a generated file (.hdb)
# and a body signature of the EICAR test string (.ndb); a copy of EICAR sits
# inside a zip.  A disk with ext4, NTFS and FAT partitions holds them.
EICAR='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
S=$W/scan
mkdir -p "$S/ext/home/user/docs" "$S/ext/etc" "$S/ntfs" "$S/fat/SUB"
head -c 20000 /dev/urandom >"$S/ext/home/user/evil.bin"
printf '%s' "$EICAR" >"$S/eicar.com"
(cd "$S" && zip -q -j "$S/ext/home/user/docs/packed.zip" eicar.com)
echo "clean text" >"$S/ext/etc/clean.txt"
head -c 300000 /dev/urandom >"$S/ext/home/user/big-clean.bin"
head -c 50000 /dev/urandom >"$S/ntfs/clean.dll"
cp "$S/eicar.com" "$S/ntfs/eicar.com"
echo "fat clean" >"$S/fat/SUB/CLEAN.TXT"
cp "$S/eicar.com" "$S/fat/SUB/EICAR.COM"
printf '%s:%s:Pxed.Test.Hash\n' "$(md5sum <"$S/ext/home/user/evil.bin" | cut -d' ' -f1)" \
	"$(stat -c %s "$S/ext/home/user/evil.bin")" >"$W/clamdb/pxed-test.hdb"
printf 'Pxed.Test.Eicar:0:*:%s\n' "$(printf '%s' "$EICAR" | od -An -v -tx1 | tr -d ' \n')" \
	>"$W/clamdb/pxed-test.ndb"
make_scan_disk() {
	local d=$1 t=$W/scan-ntfs.part
	rm -f "$d" "$t"
	truncate -s 96M "$d"
	sgdisk -n1:2048:+32M -t1:8300 -n2:0:+32M -t2:0700 -n3:0:+24M -t3:0700 "$d" >/dev/null &&
	mkfs.ext4 -q -F -d "$S/ext" -E offset=$((2048 * 512)) "$d" 32M &&
	truncate -s 32M "$t" && mkntfs -q -F -Q -s 512 "$t" >/dev/null 2>&1 &&
	build/tools/ntfs-put "$t" "$S/ntfs/clean.dll:/Windows/clean.dll" \
		"$S/ntfs/eicar.com:/Users/Public/Downloads/eicar.com" &&
	dd if="$t" of="$d" bs=1M seek=33 conv=notrunc status=none &&
	mkfs.vfat --offset $((65 * 2048)) "$d" $((24 * 1024)) >/dev/null &&
	mcopy -s -i "$d@@$((65 * 2048 * 512))" "$S/fat/SUB" ::/ && rm -f "$t"
}
check "scan disk built (ext4, NTFS, FAT with files matching the signatures)" \
	make_scan_disk "$W/scan.img"
SCAN_SUM=$(sha256sum <"$W/scan.img")
ID=$(run_task "$MAC" "$W/scan.img" scan lab-one)
check "scan: done" eq "$(state "$ID")" done
check "scan: the message counts 4 infected" has "$(json "/api/v1/tasks/$ID" '["message"]')" "4 infected"
findings() { json "/api/v1/tasks/$1" '["report"]["findings"]' | python3 -c "
import ast,sys
for f in sorted(ast.literal_eval(sys.stdin.read()), key=lambda f: (f['partition'], f['path'])):
    print(f['partition'], f['path'], f['signature'], f['size'], f['sha256'])"; }
WANT=$(printf '%s\n' \
	"1 /home/user/docs/packed.zip Pxed.Test.Eicar.UNOFFICIAL $(stat -c %s "$S/ext/home/user/docs/packed.zip") $(sha256sum <"$S/ext/home/user/docs/packed.zip" | cut -d' ' -f1)" \
	"1 /home/user/evil.bin Pxed.Test.Hash.UNOFFICIAL 20000 $(sha256sum <"$S/ext/home/user/evil.bin" | cut -d' ' -f1)" \
	"2 /Users/Public/Downloads/eicar.com Pxed.Test.Eicar.UNOFFICIAL 68 $(sha256sum <"$S/eicar.com" | cut -d' ' -f1)" \
	"3 /SUB/EICAR.COM Pxed.Test.Eicar.UNOFFICIAL 68 $(sha256sum <"$S/eicar.com" | cut -d' ' -f1)")
check "scan: every infected file found with its partition, path, signature, size and SHA-256" \
	eq "$(findings "$ID")" "$WANT"
check "scan: progress counted the files (the task's files)" \
	eq "$(json "/api/v1/tasks/$ID" '["files"]')" "$(json "/api/v1/tasks/$ID" '["report"]["files"]')"
check "scan: the clean files counted too" \
	[ "$(json "/api/v1/tasks/$ID" '["report"]["files"]')" -ge 8 ]
check "scan: read-only (the disk is byte-identical)" eq "$(sha256sum <"$W/scan.img")" "$SCAN_SUM"
check "scan: pxectl task show prints the findings" has "$(ctl task show "$ID")" "path=/SUB/EICAR.COM"

# quarantine: the infected files of ext4 and NTFS moved, FAT's left (no
# writer for it), every other file unchanged; then put back
cp "$W/scan.img" "$W/q.img"
ID=$(run_task "$MAC" "$W/q.img" scan lab-one --quarantine)
QID=$ID
check "quarantine: done" eq "$(state "$ID")" done
check "quarantine: the message says 3 quarantined" \
	has "$(json "/api/v1/tasks/$ID" '["message"]')" "4 infected: .*3 quarantined"
ext_missing() { ! debugfs -R "stat $3" "$1?offset=$(disk_part_offset "$1" "$2")" 2>&1 |
	grep -q '^Inode:'; }
check "quarantine: /home/user/evil.bin is gone from ext4" ext_missing "$W/q.img" 1 /home/user/evil.bin
check "(the check above sees a file that is there)" bash -c "source tests/lib/disk.sh; $(declare -f ext_missing); ! ext_missing '$W/scan.img' 1 /home/user/evil.bin"
check "quarantine: /home/user/docs/packed.zip is gone from ext4" \
	ext_missing "$W/q.img" 1 /home/user/docs/packed.zip
check "quarantine: ext4's quarantine holds evil.bin's bytes" \
	cmp <(ext_file "$W/q.img" 1 "/pxed-quarantine/$ID/0002") "$S/ext/home/user/evil.bin"
check "quarantine: the ext4 manifest names exactly the two files" \
	eq "$(ext_file "$W/q.img" 1 "/pxed-quarantine/$ID/manifest.json" | python3 -c "
import json,sys; m=json.load(sys.stdin); print(m['task'], sorted(f['path'] for f in m['files']))")" \
	"$ID ['/home/user/docs/packed.zip', '/home/user/evil.bin']"
check "quarantine: e2fsck -fn finds ext4 clean" disk_ext_fsck "$W/q.img" 1
check "quarantine: every other ext4 file unchanged" \
	bash -c "source tests/lib/disk.sh; d=\$(mktemp -d); disk_ext_dump '$W/q.img' \$d/x &&
		diff -r -q -x lost+found -x pxed-quarantine -x evil.bin -x packed.zip '$S/ext' \$d/x;
		r=\$?; rm -rf \$d; exit \$r"
ntfs_of() { dd if="$1" bs=1M skip=33 count=32 status=none >"$W/p2.ntfs" && ntfscat -f "$W/p2.ntfs" "$2"; }
ntfs_missing() { dd if="$1" bs=1M skip=33 count=32 status=none >"$W/p2.ntfs" &&
	! ntfscat -f "$W/p2.ntfs" "$2" >/dev/null 2>&1; }
check "quarantine: the NTFS eicar.com is gone" ntfs_missing "$W/q.img" /Users/Public/Downloads/eicar.com
check "(the check above sees a file that is there)" bash -c "$(declare -f ntfs_missing); W='$W'; ! ntfs_missing '$W/scan.img' /Users/Public/Downloads/eicar.com"
check "quarantine: NTFS's quarantine holds it" cmp <(ntfs_of "$W/q.img" "/pxed-quarantine/$ID/0001") "$S/eicar.com"
check "quarantine: the NTFS clean file unchanged" cmp <(ntfs_of "$W/q.img" /Windows/clean.dll) "$S/ntfs/clean.dll"
check "quarantine: ntfsfix -n finds NTFS consistent" bash -c "ntfsfix -n '$W/p2.ntfs' >/dev/null 2>&1"
check "quarantine: FAT's infected file left in place, saying why" \
	has "$(json "/api/v1/tasks/$ID" '["report"]["findings"]')" "'path': '/SUB/EICAR.COM', .*'kept': 'FAT is not written"
check "quarantine: FAT unchanged" cmp <(dd if="$W/q.img" bs=1M skip=65 count=24 status=none) \
	<(dd if="$W/scan.img" bs=1M skip=65 count=24 status=none)
ID=$(run_task "$MAC" "$W/q.img" restore "$QID")
check "restore: done" eq "$(state "$ID")" done
check "restore: the message counts 3" has "$(json "/api/v1/tasks/$ID" '["message"]')" "3 files of scan task $QID put back"
check "restore: every ext4 file back byte-identical" \
	bash -c "source tests/lib/disk.sh; d=\$(mktemp -d); disk_ext_dump '$W/q.img' \$d/x &&
		diff -r -q -x lost+found -x pxed-quarantine '$S/ext' \$d/x; r=\$?; rm -rf \$d; exit \$r"
check "restore: eicar.com back on NTFS byte-identical" \
	cmp <(ntfs_of "$W/q.img" /Users/Public/Downloads/eicar.com) "$S/eicar.com"
check "restore: e2fsck -fn finds ext4 clean" disk_ext_fsck "$W/q.img" 1
ID=$(run_task "$MAC" "$W/q.img" restore "$QID")
check "restore again: refused, saying it was done" \
	has "$(json "/api/v1/tasks/$ID" '["message"]')" "already put these files back"
ctl task restore "$ID" >/dev/null 2>&1
check "restore of a task that is not a scan: refused by pxed" [ $? -ne 0 ]

# limits: an archive nested deeper than libclamav's recursion limit
(cd "$S" && cp eicar.com n0 && for i in $(seq 1 20); do zip -q -j "n$i.zip" "n$((i - 1))"* &&
	mv "n$i.zip" "n$i"; done && cp n20 "$S/ext/home/user/deep.zip")
check "scan disk with a deeply nested archive built" make_scan_disk "$W/deep.img"
ID=$(run_task "$MAC" "$W/deep.img" scan lab-one)
check "limits: the scan is done" eq "$(state "$ID")" done
check "limits: the nested archive is reported as over a limit" \
	has "$(json "/api/v1/tasks/$ID" '["report"]["limits_hit"]')" "'path': '/home/user/deep.zip', 'limit': 'MaxRecursion'"
check "limits: the limits are in the report" \
	eq "$(json "/api/v1/tasks/$ID" '["report"]["limits"]["max_recursion"]')" 17
rm -f "$S/ext/home/user/deep.zip"

# a damaged filesystem: reported, the others scanned
cp "$W/scan.img" "$W/broken.img"
printf '\377\377\377\377' | dd of="$W/broken.img" bs=1 seek=$((1048576 + 1024 + 24)) conv=notrunc status=none
ID=$(run_task "$MAC" "$W/broken.img" scan lab-one)
check "damaged ext4: the scan is done" eq "$(state "$ID")" done
check "damaged ext4: reported unreadable" \
	has "$(json "/api/v1/tasks/$ID" '["report"]["unreadable"]')" "'partition': 1"
check "damaged ext4: NTFS and FAT still scanned (2 infected)" \
	has "$(json "/api/v1/tasks/$ID" '["message"]')" "2 infected"

# an empty database: refused, nothing scanned
mkdir -p "$W/clamdb.saved" && mv "$W/clamdb/"* "$W/clamdb.saved/"
ID=$(run_task "$MAC" "$W/scan.img" scan lab-one)
check "empty database: the scan fails" eq "$(state "$ID")" failed
check "empty database: ... saying so" has "$(json "/api/v1/tasks/$ID" '["message"]')" "database is empty"
check "empty database: nothing scanned (no report)" eq "$(json "/api/v1/tasks/$ID" '["report"]')" None
# a database file libclamav refuses
printf 'this is not a signature\n' >"$W/clamdb/broken.ndb"
ID=$(run_task "$MAC" "$W/scan.img" scan lab-one)
check "damaged database: the scan fails saying so" \
	has "$(json "/api/v1/tasks/$ID" '["message"]')" "database is damaged"
rm -f "$W/clamdb/broken.ndb"
mv "$W/clamdb.saved/"* "$W/clamdb/"

# BitLocker: never scanned, said so; the ext4 beside it scanned
ID=$(run_task "$MAC" "$W/bl.img" scan lab-one)
check "scan of a disk with BitLocker: done" eq "$(state "$ID")" done
check "scan of a disk with BitLocker: the partition reported as not scanned" \
	has "$(json "/api/v1/tasks/$ID" '["report"]["not_scanned"]')" "'partition': 2, 'why': 'encrypted with BitLocker: not scanned'"
check "scan of a disk with BitLocker: one filesystem scanned" \
	eq "$(json "/api/v1/tasks/$ID" '["report"]["filesystems"]')" 1

# for a group: a scan task each; a password reset is for one host
ctl group add room1 lab-one lab-two >/dev/null
OUT=$(ctl --json task scan --group room1 --quarantine)
check "scan --group: a scan task with quarantine for each host" \
	eq "$(python3 -c 'import json,sys; t=json.load(sys.stdin)["tasks"]; print(len(t), sorted({x["type"] for x in t}), sorted({json.dumps(x["options"]) for x in t}))' <<<"$OUT")" \
	'2 ['"'"'scan'"'"'] ['"'"'{"quarantine": true}'"'"']'
for t in $(python3 -c 'import json,sys; print(" ".join(str(x["id"]) for x in json.load(sys.stdin)["tasks"]))' <<<"$OUT"); do
	ctl task cancel "$t" >/dev/null
done
ctl task reset-password --group room1 --user bob >/dev/null 2>&1
check "reset-password --group: refused" [ $? -ne 0 ]

pxed_stop
check "pxed stopped cleanly" [ $? -eq 0 ]
check "no sanitizer report" pxed_log_clean
[ "$LAB_FAILED" -ne 0 ] && { echo "--- agent log ---"; tail -60 "$W/agent.log"; }
lab_finish
