import { WorkflowEntrypoint } from "cloudflare:workers";

// One order: charge the card (once: the charge is a step, and the processor's idempotency key is
// the order), wait for the warehouse to ship (an order not shipped within 30 minutes fails), let
// the return window pass, then email the receipt.
export class Checkout extends WorkflowEntrypoint {
  async run(event, step) {
    const { order, amount } = event.payload;
    const charging = { retries: { limit: 8, delay: "2 seconds", backoff: "exponential" }, timeout: "30 seconds" };
    const charge = await step.do("charge card", charging, async () => {
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
