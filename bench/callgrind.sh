#!/usr/bin/env bash
# Instructions per request, counted by callgrind: unlike req/s they do not
# move with the machine's load, so two builds compare on a busy machine.
# Runs the release server under callgrind twice, with N and 3N GetOperation
# calls (gRPC, REST over HTTP/1.1, REST over h2c), and prints
# (instructions(3N) - instructions(N)) / 2N for each: start-up, the first
# calls and shutdown cancel out.
#   bench/callgrind.sh [N] [target/release]
# SERVE_FLAGS adds flags to `longrun serve` (e.g. SERVE_FLAGS='--metrics-listen
# 127.0.0.1:19599' for what metrics cost).
# Needs valgrind and h2load (nghttp2-client).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500}
bin=${2:-target/release}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

wait_port() {
  for _ in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return; sleep 0.1; done
  echo "port $1 never opened" >&2; exit 1
}

# One run: a fresh server under callgrind, one operation, `count` calls of
# one kind, SIGTERM; prints the instructions the whole process executed.
run() {
  local kind=$1 count=$2 out="$work/cg.$1.$2"
  rm -f "$work/db"*
  LONGRUN_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$bin/longrun" serve --listen 127.0.0.1:19580 --control-listen 127.0.0.1:19581 \
    --database "sqlite://$work/db" ${SERVE_FLAGS:-} >/dev/null 2>"$work/vg.log" & local pid=$!
  wait_port 19580; wait_port 19581
  local name
  name=$("$bin/examples/bench_load" create 127.0.0.1:19581 projects/bench/locations/l)
  "$bin/examples/bench_load" get-body "$work/get.bin" "$name"
  case $kind in
    grpc) h2load -n "$count" -c 4 -m 4 -t 1 --data="$work/get.bin" \
            -H 'content-type: application/grpc' -H 'te: trailers' \
            "http://127.0.0.1:19580/google.longrunning.Operations/GetOperation" >"$work/load.log" ;;
    rest-h1) h2load --h1 -n "$count" -c 4 -t 1 "http://127.0.0.1:19580/v1/$name" >"$work/load.log" ;;
    rest-h2c) h2load -n "$count" -c 4 -m 4 -t 1 "http://127.0.0.1:19580/v1/$name" >"$work/load.log" ;;
  esac
  grep -q "status codes: $count 2xx" "$work/load.log" || { cat "$work/load.log" >&2; exit 1; }
  kill -TERM "$pid"; wait "$pid" || true
  sed -n 's/^summary: \([0-9]*\)/\1/p' "$out"* | awk '{s+=$1} END {print s}'
}

for kind in grpc rest-h1 rest-h2c; do
  small=$(run "$kind" "$n"); large=$(run "$kind" $((3 * n)))
  python3 -c "print(f'$kind: {($large - $small) / (2 * $n):,.0f} instructions per GetOperation')"
done
