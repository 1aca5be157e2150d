import { DurableObject } from "cloudflare:workers";

// The payment processor, one object per order. A charge carries an idempotency key: a second
// charge with the same key returns the first charge and takes no money, as card processors do.
// A charge with a new key takes money again.
export class Payments extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS charges (key TEXT PRIMARY KEY, id TEXT, amount INTEGER)");
  }
  charge(key, amount) {
    const seen = this.ctx.storage.sql.exec("SELECT id FROM charges WHERE key = ?", key).toArray();
    if (seen.length > 0) return { id: seen[0].id, amount };
    const id = "ch_" + key + "_" + this.ctx.storage.sql.exec("SELECT count(*) AS n FROM charges").one().n;
    this.ctx.storage.sql.exec("INSERT INTO charges VALUES (?, ?, ?)", key, id, amount);
    return { id, amount };
  }
  // How many times money was taken.
  charges() {
    return this.ctx.storage.sql.exec("SELECT count(*) AS n FROM charges").one().n;
  }
}
