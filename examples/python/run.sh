#!/usr/bin/env bash
# Runs the example workers end to end: starts `longrun serve` on free
# loopback ports with an in-memory database, then test_worker.py, which runs
# the Python worker (and the Rust one) against it and checks each outcome
# over REST. Builds nothing:
#
#   LONGRUN_BIN          the server (default target/debug/longrun, from `cargo build`)
#   LONGRUN_RUST_WORKER  the Rust example (default target/debug/examples/worker, from
#                        `cargo build --example worker`); set it empty to test only Python
#
#   examples/python/run.sh [pytest args...]
#
# The worker's packages live in a venv, target/pyvenv-worker (LONGRUN_WORKER_PYVENV
# to move it), made again only when requirements.txt or the Python changes.
# Exits with pytest's status, or non-zero if the server fails to start or stop.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
venv="${LONGRUN_WORKER_PYVENV:-$target/pyvenv-worker}"
python="${PYTHON:-python3}"
started=$(date +%s)

absolute() { case "$1" in /*) echo "$1" ;; *) echo "$repo/$1" ;; esac; }
bin="$(absolute "${LONGRUN_BIN:-$target/debug/longrun}")"
if [ ! -x "$bin" ]; then
  echo "run.sh: no longrun binary at $bin; build it (cargo build) or set LONGRUN_BIN" >&2
  exit 2
fi
rust_worker="${LONGRUN_RUST_WORKER-$target/debug/examples/worker}"
if [ -n "$rust_worker" ]; then
  rust_worker="$(absolute "$rust_worker")"
  if [ ! -x "$rust_worker" ]; then
    echo "run.sh: no Rust worker at $rust_worker; build it (cargo build --example worker)" \
      "or set LONGRUN_RUST_WORKER= to test only the Python one" >&2
    exit 2
  fi
fi

want="$( (cat "$here/requirements.txt"; "$python" -VV) | sha256sum | cut -d' ' -f1)"
stamp="$venv/.requirements.sha256"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "run.sh: installing examples/python/requirements.txt into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet --no-input \
    --require-virtualenv -r "$here/requirements.txt"
  echo "$want" > "$stamp"
fi
export PYTHONDONTWRITEBYTECODE=1
"$venv/bin/python" "$here/generate.py"

# Two ports free on loopback now (held open together, so they differ).
read -r public_port control_port < <("$venv/bin/python" -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')

work="$(mktemp -d)"
log="$work/server.log"
server=""
stop_server() {
  local status=$?
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server"
    local waited=0
    while kill -0 "$server" 2>/dev/null && [ $waited -lt 300 ]; do sleep 0.1; waited=$((waited + 1)); done
    if kill -0 "$server" 2>/dev/null; then
      echo "run.sh: longrun did not stop within 30 s of SIGTERM" >&2
      kill -KILL "$server"
      status=1
    fi
    local server_status=0
    wait "$server" || server_status=$?
    if [ $server_status -ne 0 ] && [ $status -eq 0 ]; then
      echo "run.sh: longrun exited with $server_status after SIGTERM" >&2
      status=1
    fi
  fi
  if [ $status -ne 0 ] && [ -s "$log" ]; then
    echo "run.sh: server log:" >&2
    tail -n 50 "$log" >&2
  fi
  rm -rf "$work"
  echo "run.sh: $(( $(date +%s) - started ))s in all"
  exit $status
}
trap stop_server EXIT
trap 'exit 130' INT TERM

# Every flag also reads LONGRUN_<NAME>: none of the caller's may change the
# server under test (LONGRUN_LOG aside).
keep_out=()
while IFS= read -r name; do keep_out+=(-u "$name"); done < <(compgen -e | grep '^LONGRUN_' || true)
env "${keep_out[@]}" LONGRUN_LOG="${LONGRUN_LOG:-info}" \
  "$bin" serve \
    --listen "127.0.0.1:$public_port" \
    --control-listen "127.0.0.1:$control_port" \
    --database sqlite::memory: \
    </dev/null >"$log" 2>&1 &
server=$!

# Ready when both ports take connections.
takes() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ready=""
for _ in $(seq 300); do
  if ! kill -0 "$server" 2>/dev/null; then
    echo "run.sh: longrun exited before it was ready" >&2
    exit 1
  fi
  if takes "$public_port" && takes "$control_port"; then ready=yes; break; fi
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "run.sh: longrun not ready within 30 s" >&2
  exit 1
fi

cd "$here"
status=0
LONGRUN_PUBLIC="127.0.0.1:$public_port" LONGRUN_CONTROL="127.0.0.1:$control_port" \
LONGRUN_RUST_WORKER="$rust_worker" LONGRUN_BIN="$bin" \
  timeout --signal=TERM --kill-after=10 300 "$venv/bin/python" -m pytest -q "$@" || status=$?
case $status in
  0) ;;
  5) echo "run.sh: pytest collected no tests: that is a failure" >&2 ;;
  124) echo "run.sh: pytest ran for more than 300 s and was stopped" >&2 ;;
esac
exit "$status"
