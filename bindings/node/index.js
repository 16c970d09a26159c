'use strict';
/**
 * replyguard for Node.js: check an AI agent's draft reply before it is sent.
 *
 *   const { Guard } = require('replyguard');
 *   const guard = new Guard('policies');
 *   guard.check('Your card 4111 1111 1111 1111 is on file.', { route: 'refunds' }).verdict; // 'block'
 *
 * The native addon (src/addon.c, N-API) is looked for in:
 *   1. $REPLYGUARD_NODE_ADDON (a path to replyguard.node), alone when set;
 *   2. in a source checkout, the build tree: <repo>/build/bindings/node/
 *      replyguard.node (what `make` builds);
 *   3. build/Release/replyguard.node next to this file (npm install, or
 *      node-gyp rebuild --nodedir=/usr here).
 */
const path = require('path');
const fs = require('fs');

class ReplyguardError extends Error {
  /**
   * @param {string} message
   * @param {object} [props] code, status, diagnostics, file, line, column, result
   */
  constructor(message, props) {
    super(message);
    this.name = new.target.name;
    this.code = 'RG_E_UNKNOWN';
    this.status = 0;
    this.diagnostics = [];
    this.file = null;
    this.line = 0;
    this.column = 0;
    this.result = null;
    if (props) Object.assign(this, props);
  }
}
class InvalidArgumentError extends ReplyguardError {}
class OutOfMemoryError extends ReplyguardError {}
class PolicyIOError extends ReplyguardError {}
class PolicyError extends ReplyguardError {}
class PatternCompileError extends PolicyError {}
class UnknownRouteError extends ReplyguardError {}
class EngineError extends ReplyguardError {}
class ScratchMismatchError extends ReplyguardError {}
class BusyError extends ReplyguardError {}
class OutOfRangeError extends ReplyguardError {}
class BundleError extends ReplyguardError {}
class GuardClosedError extends ReplyguardError {}

/** Error class by the code the native side reports (RG_E_* of replyguard.h). */
const errorsByCode = {
  ReplyguardError,
  RG_E_INVAL: InvalidArgumentError,
  RG_E_NOMEM: OutOfMemoryError,
  RG_E_IO: PolicyIOError,
  RG_E_POLICY: PolicyError,
  RG_E_COMPILE: PatternCompileError,
  RG_E_NOROUTE: UnknownRouteError,
  RG_E_ENGINE: EngineError,
  RG_E_MISMATCH: ScratchMismatchError,
  RG_E_BUSY: BusyError,
  RG_E_RANGE: OutOfRangeError,
  RG_E_BUNDLE: BundleError,
  CLOSED: GuardClosedError,
};

function addonPath() {
  const candidates = [];
  if (process.env.REPLYGUARD_NODE_ADDON) {
    candidates.push(process.env.REPLYGUARD_NODE_ADDON);
  } else {
    // In a source checkout, what `make` built comes first.
    const root = path.resolve(__dirname, '..', '..');
    if (fs.existsSync(path.join(root, 'include', 'replyguard.h'))) {
      candidates.push(path.join(root, 'build', 'bindings', 'node', 'replyguard.node'));
    }
    candidates.push(path.join(__dirname, 'build', 'Release', 'replyguard.node'));
  }
  for (const c of candidates) {
    if (fs.existsSync(c)) return c;
  }
  const err = new Error(
    'replyguard: native addon not found; build it (make, or npm install / node-gyp rebuild ' +
      '--nodedir=/usr in bindings/node) or set REPLYGUARD_NODE_ADDON. Tried:\n  ' +
      candidates.join('\n  '));
  err.code = 'MODULE_NOT_FOUND';
  throw err;
}

const native = require(addonPath());
native.setup(errorsByCode);

/* Streaming (stream.js): guard.stream(options), guard.guarded(tokens, options). */
const { Stream, GuardedStream } = require('./stream.js');
native.Guard.prototype.stream = function stream(options) {
  return new Stream(this, options);
};
native.Guard.prototype.guarded = function guarded(tokens, options) {
  return new GuardedStream(this, tokens, options);
};

/** Verdicts, as the strings `check()` returns. */
const Verdict = Object.freeze({ ALLOW: 'allow', HANDOFF: 'handoff', BLOCK: 'block' });

module.exports = {
  Guard: native.Guard,
  Stream,
  GuardedStream,
  Verdict,
  version: native.version(),
  ReplyguardError,
  InvalidArgumentError,
  OutOfMemoryError,
  PolicyIOError,
  PolicyError,
  PatternCompileError,
  UnknownRouteError,
  EngineError,
  ScratchMismatchError,
  BusyError,
  OutOfRangeError,
  BundleError,
  GuardClosedError,
  /** @internal number of shared engines open in this process (tests). */
  _sharedEngines: native.sharedEngines,
};
