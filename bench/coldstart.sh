#!/usr/bin/env bash
# Cold start: the time from starting `longrun serve` to its first answered
# GetOperation, on an empty database and with OPERATIONS stored (loaded
# through the store's bulk path, as bench/lists.sh does); then TIMERS
# operations are started by a worker and cancelled with a grace of GRACE
# seconds, the server is stopped and started again (timed with those timers
# pending), and every timer must fire: the operations are read back from
# the store and each one's end is compared with its grace deadline.
#
#   bench/coldstart.sh               OPERATIONS=1000000 TIMERS=10000 GRACE=30
#   STARTS=3  STORES="sqlite postgres"  PG_URL=postgres://postgres@127.0.0.1:5432
#   SMOKE=1   tiny counts on the debug build, so CI can run the script and it cannot rot
set -euo pipefail
cd "$(dirname "$0")/.."
operations=${OPERATIONS:-1000000}; timers=${TIMERS:-10000}; grace=${GRACE:-30}; starts=${STARTS:-3}
profile=release
if [ -n "${SMOKE:-}" ]; then
  operations=${OPERATIONS:-2000}; timers=${TIMERS:-200}; grace=${GRACE:-3}; starts=${STARTS:-1}; profile=debug
fi
stores=${STORES:-sqlite postgres}
pg=${PG_URL:-postgres://postgres@127.0.0.1:5432}
db="longrun_coldstart_$$"

. bench/lib.sh
bench_setup bench_load bench_lists

# Starts the server; sets `ms` to how long it took to answer a Get of $1.
start_timed() {
  local started; started=$(date +%s%N)
  LONGRUN_LOG=warn "$bin/longrun" serve --listen 127.0.0.1:19780 --control-listen 127.0.0.1:19781 \
    --database "$url" --console=false >/dev/null & server=$!
  ms=$(field serving_ms "$("$bin/examples/bench_load" until-serving 127.0.0.1:19780 "$1" "$started")")
}
stop() { kill -TERM "$server"; wait "$server" || true; server=""; }
# Sets `best` to the fastest of $starts starts.
best_start() {
  best=""
  for _ in $(seq "$starts"); do
    start_timed "$1"; stop
    best=$(python3 -c "print(min($ms, ${best:-$ms}))")
  done
}

first=projects/bench/locations/loc-0/operations/op-0000000000
for store in $stores; do
  bench_store_url "$store" coldstart || continue
  if [ "$store" = postgres ]; then "$bin/longrun" migrate --database "$url"; fi
  "$bin/examples/bench_lists" load "$url" 1 >/dev/null
  best_start "$first"; empty=$best
  echo "== $store: serving after ${empty} ms with 1 operation stored (best of $starts)"
  echo "== $store: loading $operations operations"
  "$bin/examples/bench_lists" load "$url" "$operations"
  best_start "$first"; full=$best
  echo "== $store: serving after ${full} ms with $operations operations stored (best of $starts)"

  echo "== $store: $timers operations cancelled with a ${grace}s grace, then a restart"
  start_timed "$first"
  "$bin/examples/bench_load" grace-setup 127.0.0.1:19781 127.0.0.1:19780 "$timers" "$grace"
  stop
  start_timed "$first"; pending=$ms
  echo "== $store: serving after ${pending} ms with $timers grace timers pending"
  "$bin/examples/bench_load" grace-wait 127.0.0.1:19780 $((grace + 120))
  stop
  out=$("$bin/examples/bench_load" grace-lateness "$url" "$timers")
  echo "$out"
  area="cold start ($store)"
  bench_row "$area" "first Get answered after start, 1 operation stored, ms" "$empty"
  bench_row "$area" "first Get answered after start, $operations stored, ms" "$full"
  bench_row "$area" "first Get answered after start, $timers grace timers pending, ms" "$pending"
  bench_row "$area" "grace timers fired after the restart" \
    "$(field fired_on_or_after_deadline "$out") of $timers ($(field early "$out") early, $(field unfired "$out") not fired)"
  bench_row "$area" "lateness vs deadline, p50 / p99 / max ms" \
    "$(field late_p50_ms "$out") / $(field late_p99_ms "$out") / $(field late_max_ms "$out")"
done
