#!/usr/bin/env node
/**
 * The install test: what a user gets from this repository, checked the way a user gets it.
 *
 * 1. Clones the repository at HEAD into a temporary directory, so that only committed files count.
 * 2. In the clone, installs the dependencies without running any script, then `npm pack`: the
 *    `prepare` script alone must build dist/.
 * 3. Checks the tarball: the code and LICENSE are in, no `.tsbuildinfo`, every source map carries
 *    its sources, every declaration map points at a TypeScript source in the package, docs/benchmarks.md
 *    stays out.
 * 4. Installs the tarball into a scratch project outside the repository, beside today's majors of
 *    what users bring (got 16, ioredis 6, axios, undici 7; the optional peers too) with no peer
 *    conflict, and there: imports every entry point of `exports` from ESM, requires the main
 *    entry from CommonJS, gets a token from the packaged emulator through the packaged
 *    TokenManager from both, and runs `npx flux-token --version`. Then type-checks two projects
 *    that import every entry: a strict NodeNext one, and a CommonJS one (node10 resolution, which
 *    reads `typesVersions`). If the repository has `.ci/typecheck-peers.mjs`, runs it too.
 * 5. Unless `--skip-git`: `npm install git+file://<clone>#<commit>` into a second scratch project,
 *    and the same checks there; then the same install with `--ignore-scripts` into a third, where
 *    import, require and the CLI must fail with the package's "not built" message.
 *
 * Usage: `npm run test:install [-- --skip-git] [-- --keep]`. Exits 1 on the first failed check.
 * Needs git, tar and the npm registry (or a warm npm cache).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';
import { typeCheckEntries } from './typecheck-entries.mjs';

/** No single command may take longer than this: a hung install fails the test instead of CI. */
const STEP_TIMEOUT_MS = 10 * 60_000;
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

/**
 * What users bring beside the package, at today's majors: each must install with the tarball
 * with no peer conflict (no ERESOLVE). got 15 and 16 need Node 22 to run, so here they are only
 * installed and type-checked against; the package keeps its own got 14 for its endpoint client.
 */
const USER_MAJORS = { got: '^16', ioredis: '^6', axios: '^1', undici: '^7' };
/** The compiler of the type-check projects, and Node's types for them. */
const TYPESCRIPT = ['typescript@~5.9', '@types/node@^20'];
const args = new Set(process.argv.slice(2));
const started = Date.now();
const log = (line) => process.stdout.write(`[install-test +${((Date.now() - started) / 1000).toFixed(1)} s] ${line}\n`);

class CheckFailed extends Error {}
function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

/**
 * The environment of every command: this one, without what `npm run` adds about the repository
 * (its root as `npm_config_local_prefix`, `INIT_CWD`), so that npm in the clone or a scratch
 * project works on that directory and nothing else.
 */
const baseEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !/^(npm_config_local_prefix|npm_package_|npm_lifecycle_|INIT_CWD$)/i.test(name)),
);

/** Runs a command, returns its stdout; on failure prints its output and throws. */
function run(command, commandArgs, cwd, env = {}) {
  try {
    return execFileSync(command, commandArgs, {
      cwd,
      env: { ...baseEnv, ...env },
      encoding: 'utf8',
      timeout: STEP_TIMEOUT_MS,
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    throw new CheckFailed(
      `\`${command} ${commandArgs.join(' ')}\` failed in ${cwd}` +
        `${error.signal ? ` (killed by ${error.signal})` : ` (exit ${error.status})`}\n${error.stdout ?? ''}${error.stderr ?? ''}`,
    );
  }
}

/**
 * `npm` with one more attempt after a failure: a registry hiccup (EIDLETIMEOUT, ECONNRESET) is not
 * the package's fault. A failure that repeats is reported with the second attempt's output.
 */
function npm(npmArgs, cwd, env = {}) {
  try {
    return run('npm', npmArgs, cwd, env);
  } catch (error) {
    log(`npm ${npmArgs[0]} failed once; trying again. First attempt: ${String(error.message).split('\n').slice(0, 3).join(' | ')}`);
    return run('npm', npmArgs, cwd, env);
  }
}

const repo = fileURLToPath(new URL('..', import.meta.url));
const commit = run('git', ['rev-parse', 'HEAD'], repo).trim();
if (run('git', ['status', '--porcelain', '--untracked-files=no'], repo).trim() !== '') {
  log('warning: the working tree has uncommitted changes; this test checks the last commit only');
}

/** The ESM check: every entry point imports, and the packaged manager gets a token. */
const ESM_CHECK = `
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(require.resolve('flux-token-manager/package.json'), 'utf8'));
const entries = JSON.parse(process.argv[2]);
const imported = {};
for (const entry of entries) {
  const specifier = entry === '.' ? pkg.name : pkg.name + entry.slice(1);
  const module = await import(specifier);
  imported[specifier] = Object.keys(module).sort();
}
const { TokenManager } = await import('flux-token-manager');
const { startEmulator } = await import('flux-token-manager/emulator');
const emulator = await startEmulator();
const tokens = new TokenManager({ tokenUrl: emulator.tokenUrl, clientId: emulator.clientId, clientSecret: emulator.clientSecret });
const token = await tokens.getToken('user-1');
await tokens.close();
await emulator.close();
process.stdout.write(JSON.stringify({ imported, scope: token.scope, tokenCalls: emulator.stats().tokenCalls.total }));
`;

/** The CommonJS check: require() of the ES module main entry (Node >= 20.19), and a token. */
const CJS_CHECK = `
const { TokenManager, TokenEndpoint, authFetch } = require('flux-token-manager');
const { startEmulator } = require('flux-token-manager/emulator');
(async () => {
  const emulator = await startEmulator();
  const tokens = new TokenManager({ tokenUrl: emulator.tokenUrl, clientId: emulator.clientId, clientSecret: emulator.clientSecret });
  const token = await tokens.getToken('user-2');
  await tokens.close();
  await emulator.close();
  process.stdout.write(JSON.stringify({
    types: [typeof TokenManager, typeof TokenEndpoint, typeof authFetch],
    scope: token.scope,
    tokenCalls: emulator.stats().tokenCalls.total,
  }));
})().catch((error) => { process.stderr.write(String(error && error.stack)); process.exitCode = 1; });
`;

/** Every file under `dir`, relative to it. */
function listFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath ?? entry.path, entry.name)))
    // npm nests a dependency inside the package when the project holds another major of it (got 14
    // under the package, beside the project's got 16): those files are not the package's.
    .filter((file) => !file.split(sep).includes('node_modules'));
}

/**
 * The entries of `exports` (without `./package.json`) as `{ entry, specifier, types }`.
 */
function entriesOf(pkgDir) {
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const entries = [];
  for (const [entry, target] of Object.entries(pkg.exports)) {
    if (entry === './package.json') continue;
    const types = typeof target === 'string' ? undefined : target.types;
    entries.push({ entry, specifier: entry === '.' ? pkg.name : pkg.name + entry.slice(1), types });
  }
  return entries;
}

/** Checks what a package installed at `pkgDir` holds. */
function checkPackageFiles(pkgDir) {
  const files = listFiles(pkgDir);
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  check(files.includes('LICENSE'), 'LICENSE is missing from the package');
  check(!files.some((file) => file.endsWith('.tsbuildinfo')), 'a .tsbuildinfo file is in the package');
  check(!files.includes('docs/benchmarks.md'), 'docs/benchmarks.md is in the package');
  check(!files.some((file) => file.startsWith('__tests__/')), 'tests are in the package');
  for (const [entry, target] of Object.entries(pkg.exports)) {
    const paths = typeof target === 'string' ? [target] : Object.values(target);
    for (const path of paths) check(existsSync(join(pkgDir, path)), `exports["${entry}"] names ${path}, which is not in the package`);
  }
  for (const bin of Object.values(pkg.bin)) check(existsSync(join(pkgDir, bin)), `bin ${bin} is not in the package`);
  const maps = files.filter((file) => file.endsWith('.js.map'));
  for (const file of maps) {
    const map = JSON.parse(readFileSync(join(pkgDir, file), 'utf8'));
    const complete = Array.isArray(map.sourcesContent) && map.sourcesContent.length === map.sources.length;
    check(complete && map.sourcesContent.every((source) => typeof source === 'string'), `${file} does not carry its sources`);
  }
  // A declaration map cannot carry its sources: it points at the TypeScript file, which must be in
  // the package for an editor's go-to-definition to land on it.
  const declarationMaps = files.filter((file) => file.endsWith('.d.ts.map'));
  check(declarationMaps.length > 0 && declarationMaps.length === files.filter((file) => file.endsWith('.d.ts')).length, 'not every .d.ts has its declaration map');
  for (const file of declarationMaps) {
    const map = JSON.parse(readFileSync(join(pkgDir, file), 'utf8'));
    for (const source of map.sources) {
      const path = relative(pkgDir, join(pkgDir, dirname(file), map.sourceRoot ?? '', source));
      check(path.startsWith('lib/') && path.endsWith('.ts') && files.includes(path), `${file} points at ${path}, which is not a TypeScript source in the package`);
    }
  }
  return { files: files.length, maps: maps.length, declarationMaps: declarationMaps.length };
}

/** Runs the ESM, CommonJS and CLI checks in a project where the package is installed. */
function checkProject(project, expectedVersion) {
  const pkgDir = join(project, 'node_modules', 'flux-token-manager');
  const contents = checkPackageFiles(pkgDir);
  log(`  package: ${contents.files} files, ${contents.maps} source maps, each with its sources, ${contents.declarationMaps} declaration maps, each onto a source in lib/`);

  const entries = entriesOf(pkgDir);
  writeFileSync(join(project, 'check.mjs'), ESM_CHECK);
  const esm = JSON.parse(run(process.execPath, ['check.mjs', JSON.stringify(entries.map((e) => e.entry))], project));
  for (const [specifier, names] of Object.entries(esm.imported)) {
    check(names.length > 0, `import('${specifier}') has no exports`);
    log(`  ESM: import('${specifier}') -> ${names.length} exports`);
  }
  check(esm.imported['flux-token-manager'].includes('TokenManager'), 'the main entry does not export TokenManager');
  check(esm.scope === 'user-1' && esm.tokenCalls === 1, `ESM: expected one token call for user-1, got ${JSON.stringify(esm)}`);
  log('  ESM: a token for user-1 from the packaged emulator, 1 token call');

  writeFileSync(join(project, 'check.cjs'), CJS_CHECK);
  const cjs = JSON.parse(run(process.execPath, ['check.cjs'], project));
  check(cjs.types.every((type) => type === 'function'), `CommonJS: expected three functions, got ${cjs.types}`);
  check(cjs.scope === 'user-2' && cjs.tokenCalls === 1, `CommonJS: expected one token call for user-2, got ${JSON.stringify(cjs)}`);
  log(`  CommonJS: require('flux-token-manager') on Node ${process.versions.node}, a token for user-2, 1 token call`);

  const version = run('npx', ['--no-install', 'flux-token', '--version'], project).trim();
  check(version === expectedVersion, `npx flux-token --version printed ${JSON.stringify(version)}, expected ${expectedVersion}`);
  log(`  npx flux-token --version -> ${version}`);
  return entries;
}

/** `name@version` of each of `names` as installed at the top of `project`. */
function installedVersions(project, names) {
  return names
    .map((name) => `${name}@${JSON.parse(readFileSync(join(project, 'node_modules', name, 'package.json'), 'utf8')).version}`)
    .join(', ');
}

/** A scratch project with the package (`spec`) and the packages `besides` installed. */
function scratchProject(root, name, spec, besides) {
  const project = join(root, name);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name, version: '1.0.0', private: true }, null, 2)}\n`);
  npm(['install', ...NPM_FLAGS, spec, ...besides], project);
  return project;
}

/**
 * A git install that skips scripts (`--ignore-scripts`, a common hardening) never runs `prepare`, so
 * the package has no dist/. Importing or requiring it, or running its CLI, must then fail with the
 * package's own message that says what to do, never ERR_MODULE_NOT_FOUND.
 */
function checkGitInstallWithoutScripts(root, clone, commit) {
  const project = join(root, 'from-git-no-scripts');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'from-git-no-scripts', version: '1.0.0', private: true }, null, 2)}\n`);
  npm(['install', ...NPM_FLAGS, '--ignore-scripts', `git+file://${clone}#${commit}`], project);
  check(!existsSync(join(project, 'node_modules', 'flux-token-manager', 'dist')), 'the install without scripts has a dist/ directory');
  const attempts = [
    ['import', [process.execPath, '--input-type=module', '-e', "await import('flux-token-manager')"]],
    ['require', [process.execPath, '--input-type=commonjs', '-e', "require('flux-token-manager')"]],
    ['npx flux-token-manager', ['npx', '--no-install', 'flux-token-manager', '--version']],
  ];
  for (const [what, [command, ...commandArgs]] of attempts) {
    let output = '';
    try {
      run(command, commandArgs, project);
    } catch (error) {
      output = error.message;
    }
    check(output !== '', `${what} of a package without dist/ succeeded`);
    check(/flux-token-manager is not built: .*dist\/.* is missing/.test(output) && output.includes('--ignore-scripts'), `${what} without dist/ did not say what to do:\n${output}`);
    check(!output.includes('ERR_MODULE_NOT_FOUND'), `${what} without dist/ failed with ERR_MODULE_NOT_FOUND:\n${output}`);
    log(`  without scripts: ${what} fails with "flux-token-manager is not built ..."`);
  }
}

const root = mkdtempSync(join(tmpdir(), 'flux-token-install-'));
let failed = false;
try {
  log(`commit ${commit}, Node ${process.versions.node}, scratch directory ${root}`);
  const clone = join(root, 'clone');
  run('git', ['clone', '--quiet', repo, clone], root);
  run('git', ['checkout', '--quiet', '--detach', commit], clone);
  check(!existsSync(join(clone, 'dist')), 'the fresh clone already has a dist/ directory');
  const pkg = JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8'));
  const peers = Object.entries(pkg.peerDependencies ?? {}).map(([name, range]) => `${name}@${range}`);
  // Beside the tarball: today's majors (each must satisfy the peer range it meets), the other
  // optional peers, and TypeScript. One install for all, shared by every check of the tarball.
  const besides = [
    ...Object.entries(USER_MAJORS).map(([name, range]) => `${name}@${range}`),
    ...peers.filter((spec) => !Object.hasOwn(USER_MAJORS, spec.slice(0, spec.lastIndexOf('@')))),
    ...TYPESCRIPT,
  ];
  log('cloned; installing its dependencies without scripts');

  npm(['ci', ...NPM_FLAGS, '--ignore-scripts'], clone);
  log('npm pack (its prepare script builds dist/)');
  const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', root, '--loglevel=error'], clone, { npm_config_foreground_scripts: 'false' }));
  const tarball = join(root, packed[0].filename);
  log(`  ${packed[0].filename}: ${packed[0].entryCount} files, ${packed[0].size} bytes packed, ${packed[0].unpackedSize} unpacked`);
  check(packed[0].files.some((file) => file.path === 'dist/index.js'), 'the tarball has no dist/index.js');

  log(`installing the tarball into a scratch project, with ${besides.join(', ')}`);
  const fromTarball = scratchProject(root, 'from-tarball', tarball, besides);
  log(`  installed with no peer conflict: ${installedVersions(fromTarball, Object.keys(USER_MAJORS))}`);
  const entries = checkProject(fromTarball, pkg.version);
  typeCheckEntries({ project: fromTarball, entries, run, check, log });
  // The got adapter against the types of got 15 and 16, when the repository has that check.
  if (existsSync(join(clone, '.ci', 'typecheck-peers.mjs'))) {
    log('.ci/typecheck-peers.mjs');
    process.stdout.write(run(process.execPath, [join(clone, '.ci', 'typecheck-peers.mjs')], clone, { FLUX_INSTALL_PROJECT: fromTarball }));
  }

  if (!args.has('--skip-git')) {
    log(`npm install git+file://${clone}#${commit.slice(0, 12)} into a second scratch project`);
    checkProject(scratchProject(root, 'from-git', `git+file://${clone}#${commit}`, peers), pkg.version);
  }
  if (!args.has('--skip-git')) {
    log(`npm install --ignore-scripts git+file://${clone}#${commit.slice(0, 12)}: no prepare, no dist/`);
    checkGitInstallWithoutScripts(root, clone, commit);
  }
  log('OK: the package installs and works from a tarball' + (args.has('--skip-git') ? '' : ' and from git'));
} catch (error) {
  failed = true;
  process.stderr.write(`[install-test] FAILED: ${error instanceof CheckFailed ? error.message : error?.stack}\n`);
  process.exitCode = 1;
} finally {
  if (args.has('--keep') || (failed && process.env.CI === undefined)) log(`kept ${root} for inspection`);
  else rmSync(root, { recursive: true, force: true });
}
