#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 in a temp dir (source this file).
# Exports LICHAIN_TEST_PG_URL and PG_TEMP_PID; `pg_temp_stop` stops it by PID and removes the directory.
set -euo pipefail
if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PG_TEMP_ROOT=$(mktemp -d)
mkdir -p "$PG_TEMP_ROOT/sock"
PGPORT=${PGPORT:-54329}
if [ "$(id -u)" = 0 ]; then
  chown -R postgres:postgres "$PG_TEMP_ROOT"
  AS=(runuser -u postgres --)
else
  AS=()
fi
"${AS[@]}" "$PGBIN/initdb" -D "$PG_TEMP_ROOT/data" -U postgres -A trust -E UTF8 --no-locale >/dev/null
"${AS[@]}" "$PGBIN/pg_ctl" -D "$PG_TEMP_ROOT/data" -l "$PG_TEMP_ROOT/server.log" -w -t 30 \
  -o "-k $PG_TEMP_ROOT/sock -c listen_addresses=127.0.0.1 -p $PGPORT -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
PG_TEMP_PID=$(head -1 "$PG_TEMP_ROOT/data/postmaster.pid")
export PG_TEMP_PID PG_TEMP_ROOT
pg_temp_stop() {
  kill -INT "$PG_TEMP_PID" 2>/dev/null || true
  while kill -0 "$PG_TEMP_PID" 2>/dev/null; do sleep 0.1; done
  rm -rf "$PG_TEMP_ROOT"
}
"$PGBIN/psql" -q -h 127.0.0.1 -p "$PGPORT" -U postgres -c "CREATE DATABASE lichain_test" >/dev/null
export LICHAIN_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PGPORT/lichain_test"
