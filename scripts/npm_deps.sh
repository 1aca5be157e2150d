#!/usr/bin/env bash
# Installs the npm packages the tests need (esbuild to bundle Worker code, hono for a sample app)
# into the git-ignored .deps/npm, at pinned versions, idempotently. Fast when present: it only
# reads the installed package.json files.
set -euo pipefail
cd "$(dirname "$0")/.."

ESBUILD_VERSION=0.28.2
HONO_VERSION=4.13.19
PREFIX=.deps/npm

installed() {  # installed <package>: its version under $PREFIX, or nothing
  local pj="$PREFIX/node_modules/$1/package.json"
  [ -f "$pj" ] && node -p "require('./$pj').version" 2>/dev/null || true
}

if [ "$(installed esbuild)" = "$ESBUILD_VERSION" ] && [ "$(installed hono)" = "$HONO_VERSION" ] &&
   [ -x "$PREFIX/node_modules/.bin/esbuild" ]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "npm_deps: npm not found; install Node.js 18+ with npm" >&2
  exit 1
fi
echo "npm_deps: installing esbuild@$ESBUILD_VERSION hono@$HONO_VERSION into $PREFIX"
mkdir -p "$PREFIX"
npm install --prefix "$PREFIX" --no-audit --no-fund --save-exact --loglevel=error \
  "esbuild@$ESBUILD_VERSION" "hono@$HONO_VERSION" >/dev/null
"$PREFIX/node_modules/.bin/esbuild" --version >/dev/null
