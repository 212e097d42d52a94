#!/usr/bin/env bash
# Hearth's cache benchmark, in one run on one machine (see BENCHMARKS.md):
#   requests/s and p50/p99 of GET /api/budgets from a bare axum handler with the same body,
#   from L1 (embedded), from L1 with Redis (versions heard by pub/sub), from L2 (Redis only),
#   and uncached; then the hit rate of a 90 % read / 10 % write mix over many families.
# Needs wrk and a Redis at 127.0.0.1:6379. Usage: [ROUNDS=5] bench/run.sh [seconds per run]
# HEARTH_BIN=path runs another build of the server (an older one, to compare on one machine).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
conns=32
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
cargo build --release -p hearth --bin hearth --example bare >/dev/null 2>&1
bin="${HEARTH_BIN:-./target/release/hearth}"
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
db="sqlite://$work/bench.db"
month="$(date +%Y-%m)"

start() { # port, then env assignments
  local port=$1; shift
  env "$@" LEPTOS_SITE_ADDR="127.0.0.1:$port" DATABASE_URL="$db" RUST_LOG=warn "$bin" >"$work/$port.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "server on $port did not start"; exit 1
}

source bench/accounts.sh

tag="bench-$(date +%s)-$RANDOM"
start 3911                                   # embedded: L1
read -r cookie _ _ <<<"$(signup 3911 "owner-$tag@example.org")"
curl -sf -b "hearth_session=$cookie" "http://127.0.0.1:3911/api/budgets?month=$month" >"$work/body.json"
./target/release/examples/bare 3910 "$work/body.json" & pids+=($!)
sleep 0.5
start 3912 REDIS_URL=redis://127.0.0.1:6379   # L1 with Redis (versions heard by pub/sub)
start 3913 REDIS_URL=redis://127.0.0.1:6379 CACHE_L1_MAX_BYTES=0   # L2 only
c12="$(login 3912 "owner-$tag@example.org")"
c13="$(login 3913 "owner-$tag@example.org")"
url="/api/budgets?month=$month"
echo "body: $(wc -c <"$work/body.json") bytes; wrk -t1 -c$conns -d${secs}s; $(nproc) cores"
# The ratio that has a target, measured in alternation (the machine's speed drifts between
# runs), ROUNDS times, then the median of each.
rounds="${ROUNDS:-5}"
bare_runs=(); l1_runs=()
for _ in $(seq 1 "$rounds"); do
  # The same request to both, cookie included (the bare handler ignores it).
  bare_runs+=("$(wrk -t1 -c"$conns" -d"${secs}s" -H "Cookie: hearth_session=$cookie" "http://127.0.0.1:3910$url" | awk '/Requests\/sec/ {print $2}')")
  l1_runs+=("$(wrk -t1 -c"$conns" -d"${secs}s" -H "Cookie: hearth_session=$cookie" "http://127.0.0.1:3911$url" | awk '/Requests\/sec/ {print $2}')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
bare_median="$(median "${bare_runs[@]}")"; l1_median="$(median "${l1_runs[@]}")"
echo "alternating bare / L1 (embedded), $rounds rounds: bare ${bare_runs[*]}"
echo "                                              L1   ${l1_runs[*]}"
echo "medians: bare $bare_median, L1 $l1_median req/s: L1 = $(awk -v a="$l1_median" -v b="$bare_median" 'BEGIN {printf "%.2f", a / b}') x bare"
run "bare axum handler"                  "http://127.0.0.1:3910$url" "$cookie"
run "L1 hit (embedded)"                  "http://127.0.0.1:3911$url" "$cookie"
run "L1 hit (Redis, pub/sub versions)"  "http://127.0.0.1:3912$url" "$c12"
run "L2 hit (Redis, no L1)"              "http://127.0.0.1:3913$url" "$c13"
run "uncached (Cache-Control: no-cache)" "http://127.0.0.1:3911$url" "$cookie" -H "Cache-Control: no-cache"
conns=2
run "L1 hit (embedded), 2 connections"   "http://127.0.0.1:3911$url" "$cookie"

# The family mix on the Redis-backed server (warming after writes included).
: >bench/families.txt
families="${FAMILIES:-200}"
for i in $(seq 1 "$families"); do
  line="$(signup 3912 "mix-$i-$tag@example.org" 3)"
  echo "$line" >>bench/families.txt
done
echo "mix: $families families, 90 % reads / 10 % writes, wrk -t2 -c32 -d${secs}s on the Redis-backed server"
wrk -t2 -c32 -d"${secs}s" --latency -s bench/mix.lua http://127.0.0.1:3912 | grep -E "MIX|Requests/sec|  50%|  99%"
rm -f bench/families.txt
