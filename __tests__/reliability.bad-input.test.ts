/**
 * Bad input, across every public entry point: options of the wrong type, out of range, or with a
 * URL that is not allowed (above all `http:` to a host that is not loopback, and hosts that only
 * look like loopback), scopes that are not non-empty strings, and request options that are not
 * what they should be. Each fails at the call, with a typed error naming the option or argument,
 * and before anything is sent. The per-option details are in token-manager.options.test.ts and
 * token-endpoint.config.test.ts; this is one compact pass over all the entry points.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import got, { RequestError } from 'got';
import { startEmulator, type Emulator, type EmulatorOptions } from '../lib/emulator/index.js';
import {
  authFetch,
  ConfigurationError,
  InvalidArgumentError,
  TokenEndpoint,
  TokenManager,
  type TokenEndpointOptions,
  type TokenManagerOptions,
} from '../lib/index.js';
import { gotAuth, type TokenSource } from '../lib/http/got.js';
import { failOnUnhandledRejections, rejectionOf, within } from './helpers/reliability.js';

failOnUnhandledRejections();

/** A secret-looking value: it must never appear in an error. */
const SECRET = 'cs_live_BADINPUT_5e4d3c2b1a';
const CREDENTIALS = { clientId: 'client-1', clientSecret: SECRET };

/** http: URLs on hosts that are not loopback, some of which look like it. */
const NOT_LOOPBACK = [
  'http://example.com/auth/oauth/token',
  'http://api.test.tryflux.com/auth/oauth/token',
  'http://10.0.0.1/token',
  'http://0.0.0.0:4010/token',
  'http://[::]/token',
  'http://127.0.0.1.nip.io/token',
  'http://localhost.example.com/token',
  'HTTP://EXAMPLE.COM/token',
];

/** Other URLs no token may go to. */
const NOT_ALLOWED = ['not a url', '/auth/oauth/token', 'ftp://127.0.0.1/token', 'https://user:pw@example.com/token', 'file:///etc/passwd'];

/** What a construction threw: it must be a ConfigurationError naming `option`, with no secret in it. */
function expectConfigurationError(thrown: unknown, option: string): void {
  expect(thrown).toBeInstanceOf(ConfigurationError);
  expect(thrown).toMatchObject({ code: 'FLUX_CONFIG_INVALID', option });
  const error = thrown as ConfigurationError;
  expect(error.message).toContain(`\`${option}\``);
  expect(`${error.message} ${error.stack} ${JSON.stringify(error)}`).not.toContain(SECRET);
}

function thrownBy(construct: () => unknown): unknown {
  try {
    construct();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

const newManager = (options: Record<string, unknown>) => new TokenManager({ ...CREDENTIALS, ...options } as unknown as TokenManagerOptions);
const newEndpoint = (options: Record<string, unknown>) => new TokenEndpoint({ ...CREDENTIALS, ...options } as unknown as TokenEndpointOptions);

describe('constructors refuse a tokenUrl that is not https: or loopback http:', () => {
  const cases = [...NOT_LOOPBACK, ...NOT_ALLOWED].flatMap((url) => [
    ['TokenManager', url, () => newManager({ tokenUrl: url })] as const,
    ['TokenEndpoint', url, () => newEndpoint({ tokenUrl: url })] as const,
  ]);
  it.each(cases)('%s: %s', (_entry, _url, construct) => {
    expectConfigurationError(thrownBy(construct), 'tokenUrl');
  });

  it('the same for a URL object, and the message names what was expected', () => {
    const error = thrownBy(() => newManager({ tokenUrl: new URL('http://example.com/token') })) as ConfigurationError;
    expectConfigurationError(error, 'tokenUrl');
    expect(error.message).toMatch(/https:.*loopback/);
  });

  it.each(['http://127.0.0.1:4010/auth/oauth/token', 'http://localhost:4010/t', 'http://[::1]:4010/t', 'https://example.com/t'])(
    'accepts %s',
    async (url) => {
      const manager = newManager({ tokenUrl: url });
      expect(manager.tokenUrl.href).toBe(new URL(url).href);
      await manager.close();
    },
  );
});

describe('constructors refuse options of the wrong type or range, naming them', () => {
  const manager = newManager({ tokenUrl: 'http://127.0.0.1:9/token' });
  afterAll(() => manager.close());

  const cases: [string, string, () => unknown][] = [
    ['TokenManager', 'TokenManager options', () => new TokenManager(null as unknown as TokenManagerOptions)],
    ['TokenManager', 'clientSecret', () => newManager({ clientSecret: 42 })],
    ['TokenManager', 'request.timeout', () => newManager({ request: { timeout: '5000' } })],
    ['TokenManager', 'request.retry', () => newManager({ request: { retry: 11 } })],
    ['TokenManager', 'concurrency', () => newManager({ concurrency: 0 })],
    ['TokenManager', 'refresh.jitter', () => newManager({ refresh: { jitter: Number.NaN } })],
    ['TokenManager', 'cooldown.base', () => newManager({ cooldown: { base: Number.POSITIVE_INFINITY } })],
    ['TokenManager', 'clock.now', () => newManager({ clock: { now: Date.now() } })],
    ['TokenManager', 'client_secret', () => newManager({ client_secret: SECRET })],
    ['TokenEndpoint', 'TokenEndpoint options', () => new TokenEndpoint([] as unknown as TokenEndpointOptions)],
    ['TokenEndpoint', 'clientId', () => newEndpoint({ clientId: '' })],
    ['TokenEndpoint', 'request.timeout', () => newEndpoint({ request: { timeout: 600_001 } })],
    ['TokenEndpoint', 'request.got', () => newEndpoint({ request: { got: 'got' } })],
    ['gotAuth', 'manager', () => gotAuth(null as unknown as TokenManager)],
    ['gotAuth', 'manager', () => gotAuth(newEndpoint({}) as unknown as TokenManager)],
    ['gotAuth', 'gotAuth options', () => gotAuth(manager, 'user-1' as never)],
    ['gotAuth', 'scope', () => gotAuth(manager, { scope: 42 } as never)],
    ['gotAuth', 'allowedOrigins[0]', () => gotAuth(manager, { allowedOrigins: ['http://example.com'] })],
    ['gotAuth', 'allowedOrigins[1]', () => gotAuth(manager, { allowedOrigins: ['https://ok.example.com', 'http://127.0.0.1.nip.io'] })],
    ['gotAuth', 'onForeignOrigin', () => gotAuth(manager, { onForeignOrigin: 'ignore' } as never)],
    ['gotAuth', 'fetch', () => gotAuth(manager, { fetch } as never)],
    ['authFetch', 'manager', () => authFetch({ getToken() {} } as unknown as TokenManager)],
    ['authFetch', 'scope', () => authFetch(manager, { scope: '' })],
    ['authFetch', 'allowedOrigins', () => authFetch(manager, { allowedOrigins: 'https://example.com' } as never)],
    ['authFetch', 'allowedOrigins[0]', () => authFetch(manager, { allowedOrigins: ['http://10.0.0.1'] })],
    ['authFetch', 'fetch', () => authFetch(manager, { fetch: 'fetch' } as never)],
  ];
  it.each(cases)('%s: refused, naming `%s`', (_entry, option, construct) => {
    expectConfigurationError(thrownBy(construct), option);
  });

  const emulatorCases: [EmulatorOptions | unknown, string][] = [
    ['localhost', 'emulator options'],
    [{ host: '0.0.0.0' }, 'host'],
    [{ host: 'example.com' }, 'host'],
    [{ port: 70_000 }, 'port'],
    [{ expiresIn: 0 }, 'expiresIn'],
    [{ latency: -1 }, 'latency'],
    [{ retryAfterSeconds: 1.5 }, 'retryAfterSeconds'],
    [{ clientSecret: '' }, 'clientSecret'],
    [{ now: 0 }, 'now'],
    [{ expiresIN: 60 }, 'expiresIN'],
  ];
  it.each(emulatorCases)('startEmulator(%p) rejects, naming `%s`', async (options, option) => {
    const error = await rejectionOf(startEmulator(options as EmulatorOptions), 5_000);
    expectConfigurationError(error, option);
  });
});

describe('methods refuse arguments they cannot use, before anything is sent', () => {
  let emulator: Emulator;
  let manager: TokenManager;
  let endpoint: TokenEndpoint;

  beforeAll(async () => {
    emulator = await startEmulator();
  });
  beforeEach(async () => {
    await manager?.close();
    const { tokenUrl, clientId, clientSecret } = emulator;
    manager = new TokenManager({ tokenUrl, clientId, clientSecret, request: { retry: 0 } });
    endpoint = new TokenEndpoint({ tokenUrl, clientId, clientSecret, request: { retry: 0 } });
    emulator.resetStats();
  });
  afterAll(async () => {
    await manager.close();
    await emulator.close();
  });

  /** The call's rejection: an InvalidArgumentError naming `argument`, with nothing sent. */
  async function expectInvalid(call: () => Promise<unknown>, argument: string): Promise<void> {
    let promise: Promise<unknown> | undefined;
    // A promise-returning call reports bad input by rejecting, never by throwing.
    expect(() => {
      promise = call();
    }).not.toThrow();
    const error = await rejectionOf(promise!, 5_000);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ code: 'FLUX_INVALID_ARGUMENT', argument });
    expect((error as Error).message).toContain(`\`${argument}\``);
    expect(emulator.stats().tokenCalls.total).toBe(0);
    expect(emulator.stats().api.total).toBe(0);
  }

  const badScopes: [string, unknown][] = [
    ['an empty string', ''],
    ['a number', 42],
    ['null', null],
    ['an object', { id: 'user-1' }],
    ['an array', ['user-1']],
    ['a String object', new String('user-1')],
    ['a symbol', Symbol('user-1')],
    // Not well-formed Unicode: sent as `bob\uFFFD`, it would share a token with that user id.
    ['a lone high surrogate', 'bob\uD800'],
    ['a lone low surrogate', '\uDC00bob'],
  ];

  it.each(badScopes)('getToken(%s) rejects with InvalidArgumentError `scope`', async (_what, scope) => {
    await expectInvalid(() => manager.getToken(scope as string), 'scope');
    expect(manager.stats()).toMatchObject({ inFlight: 0, cached: 0 });
  });

  it.each(badScopes)('invalidate(%s, token) throws InvalidArgumentError `scope`', (_what, scope) => {
    const error = thrownBy(() => manager.invalidate(scope as string, 'some-token'));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ code: 'FLUX_INVALID_ARGUMENT', argument: 'scope' });
  });

  it.each([
    ['clientCredentials({ scope: "" })', 'scope', () => endpoint.clientCredentials({ scope: '' })],
    ['clientCredentials({ scope: 42 })', 'scope', () => endpoint.clientCredentials({ scope: 42 as never })],
    ['clientCredentials(null)', 'options', () => endpoint.clientCredentials(null as never)],
    ['clientCredentials(42)', 'options', () => endpoint.clientCredentials(42 as never)],
    ['clientCredentials({ signal: "abort" })', 'signal', () => endpoint.clientCredentials({ signal: 'abort' as never })],
    ['clientCredentials({ signal: {} })', 'signal', () => endpoint.clientCredentials({ signal: {} as never })],
    ['refresh(undefined)', 'refreshToken', () => endpoint.refresh(undefined as never)],
    ['refresh({ refreshToken: "" })', 'refreshToken', () => endpoint.refresh({ refreshToken: '' })],
    ['refresh({ refreshToken: 42 })', 'refreshToken', () => endpoint.refresh({ refreshToken: 42 as never })],
    ['refresh("<the refresh token itself>")', 'options', () => endpoint.refresh(SECRET as never)],
    ['refresh({ refreshToken, scope: "" })', 'scope', () => endpoint.refresh({ refreshToken: 'rt', scope: '' })],
    ['refresh({ refreshToken, signal: null })', 'signal', () => endpoint.refresh({ refreshToken: 'rt', signal: null as never })],
  ])('TokenEndpoint %s rejects, naming `%s`', async (_call, argument, call) => {
    await expectInvalid(call as () => Promise<unknown>, argument);
  });

  it('an error about the options never echoes them: refresh(token) does not print the token', async () => {
    const error = await rejectionOf(endpoint.refresh(SECRET as never));
    expect(`${(error as Error).message} ${JSON.stringify(error)}`).not.toContain(SECRET);
  });

  it('gotAuth: a request whose scope (context or option function) is not a non-empty string fails with FLUX_INVALID_ARGUMENT', async () => {
    const client = got.extend(gotAuth(manager, { scope: () => 42 as never }), { retry: { limit: 0 } });
    const url = `${emulator.url}/users/user-1/x`;
    for (const request of [() => client.get(url, { context: { scope: '' } }), () => client.get(url)]) {
      const error = await rejectionOf(request(), 5_000);
      expect(error).toBeInstanceOf(RequestError);
      expect(error).toMatchObject({ code: 'FLUX_INVALID_ARGUMENT' });
    }
    expect(emulator.stats().tokenCalls.total).toBe(0);
    expect(emulator.stats().api.total).toBe(0);
  });

  it('authFetch: a scope function that returns an empty string rejects with InvalidArgumentError `scope`', async () => {
    const fetchAs = authFetch(manager, { scope: () => '' });
    await expectInvalid(() => fetchAs(`${emulator.url}/users/user-1/x`), 'scope');
  });

  describe('a scope that is not well-formed Unicode, checked by the adapters themselves', () => {
    /** A stand-in for the manager that checks nothing, and records the scopes it was asked for. */
    function recordingSource(asked: unknown[]): TokenSource {
      return {
        tokenUrl: manager.tokenUrl,
        getToken: (scope, options) => {
          asked.push(scope);
          return manager.getToken(scope, options);
        },
        invalidate: (scope, token) => manager.invalidate(scope, token),
      };
    }

    it('gotAuth: from context.scope or the scope function, the request fails with FLUX_INVALID_ARGUMENT', async () => {
      const asked: unknown[] = [];
      const client = got.extend(gotAuth(recordingSource(asked), { scope: () => 'bob\uD800' }), { retry: { limit: 0 } });
      const url = `${emulator.url}/users/bob/x`;
      for (const request of [() => client.get(url, { context: { scope: '\uDFFFbob' } }), () => client.get(url)]) {
        const error = await rejectionOf(request(), 5_000);
        expect(error).toBeInstanceOf(RequestError);
        expect(error).toMatchObject({ code: 'FLUX_INVALID_ARGUMENT' });
        expect((error as RequestError).cause).toMatchObject({ argument: 'scope' });
      }
      expect(asked).toEqual([]);
      expect(emulator.stats().api.total).toBe(0);
    });

    it('gotAuth and authFetch: a fixed scope option is refused at construction', () => {
      for (const construct of [() => gotAuth(manager, { scope: 'bob\uD800' }), () => authFetch(manager, { scope: 'bob\uD800' })]) {
        const error = thrownBy(construct);
        expect(error).toBeInstanceOf(ConfigurationError);
        expect(error).toMatchObject({ option: 'scope' });
      }
    });

    it('authFetch: a scope function that returns one rejects with InvalidArgumentError `scope`', async () => {
      const asked: unknown[] = [];
      const fetchAs = authFetch(recordingSource(asked), { scope: () => 'bob\uD800' });
      await expectInvalid(() => fetchAs(`${emulator.url}/users/bob/x`), 'scope');
      expect(asked).toEqual([]);
    });
  });

  it('the emulator refuses an unknown fault mode or count, naming it', () => {
    expect(thrownBy(() => emulator.setFault('503' as never))).toMatchObject({ code: 'FLUX_INVALID_ARGUMENT', argument: 'mode' });
    expect(thrownBy(() => emulator.setFault('500', { count: 0 }))).toMatchObject({ argument: 'count' });
    expect(thrownBy(() => emulator.setApiFault('403' as never))).toMatchObject({ argument: 'mode' });
  });

  // Was a bug: the token request went out, then a TypeError, and the wait stayed registered until close().
  it('getToken(scope, { signal: "abort" }) rejects with InvalidArgumentError `signal`, and sends nothing', async () => {
    await expectInvalid(() => within(5_000, manager.getToken('user-1', { signal: 'abort' as never })), 'signal');
  });
});
