/**
 * One RSA signing key for the emulators of a test file (`startEmulator({ signingKey: testSigningKey() })`):
 * an emulator otherwise makes its own key pair, 100 to 300 ms of CPU each, and some files start one
 * per test. Made on first use, once per jest worker.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';

let key: KeyObject | undefined;

/** The worker's signing key. */
export function testSigningKey(): KeyObject {
  key ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  return key;
}
