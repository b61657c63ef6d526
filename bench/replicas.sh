#!/usr/bin/env bash
# Benchmarks of two `longrun serve` replicas on one local
# PostgreSQL (a fresh database, dropped at the end).
#   1. Cancel sent to replica B reaching a Watch on replica A: p50/p99
#      (target p99 < 50 ms)
#   2. Create + Complete acknowledged writes/s at 64 clients, spread over
#      both replicas, each Complete on the other replica than its Create
#      (target >= 3,000/s); then the same against one replica
# Usage: bench/replicas.sh [seconds] ; PG_URL overrides the server
# (default postgres://postgres@127.0.0.1:5432).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
pg=${PG_URL:-postgres://postgres@127.0.0.1:5432}
db="longrun_bench_$$"

if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi
cargo build --release --quiet --bin longrun --example bench_load
bin=target/release
[ -n "${CARGO_TARGET_DIR:-}" ] && bin="$CARGO_TARGET_DIR/release"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$pg/postgres" -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
psql "$pg/postgres" -qc "create database $db"
url="$pg/$db"
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return; sleep 0.1; done; echo "port $1 never opened"; exit 1; }

"$bin/longrun" migrate --database "$url"
for r in 0 1; do
  LONGRUN_LOG=warn "$bin/longrun" serve --listen "127.0.0.1:1928$r" --control-listen "127.0.0.1:1929$r" \
    --database "$url" --migrate=false & pids+=($!)
done
wait_port 19280; wait_port 19290; wait_port 19281; wait_port 19291

echo "== Cancel on replica B -> Watch on replica A"
"$bin/examples/bench_load" watch-latency 127.0.0.1:19290 127.0.0.1:19281 1000
echo "== Cancel on the same replica -> Watch (for comparison)"
"$bin/examples/bench_load" watch-latency 127.0.0.1:19290 127.0.0.1:19280 1000
echo "== Create + Complete, 64 clients, two replicas, ${seconds}s"
"$bin/examples/bench_load" create-complete 127.0.0.1:19290,127.0.0.1:19291 64 "$seconds"
echo "== Create + Complete, 64 clients, one replica, ${seconds}s"
"$bin/examples/bench_load" create-complete 127.0.0.1:19290 64 "$seconds"
