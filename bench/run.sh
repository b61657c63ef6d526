#!/usr/bin/env bash
# The single-server benchmarks, run on this machine in one go so the figures
# can be compared as ratios (the machine is shared and noisy):
#   1. GetOperation throughput: longrun vs a bare tonic server (h2load)
#   2. Cancel + Complete acknowledged writes/s at 64 clients (synchronous=FULL)
#   3. Cancel reaching an open Watch: p50/p99
#   4. fsyncs per acknowledged write under strace (group commit)
# Usage: bench/run.sh [seconds-per-write-run]
# For a steadier GetOperation ratio on a noisy machine: bench/get_ratio.sh [rounds].
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
requests=${REQUESTS:-200000}

if ! command -v h2load >/dev/null || ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq nghttp2-client wrk >/dev/null
fi
cargo build --release --quiet --bin longrun --example bench_bare_server --example bench_bare_rest --example bench_load
bin=target/release
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return; sleep 0.1; done; echo "port $1 never opened"; exit 1; }

$bin/examples/bench_bare_server 127.0.0.1:19090 & pids+=($!)
LONGRUN_LOG=warn $bin/longrun serve --listen 127.0.0.1:19080 --control-listen 127.0.0.1:19081 \
  --database "sqlite://$work/bench.db" & pids+=($!)
wait_port 19090; wait_port 19080; wait_port 19081

name=$($bin/examples/bench_load create 127.0.0.1:19081 projects/bench/locations/l)
$bin/examples/bench_load get-body "$work/get.bin" "$name"

h2() {
  h2load -n "$requests" -c 16 -m 16 -t 1 --data="$work/get.bin" \
    -H 'content-type: application/grpc' -H 'te: trailers' \
    "http://127.0.0.1:$1/google.longrunning.Operations/GetOperation" | grep -E 'finished in|requests:|status codes'
}
echo "== GetOperation, bare tonic server"; bare=$(h2 19090); echo "$bare"
echo "== GetOperation, longrun serve";     ours=$(h2 19080); echo "$ours"
rps() { sed -n 's/.*finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' <<<"$1"; }
python3 -c "b=$(rps "$bare"); o=$(rps "$ours"); print(f'ratio longrun/bare = {o/b:.3f} ({o:.0f} vs {b:.0f} req/s)')"

$bin/examples/bench_bare_rest 127.0.0.1:19091 & pids+=($!)
wait_port 19091
rest_path="/v1/$name"
echo "== REST GET over HTTP/1.1 (wrk -t1 -c16 -d${seconds}s)"
wrk_rps() { wrk -t1 -c16 -d"${seconds}s" "$1" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p'; }
bare_h1=$(wrk_rps "http://127.0.0.1:19091$rest_path"); ours_h1=$(wrk_rps "http://127.0.0.1:19080$rest_path")
python3 -c "b=$bare_h1; o=$ours_h1; print(f'HTTP/1.1 ratio longrun/bare = {o/b:.3f} ({o:.0f} vs {b:.0f} req/s)')"
echo "== REST GET over h2c (h2load)"
h2get() { h2load -n "$requests" -c 16 -m 16 -t 1 "http://127.0.0.1:$1$rest_path" | grep -E 'finished in'; }
bare_h2=$(h2get 19091); ours_h2=$(h2get 19080)
python3 -c "b=$(rps "$bare_h2"); o=$(rps "$ours_h2"); print(f'h2c ratio longrun/bare = {o/b:.3f} ({o:.0f} vs {b:.0f} req/s)')"
echo "== What the transcoder adds to one GetOperation (p50, one call at a time)"
$bin/examples/bench_load rest-overhead 127.0.0.1:19080 "$name" 5000

echo "== Cancel + Complete, 64 clients, ${seconds}s"
$bin/examples/bench_load writes 127.0.0.1:19081 127.0.0.1:19080 64 "$seconds"

echo "== Cancel -> Watch latency"
$bin/examples/bench_load watch-latency 127.0.0.1:19081 127.0.0.1:19080 1000

echo "== fsync per acknowledged write (strace), 64 clients, 3s"
# kill -9 alone cannot prove durability (the OS still writes its page cache
# out); count the fsyncs that back the acknowledged writes. Group commit
# should make it far below one.
command -v strace >/dev/null || { apt-get install -y -qq strace >/dev/null; }
strace -f -qq -c -e trace=fsync,fdatasync -o "$work/strace.txt" \
  env LONGRUN_LOG=warn $bin/longrun serve --listen 127.0.0.1:19180 --control-listen 127.0.0.1:19181 \
  --database "sqlite://$work/strace.db" & strace_pid=$!
pids+=($strace_pid)
wait_port 19180; wait_port 19181
OPS_PER_CLIENT=300 $bin/examples/bench_load writes 127.0.0.1:19181 127.0.0.1:19180 64 3
pkill -TERM -f "listen 127.0.0.1:19180" || true
wait "$strace_pid" || true
cat "$work/strace.txt"
echo "acknowledged writes in that run: $((64 * 300)) creates + the cancel_or_complete count above"
