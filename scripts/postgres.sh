#!/usr/bin/env bash
# A throwaway PostgreSQL instance of the project's own: its own data directory, its own port on
# 127.0.0.1, its socket in the data directory, trust authentication for the `postgres` role.
# Never touches the machine's system cluster.
#
#   scripts/postgres.sh start DIR PORT [setting=value ...]   initdb DIR if empty, start on PORT, wait until ready
#   scripts/postgres.sh stop DIR                              fast stop (immediate if that fails)
#   scripts/postgres.sh kill DIR                              immediate stop (as a crash would)
#   scripts/postgres.sh status DIR                            exit 0 when running
#   scripts/postgres.sh version                               the server binaries' version
#
# The postmaster's PID is in DIR/data/postmaster.pid (PostgreSQL's own file). When run as root the
# server runs as the `postgres` user (PostgreSQL refuses root). Binaries: $PG_BIN, else initdb on
# PATH, else the newest /usr/lib/postgresql/*/bin. Install them with `apt-get install postgresql`.
set -euo pipefail

find_bin() {
  if [[ -n "${PG_BIN:-}" ]]; then echo "$PG_BIN"; return; fi
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"; return
  fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n "$dir" && -x "$dir/pg_ctl" ]]; then echo "$dir"; return; fi
  echo "postgres.sh: PostgreSQL server binaries not found (install: apt-get install postgresql, or set PG_BIN)" >&2
  exit 2
}

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

cmd=${1:-}
dir=${2:-}
if [[ "$cmd" == version ]]; then
  "$(find_bin)/postgres" --version
  exit 0
fi
if [[ -z "$cmd" || -z "$dir" ]]; then
  sed -n '2,13p' "$0" >&2
  exit 2
fi
bin=$(find_bin)
data="$dir/data"

case "$cmd" in
  start)
    port=${3:?PORT is required}
    shift 3
    mkdir -p "$dir"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
    if [[ ! -s "$data/PG_VERSION" ]]; then
      as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    opts="-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300"
    for setting in "$@"; do opts="$opts -c $setting"; done
    as_owner "$bin/pg_ctl" -D "$data" -o "$opts" -l "$dir/server.log" -w -t 60 start >/dev/null \
      || { tail -n 30 "$dir/server.log" >&2; exit 1; }
    head -n 1 "$data/postmaster.pid"
    ;;
  stop)
    [[ -f "$data/postmaster.pid" ]] || exit 0
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 \
      || as_owner "$bin/pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    ;;
  kill)
    [[ -f "$data/postmaster.pid" ]] || exit 0
    as_owner "$bin/pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    ;;
  status)
    as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
    ;;
  *)
    echo "postgres.sh: unknown command '$cmd'" >&2
    exit 2
    ;;
esac
