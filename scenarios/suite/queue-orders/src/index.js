// POST /orders/<account>  queues an order of 1 unit for the account (202), or 500 when the queue
//                         did not take it (the order may still be delivered: the outcome is
//                         unknown to the shop).
// GET  /ledger/<account>  the account's total, from its ledger.
// The consumer applies each order to its ledger by the message id, so a redelivered order is
// counted once.
export { Ledger } from "./ledger.js";

export default {
  async fetch(request, env) {
    const [, what, account] = new URL(request.url).pathname.split("/");
    try {
      if (request.method === "POST" && what === "orders") {
        await env.ORDERS.send({ account, amount: 1 });
        return new Response("queued", { status: 202 });
      }
      if (what === "ledger") {
        return new Response(String(await env.LEDGER.getByName(account).total()));
      }
      return new Response("not found", { status: 404 });
    } catch (e) {
      return new Response(e.message, { status: 500 });
    }
  },

  async queue(batch, env) {
    for (const message of batch.messages) {
      const { account, amount } = message.body;
      try {
        await env.LEDGER.getByName(account).apply(message.id, amount);
        message.ack();
      } catch (e) {
        message.retry();
      }
    }
  },
};
