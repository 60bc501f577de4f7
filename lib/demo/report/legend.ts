/**
 * The legend of the report's SVG: what each colour and shape means, in one row above the lanes.
 */
import { WAIT_COLORS } from './charts.js';
import { FADE_OPACITY, LANE_COLORS } from './lanes.js';
import { el, text } from './svg.js';

/** Height of the legend, in px. */
export const LEGEND_HEIGHT = 64;
/** Height of one row of the legend. */
const LEGEND_ROW = 20;

/** The average width of a character of the legend's 12 px text, to space its items. */
const LEGEND_CHAR_WIDTH = 7;

type Swatch = (x: number, y: number) => string;

const box =
  (fill: string): Swatch =>
  (x, y) =>
    el('rect', { x, y: y - 5, width: 16, height: 9, fill });
const circle =
  (fill: string): Swatch =>
  (x, y) =>
    el('circle', { cx: x + 8, cy: y, r: 4, fill });
const diamond =
  (fill: string): Swatch =>
  (x, y) =>
    el('path', { d: `M${x + 3} ${y}L${x + 8} ${y - 5}L${x + 13} ${y}L${x + 8} ${y + 5}Z`, fill });
const line =
  (stroke: string, width = 2): Swatch =>
  (x, y) =>
    el('line', { x1: x, x2: x + 16, y1: y, y2: y, stroke, 'stroke-width': width });
const cross: Swatch = (x, y) =>
  el('path', { d: `M${x + 4} ${y - 4}L${x + 12} ${y + 4}M${x + 4} ${y + 4}L${x + 12} ${y - 4}`, stroke: LANE_COLORS.failure, 'stroke-width': 2 });
const band: Swatch = (x, y) => el('rect', { x, y: y - 7, width: 16, height: 14, fill: LANE_COLORS.failure, 'fill-opacity': 0.12 });

const faded: Swatch = (x, y) =>
  box(LANE_COLORS.served)(x, y) + el('rect', { x, y: y - 5, width: 16, height: 9, fill: '#fff', 'fill-opacity': FADE_OPACITY });

const ROWS: [string, [Swatch, string][]][] = [
  [
    'token bars',
    [
      [box(LANE_COLORS.served), 'served'],
      [box(LANE_COLORS.window), 'refresh window'],
      [box(LANE_COLORS.margin), 'margin: no longer served'],
      [faded, 'after its replacement'],
    ],
  ],
  [
    'marks',
    [
      [circle('#555'), 'new token, in the background'],
      [diamond('#555'), 'new token, a caller waited'],
      [box(LANE_COLORS.client_credentials), 'client_credentials grant'],
      [box(LANE_COLORS.refresh_token), 'refresh_token grant'],
      [cross, 'token request failed'],
    ],
  ],
  [
    'endpoint, charts',
    [
      [band, 'token endpoint down'],
      [line(LANE_COLORS.callOk, 1), 'answer ok'],
      [line(LANE_COLORS.failure, 2), 'answer failed'],
      [line(WAIT_COLORS.p50), 'wait p50'],
      [line(WAIT_COLORS.p99), 'wait p99'],
      [line(WAIT_COLORS.max), 'wait max'],
    ],
  ],
];

/** The legend: a row per kind of thing, its name in the gutter left of `left`. */
export function drawLegend(left: number, top: number): string {
  const items = ROWS.flatMap(([heading, row], r) => {
    const y = top + 10 + r * LEGEND_ROW;
    let x = left;
    const cells = row.map(([swatch, label]) => {
      const item = swatch(x, y) + text(x + 22, y + 4, label, { class: 'legend' });
      x += 22 + label.length * LEGEND_CHAR_WIDTH + 24;
      return item;
    });
    return [text(left - 8, y + 4, heading, { 'text-anchor': 'end', class: 'label' }), ...cells];
  });
  return el('g', { class: 'legend' }, items);
}
