#!/usr/bin/env bash
# Hearth's HTTP benchmark, as a browser asks (see BENCHMARKS.md, "The browser's path"): every
# request carries a signed-in member's session cookie and `Accept-Encoding: br, gzip`; the
# same request without `Accept-Encoding` (identity) is the second line. In one sitting:
#   1. the L1 hit of GET /api/budgets against Varnish in front of the same Hearth (the peer;
#      bench/varnish.vcl), alternating ROUNDS times, br and identity, and the ratios;
#   2. the L1 hit with Redis, the L2 hit, uncached, the server-rendered pages (/budget,
#      /family, /, /login) and the L1 hit at half load (p99);
#   3. the hit rate of a 90 % read / 10 % write mix over many families.
# Needs wrk, varnishd (apt-get install wrk varnish) and a Redis at 127.0.0.1:6379.
# Usage: [ROUNDS=5] bench/run.sh [seconds per run]
# HEARTH_BIN=path runs another build of the server (an older one, to compare on one machine).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
conns=32
for tool in wrk varnishd; do
  command -v "$tool" >/dev/null || { echo "install $tool (apt-get install wrk varnish)"; exit 1; }
done
cargo build --release -p hearth --bin hearth >/dev/null 2>&1
bin="${HEARTH_BIN:-./target/release/hearth}"
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
db="sqlite://$work/bench.db"
month="$(date +%Y-%m)"
browser="Accept-Encoding: br, gzip"

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
read -r cookie _ _ <<<"$(signup 3911 "owner-$tag@example.org" 24)"
start 3912 REDIS_URL=redis://127.0.0.1:6379   # L1 with Redis (versions heard by pub/sub)
start 3913 REDIS_URL=redis://127.0.0.1:6379 CACHE_L1_MAX_BYTES=0   # L2 only
c12="$(login 3912 "owner-$tag@example.org")"
c13="$(login 3913 "owner-$tag@example.org")"

# The peer: Varnish on 3914 in front of the embedded server (varnishd drops root: it must
# be able to read the VCL and write its working folder).
chmod 755 "$work"
sed "s/BACKEND_PORT/3911/" bench/varnish.vcl >"$work/hearth.vcl"
chmod 644 "$work/hearth.vcl"
varnishd -F -a 127.0.0.1:3914 -f "$work/hearth.vcl" -n "$work/varnish" -s malloc,256m \
  -p http_gzip_support=off >"$work/varnish.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:3914/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:3914/healthz" >/dev/null || { echo "varnishd did not start:"; cat "$work/varnish.log"; exit 1; }

url="/api/budgets?month=$month"
body_bytes() { curl -s -b "hearth_session=$cookie" "$@" "http://127.0.0.1:3911$url" | wc -c; }
echo "body: $(body_bytes) bytes identity, $(body_bytes -H "$browser") br;" \
  "wrk -t1 -c$conns -d${secs}s; $(nproc) cores; $(uname -r)"

rps() { # url cookie [extra wrk args] -> req/s
  local url=$1 cookie=$2; shift 2
  wrk -t1 -c"$conns" -d"${secs}s" -H "Cookie: hearth_session=$cookie" "$@" "$url" | awk '/Requests\/sec/ {print $2}'
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

# Warm both (the first request of each encoding fills Varnish's object for it).
for enc in "$browser" "X-Identity: 1"; do
  for port in 3911 3914; do curl -sf -o /dev/null -b "hearth_session=$cookie" -H "$enc" "http://127.0.0.1:$port$url"; done
done

# 1. The ratios that have targets, in alternation (the machine's speed drifts between runs).
rounds="${ROUNDS:-5}"
hb=(); vb=(); hi=(); vi=()
for _ in $(seq 1 "$rounds"); do
  hb+=("$(rps "http://127.0.0.1:3911$url" "$cookie" -H "$browser")")
  vb+=("$(rps "http://127.0.0.1:3914$url" "$cookie" -H "$browser")")
  hi+=("$(rps "http://127.0.0.1:3911$url" "$cookie")")
  vi+=("$(rps "http://127.0.0.1:3914$url" "$cookie")")
done
echo "alternating, $rounds rounds (req/s):"
echo "  Hearth L1, br:       ${hb[*]}"
echo "  Varnish,   br:       ${vb[*]}"
echo "  Hearth L1, identity: ${hi[*]}"
echo "  Varnish,   identity: ${vi[*]}"
m_hb="$(median "${hb[@]}")"; m_vb="$(median "${vb[@]}")"
m_hi="$(median "${hi[@]}")"; m_vi="$(median "${vi[@]}")"
echo "medians: br Hearth $m_hb / Varnish $m_vb = $(ratio "$m_hb" "$m_vb") x;" \
  "identity Hearth $m_hi / Varnish $m_vi = $(ratio "$m_hi" "$m_vi") x"

# 2. Each path once, br first, identity second.
for label_url in \
  "L1 hit (embedded)|http://127.0.0.1:3911$url|$cookie" \
  "Varnish in front (peer)|http://127.0.0.1:3914$url|$cookie" \
  "L1 hit (Redis, pub/sub versions)|http://127.0.0.1:3912$url|$c12" \
  "L2 hit (Redis, no L1)|http://127.0.0.1:3913$url|$c13" \
  "SSR /budget|http://127.0.0.1:3911/budget|$cookie" \
  "SSR /family|http://127.0.0.1:3911/family|$cookie" \
  "SSR / (redirect)|http://127.0.0.1:3911/|$cookie" \
  "/login (signed out)|http://127.0.0.1:3911/login|none"; do
  IFS='|' read -r label u c <<<"$label_url"
  run "$label, br"       "$u" "$c" -H "$browser"
  run "$label, identity" "$u" "$c"
done
run "uncached (Cache-Control: no-cache), br" "http://127.0.0.1:3911$url" "$cookie" -H "$browser" -H "Cache-Control: no-cache"

# p99 at half load: connections that each wait 1 ms between requests (wrk's finest pause),
# as many as make about half the measured L1 rate; once more with the count corrected by
# what the first try reached.
paced() { # connections -> wrk's output
  DELAY_MS=1 wrk -t1 -c"$1" -d"${secs}s" --latency -s bench/paced.lua \
    -H "Cookie: hearth_session=$cookie" -H "$browser" "http://127.0.0.1:3911$url"
}
half="$(awk -v r="$m_hb" 'BEGIN {printf "%d", r / 2}')"
half_conns="$(awk -v h="$half" 'BEGIN {c = int(h / 900 + 0.5); print (c < 1 ? 1 : c)}')"
reached="$(paced "$half_conns" | awk '/Requests\/sec/ {print $2}')"
half_conns="$(awk -v c="$half_conns" -v h="$half" -v r="$reached" 'BEGIN {n = int(c * h / r + 0.5); print (n < 1 ? 1 : n)}')"
out="$(paced "$half_conns")"
printf '%-34s %12s req/s   p50 %8s   p99 %8s   (%s connections, 1 ms pauses; half is %s)\n' \
  "L1 hit at half load, br" "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
  "$(echo "$out" | awk '$1=="50%" {print $2}')" "$(echo "$out" | awk '$1=="99%" {print $2}')" \
  "$half_conns" "$half"

# 3. The family mix on the Redis-backed server (warming after writes included).
: >bench/families.txt
families="${FAMILIES:-200}"
for i in $(seq 1 "$families"); do
  line="$(signup 3912 "mix-$i-$tag@example.org" 3)"
  echo "$line" >>bench/families.txt
done
echo "mix: $families families, 90 % reads / 10 % writes, br, wrk -t2 -c32 -d${secs}s on the Redis-backed server"
wrk -t2 -c32 -d"${secs}s" --latency -s bench/mix.lua http://127.0.0.1:3912 | grep -E "MIX|Requests/sec|  50%|  99%"
rm -f bench/families.txt
