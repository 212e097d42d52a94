#!/usr/bin/env bash
# Two builds of Hearth side by side on the L1 hit path (see BENCHMARKS.md, cache run 10):
# the bare handler, build A and build B, each embedded on SQLite, GET /api/budgets with a
# signed-in member's cookie (and `Accept-Encoding: br, gzip`, as a browser sends it),
# alternating `wrk -t1 -c32` runs so the machine's drift hits all three alike.
# Usage: [ACCEPT_ENCODING=] bench/ab.sh OLD_BIN [NEW_BIN] [rounds] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
old="${1:?the other build of hearth}"
new="${2:-./target/release/hearth}"
rounds="${3:-4}"
secs="${4:-5}"
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
cargo build --release -p hearth --bin hearth --example bare >/dev/null 2>&1
work="$(mktemp -d)"; pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
month="$(date +%Y-%m)"
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
start() { # port binary
  LEPTOS_SITE_ADDR="127.0.0.1:$1" DATABASE_URL="sqlite://$work/$1.db" RUST_LOG=warn "$2" >"$work/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return; sleep 0.1; done
  echo "server on $1 did not start"; exit 1
}
source bench/accounts.sh
pa="$(free_port)"; pb="$(free_port)"; pbare="$(free_port)"
start "$pa" "$old"; start "$pb" "$new"
read -r ca _ _ <<<"$(signup "$pa" "ab-$pa@example.org")"
read -r cb _ _ <<<"$(signup "$pb" "ab-$pb@example.org")"
curl -sf -b "hearth_session=$cb" "http://127.0.0.1:$pb/api/budgets?month=$month" >"$work/body.json"
./target/release/examples/bare "$pbare" "$work/body.json" & pids+=($!)
sleep 0.5
# As a browser asks: the cookie and `Accept-Encoding: br, gzip` (ACCEPT_ENCODING= for
# identity). The bare handler ignores both and sends its identity bytes: the ceiling.
encoding="${ACCEPT_ENCODING-br, gzip}"
rps() { wrk -t1 -c32 -d"${secs}s" -H "Cookie: hearth_session=$2" ${encoding:+-H "Accept-Encoding: $encoding"} "http://127.0.0.1:$1/api/budgets?month=$month" | awk '/Requests\/sec/ {print $2}'; }
echo "req/s, wrk -t1 -c32 -d${secs}s, Accept-Encoding: '${encoding}', $(nproc) cores: bare / A ($old) / B ($new)"
for r in $(seq 1 "$rounds"); do
  bare="$(rps "$pbare" "$cb")"; a="$(rps "$pa" "$ca")"; b="$(rps "$pb" "$cb")"
  echo "round $r: $bare / $a / $b   A = $(awk -v x="$a" -v y="$bare" 'BEGIN{printf "%.2f", x/y}')x bare, B = $(awk -v x="$b" -v y="$bare" 'BEGIN{printf "%.2f", x/y}')x bare, B = $(awk -v x="$b" -v y="$a" 'BEGIN{printf "%.2f", x/y}')x A"
done
