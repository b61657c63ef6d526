# What bench/lists.sh and bench/writes.sh share; sourced, not run. The
# caller sets `profile` (release, or debug in smoke mode), `pg` and `db`,
# then calls bench_setup with the examples it needs. It leaves `bin` (where
# the binaries are), `work` (a temporary directory) and `server` (the pid to
# stop, if any), all cleaned up on exit with the PostgreSQL database `db`.

bench_setup() {
  local examples=()
  for example in "$@"; do examples+=(--example "$example"); done
  cargo build --profile "${profile/debug/dev}" --quiet --bin longrun "${examples[@]}"
  bin="${CARGO_TARGET_DIR:-target}/$profile"
  work=$(mktemp -d)
  server=""
  trap bench_cleanup EXIT
}

bench_cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
  psql "$pg/postgres" -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
}

wait_port() {
  for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return; sleep 0.1; done
  echo "port $1 never opened" >&2; exit 1
}

# Sets `url` to the store's database, or returns 1 (with a message) when
# PostgreSQL cannot be reached.
bench_store_url() {
  case "$1" in
    sqlite) url="sqlite://$work/$2.db" ;;
    postgres)
      if ! psql "$pg/postgres" -qc "create database $db" >/dev/null 2>&1; then
        echo "== postgres: not reachable at $pg, skipped"; return 1
      fi
      url="$pg/$db" ;;
    *) echo "unknown store $1" >&2; exit 2 ;;
  esac
}

# Rows for bench/all.sh: with BENCH_ROWS set to a file, each figure is
# appended to it as "AREA<TAB>FIGURE<TAB>VALUE" (all.sh prints them as one
# table); without it, nothing.
bench_row() {
  [ -z "${BENCH_ROWS:-}" ] || printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$BENCH_ROWS"
}

# The value of KEY in a line of KEY=VALUE fields (what the bench examples print).
field() {
  sed -En "s/(^|.* )$1=([^ ]*).*/\2/p" <<<"$2" | head -1
}
