// The same shop, with a consumer that trusts each delivery to be the only one: it adds every
// delivery to the ledger and acks the batch only when the handler returns. A consumer that
// crashes mid-batch (or whose answer is lost) gets the batch again, and the orders it already
// applied are counted twice.
export { Ledger } from "./ledger.js";
import shop from "./index.js";

export default {
  fetch: shop.fetch,

  async queue(batch, env) {
    for (const message of batch.messages) {
      const { account, amount } = message.body;
      await env.LEDGER.getByName(account).applyAgain(message.id, amount);
    }
  },
};
