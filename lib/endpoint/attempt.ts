/**
 * One attempt of a token request on the wire, and the wait between two attempts. The endpoint
 * client's loop (token-endpoint.ts) decides what an attempt's outcome means and whether to try
 * again; this module only sends, with got's own retry off, so that the wait between two attempts
 * happens outside the caller's queue.
 */
import type { Got, OptionsOfTextResponseBody, RequestError, Response } from 'got';
import { whenAborted } from '../shared/abort.js';
import { AbortError } from '../shared/errors.js';
import { MAX_RESPONSE_BYTES } from './token-endpoint-options.js';

/** Where and how long an attempt goes: the client's validated settings. */
export interface Wire {
  readonly url: URL;
  /** The attempt's timeout, in ms. */
  readonly timeoutMs: number;
  /** The client's clock: `sentAt` is read on it. */
  readonly now: () => number;
}

/** What one attempt came to: a response got accepted, or the error it rejected with. */
export type Attempt = { sentAt: number; answered: Response<string> | Response | undefined; tooLarge: boolean } & (
  | { response: Response<string>; error?: undefined }
  | { response?: undefined; error: RequestError }
);

/**
 * Sends one attempt: its response, or the error got rejected it with (an answer larger than
 * {@link MAX_RESPONSE_BYTES} is cut off, and says so in `tooLarge`). Never rejects; `signal`
 * cancels it.
 */
export async function sendAttempt(
  got: Got,
  wire: Wire,
  { form, headers }: { form: Record<string, string>; headers: Record<string, string> },
  signal: AbortSignal | undefined,
): Promise<Attempt> {
  const sentAt = wire.now();
  let tooLarge = false;
  const request = got(wire.url, {
    method: 'POST',
    form,
    headers,
    responseType: 'text',
    throwHttpErrors: true,
    followRedirect: false,
    timeout: { request: wire.timeoutMs },
    // The endpoint client's loop retries, so that the wait between attempts happens outside the queue.
    retry: { limit: 0 },
  } satisfies OptionsOfTextResponseBody);
  request.on('downloadProgress', ({ transferred, total }) => {
    if (!tooLarge && (transferred > MAX_RESPONSE_BYTES || (total ?? 0) > MAX_RESPONSE_BYTES)) {
      tooLarge = true;
      request.cancel();
    }
  });
  const forget = whenAborted(signal, () => request.cancel());
  try {
    const response = await request;
    return { sentAt, response, answered: response, tooLarge };
  } catch (error) {
    const failed = error as RequestError;
    return { sentAt, error: failed, answered: failed.response, tooLarge };
  } finally {
    forget();
  }
}

/**
 * Waits `ms` between two attempts, on the global timers (which jest's fake timers replace), and
 * rejects with {@link AbortError} as soon as `signal` aborts.
 */
export function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    let forget = () => {};
    const timer = setTimeout(() => {
      forget();
      resolve();
    }, ms);
    forget = whenAborted(signal, () => {
      clearTimeout(timer);
      reject(new AbortError(signal?.reason));
    });
  });
}
