// The bug: every request starts a new session and drops the bookmark. A read goes to the
// replica nearest the user, which may not have the comment the same user just posted yet.
export default {
  async fetch(request, env) {
    const [, what, user] = new URL(request.url).pathname.split("/");
    const session = env.DB.withSession();
    try {
      if (request.method === "POST" && what === "comments") {
        const text = await request.text();
        await session.batch([
          session.prepare("INSERT INTO comments (user, text) VALUES (?, ?)").bind(user, text),
          session
            .prepare("INSERT INTO users (user, comments) VALUES (?, 1) ON CONFLICT(user) DO UPDATE SET comments = comments + 1")
            .bind(user),
        ]);
        return new Response("posted", { status: 201 });
      }
      if (what === "comments") {
        const { results } = await session.prepare("SELECT text FROM comments WHERE user = ? ORDER BY id").bind(user).all();
        return new Response(results.map((r) => r.text).join(","));
      }
      if (what === "audit") {
        const row = await env.DB.prepare(
          "SELECT (SELECT count(*) FROM comments WHERE user = ?1) AS n, (SELECT comments FROM users WHERE user = ?1) AS counted",
        ).bind(user).first();
        return new Response(JSON.stringify(row), { status: row.n === (row.counted ?? 0) ? 200 : 409 });
      }
      return new Response("not found", { status: 404 });
    } catch (e) {
      return new Response(e.message, { status: 500 });
    }
  },
};
