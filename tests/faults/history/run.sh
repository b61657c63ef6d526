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
. "$repo/tests/pysupport/suite.sh"

suite_binary
export LONGRUN_FAULTS_HISTORY_DIR="${LONGRUN_FAULTS_HISTORY_DIR:-${CARGO_TARGET_DIR:-$repo/target}/faults-history}"

started=$(date +%s)
suite_venv "$venv"

# A full run is about 15 minutes on a debug build; smoke a minute or two.
limit=3600
case "${LONGRUN_FAULTS_SMOKE:-}" in ""|0) ;; *) limit=600 ;; esac

suite_pytest "$venv" "$limit" "$@"
