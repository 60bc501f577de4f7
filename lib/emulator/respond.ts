/** Small helpers to write the emulator's answers: JSON bodies, and RFC 6749 error answers. */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/**
 * Sends `body` as JSON. Token answers must not be cached (RFC 6749 §5.1), so every answer says so;
 * the API's answers are test data, for which the same holds.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    pragma: 'no-cache',
    ...headers,
  });
  res.end(text);
}

/** An RFC 6749 §5.2 error body. */
export interface OAuthError {
  error: string;
  error_description?: string;
}
