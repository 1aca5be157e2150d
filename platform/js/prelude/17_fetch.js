  // ---- fetch (over the simulated network, to the origins of the scenario) --------------------
  // host.fetch() starts a request (an effect of this run); the reply settles it in a later run
  // through settleFetch(). Redirects are followed here, one network request per hop.
  const pendingFetches = new Map();  // fetch id -> {resolve, reject, undo}
  const REDIRECTS_MAX = 20;
  function send(method, url, flat, bytes, signal) {
    return new Promise((resolve, reject) => {
      const id = host.fetch(method, url, flat, bytes);
      const entry = {resolve, reject, undo: () => {}};
      pendingFetches.set(id, entry);
      entry.undo = onSignalAbort(signal, () => {
        // The request is already on its way; its reply will find no one waiting.
        if (pendingFetches.delete(id)) reject(signal.reason);
      });
    });
  }
  function settleFetch(id, status, flat, body, error) {
    const entry = pendingFetches.get(id);
    if (entry === undefined) return;
    pendingFetches.delete(id);
    entry.undo();
    if (error !== undefined) {
      entry.reject(new TypeError(error));
    } else {
      entry.resolve({status, flat, body});
    }
  }
  async function runFetch(request) {
    const signal = request.signal;
    signal.throwIfAborted();
    let url = request.url;
    let method = request.method;
    const protocol = new URL(url).protocol;
    if (protocol !== 'http:' && protocol !== 'https:') {
      throw new TypeError(`Fetch API cannot load: ${url}`);
    }
    let headers = [...request.headers];
    let bytes = await request._readAll();
    signal.throwIfAborted();
    for (let hops = 0; ; hops++) {
      signal.throwIfAborted();
      const flat = [];
      for (const [k, v] of headers) arrayAppend(flat, k, v);
      const reply = await send(method, url, flat, bytes, signal);
      let location = null;
      for (let i = 0; i + 1 < reply.flat.length; i += 2) {
        if (reply.flat[i].toLowerCase() === 'location') location = reply.flat[i + 1];
      }
      if (REDIRECT_STATUS.includes(reply.status) && location !== null && request.redirect !== 'manual') {
        if (request.redirect === 'error') {
          throw new TypeError(`Fetch to ${url} was redirected, but redirect is set to "error"`);
        }
        if (hops >= REDIRECTS_MAX) throw new TypeError('Too many redirects.');
        try {
          url = new URL(location, url).href;
        } catch {
          throw new TypeError(`Invalid redirect location: ${location}`);
        }
        if ((reply.status === 303 && method !== 'HEAD') ||
            ((reply.status === 301 || reply.status === 302) && method === 'POST')) {
          method = 'GET';
          bytes = null;
          headers = headers.filter(([k]) => !['content-type', 'content-length', 'content-encoding',
            'content-language', 'content-location'].includes(k));
        }
        continue;
      }
      const nullBody = method === 'HEAD' || NULL_BODY_STATUS.includes(reply.status);
      return makeFetchedResponse(reply.status, reply.flat, nullBody ? null : reply.body, url, hops > 0);
    }
  }
  define(g, 'fetch', function fetch(input, init = undefined) {
    try {
      if (arguments.length === 0) throw new TypeError('fetch requires 1 argument');
      return runFetch(new Request(input, init));
    } catch (e) {
      return Promise.reject(e);
    }
  });

