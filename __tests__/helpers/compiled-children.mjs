// @ts-check
/**
 * Jest's global setup (jest.config.ts, `globalSetup`): the TypeScript that tests run as child
 * processes (the CLI, fleet workers, the shutdown and exit fixtures), transpiled once per jest run
 * into a mirror of the repository's lib/ and __tests__/ folders, so that each child starts as plain
 * `node` rather than under tsx: tsx costs about half a second of CPU per start, and the suite starts
 * over a hundred children. The transform is esbuild's, the one tsx itself uses, file by file, with
 * nothing bundled: each child runs the same modules, imports resolving as they do from the sources
 * (node_modules from the repository's own, found by walking up from the mirror).
 *
 * The mirror's folder goes to the workers in `FLUX_TEST_CHILDREN`, which helpers/tsx-child.ts
 * reads; without it (a test run outside jest, a bench), children run under tsx as before. The
 * folder is removed when jest exits.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

/** The repository's root. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** What children import: the library, and the tests' fixtures and helpers. */
const FOLDERS = ['lib', '__tests__/fixtures', '__tests__/helpers'];
/** Under node_modules, so that imports of packages resolve from the mirror to the repository's. */
const CACHE = join(ROOT, 'node_modules', '.cache', 'flux-token-manager-tests');

/** @param {string} folder @returns {string[]} every file below `folder` */
function filesUnder(folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** Writes the mirror into `out`: every `.ts` transpiled to `.js` beside it, any other file copied. */
/** @param {string} out */
export async function buildChildren(out) {
  const files = FOLDERS.flatMap((folder) => filesUnder(join(ROOT, folder)));
  await Promise.all(
    files.map(async (file) => {
      const target = join(out, relative(ROOT, file));
      mkdirSync(dirname(target), { recursive: true });
      const source = readFileSync(file, 'utf8');
      if (!file.endsWith('.ts') || file.endsWith('.d.ts')) {
        writeFileSync(target, source);
        return;
      }
      const { code } = await transform(source, {
        loader: 'ts',
        format: 'esm',
        target: 'node20',
        sourcefile: file,
        sourcemap: 'inline', // with --enable-source-maps (see tsNodeArgs), a child's stack names the source lines
        tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true, useDefineForClassFields: true } },
      });
      writeFileSync(target.slice(0, -'.ts'.length) + '.js', code);
    }),
  );
  // A package scope ends at node_modules: the mirror needs its own to be ESM, as the repository is.
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
}

/** @param {number} pid */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return /** @type {NodeJS.ErrnoException} */ (error).code === 'EPERM';
  }
}

export default async function globalSetup() {
  // Mirrors of runs that were killed before they could remove their own.
  mkdirSync(CACHE, { recursive: true });
  for (const name of readdirSync(CACHE)) {
    const pid = Number(/^run-(\d+)$/.exec(name)?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && !alive(pid)) rmSync(join(CACHE, name), { recursive: true, force: true });
  }
  const out = join(CACHE, `run-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  process.once('exit', () => rmSync(out, { recursive: true, force: true }));
  await buildChildren(out);
  process.env.FLUX_TEST_CHILDREN = out;
}
