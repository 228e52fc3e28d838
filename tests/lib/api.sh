# Helpers for tests that drive pxed's REST API from the client namespace
# (bash, sourced after lab.sh).  URL defaults to http://$LAB_SRV_IP.
PXECTL=${PXECTL:-build/asan/pxectl}
URL=${URL:-http://$LAB_SRV_IP}

eq() { [ "$1" = "$2" ] || { echo "# got '$1', expected '$2'"; return 1; }; }
has() { grep -q -- "$2" <<<"$1" || { echo "# '$2' not in: $1"; return 1; }; }
# lacks TEXT REGEX: there is a TEXT, and no line of it matches REGEX
lacks() {
	[ -n "$1" ] || { echo "# no text at all"; return 1; }
	! grep -q -- "$2" <<<"$1" || { echo "# '$2' in: $1"; return 1; }
}
# ctl ARGS...: pxectl with the server's API token
ctl() { in_cli timeout 30 "$PXECTL" --server "$URL" --token-file "$LAB_DIR/state/api-token" "$@"; }
# json PATH EXPR: a field of a GET answer, e.g. json /api/v1/tasks/1 '["state"]'
json() { in_cli timeout 10 curl -sS -H "$(lab_auth)" "$URL$1" | python3 -c "import json,sys; v=json.load(sys.stdin); print(v$2)"; }
# token_of MAC [NS]: the task token the host's boot script carries, fetched
# from namespace NS (default: the client): the token is bound to the address
# that fetched it (task-token-bind), so fetch it where the agent will run
token_of() {
	ip netns exec "${2:-$LAB_CLI}" timeout 10 curl -sS "$URL/api/v1/boot/$1.ipxe" |
		sed -n 's/.*pxed\.token=\([0-9a-f]*\).*/\1/p'
}
# task_of MAC: the id of the host's active task
task_of() { json "/api/v1/hosts/$1" '["task"]["id"]'; }
# wait_task ID SECONDS: until the task has ended (bounded); prints its state
wait_task() {
	local s
	for _ in $(seq 1 "$2"); do
		s=$(json "/api/v1/tasks/$1" '["state"]' 2>/dev/null)
		case $s in done|failed|cancelled) echo "$s"; return 0 ;; esac
		sleep 1
	done
	echo "${s:-unknown}"
}
