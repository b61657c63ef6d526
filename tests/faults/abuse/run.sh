#!/usr/bin/env bash
# Runs the connection-abuse scenarios: a raw HTTP/2 and HTTP/1.1 attacker
# against a real `longrun serve` on free loopback ports, one server per
# scenario. Builds nothing: LONGRUN_BIN names the server binary (default
# target/debug/longrun, from `cargo build`; a release build gives the
# figures the README quotes).
#
#   LONGRUN_BIN=target/release/longrun tests/faults/abuse/run.sh [pytest args...]
#   LONGRUN_ABUSE_SMOKE=1 tests/faults/abuse/run.sh     # tiny counts, for CI
#
# Prints a table of the figures at the end; LONGRUN_ABUSE_REPORT=FILE also
# writes it there. The packages live in a venv, target/abusevenv
# (LONGRUN_ABUSE_VENV to move it), made again only when requirements.txt or
# the Python changes. Exits with pytest's status; "no tests collected" (5)
# is a failure like any other.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
venv="${LONGRUN_ABUSE_VENV:-$repo/target/abusevenv}"
. "$repo/tests/pysupport/suite.sh"

suite_binary

started=$(date +%s)
suite_venv "$venv"

# The slowloris scenario holds 1,000 sockets open at once, on each side.
ulimit -n 4096 2>/dev/null || true

suite_pytest "$venv" 600 "$@"
