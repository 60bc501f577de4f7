/**
 * Secrets at rest: AES-256-GCM from node:crypto, a random 96-bit IV per value, and associated data
 * that binds each ciphertext to where it is stored, so that a value copied to another key (or
 * another version) fails to decrypt instead of handing out another user's token.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { ConfigurationError } from '../shared/errors.js';
import { describe } from '../shared/validate.js';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
/** Standard or URL-safe base64 of 32 bytes: 43 characters, plus one optional `=`. */
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/;

/**
 * Reads the `encryptionKey` option: a 32-byte Buffer, 64 hex characters, or the base64 of 32 bytes.
 * The key is kept as a KeyObject, which neither prints nor serializes its bytes.
 */
export function parseEncryptionKey(value: unknown): KeyObject {
  let bytes: Buffer | undefined;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    if (value.length === KEY_BYTES) bytes = Buffer.from(value);
  } else if (typeof value === 'string') {
    if (HEX_KEY.test(value)) bytes = Buffer.from(value, 'hex');
    else if (BASE64_KEY.test(value)) bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  }
  if (bytes === undefined || bytes.length !== KEY_BYTES) {
    const size = Buffer.isBuffer(value) || value instanceof Uint8Array ? `a buffer of ${value.length} bytes` : describe(value, true);
    throw new ConfigurationError(
      'encryptionKey',
      `Expected \`encryptionKey\` to be 32 bytes: a Buffer, 64 hex characters, or base64 of 32 bytes, got ${size}`,
    );
  }
  const key = createSecretKey(bytes);
  bytes.fill(0);
  return key;
}

/** Encrypts `plaintext`, bound to `aad`: returns IV ‖ tag ‖ ciphertext, in base64. */
export function seal(key: KeyObject, plaintext: string, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

/**
 * Decrypts what {@link seal} produced with the same `aad`; undefined when the value was tampered
 * with, bound to another key name, encrypted with another key, or is not such a value at all.
 */
export function open(key: KeyObject, sealed: string, aad: string): string | undefined {
  const raw = Buffer.from(sealed, 'base64');
  if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv(ALGORITHM, key, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
