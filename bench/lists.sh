#!/usr/bin/env bash
# ListOperations at scale: one project, ten locations, 100 running among the
# rest done (the oldest, at the end of the list), loaded through the store's
# bulk path; the release binary serves each size in turn and bench_lists
# times each query over gRPC (first page of 100, `done = false`, a page by a
# token halfway down, a metadata filter), on SQLite and on PostgreSQL.
#
#   bench/lists.sh [sizes...]        default 10000 100000 1000000
#   SAMPLES=200  STORES="sqlite postgres"  PG_URL=postgres://postgres@127.0.0.1:5432
#   SMOKE=1   tiny sizes on the debug build, so CI can run the script and it cannot rot
#
# Each size grows the database of the size before it. PostgreSQL gets a fresh
# database, dropped at the end; it is skipped with a message when unreachable.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
profile=release
if [ -n "${SMOKE:-}" ]; then
  [ ${#sizes[@]} -gt 0 ] || sizes=(300 1000)
  samples=${SAMPLES:-3}; profile=debug
fi
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
samples=${samples:-${SAMPLES:-200}}
stores=${STORES:-sqlite postgres}
pg=${PG_URL:-postgres://postgres@127.0.0.1:5432}
db="longrun_lists_$$"

. bench/lib.sh
bench_setup bench_lists

for store in $stores; do
  bench_store_url "$store" lists || continue
  if [ "$store" = postgres ]; then "$bin/longrun" migrate --database "$url"; fi
  for n in "${sizes[@]}"; do
    echo "== $store, $n operations"
    "$bin/examples/bench_lists" load "$url" "$n"
    LONGRUN_LOG=warn "$bin/longrun" serve --listen 127.0.0.1:19380 --control-listen 127.0.0.1:19381 \
      --database "$url" --console=false & server=$!
    wait_port 19380
    out=$("$bin/examples/bench_lists" query 127.0.0.1:19380 "$samples" "$n")
    echo "$out"
    while IFS=$'\t' read -r query p50 p99; do
      bench_row "lists ($store, $n operations)" "$query, p50 / p99" "$p50 / $p99"
    done < <(sed -En 's/^(.*[^ ]) +p50 +([^ ]+) +p99 +([^ ]+) .*/\1\t\2\t\3/p' <<<"$out")
    kill -TERM "$server"; wait "$server" || true; server=""
  done
done
