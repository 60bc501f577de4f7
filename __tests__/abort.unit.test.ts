import { getEventListeners } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import { whenAborted } from '../lib/shared/abort.js';

describe('whenAborted', () => {
  it('adds one listener to a signal however many waits listen, runs each remaining callback once on abort, none forgotten', () => {
    const controller = new AbortController();
    const ran: number[] = [];
    const forgets = Array.from({ length: 1000 }, (_, i) => whenAborted(controller.signal, () => ran.push(i)));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    for (const forget of forgets.slice(0, 990)) forget();
    controller.abort();
    controller.abort();
    expect(ran).toEqual([990, 991, 992, 993, 994, 995, 996, 997, 998, 999]);
  });

  it('runs the callback at once on a signal already aborted, and does nothing without a signal', () => {
    let ran = 0;
    whenAborted(AbortSignal.abort(), () => ran++);
    whenAborted(undefined, () => ran++)();
    expect(ran).toBe(1);
  });
});
