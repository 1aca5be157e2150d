import { DurableObject } from "cloudflare:workers";

export class FlagStore extends DurableObject {
  async set(name, value) {
    await this.ctx.storage.put(name, value);
  }
}

// The bug: decisions read the flag from KV, as if the operator's write (made in another PoP a
// moment ago) were already visible here. KV makes it visible within about a minute, plus the
// cacheTtl of a PoP that read it recently.
export default {
  async fetch(request, env) {
    const [, kind, name, value] = new URL(request.url).pathname.split("/");
    if (kind === "mirror") return new Response(String(await env.FLAGS_KV.get(name)));
    try {
      if (request.method === "POST") {
        await env.FLAGS.getByName("flags").set(name, value);
        await env.FLAGS_KV.put(name, value);
        return new Response("ok");
      }
      return new Response(String(await env.FLAGS_KV.get(name)));
    } catch (e) {
      return new Response(e.message, { status: 503 });
    }
  },
};
