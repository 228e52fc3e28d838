#!/bin/bash
# Slow HTTP clients (http/deadline.c): with http-header-timeout 3 and four
# connections allowed per address, four slowloris connections (headers a
# byte a second) are closed by pxed after 3 s (not the 60 s idle timeout,
# which they never reach), counted and logged once; their address can
# then be served again.  What is not cut: a keep-alive connection idle
# between two requests, a connection that sends nothing at first (idle:
# http-timeout's), and a download slower than the header timeout.
LAB_ID=${LAB_ID:-hs$$}
source "$(dirname "$0")/../lib/lab.sh"
lab_plan 10

lab_up || { not_ok "setup: lab_up"; exit 1; }
make_file f.bin 2000000
pxed_start --http-header-timeout 3 --http-max-per-ip 4 || { not_ok "setup: pxed_start"; exit 1; }
URL=http://$LAB_SRV_IP

# slowloris N SECONDS: N connections sending headers a byte a second;
# prints, per connection, the seconds after which pxed closed it (or
# "open" if it did not within SECONDS)
slowloris() {
	in_cli timeout $(($2 + 10)) python3 - "$LAB_SRV_IP" "$1" "$2" <<'PY'
import socket, sys, time
host, n, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
socks, t0 = [], time.monotonic()
for _ in range(n):
    s = socket.create_connection((host, 80), timeout=5)
    s.sendall(b"GET /f.bin HTTP/1.1\r\nHost: x\r\n")
    s.setblocking(False)
    socks.append(s)
closed = {}
while time.monotonic() - t0 < limit and len(closed) < n:
    for i, s in enumerate(socks):
        if i in closed:
            continue
        try:
            s.send(b"X")
            if s.recv(1) == b"":
                closed[i] = time.monotonic() - t0
        except BlockingIOError:
            pass
        except OSError:
            closed[i] = time.monotonic() - t0
    time.sleep(1)
for i in range(n):
    print("%.1f" % closed[i] if i in closed else "open")
PY
}
# all_by TIMES MAX: every line of TIMES is a number no larger than MAX
all_by() {
	[ -n "$1" ] && ! grep -qv '^[0-9.]*$' <<<"$1" &&
		awk -v m="$2" '$1 > m { bad = 1 } END { exit bad }' <<<"$1" ||
		{ echo "# $1"; return 1; }
}

mark=$(log_mark)
t=$(slowloris 4 20)
echo "# closed after: $(tr '\n' ' ' <<<"$t")"
check "four slowloris connections are closed within 3 s (+ the reaper's second)" all_by "$t" 5.5
n=$(in_cli curl -sS "$URL/metrics" | sed -n 's/^pxed_http_headers_slow_total \([0-9]*\)$/\1/p')
check "... counted" [ "${n:-0}" -ge 4 ]
check "... and summed up in one log line" \
	[ "$(log_since "$mark" | grep -c 'did not come in time')" -eq 1 ]
check "their address is served again" in_cli timeout 10 curl -sS -o "$LAB_DIR/got" "$URL/f.bin"
# keep-alive: two requests on one connection, 4 s apart (> the header
# timeout of a first request): both answered
out=$(in_cli timeout 20 python3 - "$LAB_SRV_IP" <<'PY'
import http.client, sys, time
c = http.client.HTTPConnection(sys.argv[1], 80, timeout=10)
c.request("GET", "/f.bin"); a = c.getresponse(); a.read()
time.sleep(4)
c.request("GET", "/f.bin"); b = c.getresponse(); b.read()
print(a.status, b.status)
PY
)
check "a keep-alive connection idle 4 s between two requests: both 200" [ "$out" = "200 200" ]
# a connection that sends nothing before its header deadline is idle, not
# slow (on a bad link its request may be lost again and again): it is not
# cut then, and its request, 5 s later, is answered; the slowloris ones
# above had sent bytes
out=$(in_cli timeout 20 python3 - "$LAB_SRV_IP" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=10)
time.sleep(5)
s.sendall(b"GET /f.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
print(s.recv(64).split(b"\r\n")[0].decode() or "closed")
PY
)
check "a connection silent 5 s past accept, then its request: answered ($out)" [ "$out" = "HTTP/1.1 200 OK" ]
# ... but one that then sends its headers a byte a second is cut: the
# header time counts from its first byte seen (seconds from it to the cut)
t=$(in_cli timeout 30 python3 - "$LAB_SRV_IP" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=10)
time.sleep(4)
s.setblocking(False)
t0 = time.monotonic()
for b in b"GET /f.bin HTTP/1.1\r\nHost: xxxxxxxxxxxxxxxxxx":
    try:
        s.send(bytes([b]))
        if s.recv(1) == b"":
            break
    except BlockingIOError:
        pass
    except OSError:
        break
    time.sleep(1)
else:
    print("open")
    sys.exit()
print("%.1f" % (time.monotonic() - t0))
PY
)
check "... and then trickles its headers: cut within 3 s of its first byte (+2 s of reaper rounds) ($t)" all_by "$t" 6
check "a download slower than the header timeout (2 MB at 300 kB/s) completes" \
	in_cli timeout 30 curl -sS --limit-rate 300k -o "$LAB_DIR/slow" "$URL/f.bin"
check "... byte-identical" cmp -s "$LAB_DIR/slow" "$LAB_ROOT/f.bin"
check "pxed stops cleanly" pxed_stop
lab_finish
