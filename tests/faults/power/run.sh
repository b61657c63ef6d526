#!/usr/bin/env bash
# Runs the power-loss and disk-full scenarios against a real `longrun serve`
# on free loopback ports, one server per scenario. Builds nothing:
# LONGRUN_BIN names the server binary (default target/debug/longrun, from
# `cargo build`).
#
#   tests/faults/power/run.sh [pytest args...]
#   LONGRUN_FAULTS_SMOKE=1 tests/faults/power/run.sh    # small counts, for CI
#
# Power loss needs strace; disk full mounts a tmpfs, so it needs root (it
# skips, saying why, without). The PostgreSQL half of power loss reads
# LONGRUN_TEST_DATABASE_URL (and needs psql) and skips without it.
#
# Prints a table of the figures at the end; LONGRUN_FAULTS_REPORT=FILE also
# writes it there. The packages live in a venv, target/powervenv
# (LONGRUN_POWER_VENV to move it), made again only when requirements.txt or
# the Python changes. Exits with pytest's status; "no tests collected" (5)
# is a failure like any other.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
venv="${LONGRUN_POWER_VENV:-$repo/target/powervenv}"
python="${PYTHON:-python3}"

export LONGRUN_BIN="${LONGRUN_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/longrun}"
case "$LONGRUN_BIN" in /*) ;; *) LONGRUN_BIN="$repo/$LONGRUN_BIN" ;; esac
if [ ! -x "$LONGRUN_BIN" ]; then
  echo "run.sh: no longrun binary at $LONGRUN_BIN; build it (cargo build) or set LONGRUN_BIN" >&2
  exit 2
fi
if ! command -v strace >/dev/null; then
  echo "run.sh: strace is not installed (apt-get install strace): the power-loss scenario needs it" >&2
  exit 2
fi

started=$(date +%s)
want="$( (cat "$here/requirements.txt"; "$python" -VV) | sha256sum | cut -d' ' -f1)"
stamp="$venv/.requirements.sha256"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "run.sh: installing tests/faults/power/requirements.txt into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet --no-input \
    --require-virtualenv -r "$here/requirements.txt"
  echo "$want" > "$stamp"
fi

cd "$here"
export PYTHONDONTWRITEBYTECODE=1
status=0
timeout --signal=TERM --kill-after=30 600 \
  "$venv/bin/python" -m pytest -q "$@" || status=$?
case $status in
  0) ;;
  5) echo "run.sh: pytest collected no tests: that is a failure" >&2 ;;
  124) echo "run.sh: pytest ran for more than 600 s and was stopped" >&2 ;;
esac
echo "run.sh: $(( $(date +%s) - started ))s in all"
exit "$status"
