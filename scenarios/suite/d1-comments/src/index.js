// POST /comments/<user>  adds a comment (the body) and counts it, in one batch (201)
// GET  /comments/<user>  the user's comments, oldest first, joined by commas
// GET  /audit/<user>     200 when the user's count equals their comments, else 409
// Requests carry the session's bookmark in the x-d1-bookmark header both ways (the client keeps
// it, as a cookie would), so a user's reads continue the session of their writes.
export default {
  async fetch(request, env) {
    const [, what, user] = new URL(request.url).pathname.split("/");
    const session = env.DB.withSession(request.headers.get("x-d1-bookmark") || "first-unconstrained");
    try {
      let response;
      if (request.method === "POST" && what === "comments") {
        const text = await request.text();
        await session.batch([
          session.prepare("INSERT INTO comments (user, text) VALUES (?, ?)").bind(user, text),
          session
            .prepare("INSERT INTO users (user, comments) VALUES (?, 1) ON CONFLICT(user) DO UPDATE SET comments = comments + 1")
            .bind(user),
        ]);
        response = new Response("posted", { status: 201 });
      } else if (what === "comments") {
        const { results } = await session
          .prepare("SELECT text FROM comments WHERE user = ? ORDER BY id")
          .bind(user)
          .all();
        response = new Response(results.map((r) => r.text).join(","));
      } else if (what === "audit") {
        // At the primary: the authoritative state.
        const row = await env.DB.prepare(
          "SELECT (SELECT count(*) FROM comments WHERE user = ?1) AS n, (SELECT comments FROM users WHERE user = ?1) AS counted",
        ).bind(user).first();
        response = new Response(JSON.stringify(row), { status: row.n === (row.counted ?? 0) ? 200 : 409 });
      } else {
        response = new Response("not found", { status: 404 });
      }
      response.headers.set("x-d1-bookmark", session.getBookmark() ?? "");
      return response;
    } catch (e) {
      return new Response(e.message, { status: 500 });
    }
  },
};
