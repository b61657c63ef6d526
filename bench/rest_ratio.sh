#!/usr/bin/env bash
# REST GET of one operation, longrun vs a bare hyper server returning the same
# JSON from memory, over HTTP/1.1 (wrk) and h2c (h2load), interleaved over
# many short rounds so machine noise hits both alike; prints each round's
# ratios, then the median and range. Usage: bench/rest_ratio.sh [rounds]
# [seconds]. Needs wrk, h2load and a release build (bench/run.sh installs and
# builds them). FIXTURE=realistic (default) or small picks the operation
# (see examples/bench_load/fixture.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-30}
seconds=${2:-1}
bin=target/release
work=$(mktemp -d)
fixture=${FIXTURE:-realistic}
fixture_flags=()
if [[ $fixture == realistic ]]; then
  $bin/examples/bench_load descriptor-set "$work/bench.binpb"
  fixture_flags=(--descriptor-set "$work/bench.binpb")
fi
LONGRUN_LOG=warn $bin/longrun serve --listen 127.0.0.1:19380 --control-listen 127.0.0.1:19381 \
  --database "sqlite://$work/b.db" "${fixture_flags[@]}" & ours=$!
trap 'kill $ours ${bare:-} 2>/dev/null; rm -rf "$work"' EXIT
for port in 19380 19381; do
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
done
# The bare server answers exactly what longrun answers for the fixture.
name=$($bin/examples/bench_load fixture "$fixture" 127.0.0.1:19381 127.0.0.1:19380 "$work")
$bin/examples/bench_bare_rest 127.0.0.1:19391 "$work/operation.json" & bare=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/19391) 2>/dev/null && break; sleep 0.1; done
path="/v1/$name"
h1() { wrk -t1 -c16 -d"${seconds}s" "http://127.0.0.1:$1$path" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p'; }
h2() {
  h2load -D "$seconds" -c 16 -m 16 -t 1 "http://127.0.0.1:$1$path" |
    sed -n 's/.*finished in [^,]*, \([0-9.]*\) req.*/\1/p'
}
h1_ratios=(); h2_ratios=()
for round in $(seq "$rounds"); do
  # Short runs, each pair back to back and in alternating order, so load
  # from outside the benchmark lands on both sides of a pair alike.
  if (( round % 2 )); then
    b1=$(h1 19391); o1=$(h1 19380); o2=$(h2 19380); b2=$(h2 19391)
  else
    o1=$(h1 19380); b1=$(h1 19391); b2=$(h2 19391); o2=$(h2 19380)
  fi
  r1=$(python3 -c "print(f'{$o1/$b1:.3f}')"); r2=$(python3 -c "print(f'{$o2/$b2:.3f}')")
  echo "round $round: HTTP/1.1 $o1 vs $b1 req/s = $r1; h2c $o2 vs $b2 req/s = $r2"
  h1_ratios+=("$r1"); h2_ratios+=("$r2")
done
summary() {
  python3 -c "import statistics,sys; r=list(map(float, sys.argv[1:])); print(f'median {statistics.median(r):.3f} (range {min(r):.3f}-{max(r):.3f})')" "$@"
}
echo "HTTP/1.1: $(summary "${h1_ratios[@]}")"
echo "h2c:      $(summary "${h2_ratios[@]}")"
