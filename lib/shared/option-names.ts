/**
 * The names of an options interface, as a value: the list that unknown options are checked
 * against, typed against the interface (as ky does), so that a name added to the interface and
 * not to the list, or the reverse, fails to compile. Also the reading of one option group
 * (`refresh: { window, ... }`), whose names are checked the same way under their full path.
 */
import { ConfigurationError } from './errors.js';
import { describe } from './validate.js';

/**
 * Every option name of `T`, each set to `true`. An object literal of this type must list exactly
 * the names of `T`: a missing one is a missing property, an extra one an excess property.
 * @example const NAMES: OptionNames<{ limit: number; interval?: number }> = { limit: true, interval: true };
 */
export type OptionNames<T> = { readonly [K in keyof T]-?: true };

/**
 * Options of an earlier version that moved or went, each with the sentence that says where: a user
 * who upgrades gets told the new place instead of a bare "unknown option".
 */
export type ReplacedOptions = Readonly<Record<string, string>>;

/**
 * Rejects the names of `options` that `names` does not list. `path` is the group's own name
 * (`refresh`), or `''` at the top; each name is reported by its full path (`refresh.windw`), with
 * the known ones, or with the sentence of `replaced` when it is an option of an earlier version.
 */
export function rejectUnknownNames(
  where: string,
  path: string,
  options: Record<string, unknown>,
  names: OptionNames<object>,
  replaced: ReplacedOptions = {},
): void {
  const known = Object.keys(names);
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const full = path === '' ? key : `${path}.${key}`;
    const moved = Object.hasOwn(replaced, full) ? replaced[full] : undefined;
    if (moved !== undefined) throw new ConfigurationError(full, moved);
    throw new ConfigurationError(
      full,
      `Unknown option \`${full}\` in ${where} (known options: ${known.map((k) => `\`${path === '' ? k : `${path}.${k}`}\``).join(', ')})`,
    );
  }
}

/**
 * One option group (`refresh: { window, ... }`): `{}` when it is left out, else its object, whose
 * names are checked against `names`. `hint`, when given, is added to the message of a value that
 * is not an object (the sentence for a number that an earlier version took there).
 */
export function readGroup(
  where: string,
  path: string,
  value: unknown,
  names: OptionNames<object>,
  { replaced = {}, hint }: { replaced?: ReplacedOptions; hint?: string } = {},
): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const shape = Object.keys(names).join(', ');
    throw new ConfigurationError(
      path,
      `Expected \`${path}\` to be an object { ${shape} } or undefined, got ${describe(value)}${hint === undefined ? '' : `: ${hint}`}`,
    );
  }
  const group = value as Record<string, unknown>;
  rejectUnknownNames(where, path, group, names, replaced);
  return group;
}

/**
 * The sentences of {@link ReplacedOptions} for options that moved: for each old name, "`old` was
 * replaced by `new.place` in `version`".
 */
export function replacedIn(version: string, moves: Readonly<Record<string, string>>): ReplacedOptions {
  return Object.fromEntries(
    Object.entries(moves).map(([old, place]) => [old, `\`${old}\` was replaced by \`${place}\` in ${version}`]),
  );
}
