#!/usr/bin/env bash
# Side by side on this machine: the hello-world Worker served by workerd (Cloudflare's runtime,
# from the npm package) to a loopback load generator, and the same script served by edgesim in
# simulation (bench/runtime_bench, BM_HelloWorldRequests). Goal (issue 3): edgesim's simulated
# requests/s >= 10x workerd's requests/s.
#
#   bench/workerd_compare.sh [BUILD_DIR]        (default: build-perf; needs runtime_bench, http_load)
#
# Env: WORKERD_DIR (where workerd is installed; default $TMPDIR/edgesim-workerd-bench, never the
# repository), PORT (default 18787, loopback only), SECONDS_PER_RUN (default 10), CONNECTIONS
# (default "8 32"). Installs workerd with npm when missing. Not for CI: it exits when CI is set.
# Everything it starts stops by itself (bounded run time) and is killed on exit.
set -euo pipefail

if [[ -n "${CI:-}" ]]; then
  echo "workerd_compare.sh: not run under CI (it installs workerd and loads the machine)"
  exit 0
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-perf}
[[ "$BUILD" = /* ]] || BUILD=$ROOT/$BUILD
WORKERD_DIR=${WORKERD_DIR:-${TMPDIR:-/tmp}/edgesim-workerd-bench}
PORT=${PORT:-18787}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
CONNECTIONS=${CONNECTIONS:-"8 32"}

for tool in "$BUILD/bench/runtime_bench" "$BUILD/bench/http_load"; do
  if [[ ! -x "$tool" ]]; then
    echo "missing $tool; build it: ninja -C $BUILD runtime_bench http_load" >&2
    exit 2
  fi
done

WORKERD=$WORKERD_DIR/node_modules/@cloudflare/workerd-linux-64/bin/workerd
if [[ ! -x "$WORKERD" ]]; then
  echo "== installing workerd into $WORKERD_DIR (npm)"
  mkdir -p "$WORKERD_DIR"
  npm install --silent --no-audit --no-fund --prefix "$WORKERD_DIR" workerd >/dev/null
fi
[[ -x "$WORKERD" ]] || WORKERD=$WORKERD_DIR/node_modules/workerd/bin/workerd
echo "== workerd: $("$WORKERD" --version)"

WORK=$(mktemp -d)
WORKERD_PID=
cleanup() {
  if [[ -n "$WORKERD_PID" ]]; then kill "$WORKERD_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# The same script as kHelloWorld in bench/runtime_bench.cc.
cat >"$WORK/index.js" <<'EOF'
export default {
  fetch(request, env, ctx) {
    return new Response('Hello World!');
  },
};
EOF
cat >"$WORK/config.capnp" <<EOF
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .hello) ],
  sockets = [ (name = "http", address = "127.0.0.1:$PORT", http = (), service = "main") ],
);
const hello :Workerd.Worker = (
  modules = [ (name = "index.js", esModule = embed "index.js") ],
  compatibilityDate = "2024-09-23",
);
EOF

"$WORKERD" serve "$WORK/config.capnp" >"$WORK/workerd.log" 2>&1 &
WORKERD_PID=$!
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  sleep 0.1
done

echo "== workerd on 127.0.0.1:$PORT, ${SECONDS_PER_RUN}s per run (a warm-up run first)"
"$BUILD/bench/http_load" --port "$PORT" --connections 8 --seconds 2 >/dev/null
best_workerd=0
for c in $CONNECTIONS; do
  line=$("$BUILD/bench/http_load" --port "$PORT" --connections "$c" --seconds "$SECONDS_PER_RUN")
  echo "workerd: $line"
  rps=$(sed -n 's/.*requests_per_s=\([0-9]*\).*/\1/p' <<<"$line")
  ((rps > best_workerd)) && best_workerd=$rps
done
kill "$WORKERD_PID" 2>/dev/null || true
wait "$WORKERD_PID" 2>/dev/null || true
WORKERD_PID=

echo "== edgesim: BM_HelloWorldRequests (one core, warm isolate, simulated requests)"
out=$("$BUILD/bench/runtime_bench" --benchmark_filter='BM_HelloWorldRequests/clients:1/pop:1' \
  --benchmark_repetitions=5 --benchmark_report_aggregates_only=true 2>/dev/null)
echo "$out" | grep -E "BM_HelloWorldRequests" || true
edgesim=$(echo "$out" | sed -n 's/.*_median.*items_per_second=\([0-9.]*\)k\/s.*/\1/p' | head -1)
edgesim_rps=$(awk -v k="$edgesim" 'BEGIN { printf "%.0f", k * 1000 }')

echo "== result (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "workerd best:   $best_workerd requests/s (real HTTP on loopback, workerd + load generator share 2 cores)"
echo "edgesim median: $edgesim_rps simulated requests/s (one core)"
awk -v e="$edgesim_rps" -v w="$best_workerd" 'BEGIN { if (w > 0) printf "ratio:          %.1fx (goal >= 10x)\n", e / w }'
