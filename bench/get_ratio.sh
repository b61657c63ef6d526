#!/usr/bin/env bash
# GetOperation throughput, longrun vs a bare tonic server, interleaved over
# several rounds so machine noise hits both alike; prints each round's ratio
# and the median. Usage: bench/get_ratio.sh [rounds]. Needs h2load
# (nghttp2-client) and a release build (bench/run.sh makes one).
# FIXTURE=realistic (default) or small picks the operation (see
# examples/bench_load/fixture.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-6}
bin=target/release
work=$(mktemp -d)
fixture=${FIXTURE:-realistic}
fixture_flags=()
if [[ $fixture == realistic ]]; then
  $bin/examples/bench_load descriptor-set "$work/bench.binpb"
  fixture_flags=(--descriptor-set "$work/bench.binpb")
fi
LONGRUN_LOG=warn $bin/longrun serve --listen 127.0.0.1:19080 --control-listen 127.0.0.1:19081 \
  --database "sqlite://$work/b.db" "${fixture_flags[@]}" & ours=$!
trap 'kill $ours ${bare:-} 2>/dev/null; rm -rf "$work"' EXIT
for port in 19080 19081; do
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
done
# The bare server answers exactly what longrun answers for the fixture.
name=$($bin/examples/bench_load fixture "$fixture" 127.0.0.1:19081 127.0.0.1:19080 "$work")
$bin/examples/bench_bare_server 127.0.0.1:19090 "$work/operation.pb" & bare=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/19090) 2>/dev/null && break; sleep 0.1; done
rps() {
  h2load -n 300000 -c 16 -m 16 -t 1 --data="$work/get.bin" \
    -H 'content-type: application/grpc' -H 'te: trailers' \
    "http://127.0.0.1:$1/google.longrunning.Operations/GetOperation" |
    sed -n 's/.*finished in [^,]*, \([0-9.]*\) req.*/\1/p'
}
ratios=()
for round in $(seq "$rounds"); do
  b=$(rps 19090); o=$(rps 19080)
  ratio=$(python3 -c "print(f'{$o/$b:.3f}')")
  echo "round $round: bare $b req/s, longrun $o req/s, ratio $ratio"
  ratios+=("$ratio")
done
python3 -c "import statistics,sys; print('median ratio', statistics.median(map(float, sys.argv[1:])))" "${ratios[@]}"
