#!/bin/bash
# Path handling over TFTP (curl, tftp-hpa) and HTTP (curl --path-as-is):
# traversal, symlinks escaping the root, control bytes, Windows paths
# (backslashes, case), and the absolute root prefix.
LAB_ID=${LAB_ID:-pa$$}
source "$(dirname "$0")/../lib/lab.sh"
lab_plan 170

for tool in curl tftp; do
	command -v $tool >/dev/null || { echo "not ok - $tool is not installed"; exit 1; }
done
lab_up || { echo "not ok - lab_up"; exit 1; }
OUT=$LAB_DIR/out
mkdir -p "$OUT"

mark_log() { MARK_LINE=$(wc -l <"$LAB_DIR/pxed.log"); }
log_after_mark() { tail -n +$((MARK_LINE + 1)) "$LAB_DIR/pxed.log"; }
# log_has_any PREFIX ALTERNATIVE...: some line after the mark contains
# PREFIX and one of the ALTERNATIVEs (fixed strings)
log_has_any() {
	local prefix=$1 i a alts=()
	shift
	for a in "$@"; do alts+=(-e "$a"); done
	for ((i = 0; i < 30; i++)); do
		log_after_mark | grep -F -- "$prefix" | grep -qF "${alts[@]}" && return 0
		sleep 0.1
	done
	echo "# no log line after the mark contains $prefix and one of: $*"
	log_after_mark | sed 's/^/#   /' | tail -5
	return 1
}
# tftp_refusal_logged SHOWN: pxed logged the client's RRQ of SHOWN as refused:
# "RRQ NAME refused: why" (access) or "RRQ NAME: why" (not found), never the
# "RRQ PATH octet (N bytes) ..." of a file it serves
tftp_refusal_logged() {
	log_has_any "tftp $LAB_CLI_IP:" "RRQ $1 refused: " "RRQ $1: "
}
# http_refusal_logged PATH CODES...: pxed logged "GET /PATH CODE" with one of CODES
http_refusal_logged() {
	local path=$1 c alts=()
	shift
	for c in "$@"; do alts+=("GET /$path $c "); done
	log_has_any "http $LAB_CLI_IP:" "${alts[@]}"
}
# printable NAME: how pxed's log shows a name (control bytes and the
# backslash as \xNN)
printable() { python3 -c 'import sys; print("".join(c if 32 <= ord(c) < 127 and c != "\\" else "\\x%02x" % ord(c) for c in sys.argv[1]))' "$1"; }

# --- TFTP clients ---------------------------------------------------------
# tftp_curl NAME OUT: curl's exit status (68 = TFTP "file not found",
# 69 = "access violation", see curl's tftp.c error mapping).
tftp_curl() {
	rm -f "$2"
	timeout 30 ip netns exec "$LAB_CLI" curl -s --path-as-is -o "$2" "tftp://$LAB_SRV_IP/$1"
}
# tftp_hpa NAME OUT: sets HPA_ERR to the TFTP error code tftp-hpa printed
# ("Error code N: ..."), empty if none.
tftp_hpa() {
	rm -f "$2"
	HPA_OUT=$( (cd "$LAB_DIR" && timeout 30 ip netns exec "$LAB_CLI" tftp -m binary $LAB_SRV_IP -c get "$1" "$2") 2>&1)
	HPA_ERR=$(sed -n 's/.*Error code \([0-9]*\):.*/\1/p' <<<"$HPA_OUT" | head -1)
}
http_code() {  # PATH OUT
	rm -f "$2"
	timeout 30 ip netns exec "$LAB_CLI" curl -s --path-as-is -o "$2" -w '%{http_code}' "http://$LAB_SRV_IP/$1"
}
in_set() { local v=$1; shift; local x; for x in "$@"; do [ "$v" = "$x" ] && return 0; done; echo "# got '$v', expected one of: $*"; return 1; }
not_served() { ! [ -s "$1" ] || ! cmp -s "$1" "$2"; }   # OUT SECRET

# --- the root -------------------------------------------------------------
make_file a.bin 2000
mkdir -p "$LAB_ROOT/Boot" "$LAB_ROOT/sources" "$LAB_ROOT/sub" "$LAB_ROOT/pxelinux.cfg"
make_file Boot/BCD 3000
make_file sources/boot.wim 5000
echo lower >"$LAB_ROOT/pxelinux.cfg/default"
echo upper >"$LAB_ROOT/pxelinux.cfg/DEFAULT"
chmod -R a+rX "$LAB_ROOT"
# A secret outside the root, a sibling directory whose name has the root's
# name as a prefix, and links out of the root.
echo "outside secret $$" >"$LAB_DIR/secret"
mkdir -p "${LAB_ROOT}x"
echo "sibling secret $$" >"${LAB_ROOT}x/secret"
chmod -R a+rX "${LAB_ROOT}x" "$LAB_DIR/secret"
ln -s /etc/passwd "$LAB_ROOT/pw"
ln -s "$LAB_DIR" "$LAB_ROOT/up"                 # up/secret escapes
ln -s ../secret "$LAB_ROOT/rel"                 # relative link escaping
CTRL=$(printf 'c\001d')
echo ctrl >"$LAB_ROOT/$CTRL"
chmod 644 "$LAB_ROOT/$CTRL"

pxed_start || { echo "not ok - pxed_start"; exit 1; }

# refused NAME SECRET TFTP_CODES HTTP_PATH HTTP_CODES [CURL_NAME]: one name,
# both TFTP clients and HTTP.  TFTP_CODES: allowed TFTP error codes.
# CURL_NAME: the name as a URL path for curl (default NAME).
refused() {
	local name=$1 secret=$2 codes=$3 hpath=$4 hcodes=$5 cname=${6:-$1} c rc shown d
	shown=$(printable "$name")   # as in pxed's log
	d=$(printf '%s' "$name" | cat -v)   # for the test descriptions
	local curl_codes=()
	for c in $codes; do
		case $c in 1) curl_codes+=(68) ;; 2) curl_codes+=(69) ;; esac
	done
	mark_log
	tftp_curl "$cname" "$OUT/r"
	rc=$?
	check "tftp curl '$d': refused (curl exit $rc, want ${curl_codes[*]})" in_set "$rc" "${curl_codes[@]}"
	check "tftp curl '$d': nothing of the target served" not_served "$OUT/r" "$secret"
	check "tftp curl '$d': pxed logs the refusal with the client address" \
		tftp_refusal_logged "$shown"
	mark_log
	tftp_hpa "$name" "$OUT/r"
	check "tftp-hpa '$d': TFTP error ${HPA_ERR:-none} (want $codes)" in_set "$HPA_ERR" $codes
	check "tftp-hpa '$d': nothing of the target served" not_served "$OUT/r" "$secret"
	check "tftp-hpa '$d': pxed logs the refusal with the client address" \
		tftp_refusal_logged "$shown"
	if [ -n "$hpath" ]; then
		mark_log
		c=$(http_code "$hpath" "$OUT/r")
		check "http '$hpath': status $c (want $hcodes)" in_set "$c" $hcodes
		check "http '$hpath': nothing of the target served" not_served "$OUT/r" "$secret"
		check "http '$hpath': pxed logs the refusal ($hcodes) with the client address" \
			http_refusal_logged "$hpath" $hcodes
	fi
}

# --- traversal: access violation (2) / 403 ---------------------------------
refused "../etc/passwd" /etc/passwd 2 "../etc/passwd" 403
refused "/../../etc/passwd" /etc/passwd 2 "/../../etc/passwd" 403
refused "a/../../x" /etc/passwd 2 "a/../../x" 403
refused "../secret" "$LAB_DIR/secret" 2 "../secret" 403
refused "..\\secret" "$LAB_DIR/secret" 2 "..%5csecret" 403
refused "\\..\\..\\etc\\passwd" /etc/passwd 2 "%5c..%5c..%5cetc%5cpasswd" 403
refused "Boot/../../secret" "$LAB_DIR/secret" 2 "Boot/../../secret" 403
for p in "%2e%2e/etc/passwd" "%2e%2e%2fetc%2fpasswd" "%2E%2E/%2E%2E/etc/passwd" ".%2e/secret"; do
	mark_log
	c=$(http_code "$p" "$OUT/r")
	check "http '$p': status $c (want 403 or 404)" in_set "$c" 403 404
	check "http '$p': nothing of the target served" not_served "$OUT/r" /etc/passwd
	check "http '$p': nothing of the secret served" not_served "$OUT/r" "$LAB_DIR/secret"
	check "http '$p': pxed logs the refusal (403 or 404) with the client address" \
		http_refusal_logged "$p" 403 404
done

# --- symlinks leaving the root: 1 or 2 / 403 or 404 -------------------------
refused "pw" /etc/passwd "1 2" "pw" "403 404"
refused "up/secret" "$LAB_DIR/secret" "1 2" "up/secret" "403 404"
refused "rel" "$LAB_DIR/secret" "1 2" "rel" "403 404"

# --- a control byte in the name ------------------------------------------------
refused "$CTRL" "$LAB_ROOT/$CTRL" "1 2" "c%01d" "400 403 404" "c%01d"

# --- absolute paths --------------------------------------------------------------
# The root's own absolute path as a prefix is stripped ...
for client in curl hpa; do
	if [ $client = curl ]; then tftp_curl "$LAB_ROOT/a.bin" "$OUT/abs"; else tftp_hpa "$LAB_ROOT/a.bin" "$OUT/abs"; fi
	check "tftp $client '$LAB_ROOT/a.bin' served as a.bin" cmp "$LAB_ROOT/a.bin" "$OUT/abs"
done
# ... but only as a whole path component; other absolute paths are
# relative to the root.
refused "${LAB_ROOT}x/secret" "${LAB_ROOT}x/secret" "1 2" "" ""
refused "/etc/passwd" /etc/passwd "1 2" "" ""
refused "$LAB_DIR/secret" "$LAB_DIR/secret" "1 2" "" ""

# --- Windows names ---------------------------------------------------------------
win_ok() {  # NAME FILE
	local shown=$1
	tftp_curl "$1" "$OUT/w"
	check "tftp curl '$shown' serves $2" cmp "$LAB_ROOT/$2" "$OUT/w"
	tftp_hpa "$1" "$OUT/w"
	check "tftp-hpa '$shown' serves $2" cmp "$LAB_ROOT/$2" "$OUT/w"
}
win_ok '\Boot\BCD' Boot/BCD
win_ok '/boot/bcd' Boot/BCD
win_ok 'BOOT\bcd' Boot/BCD
win_ok 'boot/BCD' Boot/BCD
win_ok '\sources\boot.wim' sources/boot.wim
win_ok '\SOURCES\BOOT.WIM' sources/boot.wim
win_ok 'sources\boot.wim' sources/boot.wim
# An exact match wins over the case-insensitive one.
win_ok 'pxelinux.cfg/DEFAULT' pxelinux.cfg/DEFAULT
win_ok 'pxelinux.cfg\default' pxelinux.cfg/default
c=$(http_code '%5cBoot%5cBCD' "$OUT/w")
check "http '%5cBoot%5cBCD': 200" [ "$c" = 200 ]
check "http '%5cBoot%5cBCD': serves Boot/BCD" cmp "$LAB_ROOT/Boot/BCD" "$OUT/w"

pxed_stop
rc=$?
check "pxed stopped cleanly (exit $rc)" [ $rc -eq 0 ]

# --- without the case fallback ---------------------------------------------------
pxed_start --tftp-case-fallback=no || { echo "not ok - pxed_start --tftp-case-fallback=no"; exit 1; }
win_ok '\Boot\BCD' Boot/BCD
win_ok '\sources\boot.wim' sources/boot.wim
win_ok 'pxelinux.cfg/DEFAULT' pxelinux.cfg/DEFAULT
for name in '/boot/bcd' 'BOOT\bcd' '\SOURCES\BOOT.WIM'; do
	tftp_curl "$name" "$OUT/w"
	rc=$?
	check "no fallback: tftp curl '$name' is not found (curl exit $rc, want 68)" [ $rc -eq 68 ]
	tftp_hpa "$name" "$OUT/w"
	check "no fallback: tftp-hpa '$name': TFTP error ${HPA_ERR:-none} (want 1)" [ "$HPA_ERR" = 1 ]
done

pxed_stop
rc=$?
check "pxed stopped cleanly after the second run (exit $rc)" [ $rc -eq 0 ]
check "pxed log has no sanitizer report" pxed_log_clean
lab_finish
