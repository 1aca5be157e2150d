import { DurableObject } from "cloudflare:workers";

const HOUR_MS = 3600 * 1000;

// The page-view statistics. Views land in the bucket of the hour they arrive in; rolling up an
// hour moves its bucket into the total. `rollup` is idempotent: an hour is rolled up once,
// however often the cron fires for it (Cron Triggers fire at least once, sometimes twice).
export class Stats extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS views (hour INTEGER PRIMARY KEY, n INTEGER NOT NULL);" +
        "CREATE TABLE IF NOT EXISTS rolled (hour INTEGER PRIMARY KEY, n INTEGER NOT NULL);" +
        "CREATE TABLE IF NOT EXISTS total (id INTEGER PRIMARY KEY CHECK (id = 0), n INTEGER NOT NULL);" +
        "INSERT OR IGNORE INTO total VALUES (0, 0);",
    );
  }
  view() {
    const hour = Math.floor(Date.now() / HOUR_MS);
    this.ctx.storage.sql.exec(
      "INSERT INTO views VALUES (?, 1) ON CONFLICT (hour) DO UPDATE SET n = n + 1",
      hour,
    );
  }
  // Rolls up the hour that ended at `scheduledTime` (Unix ms).
  rollup(scheduledTime) {
    const hour = Math.floor(scheduledTime / HOUR_MS) - 1;
    if (this.ctx.storage.sql.exec("SELECT 1 FROM rolled WHERE hour = ?", hour).toArray().length) {
      return "already rolled up";
    }
    return this.add(hour);
  }
  // The rollup that assumes each scheduled time fires once: it adds the hour whenever asked.
  rollupOnce(scheduledTime) {
    return this.add(Math.floor(scheduledTime / HOUR_MS) - 1);
  }
  add(hour) {
    const n = this.ctx.storage.sql.exec("SELECT coalesce(max(n), 0) AS n FROM views WHERE hour = ?", hour).one().n;
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO rolled VALUES (?, ?)", hour, n);
    this.ctx.storage.sql.exec("UPDATE total SET n = n + ?", n);
    return `rolled up ${n} views`;
  }
  // The total must be the sum of the hours rolled up.
  audit() {
    const total = this.ctx.storage.sql.exec("SELECT n FROM total").one().n;
    const { sum, hours } = this.ctx.storage.sql
      .exec("SELECT coalesce(sum(n), 0) AS sum, count(*) AS hours FROM rolled")
      .one();
    return { ok: total === sum, total, sum, hours };
  }
}
