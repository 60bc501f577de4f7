// The data behind `flux-token demo --report`: what the timeline recorder keeps from the manager's
// events and the demo's calls, on an injected clock, and how the SVG and the lane sample use it.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import { TokenRequestError } from '../lib/shared/errors.js';
import type { RefreshFailedEvent, TokenEvent } from '../lib/manager/manager-events.js';
import { chooseLanes } from '../lib/demo/report/lanes.js';
import { TimelineRecorder } from '../lib/demo/report/timeline-data.js';
import { timelineSvg } from '../lib/demo/report/timeline-svg.js';

const T0 = 1_700_000_000_000;

function clockedRecorder(options: ConstructorParameters<typeof TimelineRecorder>[0] = {}) {
  let now = T0;
  const recorder = new TimelineRecorder({ ...options, now: () => now });
  recorder.start();
  return { recorder, at: (ms: number) => (now = T0 + ms) };
}

function tokenEvent(scope: string | undefined, expiresAt: number, extra: Partial<TokenEvent> = {}): TokenEvent {
  return { scope, grant: 'refresh_token', background: true, expiresIn: 5, expiresAt, ...extra };
}

function count(markup: string, pattern: RegExp): number {
  return markup.match(new RegExp(pattern, 'g'))?.length ?? 0;
}

describe('the timeline recorder', () => {
  it('gives its data for any number of entries: 300,000 token calls, failures and tokens', () => {
    const { recorder, at } = clockedRecorder();
    const entries = 300_000;
    for (let i = 0; i < entries; i += 1) {
      at(i);
      recorder.tokenCall(200);
      recorder.token(tokenEvent(`user-${i % 100}`, T0 + i + 5_000));
    }
    at(entries + 10);
    recorder.refreshFailed({ scope: 'user-1', grant: 'refresh_token', background: true, error: new TokenRequestError('network', 'down'), next: 'give-up' });

    const data = recorder.data();
    expect(data.tokenCalls).toHaveLength(entries);
    expect(data.tokens).toHaveLength(entries);
    expect(data.endsAt).toBe(entries - 1 + 5_000);
  });

  it("draws each token from issue to expiry, with the manager's refresh window and margin", () => {
    const { recorder, at } = clockedRecorder();
    at(100);
    recorder.token(tokenEvent('user-1', T0 + 5_100, { grant: 'client_credentials', background: false }));
    at(3_950);
    recorder.token(tokenEvent('user-1', T0 + 8_950));
    const { tokens } = recorder.data();
    // A 5 s token: window 25% of the lifetime (1.25 s), margin 10% (0.5 s).
    expect(tokens).toEqual([
      { scope: 'user-1', grant: 'client_credentials', background: false, issuedAt: 100, windowStart: 3_850, marginStart: 4_600, expiresAt: 5_100, replacedAt: 3_950 },
      { scope: 'user-1', grant: 'refresh_token', background: true, issuedAt: 3_950, windowStart: 7_700, marginStart: 8_450, expiresAt: 8_950 },
    ]);
  });

  it('caps the window and margin at the policy for long-lived tokens', () => {
    const { recorder } = clockedRecorder({ policy: { refreshWindowMs: 60_000, expiryMarginMs: 10_000 } });
    recorder.token(tokenEvent(undefined, T0 + 3_600_000, { expiresIn: 3600 }));
    expect(recorder.data().tokens[0]).toMatchObject({ scope: '*', issuedAt: 0, windowStart: 3_540_000, marginStart: 3_590_000 });
  });

  it("listens to a manager's token and refreshFailed events until detached, and keeps only the error's code", () => {
    const { recorder, at } = clockedRecorder();
    const manager = new EventEmitter();
    const detach = recorder.attach(manager);
    at(1_000);
    manager.emit('token', tokenEvent('user-2', T0 + 6_000));
    at(1_500);
    const error = new TokenRequestError('network', 'The token endpoint could not be reached (marker-7f3a)');
    const failed: RefreshFailedEvent = { scope: 'user-2', grant: 'refresh_token', background: true, error, next: 'retry', retryAt: T0 + 2_000 };
    manager.emit('refreshFailed', failed);
    detach();
    manager.emit('token', tokenEvent('user-3', T0 + 7_000));
    manager.emit('refreshFailed', { ...failed, scope: 'user-3' });

    const data = recorder.data();
    expect(data.tokens.map((t) => t.scope)).toEqual(['user-2']);
    expect(data.failures).toEqual([{ scope: 'user-2', at: 1_500, grant: 'refresh_token', background: true, next: 'retry', code: 'FLUX_TOKEN_REQUEST' }]);
    expect(JSON.stringify(data)).not.toContain('marker-7f3a');
    expect(manager.listenerCount('token') + manager.listenerCount('refreshFailed')).toBe(0);
  });

  it('counts requests and getToken waits per second, with p50, p99 and max', () => {
    const { recorder, at } = clockedRecorder();
    at(200);
    recorder.request(true);
    recorder.tokenWait(0.5);
    at(1_999);
    recorder.request(true);
    recorder.request(false);
    for (const ms of [2, 4, 100]) recorder.tokenWait(ms);
    at(3_000);
    recorder.request(true);
    const { seconds } = recorder.data();
    expect(seconds).toEqual([
      { second: 0, requests: 1, failed: 0, waits: 1, waitP50: 0.5, waitP99: 0.5, waitMax: 0.5 },
      { second: 1, requests: 2, failed: 1, waits: 3, waitP50: 4, waitP99: 100, waitMax: 100 },
      { second: 2, requests: 0, failed: 0, waits: 0, waitP50: 0, waitP99: 0, waitMax: 0 },
      { second: 3, requests: 1, failed: 0, waits: 0, waitP50: 0, waitP99: 0, waitMax: 0 },
    ]);
  });

  it('records the outage, the token-endpoint answers, and where the run and the axis end', () => {
    const { recorder, at } = clockedRecorder();
    at(2_000);
    recorder.outage(true);
    at(2_100);
    recorder.outage(true); // already down: no second band
    recorder.tokenCall(500);
    at(2_400);
    recorder.tokenCall(0);
    at(4_000);
    recorder.outage(false);
    recorder.tokenCall(200);
    recorder.token(tokenEvent('user-1', T0 + 9_000));
    at(5_000);
    recorder.outage(true);
    at(6_000);
    recorder.finish(); // closes the open outage
    const data = recorder.data();
    expect(data.outages).toEqual([
      { from: 2_000, to: 4_000 },
      { from: 5_000, to: 6_000 },
    ]);
    expect(data.tokenCalls).toEqual([
      { at: 2_100, status: 500 },
      { at: 2_400, status: 0 },
      { at: 4_000, status: 200 },
    ]);
    expect(data.runEndsAt).toBe(6_000);
    expect(data.endsAt).toBe(9_000);
  });

  it('lists users in natural order of their ids', () => {
    const { recorder } = clockedRecorder();
    for (const user of ['user-10', 'user-2', 'user-1', 'user-2']) recorder.token(tokenEvent(user, T0 + 5_000));
    expect(recorder.data().users).toEqual(['user-1', 'user-2', 'user-10']);
  });

  it('refuses to record before start()', () => {
    const recorder = new TimelineRecorder({ now: () => T0 });
    expect(() => recorder.request(true)).toThrow('call start() before recording');
  });
});

describe('the lanes', () => {
  const users = Array.from({ length: 50 }, (_, i) => `user-${i}`);

  it('shows every user up to the limit, and says so', () => {
    const choice = chooseLanes(users.slice(0, 5), 16);
    expect(choice.shown).toEqual(users.slice(0, 5));
    expect(choice.note).toContain('all 5 users');
  });

  it('shows an evenly spaced sample beyond the limit, and says which', () => {
    const choice = chooseLanes(users, 16);
    expect(choice.shown).toHaveLength(16);
    expect(new Set(choice.shown).size).toBe(16);
    expect(choice.shown.slice(0, 3)).toEqual(['user-0', 'user-3', 'user-6']);
    expect(choice.shown.at(-1)).toBe('user-46');
    expect(choice.note).toContain('A sample of 16 of the 50 users');
    expect(choice.note).toContain('user-0, user-3, user-6');
  });

  it('draws one lane per shown user, a bar per token in its lane, and escapes user ids', () => {
    const { recorder, at } = clockedRecorder();
    const hostile = '<script>alert(1)</script>';
    recorder.token(tokenEvent('user-1', T0 + 5_000));
    recorder.token(tokenEvent(hostile, T0 + 5_000));
    at(3_800);
    recorder.token(tokenEvent('user-1', T0 + 8_800));
    recorder.token(tokenEvent('user-9', T0 + 8_800));
    const svg = timelineSvg(recorder.data(), ['user-1', hostile]);
    expect(count(svg, /<g class="lane"/)).toBe(2);
    expect(count(svg, /<g class="token"/)).toBe(3);
    const lanes = svg.split('<g class="lane"').slice(1);
    expect(count(lanes[0]!, /<g class="token"/)).toBe(2);
    expect(count(lanes[1]!, /<g class="token"/)).toBe(1);
    expect(svg).not.toContain('<script');
    expect(svg).toContain('&#60;script&#62;');
  });
});
