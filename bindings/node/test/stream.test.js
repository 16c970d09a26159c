'use strict';
// Streaming from Node (guard.stream, guard.guarded) on the binding fixture.
const test = require('node:test');
const assert = require('node:assert/strict');
const { FIXTURE, CARD } = require('./support');
const rg = require('..');

const guard = new rg.Guard(FIXTURE);
test.after(() => guard.close());

test('a card split across chunks goes out masked', () => {
  const s = guard.stream();
  let out = '';
  for (const c of ['Your card 41', '11 1111 11', '11 1111 is on', ' file.']) {
    out += s.feed(c).text;
    assert.ok(!out.includes('4111'));
  }
  const f = s.close();
  out += f.text;
  assert.equal(out, 'Your card [card] is on file.');
  assert.equal(f.final, true);
  const whole = guard.check(`Your card ${CARD} is on file.`);
  assert.equal(f.result.verdict, whole.verdict);
  assert.equal(f.result.redacted, whole.redacted);
  assert.deepEqual(f.result.hits, whole.hits);
  assert.throws(() => s.feed('x'), rg.GuardClosedError);
});

test('new Guard(dir, {streaming: true}) compiles the streaming databases at open', () => {
  // shared: false, so this Guard opens its own engine with the flag.
  const g = new rg.Guard(FIXTURE, { shared: false, streaming: true });
  try {
    const s = g.stream();
    let out = '';
    for (const c of ['Your card 41', '11 1111 11', '11 1111 is on', ' file.']) out += s.feed(c).text;
    out += s.close().text;
    assert.equal(out, 'Your card [card] is on file.');
    assert.throws(() => new rg.Guard(FIXTURE, { streaming: 'yes' }), TypeError);
  } finally {
    g.close();
  }
});

test('a word split in two blocks, and nothing more goes out', () => {
  const s = guard.stream({ route: 'default' });
  assert.equal(s.feed('you id').text, 'you ');
  const u = s.feed('iot, ');
  assert.equal(u.verdict, 'block');
  assert.equal(u.text, '');
  assert.equal(s.feed('more').text, '');
  assert.equal(s.close().result.verdict, 'block');
  assert.equal(s.safeBytes, 4);
});

test('Buffers: a code point cut between chunks', () => {
  const s = guard.stream({ route: 'refunds' });
  s.feed(Buffer.from([0x63, 0x61, 0x66, 0xc3]));
  assert.equal(s.safeBytes, 0);
  const u = s.feed(Buffer.from([0xa9, 0x20, 0x6f, 0x6b, 0x20]));
  assert.ok(Buffer.isBuffer(u.text));
  assert.equal(u.text.toString(), 'café ok ');
  assert.equal(s.close().result.verdict, 'allow');
});

test('unknown route', () => {
  assert.throws(() => guard.stream({ route: 'nope' }), rg.UnknownRouteError);
});

test('guarded: an async iterable of releasable text', async () => {
  async function* tokens() {
    yield* ['Call me, ', 'card 41', '11 1111 1111 1111', ' ok', ' thanks'];
  }
  const g = guard.guarded(tokens());
  const out = [];
  for await (const t of g) out.push(t);
  assert.equal(out.join(''), 'Call me, card [card] ok thanks');
  assert.equal(g.result.verdict, 'allow');
  assert.equal(g.blocked, false);
  const b = guard.guarded(['hello you id', 'iot and', ' more']);
  const out2 = [];
  for await (const t of b) out2.push(t);
  assert.equal(out2.join(''), 'hello you ');
  assert.equal(b.blocked, true);
});
