// A sequential specification in JS for the linearizability checker: a counter that cannot pass
// its quota. A granted call (an increment that completed ok) returns its ordinal; one past the
// quota is not a legal operation at all, so a history that grants it is not linearizable.
const QUOTA = 25;

export function init() {
  return 0;
}

export function step(count, op) {
  if (op.kind !== "increment") return { legal: false };
  if (count >= QUOTA) return { legal: false };
  return { state: count + 1, output: String(count + 1) };
}
