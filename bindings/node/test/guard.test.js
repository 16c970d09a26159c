'use strict';
// The Guard API on the binding's fixture policy (bindings/testdata/guard).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { FIXTURE, BROKEN, SHIPPED, CARD, REPO, fixtureCopy, writeVariant } = require('./support');
const rg = require('..');

const { Guard } = rg;
const guard = new Guard(FIXTURE);
test.after(() => guard.close());

test('verdicts', () => {
  assert.equal(guard.check('Hello, how can I help?').verdict, 'allow');
  assert.equal(guard.check('darn it').verdict, 'handoff');
  assert.equal(guard.check('you idiot').verdict, rg.Verdict.BLOCK);
  assert.equal(guard.check(`card ${CARD} ok`, { route: 'refunds' }).verdict, 'block');
});

test('a handoff carries its context, redacted', () => {
  const r = guard.check(`darn it, card ${CARD}`, { history: ['hi', 'hello'], channel: 'voice' });
  assert.equal(r.verdict, 'handoff');
  const c = r.handoffContext;
  assert.equal(c.turn, 3);
  assert.equal(c.channel, 'voice');
  assert.equal(c.triggers[0].span, '[toxicity.profanity]');
  assert.ok(!JSON.stringify(c).includes(CARD));
  assert.match(c.excerpt, /\[pii\.payment_card\]/);
});

test('user-message hits say so', () => {
  const g = new Guard(SHIPPED);
  try {
    let r;
    for (let i = 0; i < 5; i++) { // a preempted check is the fail-safe: retry
      r = g.check('Sure, checking now.', { userMessage: 'agent please' });
      if (!r.flags.includes('failsafe')) break;
    }
    assert.equal(r.verdict, 'handoff');
    const h = r.hits.find((x) => x.detector === 'en.handoff.ask_human');
    assert.equal(h.source, 'user_message');
  } finally {
    g.close();
  }
});

test('result is a plain object with every field', () => {
  const r = guard.check('you idiot');
  assert.equal(Object.getPrototypeOf(r), Object.prototype);
  assert.deepEqual(Object.keys(r).sort(), [
    'categories', 'elapsedNs', 'flags', 'handoffContext', 'hits', 'policy', 'reasons',
    'redacted', 'route', 'shadowVerdict', 'verdict',
  ]);
  assert.equal(r.route, 'default');
  assert.deepEqual(r.hits, [{
    detector: 't.insult', category: 'toxicity.insult', start: 4, end: 9, byteStart: 4,
    byteEnd: 9, score: 0.9, shadow: false, source: 'reply',
  }]);
  assert.equal(r.handoffContext, null);
  assert.deepEqual(r.categories, { 'toxicity.insult': 0.9 });
  assert.deepEqual(r.reasons.map((x) => [x.action, x.threshold]).sort(),
    [['block', 0.8], ['handoff', 0.5]]);
  for (const x of r.reasons) {
    assert.deepEqual([x.category, x.rule, x.route, x.shadow],
      ['toxicity.insult', 'toxicity', 'default', false]);
  }
  assert.equal(r.redacted, null);
  assert.ok(r.elapsedNs > 0);
  assert.equal(r.policy.version, 'bindings-1');
  assert.match(r.policy.hash, /^[0-9a-f]{64}$/);
  assert.deepEqual(r.flags, []);
  assert.equal(r.shadowVerdict, 'block');
  // Plain data: survives structured cloning and JSON.
  assert.deepEqual(structuredClone(r), r);
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
});

test('string offsets are UTF-16 indices; redaction', () => {
  const reply = `Ça coûte 5 € 😀; carte ${CARD}.`;
  const r = guard.check(reply);
  assert.equal(r.verdict, 'allow');
  assert.equal(r.redacted, 'Ça coûte 5 € 😀; carte [card].');
  assert.deepEqual(r.flags, ['redacted']);
  const [h] = r.hits;
  assert.equal(reply.slice(h.start, h.end), CARD);
  assert.equal(Buffer.from(reply).subarray(h.byteStart, h.byteEnd).toString(), CARD);
  assert.notEqual(h.start, h.byteStart);
});

test('multi-byte strings of every length around the buffer sizes', () => {
  // 4-byte characters after 0-3 ASCII bytes: a copy into a full buffer
  // stops 1-3 bytes short of it, which must not pass for the end.
  for (let n = 0; n < 1000; n++) { // < 4096 bytes: the route's max_bytes
    const reply = `${'x'.repeat(n % 4)}${'😀'.repeat(n)} you idiot`;
    const r = guard.check(reply, { userMessage: '€'.repeat(n % 300) });
    assert.equal(r.verdict, 'block', String(n));
    assert.equal(reply.slice(r.hits[0].start, r.hits[0].end), 'idiot');
    assert.equal(r.hits[0].byteEnd - r.hits[0].byteStart, 5);
  }
});

test('Buffer in, Buffer out, byte offsets', () => {
  const reply = Buffer.from(`carte ${CARD} ✓`);
  const r = guard.check(reply);
  assert.ok(Buffer.isBuffer(r.redacted));
  assert.equal(r.redacted.toString(), 'carte [card] ✓');
  const [h] = r.hits;
  assert.equal(reply.subarray(h.start, h.end).toString(), CARD);
  const u8 = new Uint8Array(reply);
  assert.equal(guard.check(u8).verdict, 'allow');
});

test('invalid UTF-8 bytes are repaired and flagged', () => {
  const r = guard.check(Buffer.from([0x79, 0x6f, 0x75, 0x20, 0xff, 0x20, 0x69, 0x64, 0x69, 0x6f, 0x74]));
  assert.equal(r.verdict, 'block');
  assert.ok(r.flags.includes('invalid_utf8'));
});

test('empty reply, NUL inside a reply', () => {
  assert.equal(guard.check('').verdict, 'allow');
  assert.equal(guard.check(Buffer.alloc(0)).verdict, 'allow');
  assert.equal(guard.check('you\0idiot').verdict, 'block');
});

test('oversize is a fail-safe verdict, not an error', () => {
  const r = guard.check('hello '.repeat(1000));
  assert.equal(r.verdict, 'handoff');
  assert.ok(r.flags.includes('oversize'));
  assert.ok(r.flags.includes('failsafe'));
});

test('conversation fields are accepted', () => {
  const r = guard.check('Sure, one moment.', {
    route: 'default',
    userMessage: 'where is my order?',
    history: ['Hi!', Buffer.from('What is your order number?')],
    channel: 'voice',
    locale: 'en-US',
  });
  assert.equal(r.verdict, 'allow');
  assert.equal(guard.check('Sure.', { history: [] }).verdict, 'allow');
  assert.equal(guard.check('Sure.', null).verdict, 'allow');
  // Long strings in every field (the argument arena grows).
  const long = 'x'.repeat(10000);
  const r2 = guard.check('you idiot', { userMessage: long, history: [long, long, long] });
  assert.equal(r2.verdict, 'block');
});

test('unknown route: UnknownRouteError with the fail-safe result', () => {
  assert.throws(() => guard.check('hello', { route: 'no-such-route' }), (e) => {
    assert.ok(e instanceof rg.UnknownRouteError);
    assert.ok(e instanceof rg.ReplyguardError);
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'UnknownRouteError');
    assert.equal(e.code, 'RG_E_NOROUTE');
    assert.equal(e.status, -6);
    assert.notEqual(e.result.verdict, 'allow');
    assert.ok(e.result.flags.includes('engine_error'));
    assert.ok(e.result.flags.includes('failsafe'));
    return true;
  });
});

test('argument errors are TypeErrors', () => {
  assert.throws(() => guard.check(42), TypeError);
  assert.throws(() => guard.check(), TypeError);
  assert.throws(() => guard.check('hi', { route: 7 }), TypeError);
  assert.throws(() => guard.check('hi', { history: 'nope' }), TypeError);
  assert.throws(() => guard.check('hi', { history: ['ok', 3] }), TypeError);
  assert.throws(() => guard.check('hi', 'default'), TypeError);
  assert.throws(() => guard.check('hi', { route: 'de\0fault' }), RangeError);
  assert.throws(() => new Guard(), TypeError);
  assert.throws(() => Guard(FIXTURE), TypeError);
  assert.throws(() => guard.check.call({}, 'hi'), TypeError);
});

test('routes and info', () => {
  assert.deepEqual(guard.routes, ['default', 'refunds']);
  const info = guard.info;
  assert.equal(info.version, 'bindings-1');
  assert.equal(info.detectors, 3);
  assert.ok(info.generation >= 1);
});

test('same answers as the CLI', { skip: !process.env.REPLYGUARD_CLI && 'needs REPLYGUARD_CLI' }, () => {
  const replies = ['hello', 'you idiot', 'darn it', `Ça va, carte ${CARD}.`];
  const input = replies.map((t, i) => JSON.stringify({ id: String(i), reply: t })).join('\n') + '\n';
  const out = spawnSync(process.env.REPLYGUARD_CLI, ['batch', '-p', FIXTURE], { input, encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  out.stdout.trim().split('\n').forEach((line, i) => {
    const cli = JSON.parse(line);
    const mine = guard.check(Buffer.from(replies[i]));  // byte offsets, as the CLI
    assert.equal(mine.verdict, cli.verdict);
    assert.deepEqual(mine.categories, cli.categories);
    assert.deepEqual(mine.hits.map((h) => [h.detector, h.category, h.start, h.end, h.score]),
      cli.hits.map((h) => [h.detector, h.category, h.start, h.end, h.score]));
    assert.equal(mine.redacted && mine.redacted.toString(), cli.redacted);
    assert.deepEqual(mine.policy, cli.policy);
  });
});

test('shipped policies', () => {
  const g = new Guard(SHIPPED);
  try {
    assert.ok(g.routes.includes('refunds'));
    // A check preempted past the shipped 2 ms budget on a busy host gets the
    // fail-safe (flagged): retried, as tests/test_golden.c does.
    let r;
    for (let i = 0; i < 5; i++) {
      r = g.check(`Your card ${CARD} is on file.`, { route: 'refunds' });
      if (!r.flags.includes('budget_exceeded')) break;
    }
    assert.equal(r.verdict, 'block');
    assert.ok(!String(r.redacted).includes(CARD));
  } finally {
    g.close();
  }
});

test('missing directory: PolicyIOError', () => {
  assert.throws(() => new Guard('/nonexistent/replyguard-policies'), (e) => {
    assert.ok(e instanceof rg.PolicyIOError);
    assert.equal(e.code, 'RG_E_IO');
    return true;
  });
});

test('policy error carries file, line and column', () => {
  assert.throws(() => new Guard(BROKEN), (e) => {
    assert.ok(e instanceof rg.PolicyError);
    assert.equal(e.code, 'RG_E_POLICY');
    assert.equal(e.status, -4);
    assert.ok(e.file.endsWith('policy.yaml'), e.file);
    assert.equal(e.line, 9);
    assert.equal(e.column, 15);
    assert.match(e.message, /:9:15: error: .*toxicity\.nonsense/);
    assert.equal(e.diagnostics[0].severity, 'error');
    return true;
  });
});

test('cacheDir is passed to the library', (t) => {
  const cache = fixtureCopy(t);
  const g = new Guard(FIXTURE, { cacheDir: cache, shared: false });
  assert.equal(g.check('you idiot').verdict, 'block');
  g.close();
  assert.ok(fs.readdirSync(cache).some((f) => f !== 'policy.yaml'), 'no cache file written');
  const again = new Guard(FIXTURE, { cacheDir: cache, shared: false });
  assert.equal(again.check('you idiot').verdict, 'block');
  again.close();
  assert.throws(() => new Guard(FIXTURE, { cacheDir: 5 }), TypeError);
  assert.throws(() => new Guard(FIXTURE, { shared: 'yes' }), TypeError);
});

test('close is idempotent; a closed Guard throws GuardClosedError', () => {
  const g = new Guard(FIXTURE, { shared: false });
  assert.equal(g.closed, false);
  g.close();
  g.close();
  assert.equal(g.closed, true);
  assert.throws(() => g.check('hi'), (e) => e instanceof rg.GuardClosedError && e.code === 'CLOSED');
});

test('reload: new policy in force, generation counts', (t) => {
  const dir = fixtureCopy(t);
  const g = new Guard(dir);
  t.after(() => g.close());
  assert.equal(g.check('you idiot').verdict, 'block');
  writeVariant(dir, 'bindings-2', 'allow');
  assert.deepEqual(g.reload(), []);
  const r = g.check('you idiot');
  assert.equal(r.verdict, 'allow');
  assert.equal(r.policy.version, 'bindings-2');
  assert.equal(g.info.generation, 2);
});

test('failed reload keeps the running policy', (t) => {
  const dir = fixtureCopy(t);
  const g = new Guard(dir);
  t.after(() => g.close());
  fs.copyFileSync(path.join(BROKEN, 'policy.yaml'), path.join(dir, 'policy.yaml'));
  assert.throws(() => g.reload(), (e) => {
    assert.ok(e instanceof rg.PolicyError);
    assert.deepEqual([e.line, e.column], [9, 15]);
    assert.match(e.message, /stays in force/);
    return true;
  });
  const r = g.check('you idiot');
  assert.deepEqual([r.verdict, r.policy.version], ['block', 'bindings-1']);
  assert.equal(g.info.generation, 1);
});

test('shared engines: one per directory, closed with the last Guard', (t) => {
  const dir = fixtureCopy(t);
  const before = rg._sharedEngines();
  const a = new Guard(dir);
  const b = new Guard(dir);
  const c = new Guard(dir, { shared: false });
  assert.equal(rg._sharedEngines(), before + 1);
  writeVariant(dir, 'v2');
  a.reload();
  assert.equal(b.check('hi').policy.version, 'v2');        // same engine
  assert.equal(c.check('hi').policy.version, 'bindings-1'); // its own
  a.close();
  assert.equal(b.check('you idiot').verdict, 'block');
  b.close();
  c.close();
  assert.equal(rg._sharedEngines(), before);
});

test('metrics: Prometheus text, counts this check', () => {
  const series = 'replyguard_checks_total{route="default",verdict="block",channel="voice"} ';
  const count = (text) => {
    const line = text.split('\n').find((l) => l.startsWith(series));
    assert.ok(line, series);
    return Number(line.slice(series.length));
  };
  const before = count(guard.metrics());
  guard.check('you idiot', { channel: 'voice' });
  const text = guard.metrics();
  assert.equal(count(text), before + 1);
  assert.match(text, /^# TYPE replyguard_check_duration_seconds histogram$/m);
  assert.doesNotMatch(text, /idiot/);
});

test('version', () => {
  assert.match(rg.version, /^0\.\d+\.\d+$/);
});

test('index.d.ts declares what index.js exports', () => {
  const dts = fs.readFileSync(path.join(REPO, 'bindings', 'node', 'index.d.ts'), 'utf8');
  for (const name of Object.keys(rg)) {
    if (name.startsWith('_')) continue;
    assert.match(dts, new RegExp(`export declare (class|const) ${name}\\b`), name);
  }
  for (const key of Object.keys(guard.check('you idiot'))) {
    assert.match(dts, new RegExp(`\\n  ${key}: `), key);
  }
});
