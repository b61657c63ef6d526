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
. "$repo/tests/pysupport/suite.sh"

suite_binary

started=$(date +%s)
suite_venv "$venv"

# A full run is three times 10,000 races and a restart: about 10 minutes on
# 2 cores with a debug build; the smoke run about 2 minutes.
limit=1800
[ -n "${LONGRUN_FAULTS_SMOKE:-}" ] && [ "${LONGRUN_FAULTS_SMOKE}" != 0 ] && limit=600

suite_pytest "$venv" "$limit" "$@"
