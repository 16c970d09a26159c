'use strict';
// exercise.js: start examples/node/server.js on 127.0.0.1 (a free port),
// send it a bounded set of requests, check every answer, stop it.
// Exits 0 when every answer is as expected. Stops by itself (90 s at most).
//
// Usage: node examples/node/exercise.js [POLICY_DIR]   (default: policies)
const { spawn } = require('child_process');
const http = require('http');
const path = require('path');
const assert = require('assert/strict');

const CARD = '4111 1111 1111 1111';
const dir = path.resolve(process.argv[2] || 'policies');
const child = spawn(process.execPath, [path.join(__dirname, 'server.js'), dir], {
  env: { ...process.env, PORT: '0', HOST: '127.0.0.1' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const deadline = setTimeout(() => {
  console.error('exercise: timed out');
  child.kill('SIGKILL');
  process.exit(1);
}, 90000);

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
function request(port, method, url, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, method, path: url, agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function exercise(port) {
  let n = 0;
  const call = async (...args) => { n++; return request(port, ...args); };
  // The shipped routes have a 2 ms budget: on a busy host a check can be
  // preempted past it and get the fail-safe verdict, flagged
  // budget_exceeded. The server reports that honestly; for the fixed
  // expectations below, such an answer is asked again (5 tries).
  const check = async (body) => {
    let r;
    for (let i = 0; i < 5; i++) {
      r = await call('POST', '/check', body);
      if (!(r.body.flags || []).includes('budget_exceeded')) break;
    }
    return r;
  };

  let r = await call('GET', '/healthz');
  assert.equal(r.status, 200);
  assert.ok(r.body.routes.includes('refunds'));
  console.log(`healthz: policy ${r.body.policy.version}, routes ${r.body.routes.join(', ')}`);

  const reply = 'Your table for two is booked for 7 pm.';
  r = await check({ reply });
  assert.deepEqual([r.status, r.body.verdict, r.body.send], [200, 'allow', reply]);
  console.log(`allow:   "${reply}" -> sent as is`);

  r = await check({ reply: `Refunded to card ${CARD}.`, route: 'refunds' });
  assert.deepEqual([r.status, r.body.verdict, r.body.send], [200, 'block', null]);
  console.log(`block:   a card number on route refunds -> ${r.body.reasons.map((x) => `${x.category} ${x.action}`).join(', ')}`);

  r = await check({ reply: `Saved card ${CARD} for next time.` });
  assert.equal(r.status, 200);
  assert.equal(r.body.verdict, 'allow');
  assert.ok(!r.body.send.includes(CARD) && r.body.flags.includes('redacted'));
  console.log(`redact:  a card number on route default -> "${r.body.send}"`);

  r = await call('POST', '/check', { reply: 'Shut up, you moron.', userMessage: 'hello?' });
  assert.equal(r.status, 200);
  assert.notEqual(r.body.verdict, 'allow');
  assert.equal(r.body.send, null);
  console.log(`insult:  -> ${r.body.verdict}, nothing sent`);

  r = await call('POST', '/check', { reply: 'hi', route: 'no-such-route' });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'RG_E_NOROUTE');
  assert.notEqual(r.body.verdict, 'allow');
  console.log(`error:   unknown route -> 400 ${r.body.code}, fail-safe verdict ${r.body.verdict}`);

  r = await call('POST', '/check', '{not json');
  assert.equal(r.status, 400);

  // A bounded burst over 8 keep-alive connections.
  const burst = 400;
  const t0 = process.hrtime.bigint();
  const answers = await Promise.all(Array.from({ length: burst }, (_, i) =>
    call('POST', '/check', { reply: `Order ${i} ships tomorrow.`, history: ['Hi!'] })));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  // Every answer is allow, or a fail-safe that says so (never a silent one).
  assert.ok(answers.every((a) => a.status === 200 && (a.body.verdict === 'allow'
    || (a.body.flags.includes('budget_exceeded') && a.body.send === null))));
  const failsafe = answers.filter((a) => a.body.verdict !== 'allow').length;
  console.log(`burst:   ${burst} checks over 8 connections, ${burst - failsafe} allowed`
    + `${failsafe ? `, ${failsafe} over budget (fail-safe)` : ''} (${Math.round(burst / secs)} requests/s)`);
  return n;
}

let out = '';
child.stdout.on('data', (chunk) => {
  out += chunk;
  const m = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
  if (!m || exercise.started) return;
  exercise.started = true;
  exercise(Number(m[1])).then((n) => {
    console.log(`${n} requests, every answer as expected`);
    agent.destroy();
    child.kill('SIGTERM');
    child.on('exit', (code) => {
      clearTimeout(deadline);
      process.exit(code === 0 ? 0 : 1);
    });
  }, (err) => {
    console.error(err);
    child.kill('SIGTERM');
    clearTimeout(deadline);
    process.exitCode = 1;
  });
});
child.on('exit', (code) => {
  if (!exercise.started) {
    console.error(`exercise: server exited (${code}) before listening`);
    clearTimeout(deadline);
    process.exit(1);
  }
});
