#!/usr/bin/env bash
# Hearth's WebSocket hub benchmark (see BENCHMARKS.md): two release servers sharing a Redis of
# their own and a PostgreSQL schema of their own, driven by the `wsload` example.
#   bench/ws.sh idle    [clients]          19 000 idle sockets on one server: held, RSS each
#                                          (BACKEND=embedded: the server without Redis, on SQLite)
#   bench/ws.sh fanout  [clients] [rate]   rate msgs/s to clients over two servers
#   bench/ws.sh kill    [clients] [rate]   fan-out, then SIGKILL of one server mid-run
#   bench/ws.sh churn   [clients] [rate]   fan-out while every client drops its socket every ~2 s
#                                          and resumes on the other server with `since`
# Needs redis-server and a PostgreSQL at 127.0.0.1:5432 (HEARTH_TEST_POSTGRES).
# HEARTH_BIN=path runs another build of the server (an older one, to compare on one machine).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-fanout}"
clients="${2:-1000}"
rate="${3:-100}"
pg="${HEARTH_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}"
cargo build --release -p hearth --bin hearth --example wsload >/dev/null 2>&1
bin="${HEARTH_BIN:-./target/release/hearth}"
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
redis_port="$(free_port)"
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --maxclients 1000 >"$work/redis.log" 2>&1 &
pids+=($!)
schema="hearth_bench_$RANDOM$RANDOM"
psql "$pg" -qc "CREATE SCHEMA $schema" >/dev/null
db="$pg?options=-c%20search_path%3D$schema"
started_pid=""
# The load tool's publisher sends far more frames than a person: the servers lift the limit.
backend="${BACKEND:-redis}"   # idle only: BACKEND=embedded runs the server without Redis, on SQLite
start() { # port; sets started_pid (not run in a subshell, so the trap knows every pid)
  local port=$1
  if [ "$backend" = embedded ]; then
    DATABASE_URL="sqlite://$work/hearth.db" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
      WEBSOCKET_MAX_FRAMES_PER_SECOND=100000 RUST_LOG=warn "$bin" >"$work/$port.log" 2>&1 &
  else
    REDIS_URL="redis://127.0.0.1:$redis_port" DATABASE_URL="$db" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
      WEBSOCKET_MAX_FRAMES_PER_SECOND=100000 RUST_LOG=warn "$bin" >"$work/$port.log" 2>&1 &
  fi
  started_pid=$!
  pids+=($started_pid)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
}
a_port="$(free_port)"; start "$a_port"; a_pid=$started_pid
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; open-file limit $(ulimit -n)"
case "$mode" in
  idle)
    ./target/release/examples/wsload idle --servers "http://127.0.0.1:$a_port" --pids "$a_pid" --clients "${2:-19000}"
    ;;
  fanout|kill|churn)
    b_port="$(free_port)"; start "$b_port"; b_pid=$started_pid
    ./target/release/examples/wsload "$mode" --servers "http://127.0.0.1:$a_port,http://127.0.0.1:$b_port" \
      --pids "$a_pid,$b_pid" --clients "$clients" --rate "$rate" --seconds "${SECONDS_RUN:-10}"
    ;;
esac
psql "$pg" -qc "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1 || true
