// POST /view     counts a page view (204).
// GET  /audit    200 when the total equals the hours rolled up, else 500 saying by how much not.
// Every hour, scheduled() rolls up the hour that just ended, then reports it to the analytics
// service (which takes a few seconds to answer).
export { Stats } from "./stats.js";

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    const stats = env.STATS.getByName("site");
    try {
      if (request.method === "POST" && pathname === "/view") {
        await stats.view();
        return new Response(null, { status: 204 });
      }
      if (pathname === "/audit") {
        const a = await stats.audit();
        const text = `total ${a.total}, hours rolled up ${a.hours} summing to ${a.sum}`;
        return new Response(text, { status: a.ok ? 200 : 500 });
      }
      return new Response("not found", { status: 404 });
    } catch (e) {
      return new Response(e.message, { status: 503 });
    }
  },

  async scheduled(controller, env, ctx) {
    const result = await env.STATS.getByName("site").rollup(controller.scheduledTime);
    await report(controller, result);
  },
};

export async function report(controller, result) {
  const r = await fetch("https://analytics.example.com/rollups", {
    method: "POST",
    body: JSON.stringify({ cron: controller.cron, at: controller.scheduledTime, result }),
  });
  if (!r.ok) throw new Error(`analytics answered ${r.status}`);
}
