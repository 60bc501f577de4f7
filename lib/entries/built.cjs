'use strict';
/**
 * The check behind every entry point of the installed package: dist/ holds the compiled code, and
 * an install that skipped npm's scripts (`--ignore-scripts`, `ignore-scripts=true`) has none, since
 * the `prepare` script that builds it never ran. Node would then fail with ERR_MODULE_NOT_FOUND on a
 * path inside the package; this says what happened and what to do instead. The entry files next to
 * this one are written by .ci/entry-guards.mjs.
 */
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const packageDir = join(__dirname, '..', '..');

/** Throws an error with code `FLUX_NOT_BUILT` unless `dist/<file>` exists. */
function assertBuilt(file) {
  const path = join(packageDir, 'dist', file);
  if (existsSync(path)) return;
  const error = new Error(
    `flux-token-manager is not built: ${path} is missing. Its \`prepare\` script compiles dist/ when the ` +
      'package is installed from git, and it did not run: npm skips it with --ignore-scripts or ' +
      'ignore-scripts=true. Install the package again with scripts enabled, or install a tarball made by ' +
      '`npm pack` in a clone of the repository (it holds dist/).',
  );
  error.name = 'FluxNotBuiltError';
  error.code = 'FLUX_NOT_BUILT';
  throw error;
}

exports.assertBuilt = assertBuilt;
