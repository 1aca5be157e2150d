  // ---- timers and microtasks -----------------------------------------------------------------
  // Each JS timer has a host timer (an event on the scheduler). Timers due at one virtual instant
  // must fire in the order they were set (HTML; workerd), but the scheduler orders events of one
  // instant by a seeded draw. So a host timer that fires runs the earliest due JS timer, by (due
  // time, order set), and lends its own host timer, still pending at this instant, to the JS
  // timer it skipped.
  const timers = new Map();     // JS timer id -> {fn, args, interval, due, seq, hostId}
  const hostTimers = new Map(); // host timer id -> JS timer id
  let timerSeq = 0;
  let timersFinished = 0;
  // As in workerd: at most this many active timers (workerd counts per request; here per isolate).
  const TIMERS_ACTIVE_MAX = 10000;
  function addTimer(fn, ms, args, interval) {
    if (typeof fn !== 'function') throw new TypeError('The callback argument must be a function');
    if (timers.size >= TIMERS_ACTIVE_MAX) {
      throw new DOMException('You have exceeded the number of active timeouts you may set. ' +
          `max active timeouts: ${TIMERS_ACTIVE_MAX}, current active timeouts: ${timers.size}, ` +
          `finished timeouts: ${timersFinished}`, 'QuotaExceededError');
    }
    let delay = Math.trunc(Number(ms)) || 0;
    if (delay < 0) delay = 0;
    if (interval && delay < 1) delay = 1;  // an interval of 0 would spin at one virtual instant
    const hostId = host.setTimer(delay, 0);
    timers.set(hostId, {fn, args, interval: interval ? delay : 0, due: host.nowMs() + delay,
      seq: ++timerSeq, hostId});
    hostTimers.set(hostId, hostId);
    return hostId;
  }
  function clearTimer(id) {
    id = Number(id);
    const t = timers.get(id);
    if (t === undefined) return;
    timers.delete(id);
    ++timersFinished;
    hostTimers.delete(t.hostId);
    host.clearTimer(t.hostId);
  }
  define(g, 'setTimeout', function setTimeout(fn, ms, ...args) { return addTimer(fn, ms, args, false); });
  define(g, 'setInterval', function setInterval(fn, ms, ...args) { return addTimer(fn, ms, args, true); });
  define(g, 'clearTimeout', function clearTimeout(id) { clearTimer(id); });
  define(g, 'clearInterval', function clearInterval(id) { clearTimer(id); });
  function fireTimer(hostId) {
    const ownerId = hostTimers.get(hostId);
    if (ownerId === undefined) return;
    hostTimers.delete(hostId);
    const owner = timers.get(ownerId);
    const now = host.nowMs() + 1e-6;  // float slack: due times are sums of milliseconds
    let id = ownerId;
    let t = owner;
    for (const [otherId, other] of timers) {
      if (other.due <= now && (other.due < t.due || (other.due === t.due && other.seq < t.seq))) {
        id = otherId;
        t = other;
      }
    }
    if (t !== owner) {
      owner.hostId = t.hostId;
      hostTimers.set(owner.hostId, ownerId);
    }
    if (t.interval) {
      t.due = host.nowMs() + t.interval;
      t.seq = ++timerSeq;
      t.hostId = host.setTimer(t.interval, hostId);
      hostTimers.set(hostId, id);
    } else {
      timers.delete(id);
      ++timersFinished;
    }
    try {
      t.fn.apply(g, t.args);
    } catch (e) {
      host.reportError('timer', errorMessage(e), errorStack(e));
    }
  }
