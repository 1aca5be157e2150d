import { DurableObject } from "cloudflare:workers";

// One Durable Object per counter name; it alone reads and writes the value, so increments
// are serialized and reads see the latest value.
export class Counter extends DurableObject {
  async increment() {
    const value = ((await this.ctx.storage.get("value")) ?? 0) + 1;
    await this.ctx.storage.put("value", value);
    return value;
  }
  async read() {
    return (await this.ctx.storage.get("value")) ?? 0;
  }
}

export default {
  async fetch(request, env) {
    const [, , name, action] = new URL(request.url).pathname.split("/");
    const stub = env.COUNTER.get(env.COUNTER.idFromName(name));
    const value = action === "increment" ? await stub.increment() : await stub.read();
    return new Response(String(value));
  },
};
