/**
 * `-` in place of a secret: the CLI reads it from stdin, so that it stays out of `ps`, the shell's
 * history and the process's arguments (`jq -r .refresh_token t.json | flux-token refresh --refresh-token -`).
 */
import { UsageError } from './errors.js';

/** The value that means "read it from stdin". */
export const FROM_STDIN = '-';

/** A token is a few hundred bytes; more than this on stdin is a mistake, not a token. */
const MAX_STDIN_BYTES = 64 * 1024;

/** The stream `readSecret` reads: process.stdin, or a stand-in in tests. */
export type SecretInput = NodeJS.ReadableStream & { isTTY?: boolean };

/**
 * Reads one value from `input` to its end, without the surrounding whitespace (the newline `echo`
 * and `jq -r` add). `what` names the value in the usage errors: nothing piped in, an empty input,
 * or more than 64 KiB.
 */
export async function readSecret(what: string, input: SecretInput = process.stdin): Promise<string> {
  if (input.isTTY === true) {
    throw new UsageError(`- reads ${what} from stdin, which is a terminal: pipe it in instead`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_STDIN_BYTES) throw new UsageError(`expected ${what} on stdin, got more than ${MAX_STDIN_BYTES} bytes`);
    chunks.push(buffer);
  }
  const value = Buffer.concat(chunks).toString('utf8').trim();
  if (value === '') throw new UsageError(`expected ${what} on stdin, got nothing`);
  return value;
}
