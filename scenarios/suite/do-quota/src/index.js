import { DurableObject } from "cloudflare:workers";

// One object per API key counts its calls; the SQL API keeps the count.
export class Quota extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS calls (n INTEGER NOT NULL)");
  }
  take(limit) {
    const sql = this.ctx.storage.sql;
    const used = sql.exec("SELECT count(*) AS n FROM calls").one().n;
    if (used >= limit) return 0;
    sql.exec("INSERT INTO calls (n) VALUES (?)", used + 1);
    return used + 1;
  }
}

export default {
  async fetch(request, env) {
    const [, , key] = new URL(request.url).pathname.split("/");
    try {
      const ordinal = await env.QUOTA_COUNTER.getByName(key).take(env.QUOTA);
      if (ordinal === 0) return new Response("quota exceeded", { status: 429 });
      return new Response(String(ordinal));
    } catch (e) {
      return new Response(e.message, { status: 503 });
    }
  },
};
