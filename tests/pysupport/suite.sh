# What the fault suites' run.sh scripts share, sourced by each after it sets
# `here` (its folder) and `repo`: the binary under test, the venv, pytest
# under a time limit. One place, so the suites cannot drift apart.

# LONGRUN_BIN, absolute, defaulting to the debug build; exits 2 without it.
suite_binary() {
  export LONGRUN_BIN="${LONGRUN_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/longrun}"
  case "$LONGRUN_BIN" in /*) ;; *) LONGRUN_BIN="$repo/$LONGRUN_BIN" ;; esac
  if [ ! -x "$LONGRUN_BIN" ]; then
    echo "run.sh: no longrun binary at $LONGRUN_BIN; build it (cargo build) or set LONGRUN_BIN" >&2
    exit 2
  fi
}

# suite_venv DIR: the venv of $here/requirements.txt in DIR, made again only
# when the requirements or the Python change.
suite_venv() {
  local venv=$1 python="${PYTHON:-python3}" want stamp
  want="$( (cat "$here/requirements.txt"; "$python" -VV) | sha256sum | cut -d' ' -f1)"
  stamp="$venv/.requirements.sha256"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "run.sh: installing ${here#"$repo"/}/requirements.txt into $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet --no-input \
      --require-virtualenv -r "$here/requirements.txt"
    echo "$want" > "$stamp"
  fi
}

# suite_pytest VENV LIMIT [pytest args...]: pytest in $here, stopped after
# LIMIT seconds; exits with pytest's status ("no tests collected", 5, is a
# failure like any other) after printing the time taken since `started`.
suite_pytest() {
  local venv=$1 limit=$2 status=0
  shift 2
  cd "$here"
  export PYTHONDONTWRITEBYTECODE=1
  timeout --signal=TERM --kill-after=30 "$limit" \
    "$venv/bin/python" -m pytest -q "$@" || status=$?
  case $status in
    0) ;;
    5) echo "run.sh: pytest collected no tests: that is a failure" >&2 ;;
    124) echo "run.sh: pytest ran for more than $limit s and was stopped" >&2 ;;
  esac
  echo "run.sh: $(( $(date +%s) - started ))s in all"
  exit "$status"
}
