'use strict';
/**
 * Streaming (docs/STREAMING.md): check a reply while the model writes it,
 * and release only what is known to be safe.
 *
 *   const stream = guard.stream({ route: 'refunds' });
 *   for (const token of tokens) {
 *     const u = stream.feed(token);
 *     speak(u.text);                  // masks in place; may be ''
 *     if (u.verdict === 'block') break;
 *   }
 *   const final = stream.close();     // final.result: as guard.check(whole)
 *
 * or, for an (async) iterable of tokens:
 *
 *   const g = guard.guarded(tokens, { route: 'refunds' });
 *   for await (const text of g) await tts.say(text);
 *   g.result.verdict;
 *
 * A stream uses its Guard's scratch, so it belongs to the Guard's thread.
 */

class Stream {
  /**
   * @param {object} guard a Guard
   * @param {object} [options] route, channel, locale
   */
  constructor(guard, options) {
    this._guard = guard;
    this._h = guard._streamOpen(options || {});
    this._closed = false;
    /** The verdict so far. */
    this.verdict = 'allow';
    /** Bytes (UTF-8) from the start that may be released. */
    this.safeBytes = 0;
    /** The final result, once closed. */
    this.result = null;
  }

  /**
   * Check the next chunk (a string, or a Buffer: a UTF-8 sequence may be
   * cut between Buffers). Returns {verdict, safeBytes, bytes, text,
   * result, final}: `text` is what this chunk made releasable.
   */
  feed(chunk) {
    if (this._closed) throw this._closedError();
    const u = this._guard._streamFeed(this._h, chunk);
    this.verdict = u.verdict;
    this.safeBytes = u.safeBytes;
    return u;
  }

  /** End of the reply: the rest is checked and released unless blocked. */
  close() {
    if (this._closed) throw this._closedError();
    this._closed = true;
    const u = this._guard._streamClose(this._h);
    this.verdict = u.verdict;
    this.safeBytes = u.safeBytes;
    this.result = u.result;
    return u;
  }

  get closed() {
    return this._closed;
  }

  _closedError() {
    const { GuardClosedError } = require('./index.js');
    const e = new GuardClosedError('the stream is closed', { code: 'CLOSED' });
    return e;
  }
}

/**
 * An async iterable of the releasable text of `tokens` (an iterable or
 * async iterable of strings or Buffers). Iteration stops when the verdict
 * becomes 'block'; after it ends, `result` is the final result and
 * `blocked` says whether it blocked.
 */
class GuardedStream {
  constructor(guard, tokens, options) {
    this._stream = new Stream(guard, options);
    this._tokens = tokens;
    this.verdict = 'allow';
    this.blocked = false;
    this.result = null;
  }

  async *[Symbol.asyncIterator]() {
    const s = this._stream;
    for await (const token of this._tokens) {
      const u = s.feed(token);
      this.verdict = u.verdict;
      if (u.verdict === 'block') {
        this.blocked = true;
        this.result = s.close().result;
        return;
      }
      if (u.text.length) yield u.text;
    }
    const u = s.close();
    this.verdict = u.verdict;
    this.blocked = u.verdict === 'block';
    this.result = u.result;
    if (u.text.length) yield u.text;
  }
}

module.exports = { Stream, GuardedStream };
