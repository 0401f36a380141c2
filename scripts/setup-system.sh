#!/usr/bin/env bash
# Installs what a fresh machine lacks to run sark-migrate's tests and demo: a PostgreSQL server,
# pgTAP and pg_prove (Debian packages, through apt-get as root), then the npm packages.
# Safe to run any number of times: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
bindir=""
if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
  bindir="$(pg_config --bindir)"
else
  bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  [ -n "$bindir" ] && [ -x "$bindir/initdb" ] || { bindir=""; missing+=(postgresql); }
fi
major=""
if [ -n "$bindir" ]; then
  major="$("$bindir/postgres" --version | sed -E 's/[^0-9]*([0-9]+).*/\1/')"
fi
if ! ls /usr/share/postgresql/"${major:-15}"/extension/pgtap.control >/dev/null 2>&1; then
  missing+=("postgresql-${major:-15}-pgtap")
fi
command -v pg_prove >/dev/null 2>&1 || missing+=(libtap-parser-sourcehandler-pgtap-perl)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing system packages: ${missing[*]}" >&2
    echo "fix:   sudo apt-get update && sudo apt-get install -y ${missing[*]}  (or set DATABASE_URL to a server with pgTAP)" >&2
    exit 3
  fi
  echo "installing ${missing[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The Debian postgresql package starts a cluster of its own; ours are throwaway and separate.
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm packages"
  # Pinned: the lock file carries every platform's optional packages (refresh it with
  # `npm install --package-lock-only`), so `npm ci` accepts it on npm 10 and 11.
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "setup: PostgreSQL $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1), pgTAP, pg_prove and npm packages are in place"
