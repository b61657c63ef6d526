#!/usr/bin/env bash
# What metrics cost: GetOperation throughput of one release build with
# --metrics-listen against the same build without, interleaved over several
# rounds (each pair back to back, in alternating order) so machine noise
# hits both alike; prints each round's ratio and the median. The server
# with metrics is scraped once at the end, to show the calls were counted.
#   bench/metrics_ratio.sh [rounds] [requests] [target/release]
# Needs h2load (nghttp2-client).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-8}
requests=${2:-200000}
bin=${3:-target/release}
work=$(mktemp -d)
# The servers on one core, the load generator on the other.
server_cpu=(taskset -c 1); load_cpu=(taskset -c 0)
LONGRUN_LOG=warn "${server_cpu[@]}" $bin/longrun serve --listen 127.0.0.1:19680 --control-listen 127.0.0.1:19681 \
  --database "sqlite://$work/off.db" & off=$!
LONGRUN_LOG=warn "${server_cpu[@]}" $bin/longrun serve --listen 127.0.0.1:19690 --control-listen 127.0.0.1:19691 \
  --database "sqlite://$work/on.db" --metrics-listen 127.0.0.1:19699 & on=$!
trap 'kill $off $on 2>/dev/null; rm -rf "$work"' EXIT
for port in 19680 19681 19690 19691 19699; do
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
done
# The same operation name on both, so both requests are byte for byte equal.
name_off=$($bin/examples/bench_load create 127.0.0.1:19681 projects/bench/locations/l)
name_on=$($bin/examples/bench_load create 127.0.0.1:19691 projects/bench/locations/l)
$bin/examples/bench_load get-body "$work/off.bin" "$name_off"
$bin/examples/bench_load get-body "$work/on.bin" "$name_on"
rps() {
  "${load_cpu[@]}" h2load -n "$requests" -c 16 -m 16 -t 1 --data="$work/$2.bin" \
    -H 'content-type: application/grpc' -H 'te: trailers' \
    "http://127.0.0.1:$1/google.longrunning.Operations/GetOperation" |
    sed -n 's/.*finished in [^,]*, \([0-9.]*\) req.*/\1/p'
}
ratios=()
for round in $(seq "$rounds"); do
  if (( round % 2 )); then o=$(rps 19680 off); m=$(rps 19690 on); else m=$(rps 19690 on); o=$(rps 19680 off); fi
  ratio=$(python3 -c "print(f'{$m/$o:.3f}')")
  echo "round $round: metrics off $o req/s, on $m req/s, ratio $ratio"
  ratios+=("$ratio")
done
python3 -c "import statistics,sys; r=list(map(float, sys.argv[1:])); print(f'median ratio on/off {statistics.median(r):.3f} (range {min(r):.3f}-{max(r):.3f})')" "${ratios[@]}"
counted=$(curl -s http://127.0.0.1:19699/metrics |
  sed -n 's/^longrun_rpc_requests_total{.*method="GetOperation".*code="OK".*} \([0-9]*\).*/\1/p')
echo "GetOperation calls counted by the server with metrics: ${counted:-none}"
