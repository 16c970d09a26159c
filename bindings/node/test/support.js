'use strict';
// Shared paths and helpers for the node:test suites.
const fs = require('fs');
const os = require('os');
const path = require('path');

const REPO = path.resolve(__dirname, '..', '..', '..');
const TESTDATA = path.join(REPO, 'bindings', 'testdata');
const FIXTURE = path.join(TESTDATA, 'guard');
const BROKEN = path.join(TESTDATA, 'broken');
const SHIPPED = path.join(REPO, 'policies');
const CARD = '4111 1111 1111 1111';

/** A private, writable copy of the guard fixture; removed by cleanup(). */
function fixtureCopy(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rg-node-'));
  fs.copyFileSync(path.join(FIXTURE, 'policy.yaml'), path.join(dir, 'policy.yaml'));
  if (t) t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Rewrite the fixture in dir with another version; 'allow' removes the
 * toxicity thresholds. Temp file + rename, as a deploy would. */
function writeVariant(dir, version, insultAction = 'block') {
  let text = fs.readFileSync(path.join(FIXTURE, 'policy.yaml'), 'utf8');
  text = text.replace('version: "bindings-1"', `version: "${version}"`);
  if (insultAction === 'allow') {
    text = text.replace('toxicity: { handoff: 0.5, block: 0.8 }', 'toxicity: { handoff: 0.99 }');
  }
  const tmp = path.join(dir, '.policy.yaml.tmp');
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, path.join(dir, 'policy.yaml'));
}

module.exports = { REPO, TESTDATA, FIXTURE, BROKEN, SHIPPED, CARD, fixtureCopy, writeVariant };
