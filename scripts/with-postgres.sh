#!/usr/bin/env bash
# Used by `make unit-test` for the integration suite on PostgreSQL (issue 10).
# Starts a throwaway PostgreSQL cluster in a temp folder on its own port, runs "$@" with
# HAILONG_TEST_POSTGRES_URL set, then stops the cluster and deletes the folder.
# PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user that
# Debian's package creates.
set -euo pipefail
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] || { echo "PostgreSQL server not found: apt-get install postgresql" >&2; exit 1; }
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
DIR=$(mktemp -d /tmp/hailong-pg.XXXXXX)
[ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
PORT=${HAILONG_TEST_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
cleanup() { as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT INT TERM
as_owner "$PGBIN/initdb" -D "$DIR/data" -U hailong --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
  || { cat "$DIR/initdb.log" >&2; exit 1; }
# A test cluster: nothing is kept, so no fsync (HAILONG_PG_DURABLE=1 keeps PostgreSQL's defaults,
# for benchmarks: every COMMIT on disk, as SQLite's synchronous=FULL); a socket in the temp
# folder, TCP on localhost only.
SPEED="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
[ "${HAILONG_PG_DURABLE:-0}" = 1 ] && SPEED=""
as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 $SPEED -c max_connections=500" \
  start >/dev/null || { cat "$DIR/server.log" >&2; exit 1; }
as_owner "$PGBIN/createdb" -h "$DIR" -p "$PORT" -U hailong hailong
export HAILONG_TEST_POSTGRES_URL="postgres://hailong@127.0.0.1:$PORT/hailong"
echo "[pg] $HAILONG_TEST_POSTGRES_URL (cluster in $DIR)" >&2
"$@"
