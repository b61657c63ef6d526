#!/usr/bin/env bash
# Every benchmark figure in one run, each script in a bounded mode, and one
# table at the end: reads (instructions per GetOperation under callgrind,
# longrun and the bare servers), durable writes, lists at scale, many
# waiters, cold start and grace timers across a restart, memory. Each
# script appends its figures to $BENCH_ROWS (see bench_row in bench/lib.sh);
# this one prints them. Loopback only; each script is stopped after
# LIMIT seconds if it has not ended (its figures are then missing and the
# table says so).
#
#   bench/all.sh            release build; under 30 minutes on 2 cores
#   SMOKE=1 bench/all.sh    every script's smoke mode on the debug build (a few minutes, for CI)
#   ONLY="reads waiters"    some of: reads writes lists waiters coldstart memory
#   LIMIT=900               seconds one script may take
set -euo pipefail
cd "$(dirname "$0")/.."
only=${ONLY:-reads writes lists waiters coldstart memory}
limit=${LIMIT:-900}
profile=release; reads_calls=300; reads_kinds="grpc bare-grpc rest-h1 bare-h1 rest-h2c bare-h2c"
if [ -n "${SMOKE:-}" ]; then
  profile=debug; reads_calls=20; reads_kinds="grpc"
fi
BENCH_ROWS=$(mktemp)
export BENCH_ROWS
trap 'rm -f "$BENCH_ROWS"' EXIT
. bench/lib.sh

# Every script builds what it needs; building it all once here keeps the
# build out of the first script's time.
cargo build --profile "${profile/debug/dev}" --quiet --bin longrun --examples
started=$SECONDS

# Runs one script within the limit (a function of this file as it is: the
# reads are bounded by their call count); its time is a row, and so is a
# failure.
run() {
  local name=$1 began=$SECONDS status=0
  shift
  echo "#### $name: $*"
  if declare -F "$1" >/dev/null; then
    "$@" || status=$?
  else
    timeout --signal=TERM --kill-after=30 "$limit" "$@" || status=$?
  fi
  if [ "$status" -ne 0 ]; then
    bench_row "$name" "FAILED" "exit status $status (see its output above)"
  fi
  bench_row "run time" "$name, seconds" $((SECONDS - began))
}

reads() {
  if ! command -v valgrind >/dev/null || ! command -v h2load >/dev/null; then
    bench_row reads "instructions per GetOperation" "not measured: needs valgrind and h2load"
    return
  fi
  local out
  out=$(KINDS=$reads_kinds PORT=19950 bench/callgrind.sh "$reads_calls" "target/$profile") || return
  echo "$out"
  while read -r kind count; do
    bench_row "reads (callgrind, $reads_calls and $((3 * reads_calls)) calls)" \
      "instructions per GetOperation, $kind" "$count"
  done < <(sed -En 's/^([^ ]+) \([a-z]+\): ([0-9,]+) instructions per GetOperation/\1 \2/p' <<<"$out")
}

for part in $only; do
  case $part in
    reads) run reads reads ;;
    writes) run writes bench/writes.sh 5 ;;
    lists)
      if [ -n "${SMOKE:-}" ]; then run lists bench/lists.sh
      else SAMPLES=${SAMPLES:-50} run lists bench/lists.sh 10000 1000000; fi ;;
    waiters) run waiters bench/waiters.sh ;;
    coldstart) run coldstart bench/coldstart.sh ;;
    memory) run memory bench/memory.sh ;;
    *) echo "unknown part $part" >&2; exit 2 ;;
  esac
done

echo
echo "## All figures ($profile build, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d), $((SECONDS - started)) s)"
echo
python3 - "$BENCH_ROWS" <<'EOF'
import sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
print("| area | figure | value |")
print("|---|---|---|")
last = None
for area, figure, value in rows:
    print(f"| {area if area != last else ''} | {figure} | {value} |")
    last = area
EOF
if grep -q $'\tFAILED\t' "$BENCH_ROWS"; then exit 1; fi
