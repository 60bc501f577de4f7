// Small HTTP helpers for the emulator's own tests: plain fetch and node:http, no client library,
// so that the assertions are about what the emulator put on the wire.
import { request } from 'node:http';
import type { Emulator } from '../../lib/emulator/index.js';

/** A buffered answer. `json` is undefined when the body is not JSON. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown> | undefined;
}

async function toAnswer(response: Response): Promise<Answer> {
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** POSTs `form` to the token endpoint, form-encoded unless `contentType` says otherwise. */
export async function postToken(
  emulator: Emulator,
  form: Record<string, string> | string,
  { contentType = 'application/x-www-form-urlencoded', signal }: { contentType?: string; signal?: AbortSignal } = {},
): Promise<Answer> {
  const body = typeof form === 'string' ? form : new URLSearchParams(form).toString();
  const response = await fetch(emulator.tokenUrl, { method: 'POST', headers: { 'content-type': contentType }, body, signal });
  return toAnswer(response);
}

/** The client-credentials form for `emulator`, with `extra` fields. */
export function clientCredentials(emulator: Emulator, extra: Record<string, string> = {}): Record<string, string> {
  return { grant_type: 'client_credentials', client_id: emulator.clientId, client_secret: emulator.clientSecret, ...extra };
}

/** Gets a fresh token answer, failing the test if the endpoint refuses. */
export async function issue(emulator: Emulator, scope?: string): Promise<{ accessToken: string; refreshToken: string }> {
  const answer = await postToken(emulator, clientCredentials(emulator, scope === undefined ? {} : { scope }));
  if (answer.status !== 200) throw new Error(`expected 200, got ${answer.status}: ${answer.text}`);
  return { accessToken: answer.json!.access_token as string, refreshToken: answer.json!.refresh_token as string };
}

/** Calls the per-user API at `path` (e.g. `/users/42/receipts`) with an optional Authorization header. */
export async function callApi(emulator: Emulator, path: string, authorization?: string): Promise<Answer> {
  const response = await fetch(`${emulator.url}${path}`, {
    headers: authorization === undefined ? {} : { authorization },
  });
  return toAnswer(response);
}

/** What a raw node:http request saw: the status and headers if any, the bytes, and how it ended. */
export interface RawOutcome {
  status?: number;
  headers?: Record<string, string | string[] | undefined>;
  bytes: number;
  ended: 'complete' | 'aborted' | 'error';
  errorCode?: string;
}

/** POSTs a form with node:http and reports how the exchange ended, even when it ends badly. */
export function rawPost(url: string, form: Record<string, string>): Promise<RawOutcome> {
  return new Promise((settle) => {
    const body = new URLSearchParams(form).toString();
    // Whatever the ending, release the request and its socket so that no handle outlives the test.
    const resolve = (outcome: RawOutcome) => {
      req.destroy();
      settle(outcome);
    };
    const req = request(url, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes, ended: 'complete' }));
      res.on('aborted', () => resolve({ status: res.statusCode, headers: res.headers, bytes, ended: 'aborted' }));
      res.on('error', () => resolve({ status: res.statusCode, headers: res.headers, bytes, ended: 'aborted' }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ bytes: 0, ended: 'error', errorCode: error.code }));
    req.end(body);
  });
}

/**
 * Resolves once `condition()` holds, checking every few ms; rejects after `timeoutMs`. Used to
 * wait for a request to reach the emulator, never to wait for time to pass.
 */
export async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
