/**
 * The charts below the lanes, on the same time axis: requests per second (failed ones in red), and
 * the time callers waited in `getToken` per second (p50, p99 and max), on a log scale because a
 * cache hit takes microseconds and a wait through the outage takes seconds.
 */
import type { SecondStats, TimelineData } from './timeline-data.js';
import type { Frame } from './frame.js';
import { el, linear, niceStep, num, text, tooltip } from './svg.js';

/** The colours of the wait lines, also used by the legend. */
export const WAIT_COLORS = { p50: '#1f6fb2', p99: '#ef8a17', max: '#c62828' } as const;
/** Colour of the requests-per-second bars. */
export const REQUEST_COLOR = '#8fb8de';

/** Heights of the two charts, in px. */
export const REQUESTS_CHART_HEIGHT = 110;
export const WAIT_CHART_HEIGHT = 150;

/** The smallest wait drawn (ms): below it, a wait is drawn on the axis. */
const WAIT_FLOOR_MS = 0.01;

/** The chart's title, above its top left corner. */
function title(frame: Frame, top: number, content: string): string {
  return text(frame.left, top - 8, content, { class: 'title' });
}

/** Requests per second, a bar per second; returns the markup. */
export function drawRequestsChart(data: TimelineData, frame: Frame, top: number): string {
  const height = REQUESTS_CHART_HEIGHT;
  const peak = data.seconds.reduce((max, s) => Math.max(max, s.requests), 1);
  const step = Math.max(1, niceStep(peak, 4)); // whole requests
  const yMax = Math.ceil(peak / step) * step;
  const y = linear(0, yMax, top + height, top);
  const grid: string[] = [];
  for (let v = 0; v <= yMax; v += step) {
    grid.push(el('line', { x1: frame.left, x2: frame.right, y1: y(v), y2: y(v), stroke: '#e6e6e6' }));
    grid.push(text(frame.left - 4, y(v) + 3, String(v), { 'text-anchor': 'end', class: 'tick' }));
  }
  const bars = data.seconds.map((s) => {
    const x0 = frame.x(s.second * 1000) + 1;
    const w = Math.max(1, frame.x((s.second + 1) * 1000) - frame.x(s.second * 1000) - 2);
    return el('g', { class: 'rps' }, [
      tooltip(`${s.second}–${s.second + 1} s: ${s.requests} requests, ${s.failed} failed`),
      el('rect', { x: x0, y: y(s.requests), width: w, height: y(0) - y(s.requests), fill: REQUEST_COLOR }),
      s.failed > 0 ? el('rect', { x: x0, y: y(s.failed), width: w, height: y(0) - y(s.failed), fill: WAIT_COLORS.max }) : '',
    ]);
  });
  return el('g', { class: 'chart requests' }, [
    title(frame, top, 'Requests per second (failed ones in red)'),
    ...grid,
    ...bars,
  ]);
}

/** A step line through one value per second. */
function stepPath(seconds: SecondStats[], frame: Frame, y: (ms: number) => number, pick: (s: SecondStats) => number): string {
  const points = seconds.filter((s) => s.waits > 0);
  return points
    .map((s) => {
      const v = y(Math.max(WAIT_FLOOR_MS, pick(s)));
      return `M${num(frame.x(s.second * 1000))} ${num(v)}H${num(frame.x((s.second + 1) * 1000))}`;
    })
    .join('');
}

/** `getToken` wait per second, p50 / p99 / max, log scale; returns the markup. */
export function drawWaitChart(data: TimelineData, frame: Frame, top: number): string {
  const height = WAIT_CHART_HEIGHT;
  const peak = data.seconds.reduce((max, s) => Math.max(max, s.waitMax), 1);
  const decades = Math.ceil(Math.log10(peak));
  const lo = Math.log10(WAIT_FLOOR_MS);
  const toY = linear(lo, decades, top + height, top);
  const y = (ms: number) => toY(Math.log10(ms));
  const grid: string[] = [];
  for (let d = lo; d <= decades; d++) {
    const ms = 10 ** d;
    grid.push(el('line', { x1: frame.left, x2: frame.right, y1: y(ms), y2: y(ms), stroke: '#e6e6e6' }));
    const label = ms >= 1000 ? `${ms / 1000} s` : `${ms >= 1 ? ms : ms.toFixed(-d)} ms`;
    grid.push(text(frame.left - 4, y(ms) + 3, label, { 'text-anchor': 'end', class: 'tick' }));
  }
  const lines = (['p50', 'p99', 'max'] as const).map((key) => {
    const pick = (s: SecondStats) => (key === 'p50' ? s.waitP50 : key === 'p99' ? s.waitP99 : s.waitMax);
    return el('path', { class: `wait-${key}`, d: stepPath(data.seconds, frame, y, pick), fill: 'none', stroke: WAIT_COLORS[key], 'stroke-width': 2 });
  });
  return el('g', { class: 'chart waits' }, [title(frame, top, 'getToken wait, by the second the call returned: p50, p99 and max (log scale)'), ...grid, ...lines]);
}
