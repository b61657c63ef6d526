#!/usr/bin/env bash
# Many waiters on one server: WAITERS WaitOperation calls, and separately
# WAITERS Watch streams, held from PROCESSES client processes over HTTP/2
# connections of 100 streams each (below the server's 200), on operations
# with 100 waiters each; then every operation is completed in one burst.
# bench_load waiters prints the server's RSS before, while holding and
# after (VmRSS, and VmHWM for the peak), the database connections it holds
# (SQLite: its descriptors on the database file; PostgreSQL: its sessions),
# and how long after its operation's Complete was acknowledged each waiter
# had its answer (p50/p99/max, and how many answered).
#
#   bench/waiters.sh                 WAITERS=100000 on SQLite and PostgreSQL
#   WAITERS=...  PER_OPERATION=100  PROCESSES=4  KINDS="wait watch"
#   STORES="sqlite postgres"  PG_URL=postgres://postgres@127.0.0.1:5432
#   SMOKE=1   tiny counts on the debug build, so CI can run the script and it cannot rot
#
# Loopback only. Every process gets a raised `ulimit -n` (each connection
# is a descriptor on both sides).
set -euo pipefail
cd "$(dirname "$0")/.."
waiters=${WAITERS:-100000}; per_operation=${PER_OPERATION:-100}; processes=${PROCESSES:-4}
profile=release
if [ -n "${SMOKE:-}" ]; then
  waiters=${WAITERS:-400}; per_operation=${PER_OPERATION:-10}; processes=${PROCESSES:-2}; profile=debug
fi
kinds=${KINDS:-wait watch}
stores=${STORES:-sqlite postgres}
pg=${PG_URL:-postgres://postgres@127.0.0.1:5432}
db="longrun_waiters_$$"
operations=$((waiters / per_operation))
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

. bench/lib.sh
bench_setup bench_load

for store in $stores; do
  bench_store_url "$store" waiters || continue
  for kind in $kinds; do
    echo "== $store: $waiters ${kind} calls ($operations operations x $per_operation), $processes client processes, ulimit -n $(ulimit -n)"
    LONGRUN_LOG=warn "$bin/longrun" serve --listen 127.0.0.1:19680 --control-listen 127.0.0.1:19681 \
      --metrics-listen 127.0.0.1:19682 --database "$url" --console=false \
      --max-waiters $((2 * waiters)) --wait-cap 1h & server=$!
    wait_port 19680; wait_port 19681; wait_port 19682
    out=$("$bin/examples/bench_load" waiters "$kind" 127.0.0.1:19681 127.0.0.1:19680 127.0.0.1:19682 \
      "$server" "$operations" "$per_operation" "$processes" "$url")
    echo "$out"
    kill -TERM "$server"; wait "$server" || true; server=""
    area="waiters ($store, $(field waiters "$out") ${kind} calls)"
    bench_row "$area" "server RSS before / holding / after, MiB" \
      "$(field rss_before_mib "$out") / $(field rss_holding_mib "$out") / $(field rss_after_mib "$out") (peak $(field hwm_mib "$out"))"
    bench_row "$area" "RSS per waiter, KiB" "$(field per_waiter_kib "$out")"
    bench_row "$area" "database connections held" "$(field db_connections "$out")"
    bench_row "$area" "answered after the burst" "$(field answered "$out") of $(field waiters "$out") ($(field failed "$out") failed)"
    bench_row "$area" "answer after its Complete, p50 / p99 / max ms" \
      "$(field p50_ms "$out") / $(field p99_ms "$out") / $(field max_ms "$out")"
  done
done
