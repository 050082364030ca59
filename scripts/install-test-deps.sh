#!/usr/bin/env bash
# Installs what `dotnet test` needs beyond the .NET SDK, from Debian packages, when missing:
# the PostgreSQL server binaries and psql (the tests start throwaway instances of their own through
# scripts/postgres.sh and scripts/cluster.sh; the machine's own PostgreSQL service is neither needed
# nor touched), curl (scripts/cluster.sh waits for the gateways with it), and Node.js with npm (the
# Kubernetes manifests' validator, k8s/validate, and the TypeScript client's suite, Client.TypeScript,
# run on it), and Chromium (the web client's browser tests drive it with Playwright; a browser download
# cannot work here, so it comes from Debian); then always the npm packages of k8s/validate and
# Client.TypeScript, exactly as their package-lock.json files pin them.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

sudo_if_needed() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

have_postgres() {
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
  compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null
}

missing=()
have_postgres || missing+=(postgresql)
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
[[ -n "${MESSENGER_CHROMIUM:-}" || -x /usr/bin/chromium ]] || missing+=(chromium)
if (( ${#missing[@]} > 0 )); then
  echo "install-test-deps: installing ${missing[*]} (Debian packages)"
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -q
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
  echo "install-test-deps: the postgres user is missing (PostgreSQL refuses to run as root)" >&2
  exit 1
fi
for package in k8s/validate Client.TypeScript; do
  npm ci --prefix "$root/$package" --no-audit --no-fund --loglevel=error >/dev/null
done
echo "install-test-deps: PostgreSQL $(bash "$(dirname "$0")/postgres.sh" version); Node.js $(node --version) with the npm packages of k8s/validate and Client.TypeScript; $("${MESSENGER_CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null | head -n 1)"
