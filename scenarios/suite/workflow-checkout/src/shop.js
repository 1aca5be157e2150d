// POST /checkout/<order>  starts the order's workflow (202; 409 when it exists; 500 when the
//                         engine did not answer: the outcome is unknown)
// POST /ship/<order>      the warehouse shipped it (202; 404 when there is no such order yet)
// GET  /status/<order>    the workflow's status
// GET  /charges/<order>   how many times the order's card was charged
export const shop = {
  async fetch(request, env) {
    const [, what, order] = new URL(request.url).pathname.split("/");
    try {
      if (request.method === "POST" && what === "checkout") {
        await env.CHECKOUT.create({ id: order, params: { order, amount: 25 } });
        return new Response("started", { status: 202 });
      }
      if (request.method === "POST" && what === "ship") {
        const instance = await env.CHECKOUT.get(order);
        await instance.sendEvent({ type: "shipped", payload: { carrier: "parcelco" } });
        return new Response("noted", { status: 202 });
      }
      if (what === "status") {
        const s = await (await env.CHECKOUT.get(order)).status();
        return Response.json(s);
      }
      if (what === "charges") {
        return new Response(String(await env.PAYMENTS.getByName(order).charges()));
      }
      return new Response("not found", { status: 404 });
    } catch (e) {
      if (e.message.includes("already_exists")) return new Response(e.message, { status: 409 });
      if (e.message.includes("not_found")) return new Response(e.message, { status: 404 });
      return new Response(e.message, { status: 500 });
    }
  },
};
