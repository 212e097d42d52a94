#!/usr/bin/env bash
# schemathesis (pinned) against a server of its own, as a new user's tools would try the API:
# signed in as the owner of a family (and an admin), with the site's Origin, every check, a
# fixed seed, every phase (PHASES=fuzzing,stateful picks some). ./test.sh runs it with 30
# examples (about 45 s on a 2-core VM).
#   bench/schemathesis.sh [max examples]     (default 30; BIN=path runs another build)
# Installs schemathesis (a virtual environment, scripts/ensure-tools.sh) if it is missing.
# Exit code: schemathesis's.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-tools.sh
ensure_schemathesis
examples="${1:-30}"
if [ -z "${BIN:-}" ]; then
  cargo build -q -p hearth --bin hearth   # nothing to do when ./test.sh's tests just built it
fi
bin="${BIN:-target/debug/hearth}"
work="$(mktemp -d)"
port="$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
# The user is the family's owner and an admin, so the admin's routes are tried too.
ADMIN_EMAILS=schemathesis@example.org \
DATABASE_URL="sqlite://$work/hearth.db" LEPTOS_SITE_ADDR="127.0.0.1:$port" RUST_LOG=error \
  "$bin" >"$work/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
json() { curl -sf -b "$work/jar" -c "$work/jar" -H "Origin: $base" -H 'content-type: application/json' -d "$2" "$base$1" >/dev/null; }
json /api/auth/register '{"email":"schemathesis@example.org","password":"correct horse battery","display_name":"Sam"}'
json /api/families '{"name":"Home","currency":"EUR","timezone":"Europe/Berlin"}'
cookie="$(awk '/hearth_session/ {print $7}' "$work/jar")"
# Signing out would end the session the run uses; the import takes CSV, which schemathesis
# cannot generate (its edges: property tests, fuzzing).
"$ST" --config-file bench/schemathesis.toml run "$base/api/openapi.json" \
  -H "Cookie: hearth_session=$cookie" -H "Origin: $base" \
  --max-examples "$examples" --seed 1 --no-color \
  --phases "${PHASES:-examples,coverage,fuzzing,stateful}" \
  --exclude-path /api/auth/logout --exclude-path /api/import
