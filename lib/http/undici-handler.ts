/**
 * The dispatch handler behind `undiciAuth` (see undici.ts): it stands between undici and the
 * caller's handler for one request, holds back a 401 that will be retried, and makes the attempts
 * look like one request to the caller: one `onConnect`, one abort function, one response.
 *
 * It speaks undici's raw handler API (`onConnect`, `onHeaders` with raw headers, `onData`,
 * `onComplete`, `onError`), which undici 7's Agent, Pool and Client call natively and which
 * `undici.request`, `stream`, `pipeline` and `fetch` implement: between those two, undici
 * converts nothing, and the headers are never parsed into an object on the way. A caller that only
 * implements the newer API (`onRequestStart`, `onResponseStart`...), such as an interceptor
 * composed after `undiciAuth`, gets it through undici-caller.ts, which converts as undici would.
 */
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Abort, AbortLink, RawCaller, RawHeaders } from './undici-caller.js';

type Handler = Dispatcher.DispatchHandler;

/** A 401 held back while the adapter decides whether to retry; handed on as it came if not. */
interface Held {
  statusCode: number;
  rawHeaders: Buffer[];
  resume: () => void;
  statusMessage: string;
  chunks: Buffer[];
  bytes: number;
}

/**
 * The most of a 401's body held back for a retry. An API's 401 body is a line of JSON; one past
 * this is handed on as it streams, without a retry, so that a server cannot make the client buffer
 * without bound.
 */
export const MAX_HELD_401_BYTES = 64 * 1024;

/** One request as each of its attempts sees it: the caller, the abort link, and the adapter's decisions. */
export interface AttemptHooks<T> {
  /** The caller's handler, as the raw API. */
  readonly caller: RawCaller;
  readonly link: AbortLink;
  /** Whether the caller has seen onConnect (from this attempt or an earlier one). */
  started: boolean;
  /**
   * Called on a 401 to the attempt that sent `token` (`retried`: the attempt is the retry), with
   * the origin of the hop that answered when a redirect interceptor below says it, before anything
   * reaches the caller. Returns `'hold'` to hold the 401 back until its end (then `retry` decides),
   * `'pass'` to hand it on at once.
   */
  on401(token: T, retried: boolean, origin: string | undefined): 'hold' | 'pass';
  /**
   * Called at the end of a held 401. Resolves true when a new attempt was started (the held 401
   * is then dropped), false to hand the held 401 on.
   */
  retry(token: T): Promise<boolean>;
  /** Called when a held 401 is handed on without a retry because its body is too large. */
  gaveUp(token: T): void;
  /** Fails the request with `error`, as undici would report a failed request. */
  fail(error: unknown): void;
}

/**
 * Handles one attempt, the one that sends `token`. The first attempt's `onConnect` is the only one
 * the caller sees; a held 401 never reaches the caller unless it is handed back.
 */
export class AttemptHandler<T> implements Handler {
  readonly #request: AttemptHooks<T>;
  readonly #caller: RawCaller;
  readonly #token: T;
  readonly #retried: boolean;
  #context: { history?: readonly URL[] } | undefined;
  #held: Held | undefined;

  constructor(request: AttemptHooks<T>, token: T, retried: boolean) {
    this.#request = request;
    this.#caller = request.caller;
    this.#token = token;
    this.#retried = retried;
  }

  onConnect(abort: Abort, context?: unknown): void {
    const request = this.#request;
    request.link.attach(abort);
    this.#context = context as { history?: readonly URL[] } | undefined;
    if (request.started) return;
    request.started = true;
    this.#caller.onConnect?.(request.link.abort, context);
  }

  onResponseStarted(): void {
    this.#caller.onResponseStarted?.();
  }

  onUpgrade(statusCode: number, rawHeaders: RawHeaders, socket: Duplex): void {
    this.#caller.onUpgrade?.(statusCode, rawHeaders, socket);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusMessage: string): boolean {
    // With undici's redirect interceptor below this one, the last entry of `history` is the URL
    // of the hop that answered.
    if (statusCode === 401 && this.#request.on401(this.#token, this.#retried, this.#context?.history?.at(-1)?.origin) === 'hold') {
      this.#held = { statusCode, rawHeaders, resume, statusMessage, chunks: [], bytes: 0 };
      return true;
    }
    return this.#caller.onHeaders?.(statusCode, rawHeaders, resume, statusMessage) !== false;
  }

  onData(chunk: Buffer): boolean {
    const held = this.#held;
    if (held === undefined) return this.#caller.onData?.(chunk) !== false;
    held.chunks.push(chunk);
    held.bytes += chunk.length;
    if (held.bytes <= MAX_HELD_401_BYTES) return true;
    // Too large to hold: hand the 401 on as it comes, with no retry.
    this.#held = undefined;
    this.#request.gaveUp(this.#token);
    return this.#handOn(held);
  }

  onComplete(trailers: string[] | null): void {
    const held = this.#held;
    if (held === undefined) {
      this.#caller.onComplete?.(trailers);
      return;
    }
    this.#request.retry(this.#token).then(
      (retried) => {
        if (retried) return;
        this.#handOn(held);
        this.#caller.onComplete?.(trailers);
      },
      (error: unknown) => this.#request.fail(error),
    );
  }

  onError(error: Error): void {
    this.#caller.onError?.(error);
  }

  /** Hands a held 401 on to the caller; false when the caller asked to pause. */
  #handOn(held: Held): boolean {
    let flowing = this.#caller.onHeaders?.(held.statusCode, held.rawHeaders, held.resume, held.statusMessage) !== false;
    for (const chunk of held.chunks) flowing = this.#caller.onData?.(chunk) !== false && flowing;
    return flowing;
  }
}
