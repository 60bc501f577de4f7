/** Random strings the size of Flux's tokens, for the scenarios that need many tokens fast. */
import { randomBytes } from 'node:crypto';

/** Length of a realistic Flux access token, in characters (the emulator's RS256 JWS are ~620). */
export const ACCESS_TOKEN_CHARS = 700;
/** A Flux refresh token: 64 random bytes in standard base64. */
export const REFRESH_TOKEN_CHARS = 88;

/** A random access token of {@link ACCESS_TOKEN_CHARS} characters (base64url). */
export function randomAccessToken(): string {
  return randomBytes((ACCESS_TOKEN_CHARS * 3) / 4).toString('base64url');
}

/** A random refresh token of {@link REFRESH_TOKEN_CHARS} characters (standard base64). */
export function randomRefreshToken(): string {
  return randomBytes(64).toString('base64');
}

/** The JSON body of a successful token answer with fresh random tokens. */
export function tokenAnswer(expiresIn: number): string {
  return JSON.stringify({
    access_token: randomAccessToken(),
    refresh_token: randomRefreshToken(),
    token_type: 'bearer',
    expires_in: expiresIn,
  });
}
