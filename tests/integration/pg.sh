# PostgreSQL clusters of a test's own, for the ledger tests: initdb into the
# test's directory, a unix socket there and no TCP, run as an unprivileged
# user (postgres refuses root), and a streaming standby made from a primary.
# Sourced after tests/lib.sh. pg_need prints the skip and returns 1 when
# this machine has no PostgreSQL server.

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

# The clusters stop with the test, whatever ends it.
_pg_cleanup() {
	for f in "$WORK"/pg-*/data/postmaster.pid; do
		[ -f "$f" ] && kill -9 "$(head -n 1 "$f")" 2>/dev/null
	done
	_cleanup
}
trap _pg_cleanup EXIT

pg_need() {
	if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
		skip "no PostgreSQL server here (Debian: postgresql-15; tests/scripts/deps-debian.sh test installs it)"
		return 1
	fi
	if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
		skip "no postgres user to run the server as"
		return 1
	fi
}

# pg_as CMD...: as the user the clusters run as.
pg_as() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_init NAME PORT: a new primary in $WORK/pg-NAME, listening on
# $WORK/pg-NAME/.s.PGSQL.PORT only.
pg_init() {
	d="$WORK/pg-$1"
	mkdir -p "$d" && { [ "$(id -u)" != 0 ] || chown postgres "$d"; } &&
	pg_as "$PG_BIN/initdb" -D "$d/data" -A trust -U postgres --no-sync >"$d/initdb.log" 2>&1 || return 1
	cat >>"$d/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$d'
port = $2
wal_level = replica
max_wal_senders = 4
fsync = on
synchronous_commit = on
EOF
	pg_start "$1"
}

# pg_start NAME / pg_stop NAME [MODE]: the cluster in $WORK/pg-NAME.
pg_start() {
	pg_as "$PG_BIN/pg_ctl" -D "$WORK/pg-$1/data" -l "$WORK/pg-$1/server.log" -w -t 30 start >/dev/null
}
pg_stop() {
	pg_as "$PG_BIN/pg_ctl" -D "$WORK/pg-$1/data" -m "${2:-fast}" -w -t 30 stop >/dev/null 2>&1
}
# pg_kill NAME: the server's postmaster killed with SIGKILL, as a machine
# that dies.
pg_kill() {
	kill -9 "$(head -n 1 "$WORK/pg-$1/data/postmaster.pid")"
}

# pg_standby PRIMARY PRIMARY_PORT NAME PORT: a streaming standby of
# PRIMARY, named NAME for synchronous_standby_names.
pg_standby() {
	d="$WORK/pg-$3"
	mkdir -p "$d" && { [ "$(id -u)" != 0 ] || chown postgres "$d"; } &&
	pg_as "$PG_BIN/pg_basebackup" -h "$WORK/pg-$1" -p "$2" -U postgres -D "$d/data" -R -X stream \
		>"$d/basebackup.log" 2>&1 || return 1
	sed -i "s|^unix_socket_directories = .*|unix_socket_directories = '$d'|; s|^port = .*|port = $4|;
		/^synchronous_standby_names/d" "$d/data/postgresql.conf"
	sed -i "s|^primary_conninfo = '|primary_conninfo = 'application_name=$3 |" "$d/data/postgresql.auto.conf"
	pg_start "$3"
}

# pg_sync NAME PORT STANDBY: from now on the primary's commits wait for
# STANDBY (synchronous replication).
pg_sync() {
	pg_as "$PG_BIN/psql" -h "$WORK/pg-$1" -p "$2" -U postgres -d postgres -Atqc \
		"ALTER SYSTEM SET synchronous_standby_names = '$3'" >/dev/null &&
	pg_as "$PG_BIN/psql" -h "$WORK/pg-$1" -p "$2" -U postgres -d postgres -Atqc "SELECT pg_reload_conf()" >/dev/null
}

pg_promote() {
	pg_as "$PG_BIN/pg_ctl" -D "$WORK/pg-$1/data" -w -t 30 promote >/dev/null
}

# pg_sql NAME PORT SQL: one query's rows, unaligned, on database spn.
pg_sql() {
	pg_as "$PG_BIN/psql" -h "$WORK/pg-$1" -p "$2" -U postgres -d spn -Atqc "$3"
}

pg_createdb() {
	pg_as "$PG_BIN/createdb" -h "$WORK/pg-$1" -p "$2" -U postgres spn
}

# pg_uri NAME PORT [NAME PORT]...: the ledger's URI; with several, libpq
# tries each and takes the one that accepts writes.
pg_uri() {
	hosts= ports=
	while [ $# -ge 2 ]; do
		hosts="${hosts:+$hosts,}$WORK/pg-$1"
		ports="${ports:+$ports,}$2"
		shift 2
	done
	echo "postgresql:///spn?host=$hosts&port=$ports&user=postgres&target_session_attrs=read-write&connect_timeout=2"
}
