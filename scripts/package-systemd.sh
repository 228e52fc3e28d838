#!/bin/bash
# scripts/package-systemd.sh: tests/integration/package.sh under a real
# systemd, for machines where systemd is not PID 1 (there make check can
# only check the unit with systemd-analyze verify and start its ExecStart
# itself, which runs no seccomp filter).  Not part of make check: it
# downloads a Debian 12 base system (debootstrap, ~100 MB from the archive)
# into build/pkg-systemd/root once, boots it with systemd-nspawn (systemd
# as PID 1, a private network), and runs package.sh there with
# PKG_DEB=build/deb/pxed_*.deb through a one-shot unit that powers the
# container off.  Prints package.sh's output; exits with its status.
#
#   make deb && sudo scripts/package-systemd.sh
#
# Needs root, debootstrap and systemd-container (installed with apt-get
# when missing).  The container's tree stays in build/pkg-systemd/ (make
# clean removes it); the test inside leaves it as it found it.
set -eu
cd "$(dirname "$0")/.."
DIR=build/pkg-systemd
ROOT=$DIR/root
DEB=$(ls build/deb/pxed_*.deb 2>/dev/null | head -1)
[ -n "$DEB" ] || { echo "package-systemd: no build/deb/pxed_*.deb: run make deb" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "package-systemd: needs root" >&2; exit 2; }

missing=""
for p in debootstrap systemd-container; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "package-systemd: installing$missing"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The libraries the package depends on, so that dpkg -i needs no network.
LIBS=$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//; s/|.*//' | grep . |
	paste -sd, -)
if [ ! -x "$ROOT/lib/systemd/systemd" ]; then
	mkdir -p "$DIR"
	echo "package-systemd: debootstrap bookworm into $ROOT (once)"
	timeout 1200 debootstrap --variant=minbase \
		--include="systemd,systemd-sysv,dbus,iproute2,curl,procps,man-db,$LIBS" \
		bookworm "$ROOT" http://deb.debian.org/debian >"$DIR/debootstrap.log" 2>&1 ||
		{ tail -20 "$DIR/debootstrap.log"; exit 1; }
fi

# What package.sh needs, fresh each run
rm -rf "$ROOT/root/pxed"
mkdir -p "$ROOT/root/pxed/build/tools" "$ROOT/root/pxed/build/deb"
cp -r tests "$ROOT/root/pxed/"
cp build/tools/dhcp-probe "$ROOT/root/pxed/build/tools/"
cp "$DEB" "$ROOT/root/pxed/build/deb/"
rm -f "$ROOT/root/result.log"
cat >"$ROOT/etc/systemd/system/pkgtest.service" <<UNIT
[Unit]
Description=pxed package test (scripts/package-systemd.sh)
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/bin/bash -c 'cd /root/pxed && PKG_DEB=/root/pxed/build/deb/$(basename "$DEB") timeout 300 bash tests/integration/package.sh >/root/result.log 2>&1; echo "exit \$?" >>/root/result.log; systemctl --no-block poweroff'
UNIT
mkdir -p "$ROOT/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/pkgtest.service \
	"$ROOT/etc/systemd/system/multi-user.target.wants/pkgtest.service"

# --keep-unit --register=no: no systemd or machined needed on this machine
timeout 600 systemd-nspawn -b -D "$ROOT" --private-network --register=no --keep-unit -q \
	>"$DIR/boot.log" 2>&1 || true
rm -f "$ROOT/etc/systemd/system/multi-user.target.wants/pkgtest.service"
[ -f "$ROOT/root/result.log" ] || { echo "package-systemd: no result (see $DIR/boot.log)"; exit 1; }
cat "$ROOT/root/result.log"
[ "$(tail -1 "$ROOT/root/result.log")" = "exit 0" ]
