// BUGGY on purpose: a counter in KV. Two PoPs read the same old value and both write value + 1
// (a lost update), and a PoP's cached read can be older than a value already returned elsewhere.
export { Counter } from "./index.js";

export default {
  async fetch(request, env) {
    const [, , name, action] = new URL(request.url).pathname.split("/");
    const value = Number((await env.COUNTERS.get(name)) ?? "0");
    if (action !== "increment") return new Response(String(value));
    await env.COUNTERS.put(name, String(value + 1));
    return new Response(String(value + 1));
  },
};
