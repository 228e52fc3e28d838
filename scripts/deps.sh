#!/bin/sh
# Install what pxed needs to build and test, from Debian's archive, when
# missing.  Safe to run again: it installs nothing when all is present.
set -eu

BUILD="build-essential pkg-config clang libclang-rt-14-dev libuv1-dev
libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev libcmocka-dev libsqlite3-dev
libzstd-dev libssl-dev libext2fs-dev ntfs-3g-dev libisal-dev libyajl-dev libunistring-dev libcap-dev
libseccomp-dev libhivex-dev libclamav-dev libpq-dev"
TEST="curl atftp tftp-hpa nftables nginx-light iproute2 procps psmisc iputils-ping python3 bc
isc-dhcp-client dhcpcd-base busybox-static dnsmasq-base
qemu-system-x86 qemu-system-arm ipxe-qemu ipxe ovmf qemu-efi-aarch64
shim-signed grub-efi-amd64-signed grub-efi-amd64-bin
e2fsprogs ntfs-3g dosfstools mtools gdisk fdisk zstd partclone udpcast kmod sqlite3
smartmontools memtester stress-ng dmidecode ethtool nvme-cli hdparm memtest86+
kea-dhcp4-server isc-dhcp-relay kea-admin tcpdump postgresql-15 gdb
chromium nodejs libhivex-bin chntpw zip
debhelper dpkg-dev fakeroot lintian systemd bash-completion adduser"
PKGS="$BUILD $TEST ${EXTRA_PKGS:-}"

# The ARM64 boot test fetches Debian's signed arm64 GRUB with apt-get
# download, which needs the arm64 architecture known to dpkg.
if [ "$(id -u)" -eq 0 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
	dpkg --add-architecture arm64
	apt-get update -qq
fi

# The console's browser test (tests/integration/console.sh) runs
# playwright-core from npm, which needs Node.js 20 and npm; Debian 12's
# own nodejs is 18 and comes without npm.
node_ok() {
	command -v npm >/dev/null 2>&1 &&
		[ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge 20 ]
}

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
node_ok || echo "deps: the console's browser test needs Node.js >= 20 with npm (found: $(node --version 2>/dev/null || echo none))" >&2
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Packages with daemons (kea-dhcp4-server, isc-dhcp-relay) must not start
# them: the tests run their own instances in namespaces.  policy-rc.d 101
# tells invoke-rc.d not to start services; it is ours only while we install.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	own_policy=1
fi
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null || rc=$?
[ -n "$own_policy" ] && rm -f "$policy"
exit "${rc:-0}"
