#!/bin/bash
# The API document (GET /api/v1/openapi.json, made from the server's route
# tables) against what the server answers: tests/lib/api_contract.py drives
# every operation to every status the document promises (without DHCP and
# with metrics-auth = read for the subnets' 409 and the counters' 401, and
# no clamav-db-dir for the scan database's 404;
# with HTTPS on for the 403 of every read and change over plain HTTP; then
# with DHCP and the image repository on a 4 MiB tmpfs for the 507s),
# and fails on a documented status never answered or an answer not
# documented, or on an error answer that is not JSON {"error", "code"}
# with its status's code.
LAB_ID=${LAB_ID:-ct$$}
source "$(dirname "$0")/../lib/lab.sh"
lab_plan 9

lab_up || { not_ok "setup: lab_up"; exit 1; }
OUT=$LAB_DIR/out
mkdir -p "$OUT" "$LAB_DIR/img"
URL=http://$LAB_SRV_IP
# a second address on the client side: a task token used from it is refused
lab_add_client_ip 192.0.2.3 || { not_ok "setup: a second client address"; exit 1; }
drive() { in_cli env API_CONTRACT_OTHER_ADDR=192.0.2.3 timeout 300 \
	python3 tests/lib/api_contract.py drive "$1" "$URL" \
	"$LAB_DIR/state/api-token" "$OUT/answers" "$LAB_DIR"; }

pxed_start --metrics-auth read --clamav-db-dir "$LAB_DIR/no-clamdb" ||
	{ not_ok "setup: pxed_start"; exit 1; }
check "phase 1 (no DHCP, metrics-auth = read, no clamav-db-dir) driven" drive off
pxed_stop
check "pxed stopped cleanly" pxed_log_clean
pxed_log_rotate
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=pxed" -keyout "$LAB_DIR/key.pem" \
	-out "$LAB_DIR/cert.pem" 2>/dev/null || { not_ok "setup: certificate"; exit 1; }
pxed_start --https-port 443 --tls-cert "$LAB_DIR/cert.pem" --tls-key "$LAB_DIR/key.pem" ||
	{ not_ok "setup: pxed_start"; exit 1; }
check "phase 2 (HTTPS on: plain HTTP refused) driven" drive tls
pxed_stop
check "pxed stopped cleanly" pxed_log_clean
pxed_log_rotate

mount -t tmpfs -o size=4m tmpfs "$LAB_DIR/img" || { not_ok "setup: tmpfs"; exit 1; }
LAB_CLEANUPS+=("umount '$LAB_DIR/img'")
cat >"$LAB_DIR/pxed.conf" <<CONF
[subnet 192.0.2.0/24]
range = 192.0.2.100 192.0.2.150
[environment broken]
kernel = missing/vmlinuz
CONF
mkdir -p "$LAB_DIR/clamdb" && echo "44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test" \
	>"$LAB_DIR/clamdb/contract.hdb" || { not_ok "setup: clamav-db-dir"; exit 1; }
pxed_start --config "$LAB_DIR/pxed.conf" --image-dir "$LAB_DIR/img" \
	--clamav-db-dir "$LAB_DIR/clamdb" ||
	{ not_ok "setup: pxed_start"; exit 1; }
in_cli timeout 10 curl -sS "$URL/api/v1/openapi.json" >"$OUT/openapi.json"
check "the document is OpenAPI 3.1 with a summary for every operation" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["openapi"] == "3.1.0"
ops = [op for item in d["paths"].values() for op in item.values()]
assert len(ops) > 40 and all(op["summary"] for op in ops), "a summary is missing"
' "$OUT/openapi.json"
check "phase 3 (DHCP, a small image repository) driven" drive main
out=$(python3 tests/lib/api_contract.py check "$OUT/openapi.json" "$OUT/answers")
rc=$?
echo "$out"
check "every documented status was answered, and every answer is documented" [ "$rc" -eq 0 ]
out=$(python3 tests/lib/api_contract.py errors "$OUT/answers.errors")
rc=$?
echo "$out"
check "every error answer is JSON {error, code} with the stable code of its status" [ "$rc" -eq 0 ]
pxed_stop
check "pxed stopped cleanly" pxed_log_clean
lab_finish
