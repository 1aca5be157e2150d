// A user posts a comment and reads their comments back at once, again and again, carrying the
// session's bookmark from each answer to the next request. Each post is an add to the user's
// set of comments, each read a read of it (the set linearizability checker: a read must hold
// every comment whose post was acknowledged before it began).
export default async function (ctx) {
  const user = `u${ctx.client}`;
  let bookmark = "";
  const headers = () => (bookmark ? { "x-d1-bookmark": bookmark } : {});
  const keep = (r) => {
    const b = r.headers.get("x-d1-bookmark");
    if (b) bookmark = b;
  };
  for (let n = 1; !ctx.stopped; n++) {
    const text = `${user}-${n}`;
    await ctx.op("add", text, async () => {
      const r = await ctx.fetch(`/comments/${user}`, { method: "POST", body: text, headers: headers() });
      keep(r);
      if (r.status !== 201) throw new Error(`status ${r.status}`);  // unknown: it may have landed
      return "";
    }, { object: "comments", key: user });
    await ctx.op("read", "", async () => {
      const r = await ctx.fetch(`/comments/${user}`, { headers: headers() });
      keep(r);
      if (r.status !== 200) throw new Error(`status ${r.status}`);
      return r.text();
    }, { object: "comments", key: user });
    await ctx.sleep(500 + ctx.random() * 1500);
  }
}
