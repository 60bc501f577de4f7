import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { metrics, trace } from '@opentelemetry/api';
import ts from 'typescript';
import { startEmulator } from '../lib/emulator/index.js';
import { ConfigurationError, InvalidArgumentError } from '../lib/shared/errors.js';
import { instrument } from '../lib/otel/index.js';
import { TokenManager } from '../lib/manager/token-manager.js';
import { startOtel } from './helpers/otel.js';

const root = resolve(import.meta.dirname, '..');

/** The package's entry points (package.json `exports`), as their source files under lib/. */
function entries(): Map<string, string> {
  const exports = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).exports as Record<string, string | { default: string }>;
  const out = new Map<string, string>();
  for (const [name, target] of Object.entries(exports)) {
    const file = typeof target === 'string' ? target : target.default;
    if (!file.startsWith('./dist/')) continue;
    out.set(name, join(root, file.replace(/^\.\/dist\//, 'lib/').replace(/\.js$/, '.ts')));
  }
  return out;
}

/** Every package (bare specifier) that `entry` imports, directly or through its own modules, types included. */
function packagesImportedBy(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (fileName.startsWith('.')) visit(resolve(dirname(file), fileName.replace(/\.js$/, '.ts')));
      else packages.add(fileName);
    }
  };
  visit(entry);
  return packages;
}

describe('flux-token-manager/otel as an entry point', () => {
  it('is exported, and only it imports @opentelemetry: the main entry works without the optional peer', () => {
    const all = entries();
    expect([...all.keys()]).toEqual(expect.arrayContaining(['.', './otel']));
    const otel = packagesImportedBy(all.get('./otel')!);
    // The walk finds imports: the otel entry's own are there, and it needs the API only, never an SDK.
    expect([...otel].filter((p) => p.startsWith('@opentelemetry/'))).toEqual(['@opentelemetry/api']);
    for (const [name, file] of all) {
      if (name === './otel') continue;
      const imported = [...packagesImportedBy(file)];
      expect({ name, otel: imported.filter((p) => p.startsWith('@opentelemetry')) }).toEqual({ name, otel: [] });
    }
  });

  it('declares @opentelemetry/api as an optional peer dependency', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.peerDependencies['@opentelemetry/api']).toBeDefined();
    expect(pkg.peerDependenciesMeta['@opentelemetry/api']).toEqual({ optional: true });
    expect(pkg.dependencies?.['@opentelemetry/api']).toBeUndefined();
    expect(pkg.exports['./otel']).toMatchObject({ types: './dist/otel/index.d.ts', default: './dist/otel/index.js' });
  });
});

describe('instrument() arguments', () => {
  const manager = new TokenManager({ clientId: 'c', clientSecret: 's', tokenUrl: 'http://127.0.0.1:9/token' });
  afterEach(() => {
    expect(manager.listenerCount('requestStart') + manager.listenerCount('requestEnd')).toBe(0);
  });
  afterAll(() => manager.close());

  it('rejects what is not a TokenManager, naming the argument', () => {
    for (const value of [undefined, null, 42, {}, { on() {}, off() {}, stats() {} }]) {
      const call = () => instrument(value as unknown as TokenManager);
      expect(call).toThrow(InvalidArgumentError);
      expect(call).toThrow(/^Expected `manager` to be a TokenManager, got /);
    }
  });

  it.each([
    [{ meterProvider: {} }, 'meterProvider', /^Expected `meterProvider` to be an object with a `getMeter` method, got a value of type object$/],
    [{ tracerProvider: 42 }, 'tracerProvider', /^Expected `tracerProvider` to be an object with a `getTracer` method, got `42` \(number\)$/],
    [{ meterProvider: null }, 'meterProvider', /got `null`$/],
    [{ recordScope: 'yes' }, 'recordScope', /^Expected `recordScope` to be a boolean, got `"yes"` \(string\)$/],
    [{ recordscope: true }, 'recordscope', /^Unknown option `recordscope` in instrument\(\)/],
    [null, 'options', /^Expected `options` to be an options object, got `null`$/],
  ])('rejects the options %j with a ConfigurationError naming %s', (options, option, message) => {
    const call = () => instrument(manager, options as never);
    expect(call).toThrow(ConfigurationError);
    expect(call).toThrow(message);
    try {
      call();
    } catch (error) {
      expect((error as ConfigurationError).option).toBe(option);
    }
  });
});

describe('instrument() without providers', () => {
  afterEach(() => {
    metrics.disable();
    trace.disable();
  });

  it('reports to the global meter and tracer providers that an SDK registered', async () => {
    const otel = startOtel();
    const emulator = await startEmulator();
    const manager = new TokenManager({ clientId: emulator.clientId, clientSecret: emulator.clientSecret, tokenUrl: emulator.tokenUrl });
    try {
      expect(metrics.setGlobalMeterProvider(otel.meterProvider)).toBe(true);
      expect(trace.setGlobalTracerProvider(otel.tracerProvider)).toBe(true);
      const undo = instrument(manager);
      await manager.getToken('someone');
      const collected = await otel.collect();
      expect(collected.total('flux.token.requests')).toBe(1);
      expect(collected.total('flux.token.cache.lookups', { result: 'miss' })).toBe(1);
      expect(otel.spans().map((s) => s.name)).toEqual(['flux.token.request']);
      undo();
    } finally {
      await manager.close();
      await emulator.close();
      await otel.shutdown();
    }
  });
});
