#!/bin/bash
# Build the imaging environment: build/bootenv/vmlinuz + build/bootenv/initrd
# (+ build/bootenv/manifest: what went in, with versions and sizes), from
# Debian packages, reproducibly.  See docs/IMAGING.md.
#
#   scripts/bootenv.sh [AGENT]         (make bootenv runs it)
#
# The kernel is Debian's linux-image-*-amd64 that linux-image-amd64 depends
# on, fetched with `apt-get download` (never installed here) and cached in
# build/bootenv/debs.  Userland: busybox-static's /bin/busybox, /init from
# bootenv/init, pxe-agent with the shared libraries it needs.
#
# Settings (environment):
#   BOOTENV_AGENT     the pxe-agent to ship [build/pxe-agent]; an ELF program
#                     brings its libraries, a script needs only busybox sh
#   BOOTENV_OUT       output directory [build/bootenv]
#   BOOTENV_CACHE     where downloaded .debs are kept [build/bootenv/debs]
#   BOOTENV_KERNEL_PKG  e.g. linux-image-6.1.0-56-amd64 [what linux-image-amd64
#                     depends on]
#   BOOTENV_MODULES   the kernel modules to ship (their dependencies come too)
#                     [the NIC and disk drivers below]
#   BOOTENV_MODULES_EXTRA  modules added to that list
#   BOOTENV_AGENT_TOOLS  the programs pxe-agent runs (default: resize2fs, e2fsck,
#                     ntfsresize from /usr/sbin)
#   BOOTENV_FILES     more files for the initrd, "SRC:DEST SRC:DEST ..."
#                     (tests ship a stand-in agent this way)
#   BOOTENV_COMPRESS  zstd or gzip [zstd, gzip when the kernel lacks zstd]
#   BOOTENV_MAX_MIB   size budget of the initrd; the build fails above it [40]
#   BOOTENV_LAYERS    the layers to build beside it, names of
#                     LAYER_DIR/NAME.list [every one there]: NAME.initrd
#                     and NAME.manifest, loaded as a second initrd by the
#                     tasks that need them (docs/IMAGING.md)
#   BOOTENV_LAYER_DIR where the layers' lists are [bootenv/layers]
#   BOOTENV_LAYER_MAX_MIB  size budget of each layer [40]
#   SOURCE_DATE_EPOCH the mtime of every file in the initrd [0]
#   BOOTENV_KEEP_WORK=1  keep BOOTENV_OUT/work (the extracted kernel package
#                     and the initrd's tree) for inspection
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/sbin:/sbin
export LC_ALL=C

AGENT=${1:-${BOOTENV_AGENT:-build/pxe-agent}}
OUT=${BOOTENV_OUT:-build/bootenv}
CACHE=${BOOTENV_CACHE:-build/bootenv/debs}
MAX_MIB=${BOOTENV_MAX_MIB:-40}
COMPRESS=${BOOTENV_COMPRESS:-zstd}
EPOCH=${SOURCE_DATE_EPOCH:-0}
BUSYBOX=/bin/busybox
# NICs: Intel (e1000, e1000e, igb, igc, ixgbe, i40e), Realtek (r8169 and
# the PHY driver it asks for as a soft dependency), Broadcom (tg3, bnx2,
# bnxt_en), virtual machines (virtio, vmxnet3, Hyper-V).  Disks: NVMe,
# AHCI/IDE SATA, virtio, SAS/RAID HBAs common in servers, USB sticks and
# CD drives.  Keyboards (USB HID) for the console shell.
DEFAULT_MODULES="e1000 e1000e igb igc ixgbe i40e r8169 realtek tg3 bnx2 bnxt_en
virtio_pci virtio_net virtio_blk virtio_scsi vmxnet3 hv_vmbus hv_netvsc hv_storvsc
nvme ahci ata_piix ata_generic sd_mod sr_mod vmw_pvscsi megaraid_sas mpt3sas
xhci_pci ehci_pci ohci_pci uhci_hcd usb-storage uas usbhid hid_generic loop"
MODULES=${BOOTENV_MODULES:-$DEFAULT_MODULES}
AGENT_TOOLS=${BOOTENV_AGENT_TOOLS:-/usr/sbin/resize2fs /usr/sbin/e2fsck /usr/sbin/ntfsresize}
MODULES="$MODULES ${BOOTENV_MODULES_EXTRA:-}"
# busybox applets linked in the initrd: the ones /init and the udhcpc
# script use, and a small toolbox for the console shell.
APPLETS="sh ash cat chmod cp cttyhack cut date dd df dmesg echo env false find
free grep head hexdump ip kill ln ls lsmod lsscsi mkdir mknod modprobe more mount
mv nslookup ping poweroff printf ps readlink reboot rm rmmod sed seq setsid
sha256sum sleep sort stat sync tail tee test [ timeout top touch tr true
udhcpc umount uname vi wc wget"

die() { echo "bootenv: $*" >&2; exit 1; }
say() { echo "bootenv: $*" >&2; }
sha256() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
is_elf() { [ "$(od -An -tx1 -N4 "$1" | tr -d ' \n')" = 7f454c46 ]; }
pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }

for t in apt-get apt-cache dpkg-deb depmod modprobe ldd "$COMPRESS"; do
	command -v "$t" >/dev/null || die "$t is missing (scripts/deps.sh installs kmod, zstd)"
done
[ -x "$BUSYBOX" ] || die "$BUSYBOX is missing (package busybox-static)"
if ldd "$BUSYBOX" >/dev/null 2>&1; then
	die "$BUSYBOX is dynamically linked: install busybox-static"
fi
[ -f "$AGENT" ] || die "the agent $AGENT does not exist (make build/pxe-agent, or BOOTENV_AGENT=PATH)"

# --- 1. the kernel package: resolve, download once, check ---
KPKG=${BOOTENV_KERNEL_PKG:-}
if [ -z "$KPKG" ]; then
	KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[^ ]*-amd64\)$/\1/p' | head -1)
	[ -n "$KPKG" ] || die "apt-cache knows no linux-image-amd64 (run apt-get update)"
fi
KPKG_INFO=$(apt-cache show --no-all-versions "$KPKG" 2>/dev/null) ||
	die "apt-cache show $KPKG failed"
KPKG_VER=$(sed -n 's/^Version: //p' <<<"$KPKG_INFO" | head -1)
KPKG_SHA=$(sed -n 's/^SHA256: //p' <<<"$KPKG_INFO" | head -1)
if [ -z "$KPKG_VER" ] || [ -z "$KPKG_SHA" ]; then
	die "no version or SHA256 for $KPKG"
fi
mkdir -p "$CACHE"
DEB=$CACHE/${KPKG}_${KPKG_VER//:/%3a}_amd64.deb
if [ -f "$DEB" ] && [ "$(sha256 "$DEB")" = "$KPKG_SHA" ]; then
	say "kernel: $KPKG $KPKG_VER (cached $DEB)"
else
	say "kernel: downloading $KPKG $KPKG_VER"
	dl=$(mktemp -d "$CACHE/dl.XXXXXX")
	chmod 777 "$dl"         # apt-get download writes as the _apt user
	if ! (cd "$dl" && apt-get download -q "$KPKG=$KPKG_VER") >&2; then
		rm -rf "$dl"
		die "apt-get download $KPKG=$KPKG_VER failed"
	fi
	f=$(find "$dl" -name '*.deb' | head -1)
	if [ -z "$f" ] || [ "$(sha256 "$f")" != "$KPKG_SHA" ]; then
		rm -rf "$dl"
		die "the downloaded $KPKG does not match its SHA256"
	fi
	mv "$f" "$DEB"
	rm -rf "$dl"
fi

# --- 2. unpack it in a scratch directory ---
mkdir -p "$OUT"
WORK=$(realpath "$OUT")/work
KROOT=$WORK/kernel
ROOT=$WORK/root
rm -rf "$WORK"
mkdir -p "$KROOT" "$ROOT"
cleanup() { [ "${BOOTENV_KEEP_WORK:-0}" = 1 ] || rm -rf "$WORK"; }
trap cleanup EXIT
dpkg-deb -x "$DEB" "$KROOT"
KVER=$(find "$KROOT/lib/modules" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | head -1)
[ -n "$KVER" ] || die "$DEB has no lib/modules/VERSION"
VMLINUZ=$KROOT/boot/vmlinuz-$KVER
KCONFIG=$KROOT/boot/config-$KVER
if [ ! -f "$VMLINUZ" ] || [ ! -f "$KCONFIG" ]; then
	die "$DEB has no boot/vmlinuz-$KVER or config-$KVER"
fi

# The kernel must be able to unpack what we compress with.
case $COMPRESS in zstd | gzip) ;; *) die "BOOTENV_COMPRESS is zstd or gzip" ;; esac
if ! grep -qx "CONFIG_RD_${COMPRESS^^}=y" "$KCONFIG"; then
	grep -qx CONFIG_RD_GZIP=y "$KCONFIG" || die "kernel $KVER unpacks neither zstd nor gzip"
	say "kernel $KVER lacks CONFIG_RD_${COMPRESS^^}: using gzip"
	COMPRESS=gzip
fi

# --- 3. modules: the closure of the list, by modules.dep ---
depmod -b "$KROOT" "$KVER"
KMOD=$KROOT/lib/modules/$KVER
declare -A seen=()
MOD_FILES=()            # dependencies first, each once
BUILTIN=()
MISSING=()
LOAD=()                 # what /init modprobes
for m in $MODULES; do
	if ! deps=$(modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" 2>/dev/null); then
		MISSING+=("$m")
		continue
	fi
	while read -r kind path _; do
		case $kind in
		builtin) BUILTIN+=("$path") ;;
		insmod)
			rel=${path#"$KMOD"/}
			[ -n "${seen[$rel]:-}" ] && continue
			seen[$rel]=1
			MOD_FILES+=("$rel") ;;
		esac
	done <<<"$deps"
	if grep -q '^insmod ' <<<"$deps"; then
		LOAD+=("$m")
	fi
done
[ "${#MISSING[@]}" -eq 0 ] || say "modules not in $KVER (skipped): ${MISSING[*]}"

mkdir -p "$ROOT/lib/modules/$KVER"
for rel in "${MOD_FILES[@]}"; do
	mkdir -p "$ROOT/lib/modules/$KVER/$(dirname "$rel")"
	cp "$KMOD/$rel" "$ROOT/lib/modules/$KVER/$rel"
done
cp "$KMOD/modules.order" "$KMOD/modules.builtin" "$KMOD/modules.builtin.modinfo" \
	"$ROOT/lib/modules/$KVER/"
depmod -b "$ROOT" "$KVER"
mkdir -p "$ROOT/etc/bootenv"
printf '%s\n' "${LOAD[@]}" >"$ROOT/etc/bootenv/modules"

# --- 4. userland: busybox, /init, the udhcpc script, the agent ---
for d in bin sbin usr/bin usr/sbin etc/udhcpc dev proc sys run tmp root var etc; do
	mkdir -p "$ROOT/$d"
done
chmod 1777 "$ROOT/tmp"
cp "$BUSYBOX" "$ROOT/bin/busybox"
for a in $APPLETS; do
	ln -s busybox "$ROOT/bin/$a"
done
install -m 755 bootenv/init "$ROOT/init"
install -m 755 bootenv/udhcpc.script "$ROOT/etc/udhcpc/default.script"
# The kernel opens /dev/console before /init runs; /init mounts devtmpfs
# and reopens it anyway, so a build without root (no mknod) still works.
mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || true

declare -A libs=()
INTO=$ROOT              # the tree add_file fills
add_file() {            # add_file SRC DEST: a file; a program brings its libraries
	cp "$1" "$INTO$2"
	is_elf "$1" || return 0
	if command -v strip >/dev/null; then
		strip --strip-debug "$INTO$2"
	fi
	local line lib
	while read -r line; do
		case $line in
		*"=> not found"*) die "$1 needs a library that is not found: $line" ;;
		*"=> /"*) lib=${line#*=> }; lib=${lib%% (*} ;;
		/*) lib=${line%% (*} ;;          # the dynamic loader
		*) continue ;;
		esac
		libs[$lib]=1
	done < <(ldd "$1" 2>/dev/null || true)
}
add_file "$AGENT" /usr/bin/pxe-agent
chmod 755 "$ROOT/usr/bin/pxe-agent"
# The tools pxe-agent runs after a deploy (src/agent/grow.c): a partition
# grown to a larger disk gets its filesystem grown and checked.
for t in $AGENT_TOOLS; do
	[ -x "$t" ] || die "$t is missing (e2fsprogs, ntfs-3g)"
	add_file "$t" "$t"
done
for f in ${BOOTENV_FILES:-}; do
	src=${f%%:*}
	dst=${f#*:}
	if [ ! -f "$src" ] || [ "${dst:0:1}" != / ]; then
		die "BOOTENV_FILES: bad entry $f (SRC:/DEST)"
	fi
	mkdir -p "$ROOT$(dirname "$dst")"
	add_file "$src" "$dst"
done
for lib in "${!libs[@]}"; do
	mkdir -p "$ROOT$(dirname "$lib")"
	cp -L "$lib" "$ROOT$lib"
done

# --- 5. the archive: sorted names, fixed times and owners ---
# archive TREE CPIO OUT: TREE as a newc cpio (CPIO) compressed into OUT
if command -v cpio >/dev/null && cpio --help 2>&1 | grep -q -- --reproducible; then
	CPIO_TOOL="GNU cpio $(cpio --version | head -1 | awk '{print $NF}')"
else
	CPIO_TOOL="busybox cpio $(pkg_version busybox-static)"
fi
archive() {
	find "$1" -exec touch -h -d "@$EPOCH" {} +
	if [ "${CPIO_TOOL%% *}" = GNU ]; then
		(cd "$1" && find . -mindepth 1 -printf '%P\n' | sort |
			cpio --quiet -o -H newc --reproducible --owner=0:0) >"$2"
	else
		(cd "$1" && find . -mindepth 1 -printf '%P\n' | sort |
			"$BUSYBOX" cpio -o -H newc -R 0:0 --ignore-devno --renumber-inodes 2>/dev/null) >"$2"
	fi
	case $COMPRESS in
	zstd) zstd -q -19 -T1 -c "$2" >"$3" ;;
	gzip) gzip -n -9 -c "$2" >"$3" ;;
	esac
}
CPIO=$WORK/initrd.cpio
archive "$ROOT" "$CPIO" "$WORK/initrd"
INITRD_SIZE=$(size "$WORK/initrd")
if [ "$INITRD_SIZE" -gt $((MAX_MIB * 1048576)) ]; then
	die "initrd is $INITRD_SIZE bytes ($((INITRD_SIZE / 1048576)) MiB), over the budget of $MAX_MIB MiB"
fi

# --- 6. results and the manifest ---
cp "$VMLINUZ" "$OUT/vmlinuz.tmp"
cp "$WORK/initrd" "$OUT/initrd.tmp"
touch -d "@$EPOCH" "$OUT/vmlinuz.tmp" "$OUT/initrd.tmp"
mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
mv "$OUT/initrd.tmp" "$OUT/initrd"

owner() {               # the Debian package that ships a file
	local p
	p=$(dpkg -S "$1" 2>/dev/null || dpkg -S "$(readlink -f "$1")" 2>/dev/null) || { echo "-"; return; }
	p=${p%%:*}
	echo "$p $(pkg_version "$p")"
}
{
	echo "# pxed imaging environment: what went in.  Sizes in bytes."
	echo "kernel-package $KPKG $KPKG_VER sha256 $KPKG_SHA"
	echo "kernel $KVER vmlinuz $(size "$OUT/vmlinuz") sha256 $(sha256 "$OUT/vmlinuz")"
	echo "initrd $INITRD_SIZE $COMPRESS sha256 $(sha256 "$OUT/initrd")"
	echo "initrd-uncompressed $(size "$CPIO") files $(find "$ROOT" -mindepth 1 | wc -l)"
	echo "budget $((MAX_MIB * 1048576))"
	echo "source-date-epoch $EPOCH"
	echo "busybox $BUSYBOX busybox-static $(pkg_version busybox-static) $(size "$BUSYBOX")"
	echo "depmod kmod $(pkg_version kmod)"
	echo "cpio $CPIO_TOOL"
	echo "compressor $COMPRESS $(pkg_version "$COMPRESS")"
	echo "init bootenv/init $(size bootenv/init) sha256 $(sha256 bootenv/init)"
	echo "agent $AGENT $(size "$ROOT/usr/bin/pxe-agent") sha256 $(sha256 "$ROOT/usr/bin/pxe-agent")"
	for f in ${BOOTENV_FILES:-}; do
		echo "file ${f#*:} from ${f%%:*} $(size "${f%%:*}")"
	done
	for lib in $(printf '%s\n' "${!libs[@]}" | sort); do
		echo "library $lib $(size "$ROOT$lib") $(owner "$lib")"
	done
	echo "applets $APPLETS" | tr '\n' ' ' | sed 's/ *$//'
	echo
	for rel in $(printf '%s\n' "${MOD_FILES[@]}" | sort); do
		echo "module $(basename "$rel" .ko) $(size "$ROOT/lib/modules/$KVER/$rel") $rel"
	done
	echo "load ${LOAD[*]}"
	# firmware files the drivers may ask for (not shipped: Debian main has
	# none of them; see docs/IMAGING.md)
	for rel in $(printf '%s\n' "${MOD_FILES[@]}" | sort); do
		fw=$(modinfo -F firmware "$ROOT/lib/modules/$KVER/$rel" 2>/dev/null | sort | tr '\n' ' ')
		[ -z "$fw" ] || echo "firmware-wanted $(basename "$rel" .ko) ${fw% }"
	done
	[ "${#BUILTIN[@]}" -eq 0 ] || echo "builtin $(printf '%s\n' "${BUILTIN[@]}" | sort -u | tr '\n' ' ' | sed 's/ *$//')"
	[ "${#MISSING[@]}" -eq 0 ] || echo "missing ${MISSING[*]}"
} >"$OUT/manifest"
say "$OUT/vmlinuz ($(size "$OUT/vmlinuz") bytes, Linux $KVER), $OUT/initrd ($INITRD_SIZE bytes $COMPRESS, budget $MAX_MIB MiB), $OUT/manifest"

# --- 7. the layers: a second initrd each, unpacked over the first ---
# bootenv/layers/NAME.list: "PROGRAM PACKAGE" a line; a program brings the
# libraries the imaging initrd lacks.  The kernel unpacks every initrd
# iPXE (or GRUB, PXELINUX) loads, in order, into one root.
declare -A base_libs=()
for lib in "${!libs[@]}"; do base_libs[$lib]=1; done
LAYER_DIR=${BOOTENV_LAYER_DIR:-bootenv/layers}
LAYERS=${BOOTENV_LAYERS-$(find "$LAYER_DIR" -maxdepth 1 -name '*.list' -printf '%f\n' 2>/dev/null |
	sed 's/\.list$//' | sort | tr '\n' ' ')}
LAYER_MAX_MIB=${BOOTENV_LAYER_MAX_MIB:-40}
# build_layer NAME: $OUT/NAME.initrd and $OUT/NAME.manifest
build_layer() {
	local name=$1 list=$LAYER_DIR/$1.list prog pkg lroot=$WORK/layer-$1 lsize
	local -a progs=()
	[ -f "$list" ] || die "layer $name: $list does not exist"
	rm -rf "$lroot"
	mkdir -p "$lroot/etc/bootenv/layers"
	libs=()
	INTO=$lroot
	while read -r prog pkg _; do
		case $prog in '' | '#'*) continue ;; esac
		[ -x "$prog" ] || die "layer $name: $prog is missing (install ${pkg:-its package}; scripts/deps.sh does)"
		mkdir -p "$lroot$(dirname "$prog")"
		add_file "$prog" "$prog"
		progs+=("$prog ${pkg:--}")
	done <"$list"
	for lib in "${!libs[@]}"; do
		[ -n "${base_libs[$lib]:-}" ] && continue
		mkdir -p "$lroot$(dirname "$lib")"
		cp -L "$lib" "$lroot$lib"
	done
	echo "$name" >"$lroot/etc/bootenv/layers/$name"
	archive "$lroot" "$WORK/$name.cpio" "$WORK/$name.initrd"
	lsize=$(size "$WORK/$name.initrd")
	if [ "$lsize" -gt $((LAYER_MAX_MIB * 1048576)) ]; then
		die "layer $name is $lsize bytes, over the budget of $LAYER_MAX_MIB MiB"
	fi
	touch -d "@$EPOCH" "$WORK/$name.initrd"
	mv "$WORK/$name.initrd" "$OUT/$name.initrd"
	{
		echo "# pxed imaging environment, layer $name: what went in.  Sizes in bytes."
		echo "layer $name initrd $lsize $COMPRESS sha256 $(sha256 "$OUT/$name.initrd")"
		echo "layer-uncompressed $(size "$WORK/$name.cpio") files $(find "$lroot" -mindepth 1 | wc -l)"
		echo "budget $((LAYER_MAX_MIB * 1048576))"
		echo "list $list sha256 $(sha256 "$list")"
		for p in "${progs[@]}"; do
			prog=${p%% *}
			pkg=${p#* }
			echo "program $prog $(size "$lroot$prog") $pkg $(pkg_version "$pkg")"
		done
		for lib in $(printf '%s\n' "${!libs[@]}" | sort); do
			[ -n "${base_libs[$lib]:-}" ] && continue
			echo "library $lib $(size "$lroot$lib") $(owner "$lib")"
		done
	} >"$OUT/$name.manifest"
	say "$OUT/$name.initrd (layer, $lsize bytes $COMPRESS, budget $LAYER_MAX_MIB MiB), $OUT/$name.manifest"
}
for layer in $LAYERS; do
	build_layer "$layer"
done
