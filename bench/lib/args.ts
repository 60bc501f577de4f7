/** The command line of `npm run bench`: `--only a,b` and `--quick`. */

export interface BenchArgs {
  /** Scenario ids to run; undefined runs them all. */
  only: string[] | undefined;
  quick: boolean;
}

/** Parses `argv` (without node and the script), throwing on an unknown flag or scenario id. */
export function parseArgs(argv: readonly string[], known: readonly string[]): BenchArgs {
  const usage = `usage: npm run bench -- [--quick] [--only ${known.join(',')}]`;
  let only: string[] | undefined;
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (value === undefined || value === '') throw new Error(`Expected \`--only\` to be followed by scenario ids, e.g. --only soak,storm; ${usage}`);
      only = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const unknown = only.filter((id) => !known.includes(id));
      if (unknown.length > 0) throw new Error(`Unknown scenario ${unknown.join(', ')}; known: ${known.join(', ')}`);
    } else if (arg === '--help' || arg === '-h') {
      throw new Error(usage);
    } else {
      throw new Error(`Unknown argument \`${arg}\`; ${usage}`);
    }
  }
  return { only, quick };
}
