/**
 * Opaque access tokens, for the emulator's `opaqueTokens` mode: random strings with no readable
 * claims, as many servers issue. The emulator remembers what each one is for, so that its API can
 * check them; the client learns their lifetime only from `expires_in` (or `defaultExpiresIn`).
 */
import { randomBytes } from 'node:crypto';
import type { IssuedToken } from './issuer.js';

/** Opaque tokens remembered at most; past the bound the oldest are forgotten (and refused). */
export const MAX_OPAQUE_TOKENS = 100_000;

/** Issues opaque tokens and checks them. */
export class OpaqueTokens {
  readonly #issued = new Map<string, IssuedToken>();

  /** A new opaque token valid from `now` for `expiresIn` seconds, for `restrictedTo`. */
  issue({ now, expiresIn, restrictedTo }: { now: number; expiresIn: number; restrictedTo: string | null }): string {
    const token = randomBytes(32).toString('base64url');
    if (this.#issued.size >= MAX_OPAQUE_TOKENS) this.#issued.delete(this.#issued.keys().next().value!);
    this.#issued.set(token, { expiresAt: now + expiresIn * 1000, restrictedTo });
    return token;
  }

  /** What `token` is for, when this emulator issued it. */
  check(token: string): IssuedToken | undefined {
    return this.#issued.get(token);
  }
}
