/**
 * The package version, sent in `User-Agent`. Kept in code rather than read from package.json at
 * run time, which ESM cannot import without an import attribute; a test keeps the two equal.
 */
export const VERSION = '0.1.0';

/** The `User-Agent` sent to the token endpoint. */
export const USER_AGENT = `flux-token-manager/${VERSION}`;
