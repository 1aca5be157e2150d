import { WorkflowEntrypoint } from "cloudflare:workers";
import { shop } from "./shop.js";
export { Payments } from "./payments.js";

// The bug: the charge step is named with the time. A replay reaches a step of another name, so
// the engine has no result for it and runs it again: the steps a replay sees differ from the
// first run's (the idempotency key still saves the card here; a side effect without one would not
// be saved).
export class Checkout extends WorkflowEntrypoint {
  async run(event, step) {
    const { order, amount } = event.payload;
    const charge = await step.do(`charge card at ${Date.now()}`,
      async () => {
        const check = await fetch("https://fraud.example.com/check", { method: "POST", body: order });
        if (!check.ok) throw new Error(`fraud check: ${check.status}`);
        return this.env.PAYMENTS.getByName(order).charge(order, amount);
      });
    const shipped = await step.waitForEvent("shipped", { type: "shipped", timeout: "30 minutes" });
    await step.sleep("return window", "10 minutes");
    const receipt = await step.do("email receipt", async () => ({ to: order + "@example.com", charge: charge.id }));
    return { order, charge: charge.id, carrier: shipped.payload.carrier, receipt: receipt.to };
  }
}

export default shop;
