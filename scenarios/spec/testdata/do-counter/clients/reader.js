// Reads one counter from far away, recording each read for the linearizability checker.
export default async function (ctx) {
  const name = ctx.params.counter;
  while (!ctx.stopped) {
    await ctx.op("read", "", async () => (await ctx.fetch(`/counter/${name}`)).text(),
                 { object: "counter", key: name });
    await ctx.sleep(100 + ctx.random() * 100);
  }
}
