#!/usr/bin/env bash
# Lighthouse (mobile preset: an emulated mid-range phone on a throttled 4G link) on the
# release build, for the performance and accessibility categories, on /login (signed out)
# and /budget (signed in, a family with expenses). Scores go to BENCHMARKS.md.
# Needs the release build (cargo leptos build --release --precompress --split --bin-features embed-site) and Chromium at
# /usr/bin/chromium (or CHROME_PATH); fetches Lighthouse with npx the first time.
# Lighthouse's scores move from run to run (its simulated 4x slowdown multiplies this machine's
# own task times), so each page is measured RUNS times (default 3) and the median reported, as
# Lighthouse's own guidance on variability suggests.
# A slow phase of this VM can be stood in for on a fast day: CPU_SLOWDOWN=N sets Lighthouse's
# CPU multiplier (default 4, the mobile preset's) to N, e.g. 8 on a day whose benchmark index
# is twice a slow phase's (BENCHMARKS.md says which days were which).
# Usage: [RUNS=3] [CPU_SLOWDOWN=4] bench/lighthouse.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
LIGHTHOUSE_VERSION="13.5.0"
work="$(mktemp -d)"
port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
base="http://127.0.0.1:$port"
DATABASE_URL="sqlite://$work/hearth.db" LEPTOS_SITE_ADDR="127.0.0.1:$port" RUST_LOG=warn \
  ./target/release/hearth >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; if [ -n "${KEEP:-}" ]; then echo "reports in $work"; else rm -rf "$work"; fi' EXIT
for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

jar="$work/jar"
json() { curl -sf -b "$jar" -c "$jar" -H 'content-type: application/json' "$@"; }
json -d '{"email":"lighthouse@example.org","password":"correct horse battery","display_name":"Lia"}' \
  "$base/api/auth/register" >/dev/null
json -d '{"name":"Lighthouse family","currency":"EUR","timezone":"Europe/Berlin"}' "$base/api/families" >/dev/null
category="$(json "$base/api/categories" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).categories[0].id))')"
for amount in 1250 3999 820 4500 1999; do
  json -d "{\"category_id\":\"$category\",\"amount_minor\":$amount,\"note\":\"groceries\"}" "$base/api/expenses" >/dev/null
done
cookie="$(awk '$6 ~ /^hearth/ {print $6"="$7}' "$jar" | head -n 1)"

run() { # name url [extra headers json]
  local name=$1 url=$2 headers=${3:-'{}'} attempt
  # Lighthouse now and then fails to record the trace (NO_NAVSTART): one more try then.
  for attempt in 1 2; do
    npx --yes "lighthouse@$LIGHTHOUSE_VERSION" "$url" --quiet \
      --only-categories=performance,accessibility \
      --throttling.cpuSlowdownMultiplier="${CPU_SLOWDOWN:-4}" \
      --chrome-flags="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync" \
      --extra-headers="$headers" --output=json --output-path="$work/$name.json" >"$work/$name.log" 2>&1 && break
    if [ "$attempt" = 2 ]; then
      tail -n 20 "$work/$name.log"; echo "lighthouse failed on $url"; return 1
    fi
  done
  node -e '
    const r = require(process.argv[1]);
    const c = r.categories, a = r.audits;
    const ms = (k) => a[k] && a[k].numericValue != null ? Math.round(a[k].numericValue) + " ms" : "n/a";
    console.log(`${process.argv[2].padEnd(8)} performance ${Math.round(c.performance.score * 100)}  accessibility ${Math.round(c.accessibility.score * 100)}  FCP ${ms("first-contentful-paint")}  LCP ${ms("largest-contentful-paint")}  TBT ${ms("total-blocking-time")}  CLS ${a["cumulative-layout-shift"].numericValue.toFixed(3)}  (${r.configSettings.formFactor}, CPU x${r.configSettings.throttling.cpuSlowdownMultiplier}, Lighthouse ${r.lighthouseVersion}, benchmark index ${Math.round(r.environment.benchmarkIndex)})`);
  ' "$work/$name.json" "$name"
}
runs="${RUNS:-3}"
median() { # page: the median performance score of its runs
  node -e '
    const [work, page, runs] = process.argv.slice(1);
    const scores = [];
    for (let i = 1; i <= +runs; i++) scores.push(Math.round(require(`${work}/${page}-${i}.json`).categories.performance.score * 100));
    scores.sort((a, b) => a - b);
    console.log(`${page.padEnd(8)} performance median ${scores[(scores.length - 1) >> 1]} of ${scores.join(", ")}`);
  ' "$work" "$1" "$runs"
}
for i in $(seq 1 "$runs"); do
  run "login-$i" "$base/login"
  run "budget-$i" "$base/budget" "{\"Cookie\":\"$cookie\"}"
done
median login
median budget
