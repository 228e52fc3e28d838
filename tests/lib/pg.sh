#!/bin/bash
# A throwaway PostgreSQL for tests and benches: Debian's postgresql-15, a
# cluster in a temporary directory owned by an unprivileged user (nobody),
# reached only on a unix socket in that directory, removed afterwards.
#
# As a library (source it):
#   pg_start [SETTING=VALUE ...]   start one; sets PG_DIR, PG_URL (the pxed database)
#   pg_stop                        stop it and remove its directory
#   pg_psql SQL                    run SQL on the pxed database (one value a line)
#   pg_down / pg_up                stop it (pg_ctl -m fast, its data kept) / start it again
# As a command (the C test helper uses it):
#   bash tests/lib/pg.sh start     prints the directory (the socket's) and leaves it running
#   bash tests/lib/pg.sh stop DIR
#
# Tests run it with fsync=off (they check correctness, a power cut is not
# part of them); bench/ starts it with fsync on.  PXED_TEST_PG, when set, is
# the directory of a server started before (tests/run-all.sh shares one).

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_USER=${PG_USER:-nobody}

pg_url() {      # dir
	echo "postgresql://pxed@/pxed?host=$1"
}

pg_start() {
	local opts=() kv
	for kv in fsync=off "$@"; do
		opts+=(-c "$kv")
	done
	PG_DIR=$(mktemp -d /tmp/pxed-pg.XXXXXX) || return 1
	chmod 755 "$PG_DIR"
	chown "$PG_USER" "$PG_DIR" || return 1
	if ! runuser -u "$PG_USER" -- "$PG_BIN/initdb" -D "$PG_DIR/data" -U pxed \
		--auth=trust --no-sync -E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1; then
		cat "$PG_DIR/initdb.log" >&2
		return 1
	fi
	PG_OPTS="-c listen_addresses='' -c unix_socket_directories='$PG_DIR' -c max_connections=200 ${opts[*]}"
	if ! pg_up; then
		cat "$PG_DIR/server.log" >&2
		return 1
	fi
	runuser -u "$PG_USER" -- "$PG_BIN/createdb" -h "$PG_DIR" -U pxed pxed || return 1
	PG_URL=$(pg_url "$PG_DIR")
}

pg_stop() {
	[ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ] || return 0
	runuser -u "$PG_USER" -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 30 \
		stop >/dev/null 2>&1
	rm -rf "$PG_DIR"
	PG_DIR=
}

pg_ctl_run() {  # pg_ctl arguments
	runuser -u "$PG_USER" -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" "$@" >/dev/null
}
pg_up() { pg_ctl_run -l "$PG_DIR/server.log" -w -t 30 -o "$PG_OPTS" start; }
pg_down() { pg_ctl_run -m fast -w -t 30 stop; }

pg_psql() {     # SQL
	"$PG_BIN/psql" -h "$PG_DIR" -U pxed -d pxed -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case ${1:-} in
	start)
		pg_start >&2 || exit 1
		echo "$PG_DIR"
		;;
	stop)
		PG_DIR=${2:?pg.sh stop DIR}
		pg_stop
		;;
	*)
		echo "usage: pg.sh start | stop DIR" >&2
		exit 2
		;;
	esac
fi
