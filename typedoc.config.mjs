// @ts-check
/**
 * TypeDoc's configuration for `npm run docs:api`: one page per entry point of the package, read from
 * package.json `exports` (so that a new entry is documented, and checked, as soon as it is exported),
 * written to docs/api/ (a build artifact, git-ignored). An exported item without a doc comment fails
 * the run: a user reading the reference must never meet an item with nothing to say about it.
 */
import { readFileSync } from 'node:fs';
import { URL } from 'node:url';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

/** `./dist/http/got.d.ts` (an entry's `types`) is built from `lib/http/got.ts`. */
const sourceOf = (types) => types.replace(/^\.\/dist\//, './lib/').replace(/\.d\.ts$/, '.ts');

const entryPoints = Object.entries(pkg.exports)
  .filter(([entry]) => entry !== './package.json')
  .map(([entry, target]) => {
    if (typeof target !== 'object' || typeof target.types !== 'string') {
      throw new Error(`typedoc.config.mjs: exports["${entry}"] has no "types" condition to document`);
    }
    return sourceOf(target.types);
  });

/** @type {Partial<import('typedoc').TypeDocOptions>} */
const config = {
  entryPoints,
  out: 'docs/api',
  tsconfig: './tsconfig.build.json',
  name: pkg.name,
  readme: 'none',
  excludePrivate: true,
  excludeInternal: true,
  // No "Defined in" links: they would name a git remote, and a clone's (CI's is a local path) is not
  // a public repository.
  disableSources: true,
  validation: { notExported: true, invalidLink: true, notDocumented: true },
  treatWarningsAsErrors: true,
  treatValidationWarningsAsErrors: true,
};

export default config;
