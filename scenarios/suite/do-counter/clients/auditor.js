// An auditor in Chicago reads both counters in turn, recording each read for the
// linearizability checker: a read must never return less than an increment that completed
// before it began.
export default async function (ctx) {
  while (!ctx.stopped) {
    for (const name of ["a", "b"]) {
      await ctx.op("read", "", async () => {
        const r = await ctx.fetch(`/counter/${name}`);
        if (!r.ok) throw new Error(`status ${r.status}`);  // unknown: it may not have been served
        return r.text();
      }, { object: "counter", key: name });
    }
    await ctx.sleep(200 + ctx.random() * 300);
  }
}
