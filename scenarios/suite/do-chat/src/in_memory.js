import { DurableObject } from "cloudflare:workers";

// The bug: the room keeps its members in a field of the object. That works until the room
// hibernates (after about 10 s without messages): the constructor runs again, `members` is empty,
// and every later message is broadcast to nobody, although all the sockets are still open.
export class ChatRoom extends DurableObject {
  members = new Set();

  async fetch(request) {
    if (request.headers.get("upgrade") !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const name = new URL(request.url).searchParams.get("name") ?? "anonymous";
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ name });
    this.members.add(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws, message) {
    const { id, text } = JSON.parse(message);
    const { name } = ws.deserializeAttachment();
    const seq = ((await this.ctx.storage.get("seq")) ?? 0) + 1;
    await this.ctx.storage.put("seq", seq);
    const out = JSON.stringify({ type: "post", id, seq, from: name, text });
    for (const member of this.members) member.send(out);
  }

  async webSocketClose(ws) {
    this.members.delete(ws);
  }
}

export default {
  async fetch(request, env) {
    const [, rooms, room] = new URL(request.url).pathname.split("/");
    if (rooms !== "rooms" || !room) return new Response("not found", { status: 404 });
    return env.ROOMS.getByName(room).fetch(request);
  },
};
