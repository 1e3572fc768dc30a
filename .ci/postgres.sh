#!/usr/bin/env bash
# Install (if needed) and start a local PostgreSQL server on 127.0.0.1 for the history-store tests,
# create a role and database, and print the SQLAlchemy URL on stdout (everything else on stderr).
#   export AUDITOR_TEST_PG_URL="$(bash .ci/postgres.sh)"     # or: source .ci/postgres.sh
# Idempotent: a second call finds the server running and the database present and only prints the URL.
# Env: PG_PORT (5432), PG_DB (auditor_test), PG_USER (auditor), PG_PASSWORD (auditor).
_auditor_pg_main() (   # a subshell: `set -e` and the helpers never leak into a shell that sources this file
set -euo pipefail

PG_PORT="${PG_PORT:-5432}"
PG_DB="${PG_DB:-auditor_test}"
PG_USER="${PG_USER:-auditor}"
PG_PASSWORD="${PG_PASSWORD:-auditor}"
log() { echo "postgres.sh: $*" >&2; }

pg_bindir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

BIN="$(pg_bindir || true)"
if [ -z "$BIN" ]; then
  log "installing postgresql (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || true
  apt-get install -y -qq --no-install-recommends postgresql >&2
  BIN="$(pg_bindir)"
fi
VER="$(basename "$(dirname "$BIN")")"

# Our own data directory (not the Debian cluster) so that the port and settings are ours alone.
DATA="${PG_DATA:-/var/lib/postgresql/auditor-test-$VER}"
SOCK="/var/run/postgresql"
mkdir -p "$SOCK" && chown postgres:postgres "$SOCK"
as_pg() { if [ "$(id -un)" = postgres ]; then "$@"; else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi; }

if [ ! -s "$DATA/PG_VERSION" ]; then
  log "initdb $DATA"
  mkdir -p "$DATA" && chown postgres:postgres "$DATA"
  as_pg "$BIN/initdb" -D "$DATA" -A trust -U postgres --no-sync >/dev/null
fi
if as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  PG_PORT="$(sed -n 4p "$DATA/postmaster.pid")"      # already running: on the port it was started with
else
  # Another server (e.g. the distribution's cluster) may hold the port: take the next free one.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" >/dev/null 2>&1 || break
    PG_PORT=$((PG_PORT + 1))
  done
  log "starting PostgreSQL $VER on 127.0.0.1:$PG_PORT"
  # fsync off: a throwaway test server, durability is not wanted and it makes the tests faster.
  as_pg "$BIN/pg_ctl" -D "$DATA" -w -t 60 -l "$DATA/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $SOCK -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >&2
fi

psql_pg() { as_pg "$BIN/psql" -h "$SOCK" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
if [ "$(psql_pg -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname='$PG_USER'")" != 1 ]; then
  psql_pg -d postgres -c "CREATE ROLE \"$PG_USER\" LOGIN PASSWORD '$PG_PASSWORD'"
fi
if [ "$(psql_pg -d postgres -c "SELECT 1 FROM pg_database WHERE datname='$PG_DB'")" != 1 ]; then
  psql_pg -d postgres -c "CREATE DATABASE \"$PG_DB\" OWNER \"$PG_USER\""
fi

echo "postgresql+psycopg://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
)

if AUDITOR_TEST_PG_URL="$(_auditor_pg_main)"; then
  export AUDITOR_TEST_PG_URL      # takes effect in the caller when this file is sourced
  echo "$AUDITOR_TEST_PG_URL"
else
  echo "postgres.sh: failed to start PostgreSQL" >&2
  (return 0 2>/dev/null) && return 1 || exit 1
fi
