/**
 * Reads a token request's body as RFC 6749 requires it: `application/x-www-form-urlencoded`, each
 * parameter at most once (§3.2). The emulator is strict on purpose, so that a client that sends
 * JSON or a duplicated parameter fails in tests, as it would against a strict server.
 */
import type { IncomingMessage } from 'node:http';

/** Bodies larger than this are refused: a token request is a few hundred bytes. */
export const MAX_FORM_BYTES = 64 * 1024;

/** The body, or `too-large` (it was drained, not kept), or null when the client went away. */
export async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large' | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size <= MAX_FORM_BYTES) chunks.push(chunk as Buffer);
    }
  } catch {
    return null;
  }
  return size > MAX_FORM_BYTES ? 'too-large' : Buffer.concat(chunks);
}

/** A parsed form, or why it could not be read (safe to send back: it names no value). */
export type FormResult = { ok: true; params: Map<string, string> } | { ok: false; description: string };

/** Parses a form body, checking the content type and rejecting repeated parameters. */
export function parseForm(contentType: string | undefined, body: Buffer): FormResult {
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded') {
    return { ok: false, description: 'The request body must be application/x-www-form-urlencoded' };
  }
  const params = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    if (params.has(name)) return { ok: false, description: `The parameter ${name.slice(0, 40)} is repeated` };
    params.set(name, value);
  }
  return { ok: true, params };
}
