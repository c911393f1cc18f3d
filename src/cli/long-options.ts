/**
 * A small GNU-style long-option parser: `--name value`, `--name=value`, boolean flags,
 * repeatable options, `--` ends options. Options are declared in a table; the result is
 * typed from it. Unknown options fail with the closest known name.
 */
import { invalidArgument } from '../errors.js';
import { didYouMean } from './suggest.js';

export type OptionKind = 'flag' | 'value' | 'list';

export interface OptionDef {
  kind: OptionKind;
  /** For the help text: `NAME` in `--bridge NAME`. */
  metavar?: string;
  summary: string;
}

export type OptionTable = Readonly<Record<string, OptionDef>>;

/** Parsed options: flags → true, values → string, lists → string[] (in order). Absent → undefined. */
export type ParsedOptions<T extends OptionTable> = {
  [K in keyof T]?: T[K]['kind'] extends 'flag' ? true : T[K]['kind'] extends 'list' ? string[] : string;
};

export interface ParseResult<T extends OptionTable> {
  options: ParsedOptions<T>;
  positionals: string[];
}

/** Short aliases understood everywhere. */
const SHORT_ALIASES: Readonly<Record<string, string>> = { '-h': '--help' };

export function parseLongOptions<T extends OptionTable>(
  argv: readonly string[],
  table: T,
  context: string,
): ParseResult<T> {
  const options: Record<string, true | string | string[]> = {};
  const positionals: string[] = [];
  const names = Object.keys(table);
  for (let i = 0; i < argv.length; i++) {
    const given = argv[i] ?? '';
    // Own keys only: a word such as "valueOf" or "__proto__" is a positional, not a table hit.
    const word = Object.hasOwn(SHORT_ALIASES, given) ? (SHORT_ALIASES[given] as string) : given;
    if (word === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!word.startsWith('-') || word === '-') {
      positionals.push(word);
      continue;
    }
    if (!word.startsWith('--'))
      throw invalidArgument(
        'option',
        `unknown option ${JSON.stringify(word)} for ${context}${didYouMean(word.replace(/^-+/, ''), names, (n) => `--${n}`)}`,
      );
    const eq = word.indexOf('=');
    const name = word.slice(2, eq < 0 ? undefined : eq);
    const def = Object.hasOwn(table, name) ? table[name] : undefined;
    if (def === undefined)
      throw invalidArgument(
        'option',
        `unknown option --${name} for ${context}${didYouMean(name, names, (n) => `--${n}`)}`,
      );
    if (def.kind === 'flag') {
      if (eq >= 0) throw invalidArgument(name, `--${name} takes no value`);
      if (options[name] !== undefined) throw invalidArgument(name, `--${name} given twice`);
      options[name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = word.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value?.startsWith('--')) value = undefined;
      else i++;
    }
    if (value === undefined)
      throw invalidArgument(name, `--${name} needs a value${def.metavar !== undefined ? ` (${def.metavar})` : ''}`);
    if (def.kind === 'value') {
      if (options[name] !== undefined) throw invalidArgument(name, `--${name} given twice`);
      options[name] = value;
    } else {
      const list = options[name];
      options[name] = Array.isArray(list) ? [...list, value] : [value];
    }
  }
  return { options: options as ParsedOptions<T>, positionals };
}

/** Help lines for a table: `  --bridge NAME      summary`. */
export function describeOptions(table: OptionTable): string {
  const rows = Object.entries(table).map(
    ([name, def]) => [`--${name}${def.metavar !== undefined ? ` ${def.metavar}` : ''}`, def.summary] as const,
  );
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, summary]) => `  ${left.padEnd(width)}${summary}`).join('\n');
}
