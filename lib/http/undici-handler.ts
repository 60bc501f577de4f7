/**
 * The dispatch handler behind `undiciAuth` (see undici.ts): it stands between undici and the
 * caller's handler for one request, holds back a 401 that will be retried, and makes the attempts
 * look like one request to the caller: one `onRequestStart`, one controller, one response.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';

type Controller = Dispatcher.DispatchController;
type Handler = Dispatcher.DispatchHandler;

/**
 * The one controller the caller sees, across attempts: it forwards to the controller of the
 * attempt under way, and replays an abort or a pause on the next one.
 */
export class LinkedController implements Controller {
  /** The controller of the attempt under way; undefined before the first one starts. */
  #current: Controller | undefined;
  #aborted = false;
  #reason: Error | null = null;
  #paused = false;

  /** Makes `controller` (a new attempt's) the one to forward to. */
  link(controller: Controller): void {
    this.#current = controller;
    if (this.#aborted) controller.abort(this.#reason ?? new Error('aborted'));
    else if (this.#paused) controller.pause();
  }

  get aborted(): boolean {
    return this.#aborted || this.#current?.aborted === true;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#reason ?? this.#current?.reason ?? null;
  }

  get rawHeaders(): Controller['rawHeaders'] {
    return this.#current?.rawHeaders;
  }

  get rawTrailers(): Controller['rawTrailers'] {
    return this.#current?.rawTrailers;
  }

  abort(reason: Error): void {
    this.#aborted = true;
    this.#reason = reason;
    this.#current?.abort(reason);
  }

  pause(): void {
    this.#paused = true;
    this.#current?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#current?.resume();
  }
}

/** A 401 held back while the adapter decides whether to retry; handed on as it came if not. */
interface Held {
  statusCode: number;
  headers: IncomingHttpHeaders;
  statusMessage: string | undefined;
  chunks: Buffer[];
  bytes: number;
}

/**
 * The most of a 401's body held back for a retry. An API's 401 body is a line of JSON; one past
 * this is handed on as it streams, without a retry, so that a server cannot make the client buffer
 * without bound.
 */
export const MAX_HELD_401_BYTES = 64 * 1024;

/** What the attempt handler asks of the adapter. */
export interface AttemptHooks {
  /**
   * Called on a 401, with the origin of the hop that answered when a redirect interceptor below
   * says it, before anything reaches the caller. Returns `'hold'` to hold the 401 back until its
   * end (then `retry` decides), `'pass'` to hand it on at once.
   */
  on401(origin: string | undefined): 'hold' | 'pass';
  /**
   * Called at the end of a held 401. Resolves true when a new attempt was started (the held 401
   * is then dropped), false to hand the held 401 on.
   */
  retry(): Promise<boolean>;
  /** Called when a held 401 is handed on without a retry because its body is too large. */
  gaveUp(): void;
  /** Fails the request with `error`, as undici would report a failed request. */
  fail(error: unknown): void;
}

/**
 * Handles one attempt. The first attempt's `onRequestStart` is the only one the caller sees; a
 * held 401 never reaches the caller unless it is handed back.
 */
export class AttemptHandler implements Handler {
  readonly #caller: Handler;
  readonly #linked: LinkedController;
  readonly #hooks: AttemptHooks;
  /** Whether the caller has seen onRequestStart (from this attempt or an earlier one). */
  readonly #started: { value: boolean };
  #context: { history?: readonly URL[] } | undefined;
  #held: Held | undefined;

  constructor(caller: Handler, linked: LinkedController, started: { value: boolean }, hooks: AttemptHooks) {
    this.#caller = caller;
    this.#linked = linked;
    this.#started = started;
    this.#hooks = hooks;
  }

  onRequestStart(controller: Controller, context: unknown): void {
    this.#linked.link(controller);
    this.#context = context as { history?: readonly URL[] } | undefined;
    if (this.#started.value) return;
    this.#started.value = true;
    this.#caller.onRequestStart?.(this.#linked, context);
  }

  onRequestUpgrade(_controller: Controller, statusCode: number, headers: IncomingHttpHeaders, socket: Parameters<NonNullable<Handler['onRequestUpgrade']>>[3]): void {
    this.#caller.onRequestUpgrade?.(this.#linked, statusCode, headers, socket);
  }

  onResponseStart(_controller: Controller, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    // With undici's redirect interceptor below this one, the last entry of `history` is the URL
    // of the hop that answered.
    const answered = this.#context?.history?.at(-1)?.origin;
    if (statusCode === 401 && this.#hooks.on401(answered) === 'hold') {
      this.#held = { statusCode, headers, statusMessage, chunks: [], bytes: 0 };
      return;
    }
    this.#caller.onResponseStart?.(this.#linked, statusCode, headers, statusMessage);
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    const held = this.#held;
    if (held === undefined) {
      this.#caller.onResponseData?.(this.#linked, chunk);
      return;
    }
    held.chunks.push(chunk);
    held.bytes += chunk.length;
    if (held.bytes <= MAX_HELD_401_BYTES) return;
    // Too large to hold: hand the 401 on as it comes, with no retry.
    this.#held = undefined;
    this.#hooks.gaveUp();
    this.#caller.onResponseStart?.(this.#linked, held.statusCode, held.headers, held.statusMessage);
    for (const part of held.chunks) this.#caller.onResponseData?.(this.#linked, part);
  }

  onResponseEnd(_controller: Controller, trailers: IncomingHttpHeaders): void {
    const held = this.#held;
    if (held === undefined) {
      this.#caller.onResponseEnd?.(this.#linked, trailers);
      return;
    }
    this.#hooks.retry().then(
      (retried) => {
        if (retried) return;
        this.#caller.onResponseStart?.(this.#linked, held.statusCode, held.headers, held.statusMessage);
        for (const chunk of held.chunks) this.#caller.onResponseData?.(this.#linked, chunk);
        this.#caller.onResponseEnd?.(this.#linked, trailers);
      },
      (error: unknown) => this.#hooks.fail(error),
    );
  }

  onResponseError(_controller: Controller, error: Error): void {
    this.#caller.onResponseError?.(this.#linked, error);
  }
}
