import { DurableObject } from "cloudflare:workers";

// One ledger per account. `apply` is idempotent: an order id is counted once, however often the
// queue delivers it (at-least-once delivery means "sometimes twice").
export class Ledger extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, amount INTEGER)");
  }
  apply(orderId, amount) {
    this.ctx.storage.sql.exec("INSERT OR IGNORE INTO orders (id, amount) VALUES (?, ?)", orderId, amount);
  }
  // The non-idempotent way: every delivery adds a row.
  applyAgain(orderId, amount) {
    this.ctx.storage.sql.exec("INSERT INTO orders (id, amount) VALUES (?, ?)", orderId + "#" + crypto.randomUUID(), amount);
  }
  total() {
    return this.ctx.storage.sql.exec("SELECT coalesce(sum(amount), 0) AS t FROM orders").one().t;
  }
}
