'use strict';
// Node per-call cost (bindings/bench/run.sh, docs/BINDINGS.md).
// Usage: node calls.js POLICY_DIR REPLIES_FILE [LINES [PASSES]]
// guard.check on the first LINES lines, route "default", one warm-up pass
// then PASSES timed passes in CPU time; prints the best pass.
const fs = require('fs');
const { Guard } = require('../node');

const [policies, file] = process.argv.slice(2, 4);
const want = Number(process.argv[4] || 10000);
const passes = Number(process.argv[5] || 5);
const lines = fs.readFileSync(file, 'utf8').split('\n').slice(0, want);
const guard = new Guard(policies);
let best = Infinity;
for (let p = 0; p <= passes; p++) {
  // CPU time (user + system of the process: its other threads are idle
  // here), as the C and Python benchmarks.
  const t0 = process.cpuUsage();
  for (const line of lines) guard.check(line);
  const u = process.cpuUsage(t0);
  const t = (u.user + u.system) / 1e6;
  if (p) best = Math.min(best, t);
}
const n = lines.length;
console.log(`node    guard.check          ${(n / best).toFixed(0).padStart(9)} calls/s  ${(best / n * 1e6).toFixed(2).padStart(6)} us/call`);
guard.close();
