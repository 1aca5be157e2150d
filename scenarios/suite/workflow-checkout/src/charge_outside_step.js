import { WorkflowEntrypoint } from "cloudflare:workers";
import { shop } from "./shop.js";
export { Payments } from "./payments.js";

// The bug: the card is charged in run() itself, with a fresh idempotency key, instead of in a
// step. run() is replayed from the top after every wait and sleep (and after crashes), so each
// replay charges the card again.
export class Checkout extends WorkflowEntrypoint {
  async run(event, step) {
    const { order, amount } = event.payload;
    const charge = await this.env.PAYMENTS.getByName(order).charge(crypto.randomUUID(), amount);
    const shipped = await step.waitForEvent("shipped", { type: "shipped", timeout: "30 minutes" });
    await step.sleep("return window", "10 minutes");
    const receipt = await step.do("email receipt", async () => ({ to: order + "@example.com", charge: charge.id }));
    return { order, charge: charge.id, carrier: shipped.payload.carrier, receipt: receipt.to };
  }
}

export default shop;
