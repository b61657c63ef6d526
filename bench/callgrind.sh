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
# FIXTURE=realistic (the default: a done operation with a 126-byte metadata
# and a 59-byte response Any) or small (a fresh operation, the first
# figures'); see examples/bench_load/fixture.rs.
# KINDS picks the runs (default: grpc rest-h1 rest-h2c); bare-grpc, bare-h1
# and bare-h2c count the bare tonic and hyper servers answering the same
# operation, for a ratio that does not move with the machine's load.
# KEEP=DIR keeps callgrind's output files there (cg.<kind>.<count>), for
# callgrind_annotate: where two builds differ, function by function.
# Needs valgrind and h2load (nghttp2-client).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500}
# PORT moves the three ports (PORT, +1, +2), for two runs side by side.
port0=${PORT:-19580}; port1=$((port0 + 1)); port2=$((port0 + 2))
bin=${2:-target/release}
fixture=${FIXTURE:-realistic}
work=$(mktemp -d)
keep=${KEEP:-}
trap '[[ -n $keep ]] && mkdir -p "$keep" && cp "$work"/cg.* "$keep"/; rm -rf "$work"' EXIT
fixture_flags=()
if [[ $fixture == realistic ]]; then
  "$bin/examples/bench_load" descriptor-set "$work/bench.binpb"
  fixture_flags=(--descriptor-set "$work/bench.binpb")
fi

wait_port() {
  for _ in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return; sleep 0.1; done
  echo "port $1 never opened" >&2; exit 1
}

# The fixture's name and answers, made once by a longrun outside callgrind,
# for the bare servers to answer.
fixture_answers() {
  rm -f "$work/db"*
  LONGRUN_LOG=warn "$bin/longrun" serve --listen 127.0.0.1:$port0 --control-listen 127.0.0.1:$port1 \
    --database "sqlite://$work/db" "${fixture_flags[@]}" >/dev/null & local pid=$!
  wait_port $port0; wait_port $port1
  "$bin/examples/bench_load" fixture "$fixture" 127.0.0.1:$port1 127.0.0.1:$port0 "$work" >"$work/name"
  kill -TERM "$pid"; wait "$pid" || true
}

# One run: a fresh server under callgrind, one operation, `count` calls of
# one kind, SIGTERM; prints the instructions the whole process executed.
run() {
  local kind=$1 count=$2 out="$work/cg.$1.$2" port=$port0
  rm -f "$work/db"*
  case $kind in
    bare-grpc) valgrind --tool=callgrind --callgrind-out-file="$out" \
      "$bin/examples/bench_bare_server" 127.0.0.1:$port2 "$work/operation.pb" 2>"$work/vg.log" & ;;
    bare-h1|bare-h2c) valgrind --tool=callgrind --callgrind-out-file="$out" \
      "$bin/examples/bench_bare_rest" 127.0.0.1:$port2 "$work/operation.json" 2>"$work/vg.log" & ;;
    *) LONGRUN_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$out" \
      "$bin/longrun" serve --listen 127.0.0.1:$port0 --control-listen 127.0.0.1:$port1 \
      --database "sqlite://$work/db" "${fixture_flags[@]}" ${SERVE_FLAGS:-} >/dev/null 2>"$work/vg.log" & ;;
  esac
  local pid=$! name
  if [[ $kind == bare-* ]]; then
    port=$port2; wait_port $port2; name=$(cat "$work/name")
  else
    wait_port $port0; wait_port $port1
    name=$("$bin/examples/bench_load" fixture "$fixture" 127.0.0.1:$port1 127.0.0.1:$port0 "$work" 2>/dev/null)
  fi
  case ${kind#bare-} in
    grpc) h2load -n "$count" -c 4 -m 4 -t 1 --data="$work/get.bin" \
            -H 'content-type: application/grpc' -H 'te: trailers' \
            "http://127.0.0.1:$port/google.longrunning.Operations/GetOperation" >"$work/load.log" ;;
    rest-h1|h1) h2load --h1 -n "$count" -c 4 -t 1 "http://127.0.0.1:$port/v1/$name" >"$work/load.log" ;;
    rest-h2c|h2c) h2load -n "$count" -c 4 -m 4 -t 1 "http://127.0.0.1:$port/v1/$name" >"$work/load.log" ;;
  esac
  grep -q "status codes: $count 2xx" "$work/load.log" || { cat "$work/load.log" >&2; exit 1; }
  kill -TERM "$pid"; wait "$pid" || true
  sed -n 's/^summary: \([0-9]*\)/\1/p' "$out"* | awk '{s+=$1} END {print s}'
}

kinds=${KINDS:-grpc rest-h1 rest-h2c}
[[ $kinds == *bare-* ]] && fixture_answers
for kind in $kinds; do
  small=$(run "$kind" "$n"); large=$(run "$kind" $((3 * n)))
  python3 -c "print(f'$kind ($fixture): {($large - $small) / (2 * $n):,.0f} instructions per GetOperation')"
done
