'use strict';
// Runs the node:test suites (test/*.test.js) and ends with one line
// "node: N passed, N failed" (what `make test` counts). Exit status 1 if
// anything failed.
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const files = fs
  .readdirSync(__dirname)
  .filter((f) => f.endsWith('.test.js'))
  .sort()
  .map((f) => path.join(__dirname, f));
const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', ...files], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
  timeout: 240000,
});
process.stdout.write(run.stdout || '');
const count = (name) => {
  const m = (run.stdout || '').match(new RegExp(`^# ${name} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : 0;
};
const pass = count('pass');
let fail = count('fail') + count('cancelled');
if ((run.status !== 0 || run.error) && fail === 0) fail = 1;
if (pass + fail === 0) fail = 1;
console.log(`node: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
