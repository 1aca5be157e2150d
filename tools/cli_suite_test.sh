#!/usr/bin/env bash
# The command line on the shipped suite and on bad input (ctest: cli_suite). Usage:
#   cli_suite_test.sh EDGESIM_BINARY SOURCE_DIR
# Checks: a failing seed's trace replays to the same verdict and final hash; a corrupted trace,
# a malformed scenario and a Worker with a syntax error each give exit code 2 and an error that
# names the file (and line).
set -u
edgesim=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
expect() {  # expect CODE PATTERN -- command...
  local code=$1 pattern=$2
  shift 3
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [[ $rc -ne $code ]]; then
    echo "FAIL: '$*' exited $rc, expected $code"; echo "$out" | tail -5; fail=1; return
  fi
  if ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL: '$*' output lacks /$pattern/"; echo "$out" | tail -5; fail=1; return
  fi
  echo "ok: $* -> $rc"
}

# A caught bug: exit 1, a trace, and a replay that reproduces it.
expect 1 "FAIL" -- "$edgesim" run "$src/scenarios/suite/do-quota@in-memory" --seed 2 --trace "$work/q.trace"
expect 1 "identical; final hash .* verdict fail" -- "$edgesim" replay "$work/q.trace"
# The trace alone reproduces the run: the folder is not read again.
cp -r "$src/scenarios/suite/do-quota" "$work/quota"
expect 1 "FAIL" -- "$edgesim" run "$work/quota@in-memory" --seed 2 --trace "$work/moved.trace"
rm -rf "$work/quota"
expect 1 "identical" -- "$edgesim" replay "$work/moved.trace"

# The checkers alone, on the trace's recorded history: the run's verdict without simulating.
expect 1 "same verdicts as the run" -- "$edgesim" check "$work/q.trace"

# A corrupted trace.
head -c 300 "$work/q.trace" > "$work/cut.trace"
expect 2 "cut.trace" -- "$edgesim" replay "$work/cut.trace"
printf 'not a trace' > "$work/junk.trace"
expect 2 "junk.trace: bad magic" -- "$edgesim" replay "$work/junk.trace"

# A malformed scenario: a misspelt field, named with file:line:column.
cp -r "$src/scenarios/suite/do-quota" "$work/typo"
sed -i 's/think_time/thinktime/' "$work/typo/scenario.textproto"
expect 2 "typo/scenario.textproto:[0-9]+:[0-9]+: unknown field \"thinktime\"" -- "$edgesim" run "$work/typo"

# A Worker with a syntax error, named with file:line.
cp -r "$src/scenarios/suite/do-quota" "$work/syntax"
printf 'export default {\n  fetch( {\n' > "$work/syntax/src/index.js"
expect 2 "syntax/src/index.js:[0-9]+: SyntaxError" -- "$edgesim" run "$work/syntax"

# A malformed wrangler.jsonc.
cp -r "$src/scenarios/suite/do-quota" "$work/wrangler"
sed -i 's/"class_name"/"clas_name"/' "$work/wrangler/wrangler.jsonc"
expect 2 "wrangler.jsonc:[0-9]+" -- "$edgesim" run "$work/wrangler"

# A binding the platform does not simulate is refused at load with file, line and key.
cp -r "$src/scenarios/suite/do-quota" "$work/unsimulated"
sed -i 's/^{/{ "r2_buckets": [{ "binding": "B", "bucket_name": "b" }],/' "$work/unsimulated/wrangler.jsonc"
expect 2 "unsimulated/wrangler.jsonc:[0-9]+:[0-9]+: r2_buckets: R2 is not simulated" -- "$edgesim" run "$work/unsimulated"

# Shards: the JSON lines of 3 shards are exactly those of the whole sweep (same runs, same hashes).
key() { grep -o '"final_hash":"[^"]*"\|"scenario":"[^"]*"\|"seed":[0-9]*' | paste -sd' ' ; }
"$edgesim" sweep pingpong --seeds 1..9 --json --out "$work/all" 2>/dev/null | grep '"seed"' \
  | while read -r line; do key <<<"$line"; done | sort > "$work/all.txt"
for i in 1 2 3; do
  "$edgesim" sweep pingpong --seeds 1..9 --shard "$i/3" --json --out "$work/s$i" 2>/dev/null
done | grep '"seed"' | while read -r line; do key <<<"$line"; done | sort > "$work/shards.txt"
if [[ $(wc -l < "$work/all.txt") -eq 9 ]] && cmp -s "$work/all.txt" "$work/shards.txt"; then
  echo "ok: 3 shards merge into the whole sweep"
else
  echo "FAIL: shards differ from the whole sweep"; diff "$work/all.txt" "$work/shards.txt" | head; fail=1
fi
expect 2 "--shard wants I/N" -- "$edgesim" sweep pingpong --seeds 1..4 --shard 4/3 --out "$work/x"

# sweep --json: stdout is JSON lines only (one per run); the verdict table goes to stderr.
"$edgesim" sweep pingpong-unsynced --seeds 1..6 --json --out "$work/j" >"$work/j.out" 2>"$work/j.err"
if python3 -c 'import json,sys; rows=[json.loads(l) for l in open(sys.argv[1])]; sys.exit(len(rows) != 6)' "$work/j.out" \
   && grep -q "first failing seed" "$work/j.err" && grep -q "^scenario " "$work/j.err"; then
  echo "ok: sweep --json prints pure JSON lines"
else
  echo "FAIL: sweep --json stdout is not 6 JSON lines, or the table is not on stderr"; head -3 "$work/j.out"; fail=1
fi

# A seed past --seed-timeout is killed and reported by number; --json still prints one line per
# seed (a hanging seed used to hang the whole sweep, and a dead one printed no JSON line).
"$edgesim" sweep "$src/scenarios/suite/do-quota" --seeds 1..3 -j 2 --seed-timeout 0.02 --json \
  --out "$work/t" >"$work/t.out" 2>"$work/t.err"
rc=$?
if [[ $rc -eq 3 ]] && python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ok = len(rows) == 6 and all(r["verdict"] == "error" and r["timed_out"] for r in rows)
sys.exit(0 if ok and sorted(r["seed"] for r in rows) == [1, 1, 2, 2, 3, 3] else 1)' "$work/t.out" \
   && grep -q "seed 3: timed out" "$work/t.err"; then
  echo "ok: sweep --seed-timeout kills and reports each seed"
else
  echo "FAIL: sweep --seed-timeout (exit $rc)"; head -3 "$work/t.out"; tail -5 "$work/t.err"; fail=1
fi

exit $fail
