#!/usr/bin/env bash
# Durable writes through the real gRPC ports: Cancel-or-Complete, then Create
# with a request_id, each acknowledged only after its commit, at 256
# concurrent callers (bench_load writes / creates print rate, p50 and p99);
# on SQLite (synchronous=FULL) with fsyncs per acknowledged write counted
# under strace in a separate shorter run, and on PostgreSQL with the
# default pool. Last, the SQLite store alone (bench_store: no network, no
# server) takes inserts from 1, 16 and 256 concurrent writers, and says how
# many commits (fsyncs) they took.
#
#   bench/writes.sh [seconds]        default 10
#   CLIENTS=256  STORES="sqlite postgres"  PG_URL=postgres://postgres@127.0.0.1:5432
#   SMOKE=1   tiny counts on the debug build, so CI can run the script and it cannot rot
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
clients=${CLIENTS:-256}
stores=${STORES:-sqlite postgres}
pg=${PG_URL:-postgres://postgres@127.0.0.1:5432}
db="longrun_writes_$$"
profile=release; per_client=${OPS_PER_CLIENT:-1500}; strace_per_client=100; store_inserts=4000
if [ -n "${SMOKE:-}" ]; then
  seconds=1; clients=${CLIENTS:-16}; profile=debug; per_client=20; strace_per_client=5; store_inserts=256
fi

. bench/lib.sh
bench_setup bench_load bench_store
serve() {
  LONGRUN_LOG=warn "$@" serve --listen 127.0.0.1:19480 --control-listen 127.0.0.1:19481 \
    --database "$url" --console=false & server=$!
  wait_port 19480; wait_port 19481
}
# Under strace the server is strace's child: stop that, so strace writes its
# count when its tracee exits.
stop() {
  local pid; pid=$(pgrep -P "$server" -x longrun || echo "$server")
  kill -TERM "$pid"; wait "$server" || true; server=""
}

for store in $stores; do
  bench_store_url "$store" writes || continue
  echo "== $store: Cancel or Complete, $clients clients, ${seconds}s"
  serve "$bin/longrun"
  out=$(OPS_PER_CLIENT=$per_client "$bin/examples/bench_load" writes 127.0.0.1:19481 127.0.0.1:19480 "$clients" "$seconds")
  echo "$out"
  bench_row "writes ($store, $clients clients)" "Cancel or Complete per second (p50 / p99)" \
    "$(field per_second "$out") ($(field p50 "$out") / $(field p99 "$out"))"
  echo "== $store: Create with a request_id, $clients clients, ${seconds}s"
  out=$("$bin/examples/bench_load" creates 127.0.0.1:19481 "$clients" "$seconds")
  echo "$out"
  bench_row "writes ($store, $clients clients)" "Create with a request_id per second (p50 / p99)" \
    "$(field per_second "$out") ($(field p50 "$out") / $(field p99 "$out"))"
  stop

  if [ "$store" = sqlite ]; then
    if ! command -v strace >/dev/null; then
      echo "== sqlite: strace not installed, fsyncs per write not counted"; continue
    fi
    echo "== sqlite: fsyncs per acknowledged write (strace), $clients clients"
    url="sqlite://$work/strace.db"
    serve strace -f -qq -c -e trace=fsync,fdatasync -o "$work/strace.txt" "$bin/longrun"
    out=$(OPS_PER_CLIENT=$strace_per_client "$bin/examples/bench_load" writes \
      127.0.0.1:19481 127.0.0.1:19480 "$clients" 60)
    echo "$out"
    stop
    acked=$(sed -n 's/.*acknowledged_cancel_or_complete=\([0-9]*\).*/\1/p' <<<"$out")
    writes=$((acked + clients * strace_per_client))
    fsyncs=$(awk '$NF ~ /^(fsync|fdatasync)$/ { n += $4 } END { print n + 0 }' "$work/strace.txt")
    python3 -c "print(f'{$fsyncs} fsyncs for {$writes} acknowledged writes (creates included): {$fsyncs / $writes:.3f} per write')"
    bench_row "writes (sqlite, $clients clients)" "fsyncs per acknowledged write (strace)" \
      "$(python3 -c "print(f'{$fsyncs / $writes:.3f} ($fsyncs for $writes)')")"
  fi
done

echo "== sqlite store alone (no network, no server): $store_inserts inserts, by concurrent writers"
for writers in 1 16 256; do
  out=$("$bin/examples/bench_store" inserts "$work" "$store_inserts" "$writers")
  echo "$out"
  bench_row "writes (sqlite store alone)" "inserts per second, $writers writers (inserts per commit)" \
    "$(field per_second "$out") ($(field inserts_per_commit "$out"))"
done
