#!/usr/bin/env bash
# Runs every test of Hearth: formatting and lints, unit tests, the server's integration
# tests (including the store contract suite on SQLite and PostgreSQL), the release build,
# the Trunk build, and the browser tests in Chromium. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/ensure-tools.sh
# Test binaries are rebuilt on every change anyway; incremental caches only fill the disk.
export CARGO_INCREMENTAL=0

ensure_rust_tools
ensure_trunk
ensure_node_tools
ensure_chromium
ensure_services
ensure_schemathesis

say "cargo fmt --check"
cargo fmt --all -- --check

say "clippy: server (ssr) and browser (hydrate, csr) builds, and the fuzz targets"
cargo clippy -p hearth --all-targets -- -D warnings
cargo clippy -p batch-send --all-targets -- -D warnings
cargo clippy -p hearth-fuzz -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown --features split -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown --no-default-features --features csr -- -D warnings

say "unit tests of the shared app crate"
cargo test -p app --features ssr

say "the fan-out's batched sends (io_uring)"
cargo test -p batch-send

say "server unit and integration tests (store contract on SQLite and on PostgreSQL)"
cargo test -p hearth

say "the API from outside: schemathesis against the OpenAPI document (every check, seed 1)"
bench/schemathesis.sh 30

say "release build with cargo-leptos (hydrating WASM, then the server with the site built in)"
cargo leptos build --release --precompress --split --bin-features embed-site

say "client-side build with Trunk (so it cannot rot)"
trunk build

say "browser tests (Playwright on Debian's Chromium)"
work="$(mktemp -d)"
port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
# The binary alone, copied into an empty folder and started there: it carries its site.
mkdir "$work/alone"
cp target/release/hearth "$work/alone/hearth"
(cd "$work/alone" && DATABASE_URL="sqlite://$work/hearth.db" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
  exec ./hearth) >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
if ! (cd end2end && HEARTH_URL="http://127.0.0.1:$port" npx playwright test 2>&1 | tee "$work/playwright.log"
        exit "${PIPESTATUS[0]}"); then
  # The server's log first and Playwright's account of the failures last, so that the end of
  # the output (all a CI page may show) says what failed.
  echo "--- server log (last 30 lines) ---"
  tail -n 30 "$work/server.log" | sed 's/\x1b\[[0-9;]*m//g' | cut -c1-240
  echo "--- browser tests: the failures again ---"
  sed 's/\x1b\[[0-9;]*m//g' "$work/playwright.log" | awk '/^  [0-9]+\) /{on=1} on' | tail -n 60
  exit 1
fi
say "all tests passed"
