const { Guard } = require('replyguard');

const guard = new Guard('policies'); // compile once; workers reuse the compiled engine
const result = guard.check('Your card 4111 1111 1111 1111 is on file.', { route: 'refunds' });
console.log(result.verdict, result.reasons.map((r) => `${r.category} -> ${r.action}`));
console.log(result.redacted);
