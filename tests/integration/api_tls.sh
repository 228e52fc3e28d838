#!/bin/bash
# HTTPS for the API and the console (https-port, tls-cert, tls-key): the
# API and the console over TLS with a certificate the client checks
# (curl --cacert, pxectl --cacert); reads and changes refused over plain
# HTTP from the network (403) but not from the server itself; the console
# redirected to HTTPS; what firmware and agents use (boot files, boot
# scripts, the agent's endpoints) still over plain HTTP, but the agent is
# sent to HTTPS with the key's pin (pxed.pin=) and an agent given another
# pin stops at the handshake; a bad key stops pxed at start with a clear
# message.
LAB_ID=${LAB_ID:-tl$$}
source "$(dirname "$0")/../lib/lab.sh"
source "$(dirname "$0")/../lib/api.sh"
lab_plan 21

lab_up || { not_ok "setup: lab_up"; exit 1; }
OUT=$LAB_DIR/out
mkdir -p "$OUT" "$LAB_DIR/ui"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=192.0.2.1" \
	-addext "subjectAltName=IP:192.0.2.1,IP:127.0.0.1" \
	-keyout "$LAB_DIR/key.pem" -out "$LAB_DIR/cert.pem" 2>/dev/null ||
	{ not_ok "setup: certificate"; exit 1; }
chmod 600 "$LAB_DIR/key.pem"
echo '<!doctype html><title>pxed</title>' >"$LAB_DIR/ui/index.html"
chmod -R a+rX "$LAB_DIR/ui"
make_file boot.efi 1000
HTTPS=https://$LAB_SRV_IP
code() {   # the HTTP status of a curl
	in_cli timeout 10 curl -sS -o /dev/null -w '%{http_code}' "$@"
}

pxed_start --https-port 443 --tls-cert "$LAB_DIR/cert.pem" --tls-key "$LAB_DIR/key.pem" \
	--ui-dir "$LAB_DIR/ui" || { not_ok "setup: pxed_start"; exit 1; }
TOKEN=$(cat "$LAB_DIR/state/api-token")
AUTH="Authorization: Bearer $TOKEN"
check "over HTTPS with the certificate checked: GET /api/v1/hosts 200" \
	eq "$(code --cacert "$LAB_DIR/cert.pem" -H "$AUTH" "$HTTPS/api/v1/hosts")" 200
check "a client that does not trust the certificate fails the handshake" \
	sh -c "! ip netns exec $LAB_CLI curl -sS -o /dev/null '$HTTPS/api/v1/status' 2>/dev/null"
check "pxectl --cacert over HTTPS" ip netns exec "$LAB_CLI" timeout 20 "$PXECTL" \
	--server "$HTTPS" --cacert "$LAB_DIR/cert.pem" --token "$TOKEN" host add 52:54:00:dd:00:01 t1
check "over plain HTTP from the network: the same read 403" \
	eq "$(code -H "$AUTH" "http://$LAB_SRV_IP/api/v1/hosts")" 403
check "... saying HTTPS" has "$(in_cli curl -sS -H "$AUTH" "http://$LAB_SRV_IP/api/v1/hosts")" \
	"HTTPS only (port 443)"
check "... a change too: 403" eq "$(code -H "$AUTH" -d '{"mac":"52:54:00:dd:00:02"}' \
	"http://$LAB_SRV_IP/api/v1/hosts")" 403
check "over plain HTTP from the server itself (pxectl on the machine): 200" \
	eq "$(in_srv timeout 10 curl -sS -o /dev/null -w '%{http_code}' -H "$AUTH" \
	"http://$LAB_SRV_IP/api/v1/hosts")" 200
check "the console over plain HTTP: 301 to HTTPS" \
	has "$(in_cli curl -sS -D - -o /dev/null "http://$LAB_SRV_IP/ui/")" \
	"Location: https://192.0.2.1:443/ui"
check "the console over HTTPS: 200" eq "$(code --cacert "$LAB_DIR/cert.pem" "$HTTPS/ui/")" 200
check "a boot file over plain HTTP still: 200" eq "$(code "http://$LAB_SRV_IP/boot.efi")" 200
check "the boot script over plain HTTP still: 200" \
	eq "$(code "http://$LAB_SRV_IP/api/v1/boot/52-54-00-dd-00-01.ipxe")" 200
ctl() { in_srv timeout 30 "$PXECTL" --server "http://$LAB_SRV_IP" --token "$TOKEN" "$@"; }
ctl task shell t1 >/dev/null
T=$(in_cli curl -sS "http://$LAB_SRV_IP/api/v1/boot/52-54-00-dd-00-01.ipxe" |
	sed -n 's/.*pxed\.token=\([0-9a-f]*\).*/\1/p')
check "the agent's endpoints over plain HTTP still: 200" \
	eq "$(code -H "Authorization: Bearer $T" "http://$LAB_SRV_IP/api/v1/agent/task")" 200
# The agent goes to HTTPS and checks the server's key: pxed.pin= is the
# SHA-256 of the certificate's public key, as openssl computes it
pin_of() {
	openssl x509 -pubkey -noout -in "$1" | openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | base64
}
PIN="sha256//$(pin_of "$LAB_DIR/cert.pem")"
SCRIPT=$(in_cli curl -sS "http://$LAB_SRV_IP/api/v1/boot/52-54-00-dd-00-01.ipxe")
ID=$(sed -n 's/.*pxed\.task=\([0-9]*\).*/\1/p' <<<"$SCRIPT")
check "the agent is sent to HTTPS: pxed.server=https://192.0.2.1" has "$SCRIPT" \
	"pxed.server=https://192.0.2.1 "
check "... with the key's pin, as openssl computes it" has "$SCRIPT" "pxed.pin=$PIN "
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=192.0.2.1" \
	-keyout "$LAB_DIR/other.key" -out "$LAB_DIR/other.pem" 2>/dev/null ||
	{ not_ok "setup: another certificate"; exit 1; }
AGENT=${PXE_AGENT:-build/asan/pxe-agent}
agent() {
	in_cli timeout 60 "$AGENT" --server "$HTTPS" --token "$T" --task "$ID" --retry-for 5 \
		--pin "$1" >"$LAB_DIR/agent.out" 2>&1
}
task_state() { json "/api/v1/tasks/$ID" '["state"]' 2>/dev/null; }
json() { in_srv timeout 10 curl -sS -H "$AUTH" "http://$LAB_SRV_IP$1" | python3 -c "import json,sys; v=json.load(sys.stdin); print(v$2)"; }
before=$(task_state)
agent_fails() { ! agent "$1"; }
check "an agent given another key's pin fails" \
	agent_fails "sha256//$(pin_of "$LAB_DIR/other.pem")"
check "... at the handshake, naming the pinned key" \
	grep -qi "pinned public key" "$LAB_DIR/agent.out"
check "... and the task is as it was ($before)" eq "$(task_state)" "$before"
check "the agent with the right pin runs its shell task over HTTPS" agent "$PIN"
check "... the task is done" eq "$(task_state)" done
pxed_stop
check "pxed stopped cleanly" pxed_log_clean
pxed_log_rotate
head -c 300 /dev/urandom >"$LAB_DIR/bad.pem"
pxed_start --https-port 443 --tls-cert "$LAB_DIR/cert.pem" --tls-key "$LAB_DIR/bad.pem" \
	>/dev/null 2>&1
check "a key that is not PEM: pxed does not start, and says why" \
	grep -q "https: cannot start" "$LAB_DIR/pxed.log"
lab_finish
