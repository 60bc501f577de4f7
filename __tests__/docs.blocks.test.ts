// Every ```ts block of README.md and docs/*.md type-checks under `strict` (NodeNext), as a user who
// pastes it into a project with the package installed would have it checked. All blocks form one
// TypeScript program, so the whole check costs one compile.
//
// Each block is a module of its own, and may use what the reader's program already has without
// declaring it: its credentials and `tokenUrl`, `userId`, `log`, a `tokens` manager, a `redis`
// client, an `app` and OpenTelemetry exporters (see CONTEXT in helpers/doc-blocks.ts). A block that
// is deliberately not a full program (an excerpt, a signature) is marked on its fence as
// ```ts fragment, and is then left out.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { extractBlocks, typeCheckBlocks, type DocBlock } from './helpers/doc-blocks.js';

const ROOT = process.cwd();
const FILES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
const ALL = FILES.flatMap((file) => extractBlocks(file, readFileSync(join(ROOT, file), 'utf8')));
const CHECKED = ALL.filter((block) => !block.info.includes('fragment'));

/** The fleet example as it once was: REDIS_URL may be undefined, which ioredis's constructor refuses. */
const BROKEN: DocBlock = {
  file: 'broken-example.md',
  line: 10,
  info: [],
  code: "import { Redis } from 'ioredis';\nconst redis = new Redis(process.env.REDIS_URL);\nawait redis.quit();",
};

// One compile for everything: the documentation's blocks, and a broken one that proves the check fails.
const PROBLEMS = typeCheckBlocks(ROOT, [...CHECKED, BROKEN]);

describe('the TypeScript blocks of the documentation', () => {
  it('are found in README.md and docs/', () => {
    expect(CHECKED.length).toBeGreaterThan(0);
    expect(CHECKED.some((block) => block.file === 'README.md')).toBe(true);
    expect(CHECKED.some((block) => block.file.startsWith('docs/'))).toBe(true);
  });

  it('type-check under strict, as one program', () => {
    const problems = PROBLEMS.filter((d) => !d.where.startsWith(`${BROKEN.file}:`)).map((d) => `${d.where}: ${d.message}`);
    expect(problems).toEqual([]);
  });

  it('would catch a block that does not type-check, at its line in the Markdown', () => {
    const problems = PROBLEMS.filter((d) => d.where.startsWith(`${BROKEN.file}:`));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.where).toBe(`${BROKEN.file}:12`);
    expect(problems[0]!.message).toMatch(/undefined/);
  });
});
