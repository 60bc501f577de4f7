/**
 * Refresh tokens with strict rotation, as Flux does it: each refresh token works exactly once, and
 * the answer that spends it carries its successor. A client that reuses a spent token (two workers
 * racing, a retry after a lost answer) gets `invalid_grant`, which is the failure this emulator
 * exists to surface.
 */
import { randomBytes } from 'node:crypto';

/**
 * Unspent refresh tokens kept at most. A client that never refreshes leaves its tokens here; past
 * the bound the oldest are forgotten (and answer `invalid_grant`), so a long run cannot exhaust memory.
 */
export const MAX_REFRESH_TOKENS = 1_000_000;

/** 64 random bytes in standard base64, with `+`, `/` and `==`: the shape of Flux's refresh tokens. */
function newRefreshToken(): string {
  return randomBytes(64).toString('base64');
}

/** The unspent refresh tokens and the scope each was issued for. */
export class RefreshTokens {
  /** Refresh token -> the user id it renews (null: client-wide). A token leaves the map when spent. */
  readonly #unspent = new Map<string, string | null>();

  /** Registers a new refresh token for `scope` and returns it. */
  issue(scope: string | null): string {
    const token = newRefreshToken();
    if (this.#unspent.size >= MAX_REFRESH_TOKENS) this.#unspent.delete(this.#unspent.keys().next().value!);
    this.#unspent.set(token, scope);
    return token;
  }

  /** The scope of an unspent token, without spending it; undefined when spent or unknown. */
  peek(token: string): { scope: string | null } | undefined {
    const scope = this.#unspent.get(token);
    return scope === undefined ? undefined : { scope };
  }

  /** Spends `token`: true once, false for a spent or unknown token. */
  spend(token: string): boolean {
    return this.#unspent.delete(token);
  }
}
