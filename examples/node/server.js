'use strict';
// server.js: a small HTTP endpoint an agent runtime can call before it sends
// a reply (node's built-in http; no framework).
//
//   POST /check   {"reply": "...", "route": "refunds", "userMessage": "...",
//                  "history": ["..."], "channel": "chat", "locale": "en-US"}
//     200 {"verdict", "send", "reasons", "categories", "hits", "flags",
//          "policy", "elapsedNs"}   send: the text to send (the redacted copy
//          when the policy masks a span), or null for handoff/block
//     400 {"error", "code", "verdict"} bad request or unknown route (verdict
//          is the route's fail-safe: never send the reply on an error)
//   GET  /healthz 200 {"ok": true, "policy": {...}, "routes": [...]}
//   POST /reload  reload the policy directory (hot; a bad policy keeps the
//          old one in force and answers 422 with file:line:column)
//
// Usage: node examples/node/server.js [POLICY_DIR]   (default: policies)
//   PORT (default 8787; 0 picks a free port), HOST (default 127.0.0.1).
// Prints "listening on http://HOST:PORT" once ready; SIGINT/SIGTERM stop it.
// From a clone, after `make`: node examples/node/server.js (examples/node/node_modules
// links bindings/node, so require("replyguard") resolves as after npm install).
const http = require('http');
const { Guard, ReplyguardError } = require('replyguard');

const MAX_BODY = 1 << 20;

function send(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

function readJson(req, callback) {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > MAX_BODY) {
      callback(Object.assign(new Error('body too large'), { status: 413 }));
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    if (size > MAX_BODY) return;
    try {
      callback(null, JSON.parse(Buffer.concat(chunks).toString('utf8')));
    } catch (e) {
      callback(Object.assign(new Error(`bad JSON: ${e.message}`), { status: 400 }));
    }
  });
}

function check(guard, body) {
  if (!body || typeof body.reply !== 'string') {
    return [400, { error: '"reply" (a string) is required', code: 'BAD_REQUEST', verdict: 'handoff' }];
  }
  const { reply, route, userMessage, history, channel, locale } = body;
  try {
    const r = guard.check(reply, { route, userMessage, history, channel, locale });
    const sendText = r.verdict === 'allow' ? (r.redacted !== null ? r.redacted : reply) : null;
    return [200, {
      verdict: r.verdict,
      send: sendText,
      reasons: r.reasons,
      categories: r.categories,
      hits: r.hits.map(({ detector, category, start, end, score }) => ({ detector, category, start, end, score })),
      flags: r.flags,
      policy: r.policy,
      elapsedNs: r.elapsedNs,
    }];
  } catch (e) {
    if (e instanceof ReplyguardError) {
      // The library still decided a fail-safe verdict: report it, send nothing.
      return [400, { error: e.message, code: e.code, verdict: e.result ? e.result.verdict : 'handoff' }];
    }
    if (e instanceof TypeError || e instanceof RangeError) {
      return [400, { error: e.message, code: 'BAD_REQUEST', verdict: 'handoff' }];
    }
    throw e;
  }
}

function createServer(guard) {
  return http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/healthz') {
      return send(res, 200, { ok: true, policy: guard.info, routes: guard.routes });
    }
    if (req.method === 'POST' && req.url === '/reload') {
      try {
        guard.reload();
        return send(res, 200, { ok: true, policy: guard.info });
      } catch (e) {
        return send(res, 422, { ok: false, error: e.message, code: e.code, file: e.file, line: e.line, column: e.column });
      }
    }
    if (req.method === 'POST' && req.url === '/check') {
      return readJson(req, (err, body) => {
        if (err) return send(res, err.status, { error: err.message, code: 'BAD_REQUEST', verdict: 'handoff' });
        const [status, out] = check(guard, body);
        send(res, status, out);
      });
    }
    send(res, 404, { error: 'not found' });
  });
}

if (require.main === module) {
  const guard = new Guard(process.argv[2] || 'policies');
  const server = createServer(guard);
  const host = process.env.HOST || '127.0.0.1';
  server.listen(Number(process.env.PORT || 8787), host, () => {
    console.log(`listening on http://${host}:${server.address().port}`);
  });
  const stop = () => server.close(() => { guard.close(); process.exit(0); });
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

module.exports = { createServer };
