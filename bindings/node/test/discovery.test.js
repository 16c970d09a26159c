'use strict';
// Where index.js finds the addon: $REPLYGUARD_NODE_ADDON, the source tree's
// build/bindings/node (what `make` builds), build/Release (npm install).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const ADDON = process.env.REPLYGUARD_NODE_ADDON ||
  path.resolve(__dirname, '..', '..', '..', 'build', 'bindings', 'node', 'replyguard.node');
const INDEX = path.resolve(__dirname, '..', 'index.js');
const STREAM = path.resolve(__dirname, '..', 'stream.js');

function layout(t, files) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rg-node-disc-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  for (const [rel, from] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    if (from === null) fs.writeFileSync(path.join(root, rel), '');
    else fs.copyFileSync(from, path.join(root, rel));
  }
  return root;
}

function load(dir) {
  const env = { ...process.env };
  delete env.REPLYGUARD_NODE_ADDON;
  return spawnSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(dir)}).version)`],
    { env, encoding: 'utf8', cwd: os.tmpdir() });
}

test('a source checkout uses build/bindings/node', (t) => {
  const root = layout(t, {
    'include/replyguard.h': null,
    'bindings/node/index.js': INDEX,
    'bindings/node/stream.js': STREAM,
    'build/bindings/node/replyguard.node': ADDON,
  });
  const r = load(path.join(root, 'bindings', 'node'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^0\./);
});

test('an installed package uses build/Release', (t) => {
  const root = layout(t, {
    'node_modules/replyguard/index.js': INDEX,
    'node_modules/replyguard/stream.js': STREAM,
    'node_modules/replyguard/build/Release/replyguard.node': ADDON,
  });
  const r = load(path.join(root, 'node_modules', 'replyguard'));
  assert.equal(r.status, 0, r.stderr);
});

test('no addon: a clear MODULE_NOT_FOUND error listing the places tried', (t) => {
  const root = layout(t, {
    'node_modules/replyguard/index.js': INDEX,
    'node_modules/replyguard/stream.js': STREAM,
  });
  const r = load(path.join(root, 'node_modules', 'replyguard'));
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /native addon not found/);
  assert.match(r.stderr, /build\/Release\/replyguard\.node/);
});
