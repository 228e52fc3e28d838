#!/bin/bash
# The daemon's sandbox (src/pxed/sandbox.c), proved from outside: gdb
# attaches to the running pxed and makes its main thread call open(),
# execve(), fork() and unshare(), as code an attacker got to run there
# would; real clients check that it goes on serving everything it serves.
#  - /proc: no new privileges, a seccomp filter, no capability;
#  - Landlock: open() of a world-readable file outside its directories
#    and of /etc/passwd fails with EACCES, as does opening a world-writable
#    boot file for writing (the root is read-only); its database opens
#    read-write and a file can be made in tftp-write;
#  - seccomp: execve(), fork() and unshare() fail with EPERM, and pxed logs
#    each ("sandbox: denied system call execve (59) x1");
#  - under the sandbox pxed serves TFTP and HTTP downloads, a TFTP upload,
#    the API, a DHCP lease (written to SQLite: read back with sqlite3), a
#    SIGHUP reload of a config file replaced by sed -i (the new range is
#    used), and logs no other denied call; it stops cleanly;
#  - with sandbox = no the same open() and unshare() work (so the checks
#    above can fail).
# A kernel without Landlock fails the Landlock checks (the log printed on
# failure says "sandbox: Landlock is not available").
LAB_ID=sb$$
source "$(dirname "$0")/../lib/lab.sh"
lab_plan 30

lab_up || { not_ok "setup: lab_up"; exit 1; }
command -v gdb >/dev/null || { not_ok "setup: gdb (scripts/deps.sh)"; exit 1; }
command -v sqlite3 >/dev/null || { not_ok "setup: sqlite3 (scripts/deps.sh)"; exit 1; }
make_file boot.bin 300000
make_file writable.bin 1000
chmod 666 "$LAB_ROOT/writable.bin"      # the file mode would let anyone write it
UP=$LAB_DIR/up
mkdir -p "$UP" && chmod 777 "$UP"
# a file anyone may read, in a directory of its own outside pxed's
OUTSIDE=$(mktemp -d /tmp/pxed-outside.XXXXXX) || { not_ok "setup: mktemp"; exit 1; }
LAB_CLEANUPS+=("rm -rf '$OUTSIDE'")
chmod 755 "$OUTSIDE"
echo secret >"$OUTSIDE/secret.txt" && chmod 644 "$OUTSIDE/secret.txt"
# the config file in a directory of its own (pxed may read that one)
CONF=$LAB_DIR/etc/pxed.conf
mkdir -p "$LAB_DIR/etc"
cat >"$CONF" <<EOF
[subnet 192.0.2.0/24]
range = 192.0.2.100 192.0.2.150
EOF
chmod 755 "$LAB_DIR/etc" && chmod 644 "$CONF"
pxed_start --config "$CONF" --tftp-write "$UP" || { not_ok "setup: pxed_start"; exit 1; }

# in_pxed CMD...: gdb commands in pxed's main thread; the values they print
# with "printf \"=%d\n\"" come out one a line.  SIGSYS (a denied call)
# goes to pxed's handler, as it would without gdb.
in_pxed() {
	local args=(-p "$PXED_PID" -batch -nx -ex 'set unwindonsignal on'
		-ex 'handle SIGSYS nostop noprint pass' -ex 'set confirm off')
	local c
	for c in "$@"; do
		args+=(-ex "$c")
	done
	timeout 120 gdb "${args[@]}" 2>/dev/null | sed -n 's/^=//p'
}
# Strings go into memory malloc'd here and freed by done_strs: a string
# constant in a call makes gdb leave a malloc'd copy behind in pxed (which
# LeakSanitizer would rightly report).
STRS=()
# str VAR TEXT: the commands that put TEXT in pxed's memory at $VAR
str() {
	STRS+=("$1")
	echo "set \$$1 = (char *)malloc(${#2} + 1)"
	echo "set {char[$((${#2} + 1))]}\$$1 = \"$2\""
}
done_strs() {
	local v
	for v in "${STRS[@]}"; do echo "call (void)free(\$$v)"; done
	STRS=()
}
# try EXPR: the commands that print EXPR's value (an int) and then errno
try() { echo "set \$r = (int)($1)"; echo 'printf "=%d\n", $r'; echo 'printf "=%d\n", *(int *)__errno_location()'; }
# try_fd EXPR: print the descriptor EXPR opened (or -1), and close it
try_fd() { try "$1"; echo 'call (int)close($r)'; }
status_field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$PXED_PID/status"; }
denied_logged() { wait_log "sandbox: denied system call $1 \($2\) x1" 5 "$3"; }

check "no new privileges (/proc)" [ "$(status_field NoNewPrivs)" = 1 ]
check "a seccomp filter (/proc: mode 2)" [ "$(status_field Seccomp)" = 2 ]
check "no effective capability (/proc)" [ "$(status_field CapEff)" = 0000000000000000 ]
check "Landlock in force (logged with its ABI)" grep -q "sandbox: Landlock ABI [0-9]" \
	"$LAB_DIR/pxed.log"

# --- Landlock ---
mapfile -t cmds < <(str out "$OUTSIDE/secret.txt"; str pw /etc/passwd
	str wr "$LAB_ROOT/writable.bin"; str bt "$LAB_ROOT/boot.bin"
	str db "$LAB_DIR/state/pxed.db"; str mk "$UP/made-by-gdb"
	try_fd 'open($out, 0)'; try_fd 'open($pw, 0)'; try_fd 'open($wr, 2)'
	try_fd 'open($bt, 0)'; try_fd 'open($db, 2)'; try_fd 'open($mk, 0101, 0644)'; done_strs)
mapfile -t r < <(in_pxed "${cmds[@]}")
echo "# gdb: ${r[*]}"
check "open() of a world-readable file outside its directories: -1 EACCES" \
	[ "${r[0]}/${r[1]}" = -1/13 ]
check "open() of /etc/passwd: -1 EACCES" [ "${r[2]}/${r[3]}" = -1/13 ]
check "open() of a world-writable boot file for writing: -1 EACCES (the root is read-only)" \
	[ "${r[4]}/${r[5]}" = -1/13 ]
check "open() of a boot file for reading works" [ "${r[6]:--1}" -ge 0 ]
check "open() of its database in state-dir for writing works" [ "${r[8]:--1}" -ge 0 ]
check "creating a file in tftp-write works" [ "${r[10]:--1}" -ge 0 ]
rm -f "$UP/made-by-gdb"

# --- seccomp ---
mark=$(log_mark)
mapfile -t cmds < <(str tr /bin/true; try 'execve($tr, 0, 0)'; try 'fork()'
	try 'syscall(272, 0)'; done_strs)
mapfile -t r < <(in_pxed "${cmds[@]}")
echo "# gdb: ${r[*]}"
check "execve(): -1 EPERM" [ "${r[0]}/${r[1]}" = -1/1 ]
check "fork(): -1 EPERM (clone makes threads only)" [ "${r[2]}/${r[3]}" = -1/1 ]
check "unshare(0): -1 EPERM" [ "${r[4]}/${r[5]}" = -1/1 ]
check "pxed logs the denied execve" denied_logged execve 59 "$mark"
check "pxed logs the denied clone (fork)" denied_logged clone 56 "$mark"
check "pxed logs the denied unshare" denied_logged unshare 272 "$mark"

# --- and serves on ---
in_cli timeout 20 curl -sS -o "$LAB_DIR/t.bin" "tftp://$LAB_SRV_IP/boot.bin"
check "TFTP download: the same bytes" cmp "$LAB_ROOT/boot.bin" "$LAB_DIR/t.bin"
in_cli timeout 20 curl -sS -o "$LAB_DIR/h.bin" "http://$LAB_SRV_IP/boot.bin"
check "HTTP download: the same bytes" cmp "$LAB_ROOT/boot.bin" "$LAB_DIR/h.bin"
head -c 200000 /dev/urandom >"$LAB_DIR/upload.bin"
in_cli timeout 20 curl -sS -T "$LAB_DIR/upload.bin" "tftp://$LAB_SRV_IP/upload.bin"
check "TFTP upload into tftp-write: the same bytes" cmp "$LAB_DIR/upload.bin" "$UP/upload.bin"
api=$(in_cli timeout 10 curl -sS -f -H "$(lab_auth)" "http://$LAB_SRV_IP/api/v1/status")
check "the API answers (status)" grep -q '"version"' <<<"$api"

check "DHCP: a lease ACKed" dprobe_lease 52:54:00:5b:00:01
stored=$(sqlite3 -readonly "$LAB_DIR/state/pxed.db" "SELECT (address >> 24) || '.' ||
	((address >> 16) & 255) || '.' || ((address >> 8) & 255) || '.' || (address & 255)
	FROM leases WHERE hex(mac) = '5254005B0001';" 2>&1)
check "the lease is in the store (sqlite3: $stored)" same_value "$ADDR" "$stored"

mark=$(log_mark)
sed -i 's/^range = .*/range = 192.0.2.200 192.0.2.200/' "$CONF"   # a new file
kill -HUP "$PXED_PID"
check "SIGHUP: the replaced config file is read and applied" \
	wait_log "configuration reloaded: [1-9]" 10 "$mark"
dprobe_lease 52:54:00:5b:00:02
check "a new client gets the reloaded range's address ($ADDR)" [ "$ADDR" = 192.0.2.200 ]
denied=$(grep "denied system call" "$LAB_DIR/pxed.log" | grep -vE " (execve|clone|unshare) ")
echo "$denied" | sed 's/^/# /'
check "no other system call denied" [ -z "$denied" ]
check "pxed stops cleanly" pxed_stop
pxed_log_rotate

# --- the same calls without the sandbox: they work (the checks above can fail)
pxed_start --config "$CONF" --sandbox no || { not_ok "setup: pxed_start --sandbox no"; exit 1; }
mapfile -t cmds < <(str out "$OUTSIDE/secret.txt"; try_fd 'open($out, 0)'
	try 'syscall(272, 0)'; done_strs)
mapfile -t r < <(in_pxed "${cmds[@]}")
echo "# gdb: ${r[*]}"
check "with sandbox = no the same open() works" [ "${r[0]:--1}" -ge 0 ]
check "... and unshare(0) returns 0" [ "${r[2]}" = 0 ]
check "pxed (sandbox = no) stops cleanly" pxed_stop
check "sanitizer clean" pxed_log_clean
lab_finish
