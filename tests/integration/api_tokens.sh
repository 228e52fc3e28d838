#!/bin/bash
# API tokens and their scopes: pxectl token create/list/revoke; a read
# token reads everything and changes nothing (403), no token reads nothing
# (401) but what a booting machine needs (boot scripts, boot files, the
# agent's endpoints with a task token); a revoked token is refused at once;
# tokens are stored hashed; /metrics and /api/v1/status follow metrics-auth.
LAB_ID=${LAB_ID:-at$$}
source "$(dirname "$0")/../lib/lab.sh"
source "$(dirname "$0")/../lib/api.sh"
lab_plan 36

lab_up || { not_ok "setup: lab_up"; exit 1; }
OUT=$LAB_DIR/out
mkdir -p "$OUT"
# get PATH [TOKEN]: the HTTP status of a GET
get() {
	local auth=()
	[ -n "${2:-}" ] && auth=(-H "Authorization: Bearer $2")
	in_cli timeout 10 curl -sS -o /dev/null -w '%{http_code}' "${auth[@]}" "$URL$1"
}
# send METHOD PATH TOKEN BODY: the HTTP status
send() {
	in_cli timeout 10 curl -sS -o "$OUT/body" -w '%{http_code}' -X "$1" \
		-H "Authorization: Bearer $3" -d "$4" "$URL$2"
}

make_file boot.ipxe 100
pxed_start || { not_ok "setup: pxed_start"; exit 1; }
ADMIN=$(cat "$LAB_DIR/state/api-token")
ctl host add 52:54:00:cc:00:01 known >/dev/null || { not_ok "setup: host"; exit 1; }

# --- making tokens ------------------------------------------------------------
READ=$(ctl token create console --scope read 2>"$OUT/create.err")
check "pxectl token create prints the new token alone on stdout (64 hex)" \
	eq "$(grep -cE '^[0-9a-f]{64}$' <<<"$READ")" 1
check "... and says on stderr it is shown once" has "$(cat "$OUT/create.err")" "shown once"
OPS=$(ctl token create ops --scope admin 2>/dev/null)
check "an admin token is made too" eq "${#OPS}" 64
out=$(ctl token create console --scope read 2>&1)
check "a second token of the same name: refused" has "$out" "exists"
out=$(ctl token create "bad name" 2>&1)
check "a bad name: refused" has "$out" "expected"
r=$(send POST /api/v1/tokens "$ADMIN" '{"name":"x","scope":"root"}')
check "an unknown scope: 400" eq "$r" 400
out=$(ctl token list)
check "pxectl token list shows both with their scopes" \
	bash -c "grep -qE ' console +read ' <<<'$out' && grep -qE ' ops +admin ' <<<'$out'"
check "... and never a token" bash -c "! grep -q '$READ' <<<'$out'"
db=$LAB_DIR/state/pxed.db
check "the store keeps only a hash of it" \
	eq "$(sqlite3 "$db" "SELECT count(*) FROM tokens WHERE hash = x'$(printf %s "$READ" | sha256sum | cut -c1-64)'")" 1

# --- what each scope may do ----------------------------------------------------
check "no token: GET /api/v1/hosts 401" eq "$(get /api/v1/hosts)" 401
check "a wrong token: 401" eq "$(get /api/v1/hosts 0123456789abcdef0123)" 401
check "the read token: GET /api/v1/hosts 200" eq "$(get /api/v1/hosts "$READ")" 200
check "... GET /api/v1/tasks, /images, /groups, /mcast, /clients: all 200" \
	eq "$(for p in tasks images groups mcast clients; do get /api/v1/$p "$READ"; done | tr -d '\n')" \
	200200200200200
check "... POST /api/v1/hosts: 403" eq "$(send POST /api/v1/hosts "$READ" '{"mac":"52:54:00:cc:00:02"}')" 403
check "... saying it may only read" has "$(cat "$OUT/body")" "may only read"
check "... nothing was added" eq "$(get /api/v1/hosts/52:54:00:cc:00:02 "$READ")" 404
check "the read token may not manage tokens: 403" eq "$(get /api/v1/tokens "$READ")" 403
check "the admin token made with pxectl: POST /api/v1/hosts 201" \
	eq "$(send POST /api/v1/hosts "$OPS" '{"mac":"52:54:00:cc:00:02"}')" 201
check "no token: the boot script still answers (a booting machine has none)" \
	eq "$(get /api/v1/boot/52-54-00-cc-00-01.ipxe)" 200
check "no token: a boot file still answers" eq "$(get /boot.ipxe)" 200
check "no token: /metrics answers (metrics-auth = open)" eq "$(get /metrics)" 200
check "no token: /api/v1/status answers (metrics-auth = open)" eq "$(get /api/v1/status)" 200

# --- revoking ----------------------------------------------------------------------
out=$(ctl token revoke console)
check "pxectl token revoke console" [ $? -eq 0 ]
check "the revoked token: 401 at once" eq "$(get /api/v1/hosts "$READ")" 401
out=$(ctl token revoke console 2>&1)
check "revoking it again: no such token" has "$out" "no token console"
ID=$(ctl --json token list | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"][0]["id"])')
check "a token revoked by its id" ctl token revoke "$ID"
check "the admin token is gone too: 401" eq "$(get /api/v1/hosts "$OPS")" 401

check "no ui-dir (the default is not installed here): /ui/ 404" eq "$(get /ui/)" 404

# --- metrics-auth = read; the console's files -------------------------------------------
pxed_stop
check "pxed stopped cleanly" pxed_log_clean
pxed_log_rotate
mkdir -p "$LAB_DIR/ui"
echo '<!doctype html><title>pxed</title>' >"$LAB_DIR/ui/index.html"
echo 'console.log(1)' >"$LAB_DIR/ui/app.js"
chmod -R a+rX "$LAB_DIR/ui"
pxed_start --metrics-auth read --ui-dir "$LAB_DIR/ui" || { not_ok "setup: pxed_start"; exit 1; }
hdrs=$(in_cli timeout 10 curl -sS -D - -o "$OUT/ui.html" "$URL/ui/")
check "/ui/ serves the console's index.html, no token needed" cmp "$OUT/ui.html" "$LAB_DIR/ui/index.html"
check "... as text/html" has "$hdrs" "Content-Type: text/html"
check "... with a Content-Security-Policy allowing only pxed's own code" \
	has "$hdrs" "Content-Security-Policy: default-src 'self';"
check "/ui/app.js as text/javascript" has "$(in_cli timeout 10 curl -sS -D - -o /dev/null \
	"$URL/ui/app.js")" "Content-Type: text/javascript"
check "metrics-auth = read: /metrics without a token 401" eq "$(get /metrics)" 401
check "... with the admin token 200" eq "$(get /metrics "$ADMIN")" 200
pxed_stop
check "pxed stopped cleanly" pxed_log_clean
lab_finish
