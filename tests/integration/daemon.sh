#!/bin/bash
# The daemon's behaviour: configuration (--check-config, file errors with
# FILE:LINE, flags over the file, --help), privilege drop, SIGHUP reload,
# SIGTERM/SIGINT during a transfer, and TFTP uploads (refused by default;
# --tftp-write: byte-identical, no overwrite, no leftovers when a client
# vanishes).  Needs root, ip(8), curl, atftp, tftp-hpa.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/lab.sh
lab_plan 62

P=$UDP_PROBE
CONF=$LAB_DIR/test.conf
RUNAS=$(lab_daemon_user)
RUNAS_UID=$(id -u "$RUNAS")

# stop_clean WHAT: stop pxed, check exit 0 and a clean log, set the log aside.
stop_clean() {
	check "$1: pxed stops with status 0" pxed_stop
	check "$1: no sanitizer report" pxed_log_clean
	pxed_log_rotate
}

# uid_is N: all four Uid fields of pxed's /proc status are N.
uid_is() {
	local line
	line=$(grep '^Uid:' "/proc/$PXED_PID/status")
	echo "# $line"
	[ "$(echo "$line" | awk '{ print $2 $3 $4 $5 }')" = "$1$1$1$1" ]
}

# config_fails NAME LINE CONTENT...: a file with CONTENT (one argument a
# line) is refused by --check-config with "FILE:LINE:".
config_fails() {
	local name=$1 line=$2 f=$LAB_DIR/$1.conf out rc
	shift 2
	printf '%s\n' "$@" >"$f"
	out=$(timeout 10 "$PXED" --config "$f" --check-config 2>&1)
	rc=$?
	echo "# $out"
	check "config with $name: exit status non-zero" [ "$rc" -ne 0 ]
	check "config with $name: message names $f:$line:" \
		grep -qF -- "$f:$line:" <<<"$out"
}

test_config() {
	local out rc
	out=$(timeout 10 "$PXED" --check-config 2>&1)
	rc=$?
	check "--check-config exits 0" [ "$rc" -eq 0 ]
	check "--check-config prints the effective config" \
		grep -qx "tftp-port = 69" <<<"$out"

	config_fails "an unknown key" 3 "# comment" "tftp-port = 69" "no-such-key = 1"
	config_fails "a bad number" 2 "" "tftp-window-max = 12x" "log-level = info"
	config_fails "a bad bool" 4 "root = /srv" "# x" "" "tftp-allow-fragments = maybe"

	printf 'tftp-port = 1069\n' >"$CONF"
	out=$(timeout 10 "$PXED" --config "$CONF" --check-config 2>&1)
	check "file value is printed (tftp-port = 1069)" grep -qx "tftp-port = 1069" <<<"$out"
	out=$(timeout 10 "$PXED" --config "$CONF" --tftp-port 2069 --check-config 2>&1)
	check "a flag overrides the file (tftp-port = 2069)" grep -qx "tftp-port = 2069" <<<"$out"

	local help missing=() name
	help=$(timeout 10 "$PXED" --help 2>&1)
	for name in $(sed -n 's/^[[:space:]]*S("\([a-z0-9-]*\)".*/\1/p' src/core/config.c); do
		grep -qE -- "--$name( |$)" <<<"$help" || missing+=("$name")
	done
	echo "# settings missing from --help: ${missing[*]:-none}"
	local nset
	nset=$(grep -c '^[[:space:]]*S("' src/core/config.c)
	check "--help lists all $nset settings of src/core/config.c" \
		[ "${#missing[@]}" -eq 0 -a "$nset" -gt 20 ]

	out=$(timeout 10 "$PXED" --config etc/pxed.conf --check-config 2>&1)
	rc=$?
	[ "$rc" -eq 0 ] || echo "# $out"
	check "etc/pxed.conf passes --check-config" [ "$rc" -eq 0 ]
}

test_privileges() {
	pxed_start || { not_ok "pxed starts (privilege drop)"; return; }
	check "without --user, pxed runs as $RUNAS (uid $RUNAS_UID)" uid_is "$RUNAS_UID"
	check "an ordinary download works after the drop" \
		in_cli timeout 20 curl -sf -o /dev/null "http://$LAB_SRV_IP/small.bin"
	stop_clean "privilege drop"

	pxed_start --user root || { not_ok "pxed starts (--user root)"; return; }
	check "with --user root, pxed stays root" uid_is 0
	check "with --user root, pxed logs a warning" \
		grep -qE "warn.*running as root" "$LAB_DIR/pxed.log"
	stop_clean "--user root"
}

# poke_debug: a malformed datagram, which pxed logs at debug level only.
poke_debug() {
	in_cli timeout 5 "$P" --to $LAB_SRV_IP:69 --hex 000100 --expect-replies 1 >/dev/null 2>&1
}

test_reload() {
	local mark
	printf 'log-level = info\n' >"$CONF"
	pxed_start_nolevel --config "$CONF" || { not_ok "pxed starts (reload)"; return; }
	in_cli timeout 20 atftp --option "windowsize 16" -g -r big.bin -l "$LAB_DIR/r0" \
		$LAB_SRV_IP >/dev/null 2>&1
	check "before reload: a malformed request is answered" poke_debug
	check "before reload: no debug lines (log-level info from the file)" \
		not grep -q " debug " "$LAB_DIR/pxed.log"
	check "before reload: atftp windowsize 16 gets window 16" \
		grep -qE "RRQ .*big.bin .* window 16" "$LAB_DIR/pxed.log"

	printf 'log-level = debug\ntftp-window-max = 4\n' >"$CONF"
	mark=$(log_mark)
	kill -HUP "$PXED_PID"
	check "SIGHUP: configuration reloaded" wait_log "configuration reloaded" 5 "$mark"
	mark=$(log_mark)
	in_cli timeout 20 atftp --option "windowsize 16" -g -r big.bin -l "$LAB_DIR/r1" \
		$LAB_SRV_IP >/dev/null 2>&1
	poke_debug
	check "after reload: atftp download is byte-identical" cmp -s "$LAB_DIR/r1" "$LAB_ROOT/big.bin"
	check "after reload: windowsize 16 is granted window 4" \
		wait_log "RRQ .*big.bin .* window 4" 5 "$mark"
	check "after reload: debug lines appear (log-level debug)" \
		wait_log " debug .*bad request" 5 "$mark"

	printf 'log-level = debug\ntftp-window-max = banana\n' >"$CONF"
	mark=$(log_mark)
	kill -HUP "$PXED_PID"
	check "SIGHUP with a broken file: reload refused" wait_log "reload refused" 5 "$mark"
	check "reload refused: message names the file and line" \
		wait_log "reload refused.*$CONF:2:" 1 "$mark"
	mark=$(log_mark)
	in_cli timeout 20 atftp --option "windowsize 16" -g -r big.bin -l "$LAB_DIR/r2" \
		$LAB_SRV_IP >/dev/null 2>&1
	check "after a refused reload: still serving" cmp -s "$LAB_DIR/r2" "$LAB_ROOT/big.bin"
	check "after a refused reload: old settings kept (window 4)" \
		wait_log "RRQ .*big.bin .* window 4" 5 "$mark"
	stop_clean "reload"
}

# stop_during_transfer SIGNAL: a client that never ACKs holds a session;
# the signal must end pxed promptly with status 0.
stop_during_transfer() {
	local sig=$1 probe t0 t1 rc
	pxed_start || { not_ok "pxed starts ($sig)"; return; }
	cli_bg timeout 30 "$P" --to $LAB_SRV_IP:69 --rrq big.bin --wait-ms 25000 \
		>"$LAB_DIR/slow.out" 2>&1
	probe=$BG_PID
	check "$sig: a slow client's transfer is active" wait_log "RRQ .*big.bin" 5
	sleep 0.5
	t0=$(date +%s%N)
	kill -"$sig" "$PXED_PID"
	timeout 10 bash -c "while kill -0 $PXED_PID 2>/dev/null; do sleep 0.05; done"
	wait "$PXED_PID"
	rc=$?
	t1=$(date +%s%N)
	echo "# $sig: exit status $rc after $(((t1 - t0) / 1000000)) ms"
	check "$sig during a transfer: exit status 0" [ "$rc" -eq 0 ]
	check "$sig during a transfer: exits in < 5 s" [ $(((t1 - t0) / 1000000)) -lt 5000 ]
	check "$sig during a transfer: no sanitizer report" pxed_log_clean
	kill "$probe" 2>/dev/null
	wait "$probe" 2>/dev/null
	pxed_log_rotate
}

# dir_holds_exactly DIR NAMES...: DIR holds exactly NAMES (no temporaries).
dir_holds_exactly() {
	local dir=$1 want got
	shift
	want=$(printf '%s\n' "$@" | sort)
	got=$(ls -A "$dir" | sort)
	echo "# $dir holds: $(echo $got)"
	[ "$want" = "$got" ]
}

test_uploads() {
	local out wdir=$LAB_DIR/incoming
	pxed_start || { not_ok "pxed starts (uploads disabled)"; return; }
	out=$(in_cli timeout 10 "$P" --to $LAB_SRV_IP:69 --wrq up.bin --expect-replies 1 2>&1)
	echo "$out" | sed 's/^/# /'
	check "WRQ without --tftp-write: ERROR 2" grep -q "tftp ERROR code=2" <<<"$out"
	out=$(cd "$LAB_DIR" && in_cli timeout 20 tftp $LAB_SRV_IP -m binary -c put up3m hpa.bin 2>&1)
	echo "# tftp-hpa: $out"
	check "tftp-hpa put without --tftp-write: refused (error code 2)" \
		grep -q "code 2" <<<"$out"
	stop_clean "uploads disabled"

	mkdir -p "$wdir"
	chown "$RUNAS:" "$wdir"
	chmod 755 "$wdir"
	pxed_start --tftp-write "$wdir" --tftp-session-timeout 2 --tftp-write-max-mb 4 ||
		{ not_ok "pxed starts (uploads)"; return; }
	(cd "$LAB_DIR" && in_cli timeout 60 tftp $LAB_SRV_IP -m binary -c put up3m hpa.bin)
	check "tftp-hpa put of 3 MiB lands byte-identical" cmp "$LAB_DIR/up3m" "$wdir/hpa.bin"
	in_cli timeout 60 atftp --option "blksize 1468" -p -l "$LAB_DIR/up3m" -r atftp.bin \
		$LAB_SRV_IP
	check "atftp -p of 3 MiB lands byte-identical" cmp "$LAB_DIR/up3m" "$wdir/atftp.bin"

	out=$(in_cli timeout 10 "$P" --to $LAB_SRV_IP:69 --wrq hpa.bin --expect-replies 1 2>&1)
	echo "$out" | sed 's/^/# /'
	check "WRQ for an existing name: ERROR 6" grep -q "tftp ERROR code=6" <<<"$out"
	in_cli timeout 20 atftp -p -l "$LAB_ROOT/small.bin" -r atftp.bin $LAB_SRV_IP >/dev/null 2>&1
	check "atftp put over an existing name fails" [ $? -ne 0 ]
	check "the existing file is unchanged" cmp "$LAB_DIR/up3m" "$wdir/atftp.bin"

	out=$(in_cli timeout 10 "$P" --to $LAB_SRV_IP:69 --wrq ../escape.bin --expect-replies 1 2>&1)
	echo "$out" | sed 's/^/# /'
	check "WRQ for ../escape.bin: refused with an ERROR" grep -q "^tftp ERROR" <<<"$out"
	check "WRQ for ../escape.bin: nothing written outside the directory" \
		[ ! -e "$LAB_DIR/escape.bin" ]
	out=$(in_cli timeout 10 "$P" --to $LAB_SRV_IP:69 --wrq big.bin --opt tsize=5242880 \
		--expect-replies 1 2>&1)
	echo "$out" | sed 's/^/# /'
	check "WRQ with tsize above tftp-write-max-mb: ERROR 3" grep -q "tftp ERROR code=3" <<<"$out"
	out=$(in_cli timeout 20 "$P" --to $LAB_SRV_IP:69 --wrq big5.bin --opt blksize=1468 \
		--upload "$LAB_DIR/up5m" --wait-ms 5000 2>&1)
	echo "$out" | grep -v "^from" | sed 's/^/# /'
	check "an upload growing past tftp-write-max-mb: ERROR 3" grep -q "tftp ERROR code=3" <<<"$out"
	check "an upload growing past tftp-write-max-mb: no file left" [ ! -e "$wdir/big5.bin" ]

	# Two clients race to create the same name: one file, wholly one of them.
	cli_bg timeout 20 "$P" --to $LAB_SRV_IP:69 --wrq race.bin --upload "$LAB_DIR/up3m" \
		--wait-ms 5000 >"$LAB_DIR/race1" 2>&1
	local r1=$BG_PID
	in_cli timeout 20 "$P" --to $LAB_SRV_IP:69 --wrq race.bin --upload "$LAB_ROOT/big.bin" \
		--wait-ms 5000 >"$LAB_DIR/race2" 2>&1
	wait "$r1"
	sed 's/^/# race: /' "$LAB_DIR/race1" "$LAB_DIR/race2" | grep -v "from "
	check "racing uploads of one name: the file is one of them, whole" \
		eval 'cmp -s "$wdir/race.bin" "$LAB_DIR/up3m" || cmp -s "$wdir/race.bin" "$LAB_ROOT/big.bin"'
	check "racing uploads of one name: exactly one completes" \
		[ "$(cat "$LAB_DIR/race1" "$LAB_DIR/race2" | grep -c "upload complete")" -eq 1 ]
	check "racing uploads of one name: the other gets ERROR 6" \
		grep -q "tftp ERROR code=6" "$LAB_DIR/race1" "$LAB_DIR/race2"

	out=$(in_cli timeout 10 "$P" --to $LAB_SRV_IP:69 --wrq part.bin --upload "$LAB_DIR/up3m" \
		--stop-after 20 2>&1)
	echo "$out" | sed 's/^/# /'
	grep -q "vanished after 20" <<<"$out" ||
		{ not_ok "setup: the probe did not vanish after 20 blocks of an upload"; exit 1; }
	check "the vanished upload is abandoned after the session timeout" \
		wait_log "upload part.bin abandoned" 10
	sleep 0.5
	check "no file and no temporary file left in the upload directory" \
		dir_holds_exactly "$wdir" atftp.bin hpa.bin race.bin
	stop_clean "uploads"
}

not() { ! "$@"; }

lab_up || { not_ok "lab set up"; lab_finish; }
make_file small.bin 1000
make_file big.bin 3000000
head -c $((3 * 1024 * 1024)) /dev/urandom >"$LAB_DIR/up3m"
head -c $((5 * 1024 * 1024)) /dev/urandom >"$LAB_DIR/up5m"
chmod 644 "$LAB_DIR/up3m" "$LAB_DIR/up5m"

test_config
test_privileges
test_reload
stop_during_transfer TERM
stop_during_transfer INT
test_uploads
lab_finish
