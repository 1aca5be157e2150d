#!/usr/bin/env bash
# The long fuzzing run (fuzz/README.md): builds the libFuzzer targets with clang, ASan and UBSan
# into build-fuzz/, then runs each target for SECONDS (default 600) on all cores, growing its
# corpus in build-fuzz/fuzz/corpus-<target>/ from the committed seeds in fuzz/corpus/<target>/.
# Prints the inputs each target executed; a crash leaves its input in build-fuzz/fuzz/.
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-600}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(trace_reader wrangler scenario cron_expr fault_plan)
JOBS=$(nproc)

bash scripts/setup.sh
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DEDGESIM_SANITIZE=ON -DEDGESIM_PLATFORM=OFF -DEDGESIM_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$JOBS" --target $(printf 'fuzz_%s ' "${TARGETS[@]}")

total=0
for t in "${TARGETS[@]}"; do
  dir=build-fuzz/fuzz
  mkdir -p "$dir/corpus-$t"
  log="$dir/$t.log"
  # -fork runs JOBS processes; a crash stops the run and leaves crash-* in $dir.
  (cd "$dir" && ASAN_OPTIONS=detect_leaks=1 "./fuzz_$t" -fork="$JOBS" -ignore_crashes=0 \
     -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
     "corpus-$t" "../../fuzz/corpus/$t") >"$log" 2>&1 || { echo "fuzz_$t: FAILED (see $log)"; tail -20 "$log"; exit 1; }
  execs=$(grep -o 'exec/s: [0-9]*\|execs: [0-9]*\|#[0-9]*' "$log" | grep -o '[0-9]*' | sort -n | tail -1)
  echo "fuzz_$t: ${execs:-?} inputs executed in ${SECONDS_EACH}s, no crash, hang or leak"
  total=$((total + ${execs:-0}))
done
echo "total: $total inputs"
