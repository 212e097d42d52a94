#!/usr/bin/env bash
# The floor under issue 20's hydration task: `bench/hydration-floor/` hydrates the smallest
# useful interactive part (five expenses as props, their total, a form, the list) with the
# same Leptos, wasm-bindgen and wasm-opt as Hearth, and no router, resources or anything else:
# what any Leptos page, or one island of one, costs to hydrate. Each run loads it in Chromium
# at Lighthouse's 4x CPU slowdown and prints the hydration task (its timer task), as browsers
# run it (each function compiled on its first call) and with V8's lazy compilation off
# (every function compiled while the module downloads). With HEARTH_URL (and HEARTH_COOKIE,
# `name=value`) a running Hearth's page is measured the same way in turn, for the ratio of one
# sitting. Results: BENCHMARKS.md. Needs scripts/ensure-tools.sh's tools (wasm-bindgen,
# end2end's wasm-opt and Playwright, Chromium).
# Usage: [RUNS=5] [HEARTH_URL=http://127.0.0.1:3000/budget HEARTH_COOKIE=…] bench/hydration-floor.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="$root/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="$root/target/hydration-floor"
site="$CARGO_TARGET_DIR/site"
(
  cd bench/hydration-floor
  cargo build --locked --release --features ssr --bin render
  cargo build --locked --lib --target wasm32-unknown-unknown --profile wasm-release --features hydrate
)
rm -rf "$site" && mkdir -p "$site/pkg"
"$CARGO_TARGET_DIR/release/render" >"$site/index.html"
wasm-bindgen --target web --out-dir "$site/pkg" --out-name hydration_floor \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/hydration_floor.wasm"
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  "$site/pkg/hydration_floor_bg.wasm" -o "$site/pkg/hydration_floor_bg.wasm"
python3 -c 'import sys, os; print("module:", os.path.getsize(sys.argv[1]), "B")' "$site/pkg/hydration_floor_bg.wasm"

port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$site" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
task() { # label url [cookie], then the same with V8's lazy compilation off
  echo "$1 as browsers run it:     $(node end2end/tools/hydration-task.mjs "$2" "${3:-}")"
  echo "$1 lazy compilation off:   $(JSFLAGS=--no-wasm-lazy-compilation node end2end/tools/hydration-task.mjs "$2" "${3:-}")"
}
for i in $(seq 1 "${RUNS:-5}"); do
  task "run $i, floor:  " "http://127.0.0.1:$port/"
  if [ -n "${HEARTH_URL:-}" ]; then task "run $i, Hearth: " "$HEARTH_URL" "${HEARTH_COOKIE:-}"; fi
done
