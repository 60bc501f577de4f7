/**
 * How the CLI fails: one line on stderr and a non-zero exit code, never a stack trace. A user error
 * (a missing credential, a bad flag) is exit 2; a failure of the endpoint or the demo is exit 1.
 */
import { redactUrlsIn } from '../shared/errors.js';

/** A mistake in how the command was called. Exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * The one-line message for any error the CLI catches, with the userinfo and query string of any URL
 * in it redacted: a message from a dependency may quote a URL that carries a secret.
 */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return redactUrlsIn(message.split('\n')[0]!.trim());
}
