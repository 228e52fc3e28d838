#!/bin/bash
# The imaging environment (scripts/bootenv.sh, bootenv/init) end to end:
#   1. build it twice with a stand-in pxe-agent (a shell script; the real
#      agent is not needed here): the two initrds are byte for byte equal,
#      within the size budget, and hold what /init needs; a build over the
#      budget fails and says so; the diag layer likewise (reproducible,
#      within its budget, the tools in it and not in the imaging initrd).
#   2. boot it under QEMU (TCG, -kernel/-initrd) on the lab bridge, with
#      pxed as the DHCP server (HTTP on 8080, the URL the agent is given):
#        ok    virtio-net + virtio-blk: DHCP address, the agent runs with
#              --server/--token/--task, reaches pxed, writes a marker on
#              the disk, the VM powers off by itself;
#        fail  the agent exits 3: "pxe-agent failed (exit 3)", its last
#              lines, a console shell for pxed.failwait=5 s, power off;
#        e1000 an e1000 NIC chosen by pxed.mac (hyphens, upper case), a
#              static address (pxed.ip=ADDR/PREFIX:GW): the driver comes
#              from the initrd's modules.
#      The three VMs boot in parallel.  Each is killed after VM_SECS.
# Downloads Debian's kernel package once (apt-get download, cached in
# build/bootenv/debs).  Needs qemu-system-x86, busybox-static, kmod, zstd.
# About 1-2 minutes on 2 cores.
cd "$(dirname "$0")/../.." || exit 1
LAB_ID=be$$
source tests/lib/lab.sh
source tests/lib/qemu.sh
lab_plan 53
T_ALL=$(date +%s)
VM_SECS=${VM_SECS:-120}
[ -x "$PXED" ] || PXED=build/pxed
[ -x "$PXED" ] || { not_ok "pxed is built ($PXED; make all)"; lab_finish; }
command -v qemu-system-x86_64 >/dev/null || { not_ok "qemu-system-x86_64 is installed"; lab_finish; }

# --- the stand-in agent: prints its arguments, fails when the kernel
# command line says standin.exit=N, else fetches the server's status and
# writes a marker to /dev/vda ---
STANDIN=$LAB_DIR/standin-agent
cat >"$STANDIN" <<'AGENT'
#!/bin/sh
echo "standin-agent: args: $*"
server='' token='' task=''
while [ $# -gt 0 ]; do
	case $1 in
	--server) server=$2; shift ;;
	--token) token=$2; shift ;;
	--task) task=$2; shift ;;
	esac
	shift
done
code=0
for w in $(cat /proc/cmdline); do
	case $w in standin.exit=*) code=${w#*=} ;; esac
done
if [ "$code" != 0 ]; then
	echo "standin-agent: failing as asked (exit $code)"
	exit "$code"
fi
# (busybox 1.35's wget -T crashes: bound it with timeout instead)
if timeout 10 wget -q -O /tmp/status "$server/api/v1/status"; then
	echo "standin-agent: GET $server/api/v1/status ok"
else
	echo "standin-agent: $server unreachable"
	exit 5
fi
i=0
while [ ! -b /dev/vda ] && [ "$i" -lt 20 ]; do sleep 0.5; i=$((i + 1)); done
[ -b /dev/vda ] || { echo "standin-agent: no /dev/vda"; exit 4; }
printf 'PXED-BOOTENV-MARKER task=%s token=%s\n' "$task" "$token" |
	dd of=/dev/vda bs=512 conv=sync,fsync 2>/dev/null || exit 6
echo "standin-agent: marker written to /dev/vda"
exit 0
AGENT
chmod 755 "$STANDIN"

# --- 1. build ---
# build NAME [VAR=VALUE...]: scripts/bootenv.sh into $LAB_DIR/NAME, log NAME.log
build() {
	local name=$1
	shift
	env BOOTENV_OUT="$LAB_DIR/$name" BOOTENV_AGENT="$STANDIN" "$@" \
		timeout 600 scripts/bootenv.sh >"$LAB_DIR/$name.log" 2>&1
}
t0=$(date +%s)
build be1 &
p1=$!
build be2 &
p2=$!
wait "$p1"
rc1=$?
wait "$p2"
rc2=$?
if [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ]; then
	ok "scripts/bootenv.sh built twice ($(($(date +%s) - t0))s, in parallel)"
else
	not_ok "scripts/bootenv.sh built twice (exit $rc1, $rc2)"
	tail -5 "$LAB_DIR/be1.log" "$LAB_DIR/be2.log" | sed 's/^/# /'
	lab_finish
fi
OUT=$LAB_DIR/be1
INITRD_SIZE=$(stat -c %s "$OUT/initrd")
sha1=$(sha256sum <"$OUT/initrd" | cut -d' ' -f1)
sha2=$(sha256sum <"$LAB_DIR/be2/initrd" | cut -d' ' -f1)
check "the initrd is reproducible (sha256 ${sha1:0:16}.. both times)" [ "$sha1" = "$sha2" ]
check "the manifests are equal" cmp -s "$OUT/manifest" "$LAB_DIR/be2/manifest"
check "the initrd is within the 40 MiB budget ($INITRD_SIZE bytes)" \
	[ "$INITRD_SIZE" -le $((40 * 1048576)) ]
zstd -dc "$OUT/initrd" 2>/dev/null | busybox cpio -t 2>/dev/null | sort >"$LAB_DIR/list"
# shellcheck disable=SC2317  # called through check
has() { grep -qx -- "$1" "$LAB_DIR/list"; }
for f in init bin/busybox bin/udhcpc bin/modprobe bin/cttyhack usr/bin/pxe-agent \
	etc/udhcpc/default.script etc/bootenv/modules dev/console; do
	check "the initrd holds $f" has "$f"
done
check "the initrd holds modules.dep and the e1000, virtio_net, nvme modules" \
	bash -c "grep -qE '^lib/modules/[^/]+/modules.dep\$' '$LAB_DIR/list' &&
		grep -q '/e1000.ko\$' '$LAB_DIR/list' && grep -q '/virtio_net.ko\$' '$LAB_DIR/list' &&
		grep -q '/nvme.ko\$' '$LAB_DIR/list'"
check "the manifest names the kernel package" grep -q '^kernel-package linux-image-.*-amd64 ' "$OUT/manifest"
sed -n 's/^\(kernel\(-package\)\?\|initrd\|initrd-uncompressed\) /# &/p' "$OUT/manifest"
build be3 BOOTENV_MODULES=virtio_net BOOTENV_MAX_MIB=0
rc=$?
check "a build over the budget fails (exit $rc), says so, and leaves no initrd" \
	bash -c "[ $rc -ne 0 ] && grep -q 'over the budget of 0 MiB' '$LAB_DIR/be3.log' &&
		[ ! -e '$LAB_DIR/be3/initrd' ]"

# the diag layer (bootenv/layers/diag.list): a second initrd of its own
LAYER_SIZE=$(stat -c %s "$OUT/diag.initrd")
lsha1=$(sha256sum <"$OUT/diag.initrd" | cut -d' ' -f1)
lsha2=$(sha256sum <"$LAB_DIR/be2/diag.initrd" | cut -d' ' -f1)
check "the diag layer is reproducible (sha256 ${lsha1:0:16}.. both times)" [ "$lsha1" = "$lsha2" ]
check "the diag layer is within its 40 MiB budget ($LAYER_SIZE bytes)" \
	[ "$LAYER_SIZE" -le $((40 * 1048576)) ]
zstd -dc "$OUT/diag.initrd" 2>/dev/null | busybox cpio -t 2>/dev/null | sort >"$LAB_DIR/layer-list"
# shellcheck disable=SC2317  # called through check
in_layer() { grep -qx -- "$1" "$LAB_DIR/layer-list"; }
for p in usr/sbin/smartctl usr/sbin/memtester usr/bin/stress-ng usr/sbin/dmidecode \
	usr/sbin/ethtool usr/sbin/nvme usr/sbin/hdparm usr/sbin/badblocks etc/bootenv/layers/diag; do
	check "the diag layer holds $p" in_layer "$p"
done
check "the imaging initrd holds none of the diag tools (it stays small)" \
	bash -c "! grep -qE '^usr/(s)?bin/(smartctl|memtester|stress-ng|dmidecode|nvme|hdparm)\$' '$LAB_DIR/list'"
check "the diag layer holds no library the imaging initrd has (they are unpacked over it)" \
	bash -c "! comm -12 '$LAB_DIR/list' '$LAB_DIR/layer-list' | grep -q '\.so'"
check "the diag manifest names each program and its package" \
	bash -c "grep -q '^program /usr/sbin/smartctl [0-9]* smartmontools ' '$OUT/diag.manifest' &&
		grep -q '^program /usr/bin/stress-ng [0-9]* stress-ng ' '$OUT/diag.manifest'"
sed -n 's/^layer /# layer /p' "$OUT/diag.manifest"
mkdir -p "$LAB_DIR/layers"
echo "/usr/sbin/memtester memtester" >"$LAB_DIR/layers/small.list"
build be4 BOOTENV_MODULES=virtio_net BOOTENV_LAYER_DIR="$LAB_DIR/layers" BOOTENV_LAYER_MAX_MIB=0
rc=$?
check "a layer over its budget fails the build (exit $rc) and says so" \
	bash -c "[ $rc -ne 0 ] && grep -q 'layer small is [0-9]* bytes, over the budget of 0 MiB' '$LAB_DIR/be4.log'"

# --- 2. boot ---
vm_lab_up || exit 1
pxed_start --interface br0 --http-port 8080 --dhcp-range 192.0.2.100,192.0.2.150 \
	--dhcp-router 192.0.2.1 || exit 1

# be_vm NAME NIC MAC EXTRA-APPEND: boot the environment; a fresh 8 MiB disk
be_vm() {
	local name=$1 nic=$2 mac=$3 extra=$4 tap=t$1
	local serial=$LAB_DIR/$name.serial
	lab_tap_add "$tap" || return 1
	: >"$serial"
	truncate -s 8M "$LAB_DIR/$name.disk"
	ip netns exec "$LAB_SRV" timeout -s KILL "$VM_SECS" qemu-system-x86_64 \
		-machine accel=tcg -m 512 -nographic -no-reboot \
		-kernel "$OUT/vmlinuz" -initrd "$OUT/initrd" \
		-append "console=ttyS0 pxed.server=http://192.0.2.1:8080 pxed.token=abc pxed.task=7 pxed.after=poweroff quiet $extra" \
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
		-device "$nic,netdev=n0,mac=$mac,romfile=" \
		-drive "file=$LAB_DIR/$name.disk,format=raw,if=virtio" \
		-serial "file:$serial" -monitor none -display none >"$LAB_DIR/$name.qemu" 2>&1 &
	VM_PID[$name]=$!
	VM_T0[$name]=$(date +%s)
	LAB_PIDS+=("$!")
}
serial_has() { vm_serial_text "$1" | grep -qE -- "$2"; }
up_at() { vm_serial_text "$1" | sed -n "s/.*$2.*(up \([0-9.]*\) s).*/\1/p" | head -1; }
dump() { vm_serial_text "$1" | grep -v '^ *$' | tail -15 | sed "s/^/# $1: /"; }
# in_order VM RE1 RE2: VM's serial log has a line matching RE1 and a later one RE2
in_order() {
	local a b
	a=$(vm_serial_text "$1" | grep -nE -- "$2" | head -1 | cut -d: -f1)
	b=$(vm_serial_text "$1" | grep -nE -- "$3" | tail -1 | cut -d: -f1)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}

MAC_OK=52:54:00:be:00:01
MAC_FAIL=52:54:00:be:00:02
MAC_E1000=52:54:00:be:00:03
be_vm ok virtio-net-pci "$MAC_OK" "" || exit 1
be_vm fail virtio-net-pci "$MAC_FAIL" "standin.exit=3 pxed.failwait=5" || exit 1
be_vm e1000 e1000 "$MAC_E1000" "pxed.mac=52-54-00-BE-00-03 pxed.ip=192.0.2.60/24:192.0.2.1" || exit 1
# Wait (bounded) until every VM has exited: T[VM] its seconds, RC[VM] its
# exit status (0: the guest powered off; 137: killed at VM_SECS).
declare -A RC=() T=()
left="ok fail e1000"
deadline=$(($(date +%s) + VM_SECS + 10))
while [ -n "$left" ] && [ "$(date +%s)" -lt "$deadline" ]; do
	next=''
	for vm in $left; do
		if kill -0 "${VM_PID[$vm]}" 2>/dev/null; then
			next="$next $vm"
		else
			T[$vm]=$(vm_elapsed "$vm")
			wait "${VM_PID[$vm]}"
			RC[$vm]=$?
		fi
	done
	left=$next
	[ -z "$left" ] || sleep 0.5
done
for vm in $left; do
	vm_stop "$vm"
	RC[$vm]=137
	T[$vm]=$(vm_elapsed "$vm")
done

# ok: virtio-net, DHCP, the agent, the marker, power off
if ! serial_has ok 'pxed-init: poweroff'; then dump ok; fi
check "ok: the kernel booted and ran /init" serial_has ok 'pxed-init: pxed imaging environment, Linux 6\.'
check "ok: virtio_net drove the NIC" serial_has ok "interface eth0 \\($MAC_OK, driver virtio_net\\)"
check "ok: the NIC got an address via DHCP" \
	serial_has ok 'eth0 address 192\.0\.2\.1[0-5][0-9]/24 router 192\.0\.2\.1 \(dhcp\)'
check "ok: pxed ACKed it" grep -qE "$MAC_OK: ACK 192\.0\.2\.1[0-5][0-9]" "$LAB_DIR/pxed.log"
check "ok: the agent ran with --server, --token, --task" \
	serial_has ok 'standin-agent: args: --server http://192\.0\.2\.1:8080 --token abc --task 7$'
check "ok: the agent reached pxed over HTTP" serial_has ok 'GET http://192\.0\.2\.1:8080/api/v1/status ok'
check "ok: the marker is on the disk" \
	bash -c "head -c 512 '$LAB_DIR/ok.disk' | grep -aq 'PXED-BOOTENV-MARKER task=7 token=abc'"
check "ok: the VM powered off by itself (qemu exit ${RC[ok]} after ${T[ok]}s, bound ${VM_SECS}s)" \
	bash -c "[ ${RC[ok]} -eq 0 ] && [ ${T[ok]} -lt $VM_SECS ]"
check "ok: /init said poweroff after the agent" in_order ok 'pxed-init: pxe-agent done' 'pxed-init: poweroff'

# fail: the agent exits 3
if ! serial_has fail 'pxed-init: poweroff'; then dump fail; fi
check "fail: pxe-agent failed (exit 3) on the console" serial_has fail 'pxe-agent failed \(exit 3\)'
check "fail: its last lines on the console" serial_has fail '  \| standin-agent: failing as asked \(exit 3\)'
check "fail: a console shell started" serial_has fail 'console shell for 5s'
w0=$(up_at fail 'console shell for 5s')
w1=$(up_at fail 'pxed-init: poweroff')
check "fail: power off 5 s after the shell started (up ${w0:-?} -> ${w1:-?} s)" \
	bash -c "[ -n '$w0' ] && [ -n '$w1' ] && echo '$w1 - $w0 >= 5' | bc | grep -qx 1"
check "fail: the VM powered off by itself (qemu exit ${RC[fail]} after ${T[fail]}s)" \
	bash -c "[ ${RC[fail]} -eq 0 ] && [ ${T[fail]} -lt $VM_SECS ]"
check "fail: the disk is untouched" bash -c "! grep -aq PXED-BOOTENV-MARKER '$LAB_DIR/fail.disk'"

# e1000: a non-virtio NIC, picked by pxed.mac
if ! serial_has e1000 'pxed-init: poweroff'; then dump e1000; fi
check "e1000: the e1000 module drove the NIC chosen by pxed.mac" \
	serial_has e1000 "interface eth0 \\($MAC_E1000, driver e1000\\)"
check "e1000: the static address" serial_has e1000 'eth0 address 192\.0\.2\.60/24 gateway 192\.0\.2\.1 \(static\)'
check "e1000: the agent reached pxed over HTTP" serial_has e1000 'GET http://192\.0\.2\.1:8080/api/v1/status ok'
check "e1000: the agent wrote the marker" \
	bash -c "head -c 512 '$LAB_DIR/e1000.disk' | grep -aq 'PXED-BOOTENV-MARKER task=7'"
check "e1000: the VM powered off by itself (qemu exit ${RC[e1000]} after ${T[e1000]}s)" \
	bash -c "[ ${RC[e1000]} -eq 0 ] && [ ${T[e1000]} -lt $VM_SECS ]"
for vm in ok fail e1000; do
	echo "# $vm: $(up_at "$vm" 'pxed-init: poweroff') s of guest uptime at power off"
done

check "pxed stops cleanly" pxed_stop
check "sanitizer clean" pxed_log_clean
echo "# bootenv.sh took $(($(date +%s) - T_ALL))s"
lab_finish
