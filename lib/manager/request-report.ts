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

/**
 * A function that runs one request (`send`) of `flight` for `scope`, emitting its start and its end,
 * and hands back the request's own result or error untouched.
 */
export function requestReporter(emit: Emit, now: () => number) {
  return async <T>(flight: FlightView, scope: string | undefined, send: (onAnswer: (status: number) => void) => Promise<T>): Promise<T> => {
    const start: TokenRequestStartEvent = { id: ++lastId, scope, grant: flight.grant, background: flight.background, startedAt: now() };
    emit('requestStart', start);
    const end = (failed: boolean, error?: unknown): TokenRequestEndEvent => {
      const base = { ...start, background: flight.background, durationMs: Math.max(0, now() - start.startedAt) };
      if (!failed) return { ...base, outcome: 'success', status: answered };
      if (!(error instanceof FluxTokenError)) return { ...base, outcome: 'unexpected', status: undefined };
      const status = error instanceof TokenEndpointError || error instanceof InvalidTokenResponseError ? error.status : undefined;
      return { ...base, outcome: error.code, status, error };
    };
    /** The status of the answer that settled the request, as the endpoint client reports it. */
    let answered: number | undefined;
    let result: T;
    try {
      result = await send((status) => (answered = status));
    } catch (error) {
      emit('requestEnd', end(true, error));
      throw error;
    }
    emit('requestEnd', end(false));
    return result;
  };
}
