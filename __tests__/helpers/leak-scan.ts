/**
 * The leak scan's eyes: every printed form of what a run produced, and everything written to the
 * console or to stdout/stderr meanwhile, searched for the marker that the client secret and every
 * token carry (see marker-proxy.ts).
 */
import { jest } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import type { Capture } from './fault-matrix.js';
import { MARK } from './marker-proxy.js';
import { hostProcess } from './reliability.js';

/** The library's sources: a write whose stack passes through them was made by the library. */
const LIB_DIR = fileURLToPath(new URL('../../lib/', import.meta.url));

/** The printed forms of an error and of every error down its `cause` chain. */
export function errorForms(error: unknown): string[] {
  const forms: string[] = [];
  const seen = new Set<unknown>();
  for (let current = error; current !== undefined && current !== null && !seen.has(current); ) {
    seen.add(current);
    forms.push(inspect(current, { depth: Infinity }), JSON.stringify(current) ?? '', String(current));
    if (current instanceof Error) {
      forms.push(current.message, current.stack ?? '');
      current = current.cause;
    } else {
      current = undefined;
    }
  }
  return forms;
}

/** The printed forms of a plain value (an event payload, stats, a token). */
export function valueForms(value: unknown): string[] {
  return [inspect(value, { depth: Infinity }), JSON.stringify(value) ?? ''];
}

/** Every printed form of what `capture` holds. */
export function captureForms(capture: Capture): string[] {
  return [...capture.errors.flatMap(errorForms), ...capture.values.flatMap(valueForms), ...capture.texts];
}

/** The forms that hold the marker (raw or form-encoded), each cut to the part around it. */
export function leaksIn(forms: readonly string[]): string[] {
  const found: string[] = [];
  for (const form of forms) {
    const at = form.toUpperCase().indexOf(MARK);
    if (at >= 0) found.push(`…${form.slice(Math.max(0, at - 120), at + 60)}…`);
  }
  return found;
}

/** One call to a console method or one write to stdout/stderr. */
export interface Output {
  channel: string;
  text: string;
  /** Whether the call came from the library's code. */
  fromLibrary: boolean;
}

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'table'] as const;

/**
 * Records every console call and every stdout/stderr write (of jest's process copy and of the real
 * process), passing writes through, until `restore()`.
 */
export function recordOutput(): { outputs: Output[]; restore: () => void } {
  const outputs: Output[] = [];
  const restores: (() => void)[] = [];
  const fromLibrary = () => (new Error().stack ?? '').includes(LIB_DIR);

  for (const method of CONSOLE_METHODS) {
    const spy = jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      outputs.push({ channel: `console.${method}`, text: args.map((a) => inspect(a, { depth: Infinity })).join(' '), fromLibrary: fromLibrary() });
    });
    restores.push(() => spy.mockRestore());
  }
  const streams = new Set<NodeJS.WriteStream>([process.stdout, process.stderr, hostProcess.stdout, hostProcess.stderr]);
  for (const stream of streams) {
    const original = stream.write;
    const channel = stream === process.stdout || stream === hostProcess.stdout ? 'stdout' : 'stderr';
    stream.write = function write(this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      outputs.push({ channel, text: typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'), fromLibrary: fromLibrary() });
      return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof stream.write;
    restores.push(() => {
      stream.write = original;
    });
  }
  return { outputs, restore: () => restores.forEach((restore) => restore()) };
}
