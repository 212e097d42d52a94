#!/usr/bin/env bash
# Installs the build tools Hearth needs, each only when it is missing (idempotent).
# Sourced by run.sh and test.sh; prints what it does.
set -euo pipefail

HEARTH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WASM_BINDGEN_VERSION="0.2.130"
CARGO_LEPTOS_VERSION="0.3.10"
TRUNK_VERSION="0.21.14"
BINARYEN_VERSION="132.0.0"

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

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  ensure_rust_tools
  ensure_trunk
  ensure_node_tools
  ensure_chromium
fi
