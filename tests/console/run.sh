#!/usr/bin/env bash
# Runs the console's browser tests: the web console of a real `longrun serve`
# in headless Chromium, driven by Selenium. Builds nothing: LONGRUN_BIN names
# the server binary (default target/debug/longrun, from `cargo build`).
# Chromium and its driver come from Debian's packages (`apt-get install
# chromium chromium-driver`; CHROMIUM and CHROMEDRIVER move them).
#
#   LONGRUN_BIN=target/debug/longrun tests/console/run.sh [pytest args...]
#
# Selenium lives in a venv, target/consolevenv (LONGRUN_CONSOLE_VENV to move
# it), made again only when requirements.txt or the Python changes.
# Screenshots land in target/console-screenshots. Exits with pytest's
# status; "no tests collected" (5) is a failure like any other.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${LONGRUN_CONSOLE_VENV:-$repo/target/consolevenv}"
python="${PYTHON:-python3}"

export LONGRUN_BIN="${LONGRUN_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/longrun}"
case "$LONGRUN_BIN" in /*) ;; *) LONGRUN_BIN="$repo/$LONGRUN_BIN" ;; esac
if [ ! -x "$LONGRUN_BIN" ]; then
  echo "run.sh: no longrun binary at $LONGRUN_BIN; build it (cargo build) or set LONGRUN_BIN" >&2
  exit 2
fi
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
for tool in "$CHROMIUM" "$CHROMEDRIVER"; do
  if [ ! -x "$tool" ]; then
    echo "run.sh: $tool not found; apt-get install chromium chromium-driver" >&2
    exit 2
  fi
done
export LONGRUN_SCREENSHOTS="${LONGRUN_SCREENSHOTS:-${CARGO_TARGET_DIR:-$repo/target}/console-screenshots}"

started=$(date +%s)
want="$( (cat "$here/requirements.txt"; "$python" -VV) | sha256sum | cut -d' ' -f1)"
stamp="$venv/.requirements.sha256"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "run.sh: installing tests/console/requirements.txt into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet --no-input \
    --require-virtualenv -r "$here/requirements.txt"
  echo "$want" > "$stamp"
fi

cd "$here"
export PYTHONDONTWRITEBYTECODE=1
# Selenium Manager must never look for a driver or a browser to download.
export SE_OFFLINE=true
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
