// The emulator's `signingKey` option: the tokens are signed with the key given, emulators that share
// it and the client id accept each other's tokens, and a key of the wrong kind is refused by name,
// without the value in the message.
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { clientCredentials } from './helpers/emulator-http.js';
import { testSigningKey } from './helpers/signing-key.js';

const open: Emulator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});

async function tokenFrom(e: Emulator): Promise<string> {
  const response = await fetch(e.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...clientCredentials(e), scope: 'user-1' }).toString(),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

const apiStatus = async (e: Emulator, token: string) => (await fetch(`${e.url}/users/user-1/x`, { headers: { authorization: `Bearer ${token}` } })).status;

describe('startEmulator({ signingKey })', () => {
  it("signs with the key given; emulators that share it and the client id accept each other's tokens, others do not", async () => {
    const signingKey = testSigningKey();
    const [a, b, own] = await Promise.all([startEmulator({ signingKey }), startEmulator({ signingKey }), startEmulator()]);
    open.push(a, b, own);
    const token = await tokenFrom(a);
    const [header, payload, signature] = token.split('.');
    expect(verify('sha256', Buffer.from(`${header}.${payload}`), createPublicKey(signingKey), Buffer.from(signature!, 'base64url'))).toBe(true);
    expect(await apiStatus(a, token)).toBe(200);
    expect(await apiStatus(b, token)).toBe(200);
    expect(await apiStatus(own, token)).toBe(401);
  });

  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  it.each([
    ['a PEM string', pem, /got a string \(a PEM text\? pass createPrivateKey\(pem\)\)/],
    ['a public key', createPublicKey(testSigningKey()), /got a public rsa key of 2048 bits/],
    ['an EC key', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, /got a private ec key/],
    ['a 1024-bit RSA key', generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, /got a private rsa key of 1024 bits/],
    ['an object', { kty: 'RSA' }, /got a value of type object/],
  ])('refuses %s, naming the option and never showing the value', async (_name, signingKey, got) => {
    const refusal = startEmulator({ signingKey: signingKey as never });
    await expect(refusal).rejects.toMatchObject({ code: 'FLUX_CONFIG_INVALID', option: 'signingKey' });
    await expect(refusal).rejects.toThrow(got);
    await expect(refusal).rejects.toThrow(/Expected `signingKey` to be an RSA private KeyObject of at least 2048 bits/);
    const message = await refusal.catch((error: Error) => `${error.message}\n${error.stack}`);
    expect(message).not.toContain('PRIVATE KEY');
    expect(message).not.toContain(pem.split('\n')[1]!);
  });
});
