#!/usr/bin/env bash
# Copies the console's libraries (package.json, pinned by package-lock.json)
# from `npm ci` into src/console/web/vendor, the files the binary embeds.
#
#   console/vendor.sh           write the vendored files
#   console/vendor.sh --check   fail if the committed files differ from npm's
#
# Preact's hooks module imports the bare name "preact", which a browser
# cannot resolve without an import map (an inline script, which the
# console's Content-Security-Policy forbids), so that one import is
# rewritten to the sibling file. Nothing else is changed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
vendor="$repo/src/console/web/vendor"
check=false
case "${1:-}" in
  --check) check=true ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$work/"
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
modules="$work/node_modules"
out="$work/out"
mkdir -p "$out"

cp "$modules/preact/dist/preact.mjs" "$out/preact.mjs"
cp "$modules/htm/dist/htm.mjs" "$out/htm.mjs"
hooks="$modules/preact/hooks/dist/hooks.mjs"
if [ "$(grep -o 'from"preact"' "$hooks" | wc -l)" != 1 ]; then
  echo "vendor.sh: expected one import of \"preact\" in $hooks; the rewrite needs a look" >&2
  exit 1
fi
sed 's|from"preact"|from"./preact.mjs"|' "$hooks" > "$out/hooks.mjs"
cp "$modules/preact/LICENSE" "$out/LICENSE-preact.txt"
cp "$modules/htm/LICENSE" "$out/LICENSE-htm.txt"

if $check; then
  if ! diff -r "$out" "$vendor"; then
    echo "vendor.sh: src/console/web/vendor differs from npm ci; run console/vendor.sh and commit" >&2
    exit 1
  fi
  echo "vendor.sh: src/console/web/vendor matches package-lock.json"
else
  rm -rf "$vendor"
  mkdir -p "$vendor"
  cp "$out"/* "$vendor/"
  echo "vendor.sh: wrote $(ls "$vendor" | wc -l) files to src/console/web/vendor"
fi
