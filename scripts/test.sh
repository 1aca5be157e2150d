#!/usr/bin/env bash
# Builds edgesim and runs every test: the Release build with everything (V8 included), then a
# Debug build with AddressSanitizer and UndefinedBehaviorSanitizer of the layers below the
# platform (V8 itself is not sanitized), then the fuzz targets (clang, sanitizers) for a minute
# (fuzz/README.md). Installs what is missing first (scripts/setup.sh).
#   bash scripts/test.sh            both builds
#   bash scripts/test.sh --release  the Release build only (faster, for a quick local check)
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc)

bash scripts/setup.sh

echo "== Release build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$JOBS"
ctest --test-dir build --output-on-failure -j"$JOBS"

if [ "${1:-}" != "--release" ]; then
  echo "== Debug build with ASan + UBSan (kernel, traces, props, services, scenarios, tools)"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEDGESIM_PLATFORM=OFF >/dev/null
  cmake --build build-asan -j"$JOBS"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
  ctest --test-dir build-asan --output-on-failure -j"$JOBS" -E '^services_tests$'
  # The DO cluster's many-seed sweeps ran in the Release build above; under the sanitizers the
  # services run every test but those sweeps (a few minutes under ASan).
  build-asan/platform/services/services_tests --gtest_brief=1 \
    --gtest_filter='-DoClusterSweep.*:DoClusterMutants.*:DoClusterDeterminism.*'

  echo "== Fuzz targets (clang, ASan + UBSan): a short run of each from its seed corpus"
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
    -DCMAKE_CXX_COMPILER=clang++ -DEDGESIM_SANITIZE=ON -DEDGESIM_PLATFORM=OFF -DEDGESIM_FUZZ=ON >/dev/null
  cmake --build build-fuzz -j"$JOBS" --target fuzz_trace_reader fuzz_wrangler fuzz_scenario \
    fuzz_cron_expr fuzz_fault_plan
  ctest --test-dir build-fuzz --output-on-failure -L fuzz

fi
