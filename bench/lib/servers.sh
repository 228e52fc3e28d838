# shellcheck shell=bash
# Helpers shared by bench scripts that start servers in a namespace and
# measure them (storm-peers, http-peers, deploy-peers, chunk-peers).  Source it; the
# caller sets NS_S (the servers' namespace), WORK (its work directory) and
# the arrays PIDS (every process started, for the exit trap) and
# SERVER_PIDS (the servers of the current run).
#
#   bench_wait_port PROTO PORT PID   up to 5 s for a listening socket in NS_S
#   bench_start_nginx                nginx (bench/nginx-bench.conf) serving
#                                    $WORK/nginx/www on port 8081
#   bench_stop_servers               SIGTERM, up to 10 s, SIGKILL
#   bench_server_usage               "PEAK_RSS_KIB CPU_SECONDS" of the
#                                    servers and their children (nginx's
#                                    workers): VmHWM summed, CPU time summed
#   bench_cpu_s PID...               CPU seconds of the processes so far
#                                    (each thread's schedstat: nanoseconds,
#                                    where /proc/PID/stat counts 10 ms ticks)
#   bench_field PREFIX KEY TEXT      value of KEY= on the "PREFIX..." line

BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

bench_wait_port() {
	local i flag=-lun
	[ "$1" = tcp ] && flag=-ltn
	for ((i = 0; i < 100; i++)); do
		ip netns exec "$NS_S" ss -H "$flag" "sport = :$2" 2>/dev/null | grep -q . && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

bench_start_nginx() {
	mkdir -p "$WORK/nginx/logs" "$WORK/nginx/tmp" || return 1
	ip netns exec "$NS_S" nginx -p "$WORK/nginx" -c "$BENCH_LIB_DIR/../nginx-bench.conf" \
		-g 'daemon off;' </dev/null >>"$WORK/nginx.out" 2>&1 &
	SERVER_PIDS+=($!)
	PIDS+=($!)
	bench_wait_port tcp 8081 "$!"
}

bench_stop_servers() {
	local pid
	for pid in "${SERVER_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${SERVER_PIDS[@]}"; do
		timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	SERVER_PIDS=()
}

_bench_server_tree() {
	local pid
	for pid in "${SERVER_PIDS[@]}"; do
		echo "$pid"
		cat /proc/"$pid"/task/*/children 2>/dev/null | tr ' ' '\n' | grep .
	done
}

bench_cpu_s() {
	local pid
	for pid in "$@"; do
		cat /proc/"$pid"/task/*/schedstat 2>/dev/null
	done | awk '{ ns += $1 } END { printf "%.2f", ns / 1e9 }'
}

bench_server_usage() {
	local pid hwm=0 h
	for pid in $(_bench_server_tree); do
		h=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
		hwm=$((hwm + ${h:-0}))
	done
	# shellcheck disable=SC2046
	echo "$hwm $(bench_cpu_s $(_bench_server_tree))"
}

bench_field() {
	grep "^$1" <<<"$3" | head -1 | sed -n "s/.* $2=\\([^ ]*\\).*/\\1/p"
}
