#!/usr/bin/env bash
# Runs the replica fault scenarios: two `longrun serve` replicas on one
# PostgreSQL database, with (1) Cancel racing Complete across the replicas,
# (2) the database stopped with `pg_ctl stop -m immediate` and started again
# under load (a private cluster, never the shared one), (3) one replica's
# clock 5 minutes off (libfaketime). Builds nothing: LONGRUN_BIN names the
# server binary (default target/debug/longrun, from `cargo build`).
#
#   LONGRUN_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
#     tests/faults/replicas/run.sh [pytest args...]
#   LONGRUN_FAULTS_SMOKE=1 tests/faults/replicas/run.sh     # small counts, for CI
#
# Scenarios 1 and 3 use a fresh schema in LONGRUN_TEST_DATABASE_URL and skip
# (saying so) without it; scenario 2 needs initdb and pg_ctl
# (/usr/lib/postgresql/*/bin) and skips without them; scenario 3 needs
# faketime (Debian package `faketime`) and skips without it.
#
# Prints a table of the figures at the end; LONGRUN_FAULTS_REPORT=FILE also
# writes it there. The packages live in a venv, target/faultsvenv
# (LONGRUN_FAULTS_VENV to move it), made again only when requirements.txt or
# the Python changes. Exits with pytest's status; "no tests collected" (5)
# is a failure like any other.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
venv="${LONGRUN_FAULTS_VENV:-$repo/target/faultsvenv}"
python="${PYTHON:-python3}"

export LONGRUN_BIN="${LONGRUN_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/longrun}"
case "$LONGRUN_BIN" in /*) ;; *) LONGRUN_BIN="$repo/$LONGRUN_BIN" ;; esac
if [ ! -x "$LONGRUN_BIN" ]; then
  echo "run.sh: no longrun binary at $LONGRUN_BIN; build it (cargo build) or set LONGRUN_BIN" >&2
  exit 2
fi

started=$(date +%s)
want="$( (cat "$here/requirements.txt"; "$python" -VV) | sha256sum | cut -d' ' -f1)"
stamp="$venv/.requirements.sha256"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "run.sh: installing tests/faults/replicas/requirements.txt into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet --no-input \
    --require-virtualenv -r "$here/requirements.txt"
  echo "$want" > "$stamp"
fi

# A full run is three times 10,000 races and a restart: about 10 minutes on
# 2 cores with a debug build; the smoke run about 2 minutes.
limit=1800
[ -n "${LONGRUN_FAULTS_SMOKE:-}" ] && [ "${LONGRUN_FAULTS_SMOKE}" != 0 ] && limit=600

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
