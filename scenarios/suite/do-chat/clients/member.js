// A chat member. It joins the lobby over a WebSocket, talks in three windows of the run
// (0-6 s, 20-26 s, 40-46 s: the room hibernates in the silences), and records for the broadcast
// checker what it joined, posted and received. A broken connection is joined again.
const ROOM = { object: "lobby" };
const WINDOWS = [[0, 6000], [20000, 26000], [40000, 46000]];

export default async function member(ctx) {
  const me = `m${ctx.client + 1}`;
  const t0 = Date.now();
  const talking = () => WINDOWS.some(([a, b]) => Date.now() - t0 >= a && Date.now() - t0 < b);
  let posted = 0;
  while (!ctx.stopped) {
    const ws = await ctx.op("join", me, () => ctx.websocket(`/rooms/lobby?name=${me}`), ROOM);
    if (ws === undefined) {
      await ctx.sleep(1000);
      continue;
    }
    let open = true;
    const reader = (async () => {
      for (;;) {
        const m = await ws.receive();
        if (m.type === "close") {
          open = false;
          ctx.event("leave", String(m.code), ROOM);
          return;
        }
        const msg = JSON.parse(m.data);
        if (msg.type === "post") ctx.event("recv", msg.id, ROOM);
      }
    })();
    while (open && !ctx.stopped) {
      if (talking()) {
        const id = `${me}-${++posted}`;
        await ctx.op("post", id, () => ws.send(JSON.stringify({ id, text: `hello from ${me}` })), ROOM);
        await ctx.sleep(300 + ctx.random() * 900);
      } else {
        await ctx.sleep(500);
      }
    }
    if (open) {
      await ctx.sleep(8000);  // the last messages reach everyone
      await ws.close(1000, "bye");
    }
    await reader;
  }
}
