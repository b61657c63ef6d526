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

cargo build --profile "${profile/debug/dev}" --quiet --bin longrun --example bench_lists
bin="${CARGO_TARGET_DIR:-target}/$profile"
work=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
  psql "$pg/postgres" -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
wait_port() { for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return; sleep 0.1; done; echo "port $1 never opened"; exit 1; }

for store in $stores; do
  case "$store" in
    sqlite) url="sqlite://$work/lists.db" ;;
    postgres)
      if ! psql "$pg/postgres" -qc "create database $db" >/dev/null 2>&1; then
        echo "== postgres: not reachable at $pg, skipped"; continue
      fi
      url="$pg/$db"; "$bin/longrun" migrate --database "$url" ;;
    *) echo "unknown store $store"; exit 2 ;;
  esac
  for n in "${sizes[@]}"; do
    echo "== $store, $n operations"
    "$bin/examples/bench_lists" load "$url" "$n"
    LONGRUN_LOG=warn "$bin/longrun" serve --listen 127.0.0.1:19380 --control-listen 127.0.0.1:19381 \
      --database "$url" --console=false & server=$!
    wait_port 19380
    "$bin/examples/bench_lists" query 127.0.0.1:19380 "$samples" "$n"
    kill -TERM "$server"; wait "$server" || true; server=""
  done
done
