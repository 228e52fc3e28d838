#!/bin/bash
# log-format = json: pxed (debug level) serves DHCP (dhcp-probe), TFTP
# (curl, a missing file, a request whose name holds a quote, a backslash
# and control bytes), HTTP (a file and the API); then every line of its log is parsed by python3's json module:
# one object each, with time, level and message (and peer, mac); the DHCP
# lines carry the client's address and MAC, the TFTP and HTTP lines its
# address, and the message names them as the text format does.  A reload
# (SIGHUP) with log-format = text switches the lines back to text.
LAB_ID=${LAB_ID:-lj$$}
source "$(dirname "$0")/../lib/lab.sh"
lab_plan 8

lab_up || { echo "not ok - setup: lab_up"; exit 1; }
MAC=52:54:00:dd:00:01
CONF=$LAB_DIR/pxed.conf
printf 'log-format = json\ndhcp-range = 192.0.2.100,192.0.2.150\nboot = bios=boot.bin\n' \
	>"$CONF" || { not_ok "setup: config"; exit 1; }
make_file boot.bin 70000
make_file 'q"uote.bin' 100
# pxed_start waits for "serving" in the log; a JSON line has it too
pxed_start --config "$CONF" || { not_ok "setup: pxed_start"; exit 1; }

# --- traffic -----------------------------------------------------------------
dhcp=$(in_cli timeout 10 build/tools/dhcp-probe --iface c0 --to 255.255.255.255:67 \
	--broadcast --mac "$MAC" --vendor PXEClient:Arch:00000:UNDI:002001 --arch 0 \
	--expect-replies 1 --wait-ms 3000)
grep -q "type=OFFER" <<<"$dhcp" || { not_ok "setup: a DHCP OFFER"; exit 1; }
in_cli timeout 10 curl -sf -o /dev/null "tftp://$LAB_SRV_IP/boot.bin" ||
	{ not_ok "setup: TFTP download"; exit 1; }
in_cli timeout 10 curl -s -o /dev/null "tftp://$LAB_SRV_IP/missing.bin"
# RRQ a"b\<SOH><ESC>c: not found, its name escaped in the message
in_cli timeout 5 "$UDP_PROBE" --to "$LAB_SRV_IP:69" --hex 00016122625c011b63006f6374657400 \
	--wait-ms 500 >/dev/null
in_cli timeout 10 curl -s -o /dev/null "http://$LAB_SRV_IP/q%22uote.bin"
in_cli timeout 10 curl -s -o /dev/null "http://$LAB_SRV_IP/api/v1/status"
sleep 0.7       # boot events are written every 500 ms

# --- reload to text ---------------------------------------------------------------
sed -i 's/^log-format = json/log-format = text/' "$CONF"
mark=$(log_mark)
kill -HUP "$PXED_PID"
wait_log "configuration reloaded" 5 "$mark" || { not_ok "setup: reload"; exit 1; }
# the reload's own lines (each change) are written before the format switches
lines_json=$(($(grep -n "configuration reloaded" "$LAB_DIR/pxed.log" | tail -1 | cut -d: -f1) - 1))
in_cli timeout 10 curl -sf -o /dev/null "http://$LAB_SRV_IP/boot.bin"
sleep 0.3
pxed_stop
check "pxed stops cleanly" pxed_log_clean

# --- every JSON line parsed -------------------------------------------------------
head -n "$lines_json" "$LAB_DIR/pxed.log" >"$LAB_DIR/json.log"
tail -n +"$((lines_json + 1))" "$LAB_DIR/pxed.log" >"$LAB_DIR/after.log"
report=$(python3 - "$LAB_DIR/json.log" "$MAC" "$LAB_CLI_IP" <<'PY'
import json, re, sys
path, mac, cli = sys.argv[1], sys.argv[2], sys.argv[3]
bad, n, counts = [], 0, {"dhcp": 0, "tftp": 0, "http": 0, "escaped": 0}
for line in open(path, encoding="utf-8"):
    n += 1
    try:
        v = json.loads(line)
    except ValueError as e:
        bad.append("not JSON: %r (%s)" % (line, e)); continue
    if not isinstance(v, dict) or not set(v) <= {"time", "level", "message", "peer", "mac"} \
            or not {"time", "level", "message"} <= set(v) \
            or not all(isinstance(x, str) for x in v.values()):
        bad.append("fields: %r" % line); continue
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", v["time"]) \
            or v["level"] not in ("error", "warn", "info", "debug"):
        bad.append("time or level: %r" % line); continue
    m = v["message"]
    # a line about the client counts when its fields name it; one that
    # does not is listed, and the count falls short
    if m.startswith("dhcp %s:68 %s: " % (cli, mac)):
        if v.get("peer") == cli + ":68" and v.get("mac") == mac:
            counts["dhcp"] += 1
        else:
            print("# dhcp fields: %r" % line)
    t = re.match(r"(tftp|http) (%s:\d+)[: ]" % re.escape(cli), m)
    if t:
        if v.get("peer") == t.group(2) and "mac" not in v:
            counts[t.group(1)] += 1
        else:
            print("# %s fields: %r" % (t.group(1), line))
    if 'a"b\\x5c\\x01\\x1bc' in m:
        counts["escaped"] += 1
print("lines=%d dhcp=%d tftp=%d http=%d escaped=%d bad=%d"
      % (n, counts["dhcp"], counts["tftp"], counts["http"], counts["escaped"], len(bad)))
for b in bad[:10]:
    print("# " + b)
PY
)
echo "# $report"
val() { sed -n "s/.* $1=\([0-9]*\).*/\1/p; s/^$1=\([0-9]*\).*/\1/p" <<<"$report" | head -1; }
check "json: every line of the log is one JSON object (time, level, message)" \
	sh -c "[ $(val lines) -gt 10 ] && [ $(val bad) -eq 0 ]"
check "json: DHCP lines carry the client's peer address and MAC" [ "$(val dhcp)" -ge 2 ]
check "json: TFTP lines carry the client's address (no MAC)" [ "$(val tftp)" -ge 3 ]
check "json: HTTP lines carry the client's address" [ "$(val http)" -ge 2 ]
check "json: a TFTP name's quote kept, backslash and control bytes escaped as in text" \
	[ "$(val escaped)" -ge 1 ]
check "after the reload (log-format = text): text lines again" \
	grep -qE "^[0-9:.]+ info  http $LAB_CLI_IP:[0-9]+ GET /boot.bin 200 70000$" "$LAB_DIR/after.log"
check "after the reload: no JSON line" sh -c "! grep -q '^{' '$LAB_DIR/after.log'"
lab_finish
