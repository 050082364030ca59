#!/usr/bin/env bash
# Installs what `dotnet test` needs beyond the .NET SDK, from Debian packages, when missing:
# the PostgreSQL server binaries (the tests start a throwaway instance of their own through
# scripts/postgres.sh; the machine's own PostgreSQL service is neither needed nor touched).
set -euo pipefail

sudo_if_needed() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

have_postgres() {
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
  compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null
}

if ! have_postgres; then
  echo "install-test-deps: installing PostgreSQL server (Debian package postgresql)"
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -q
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql
fi
if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
  echo "install-test-deps: the postgres user is missing (PostgreSQL refuses to run as root)" >&2
  exit 1
fi
echo "install-test-deps: PostgreSQL $(bash "$(dirname "$0")/postgres.sh" version)"
