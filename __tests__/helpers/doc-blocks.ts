/**
 * Type-checks the ```ts blocks of the documentation as one TypeScript program, the way a user who
 * pastes them gets them checked: strict, NodeNext, with `flux-token-manager/...` resolved to the
 * sources in lib/ (through `paths`, built from package.json `exports`), and got, ioredis and the
 * other packages resolved from this repository's node_modules. The blocks live in memory only.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';

/** One ```ts block of a Markdown file. */
export interface DocBlock {
  /** The Markdown file, relative to the repository. */
  file: string;
  /** The 1-based line of the opening fence. */
  line: number;
  /** The code between the fences. */
  code: string;
  /** The words after `ts` on the fence (`fragment` skips the block). */
  info: string[];
}

/** Every ```ts (or ```typescript) block of `markdown`. */
export function extractBlocks(file: string, markdown: string): DocBlock[] {
  const blocks: DocBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(?:ts|typescript)(?:\s+(.*))?$/.exec(lines[i]!.trim());
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i]!.trim() !== '```'; i++) body.push(lines[i]!);
    blocks.push({ file, line: start + 1, code: body.join('\n'), info: (open[1] ?? '').split(/\s+/).filter(Boolean) });
  }
  return blocks;
}

/**
 * The names the documentation uses without declaring them: what the reader's own program already
 * has (its credentials, its logger, the user a request is about, a manager made earlier on the page).
 * A block that declares one of them shadows it, since each block is a module of its own.
 */
const CONTEXT = `
import type { RequestListener } from 'node:http';
import type { Redis } from 'ioredis';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { TokenManager } from 'flux-token-manager';
declare global {
  const clientId: string;
  const clientSecret: string;
  const tokenUrl: string;
  const userId: string;
  const tokens: TokenManager;
  const redis: Redis;
  const app: RequestListener;
  const metricExporter: PushMetricExporter;
  const spanExporter: SpanExporter;
  /** Defined by an earlier block of docs/http-clients.md. */
  const userInPath: (url: URL | undefined) => string | undefined;
  const log: { info(...args: unknown[]): void; warn(...args: unknown[]): void; debug(...args: unknown[]): void; error(...args: unknown[]): void };
}
export {};
`;

/** `paths` for `flux-token-manager` and each of its entries: `./dist/x.d.ts` is built from `lib/x.ts`. */
function entryPaths(root: string): Record<string, string[]> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; exports: Record<string, string | { types?: string }> };
  const paths: Record<string, string[]> = {};
  for (const [entry, target] of Object.entries(pkg.exports)) {
    if (typeof target !== 'object' || !target.types) continue;
    const specifier = entry === '.' ? pkg.name : `${pkg.name}${entry.slice(1)}`;
    paths[specifier] = [join(root, target.types.replace(/^\.\/dist\//, 'lib/').replace(/\.d\.ts$/, '.ts'))];
  }
  return paths;
}

/** One diagnostic, located in its Markdown file. */
export interface BlockDiagnostic {
  /** `README.md:282`: the Markdown file and line the diagnostic points at. */
  where: string;
  /** TypeScript's message. */
  message: string;
}

/** Type-checks `blocks` (each as its own module) in one program; returns the diagnostics in them. */
export function typeCheckBlocks(root: string, blocks: readonly DocBlock[]): BlockDiagnostic[] {
  const dir = join(root, '__doc_blocks__');
  const virtual = new Map<string, { block?: DocBlock; text: string }>();
  virtual.set(join(dir, 'context.d.ts'), { text: CONTEXT });
  blocks.forEach((block, index) => {
    const name = `${block.file.replace(/[^\w]+/g, '_')}_${block.line}_${index}.ts`;
    // `export {}` makes each block a module: its names stay its own, and top-level await works.
    virtual.set(join(dir, name), { block, text: `${block.code}\nexport {};\n` });
  });
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.esnext.disposable.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    esModuleInterop: true,
    allowImportingTsExtensions: false,
    paths: entryPaths(root),
    typeRoots: [join(root, 'node_modules', '@types')],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (file) => virtual.has(file) || fileExists.call(host, file);
  host.readFile = (file) => virtual.get(file)?.text ?? readFile.call(host, file);
  host.getSourceFile = (file, language, ...rest) => {
    const entry = virtual.get(file);
    return entry ? ts.createSourceFile(file, entry.text, language, true) : getSourceFile.call(host, file, language, ...rest);
  };
  host.getCurrentDirectory = () => root;
  const program = ts.createProgram({ rootNames: [...virtual.keys()], options, host });
  const found: BlockDiagnostic[] = [];
  // Only the blocks (and the context) are checked: lib/ itself is `npm run typecheck`'s job, and
  // checking just these files lets the checker skip everything they do not use.
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...[...virtual.keys()].flatMap((file) => {
      const source = program.getSourceFile(file)!;
      return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    }),
  ];
  for (const diagnostic of diagnostics) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const entry = diagnostic.file ? virtual.get(diagnostic.file.fileName) : undefined;
    if (entry?.block && diagnostic.start !== undefined) {
      const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start);
      found.push({ where: `${entry.block.file}:${entry.block.line + 1 + line}`, message });
    } else {
      // A diagnostic outside the blocks (the context, lib/, a package's types) is a problem too.
      found.push({ where: diagnostic.file ? diagnostic.file.fileName : dirname(dir), message });
    }
  }
  return found;
}
