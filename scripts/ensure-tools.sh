#!/usr/bin/env bash
# Installs the build tools Hearth needs, each only when it is missing (idempotent).
# Sourced by run.sh and test.sh; prints what it does.
set -euo pipefail

HEARTH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WASM_BINDGEN_VERSION="0.2.130"
CARGO_LEPTOS_VERSION="0.3.10"
TRUNK_VERSION="0.21.14"
BINARYEN_VERSION="132.0.0"
SCHEMATHESIS_VERSION="4.32.5"
HYPOTHESIS_VERSION="6.131.0"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

export PATH="$HOME/.cargo/bin:$HEARTH_ROOT/end2end/node_modules/.bin:$PATH"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}"
  fi
}

ensure_rust_tools() {
  # libFuzzer (the fuzz targets' `libfuzzer-sys`) is C++.
  command -v c++ >/dev/null 2>&1 || apt_install g++
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
  fi
  if [ "$(cargo-leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (takes about 15 minutes once)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --force
  fi
}

ensure_trunk() {
  if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
    say "installing trunk $TRUNK_VERSION (takes about 7 minutes once)"
    cargo install trunk --version "$TRUNK_VERSION" --locked --force
  fi
}

ensure_node_tools() {
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm
  if [ ! -x "$HEARTH_ROOT/end2end/node_modules/.bin/wasm-opt" ] \
     || [ ! -d "$HEARTH_ROOT/end2end/node_modules/@playwright/test" ]; then
    say "installing npm tools (binaryen $BINARYEN_VERSION, @playwright/test) in end2end/"
    (cd "$HEARTH_ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
}

ensure_chromium() {
  [ -x /usr/bin/chromium ] || apt_install chromium
}

# schemathesis in a virtual environment of its own (Debian's Python refuses `pip install`
# outside one, PEP 668); `$ST` is its command.
ensure_schemathesis() {
  local venv="${XDG_DATA_HOME:-$HOME/.local/share}/hearth/schemathesis-$SCHEMATHESIS_VERSION"
  ST="$venv/bin/st"
  if [ ! -x "$ST" ] || ! "$ST" --version 2>/dev/null | grep -q " $SCHEMATHESIS_VERSION\$"; then
    say "installing schemathesis $SCHEMATHESIS_VERSION in $venv"
    command -v python3 >/dev/null 2>&1 || apt_install python3
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION" "hypothesis==$HYPOTHESIS_VERSION"
  fi
  export ST
}

# Redis and PostgreSQL on their standard ports: used when they answer, otherwise installed
# from Debian's packages and started. Exports HEARTH_TEST_POSTGRES for the store tests.
ensure_services() {
  if ! (command -v redis-cli >/dev/null && [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]); then
    command -v redis-server >/dev/null || apt_install redis-server
    say "starting Redis on 127.0.0.1:6379"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  fi
  # The clock-skew test runs a server under faketime (libfaketime).
  command -v faketime >/dev/null || apt_install faketime
  : "${HEARTH_TEST_POSTGRES:=postgres://postgres@127.0.0.1:5432/test}"
  # The chaos test runs a private cluster of its own (initdb, pg_ctl), whoever runs the
  # shared one.
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || apt_install postgresql
  if ! (command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432); then
    command -v pg_ctlcluster >/dev/null || apt_install postgresql
    say "starting PostgreSQL on 127.0.0.1:5432"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  if ! psql "$HEARTH_TEST_POSTGRES" -qtAc 'select 1' >/dev/null 2>&1; then
    # A fresh Debian cluster asks for a password over TCP: give the test role one.
    say "preparing PostgreSQL role and database for the tests"
    as_root su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'hearth-test'\"" >/dev/null
    as_root su postgres -c "createdb test" 2>/dev/null || true
    HEARTH_TEST_POSTGRES="postgres://postgres:hearth-test@127.0.0.1:5432/test"
  fi
  export HEARTH_TEST_POSTGRES
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  ensure_rust_tools
  ensure_trunk
  ensure_node_tools
  ensure_chromium
fi
