/**
 * The report's one SVG, top to bottom: the legend, the time axis, the strip of token-endpoint
 * answers, the user lanes, requests per second and the `getToken` waits, all on one time axis, with
 * the outage drawn as a band across all of them.
 */
import { drawRequestsChart, drawWaitChart, REQUESTS_CHART_HEIGHT, WAIT_CHART_HEIGHT } from './charts.js';
import { seconds, timeFrame, type Frame } from './frame.js';
import { drawLanes, drawTokenCallStrip, LANE_COLORS, STRIP_HEIGHT } from './lanes.js';
import { drawLegend, LEGEND_HEIGHT } from './legend.js';
import { el, text } from './svg.js';
import type { TimelineData } from './timeline-data.js';

/** Room above each chart for its title. */
const CHART_GAP = 40;

function timeAxis(frame: Frame, top: number, bottom: number): string {
  return el(
    'g',
    { class: 'axis' },
    frame.ticks.flatMap((t) => [
      el('line', { x1: frame.x(t), x2: frame.x(t), y1: top, y2: bottom, stroke: '#e0e0e0' }),
      text(frame.x(t), top - 5, seconds(t), { 'text-anchor': 'middle', class: 'tick' }),
      text(frame.x(t), bottom + 14, seconds(t), { 'text-anchor': 'middle', class: 'tick' }),
    ]),
  );
}

/** The outages, drawn over the lanes and charts (translucent), and the end of the run. */
function overlays(data: TimelineData, frame: Frame, top: number, bottom: number): string {
  const end = frame.x(data.runEndsAt);
  const runEnd = el('g', { class: 'run-end' }, [
    el('line', { x1: end, x2: end, y1: top, y2: bottom, stroke: '#555', 'stroke-dasharray': '4 3' }),
    text(end + 4, bottom - 4, 'workers stop', { class: 'tick' }),
  ]);
  const bands = data.outages.map((o) =>
      el('g', { class: 'outage' }, [
        el('rect', { x: frame.x(o.from), y: top, width: Math.max(1, frame.x(o.to) - frame.x(o.from)), height: bottom - top, fill: LANE_COLORS.failure, 'fill-opacity': 0.1 }),
        text(frame.x(o.from) + 4, top + 11, `token endpoint down (${seconds(o.to - o.from)})`, { class: 'outage-label' }),
      ]),
  );
  return el('g', { class: 'outages' }, [...bands, runEnd]);
}

/** The SVG of a run, with a lane for each of the `shown` users. */
export function timelineSvg(data: TimelineData, shown: readonly string[]): string {
  const frame = timeFrame(data.endsAt);
  const axisTop = LEGEND_HEIGHT + 24;
  const stripTop = axisTop + 14;
  const lanesTop = stripTop + STRIP_HEIGHT;
  const lanes = drawLanes(data, shown, frame, lanesTop);
  const requestsTop = lanesTop + lanes.height + CHART_GAP;
  const waitsTop = requestsTop + REQUESTS_CHART_HEIGHT + CHART_GAP;
  const bottom = waitsTop + WAIT_CHART_HEIGHT;
  const height = bottom + 24;
  return el(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      class: 'timeline',
      viewBox: `0 0 ${frame.width} ${height}`,
      width: frame.width,
      height,
      role: 'img',
      'aria-label': 'Token timeline of the demo run',
    },
    [
      drawLegend(frame.left, 8),
      timeAxis(frame, axisTop, bottom),
      drawTokenCallStrip(data, frame, stripTop),
      lanes.svg,
      drawRequestsChart(data, frame, requestsTop),
      drawWaitChart(data, frame, waitsTop),
      overlays(data, frame, axisTop, bottom),
    ],
  );
}
