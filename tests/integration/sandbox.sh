#!/bin/bash
# The daemon's sandbox (src/pxed/sandbox.c), proved from outside: gdb
# attaches to the running pxed and makes it call open() and execve() from
# its own main thread, as code an attacker got to run there would.
#  - /proc says: no new privileges, a seccomp filter, no capabilities;
#  - open() of a file outside its directories fails (EACCES: Landlock),
#    of one in its state directory works, of a boot file read-only works
#    and read-write fails;
#  - execve() fails (EPERM: seccomp), is logged by pxed, and pxed goes on
#    serving TFTP and HTTP and stops cleanly;
#  - with sandbox = no, the same open() works (the check can fail).
# A kernel without Landlock makes the Landlock checks fail, saying so.
LAB_ID=${LAB_ID:-sb$$}
source "$(dirname "$0")/../lib/lab.sh"
lab_plan 17

lab_up || { not_ok "setup: lab_up"; exit 1; }
command -v gdb >/dev/null || { not_ok "setup: gdb (scripts/deps.sh)"; exit 1; }
make_file boot.bin 200000
mkdir -p "$LAB_DIR/up" && chmod 777 "$LAB_DIR/up"
echo secret >"$LAB_DIR/outside.txt"
chmod 644 "$LAB_DIR/outside.txt"
pxed_start --tftp-write "$LAB_DIR/up" || { not_ok "setup: pxed_start"; exit 1; }

# in_pxed EXPR...: evaluate C expressions in pxed's main thread (gdb);
# prints one value a line
in_pxed() {
	local args=(-p "$PXED_PID" -batch -nx -ex 'set unwindonsignal on'
		-ex 'handle SIGSYS nostop noprint pass' -ex 'set confirm off')
	local e
	for e in "$@"; do
		args+=(-ex "printf \"=%d\\n\", (int)($e)")
	done
	timeout 60 gdb "${args[@]}" 2>/dev/null | sed -n 's/^=//p'
}
status_field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$PXED_PID/status"; }

if grep -q "sandbox: Landlock ABI" "$LAB_DIR/pxed.log"; then
	LL=yes
else
	LL=no
	echo "# $(grep -m1 'Landlock' "$LAB_DIR/pxed.log")"
fi
ll_check() {   # ll_check NAME CMD...: a check that needs Landlock
	if [ "$LL" = yes ]; then
		check "$@"
	else
		not_ok "$1 (Landlock is not available in this kernel: pxed logged so)"
	fi
}

check "no new privileges (/proc)" [ "$(status_field NoNewPrivs)" = 1 ]
check "a seccomp filter (/proc: mode 2)" [ "$(status_field Seccomp)" = 2 ]
check "no effective capabilities (/proc)" [ "$(status_field CapEff)" = 0000000000000000 ]
ll_check "Landlock in force (logged with its ABI)" grep -q "sandbox: Landlock ABI [0-9]" \
	"$LAB_DIR/pxed.log"

mapfile -t r < <(in_pxed "open(\"$LAB_DIR/outside.txt\", 0)" '*(int *)__errno_location()' \
	"open(\"$LAB_DIR/state/pxed.db\", 0)" "open(\"$LAB_ROOT/boot.bin\", 0)" \
	"open(\"$LAB_ROOT/boot.bin\", 2)" '*(int *)__errno_location()' \
	'open("/etc/shadow", 0)' "open(\"$LAB_DIR/up/new\", 0101, 0644)")
echo "# gdb: ${r[*]}"
ll_check "open() of a file outside its directories: -1 EACCES" [ "${r[0]}/${r[1]}" = -1/13 ]
check "open() of its database in state-dir works" [ "${r[2]:--1}" -ge 0 ]
check "open() of a boot file read-only works" [ "${r[3]:--1}" -ge 0 ]
ll_check "... read-write: -1 EACCES (the root is read-only)" [ "${r[4]}/${r[5]}" = -1/13 ]
ll_check "open() of /etc/shadow: -1" [ "${r[6]}" = -1 ]
check "creating a file in tftp-write works" [ "${r[7]:--1}" -ge 0 ]

mark=$(log_mark)
mapfile -t r < <(in_pxed 'execve("/bin/true", 0, 0)' '*(int *)__errno_location()')
echo "# gdb: ${r[*]}"
check "execve(): -1 EPERM (seccomp)" [ "${r[0]}/${r[1]}" = -1/1 ]
check "... and pxed logs the refused call" \
	wait_log "sandbox: 1 system call\(s\) refused .*the last execve" 5 "$mark"
check "pxed serves on (TFTP)" \
	in_cli timeout 20 curl -sS -o "$LAB_DIR/t.bin" "tftp://$LAB_SRV_IP/boot.bin"
check "pxed stops cleanly" pxed_stop
pxed_log_rotate

# the same open() without the sandbox: it works (so the check above can fail)
pxed_start --sandbox no || { not_ok "setup: pxed_start --sandbox no"; exit 1; }
mapfile -t r < <(in_pxed "open(\"$LAB_DIR/outside.txt\", 0)")
check "with sandbox = no the same open() works" [ "${r[0]:--1}" -ge 0 ]
check "pxed (sandbox = no) stops cleanly" pxed_stop
check "sanitizer clean" pxed_log_clean
lab_finish
