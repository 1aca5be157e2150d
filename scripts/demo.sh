#!/usr/bin/env bash
# The quick start: installs what is missing, builds edgesim (Release), and runs the shipped
# scenario suite over many seeds with swarm faults, printing a verdict table. Correct scenarios
# must hold on every seed; each buggy variant must be caught, with a trace and a replay command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target edgesim
# Every scenario with its own fault plan: swarm for the kernel demos, the scenario folder's for
# the shipped suite (scenarios/suite).
exec ./build/tools/edgesim sweep all --seeds "${SEEDS:-1..20}" --out out/demo "$@"
