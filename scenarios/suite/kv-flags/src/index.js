import { DurableObject } from "cloudflare:workers";

// The source of truth: one object holds every flag.
export class FlagStore extends DurableObject {
  async set(name, value) {
    await this.ctx.storage.put(name, value);
  }
  async get(name) {
    return (await this.ctx.storage.get(name)) ?? null;
  }
}

export default {
  async fetch(request, env) {
    const [, kind, name, value] = new URL(request.url).pathname.split("/");
    if (kind === "mirror") return new Response(String(await env.FLAGS_KV.get(name)));
    const store = env.FLAGS.getByName("flags");
    try {
      if (request.method === "POST") {
        await store.set(name, value);
        // The mirror, for reads that may lag (dashboards, analytics).
        await env.FLAGS_KV.put(name, value);
        return new Response("ok");
      }
      // A decision that must see the operator's latest write: ask the source of truth.
      return new Response(String(await store.get(name)));
    } catch (e) {
      return new Response(e.message, { status: 503 });
    }
  },
};
