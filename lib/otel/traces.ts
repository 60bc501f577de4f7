/**
 * The spans: one `flux.token.request` span per token-endpoint request, opened on the manager's
 * `requestStart` event and closed on `requestEnd`, with the manager's clock for both ends so that a
 * span lasts exactly the `durationMs` of the event (and of the histogram).
 */
import { SpanKind, SpanStatusCode, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { TokenEndpointError } from '../shared/errors.js';
import type { TokenRequestEndEvent, TokenRequestStartEvent } from '../manager/manager-events.js';
import type { TokenManager } from '../manager/token-manager.js';
import { neverThrows } from './guard.js';
import { SPAN_ATTRIBUTE as A, SPAN_NAME } from './names.js';

/**
 * The `error` codes of RFC 6749 (§4.1.2.1, §5.2). Only these are recorded: the field is the
 * server's free text, and an attribute must keep a small, known set of values.
 */
const OAUTH_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'access_denied',
  'server_error',
  'temporarily_unavailable',
]);

export interface TraceOptions {
  /** Record the user id (the token's scope) on each span. */
  recordScope: boolean;
}

/** The token endpoint's address, as the semantic conventions name it (no path, no query). */
function serverAttributes(tokenUrl: URL): Attributes {
  const port = tokenUrl.port === '' ? (tokenUrl.protocol === 'https:' ? 443 : 80) : Number(tokenUrl.port);
  return { [A.serverAddress]: tokenUrl.hostname, [A.serverPort]: port };
}

function startAttributes(event: TokenRequestStartEvent, server: Attributes, { recordScope }: TraceOptions): Attributes {
  return {
    [A.grant]: event.grant,
    [A.background]: event.background,
    [A.method]: 'POST',
    ...server,
    ...(recordScope && event.scope !== undefined ? { [A.scope]: event.scope } : {}),
  };
}

function endAttributes(event: TokenRequestEndEvent): Attributes {
  const { error } = event;
  const oauthError = error instanceof TokenEndpointError && OAUTH_ERRORS.has(error.error ?? '') ? error.error : undefined;
  return {
    [A.outcome]: event.outcome,
    [A.background]: event.background,
    ...(event.status === undefined ? {} : { [A.statusCode]: event.status }),
    ...(event.outcome === 'success' ? {} : { [A.errorType]: event.outcome }),
    ...(oauthError === undefined ? {} : { [A.oauthError]: oauthError }),
  };
}

/** Records a span per token request of `manager` with `tracer`; returns the function that stops it. */
export function instrumentTraces(manager: TokenManager, tracer: Tracer, options: TraceOptions): () => void {
  const server = serverAttributes(manager.tokenUrl);
  /** Spans of the requests that have started and not ended, by request id. */
  const open = new Map<number, Span>();
  const onStart = neverThrows('starting a token request span', (event: TokenRequestStartEvent) => {
    const attributes = startAttributes(event, server, options);
    // A trace of its own: the request serves every caller waiting for its scope (a renewal ahead of
    // expiry, none), and the context active here is whichever caller's the queue happened to run in.
    open.set(event.id, tracer.startSpan(SPAN_NAME, { kind: SpanKind.CLIENT, startTime: event.startedAt, attributes, root: true }));
  });
  const onEnd = neverThrows('ending a token request span', (event: TokenRequestEndEvent) => {
    const span = open.get(event.id);
    if (span === undefined) return; // started before the instrumentation
    open.delete(event.id);
    span.setAttributes(endAttributes(event));
    // The code only: an error's message may quote the server, and the server may quote a user id.
    if (event.outcome !== 'success') span.setStatus({ code: SpanStatusCode.ERROR, message: event.outcome });
    span.end(event.startedAt + event.durationMs);
  });
  manager.on('requestStart', onStart);
  manager.on('requestEnd', onEnd);
  return () => {
    manager.off('requestStart', onStart);
    manager.off('requestEnd', onEnd);
    // A span left open would never be exported: end those of the requests still running.
    for (const span of open.values()) span.end();
    open.clear();
  };
}
