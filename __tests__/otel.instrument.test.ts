import { afterEach, describe, expect, it } from '@jest/globals';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { startEmulator, type Emulator } from '../lib/emulator/index.js';
import { InvalidTokenResponseError, TokenEndpointError } from '../lib/shared/errors.js';
import { instrument } from '../lib/otel/index.js';
import type { Token } from '../lib/endpoint/token.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import type { TokenManagerOptions } from '../lib/manager/manager-options.js';
import { ManualClock } from './fixtures/manual-clock.js';
import { nextEvent, recordEvents } from './fixtures/manager-harness.js';
import { spanText, startOtel, type OtelKit } from './helpers/otel.js';
import { testSigningKey } from './helpers/signing-key.js';

/** Each token request lasts this long by the manager's clock (see `setup`). */
const REQUEST_MS = 120;
const ALICE = 'alice@example.com';
const BOB = 'bob smith';

interface Setup {
  clock: ManualClock;
  emulator: Emulator;
  manager: TokenManager;
  otel: OtelKit;
}

let running: Setup[] = [];

/** The emulator and a manager on one manual clock, and the real SDK with in-memory exporters. */
async function setup(options: Partial<TokenManagerOptions> = {}): Promise<Setup> {
  const clock = new ManualClock();
  const emulator = await startEmulator({ now: clock.now, signingKey: testSigningKey() });
  const manager = new TokenManager({
    clientId: emulator.clientId,
    clientSecret: emulator.clientSecret,
    tokenUrl: emulator.tokenUrl,
    ...options,
    request: { retry: 0, ...options.request },
    clock: { now: clock.now, timers: clock.timers, random: () => 0, ...options.clock },
  });
  const s = { clock, emulator, manager, otel: startOtel() };
  running.push(s);
  return s;
}

afterEach(async () => {
  for (const { manager, emulator, otel } of running) {
    await manager.close();
    await emulator.close();
    await otel.shutdown();
  }
  running = [];
});

/** Moves the manager's clock by REQUEST_MS while each request is sent, so that durations are known. */
function timeRequests({ manager, clock }: Setup): void {
  manager.on('requestStart', () => clock.jumpTo(clock.now() + REQUEST_MS));
}

/**
 * Cold callers (two of them joining), a hit, the client-wide token, a 500, a malformed 200 and a
 * background renewal. Returns every token handed out.
 */
async function runScenario({ manager, emulator, clock }: Setup): Promise<Token[]> {
  const tokens = await Promise.all([manager.getToken(ALICE), manager.getToken(ALICE), manager.getToken(ALICE), manager.getToken(BOB)]);
  tokens.push(await manager.getToken(ALICE), await manager.getToken());
  emulator.setFault('500', { count: 1 });
  await expect(manager.getToken('carol')).rejects.toBeInstanceOf(TokenEndpointError);
  emulator.setFault('bad-json', { count: 1 });
  await expect(manager.getToken('dave')).rejects.toBeInstanceOf(InvalidTokenResponseError);
  clock.jumpTo(tokens[0]!.expiresAt - 300_000);
  const renewed = nextEvent(manager, 'token');
  tokens.push(await manager.getToken(ALICE)); // a hit in the refresh window: renews in the background
  await renewed;
  tokens.push(await manager.getToken(ALICE));
  return tokens;
}

describe('instrument(): metrics', () => {
  it('counts every token-endpoint request, failures included, exactly as stats().endpointCalls.total', async () => {
    const s = await setup();
    const { manager, emulator, otel } = s;
    timeRequests(s);
    instrument(manager, { meterProvider: otel.meterProvider, tracerProvider: otel.tracerProvider });
    await runScenario(s);
    const metrics = await otel.collect();
    const stats = manager.stats();

    expect(metrics.total('flux.token.requests')).toBe(stats.endpointCalls.total);
    expect(stats.endpointCalls.total).toBe(emulator.stats().tokenCalls.total);
    expect(metrics.total('flux.token.requests', { grant: 'refresh_token' })).toBe(stats.endpointCalls.refresh_token);
    expect(metrics.total('flux.token.requests', { outcome: 'success' })).toBe(stats.endpointCalls.total - stats.failures);
    expect(metrics.points('flux.token.requests')).toEqual(
      expect.arrayContaining([
        { attributes: { grant: 'client_credentials', outcome: 'success', background: false }, value: 3 },
        { attributes: { grant: 'client_credentials', outcome: 'FLUX_TOKEN_ENDPOINT', background: false }, value: 1 },
        { attributes: { grant: 'client_credentials', outcome: 'FLUX_INVALID_TOKEN_RESPONSE', background: false }, value: 1 },
        { attributes: { grant: 'refresh_token', outcome: 'success', background: true }, value: 1 },
      ]),
    );
    expect(metrics.points('flux.token.requests')).toHaveLength(4);
    expect(metrics.find('flux.token.requests')?.descriptor).toMatchObject({ unit: '{request}' });
  });

  it('records each request duration in seconds, with the attributes of the counter', async () => {
    const s = await setup();
    const { manager, otel } = s;
    timeRequests(s);
    const ends = recordEvents(manager, 'requestEnd');
    instrument(manager, { meterProvider: otel.meterProvider, tracerProvider: otel.tracerProvider });
    await runScenario(s);
    const metrics = await otel.collect();

    expect(metrics.find('flux.token.request.duration')?.descriptor).toMatchObject({ unit: 's' });
    const histogram = metrics.histogram('flux.token.request.duration');
    const counter = metrics.points('flux.token.requests');
    expect(histogram.map((p) => p.attributes)).toEqual(counter.map((p) => p.attributes));
    for (const [i, point] of histogram.entries()) {
      const { grant, outcome, background } = point.attributes;
      const mine = ends.filter((e) => e.grant === grant && e.outcome === outcome && e.background === background);
      expect(point.count).toBe(counter[i]!.value);
      expect(point.count).toBe(mine.length);
      expect(point.sum).toBeCloseTo(mine.reduce((sum, e) => sum + e.durationMs, 0) / 1000, 9);
    }
    // Concurrent requests overlap on the shared clock, so some last longer than REQUEST_MS.
    expect(ends.every((e) => e.durationMs >= REQUEST_MS)).toBe(true);
  });

  it('counts cache lookups by result as stats() does, and observes the cached scopes and requests in flight', async () => {
    const s = await setup();
    const { manager, emulator, otel } = s;
    instrument(manager, { meterProvider: otel.meterProvider, tracerProvider: otel.tracerProvider });
    await runScenario(s);
    let metrics = await otel.collect();
    const stats = manager.stats();
    expect(stats).toMatchObject({ hits: 3, misses: 5, joined: 2 });
    expect(metrics.points('flux.token.cache.lookups')).toEqual([
      { attributes: { result: 'hit' }, value: stats.hits },
      { attributes: { result: 'miss' }, value: stats.misses },
      { attributes: { result: 'joined' }, value: stats.joined },
    ]);
    expect(metrics.points('flux.token.cache.scopes')).toEqual([{ attributes: {}, value: stats.cached }]);
    expect(stats.cached).toBe(3);
    expect(metrics.points('flux.token.active_requests')).toEqual([{ attributes: {}, value: 0 }]);

    // A request that hangs is in flight until the manager closes, which aborts it.
    emulator.setFault('hang');
    const hung = manager.getToken('erin').catch((error: unknown) => error);
    metrics = await otel.collect();
    expect(metrics.points('flux.token.active_requests')).toEqual([{ attributes: {}, value: 1 }]);
    await manager.close();
    await hung;
    metrics = await otel.collect();
    expect(metrics.points('flux.token.active_requests')).toEqual([{ attributes: {}, value: 0 }]);
    expect(metrics.total('flux.token.requests', { outcome: 'FLUX_ABORTED' })).toBe(1);
    expect(metrics.total('flux.token.requests')).toBe(manager.stats().endpointCalls.total);
  });

  it('counts a request retried by the endpoint client once, as stats() does', async () => {
    const s = await setup({ request: { retry: 1 } });
    const { manager, emulator, otel } = s;
    instrument(manager, { meterProvider: otel.meterProvider, tracerProvider: otel.tracerProvider });
    emulator.setFault('500', { count: 1 });
    await manager.getToken(ALICE);
    const metrics = await otel.collect();
    expect(emulator.stats().tokenCalls.total).toBe(2);
    expect(manager.stats().endpointCalls.total).toBe(1);
    expect(metrics.points('flux.token.requests')).toEqual([
      { attributes: { grant: 'client_credentials', outcome: 'success', background: false }, value: 1 },
    ]);
    expect(otel.spans()).toHaveLength(1);
  });

  it('sums the managers that report to one meter provider, and undoing one never makes a counter go down', async () => {
    const first = await setup();
    const second = await setup();
    const { otel } = first;
    const undoFirst = instrument(first.manager, { meterProvider: otel.meterProvider, tracerProvider: otel.tracerProvider });
    instrument(second.manager, { meterProvider: otel.meterProvider, tracerProvider: otel.tracerProvider });
    await Promise.all([first.manager.getToken(ALICE), first.manager.getToken(ALICE), first.manager.getToken(BOB)]);
    await second.manager.getToken(ALICE);
    await second.manager.getToken(ALICE);
    let metrics = await otel.collect();
    const lookups = () => Object.fromEntries(metrics.points('flux.token.cache.lookups').map((p) => [p.attributes.result, p.value]));
    expect(lookups()).toEqual({ hit: 1, miss: 3, joined: 1 });
    expect(metrics.total('flux.token.cache.scopes')).toBe(first.manager.stats().cached + second.manager.stats().cached);
    expect(metrics.total('flux.token.requests')).toBe(3);

    undoFirst();
    await first.manager.getToken('carol'); // no longer counted
    await second.manager.getToken(BOB);
    metrics = await otel.collect();
    expect(lookups()).toEqual({ hit: 1, miss: 4, joined: 1 });
    expect(metrics.total('flux.token.cache.scopes')).toBe(second.manager.stats().cached);
    expect(metrics.total('flux.token.requests')).toBe(4);
  });
});

describe('instrument(): traces', () => {
  it('records one client span per token-endpoint request, with grant, outcome, HTTP status and an error status on failure', async () => {
    const s = await setup();
    const { manager, emulator, otel, clock } = s;
    timeRequests(s);
    const ends = recordEvents(manager, 'requestEnd');
    instrument(manager, { meterProvider: otel.meterProvider, tracerProvider: otel.tracerProvider });
    await runScenario(s);
    const spans = otel.spans();
    expect(spans).toHaveLength(manager.stats().endpointCalls.total);
    const port = Number(new URL(emulator.tokenUrl).port);
    const common = { 'http.request.method': 'POST', 'server.address': '127.0.0.1', 'server.port': port };
    const cc = { ...common, 'flux.token.grant': 'client_credentials', 'flux.token.background': false };
    expect(spans.map((span) => span.attributes)).toEqual([
      { ...cc, 'flux.token.outcome': 'success', 'http.response.status_code': 200 },
      { ...cc, 'flux.token.outcome': 'success', 'http.response.status_code': 200 },
      { ...cc, 'flux.token.outcome': 'success', 'http.response.status_code': 200 },
      {
        ...cc,
        'flux.token.outcome': 'FLUX_TOKEN_ENDPOINT',
        'error.type': 'FLUX_TOKEN_ENDPOINT',
        'http.response.status_code': 500,
        'flux.token.oauth_error': 'server_error',
      },
      {
        ...cc,
        'flux.token.outcome': 'FLUX_INVALID_TOKEN_RESPONSE',
        'error.type': 'FLUX_INVALID_TOKEN_RESPONSE',
        'http.response.status_code': 200,
      },
      {
        ...common,
        'flux.token.grant': 'refresh_token',
        'flux.token.background': true,
        'flux.token.outcome': 'success',
        'http.response.status_code': 200,
      },
    ]);
    expect(spans.map((span) => span.status)).toEqual([
      { code: SpanStatusCode.UNSET },
      { code: SpanStatusCode.UNSET },
      { code: SpanStatusCode.UNSET },
      { code: SpanStatusCode.ERROR, message: 'FLUX_TOKEN_ENDPOINT' },
      { code: SpanStatusCode.ERROR, message: 'FLUX_INVALID_TOKEN_RESPONSE' },
      { code: SpanStatusCode.UNSET },
    ]);
    expect(ends).toHaveLength(spans.length);
    // Each request starts at its own instant (the clock moves as one starts): match spans by it.
    for (const span of spans) {
      expect(span.name).toBe('flux.token.request');
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.instrumentationScope.name).toBe('flux-token-manager');
      // Both ends come from the manager's clock, which is years away from the real one.
      const end = ends.find((e) => e.startedAt === hrTimeToMilliseconds(span.startTime));
      expect(end?.outcome).toBe(span.attributes['flux.token.outcome']);
      expect(hrTimeToMilliseconds(span.duration)).toBe(end!.durationMs);
    }
    expect(clock.now()).toBeGreaterThan(Date.now() + 365 * 86_400_000);
  });

  it('each request span starts a trace of its own, even when the first caller has a span active', async () => {
    const { manager, otel } = await setup();
    instrument(manager, { meterProvider: otel.meterProvider, tracerProvider: otel.tracerProvider });
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    try {
      const caller = otel.tracerProvider.getTracer('caller').startSpan('caller');
      await context.with(trace.setSpan(context.active(), caller), async () => {
        // The context manager works: the caller's span is active in here.
        expect(trace.getActiveSpan()).toBe(caller);
        await Promise.all([manager.getToken(ALICE), manager.getToken(ALICE)]);
      });
      caller.end();
      const [request, callerSpan] = otel.spans();
      expect(callerSpan!.name).toBe('caller');
      expect(request!.name).toBe('flux.token.request');
      expect(request!.parentSpanContext).toBeUndefined();
      expect(request!.spanContext().traceId).not.toBe(callerSpan!.spanContext().traceId);
    } finally {
      context.disable();
    }
  });

  it('no attribute of a metric or a span holds a token, the client secret or a user id', async () => {
    const s = await setup();
    const { manager, emulator, otel } = s;
    instrument(manager, { meterProvider: otel.meterProvider, tracerProvider: otel.tracerProvider });
    const tokens = await runScenario(s);
    const text = (await otel.collect()).attributeText() + spanText(otel.spans());
    expect(otel.spans().length).toBeGreaterThan(0);
    const secrets = [emulator.clientSecret, ...tokens.flatMap((t) => [t.accessToken, t.refreshToken!])];
    for (const secret of secrets) expect(text).not.toContain(secret);
    for (const user of [ALICE, BOB, 'carol', 'dave']) expect(text).not.toContain(user);
  });

  it('with recordScope, spans carry the user id; metrics still do not', async () => {
    const s = await setup();
    const { manager, emulator, otel } = s;
    instrument(manager, { meterProvider: otel.meterProvider, tracerProvider: otel.tracerProvider, recordScope: true });
    const tokens = await runScenario(s);
    const spans = otel.spans();
    const scopes = spans.map((span) => span.attributes['flux.token.scope']);
    // Alice's and Bob's first requests run at once and may end in either order.
    expect([...scopes.slice(0, 2)].sort()).toEqual([ALICE, BOB].sort());
    expect(scopes.slice(2)).toEqual([undefined, 'carol', 'dave', ALICE]);
    const metricText = (await otel.collect()).attributeText();
    for (const user of [ALICE, BOB, 'carol', 'dave']) expect(metricText).not.toContain(user);
    const secrets = [emulator.clientSecret, ...tokens.flatMap((t) => [t.accessToken, t.refreshToken!])];
    for (const secret of secrets) expect(spanText(spans) + metricText).not.toContain(secret);
  });
});

describe('instrument(): undo', () => {
  it('the returned function removes every listener and stops every metric and span', async () => {
    const s = await setup();
    const { manager, emulator, otel } = s;
    const listenersBefore = manager.eventNames().map((e) => [e, manager.listenerCount(e)]);
    const undo = instrument(manager, { meterProvider: otel.meterProvider, tracerProvider: otel.tracerProvider });
    expect(manager.listenerCount('requestStart')).toBe(1);
    await manager.getToken(ALICE);
    await manager.getToken(ALICE);
    const before = await otel.collect();
    expect(before.total('flux.token.requests')).toBe(1);
    expect(before.total('flux.token.cache.lookups')).toBe(2);

    undo();
    undo(); // idempotent
    expect(manager.eventNames().map((e) => [e, manager.listenerCount(e)])).toEqual(listenersBefore);
    await manager.getToken(BOB);
    await manager.getToken(BOB);
    emulator.setFault('500', { count: 1 });
    await manager.getToken('carol').catch(() => undefined);
    expect(manager.stats()).toMatchObject({ hits: 2, misses: 3, endpointCalls: { total: 3 } });

    const after = await otel.collect();
    expect(after.total('flux.token.requests')).toBe(1);
    expect(after.histogram('flux.token.request.duration').map((p) => p.count)).toEqual([1]);
    // The observable instruments are no longer observed: the SDK repeats their last values, or drops them.
    for (const name of ['flux.token.cache.lookups', 'flux.token.cache.scopes', 'flux.token.active_requests']) {
      expect([[], before.points(name)]).toContainEqual(after.points(name));
    }
    expect(otel.spans()).toHaveLength(1);
  });

  it('ends the span of a request still running when undone, and ignores its end', async () => {
    const s = await setup();
    const { manager, emulator, otel } = s;
    const undo = instrument(manager, { meterProvider: otel.meterProvider, tracerProvider: otel.tracerProvider });
    emulator.setFault('hang');
    const started = nextEvent(manager, 'requestStart');
    const hung = manager.getToken(ALICE).catch((error: unknown) => error);
    await started;
    expect(otel.spans()).toHaveLength(0);
    undo();
    expect(otel.spans()).toHaveLength(1);
    expect(otel.spans()[0]!.attributes).not.toHaveProperty('flux.token.outcome');
    await manager.close();
    await hung;
    expect(otel.spans()).toHaveLength(1);
    expect((await otel.collect()).total('flux.token.requests')).toBe(0);
  });
});
