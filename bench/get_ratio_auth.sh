#!/usr/bin/env bash
# GetOperation throughput with authentication on vs the same server with
# it off (the ratio must stay >= 0.9). Interleaved rounds so
# machine noise hits both alike; prints each round's ratio and the median.
# The authenticated server verifies an EdDSA JWT from a JWKS file and checks
# a policy on every call; the token is the same on every call, as a real
# client's is until it expires, so this measures the hot path (cached
# verification + policy check), not signature checks.
# Usage: bench/get_ratio_auth.sh [rounds]. Needs h2load (nghttp2-client).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-6}
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet --bin longrun --example bench_load
bin=$target/release
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return; sleep 0.1; done; echo "port $1 never opened"; exit 1; }

$bin/longrun token keygen --alg EdDSA --kid bench --private-key "$work/key.pem" --jwks "$work/jwks.json" 2>/dev/null
cat > "$work/policy.yaml" <<'YAML'
bindings:
  - role: roles/viewer
    members: [user:bench@example.com]
    resources: [projects/bench]
YAML
token=$($bin/longrun token mint --alg EdDSA --kid bench --private-key "$work/key.pem" \
  --issuer https://bench.local --audience longrun --subject bench --email bench@example.com --lifetime 2h)

LONGRUN_LOG=warn $bin/longrun serve --listen 127.0.0.1:19080 --control-listen 127.0.0.1:19081 \
  --database "sqlite://$work/open.db" & pids+=($!)
LONGRUN_LOG=warn $bin/longrun serve --listen 127.0.0.1:19180 --control-listen 127.0.0.1:19181 \
  --database "sqlite://$work/auth.db" --jwks-file "$work/jwks.json" --policy "$work/policy.yaml" \
  --jwt-issuer https://bench.local --jwt-audience longrun & pids+=($!)
for port in 19080 19081 19180 19181; do wait_port $port; done

open_name=$($bin/examples/bench_load create 127.0.0.1:19081 projects/bench/locations/l)
auth_name=$($bin/examples/bench_load create 127.0.0.1:19181 projects/bench/locations/l)
$bin/examples/bench_load get-body "$work/open.bin" "$open_name"
$bin/examples/bench_load get-body "$work/auth.bin" "$auth_name"

rps() { # port body [extra h2load args]
  local port=$1 body=$2; shift 2
  h2load -n 300000 -c 16 -m 16 -t 1 --data="$body" \
    -H 'content-type: application/grpc' -H 'te: trailers' "$@" \
    "http://127.0.0.1:$port/google.longrunning.Operations/GetOperation" > "$work/out.txt"
  # Every call must succeed (grpc-status 0 arrives in trailers; a refusal
  # is trailers-only, so count 2xx and check for "succeeded" of all).
  grep -q "succeeded, 0 failed, 0 errored" "$work/out.txt" || { cat "$work/out.txt" >&2; exit 1; }
  sed -n 's/.*finished in [^,]*, \([0-9.]*\) req.*/\1/p' "$work/out.txt"
}
# One authenticated call first, and one refused: a refused token must fail
# the run, not make it fast. (A refusal is trailers-only: grpc-status in
# the headers, which h2load would still count as a 2xx.)
$bin/longrun operations --server http://127.0.0.1:19180 --token "$token" get "$auth_name" >/dev/null
refused=$(h2load -n 1 -c 1 --data="$work/auth.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
  -H "authorization: Bearer $token" -v "http://127.0.0.1:19180/google.longrunning.Operations/GetOperation" |
  sed -n 's/.*grpc-status: \([0-9]*\).*/\1/p' | head -1)
[ -z "$refused" ] || { echo "authenticated GetOperation refused: grpc-status $refused"; exit 1; }

ratios=()
for round in $(seq "$rounds"); do
  # Alternate who goes first, so a load change inside a round does not
  # always favour the same side. The third run sends the same header to the
  # server without auth: what the header alone costs (HPACK, h2load itself).
  if (( round % 2 )); then
    o=$(rps 19080 "$work/open.bin"); a=$(rps 19180 "$work/auth.bin" -H "authorization: Bearer $token")
  else
    a=$(rps 19180 "$work/auth.bin" -H "authorization: Bearer $token"); o=$(rps 19080 "$work/open.bin")
  fi
  h=$(rps 19080 "$work/open.bin" -H "authorization: Bearer $token")
  ratio=$(python3 -c "print(f'{$a/$o:.3f}')")
  echo "round $round: auth off $o req/s, auth on $a req/s, ratio $ratio (auth off + the same header: $h req/s)"
  ratios+=("$ratio")
done
python3 -c "import statistics,sys; print('median ratio auth on/off', statistics.median(map(float, sys.argv[1:])))" "${ratios[@]}"
