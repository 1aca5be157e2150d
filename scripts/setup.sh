#!/usr/bin/env bash
# Installs everything edgesim needs to build on Debian 12, idempotently.
# Fast when all is present: it only queries dpkg and checks the local V8 prefix.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  build-essential cmake ninja-build pkg-config git clang-format
  # clang and its libFuzzer runtime: the fuzz targets (fuzz/)
  clang libclang-rt-14-dev
  libboost-context-dev librapidcheck-dev libprotobuf-dev protobuf-compiler
  libspdlog-dev libsqlite3-dev libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libxxhash-dev libzstd-dev
  # runtime libraries of libnode108 (V8), which we unpack locally below
  libuv1 libicu72 libc-ares2 libnghttp2-14 libbrotli1 libssl3 libicu-dev python3
)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# V8 10.2 ships inside Debian's libnode108; its headers are in libnode-dev. Installing libnode-dev
# conflicts with the machine's Node.js 20, so both are unpacked into a git-ignored local prefix.
V8_PREFIX=.deps/libnode
if [ ! -f "$V8_PREFIX/.complete" ]; then
  echo "setup: fetching libnode108 and libnode-dev into $V8_PREFIX"
  rm -rf "$V8_PREFIX" .deps/debs
  mkdir -p .deps/debs "$V8_PREFIX"
  (cd .deps/debs && apt-get download libnode108 libnode-dev >/dev/null 2>&1) || {
    $SUDO apt-get update -qq
    (cd .deps/debs && apt-get download libnode108 libnode-dev >/dev/null)
  }
  for deb in .deps/debs/*.deb; do dpkg -x "$deb" "$V8_PREFIX"; done
  # libnode-dev's libnode.so is a symlink to the versioned library of libnode108.
  test -e "$V8_PREFIX/usr/include/node/v8.h"
  test -n "$(ls "$V8_PREFIX"/usr/lib/x86_64-linux-gnu/libnode.so.* 2>/dev/null)"
  touch "$V8_PREFIX/.complete"
fi
bash scripts/npm_deps.sh  # esbuild and hono into .deps/npm, for the bundled-Worker tests
echo "setup: ok"
