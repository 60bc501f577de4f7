// Options are checked at construction: each bad option fails at once with a ConfigurationError
// whose message names the option, what it expects and what it got, and never a secret's value.
import { describe, expect, it } from '@jest/globals';
import { inspect } from 'node:util';
import {
  ConfigurationError,
  DEFAULT_RETRY,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_TOKEN_URL,
  FluxTokenError,
  TokenEndpoint,
  type TokenEndpointOptions,
} from '../lib/index.js';
import { CLIENT_ID, CLIENT_SECRET, mockTokenEndpoint, tokenBody } from './helpers/nock-token-endpoint.js';

const valid: TokenEndpointOptions = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };

/** Constructs with `overrides` (a key set to undefined is removed) and returns the error thrown. */
function constructionError(overrides: Record<string, unknown>): ConfigurationError {
  const options: Record<string, unknown> = { ...valid, ...overrides };
  for (const [key, value] of Object.entries(overrides)) if (value === undefined) delete options[key];
  try {
    new TokenEndpoint(options as unknown as TokenEndpointOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toBeInstanceOf(FluxTokenError);
    return error as ConfigurationError;
  }
  throw new Error(`expected new TokenEndpoint(${inspect(overrides)}) to throw`);
}

/** `{ request: { timeout: value } }` for `'request.timeout'`; `{ clientId: value }` for `'clientId'`. */
function atPath(path: string, value: unknown): Record<string, unknown> {
  const [group, key] = path.split('.');
  return key === undefined ? { [group!]: value } : { [group!]: { [key]: value } };
}

describe('defaults', () => {
  it('uses the documented defaults when only the credentials are given', () => {
    const endpoint = new TokenEndpoint(valid);

    expect(endpoint.tokenUrl.href).toBe(DEFAULT_TOKEN_URL);
    expect(DEFAULT_TOKEN_URL).toBe('https://api.test.tryflux.com/auth/oauth/token');
    expect(endpoint.timeout).toBe(DEFAULT_TIMEOUT_MS);
    expect(DEFAULT_TIMEOUT_MS).toBe(10_000);
    expect(endpoint.retry).toBe(DEFAULT_RETRY);
    expect(DEFAULT_RETRY).toBe(2);
  });
});

describe('bad options', () => {
  // [option, bad value, what the message must say it expects, what it must say it got]
  const cases: Array<[string, unknown, RegExp, RegExp]> = [
    ['clientId', undefined, /a non-empty string/, /got `undefined`/],
    ['clientId', '', /a non-empty string/, /got `""` \(string\)/],
    ['clientId', 42, /a non-empty string/, /got `42` \(number\)/],
    ['clientSecret', undefined, /a non-empty string/, /got `undefined`/],
    ['clientSecret', '', /a non-empty string/, /got a value of type string and length 0/],
    ['clientSecret', 1234567, /a non-empty string/, /got a value of type number/],
    ['request.timeout', 0, /a finite number from 1 to 600000/, /got `0` \(number\)/],
    ['request.timeout', -5, /a finite number from 1/, /got `-5` \(number\)/],
    ['request.timeout', 'x', /a finite number from 1/, /got `"x"` \(string\)/],
    ['request.timeout', Number.NaN, /a finite number from 1/, /got `NaN` \(number\)/],
    ['request.timeout', Number.POSITIVE_INFINITY, /a finite number from 1/, /got `Infinity` \(number\)/],
    ['request.retry', -1, /an integer from 0 to 10/, /got `-1` \(number\)/],
    ['request.retry', 1.5, /an integer from 0 to 10/, /got `1.5` \(number\)/],
    ['request.retry', '2', /an integer from 0 to 10/, /got `"2"` \(string\)/],
    ['tokenUrl', 'not a url', /an absolute URL/, /got a string of 9 characters that does not parse as a URL$/],
    ['tokenUrl', 42, /an absolute URL/, /got `42` \(number\)/],
    ['tokenUrl', 'http://example.com/auth/oauth/token', /https:.*loopback/, /got a URL with scheme `http:` on host `example.com`$/],
    ['tokenUrl', 'http://api.test.tryflux.com/auth/oauth/token', /https:.*loopback/, /got a URL with scheme `http:` on host `api.test.tryflux.com`/],
    ['tokenUrl', 'http://10.0.0.1/token', /https:.*loopback/, /got a URL with scheme `http:` on host `10.0.0.1`/],
    // A name under .localhost may not resolve to loopback: the secret would cross a network in clear.
    ['tokenUrl', 'http://auth.localhost/token', /https:.*loopback/, /got a URL with scheme `http:` on host `auth.localhost`/],
    ['tokenUrl', 'ftp://127.0.0.1/token', /https:.*loopback/, /got a URL with scheme `ftp:` on host `127.0.0.1`/],
    ['request.got', {}, /a function/, /got a value of type object/],
    ['clock.now', 1700000000000, /a function/, /got `1700000000000` \(number\)/],
  ];

  it.each(cases)('rejects %s = %p with a message naming it, what it expects and what it got', (option, value, expects, got) => {
    const error = constructionError(atPath(option, value));

    expect(error.code).toBe('FLUX_CONFIG_INVALID');
    expect(error.option).toBe(option);
    expect(error.message).toContain(`\`${option}\``);
    expect(error.message).toMatch(expects);
    expect(error.message).toMatch(got);
  });

  it('rejects an unknown option, naming it and the known ones', () => {
    const error = constructionError({ clientScret: 'x' });

    expect(error.code).toBe('FLUX_CONFIG_INVALID');
    expect(error.option).toBe('clientScret');
    expect(error.message).toMatch(/Unknown option `clientScret`/);
    expect(error.message).toContain('`clientSecret`');
  });

  it.each([
    ['request', 'request.timeot', ['`request.timeout`', '`request.retry`', '`request.got`']],
    ['clock', 'clock.random', ['`clock.now`']],
  ])('rejects an unknown option inside `%s`, by its full path, naming the known ones', (group, path, known) => {
    const error = constructionError(atPath(path, 1));

    expect(error.option).toBe(path);
    expect(error.message).toContain(`Unknown option \`${path}\` in TokenEndpoint options (known options: ${known.join(', ')})`);
  });

  it.each([
    ['request', 1_000],
    ['clock', Date.now],
  ])('rejects a `%s` that is not an object, naming its shape', (group, value) => {
    const error = constructionError({ [group]: value });

    expect(error.option).toBe(group);
    expect(error.message).toMatch(new RegExp(`^Expected \`${group}\` to be an object \\{ .+ \\} or undefined, got `));
  });

  it.each([
    ['timeout', 5_000, '`timeout` was replaced by `request.timeout` in 0.2'],
    ['retry', 0, '`retry` was replaced by `request.retry` in 0.2'],
    ['got', () => undefined, '`got` was replaced by `request.got` in 0.2'],
    ['now', Date.now, '`now` was replaced by `clock.now` in 0.2'],
    ['refreshWithClientCredentials', true, '`refreshWithClientCredentials` was removed in 0.2: pass `authenticate: true` to `refresh()`'],
  ])('tells where the 0.1 option `%s` went', (option, value, message) => {
    const error = constructionError({ [option]: value });

    expect(error.option).toBe(option);
    expect(error.message).toContain(message);
  });

  it.each([
    ['null', null],
    ['a string', 'clientId=x'],
    ['undefined', undefined],
  ])('rejects options that are %s', (_what, options) => {
    expect(() => new TokenEndpoint(options as unknown as TokenEndpointOptions)).toThrow(ConfigurationError);
  });

  it('rejects a tokenUrl with credentials in it, without echoing them', () => {
    const error = constructionError({ tokenUrl: `https://${CLIENT_ID}:${CLIENT_SECRET}@api.test.tryflux.com/auth/oauth/token` });

    expect(error.option).toBe('tokenUrl');
    expect(error.message).toMatch(/no credentials/);
    expect(error.message).not.toContain(CLIENT_SECRET);
  });
});

describe('a token URL in a message never shows a secret', () => {
  it('a secret before a colon, which parses as the scheme of a URL, is not named as one', () => {
    const secret = 'hunter2secret';
    const error = constructionError({ tokenUrl: `${secret}:x y` });

    expect(error.message).toMatch(/got a URL with a scheme that is not http: or https: and no host$/);
    for (const form of [error.message, error.stack ?? '', inspect(error, { depth: 10 })]) expect(form).not.toContain(secret);
  });

  // A string that does not parse is described by its shape; a URL off loopback by scheme and host.
  it.each([
    ['an unparsable tokenUrl with a query string', `https//api.test.tryflux.com/auth/oauth/token?client_secret=${CLIENT_SECRET}`, /absolute URL, got a string of \d+ characters that does not parse as a URL$/],
    ['an unparsable tokenUrl with userinfo', `https://${CLIENT_ID}:${CLIENT_SECRET}@[::1/token`, /absolute URL, got a string of \d+ characters that does not parse as a URL \(scheme `https:`\)$/],
    ['a password holding a slash', `https://${CLIENT_ID}:ab/${CLIENT_SECRET}@api.test.tryflux.com/auth/oauth/token`, /does not parse as a URL \(scheme `https:`\)$/],
    ['a space in the host', `https://${CLIENT_ID}:${CLIENT_SECRET}@api .test.tryflux.com/auth/oauth/token`, /does not parse as a URL \(scheme `https:`\)$/],
    ['the secret in the path of an http: URL off loopback', `http://flux.example.com/${CLIENT_SECRET}/token`, /https:.*loopback.*got a URL with scheme `http:` on host `flux.example.com`$/],
    ['an http: tokenUrl off loopback with a query string', `http://flux.example.com/auth/oauth/token?client_secret=${CLIENT_SECRET}`, /https:.*loopback/],
    ['an http: tokenUrl off loopback with a fragment', `http://flux.example.com/auth/oauth/token#${CLIENT_SECRET}`, /https:.*loopback/],
  ])('%s', (_what, tokenUrl, expected) => {
    const error = constructionError({ tokenUrl });

    expect(error.option).toBe('tokenUrl');
    expect(error.message).toMatch(expected);
    for (const form of [error.message, error.stack ?? '', inspect(error, { depth: 10 }), JSON.stringify(error)]) {
      expect(form).not.toContain(CLIENT_SECRET);
      expect(form).not.toContain(CLIENT_ID);
    }
  });
});

describe('secret options are never echoed', () => {
  it.each([
    ['a non-string clientSecret', { clientSecret: [CLIENT_SECRET] }],
    ['a clientSecret in an object', { clientSecret: { value: CLIENT_SECRET } }],
    ['a secret under an unknown key', { client_secret: CLIENT_SECRET }],
    ['a secret under an unknown key beside a bad option', { secret: CLIENT_SECRET, request: { timeout: 0 } }],
    ['a secret under an unknown key in a group', { request: { secret: CLIENT_SECRET } }],
  ])('%s', (_what, overrides) => {
    const error = constructionError(overrides);

    for (const form of [error.message, error.stack ?? '', inspect(error, { depth: 10 }), JSON.stringify(error)]) {
      expect(form).not.toContain(CLIENT_SECRET);
    }
  });
});

describe('tokenUrl', () => {
  it.each([
    'http://127.0.0.1:9/x',
    'http://127.255.0.7/x',
    'http://localhost/x',
    'http://localhost:4010/auth/oauth/token',
    'http://[::1]:8/x',
    'https://example.com/oauth/token',
  ])('accepts %s', (url) => {
    expect(new TokenEndpoint({ ...valid, tokenUrl: url }).tokenUrl.href).toBe(new URL(url).href);
  });

  it('accepts a URL object', () => {
    const url = new URL('https://auth.example.com/token');
    expect(new TokenEndpoint({ ...valid, tokenUrl: url }).tokenUrl.href).toBe(url.href);
  });

  it('sends the grant to the configured loopback tokenUrl', async () => {
    const { requests } = mockTokenEndpoint({ status: 200, body: tokenBody() }, { origin: 'http://127.0.0.1:9', path: '/x' });

    await new TokenEndpoint({ ...valid, tokenUrl: 'http://127.0.0.1:9/x', request: { retry: 0 } }).clientCredentials();

    expect(requests).toHaveLength(1);
    expect(requests[0]!.headers.host).toBe('127.0.0.1:9');
    expect(requests[0]!.form.grant_type).toBe('client_credentials');
  });
});
