#!/bin/bash
# TFTP and HTTP over IPv6, on the server namespace's loopback (::1): the
# transfer ID socket, packet info, the MTU clamp (IPv6 headers are 20 bytes
# longer) and the HTTP listener all work for AF_INET6.
LAB_ID=v6$$
source "$(dirname "$0")/../lib/lab.sh"
lab_plan 7
lab_up || exit 1
ip -n "$LAB_SRV" link set lo mtu 1500   # so the IPv6 blksize clamp shows
make_file six.bin 3000000
pxed_start --listen ::1 || exit 1

in_srv timeout 30 curl -s --tftp-blksize 8192 -o "$LAB_DIR/a" "tftp://[::1]/six.bin"
check "curl over IPv6 (blksize 8192 asked) is byte-identical" cmp -s "$LAB_DIR/a" "$LAB_ROOT/six.bin"
check "blksize clamped to 1500 - 52 = 1448 for IPv6" wait_log "\[::1\]:[0-9]+: RRQ six.bin .* blksize 1448 " 5
in_srv timeout 30 atftp --option "blksize 1400" --option "windowsize 16" -g -r six.bin \
	-l "$LAB_DIR/b" ::1 >/dev/null 2>&1
check "atftp windowsize 16 over IPv6 is byte-identical" cmp -s "$LAB_DIR/b" "$LAB_ROOT/six.bin"
in_srv timeout 30 curl -s -o "$LAB_DIR/c" "http://[::1]/six.bin"
check "HTTP over IPv6 is byte-identical" cmp -s "$LAB_DIR/c" "$LAB_ROOT/six.bin"
check "the log names IPv6 peers as [addr]:port" grep -q "http \[::1\]:[0-9]* GET /six.bin 200" "$LAB_DIR/pxed.log"
check "pxed stops cleanly" pxed_stop
check "sanitizer clean" pxed_log_clean
lab_finish
