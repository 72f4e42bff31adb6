#!/usr/bin/env bash
# Fails when a C++ source file differs from what .clang-format asks for.
#   scripts/check-format.sh [--fix]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
formatter=${CLANG_FORMAT:-clang-format}
command -v "$formatter" >/dev/null || { echo "check-format: $formatter not found" >&2; exit 2; }
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find cli mcp gateway inspect replay tests bench -name '*.[ch]pp')
[ ${#files[@]} -gt 0 ] || { echo "check-format: no sources found" >&2; exit 2; }
if [ "${1:-}" = "--fix" ]; then
  "$formatter" -i "${files[@]}"
else
  "$formatter" --dry-run --Werror "${files[@]}"
fi
