/**
 * `startEmulator`: a local stand-in for Flux's token endpoint and a per-user API, on loopback HTTP.
 * It exists so that the library's tests, benchmarks and demo, and users' own tests, can exercise a
 * token client end to end (rotation, expiry, scope, faults) with no network and no credentials.
 */
import type { EmulatorContext } from './context.js';
import { API_FAULTS, FaultSwitch, TOKEN_FAULTS, type ApiFault, type FaultOptions, type TokenFault } from './faults.js';
import { Issuer } from './issuer.js';
import { OpaqueTokens } from './opaque-tokens.js';
import { resolveEmulatorOptions, type EmulatorOptions } from './options.js';
import { RefreshTokens } from './refresh-tokens.js';
import { EmulatorServer } from './server.js';
import { StatsRecorder, type EmulatorStats } from './stats.js';
import { TOKEN_PATH } from './token-route.js';

/** A running emulator. */
export interface Emulator {
  /** The base URL, e.g. `http://127.0.0.1:40123`. The per-user API is at `${url}/users/<id>/...`. */
  readonly url: string;
  /** The token endpoint: `${url}/auth/oauth/token`. Pass it as a client's `tokenUrl`. */
  readonly tokenUrl: string;
  /** The client id the endpoint accepts (test credentials, not a secret). */
  readonly clientId: string;
  /** The client secret the endpoint accepts (test credentials, not a secret). */
  readonly clientSecret: string;
  /** A snapshot of the counters: token calls, API answers, concurrency. */
  stats(): EmulatorStats;
  /** Zeroes the counters, e.g. after a warm-up, so that a test asserts on its own calls only. */
  resetStats(): void;
  /**
   * Makes the token endpoint misbehave for the next `count` requests, or until `setFault('none')`.
   * Faulted requests are counted, and never spend a refresh token, so that a client can recover.
   * Throws an `InvalidArgumentError` for an unknown mode or a bad `count`.
   * @example emulator.setFault('500', { count: 2 }); // the next two token calls fail, the third succeeds
   */
  setFault(mode: TokenFault, options?: FaultOptions): void;
  /**
   * Makes the per-user API answer 401 (reason `forced`) for the next `count` requests, or until
   * `setApiFault('none')`: for testing that an HTTP adapter renews its token and retries once.
   * @example emulator.setApiFault('401', { count: 1 });
   */
  setApiFault(mode: ApiFault, options?: FaultOptions): void;
  /**
   * Stops the server and destroys every open connection, hung requests included. Idempotent;
   * resolves when the server is closed, with no timer left behind.
   */
  close(): Promise<void>;
}

/**
 * Starts an emulator on a free loopback port (or `options.port`). Rejects with a
 * `ConfigurationError` for an invalid option, or with the listen error (e.g. `EADDRINUSE`).
 *
 * @example
 * const emulator = await startEmulator({ expiresIn: 2 });
 * const endpoint = new TokenEndpoint({ tokenUrl: emulator.tokenUrl, clientId: emulator.clientId, clientSecret: emulator.clientSecret });
 * const token = await endpoint.clientCredentials({ scope: 'user-42' });
 * await fetch(`${emulator.url}/users/user-42/receipts`, { headers: { authorization: `Bearer ${token.accessToken}` } });
 * await emulator.close();
 */
export async function startEmulator(options?: EmulatorOptions): Promise<Emulator> {
  const resolved = resolveEmulatorOptions(options);
  const issuer = await Issuer.create(resolved.clientId, resolved.signingKey);

  /** Pending `wait` timers and their resolvers: close() settles them all at once. */
  const waits = new Map<NodeJS.Timeout, (elapsed: boolean) => void>();
  let closed = false;
  const wait = (ms: number): Promise<boolean> =>
    closed
      ? Promise.resolve(false)
      : new Promise((resolve) => {
          const timer = setTimeout(() => {
            waits.delete(timer);
            resolve(true);
          }, ms);
          timer.unref();
          waits.set(timer, resolve);
        });

  const stats = new StatsRecorder();
  const tokenFault = new FaultSwitch<TokenFault>('token endpoint fault', TOKEN_FAULTS, 'none');
  const apiFault = new FaultSwitch<ApiFault>('API fault', API_FAULTS, 'none');
  const ctx: EmulatorContext = {
    options: resolved,
    issuer,
    opaqueTokens: new OpaqueTokens(),
    refreshTokens: new RefreshTokens(),
    stats,
    tokenFault,
    apiFault,
    wait,
  };
  const server = new EmulatorServer(ctx);
  const url = await server.listen(resolved.host, resolved.port);

  return {
    url,
    tokenUrl: `${url}${TOKEN_PATH}`,
    clientId: resolved.clientId,
    clientSecret: resolved.clientSecret,
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    setFault: (mode, faultOptions) => tokenFault.set(mode, faultOptions),
    setApiFault: (mode, faultOptions) => apiFault.set(mode, faultOptions),
    close: () => {
      closed = true;
      for (const [timer, resolve] of waits) {
        clearTimeout(timer);
        resolve(false);
      }
      waits.clear();
      return server.close();
    },
  };
}
