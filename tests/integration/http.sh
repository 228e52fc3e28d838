#!/bin/bash
# HTTP with curl against pxed in a two-namespace lab: whole file, HEAD,
# ranges, conditional requests, 404, keep-alive, a 5 GiB sparse file.
LAB_ID=${LAB_ID:-ht$$}
source "$(dirname "$0")/../lib/lab.sh"
lab_plan 44

command -v curl >/dev/null || { echo "not ok - curl is not installed"; exit 1; }
lab_up || { echo "not ok - lab_up"; exit 1; }
OUT=$LAB_DIR/out
mkdir -p "$OUT"
URL=http://$LAB_SRV_IP

# hcurl ARGS...: curl in the client namespace, bounded.
hcurl() { timeout 60 ip netns exec "$LAB_CLI" curl -sS "$@"; }
# hdr NAME FILE: value of a response header (last response in FILE).
hdr() { tr -d '\r' <"$2" | awk -v n="$(echo "$1" | tr A-Z a-z)" -F': ' \
	'/^HTTP\// {v=""} tolower($1)==n {v=$2} END {print v}'; }
status() { tr -d '\r' <"$1" | awk '/^HTTP\// {s=$2} END {print s}'; }
eq() { [ "$1" = "$2" ] || { echo "# got '$1', expected '$2'"; return 1; }; }

make_file data.bin 1000000
SIZE=1000000
truncate -s 5G "$LAB_ROOT/sparse.bin"
chmod 644 "$LAB_ROOT/sparse.bin"

pxed_start || { echo "not ok - pxed_start"; exit 1; }

# --- whole file ---------------------------------------------------------
code=$(hcurl -D "$OUT/h1" -o "$OUT/whole" -w '%{http_code}' "$URL/data.bin")
check "GET whole file: 200" eq "$code" 200
check "GET whole file: byte-identical" cmp "$LAB_ROOT/data.bin" "$OUT/whole"
check "GET whole file: Content-Length $SIZE" eq "$(hdr Content-Length "$OUT/h1")" $SIZE
ETAG=$(hdr ETag "$OUT/h1")
LASTMOD=$(hdr Last-Modified "$OUT/h1")
check "GET whole file: has an ETag" [ -n "$ETAG" ]
check "GET whole file: has Last-Modified" [ -n "$LASTMOD" ]

# --- HEAD ---------------------------------------------------------------
# --head makes curl read no body; use a raw request too, so a body sent
# after a HEAD response would be seen.
code=$(hcurl --head -D "$OUT/h2" -o /dev/null -w '%{http_code}' "$URL/data.bin")
check "HEAD: 200" eq "$code" 200
check "HEAD: Content-Length $SIZE" eq "$(hdr Content-Length "$OUT/h2")" $SIZE
RAW=$(printf 'HEAD /data.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
	timeout 10 ip netns exec "$LAB_CLI" python3 -c '
import socket, sys
s = socket.create_connection(("'$LAB_SRV_IP'", 80), timeout=5)
s.sendall(sys.stdin.buffer.read())
d = b""
while True:
    try:
        b = s.recv(65536)
    except socket.timeout:
        break
    if not b:
        break
    d += b
sys.stdout.buffer.write(d)' | wc -c)
RAWHDR=$(printf 'HEAD /data.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
	timeout 10 ip netns exec "$LAB_CLI" python3 -c '
import socket, sys
s = socket.create_connection(("'$LAB_SRV_IP'", 80), timeout=5)
s.sendall(sys.stdin.buffer.read())
d = b""
while b"\r\n\r\n" not in d:
    b = s.recv(65536)
    if not b:
        break
    d += b
sys.stdout.buffer.write(d[:d.index(b"\r\n\r\n") + 4])' | wc -c)
check "HEAD: no body after the headers ($RAW bytes total, headers $RAWHDR)" \
	[ "$RAW" -gt 0 -a "$RAW" -eq "$RAWHDR" ]

# --- ranges ---------------------------------------------------------------
code=$(hcurl -D "$OUT/h3" -o "$OUT/r1" -w '%{http_code}' -H 'Range: bytes=100-199' "$URL/data.bin")
check "Range 100-199: 206" eq "$code" 206
check "Range 100-199: exactly 100 bytes" eq "$(stat -c %s "$OUT/r1")" 100
check "Range 100-199: the right bytes" cmp "$OUT/r1" <(tail -c +101 "$LAB_ROOT/data.bin" | head -c 100)
check "Range 100-199: Content-Range" eq "$(hdr Content-Range "$OUT/h3")" "bytes 100-199/$SIZE"
check "Range 100-199: Content-Length 100" eq "$(hdr Content-Length "$OUT/h3")" 100

code=$(hcurl -D "$OUT/h4" -o "$OUT/r2" -w '%{http_code}' -H 'Range: bytes=-50' "$URL/data.bin")
check "Range -50: 206" eq "$code" 206
check "Range -50: the last 50 bytes" cmp "$OUT/r2" <(tail -c 50 "$LAB_ROOT/data.bin")
check "Range -50: Content-Range" eq "$(hdr Content-Range "$OUT/h4")" "bytes $((SIZE - 50))-$((SIZE - 1))/$SIZE"

code=$(hcurl -D "$OUT/h4b" -o "$OUT/r2b" -w '%{http_code}' -H "Range: bytes=$((SIZE - 10))-" "$URL/data.bin")
check "Range N- (inside): 206" eq "$code" 206
check "Range N- (inside): the last 10 bytes" cmp "$OUT/r2b" <(tail -c 10 "$LAB_ROOT/data.bin")

code=$(hcurl -D "$OUT/h5" -o "$OUT/r3" -w '%{http_code}' -H "Range: bytes=$SIZE-" "$URL/data.bin")
check "Range $SIZE- (past the end): 416" eq "$code" 416
check "Range past the end: Content-Range bytes */$SIZE" eq "$(hdr Content-Range "$OUT/h5")" "bytes */$SIZE"
code=$(hcurl -o /dev/null -w '%{http_code}' -H "Range: bytes=$((SIZE + 5000))-" "$URL/data.bin")
check "Range far past the end: 416" eq "$code" 416

# --- conditional requests ---------------------------------------------------
# curl creates no output file for an empty body: count with size_download.
r=$(hcurl -D "$OUT/h6" -o "$OUT/c1" -w '%{http_code} %{size_download}' -H "If-None-Match: $ETAG" "$URL/data.bin")
check "If-None-Match with the ETag: 304" eq "${r% *}" 304
check "If-None-Match 304: no body" eq "${r#* }" 0
code=$(hcurl -o "$OUT/c2" -w '%{http_code}' -H 'If-None-Match: "not-the-etag"' "$URL/data.bin")
check "If-None-Match with another ETag: 200" eq "$code" 200
check "If-None-Match other ETag: byte-identical" cmp "$LAB_ROOT/data.bin" "$OUT/c2"
r=$(hcurl -o "$OUT/c3" -w '%{http_code} %{size_download}' -H "If-Modified-Since: $LASTMOD" "$URL/data.bin")
check "If-Modified-Since = Last-Modified: 304" eq "${r% *}" 304
check "If-Modified-Since 304: no body" eq "${r#* }" 0
code=$(hcurl -o "$OUT/c4" -w '%{http_code}' -H "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT" "$URL/data.bin")
check "If-Modified-Since in 2000: 200" eq "$code" 200
check "If-Modified-Since old: byte-identical" cmp "$LAB_ROOT/data.bin" "$OUT/c4"

# --- missing file -----------------------------------------------------------
code=$(hcurl -o /dev/null -w '%{http_code}' "$URL/no-such-file")
check "missing file: 404" eq "$code" 404
check "missing file: logged with the client address" \
	grep -qE "http $LAB_CLI_IP:[0-9]+ GET /no-such-file 404" "$LAB_DIR/pxed.log"

# --- keep-alive -------------------------------------------------------------
KA=$(hcurl -v -o "$OUT/k1" -o "$OUT/k2" "$URL/data.bin" "$URL/data.bin" 2>&1)
check "keep-alive: both downloads byte-identical" \
	bash -c "cmp '$LAB_ROOT/data.bin' '$OUT/k1' && cmp '$LAB_ROOT/data.bin' '$OUT/k2'"
check "keep-alive: curl re-used the connection" grep -q "Re-using existing connection" <<<"$KA"
check "keep-alive: one TCP connection" eq "$(grep -c 'Connected to' <<<"$KA")" 1

# --- 5 GiB sparse file --------------------------------------------------------
BIG=$((5 * 1024 * 1024 * 1024))
code=$(hcurl -D "$OUT/h7" -o "$OUT/s1" -w '%{http_code}' -H "Range: bytes=$((BIG - 100))-" "$URL/sparse.bin")
check "5 GiB sparse, Range 5G-100-: 206" eq "$code" 206
check "5 GiB sparse: 100 zero bytes" cmp "$OUT/s1" <(head -c 100 /dev/zero)
check "5 GiB sparse: Content-Range" eq "$(hdr Content-Range "$OUT/h7")" "bytes $((BIG - 100))-$((BIG - 1))/$BIG"
check "5 GiB sparse: Content-Length 100" eq "$(hdr Content-Length "$OUT/h7")" 100
code=$(hcurl --head -D "$OUT/h8" -o /dev/null -w '%{http_code}' "$URL/sparse.bin")
check "5 GiB sparse, HEAD: 200" eq "$code" 200
check "5 GiB sparse, HEAD: Content-Length $BIG" eq "$(hdr Content-Length "$OUT/h8")" $BIG
code=$(hcurl -D "$OUT/h9" -o "$OUT/s2" -w '%{http_code}' -H "Range: bytes=$((BIG - 4096 - 10))-$((BIG - 4096 + 9))" "$URL/sparse.bin")
check "5 GiB sparse, 20 bytes across a 4 KiB boundary near the end: 206" eq "$code" 206
check "5 GiB sparse, 20 bytes: zeros" cmp "$OUT/s2" <(head -c 20 /dev/zero)

# --- shutdown -----------------------------------------------------------------
pxed_stop
rc=$?
check "pxed stopped cleanly (exit $rc)" [ $rc -eq 0 ]
check "pxed log has no sanitizer report" pxed_log_clean
lab_finish
