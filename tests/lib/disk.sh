# Disk images for the imaging tests, built without mounting anything
# (bash, sourced).  Needs sgdisk (gdisk), mkfs.ext4 -d and debugfs
# (e2fsprogs), mkntfs/ntfscp/ntfscat (ntfs-3g).
export PATH=$PATH:/usr/sbin:/sbin

# disk_make SRCDIR DISK SIZE_MB [P2_MB]: a GPT disk with an ext4 partition
# holding SRCDIR's tree (first half) and an NTFS partition holding SRCDIR's
# top-level regular files (the rest, or P2_MB MiB: free space after it),
# and the files "SRC:/DEST/PATH ..." of $NTFS_EXTRA (build/tools/ntfs-put).
disk_make() {
	local src=$1 disk=$2 mb=$3 half p2 n2 tmp end=0
	half=$((mb / 2))
	[ -n "${4:-}" ] && end="+${4}M"
	rm -f "$disk"
	truncate -s "${mb}M" "$disk" || return 1
	sgdisk -o -n "1:2048:+${half}M" -t 1:8300 -c 1:linux -n "2:0:$end" -t 2:0700 -c 2:data \
		"$disk" >/dev/null || return 1
	mkfs.ext4 -q -F -d "$src" -E offset=$((2048 * 512)) "$disk" "${half}M" || return 1
	p2=$(sgdisk -i 2 "$disk" | awk '/^First sector/ {print $3}')
	n2=$(sgdisk -i 2 "$disk" | awk '/^Partition size/ {print $3}')
	tmp=$disk.ntfs
	rm -f "$tmp"
	truncate -s $((n2 * 512)) "$tmp"
	mkntfs -q -F -Q -s 512 -p "$p2" -H 16 -S 63 "$tmp" "$n2" 2>/dev/null || return 1
	local f
	for f in "$src"/*; do
		[ -f "$f" ] || continue
		ntfscp -q "$tmp" "$f" "$(basename "$f")" || return 1
	done
	if [ -n "${NTFS_EXTRA:-}" ]; then
		# shellcheck disable=SC2086
		"${NTFS_PUT:-build/tools/ntfs-put}" "$tmp" $NTFS_EXTRA || return 1
	fi
	dd if="$tmp" of="$disk" bs=1M seek=$((p2 * 512)) oflag=seek_bytes conv=notrunc \
		status=none || return 1
	rm -f "$tmp"
}

# disk_part_offset DISK N: byte offset of partition N.
disk_part_offset() {
	echo $(($(sgdisk -i "$2" "$1" | awk '/^First sector/ {print $3}') * 512))
}

# disk_tables_equal A B: A has a GPT, and B the same (first 34 and last 33
# sectors).
disk_tables_equal() {
	[ "$(head -c 520 "$1" | tail -c 8)" = "EFI PART" ] &&
		cmp -s <(head -c $((34 * 512)) "$1") <(head -c $((34 * 512)) "$2") &&
		cmp -s <(tail -c $((33 * 512)) "$1") <(tail -c $((33 * 512)) "$2")
}

# disk_gpt_clean DISK: sgdisk -v finds no problem (CRCs, the backup at the
# end of the disk, the protective MBR).
disk_gpt_clean() {
	sgdisk -v "$1" 2>&1 | grep -q "No problems found"
}

# disk_gpt_parts DISK: each partition as sgdisk -i shows it (sectors, type
# and unique GUIDs, name), without the disk's own size.
disk_gpt_parts() {
	local n
	for n in $(sgdisk -p "$1" | awk '/^ *[0-9]+ / {print $1}'); do
		sgdisk -i "$n" "$1"
	done
}

# disk_same_parts A B: the same partitions, wherever each disk ends.
disk_same_parts() {
	[ -n "$(disk_gpt_parts "$1")" ] && cmp -s <(disk_gpt_parts "$1") <(disk_gpt_parts "$2")
}

# disk_ext_dump DISK DIR: the ext4 partition's tree into DIR (debugfs).
disk_ext_dump() {
	mkdir -p "$2"
	debugfs -R "rdump / $2" "$1?offset=$(disk_part_offset "$1" 1)" >/dev/null 2>&1
}

# disk_ntfs_file DISK NAME: a file of the NTFS partition on stdout (-f: a
# volume ntfsresize grew is marked for a check by Windows).
disk_ntfs_file() {
	local off len
	off=$(disk_part_offset "$1" 2)
	len=$(($(sgdisk -i 2 "$1" | awk '/^Partition size/ {print $3}') * 512))
	dd if="$1" bs=1M skip="$off" count="$len" iflag=skip_bytes,count_bytes status=none \
		>"$1.p2" && ntfscat -f "$1.p2" "$2" 2>/dev/null
	local rc=$?
	rm -f "$1.p2"
	return $rc
}

# disk_same_files SRCDIR DISK: every file of SRCDIR reads back identical
# from the ext4 partition (but those $SAME_FILES_EXCLUDE's "-x NAME"s
# name), and its top-level files from the NTFS one.
disk_same_files() {
	local src=$1 disk=$2 tmp f
	tmp=$(mktemp -d)
	disk_ext_dump "$disk" "$tmp/ext" || { rm -rf "$tmp"; return 1; }
	# shellcheck disable=SC2086
	diff -r -q "$src" "$tmp/ext" -x lost+found ${SAME_FILES_EXCLUDE:-} >/dev/null ||
		{ rm -rf "$tmp"; return 1; }
	for f in "$src"/*; do
		[ -f "$f" ] || continue
		disk_ntfs_file "$disk" "$(basename "$f")" >"$tmp/n" || { rm -rf "$tmp"; return 1; }
		cmp -s "$f" "$tmp/n" || { rm -rf "$tmp"; return 1; }
	done
	rm -rf "$tmp"
}

# disk_make_ext DISK SIZE_MB SRCDIR: a GPT disk with one ext4 partition
# (from 1 MiB to the end) holding SRCDIR's tree.
disk_make_ext() {
	local disk=$1 mb=$2 src=$3 n
	rm -f "$disk"
	truncate -s "${mb}M" "$disk" || return 1
	sgdisk -o -n 1:2048:0 -t 1:8300 -c 1:root "$disk" >/dev/null || return 1
	n=$(sgdisk -i 1 "$disk" | awk '/^Partition size/ {print $3}')
	mkfs.ext4 -q -F -d "$src" -E offset=$((2048 * 512)) "$disk" "$((n / 2))k"
}

# disk_part_bytes DISK N: the length of partition N in bytes.
disk_part_bytes() {
	echo $(($(sgdisk -i "$2" "$1" | awk '/^Partition size/ {print $3}') * 512))
}

# disk_part_last DISK N: the last sector of partition N.
disk_part_last() { sgdisk -i "$2" "$1" | awk '/^Last sector/ {print $3}'; }

# disk_last_usable DISK: the GPT's last usable sector.
disk_last_usable() { sgdisk -p "$1" | sed -n 's/.*last usable sector is \([0-9]*\).*/\1/p'; }

# disk_ext_bytes DISK N: the size of the ext filesystem of partition N.
disk_ext_bytes() {
	dumpe2fs -h "$1?offset=$(disk_part_offset "$1" "$2")" 2>/dev/null |
		awk '/^Block count:/ {c=$3} /^Block size:/ {s=$3} END {print c * s}'
}

# disk_ext_fsck DISK N: e2fsck -fn of partition N finds nothing.
disk_ext_fsck() { e2fsck -fn "$1?offset=$(disk_part_offset "$1" "$2")" >/dev/null 2>&1; }

# disk_loop DISK N: a loop device over partition N (printed); detach it with
# losetup -d.
disk_loop() {
	losetup --find --show --offset "$(disk_part_offset "$1" "$2")" \
		--sizelimit "$(disk_part_bytes "$1" "$2")" "$1"
}

# disk_ntfs_bytes DISK N: the NTFS volume size of partition N (ntfsresize
# --info), its volume check (ntfsresize --check) in $NTFS_CHECK (0: clean).
disk_ntfs_bytes() {
	local dev
	dev=$(disk_loop "$1" "$2") || return 1
	ntfsresize --info --force --no-progress-bar "$dev" 2>/dev/null |
		sed -n 's/^Current volume size: \([0-9]*\) bytes.*/\1/p'
	ntfsresize --check --force "$dev" >/dev/null 2>&1
	echo "check=$?"
	losetup -d "$dev"
}
