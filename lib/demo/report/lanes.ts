/**
 * The user lanes: one row per shown user, each token a bar from issue to expiry with its refresh
 * window and margin shaded, a mark where it arrived (shape: foreground or background; colour: grant),
 * and a cross where one of the user's token requests failed. Above them, a strip with every answer
 * of the token endpoint. With many users, an evenly spaced sample of them is shown.
 */
import type { FailureMark, TimelineData, TokenSpan } from './timeline-data.js';
import { seconds, type Frame } from './frame.js';
import { el, text, tooltip } from './svg.js';

/** The colours of the lanes, also used by the legend. */
export const LANE_COLORS = {
  served: '#9ccc9c',
  window: '#f2c14e',
  margin: '#e07a5f',
  client_credentials: '#7b3fa0',
  refresh_token: '#1f6fb2',
  store: '#555555',
  failure: '#c62828',
  callOk: '#9e9e9e',
} as const;

/** How much of a replaced token's bar is washed out (white over it) after its replacement. */
export const FADE_OPACITY = 0.65;

/** Height of one lane, in px. */
export const LANE_HEIGHT = 24;
/** Height of the strip of token-endpoint answers above the lanes. */
export const STRIP_HEIGHT = 26;
/** The most lanes drawn; beyond that, a sample. */
export const MAX_LANES = 16;

/** Which users get a lane, and the sentence that says so on the page. */
export interface LaneChoice {
  shown: string[];
  note: string;
}

/** Every user up to `max`; beyond that, `max` users evenly spaced in natural order of their ids. */
export function chooseLanes(users: readonly string[], max = MAX_LANES): LaneChoice {
  if (users.length <= max) {
    return { shown: [...users], note: `One lane per user: all ${users.length} users are shown.` };
  }
  const shown = Array.from({ length: max }, (_, i) => users[Math.floor((i * users.length) / max)]!);
  return {
    shown,
    note:
      `A sample of ${max} of the ${users.length} users is shown, evenly spaced by user id ` +
      `(${shown.slice(0, 3).join(', ')}, …). The token-endpoint strip, the charts and the summary count all users.`,
  };
}

function marker(x: number, y: number, token: TokenSpan): string {
  const fill = LANE_COLORS[token.grant];
  // A circle: nobody waited (background). A diamond: a caller waited for this token (foreground).
  return token.background
    ? el('circle', { cx: x, cy: y, r: 3.6, fill, stroke: '#fff', 'stroke-width': 1 })
    : el('path', { d: `M${x - 4.5} ${y}L${x} ${y - 4.5}L${x + 4.5} ${y}L${x} ${y + 4.5}Z`, fill, stroke: '#fff', 'stroke-width': 1 });
}

function tokenBar(frame: Frame, token: TokenSpan, y: number, height: number): string {
  const { x } = frame;
  const rect = (from: number, to: number, fill: string, cls: string) =>
    el('rect', { class: cls, x: x(from), y, width: Math.max(0.5, x(to) - x(from)), height, fill });
  const parts = [
    tooltip(`${token.scope}: ${token.grant}, ${token.background ? 'background' : 'foreground'}, issued at ${seconds(token.issuedAt)}, expires at ${seconds(token.expiresAt)}`),
    rect(token.issuedAt, token.windowStart, LANE_COLORS.served, 'served'),
    rect(token.windowStart, token.marginStart, LANE_COLORS.window, 'window'),
    rect(token.marginStart, token.expiresAt, LANE_COLORS.margin, 'margin'),
  ];
  // Once replaced, the rest of its life is faded: it is no longer handed out.
  if (token.replacedAt !== undefined && token.replacedAt < token.expiresAt) {
    parts.push(el('rect', { x: x(token.replacedAt), y, width: x(token.expiresAt) - x(token.replacedAt), height, fill: '#fff', 'fill-opacity': FADE_OPACITY }));
  }
  parts.push(marker(x(token.issuedAt), y + height / 2, token));
  return el('g', { class: 'token', 'data-grant': token.grant, 'data-background': String(token.background) }, parts);
}

function failureCross(frame: Frame, failure: FailureMark, cy: number): string {
  const cx = frame.x(failure.at);
  const d = 4;
  return el('g', { class: 'failure', stroke: LANE_COLORS.failure, 'stroke-width': 2 }, [
    tooltip(`${failure.scope}: ${failure.grant} request failed (${failure.code}), ${failure.background ? 'background' : 'foreground'}; next: ${failure.next}`),
    el('path', { d: `M${cx - d} ${cy - d}L${cx + d} ${cy + d}M${cx - d} ${cy + d}L${cx + d} ${cy - d}` }),
  ]);
}

/** The strip of token-endpoint answers: a short grey tick per success, a tall red one per failure. */
export function drawTokenCallStrip(data: TimelineData, frame: Frame, top: number): string {
  const mid = top + STRIP_HEIGHT / 2;
  const ticks = data.tokenCalls.map((call) => {
    const ok = call.status >= 200 && call.status < 300;
    const h = ok ? 5 : 10;
    return el('line', {
      class: ok ? 'call-ok' : 'call-failed',
      x1: frame.x(call.at),
      x2: frame.x(call.at),
      y1: mid - h,
      y2: mid + h,
      stroke: ok ? LANE_COLORS.callOk : LANE_COLORS.failure,
      'stroke-width': ok ? 1 : 1.6,
    });
  });
  return el('g', { class: 'token-calls' }, [
    text(frame.left - 8, mid + 4, 'token endpoint', { 'text-anchor': 'end', class: 'label' }),
    el('line', { x1: frame.left, x2: frame.right, y1: mid, y2: mid, stroke: '#ddd' }),
    ...ticks,
  ]);
}

/** The lanes of the `shown` users, from `top`; returns the markup and its height. */
export function drawLanes(data: TimelineData, shown: readonly string[], frame: Frame, top: number): { svg: string; height: number } {
  const lanes = shown.map((user, i) => {
    const y = top + i * LANE_HEIGHT;
    const tokens = data.tokens.filter((t) => t.scope === user);
    const row = (k: number) => y + 3 + (k % 2) * 10; // alternate rows, so that overlapping tokens both show
    return el('g', { class: 'lane', 'data-user': user }, [
      el('rect', { x: frame.left, y, width: frame.right - frame.left, height: LANE_HEIGHT, fill: i % 2 ? '#fafafa' : '#f2f2f2' }),
      text(frame.left - 8, y + LANE_HEIGHT / 2 + 4, user, { 'text-anchor': 'end', class: 'label' }),
      ...tokens.map((token, k) => tokenBar(frame, token, row(k), 8)),
      ...data.failures.filter((f) => f.scope === user).map((f) => failureCross(frame, f, y + LANE_HEIGHT / 2)),
    ]);
  });
  return { svg: el('g', { class: 'lanes' }, lanes), height: shown.length * LANE_HEIGHT };
}
