import { DurableObject } from "cloudflare:workers";

// A chat room with the WebSocket hibernation API. The platform keeps the sockets: when the room
// is idle it hibernates (this object and its memory go away, the connections stay), and the
// next message runs the constructor again. So the room never keeps its members in memory: it
// asks the platform for them (getWebSockets), and each socket carries its member's name as an
// attachment, which survives hibernation too.
export class ChatRoom extends DurableObject {
  async fetch(request) {
    if (request.headers.get("upgrade") !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const name = new URL(request.url).searchParams.get("name") ?? "anonymous";
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server, [name]);
    server.serializeAttachment({ name });
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws, message) {
    const { id, text } = JSON.parse(message);
    const { name } = ws.deserializeAttachment();
    // A durable sequence number: the broadcast waits (output gate) until it is stored.
    const seq = ((await this.ctx.storage.get("seq")) ?? 0) + 1;
    await this.ctx.storage.put("seq", seq);
    const out = JSON.stringify({ type: "post", id, seq, from: name, text });
    for (const member of this.ctx.getWebSockets()) member.send(out);
  }

  async webSocketClose(ws, code, reason, wasClean) {
    // Nothing to forget: the platform drops the socket from getWebSockets().
  }
}

export default {
  async fetch(request, env) {
    const [, rooms, room] = new URL(request.url).pathname.split("/");
    if (rooms !== "rooms" || !room) return new Response("not found", { status: 404 });
    return env.ROOMS.getByName(room).fetch(request);
  },
};
