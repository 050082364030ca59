#!/usr/bin/env bash
# A whole local cluster on loopback, for trying and testing cluster mode: a throwaway PostgreSQL
# instance (scripts/postgres.sh) holding the membership table and the data in two databases,
# SILOS silos and GATEWAYS gateways in client mode. Every process's PID and log is under DIR.
#
#   scripts/cluster.sh up [DIR]              build, start everything, wait until every silo and gateway is ready
#   scripts/cluster.sh down [DIR]            stop every process (gracefully, then kill -9), stop PostgreSQL
#   scripts/cluster.sh status [DIR]          what runs, with PIDs and addresses
#   scripts/cluster.sh kill ROLE N [DIR]     kill -9 one process (ROLE: silo, gateway or postgres; N from 1)
#   scripts/cluster.sh stop ROLE N [DIR]     ask one process to stop (SIGTERM) and wait for it; fails if it
#                                            had to be killed after STOP_TIMEOUT (30) seconds
#   scripts/cluster.sh start ROLE N [DIR]    (re)start one process (a silo or gateway: until it is ready)
#
# DIR defaults to ./.cluster. Settings (environment): SILOS (3), GATEWAYS (2), PORT_BASE (20000):
# PostgreSQL listens on PORT_BASE, silo N on PORT_BASE+10+N (silo to silo) and PORT_BASE+20+N
# (gateways to silo), and gateway N serves clients on http://127.0.0.1:PORT_BASE+40+N.
# CONFIG (Release) picks the build; BUILD=0 skips building. EXTRA_SILO_ARGS and EXTRA_GATEWAY_ARGS
# are appended to every silo's and gateway's command line; PG_SETTINGS (space-separated name=value)
# go to PostgreSQL, e.g. PG_SETTINGS="shared_preload_libraries=pg_stat_statements".
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}
case "$cmd" in
  kill|stop|start) role=${2:?ROLE is required}; n=${3:?N is required}; dir=${4:-.cluster} ;;
  up|down|status) dir=${2:-.cluster} ;;
  *) sed -n '2,21p' "$0" >&2; exit 2 ;;
esac
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
SILOS=${SILOS:-3}
GATEWAYS=${GATEWAYS:-2}
PORT_BASE=${PORT_BASE:-20000}
CONFIG=${CONFIG:-Release}
pg_port=$PORT_BASE
silo_dll="$root/Silo/bin/$CONFIG/net10.0/Messenger.Silo.dll"
gateway_dll="$root/Gateway/bin/$CONFIG/net10.0/Messenger.Gateway.dll"

# Settings every silo and gateway shares, as environment variables (':' is '__').
settings() {
  local db="Host=127.0.0.1;Port=$pg_port;Username=postgres"
  export Cluster__ConnectionString="$db;Database=postgres"
  export Cluster__ClusterId=local
  export Storage__Provider=Postgres
  export Storage__Postgres__Databases__0__ConnectionString="$db;Database=messenger_a"
  export Storage__Postgres__Databases__0__Partitions=0-127
  export Storage__Postgres__Databases__1__ConnectionString="$db;Database=messenger_b"
  export Storage__Postgres__Databases__1__Partitions=128-255
  export Auth__SigningKey
  Auth__SigningKey=$(cat "$dir/signing.key")
  export DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production
}

pid_of() { cat "$dir/$1-$2.pid" 2>/dev/null || true; }
alive() { [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null; }

start_one() {
  local role=$1 n=$2 pid
  pid=$(pid_of "$role" "$n")
  if alive "$pid"; then echo "$role $n already runs (pid $pid)"; return; fi
  settings
  case "$role" in
    silo)
      # shellcheck disable=SC2086
      nohup dotnet "$silo_dll" --Cluster:SiloPort=$((PORT_BASE + 10 + n)) --Cluster:GatewayPort=$((PORT_BASE + 20 + n)) \
        --Cluster:AdvertisedAddress=127.0.0.1 --urls "http://127.0.0.1:$((PORT_BASE + 30 + n))" ${EXTRA_SILO_ARGS:-} \
        >>"$dir/silo-$n.log" 2>&1 &
      ;;
    gateway)
      # shellcheck disable=SC2086
      nohup dotnet "$gateway_dll" --Cluster:Mode=client --urls "http://127.0.0.1:$((PORT_BASE + 40 + n))" \
        --data "$dir/gateway-$n" ${EXTRA_GATEWAY_ARGS:-} >>"$dir/gateway-$n.log" 2>&1 &
      ;;
    postgres)
      # shellcheck disable=SC2086
      "$root/scripts/postgres.sh" start "$dir/pg" "$pg_port" ${PG_SETTINGS:-} >/dev/null
      head -n 1 "$dir/pg/data/postmaster.pid" >"$dir/postgres-1.pid"
      echo "postgres started (pid $(pid_of postgres 1), port $pg_port)"
      return
      ;;
    *) echo "unknown role '$role' (silo, gateway or postgres)" >&2; exit 2 ;;
  esac
  echo $! >"$dir/$role-$n.pid"
  echo "$role $n started (pid $!)"
}

# A gateway is ready once it has reached the cluster (/readyz answers 200).
wait_ready() {
  local url=$1 name=$2 deadline=$((SECONDS + 180))
  until curl -fsS -o /dev/null "$url/${PROBE:-readyz}" 2>/dev/null; do
    if (( SECONDS > deadline )); then echo "$name was not ready at $url/readyz within 180 s; see $dir/$name.log" >&2; exit 1; fi
    sleep 0.5
  done
}

stop_one() {
  local role=$1 n=$2 signal=$3 pid
  if [[ $role == postgres ]]; then
    if [[ $signal == KILL ]]; then "$root/scripts/postgres.sh" kill "$dir/pg"; else "$root/scripts/postgres.sh" stop "$dir/pg"; fi
    rm -f "$dir/postgres-1.pid"
    return
  fi
  local graceful=0
  pid=$(pid_of "$role" "$n")
  if alive "$pid"; then
    kill -"$signal" "$pid" 2>/dev/null || true
    local started=$SECONDS
    for _ in $(seq 1 $((${STOP_TIMEOUT:-30} * 10))); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
      [[ $signal == KILL ]] || { echo "$role $n did not stop within ${STOP_TIMEOUT:-30} s of SIG$signal; killed it" >&2; graceful=1; }
    elif [[ $signal != KILL ]]; then
      echo "$role $n stopped by itself $((SECONDS - started)) s after SIG$signal"
    fi
  fi
  rm -f "$dir/$role-$n.pid"
  return $graceful
}

case "$cmd" in
  up)
    if [[ ${BUILD:-1} != 0 ]]; then
      dotnet build -c "$CONFIG" "$root/Silo" -v quiet -nologo >/dev/null
      dotnet build -c "$CONFIG" "$root/Gateway" -v quiet -nologo >/dev/null
    fi
    [[ -s "$dir/signing.key" ]] || (umask 077; head -c 64 /dev/urandom | base64 -w0 >"$dir/signing.key")
    start_one postgres 1
    for db in messenger_a messenger_b; do
      psql -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
        || psql -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -qc "CREATE DATABASE $db" >/dev/null
    done
    settings
    dotnet "$silo_dll" migrate >>"$dir/migrate.log" 2>&1 || { cat "$dir/migrate.log" >&2; exit 1; }
    for n in $(seq 1 "$SILOS"); do start_one silo "$n"; done
    for n in $(seq 1 "$GATEWAYS"); do start_one gateway "$n"; done
    # With no silo yet, a gateway cannot be ready: then only wait for it to listen.
    probe=readyz; [[ "$SILOS" -gt 0 ]] || probe=healthz
    for n in $(seq 1 "$SILOS"); do wait_ready "http://127.0.0.1:$((PORT_BASE + 30 + n))" "silo-$n"; done
    for n in $(seq 1 "$GATEWAYS"); do PROBE=$probe wait_ready "http://127.0.0.1:$((PORT_BASE + 40 + n))" "gateway-$n"; done
    for n in $(seq 1 "$GATEWAYS"); do echo "gateway $n: http://127.0.0.1:$((PORT_BASE + 40 + n))"; done
    ;;
  down)
    for f in "$dir"/gateway-*.pid "$dir"/silo-*.pid; do
      [[ -e "$f" ]] || continue
      name=$(basename "$f" .pid)
      stop_one "${name%-*}" "${name##*-}" TERM || true
    done
    stop_one postgres 1 TERM
    echo "cluster in $dir stopped"
    ;;
  status)
    for f in "$dir"/postgres-*.pid "$dir"/silo-*.pid "$dir"/gateway-*.pid; do
      [[ -e "$f" ]] || continue
      name=$(basename "$f" .pid)
      pid=$(cat "$f")
      if alive "$pid"; then echo "$name: running (pid $pid)"; else echo "$name: not running (pid $pid was recorded)"; fi
    done
    ;;
  kill) stop_one "$role" "$n" KILL ;;
  stop) stop_one "$role" "$n" TERM ;;
  start)
    start_one "$role" "$n"
    if [[ $role == gateway ]]; then wait_ready "http://127.0.0.1:$((PORT_BASE + 40 + n))" "gateway-$n"; fi
    if [[ $role == silo ]]; then wait_ready "http://127.0.0.1:$((PORT_BASE + 30 + n))" "silo-$n"; fi
    ;;
esac
