#!/usr/bin/env bash
# Fails when a tracked C++ file differs from clang-format's output (.clang-format: Google base,
# 100 columns). Fix with: git ls-files '*.cc' '*.h' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null; then
  echo "format check: clang-format is not installed (apt-get install clang-format)" >&2
  exit 1
fi
out=$(git ls-files '*.cc' '*.h' | xargs clang-format --dry-run 2>&1 | grep 'warning:' || true)
if [ -n "$out" ]; then
  echo "$out" | cut -d: -f1 | sort -u | sed 's/^/not clang-formatted: /'
  echo "fix: git ls-files '*.cc' '*.h' | xargs clang-format -i"
  exit 1
fi
echo "format check: clean"
