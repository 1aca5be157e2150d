  // ---- console -------------------------------------------------------------------------------
  function inspect(v, depth, seen) {
    switch (typeof v) {
      case 'string': return depth === 0 ? v : `'${v}'`;
      case 'number': return Object.is(v, -0) ? '-0' : String(v);
      case 'bigint': return `${v}n`;
      case 'symbol': return v.toString();
      case 'undefined': return 'undefined';
      case 'function': return `[Function: ${v.name || '(anonymous)'}]`;
      case 'boolean': return String(v);
    }
    if (v === null) return 'null';
    if (v instanceof Error) return v.stack || String(v);
    if (seen.includes(v)) return '[Circular]';
    if (depth > 2) return Array.isArray(v) ? '[Array]' : '[Object]';
    seen = seen.concat([v]);
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[ ${v.map((x) => inspect(x, depth + 1, seen)).join(', ')} ]`;
    }
    if (v instanceof Date) return v.toISOString();
    if (v instanceof Map) {
      return `Map(${v.size}) { ${[...v].map(([k, x]) =>
          `${inspect(k, depth + 1, seen)} => ${inspect(x, depth + 1, seen)}`).join(', ')} }`;
    }
    if (v instanceof Set) {
      return `Set(${v.size}) { ${[...v].map((x) => inspect(x, depth + 1, seen)).join(', ')} }`;
    }
    if (typeof v.then === 'function') return 'Promise { <pending> }';
    const keys = Object.keys(v);
    const ctor = v.constructor && v.constructor !== Object ? `${v.constructor.name} ` : '';
    if (keys.length === 0) return `${ctor}{}`;
    const key = (k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : `'${k}'`);
    return `${ctor}{ ${keys.map((k) => `${key(k)}: ${inspect(v[k], depth + 1, seen)}`).join(', ')} }`;
  }
  function format(args) {
    return Array.prototype.map.call(args, (a) => inspect(a, 0, [])).join(' ');
  }
  const console = {};
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    define(console, level, function (...args) { host.console(level, format(args)); });
  }
  define(console, 'trace', function (...args) {
    host.console('debug', `Trace: ${format(args)}\n${(new Error().stack || '').split('\n').slice(2).join('\n')}`);
  });
  define(g, 'console', console);

