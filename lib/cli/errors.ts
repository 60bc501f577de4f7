/**
 * How the CLI fails: one line on stderr and a non-zero exit code, never a stack trace. A user error
 * (a missing credential, a bad flag) is exit 2; a failure of the endpoint or the demo is exit 1.
 */

/** A mistake in how the command was called. Exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The one-line message for any error the CLI catches. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.trim();
}
