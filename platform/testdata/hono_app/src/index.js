// A small Hono app, bundled by esbuild at build time (platform/CMakeLists.txt) and served by
// runtime::Worker in platform/runtime/bundle_test.cc.
import { Hono } from 'hono';

const app = new Hono();

// Middleware: every response says which app served it and how long it took (virtual time).
app.use('*', async (c, next) => {
  const started = Date.now();
  await next();
  c.header('x-powered-by', 'hono-on-edgesim');
  c.header('x-elapsed-ms', String(Date.now() - started));
});

app.get('/', (c) => c.text('Hello from Hono!'));

app.get('/users/:id', (c) => {
  const id = c.req.param('id');
  return c.json({ id: Number(id), name: `user-${id}`, tags: c.req.queries('tag') ?? [] });
});

app.post('/echo', async (c) => {
  const body = await c.req.text();
  return c.json({ length: body.length, body, type: c.req.header('content-type') ?? null });
});

app.get('/env', (c) => c.text(`greeting=${c.env.GREETING}`));

app.get('/boom', () => {
  throw new Error('route failed');
});

app.onError((err, c) => c.text(`caught: ${err.message}`, 500));

app.notFound((c) => c.json({ error: 'not found', path: c.req.path }, 404));

export default app;
