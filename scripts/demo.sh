#!/bin/bash
# make demo: start pxed in a throw-away lab network (two namespaces joined
# by a veth), fetch a boot file with real clients over TFTP and HTTP, and
# show what happened.  Needs root (network namespaces); leaves nothing
# behind.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "make demo needs root: it creates network namespaces (try: sudo make demo)" >&2
	exit 1
fi
PXED=build/pxed
LAB_ID=demo$$
source tests/lib/lab.sh
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "lab network: namespace $LAB_SRV (server, $LAB_SRV_IP) <-veth-> $LAB_CLI (client, $LAB_CLI_IP)"
lab_up
if [ -f /usr/lib/ipxe/undionly.kpxe ]; then
	cp /usr/lib/ipxe/undionly.kpxe "$LAB_ROOT/undionly.kpxe"
else
	head -c 70000 /dev/urandom >"$LAB_ROOT/undionly.kpxe"
fi
head -c $((16 << 20)) /dev/urandom >"$LAB_ROOT/boot.img"
mkdir -p "$LAB_ROOT/Boot"
head -c 16384 /dev/urandom >"$LAB_ROOT/Boot/BCD"
chmod -R a+rX "$LAB_ROOT"
ls -l "$LAB_ROOT"

step "start pxed: $PXED --root $LAB_ROOT --listen $LAB_SRV_IP"
pxed_start --log-level info

fetch() {  # label command...
	local label=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	in_cli timeout 60 "$@" >/dev/null 2>&1
	t1=$(date +%s.%N)
	printf '  %-52s %6.3f s\n' "$label" "$(echo "$t1 - $t0" | bc -l 2>/dev/null || echo "$t1 $t0" | awk '{print $1-$2}')"
}

step "fetch with real clients from the client namespace"
fetch "curl tftp:// undionly.kpxe (lock-step, blksize 1468)" \
	curl -s --tftp-blksize 1468 -o "$LAB_DIR/undionly.kpxe" "tftp://$LAB_SRV_IP/undionly.kpxe"
fetch "curl tftp:// boot.img 16 MiB (lock-step, blksize 1468)" \
	curl -s --tftp-blksize 1468 -o "$LAB_DIR/boot-curl.img" "tftp://$LAB_SRV_IP/boot.img"
fetch "atftp boot.img 16 MiB (blksize 1468, windowsize 16)" \
	atftp --option "blksize 1468" --option "windowsize 16" -g -r boot.img \
	-l "$LAB_DIR/boot-atftp.img" "$LAB_SRV_IP"
fetch "curl tftp:// \\Boot\\BCD (Windows path, any case)" \
	curl -s -o "$LAB_DIR/bcd" "tftp://$LAB_SRV_IP/%5Cboot%5Cbcd"
fetch "curl http:// boot.img 16 MiB" \
	curl -s -o "$LAB_DIR/boot-http.img" "http://$LAB_SRV_IP/boot.img"

step "verify every byte"
for f in undionly.kpxe; do cmp "$LAB_DIR/$f" "$LAB_ROOT/$f" && echo "  $f: identical"; done
for f in boot-curl.img boot-atftp.img boot-http.img; do
	cmp "$LAB_DIR/$f" "$LAB_ROOT/boot.img" && echo "  $f: identical"
done
cmp "$LAB_DIR/bcd" "$LAB_ROOT/Boot/BCD" && echo "  \\boot\\bcd -> Boot/BCD: identical"

step "refused: a path that leaves the root"
in_cli timeout 10 curl -s --path-as-is -o /dev/null "tftp://$LAB_SRV_IP/../../etc/passwd" ||
	echo "  curl: refused (exit $?)"

step "pxectl status (over the HTTP API)"
in_cli build/pxectl --server "http://$LAB_SRV_IP" status

step "pxed's log"
pxed_stop || true
sed 's/^/  /' "$LAB_DIR/pxed.log"
step "done: the lab is removed on exit"
