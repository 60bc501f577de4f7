/**
 * The caller's side of `undiciAuth`'s handler (see undici-handler.ts): the raw handler API it calls
 * on the caller, the one abort function the caller sees across attempts, and, for a caller that
 * only implements undici's newer handler API (an interceptor composed after `undiciAuth`), the
 * conversion undici would otherwise do.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';

type Handler = Dispatcher.DispatchHandler;
/** Raw header pairs, as undici's raw handler API passes them. */
export type RawHeaders = Buffer[] | string[] | null;
/** An abort function of the raw handler API. */
export type Abort = (reason?: Error) => void;

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
