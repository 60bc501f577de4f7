#!/usr/bin/env node
/**
 * Writes the committed entry points of the package, lib/entries/<name>.js (import) and .cjs
 * (require), and points package.json `exports` (and `bin`) at them. Each checks that dist/ was built
 * (lib/entries/built.cjs), then loads the built module, so that an install whose `prepare` never ran
 * fails with a message that says what to do, not ERR_MODULE_NOT_FOUND. Static imports are linked
 * before anything runs, so the import entry checks first and then loads dist/ synchronously through
 * `createRequire` (Node >= 20.19 can require() an ES module that has no top-level await), and lists
 * the names it re-exports. No entry uses top-level await: an ES module of the user's that imports
 * this package can itself still be require()d, and one module instance serves import and require.
 *
 * Run it after adding an entry point or an export: `npm run build && node .ci/entry-guards.mjs`.
 * `--check` writes nothing and exits 1 if a file or package.json would change.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL, URL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const checkOnly = process.argv.includes('--check');
const pkgPath = join(root, 'package.json');
const pkgText = readFileSync(pkgPath, 'utf8');
const pkg = JSON.parse(pkgText);
const HEADER = '// Written by .ci/entry-guards.mjs: do not edit. Checks that dist/ is built, then loads it.\n';

const wanted = new Map();
for (const [entry, target] of Object.entries(pkg.exports)) {
  if (entry === './package.json') continue;
  if (typeof target !== 'object' || typeof target.types !== 'string') throw new Error(`exports["${entry}"] has no "types" condition`);
  const built = target.types.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, '.js');
  const name = entry === '.' ? 'index' : entry.slice(2).replaceAll('/', '-');
  const builtPath = join(root, 'dist', built);
  if (!existsSync(builtPath)) throw new Error(`dist/${built} is missing: run \`npm run build\` first`);
  const names = Object.keys(await import(pathToFileURL(builtPath).href)).sort();
  if (names.includes('default')) throw new Error(`dist/${built} has a default export, which the entry files do not carry`);
  wanted.set(`lib/entries/${name}.js`, `${HEADER}import { createRequire } from 'node:module';\nimport { assertBuilt } from './built.cjs';\n\nassertBuilt('${built}');\nconst built = createRequire(import.meta.url)('../../dist/${built}');\n\nexport const {\n${names.map((n) => `  ${n},\n`).join('')}} = built;\n`);
  wanted.set(`lib/entries/${name}.cjs`, `${HEADER}'use strict';\nrequire('./built.cjs').assertBuilt('${built}');\nmodule.exports = require('../../dist/${built}');\n`);
  pkg.exports[entry] = { types: target.types, import: `./lib/entries/${name}.js`, require: `./lib/entries/${name}.cjs`, default: `./dist/${built}` };
}
// The CLI: every name in `bin` runs the built dist/cli/main.js through one checking entry.
const CLI = 'cli/main.js';
wanted.set('lib/entries/cli.js', `#!/usr/bin/env node\n${HEADER}import { assertBuilt } from './built.cjs';\n\nassertBuilt('${CLI}');\nawait import('../../dist/${CLI}');\n`);
for (const bin of Object.keys(pkg.bin ?? {})) pkg.bin[bin] = './lib/entries/cli.js';
wanted.set('package.json', `${JSON.stringify(pkg, null, 2)}\n`);

const stale = [...wanted].filter(([file, text]) => !existsSync(join(root, file)) || readFileSync(join(root, file), 'utf8') !== text);
if (checkOnly) {
  if (stale.length > 0) {
    process.stderr.write(`Out of date: ${stale.map(([file]) => file).join(', ')}. Run: npm run build && node .ci/entry-guards.mjs\n`);
    process.exitCode = 1;
  }
} else {
  for (const [file, text] of stale) writeFileSync(join(root, file), text);
  process.stdout.write(stale.length ? `wrote ${stale.map(([file]) => file).join(', ')}\n` : 'up to date\n');
}
