// The bug: a counter kept in KV. Read-modify-write over an eventually consistent store: two PoPs
// read the same old value and both write value + 1, and a far PoP reads a value from the past.
export default {
  async fetch(request, env) {
    const [, , name, action] = new URL(request.url).pathname.split("/");
    const key = `counter:${name}`;
    const value = Number((await env.COUNTERS.get(key)) ?? 0);
    if (action !== "increment") return new Response(String(value));
    try {
      await env.COUNTERS.put(key, String(value + 1));
    } catch (e) {
      return new Response(e.message, { status: 503 });  // e.g. 429: one write per second per key
    }
    return new Response(String(value + 1));
  },
};
