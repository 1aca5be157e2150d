// The same Worker, written as if each scheduled time fired exactly once: the rollup adds the
// hour whenever the cron asks, so a second firing of one hour counts its views twice.
export { Stats } from "./stats.js";
import worker, { report } from "./index.js";

export default {
  fetch: worker.fetch,
  async scheduled(controller, env, ctx) {
    const result = await env.STATS.getByName("site").rollupOnce(controller.scheduledTime);
    await report(controller, result);
  },
};
