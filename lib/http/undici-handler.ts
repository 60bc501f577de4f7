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
 * composed after `undiciAuth`, gets it through {@link ControllerCaller}, which converts as undici
 * would.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';

type Handler = Dispatcher.DispatchHandler;
type RawHeaders = Buffer[] | string[] | null;
type Abort = (reason?: Error) => void;

/** The raw handler API, as the adapter calls it on the caller's side. */
export interface RawCaller {
  onConnect?(abort: Abort, context?: unknown): void;
  onResponseStarted?(): void;
  onHeaders?(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusMessage: string): boolean;
  onData?(chunk: Buffer): boolean;
  onComplete?(trailers: string[] | null): void;
  onError?(error: Error): void;
  onUpgrade?(statusCode: number, rawHeaders: RawHeaders, socket: Duplex): void;
}

/**
 * The one abort function the caller sees, across attempts: it aborts the attempt under way, and
 * an abort between two attempts aborts the next one as it starts.
 */
export class AbortLink {
  #current: Abort | undefined;
  #aborted = false;
  #reason: Error | undefined;

  /** What the caller calls to abort the request, whichever attempt is under way. */
  readonly abort: Abort = this.#abort.bind(this);

  #abort(reason?: Error): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#current?.(reason);
  }

  /** Makes `abort` (a new attempt's) the one to forward to. */
  attach(abort: Abort): void {
    this.#current = abort;
    if (this.#aborted) abort(this.#reason);
  }

  /** Whether the caller aborted the request. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** The caller's reason, once aborted. */
  get reason(): Error | undefined {
    return this.#reason;
  }
}

/** A raw header value (bytes, a string, or several of them) as text, as undici decodes it. */
function text(value: unknown): string | string[] {
  return Array.isArray(value) ? value.map((part) => String((part as Buffer).toString('latin1'))) : String((value as Buffer).toString('latin1'));
}

/** Raw header pairs as an object, as undici gives them to the newer API: names lower-cased, repeats as arrays. */
function headersOf(raw: RawHeaders): IncomingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; raw !== null && i + 1 < raw.length; i += 2) {
    const name = String(raw[i]).toLowerCase();
    const before = Object.hasOwn(headers, name) ? headers[name] : undefined;
    const value = text(raw[i + 1]);
    // A header named `__proto__` is a header, not the object's prototype.
    Object.defineProperty(headers, name, { value: before === undefined ? value : [...[before].flat(), ...[value].flat()], enumerable: true, configurable: true, writable: true });
  }
  return headers;
}

/** The controller a newer-API caller gets: abort goes to the link, pause holds the raw side back. */
class CallerController implements Dispatcher.DispatchController {
  readonly #link: AbortLink;
  #paused = false;
  #resume: (() => void) | undefined;
  rawHeaders: Buffer[] | null = null;
  rawTrailers: string[] | null = null;

  constructor(link: AbortLink) {
    this.#link = link;
  }

  /** The resume function of the response under way. */
  resumeWith(resume: () => void): void {
    this.#resume = resume;
  }

  get aborted(): boolean {
    return this.#link.aborted;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#link.reason ?? null;
  }

  abort(reason: Error): void {
    this.#link.abort(reason);
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#resume?.();
  }
}

/** A caller that only implements the newer handler API, called through the raw one. */
export class ControllerCaller implements RawCaller {
  readonly #handler: Handler;
  readonly #controller: CallerController;

  constructor(handler: Handler, link: AbortLink) {
    this.#handler = handler;
    this.#controller = new CallerController(link);
  }

  onConnect(_abort: Abort, context?: unknown): void {
    this.#handler.onRequestStart?.(this.#controller, context);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusMessage: string): boolean {
    this.#controller.resumeWith(resume);
    this.#controller.rawHeaders = rawHeaders;
    this.#handler.onResponseStart?.(this.#controller, statusCode, headersOf(rawHeaders), statusMessage);
    return !this.#controller.paused;
  }

  onData(chunk: Buffer): boolean {
    this.#handler.onResponseData?.(this.#controller, chunk);
    return !this.#controller.paused;
  }

  onComplete(trailers: string[] | null): void {
    this.#controller.rawTrailers = trailers;
    this.#handler.onResponseEnd?.(this.#controller, headersOf(trailers));
  }

  onError(error: Error): void {
    this.#handler.onResponseError?.(this.#controller, error);
  }

  onUpgrade(statusCode: number, rawHeaders: RawHeaders, socket: Duplex): void {
    this.#handler.onRequestUpgrade?.(this.#controller, statusCode, headersOf(rawHeaders), socket);
  }
}

/**
 * The caller's handler as the raw API: as it is when it implements that API (undici's own
 * handlers do, and `Dispatcher.compose` gives an interceptor every other handler wrapped in it),
 * else through {@link ControllerCaller}.
 */
export function rawCaller(handler: Handler, link: AbortLink): RawCaller {
  return typeof handler.onHeaders === 'function' ? (handler as RawCaller) : new ControllerCaller(handler, link);
}

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
