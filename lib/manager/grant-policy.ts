/**
 * The grant policy: which grant a fetch uses for a scope (the refresh grant when it can), and what
 * to do when the refresh grant is refused. Kept apart from the renewal that calls it, so that the
 * rules of OAuth2 grants are read in one place.
 */
import { InvalidTokenResponseError, TokenEndpointError, type FluxTokenError } from '../shared/errors.js';
import type { TokenManagerEvents } from './manager-events.js';
import type { RenewWith } from './manager-options.js';
import type { Counters } from './counters.js';
import { scopeOf, type Flight } from './manager-state.js';
import type { ReportedHooks, requestReporter } from './request-report.js';
import { createToken, type Token } from '../endpoint/token.js';
import { MANAGED, type ManagedHooks, type TokenEndpoint, type WithManagedHooks } from '../endpoint/token-endpoint.js';

/** How many refused refresh tokens are remembered (see #refused). */
const MAX_REFUSED = 10_000;

/**
 * Refusals of a refresh request sent without client credentials that say the server wants them
 * (RFC 6749 §6: a confidential client authenticates on refresh). `@node-oauth/oauth2-server`
 * answers `invalid_client`, `oidc-provider` `invalid_request`.
 */
const WANTS_CLIENT_AUTH: ReadonlySet<string | undefined> = new Set(['invalid_client', 'invalid_request', 'unauthorized_client']);

/**
 * While no caller waits for `flight`, its retries must land before the token it supersedes stops being
 * served, so that callers never wait (see `fitDelay`).
 */
function retryByOf(flight: Flight): { retryBy?: number } {
  return flight.background && flight.superseded !== undefined ? { retryBy: flight.superseded.usableUntil } : {};
}

/** The endpoint client's options for one request of `flight`: its signal and the manager's hooks. */
function requestOf(flight: Flight, signal: AbortSignal, hooks: ReportedHooks & ManagedHooks): WithManagedHooks & { signal: AbortSignal } {
  return { signal, [MANAGED]: { ...hooks, ...retryByOf(flight) } };
}

/** What a {@link GrantPolicy} needs from its manager. */
export interface GrantPolicyDeps {
  endpoint: TokenEndpoint;
  renewWith: RenewWith;
  counters: Counters;
  /** Aborts every request on close. */
  signal: AbortSignal;
  emit: <E extends keyof TokenManagerEvents>(event: E, payload: TokenManagerEvents[E]) => void;
  /**
   * Runs one token request of `flight`, each attempt admitted by the manager's queue, reporting its
   * start and end (see request-report.ts).
   */
  report: ReturnType<typeof requestReporter<Flight>>;
}

/** Fetches a new token for one scope from the endpoint, with the refresh grant when it can. */
export class GrantPolicy {
  readonly #deps: GrantPolicyDeps;
  /**
   * Refresh tokens the endpoint refused, never spent again. Kept by value, not by token object: a
   * shared store hands out a new object for the same token on every read. Bounded: cleared when full.
   */
  readonly #refused = new Set<string>();
  /** Set once a server refused a refresh for want of client authentication. */
  #learned = false;

  constructor(deps: GrantPolicyDeps) {
    this.#deps = deps;
  }

  /** Whether refresh requests carry the client credentials: once learned. */
  get refreshAuthenticates(): boolean {
    return this.#learned;
  }

  /**
   * Fetches a new token for `key` from the endpoint: with the refresh grant when `base` carries a
   * refresh token (falling back once to client credentials if it is refused), else with client
   * credentials; one or two token requests. Records the grant on the flight for the failure report.
   */
  async fetch(key: string, base: Token | undefined, flight: Flight): Promise<Token> {
    const { endpoint, renewWith, counters, signal, report } = this.#deps;
    const refreshToken =
      renewWith === 'refresh_token' && base?.refreshToken !== undefined && !this.#refused.has(base.refreshToken)
        ? base.refreshToken
        : undefined;
    if (refreshToken !== undefined) {
      const refreshed = await this.#tryRefresh(key, refreshToken, flight);
      if (refreshed !== undefined) return refreshed;
      // Never spend a refused refresh token again, e.g. on the next retry of a background flight.
      if (this.#refused.size >= MAX_REFUSED) this.#refused.clear();
      this.#refused.add(refreshToken);
    }
    counters.client_credentials++;
    flight.grant = 'client_credentials';
    flight.credentialsSent = true;
    return report(flight, scopeOf(key), (hooks) => endpoint.clientCredentials({ scope: scopeOf(key), ...requestOf(flight, signal, hooks) }));
  }

  /**
   * The refresh grant; undefined when the endpoint refused the refresh token, or answered with a
   * token bound to another scope (fall back to client credentials).
   */
  async #tryRefresh(key: string, refreshToken: string, flight: Flight): Promise<Token | undefined> {
    const { endpoint, counters, signal, emit, report } = this.#deps;
    counters.refresh_token++;
    flight.grant = 'refresh_token';
    let authenticate = this.refreshAuthenticates;
    flight.credentialsSent = authenticate;
    // Decided as each attempt goes on the wire: a refusal that taught the manager to authenticate
    // may have come in while this request waited for the queue.
    const authenticateNow = () => {
      authenticate = this.refreshAuthenticates;
      flight.credentialsSent = authenticate;
      return authenticate;
    };
    try {
      // `null` for the client-wide token: the answer must then be unrestricted.
      const token = await report(flight, scopeOf(key), (hooks) =>
        endpoint.refresh({
          refreshToken,
          scope: scopeOf(key) ?? null,
          ...requestOf(flight, signal, { ...hooks, authenticate: authenticateNow, onFailure: (error) => this.#learn(key, error, authenticate) }),
        }),
      );
      // A server that does not rotate keeps the old refresh token valid: keep it.
      return token.refreshToken === undefined ? createToken({ ...token, refreshToken }) : token;
    } catch (error) {
      if (!this.#fallsBack(key, error, authenticate)) throw error;
      counters.failures++;
      emit('refreshFailed', {
        scope: scopeOf(key),
        grant: 'refresh_token',
        background: flight.background,
        error,
        next: 'fallback',
      });
      return undefined;
    }
  }

  /**
   * Whether a failed refresh falls back to client credentials: any refusal the server will repeat
   * (RFC 6749 §5.2: an answer with a non-retryable `error` code, whatever its HTTP status, as a 200
   * `{"error":"invalid_grant"}` or a 403; or a bare 4xx), or an answer bound to another scope.
   * Only the refresh grant was refused, so the user's client-credentials request finds out what
   * the client may still do. A refusal of a refresh sent without client credentials that asks for
   * them (`invalid_client`, `invalid_request`, `unauthorized_client`) also teaches the manager to
   * send them. An answer that shows no user (`unbound_token`) falls back too: a client-credentials
   * answer names the scope it was asked for more often than a refresh answer does.
   */
  #fallsBack(key: string, error: unknown, authenticated: boolean): error is FluxTokenError {
    if (error instanceof InvalidTokenResponseError) return error.reason === 'scope_mismatch' || error.reason === 'unbound_token';
    if (!isRefusal(error)) return false;
    this.#learn(key, error, authenticated);
    return true;
  }

  /**
   * A refusal of a refresh sent without client credentials that asks for them teaches the manager
   * to send them from now on. Called as soon as the answer is read, before the queue sends the next
   * request, and again when the refusal is handled (it then does nothing).
   */
  #learn(key: string, error: unknown, authenticated: boolean): void {
    if (authenticated || this.#learned || !isRefusal(error) || !WANTS_CLIENT_AUTH.has(error.error)) return;
    this.#learned = true;
    this.#deps.emit('refreshAuthentication', { scope: scopeOf(key), error });
  }
}

/** A refusal the server will repeat: a non-retryable answer with an `error` code or a 4xx status. */
function isRefusal(error: unknown): error is TokenEndpointError {
  if (!(error instanceof TokenEndpointError) || error.retryable) return false;
  return error.error !== undefined || (error.status >= 400 && error.status <= 499);
}
