/**
 * Child processes that keep the cores busy (a tight loop each): for tests whose promise must hold
 * on a loaded machine, and for bench figures taken on one. Each stops by itself after `maxMs`
 * whatever happens to the test, and `stop()` kills them sooner.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface CpuBurners {
  stop(): void;
}

export function burnCpus(count: number, maxMs: number): CpuBurners {
  const loop = `const end = Date.now() + ${Math.round(maxMs)}; while (Date.now() < end) {}`;
  const children: ChildProcess[] = Array.from({ length: count }, () => spawn(process.execPath, ['-e', loop], { stdio: 'ignore' }));
  return {
    stop: () => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
