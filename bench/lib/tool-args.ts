/**
 * The command line of a bench tool: an optional path to another checkout's `lib/index.ts` (the
 * version to measure; default: this checkout) and `--only 1,4` to run some of its cases.
 */
export interface ToolArgs {
  /** Another checkout's lib/index.ts, or undefined for this checkout. */
  libPath: string | undefined;
  /** Which cases to run (undefined: all). */
  only: string[] | undefined;
}

export function parseToolArgs(argv: readonly string[], usage: string): ToolArgs {
  let libPath: string | undefined;
  let only: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--only') only = (argv[++i] ?? '').split(',').filter((s) => s !== '');
    else if (arg.startsWith('--only=')) only = arg.slice('--only='.length).split(',').filter((s) => s !== '');
    else if (arg.startsWith('-')) throw new Error(`Unknown argument \`${arg}\`; usage: ${usage}`);
    else libPath = arg;
  }
  return { libPath, only };
}

/** Whether case `id` is to run. */
export const selected = (args: ToolArgs, id: string): boolean => args.only === undefined || args.only.includes(id);
