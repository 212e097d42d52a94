#!/usr/bin/env bash
# schemathesis (pinned) against a server of its own, as a new user's tools would try the API:
# signed in as the owner of a family, with the site's Origin, every check, a fixed seed.
#   bench/schemathesis.sh [max examples]     (default 30; BIN=path runs another build)
# PHASES=fuzzing,stateful leaves out the coverage phase (about 5 minutes of generating on a
# 2-core VM, the tool's own time): ./test.sh runs that way, in about a minute.
# Installs schemathesis with pip if it is missing. Exit code: schemathesis's.
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-30}"
if ! st --version 2>/dev/null | grep -q " 4\.3\."; then
  python3 -m pip install -q "schemathesis==4.3.18" "hypothesis==6.131.0"
fi
bin="${BIN:-target/debug/hearth}"
[ -x "$bin" ] || cargo build -q -p hearth --bin hearth
work="$(mktemp -d)"
port="$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
DATABASE_URL="sqlite://$work/hearth.db" LEPTOS_SITE_ADDR="127.0.0.1:$port" RUST_LOG=error \
  "$bin" >"$work/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
json() { curl -sf -b "$work/jar" -c "$work/jar" -H "Origin: $base" -H 'content-type: application/json' -d "$2" "$base$1" >/dev/null; }
json /api/auth/register '{"email":"schemathesis@example.org","password":"correct horse battery","display_name":"Sam"}'
json /api/families '{"name":"Home","currency":"EUR","timezone":"Europe/Berlin"}'
cookie="$(awk '/hearth_session/ {print $7}' "$work/jar")"
# Signing out would end the session the run uses; clearing the cache is an admin's; the
# import takes CSV, which schemathesis cannot generate (its edges: property tests, fuzzing).
st --config-file bench/schemathesis.toml run "$base/api/openapi.json" \
  -H "Cookie: hearth_session=$cookie" -H "Origin: $base" \
  --checks all --max-examples "$examples" --seed 1 --no-color \
  --phases "${PHASES:-examples,coverage,fuzzing,stateful}" \
  --exclude-path /api/auth/logout --exclude-path /api/admin/cache/clear --exclude-path /api/import
