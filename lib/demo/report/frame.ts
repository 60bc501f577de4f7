/**
 * The geometry the report's parts share: one time axis, in ms since the start of the run, mapped
 * onto the same x range for the lanes and for the charts below them.
 */
import { linear, niceStep } from './svg.js';

/** The shared horizontal geometry of the report's SVG. */
export interface Frame {
  /** Width of the whole SVG, in px. */
  width: number;
  /** x of the time axis's zero (the gutter on the left holds the labels). */
  left: number;
  /** x of the end of the time axis. */
  right: number;
  /** Maps ms since the start of the run to x. */
  x: (ms: number) => number;
  /** The ticks of the time axis, in ms. */
  ticks: number[];
}

/** Lays out a time axis from 0 to `endsAt` ms. */
export function timeFrame(endsAt: number, width = 1200, gutter = 118): Frame {
  const left = gutter;
  const right = width - 24;
  const end = Math.max(endsAt, 1000);
  const step = niceStep(end, 16);
  const ticks: number[] = [];
  for (let t = 0; t <= end + 1e-6; t += step) ticks.push(t);
  return { width, left, right, x: linear(0, end, left, right), ticks };
}

/** "12 s", "1.5 s": a time on the axis. */
export function seconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
