#!/usr/bin/env bash
# The history checker's own tests, then the kill -9 and SIGTERM campaigns:
# a seeded load of clients and workers against `longrun serve` while it is
# killed and started again on the same database, every call recorded, and
# the history checked afterwards. SQLite always; PostgreSQL when
# LONGRUN_TEST_DATABASE_URL names a server (a database of its own is made
# and dropped; without it those campaigns skip, visibly). Builds nothing:
# LONGRUN_BIN names the server binary (default target/debug/longrun).
#
#   LONGRUN_BIN=target/release/longrun tests/faults/history/run.sh [pytest args...]
#   LONGRUN_FAULTS_SMOKE=1 tests/faults/history/run.sh    # a few cycles, for CI
#   CYCLES=20 tests/faults/history/run.sh                 # cycles of each campaign
#
# Prints a table at the end; LONGRUN_FAULTS_REPORT=FILE also writes it
# there. Each campaign's history (JSON lines) and server log stay under
# target/faults-history/ (LONGRUN_FAULTS_HISTORY_DIR to move them). The
# packages live in a venv, target/historyvenv (LONGRUN_HISTORY_VENV to
# move it), made again only when requirements.txt changes. Exits with
# pytest's status; "no tests collected" (5) is a failure like any other.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
venv="${LONGRUN_HISTORY_VENV:-$repo/target/historyvenv}"
python="${PYTHON:-python3}"

export LONGRUN_BIN="${LONGRUN_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/longrun}"
case "$LONGRUN_BIN" in /*) ;; *) LONGRUN_BIN="$repo/$LONGRUN_BIN" ;; esac
if [ ! -x "$LONGRUN_BIN" ]; then
  echo "run.sh: no longrun binary at $LONGRUN_BIN; build it (cargo build) or set LONGRUN_BIN" >&2
  exit 2
fi
export LONGRUN_FAULTS_HISTORY_DIR="${LONGRUN_FAULTS_HISTORY_DIR:-${CARGO_TARGET_DIR:-$repo/target}/faults-history}"

started=$(date +%s)
want="$( (cat "$here/requirements.txt"; "$python" -VV) | sha256sum | cut -d' ' -f1)"
stamp="$venv/.requirements.sha256"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "run.sh: installing tests/faults/history/requirements.txt into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet --no-input \
    --require-virtualenv -r "$here/requirements.txt"
  echo "$want" > "$stamp"
fi

# A full run is about 15 minutes on a debug build; smoke a minute or two.
limit=3600
case "${LONGRUN_FAULTS_SMOKE:-}" in ""|0) ;; *) limit=600 ;; esac

cd "$here"
export PYTHONDONTWRITEBYTECODE=1
status=0
timeout --signal=TERM --kill-after=30 "$limit" \
  "$venv/bin/python" -m pytest -q "$@" || status=$?
case $status in
  0) ;;
  5) echo "run.sh: pytest collected no tests: that is a failure" >&2 ;;
  124) echo "run.sh: pytest ran for more than $limit s and was stopped" >&2 ;;
esac
echo "run.sh: $(( $(date +%s) - started ))s in all"
exit "$status"
