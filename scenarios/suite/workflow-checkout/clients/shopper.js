// A shopper checks out orders one after another: each checkout is one charge of the order's
// card (an increment of "charges" for the linearizability checker; 409 proves no effect). The
// warehouse ships it a little later (retrying until the order exists and the PoP answers).
export default async function (ctx) {
  for (let n = 1; !ctx.stopped && n <= 4; n++) {
    const order = `o${ctx.client}-${n}`;
    await ctx.op("increment", "1", async () => {
      const r = await ctx.fetch(`/checkout/${order}`, { method: "POST" });
      if (r.status === 409) ctx.fail("exists");
      if (r.status !== 202) throw new Error(`status ${r.status}`);
      return "";
    }, { object: "charges", key: order });
    await ctx.sleep(2000 + ctx.random() * 8000);
    for (let tries = 0; tries < 20; tries++) {
      try {
        const r = await ctx.fetch(`/ship/${order}`, { method: "POST" });
        if (r.status === 202) break;
      } catch {
        // The PoP was down or cut off: try again.
      }
      await ctx.sleep(5000);
    }
    await ctx.sleep(ctx.random() * 5000);
  }
}
