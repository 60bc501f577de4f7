// The package's entry points are the committed files in lib/entries/ (written by
// .ci/entry-guards.mjs): each checks that dist/ is built, then loads it. An install whose `prepare`
// never ran (`--ignore-scripts`) thus fails at import with a message saying what to do, not
// ERR_MODULE_NOT_FOUND; .ci/test-install.mjs checks that with a real git install.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';

const ROOT = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, string | Record<string, string>>;
  bin: Record<string, string>;
};
const ENTRIES = Object.entries(pkg.exports).filter(([entry]) => entry !== './package.json') as [string, Record<string, string>][];
const REGENERATE = 'run `npm run build && node .ci/entry-guards.mjs`';

/** The names an import entry file re-exports (`export const { a, b } = built;`). */
function reexported(file: string): string[] {
  const body = /export const \{([^}]*)\} = built;/.exec(readFileSync(join(ROOT, file), 'utf8'))?.[1] ?? '';
  return body.split(',').map((name) => name.trim()).filter(Boolean).sort();
}

describe('the entry points of package.json', () => {
  it.each(ENTRIES)('%s: import and require go through lib/entries/, types and default straight to dist/', (entry, target) => {
    expect({ entry, conditions: Object.keys(target) }).toEqual({ entry, conditions: ['types', 'import', 'require', 'default'] });
    expect(target.import).toMatch(/^\.\/lib\/entries\/[\w-]+\.js$/);
    expect(target.require).toBe(target.import!.replace(/\.js$/, '.cjs'));
    const built = target.default!.replace(/^\.\/dist\//, '');
    expect(target.types).toBe(`./dist/${built.replace(/\.js$/, '.d.ts')}`);
    expect(readFileSync(join(ROOT, target.require!), 'utf8')).toContain(`module.exports = require('../../dist/${built}');`);
  });

  it.each(ENTRIES)(`%s: the import entry re-exports every runtime export of its module (if not, ${REGENERATE})`, async (_entry, target) => {
    const source = join(ROOT, target.default!.replace(/^\.\/dist\//, 'lib/').replace(/\.js$/, '.ts'));
    const names = Object.keys(await import(source)).sort();
    expect(names.length).toBeGreaterThan(0);
    expect(reexported(target.import!.slice(2))).toEqual(names);
  });

  it('every bin runs the CLI through its checking entry', () => {
    expect(Object.keys(pkg.bin).sort()).toEqual(['flux-token', 'flux-token-manager']);
    for (const target of Object.values(pkg.bin)) expect(target).toBe('./lib/entries/cli.js');
    expect(readFileSync(join(ROOT, 'lib/entries/cli.js'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n[\s\S]*await import\('\.\.\/\.\.\/dist\/cli\/main\.js'\);\n$/);
  });
});

describe('a package installed without its build (no dist/)', () => {
  // The package as an install that skipped `prepare` leaves it: package.json and lib/, no dist/.
  const scratch = mkdtempSync(join(tmpdir(), 'flux-not-built-'));
  const installed = join(scratch, 'node_modules', pkg.name);
  mkdirSync(installed, { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(installed, 'package.json'));
  cpSync(join(ROOT, 'lib', 'entries'), join(installed, 'lib', 'entries'), { recursive: true });
  writeFileSync(join(scratch, 'package.json'), '{ "private": true }\n');
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** Runs `node` in the scratch project; resolves with its exit code and stderr. */
  const node = (args: string[]) =>
    new Promise<{ code: number | null; stderr: string }>((done) => {
      execFile(process.execPath, args, { cwd: scratch, timeout: 15_000 }, (error, _stdout, stderr) =>
        done({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }),
      );
    });

  const specifiers = ENTRIES.map(([entry]) => (entry === '.' ? pkg.name : `${pkg.name}${entry.slice(1)}`));
  it.each(specifiers.flatMap((specifier) => [['import', specifier], ['require', specifier]]))('fails to %s %s with a message that says what to do', async (how, specifier) => {
    const code = how === 'import' ? `await import(${JSON.stringify(specifier)})` : `require(${JSON.stringify(specifier)})`;
    const result = await node([how === 'import' ? '--input-type=module' : '--input-type=commonjs', '-e', code]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('FluxNotBuiltError');
    expect(result.stderr).toMatch(/flux-token-manager is not built: .*dist\/.* is missing/);
    expect(result.stderr).toContain('--ignore-scripts');
    expect(result.stderr).not.toContain('ERR_MODULE_NOT_FOUND');
  });

  it('fails to run the CLI with the same message', async () => {
    const result = await node([join(installed, 'lib', 'entries', 'cli.js'), '--version']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/flux-token-manager is not built: .*dist\/cli\/main\.js is missing/);
  });
});

describe('a built package', () => {
  // The package as a correct install leaves it: linked into a scratch project's node_modules.
  const scratch = mkdtempSync(join(tmpdir(), 'flux-built-'));
  mkdirSync(join(scratch, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(scratch, 'node_modules', pkg.name), 'dir');
  writeFileSync(join(scratch, 'package.json'), '{ "private": true }\n');
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('has no top-level await in its import entries: a user ES module that imports every entry can itself be require()d', async () => {
    const specifiers = ENTRIES.map(([entry]) => (entry === '.' ? pkg.name : `${pkg.name}${entry.slice(1)}`));
    writeFileSync(join(scratch, 'user.mjs'), `${specifiers.map((s, i) => `import * as e${i} from ${JSON.stringify(s)};`).join('\n')}\nexport const counts = [${specifiers.map((_s, i) => `Object.keys(e${i}).length`).join(', ')}];\n`);
    writeFileSync(join(scratch, 'main.cjs'), "const { counts } = require('./user.mjs');\nprocess.stdout.write(JSON.stringify(counts));\n");
    const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number }>((done) => {
      execFile(process.execPath, ['main.cjs'], { cwd: scratch, timeout: 15_000 }, (error, out, err) => done({ stdout: out, stderr: err, code: error ? 1 : 0 }));
    });
    expect({ code, stderr: stderr.includes('ERR_REQUIRE_ASYNC_MODULE') ? 'ERR_REQUIRE_ASYNC_MODULE' : '' }).toEqual({ code: 0, stderr: '' });
    const counts = JSON.parse(stdout) as number[];
    expect(counts).toHaveLength(specifiers.length);
    for (const count of counts) expect(count).toBeGreaterThan(0);
  });

  it('serves import and require from one module instance (no dual-package hazard)', async () => {
    writeFileSync(join(scratch, 'same.mjs'), `import { createRequire } from 'node:module';\nimport { TokenManager } from ${JSON.stringify(pkg.name)};\nconst required = createRequire(import.meta.url)(${JSON.stringify(pkg.name)});\nprocess.stdout.write(String(required.TokenManager === TokenManager));\n`);
    const stdout = await new Promise<string>((done) => execFile(process.execPath, ['same.mjs'], { cwd: scratch, timeout: 15_000 }, (_e, out) => done(out)));
    expect(stdout).toBe('true');
  });
});
