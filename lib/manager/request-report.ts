/**
 * Reports each token-endpoint request of the manager as a `requestStart` and a `requestEnd` event,
 * for logs and metrics (see `flux-token-manager/otel`). Kept apart from the manager so that the
 * manager only says which call is a request.
 */
import { FluxTokenError, InvalidTokenResponseError, TokenEndpointError } from '../shared/errors.js';
import type { TokenManagerEvents, TokenRequestEndEvent, TokenRequestStartEvent } from './manager-events.js';

/** What a report needs to know of the request's flight: its grant, and whether a caller waits. */
interface FlightView {
  readonly grant: TokenRequestStartEvent['grant'];
  readonly background: boolean;
}

type Emit = <E extends 'requestStart' | 'requestEnd'>(event: E, payload: TokenManagerEvents[E]) => void;

/** Ids of requests, unique within the process (several managers may feed one exporter). */
let lastId = 0;


/** What a reported request hands the endpoint client (see `ManagedHooks`). */
export interface ReportedHooks {
  onAnswer: (status: number) => void;
  admit: <T>(send: () => Promise<T>) => Promise<T>;
}

/**
 * A function that runs one request (`send`) of `flight` for `scope`, emitting its start when its
 * first attempt goes on the wire (a request still waiting for the queue has not started) and its
 * end, and hands back the request's own result or error untouched. A request that never reached
 * the wire (the manager closed meanwhile) emits neither.
 */
export function requestReporter<F extends FlightView>(
  emit: Emit,
  now: () => number,
  /** Admits one attempt of `flight`'s request to the manager's queue (see wire-queue.ts). */
  admitOf: <T>(flight: F, send: () => Promise<T>) => Promise<T>,
) {
  return async <T>(flight: F, scope: string | undefined, send: (hooks: ReportedHooks) => Promise<T>): Promise<T> => {
    let start: TokenRequestStartEvent | undefined;
    const end = (started: TokenRequestStartEvent, failed: boolean, error?: unknown): TokenRequestEndEvent => {
      const base = { ...started, background: flight.background, durationMs: Math.max(0, now() - started.startedAt) };
      if (!failed) return { ...base, outcome: 'success', status: answered };
      if (!(error instanceof FluxTokenError)) return { ...base, outcome: 'unexpected', status: undefined };
      const status = error instanceof TokenEndpointError || error instanceof InvalidTokenResponseError ? error.status : undefined;
      return { ...base, outcome: error.code, status, error };
    };
    /** The status of the answer that settled the request, as the endpoint client reports it. */
    let answered: number | undefined;
    const hooks: ReportedHooks = {
      onAnswer: (status) => (answered = status),
      admit: (attempt) =>
        admitOf(flight, () => {
          if (start === undefined) {
            start = { id: ++lastId, scope, grant: flight.grant, background: flight.background, startedAt: now() };
            emit('requestStart', start);
          }
          return attempt();
        }),
    };
    let result: T;
    try {
      result = await send(hooks);
    } catch (error) {
      if (start !== undefined) emit('requestEnd', end(start, true, error));
      throw error;
    }
    if (start !== undefined) emit('requestEnd', end(start, false));
    return result;
  };
}
