'use strict';
// worker_threads: each worker's Guard has its own scratch, the engine is
// shared (compiled once), answers match the main thread's, and a reload
// from the main thread reaches every worker.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { Worker } = require('worker_threads');
const { FIXTURE, CARD, fixtureCopy, writeVariant } = require('./support');
const rg = require('..');

const REPLIES = [
  'Hello, how can I help?',
  'darn it, the order is late',
  'you idiot',
  `Your card ${CARD} is saved.`,
  'Ça va? Merci — café ☕ and a moron',
  '',
  'nothing to see here '.repeat(20),
];
const WORKERS = 4;
const ROUNDS = 300;

// The worker: open a Guard on the directory, check every reply ROUNDS
// times, and report the distinct answers per reply.
const WORKER_SRC = `
const { parentPort, workerData } = require('worker_threads');
const rg = require(workerData.module);
const g = new rg.Guard(workerData.dir);
const answers = workerData.replies.map(() => new Set());
for (let i = 0; i < workerData.rounds; i++) {
  workerData.replies.forEach((reply, j) => {
    const r = g.check(reply);
    delete r.elapsedNs;
    answers[j].add(JSON.stringify(r));
  });
}
parentPort.postMessage({ answers: answers.map((s) => [...s]), generation: g.info.generation });
parentPort.once('message', (m) => {
  // After the main thread reloaded: this worker sees the new policy.
  const r = g.check('you idiot');
  parentPort.postMessage({ version: r.policy.version, verdict: r.verdict });
  g.close();
});
`;

// A worker and a promise of its exit (listened to from the start: a worker
// may exit before the test gets round to waiting for it).
function withExit(worker) {
  worker.exited = new Promise((resolve) => worker.once('exit', resolve));
  return worker;
}

function startWorker(dir) {
  return withExit(new Worker(WORKER_SRC, {
    eval: true,
    workerData: { module: path.resolve(__dirname, '..'), dir, replies: REPLIES, rounds: ROUNDS },
  }));
}

function next(worker) {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

test('workers share the engine and agree with the main thread', async (t) => {
  const dir = fixtureCopy(t);
  const main = new rg.Guard(dir);
  t.after(() => main.close());
  const expected = REPLIES.map((reply) => {
    const r = main.check(reply);
    delete r.elapsedNs;
    return JSON.stringify(r);
  });
  const engines = rg._sharedEngines();
  const workers = Array.from({ length: WORKERS }, () => startWorker(dir));
  const reports = await Promise.all(workers.map(next));
  for (const rep of reports) {
    rep.answers.forEach((set, j) => assert.deepEqual(set, [expected[j]], REPLIES[j]));
    assert.equal(rep.generation, 1);
  }
  // Still one engine for the directory: the workers reused the main one.
  assert.equal(rg._sharedEngines(), engines);

  writeVariant(dir, 'v2', 'allow');
  main.reload();
  const after = workers.map(next);
  workers.forEach((w) => w.postMessage('go'));
  for (const rep of await Promise.all(after)) {
    assert.deepEqual(rep, { version: 'v2', verdict: 'allow' });
  }
  assert.deepEqual(await Promise.all(workers.map((w) => w.exited)), workers.map(() => 0));
  assert.equal(rg._sharedEngines(), engines);
});

test('a worker that exits without close() frees its Guard', async (t) => {
  const dir = fixtureCopy(t);
  const before = rg._sharedEngines();
  const w = withExit(new Worker(
    `const rg = require(${JSON.stringify(path.resolve(__dirname, '..'))});
     const g = new rg.Guard(${JSON.stringify(dir)});
     require('worker_threads').parentPort.postMessage(g.check('you idiot').verdict);`,
    { eval: true }));
  assert.equal(await next(w), 'block');
  assert.equal(await w.exited, 0);
  // Its Guard was the only one on that directory: the engine is closed.
  assert.equal(rg._sharedEngines(), before);
});

test('many guards on one thread, interleaved', () => {
  const guards = Array.from({ length: 8 }, () => new rg.Guard(FIXTURE));
  try {
    for (let i = 0; i < 200; i++) {
      const g = guards[i % guards.length];
      assert.equal(g.check(REPLIES[i % REPLIES.length]).verdict,
        ['allow', 'handoff', 'block', 'allow', 'block', 'allow', 'allow'][i % REPLIES.length]);
    }
  } finally {
    guards.forEach((g) => g.close());
  }
});
