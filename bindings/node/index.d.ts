// Type definitions for replyguard (the N-API binding of libreplyguard).

/// <reference types="node" />

/** What to do with the draft reply. */
export type Verdict = 'allow' | 'handoff' | 'block';
export declare const Verdict: {
  readonly ALLOW: 'allow';
  readonly HANDOFF: 'handoff';
  readonly BLOCK: 'block';
};

/** Why a verdict is what it is beyond the policy (RG_FLAG_* in replyguard.h). */
export type Flag =
  | 'budget_exceeded'
  | 'oversize'
  | 'engine_error'
  | 'failsafe'
  | 'invalid_utf8'
  | 'hits_truncated'
  | 'redacted'
  | 'shadow'
  | 'released_unmasked';

/**
 * One detector hit. `start`/`end` index the reply as it was passed: UTF-16
 * code units of a string (`reply.slice(hit.start, hit.end)`), bytes of a
 * Buffer. `byteStart`/`byteEnd` are always UTF-8 byte offsets. Never log
 * the span's text: it is the detected PII or abuse itself.
 */
export interface Hit {
  detector: string;
  category: string;
  start: number;
  end: number;
  byteStart: number;
  byteEnd: number;
  score: number;
  /** The detector is in shadow mode: reported, but it did not count. */
  shadow: boolean;
  /** The text the hit is in: the reply, the user message (start/end are
   * then UTF-8 byte offsets of it), or a conversation-level finding with
   * no span (a missing disclosure). docs/CONVERSATION.md. */
  source: 'reply' | 'user_message' | 'conversation';
}

/** A category score crossed a threshold of the route. */
export interface Reason {
  category: string;
  /** The threshold key that applied, e.g. "toxicity". */
  rule: string;
  /** The route that defined that threshold. */
  route: string;
  action: 'block' | 'handoff' | 'redact';
  score: number;
  threshold: number;
  /** A shadow finding: it decided nothing. */
  shadow: boolean;
}

/** A plain object: safe to keep, serialise or send to another thread. */
export interface Result {
  verdict: Verdict;
  /** The route that decided. */
  route: string;
  /** Score per category that scored, e.g. { "pii.payment_card": 0.95 }. */
  categories: Record<string, number>;
  hits: Hit[];
  reasons: Reason[];
  flags: Flag[];
  /** The reply with redacted spans masked (a string for a string reply, a
   * Buffer for a Buffer), or null when nothing was redacted. */
  redacted: string | Buffer | null;
  /** Wall time of the check inside the library, in nanoseconds. */
  elapsedNs: number;
  /** The policy snapshot that decided: one frozen object shared by every
   * result of that snapshot. */
  policy: Readonly<{ version: string; hash: string }>;
  /** The verdict had shadow-mode rules enforced (equals `verdict` unless
   * flags include "shadow"). */
  shadowVerdict: Verdict;
  /** For a handoff: the context for the human who takes over (route, turn,
   * reasons, triggers as "[category]" placeholders, a redacted excerpt of
   * the draft); null otherwise. docs/CONVERSATION.md. */
  handoffContext: HandoffContext | null;
}

export interface HandoffContext {
  route: string;
  verdict: Verdict;
  turn: number;
  channel: string | null;
  locale: string | null;
  reasons: Array<{ category: string; action: string; score: number; threshold: number; rule: string }>;
  triggers: Array<{ detector: string; category: string; source: string; start: number; end: number; span: string }>;
  flags: Flag[];
  excerpt: string | null;
  policy: { version: string; hash: string };
}

export interface CheckOptions {
  /** The conversation's route (default: "default"). */
  route?: string;
  /** The customer's last message. */
  userMessage?: string | Uint8Array;
  /** The last few assistant replies, oldest first. */
  history?: Array<string | Uint8Array>;
  /** "chat", "voice", "sms", "email", ... */
  channel?: string;
  /** BCP 47, e.g. "en-US". */
  locale?: string;
}

export interface GuardOptions {
  /** Compiled-policy cache directory (default: $RG_CACHE_DIR, else none). */
  cacheDir?: string;
  /**
   * Share the compiled engine with every other shared Guard of the same
   * directory in this process, main thread and worker_threads alike
   * (default true): the policy is compiled once, each Guard keeps its own
   * scratch, and reload() on any of them reloads it for all.
   */
  shared?: boolean;
  /**
   * Compile the streaming databases when the engine is opened and with
   * every reload (RG_ENGINE_STREAMING), so that no stream() waits for them
   * (otherwise the first stream compiles them: seconds for the shipped
   * policies). Applies when this Guard opens the engine, not when it
   * joins one already shared. For voice agents.
   */
  streaming?: boolean;
}

export interface Diagnostic {
  file: string | null;
  /** 1-based; 0 means the whole file. */
  line: number;
  column: number;
  severity: 'error' | 'warning';
  message: string;
}

export interface EngineInfo {
  version: string;
  hash: string;
  /** 1 after open, +1 per successful reload. */
  generation: number;
  detectors: number;
  patterns: number;
  routes: number;
  compileNs: number;
}

/**
 * A compiled policy set. A Guard belongs to the thread that created it and
 * owns that thread's scratch; create one per worker (the engine is shared).
 * All methods are synchronous.
 */
export declare class Guard {
  /**
   * @param policiesDir a policy directory (every *.yaml in it) or one YAML file.
   * @throws PolicyIOError, PolicyError (with file/line/column), PatternCompileError
   */
  constructor(policiesDir: string, options?: GuardOptions);
  /**
   * Check one draft reply.
   * @throws UnknownRouteError, EngineError: `err.result` holds the fail-safe verdict.
   * @throws TypeError for arguments of the wrong type.
   */
  check(reply: string | Uint8Array, options?: CheckOptions): Result;
  /**
   * Compile the policy again (from `policiesDir`, or the current directory) and
   * swap it in atomically. On error the running policy stays in force.
   * @returns the warnings of the new policy.
   */
  reload(policiesDir?: string): Diagnostic[];
  /** Free this Guard's scratch (and the engine, if no other Guard shares it). Idempotent. */
  close(): void;
  readonly closed: boolean;
  readonly info: EngineInfo;
  /** Route names of the current policy, in name order. */
  readonly routes: string[];
  /**
   * The engine's metrics in the Prometheus text format (checks by route,
   * verdict and channel, latency histograms, category hits, reloads, ...;
   * docs/OBSERVABILITY.md). Counted over every Guard sharing the engine.
   */
  metrics(): string;
  /**
   * Check a reply while it is generated (docs/STREAMING.md): feed it chunk
   * by chunk and release only what is known to be safe.
   * @throws UnknownRouteError
   */
  stream(options?: StreamOptions): Stream;
  /** An async iterable of the releasable text of `tokens`. */
  guarded(tokens: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>,
          options?: StreamOptions): GuardedStream;
}

export interface StreamOptions {
  route?: string;
  channel?: string;
  locale?: string;
}

/** What one `feed()` or `close()` says. */
export interface StreamUpdate {
  /** The verdict so far (only ever more severe; after 'block' nothing more is released). */
  verdict: Verdict;
  /** UTF-8 bytes from the start of the stream that may be released. */
  safeBytes: number;
  /** UTF-8 bytes fed so far. */
  bytes: number;
  /** What this call made releasable, masks in place (a Buffer when fed Buffers). */
  text: string | Buffer;
  /** The settled findings so far; after close(), the final result (as check() on the whole text). */
  result: Result;
  final: boolean;
}

export declare class Stream {
  constructor(guard: Guard, options?: StreamOptions);
  /** Check the next chunk (a UTF-8 sequence may be cut between Buffers). */
  feed(chunk: string | Uint8Array): StreamUpdate;
  /** End of the reply: the rest is checked and released unless blocked. */
  close(): StreamUpdate;
  readonly closed: boolean;
  verdict: Verdict;
  safeBytes: number;
  /** The final result, once closed. */
  result: Result | null;
}

export declare class GuardedStream implements AsyncIterable<string | Buffer> {
  constructor(guard: Guard,
              tokens: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>,
              options?: StreamOptions);
  [Symbol.asyncIterator](): AsyncIterator<string | Buffer>;
  verdict: Verdict;
  /** Iteration stopped because the verdict became 'block'. */
  blocked: boolean;
  /** The final result, once iteration ended. */
  result: Result | null;
}

export declare class ReplyguardError extends Error {
  /** "RG_E_POLICY", "RG_E_NOROUTE", ... (the C status name), or "CLOSED". */
  code: string;
  /** The negative C status code (0 for CLOSED). */
  status: number;
  diagnostics: Diagnostic[];
  /** Where the first error is (null/0 when there is none). */
  file: string | null;
  line: number;
  column: number;
  /** For a failed check: the fail-safe result the library chose. */
  result: Result | null;
}
export declare class InvalidArgumentError extends ReplyguardError {}
export declare class OutOfMemoryError extends ReplyguardError {}
export declare class PolicyIOError extends ReplyguardError {}
export declare class PolicyError extends ReplyguardError {}
export declare class PatternCompileError extends PolicyError {}
export declare class UnknownRouteError extends ReplyguardError {}
export declare class EngineError extends ReplyguardError {}
export declare class ScratchMismatchError extends ReplyguardError {}
export declare class BusyError extends ReplyguardError {}
export declare class OutOfRangeError extends ReplyguardError {}
export declare class BundleError extends ReplyguardError {}
export declare class GuardClosedError extends ReplyguardError {}

/** libreplyguard's version, e.g. "0.1.0". */
export declare const version: string;
