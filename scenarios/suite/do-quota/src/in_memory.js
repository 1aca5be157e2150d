// The bug: the count lives in a global of the isolate. Each PoP runs its own isolate (and an
// isolate may be evicted at any time), so each grants its own QUOTA calls.
const used = new Map();

export class Quota {}

export default {
  async fetch(request, env) {
    const [, , key] = new URL(request.url).pathname.split("/");
    const n = used.get(key) ?? 0;
    if (n >= env.QUOTA) return new Response("quota exceeded", { status: 429 });
    used.set(key, n + 1);
    return new Response(String(n + 1));
  },
};
