#!/usr/bin/env bash
# The server's memory (VmRSS from /proc): idle on a database of one
# operation; with the default cache full (CACHED operations loaded through
# the store's bulk path, then each read once over gRPC so the cache holds
# it); and what one open connection costs, as the growth while
# CONNECTIONS idle connections are held (each has made one GetOperation),
# over h2c (gRPC) and over HTTP/1.1 (REST, keep-alive). SQLite: the cache
# sits in front of it only.
#
#   bench/memory.sh                  CACHED=100000 CONNECTIONS=1000
#   SMOKE=1   tiny counts on the debug build, so CI can run the script and it cannot rot
set -euo pipefail
cd "$(dirname "$0")/.."
cached=${CACHED:-100000}; connections=${CONNECTIONS:-1000}
profile=release
if [ -n "${SMOKE:-}" ]; then
  cached=${CACHED:-500}; connections=${CONNECTIONS:-20}; profile=debug
fi
pg=${PG_URL:-postgres://postgres@127.0.0.1:5432}
db="longrun_memory_$$"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

. bench/lib.sh
bench_setup bench_load bench_lists
bench_store_url sqlite memory

serve() {
  LONGRUN_LOG=warn "$bin/longrun" serve --listen 127.0.0.1:19880 --control-listen 127.0.0.1:19881 \
    --database "$url" --console=false & server=$!
  wait_port 19880; wait_port 19881
}
stop() { kill -TERM "$server"; wait "$server" || true; server=""; }
rss() { sleep 1; field rss_mib "$("$bin/examples/bench_load" rss "$server")"; }
first=projects/bench/locations/loc-0/operations/op-0000000000

"$bin/examples/bench_lists" load "$url" 1 >/dev/null
serve
"$bin/examples/bench_lists" warm 127.0.0.1:19880 1 >/dev/null
idle=$(rss)
echo "== idle, one operation: RSS $idle MiB"
stop

"$bin/examples/bench_lists" load "$url" "$cached"
serve
before_warm=$(rss)
"$bin/examples/bench_lists" warm 127.0.0.1:19880 "$cached"
full=$(rss)
echo "== $cached operations read once (the cache full): RSS $full MiB (before the reads: $before_warm MiB)"

# Holds $2 connections of protocol $1 and prints the RSS growth per
# connection in KiB; the holder exits when its stdin (a FIFO) closes.
per_connection() {
  local fifo="$work/hold.$1" base holding holder
  base=$(rss)
  mkfifo "$fifo"
  "$bin/examples/bench_load" connections "$1" 127.0.0.1:19880 "$2" "$first" <"$fifo" >"$work/open.$1" & holder=$!
  exec 4>"$fifo"
  for _ in $(seq 600); do grep -q open "$work/open.$1" && break; sleep 0.1; done
  grep -q open "$work/open.$1" || { echo "connections never opened" >&2; exit 1; }
  holding=$(rss)
  exec 4>&-
  wait "$holder"
  python3 -c "print(f'{($holding - $base) * 1024 / $2:.1f}')"
}
h2=$(per_connection h2 "$connections")
echo "== $connections idle h2c connections (one gRPC call each): $h2 KiB each"
h1=$(per_connection h1 "$connections")
echo "== $connections idle HTTP/1.1 connections (one REST call each): $h1 KiB each"
stop

bench_row memory "RSS idle (one operation stored), MiB" "$idle"
bench_row memory "RSS with the cache full ($cached operations read), MiB" "$full"
bench_row memory "RSS per idle h2c connection, KiB" "$h2"
bench_row memory "RSS per idle HTTP/1.1 connection, KiB" "$h1"
