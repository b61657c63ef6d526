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
. "$repo/tests/pysupport/suite.sh"

suite_binary
if ! command -v strace >/dev/null; then
  echo "run.sh: strace is not installed (apt-get install strace): the power-loss scenario needs it" >&2
  exit 2
fi

started=$(date +%s)
suite_venv "$venv"

suite_pytest "$venv" 600 "$@"
