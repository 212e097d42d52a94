#!/usr/bin/env bash
# Fuzzes the input edges (issue 21, RELIABILITY.md "Fuzzing"): every JSON body, the WebSocket's
# text frames and the CSV import, each target for the minutes given, with cargo-fuzz on the
# nightly toolchain (installed if missing). The corpus grows in fuzz/corpus/<target> (not
# committed); a crash stops the run and leaves its input in fuzz/artifacts/<target>, which
# `cargo +nightly fuzz run <target> <file>` replays.
# Usage: bench/fuzz.sh [minutes per target, 10] [targets…]   (JOBS=2 runs two targets at once)
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-10}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(json_bodies ws_frames csv_import)
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
for t in "${targets[@]}"; do cargo +nightly fuzz build --fuzz-dir fuzz "$t"; done
seconds=$((minutes * 60))
run() { # target
  mkdir -p "fuzz/corpus/$1"
  local status=0
  cargo +nightly fuzz run --fuzz-dir fuzz "$1" "fuzz/corpus/$1" -- \
    -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"fuzz/$1.log" 2>&1 || status=$?
  local runs cov
  runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "fuzz/$1.log" | grep -o '[0-9]*$' || echo '?')"
  cov="$(grep -o 'cov: [0-9]*' "fuzz/$1.log" | tail -1 | grep -o '[0-9]*' || echo '?')"
  echo "$1: ${minutes} min, ${runs} inputs, coverage ${cov} edges, corpus $(ls "fuzz/corpus/$1" | wc -l) files, $( [ $status -eq 0 ] && echo 'no crash' || echo "CRASH (fuzz/$1.log, fuzz/artifacts/$1)")"
  return $status
}
status=0
if [ "${JOBS:-1}" -gt 1 ]; then
  pids=()
  for t in "${targets[@]}"; do run "$t" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || status=1; done
else
  for t in "${targets[@]}"; do run "$t" || status=1; done
fi
exit $status
