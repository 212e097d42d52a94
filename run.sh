#!/usr/bin/env bash
# Sets up what is missing, builds Hearth and serves it at http://127.0.0.1:3000 in the
# embedded default: SQLite under data/, no Redis or PostgreSQL needed.
# Any variable from the README's configuration table can be set before it.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/ensure-tools.sh

ensure_rust_tools
ensure_node_tools

say "building Hearth (release: about 6 minutes the first time, seconds after)"
cargo leptos build --release --precompress --split --bin-features embed-site

say "serving Hearth at http://${LEPTOS_SITE_ADDR:-127.0.0.1:3000} (Ctrl-C stops it)"
exec ./target/release/hearth
