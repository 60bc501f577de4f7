// The README's list of entry points is the package's: every entry of package.json `exports` is
// named there, and nothing else is.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';

const root = new URL('..', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { name: string; exports: Record<string, unknown> };
const readme = readFileSync(new URL('README.md', root), 'utf8');

describe('README.md', () => {
  it('names every entry point of package.json, in its list of entry points', () => {
    const list = /Entry points: ([\s\S]*?)\.\n/.exec(readme)?.[1] ?? '';
    const named = [...list.matchAll(/`([^`]+)`/g)].map((m) => m[1]).sort();
    const entries = Object.keys(pkg.exports)
      .filter((entry) => entry !== './package.json')
      .map((entry) => (entry === '.' ? pkg.name : `${pkg.name}${entry.slice(1)}`))
      .sort();
    expect(named).toEqual(entries);
  });
});
