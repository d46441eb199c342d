#!/usr/bin/env bash
# README.md's configuration table is generated from the settings table (src/core/settings.cpp) by
# `sealpost config reference`; it sits between the config-table markers.
#   scripts/config-table.sh SEALPOST_BIN          rewrites the table in README.md
#   scripts/config-table.sh --check SEALPOST_BIN  fails when README.md's table differs (make test)
set -euo pipefail
check=0
if [ "${1:-}" = --check ]; then
  check=1
  shift
fi
bin=${1:?usage: config-table.sh [--check] SEALPOST_BIN}
readme=$(cd "$(dirname "$0")/.." && pwd)/README.md
begin='<!-- config-table:begin -->'
end='<!-- config-table:end -->'
if [ "$(grep -cxF -e "$begin" -e "$end" "$readme")" != 2 ]; then
  echo "$readme: needs one line '$begin' and one line '$end'" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" config reference >"$tmp/table"
awk -v begin="$begin" -v end="$end" -v table="$tmp/table" '
  $0 == end { while ((getline line < table) > 0) print line; skipping = 0 }
  !skipping { print }
  $0 == begin { skipping = 1 }
' "$readme" >"$tmp/README.md"

if [ $check = 1 ]; then
  if ! diff -u "$readme" "$tmp/README.md"; then
    echo >&2
    echo "README.md's configuration table is not what the settings table says; regenerate it:" >&2
    echo "  scripts/config-table.sh build-asan/sealpost   (or build/sealpost after make)" >&2
    exit 1
  fi
else
  cp "$tmp/README.md" "$readme"
fi
