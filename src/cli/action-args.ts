/**
 * Commands with actions (`netplumb uplink add|del|list`, `netplumb network create|…`): the
 * action is the first word after the command; each action takes some of the command's
 * options, and the others are refused by name. Pure: no I/O.
 */
import { invalidArgument } from '../errors.js';
import type { OptionTable, ParsedOptions } from './long-options.js';
import { didYouMean } from './suggest.js';

/** The action word among `actions`, or INVALID_ARGUMENT listing them. */
export function actionOf<A extends string>(command: string, word: string | undefined, actions: readonly A[]): A {
  if (word === undefined) throw invalidArgument('action', `netplumb ${command} needs an action: ${actions.join(', ')}`);
  const found = actions.find((a) => a === word);
  if (found === undefined)
    throw invalidArgument(
      'action',
      `unknown action ${JSON.stringify(word)} for netplumb ${command}${didYouMean(word, actions)}; actions: ${actions.join(', ')}`,
    );
  return found;
}

/** Refuse the options given that `action` does not take (`json`, `help` and `no-daemon` are always taken). */
export function onlyOptions<T extends OptionTable>(
  command: string,
  action: string,
  options: ParsedOptions<T>,
  allowed: readonly (keyof T & string)[],
): void {
  for (const name of Object.keys(options)) {
    if (name === 'json' || name === 'help' || name === 'no-daemon' || allowed.includes(name)) continue;
    throw invalidArgument(name, `netplumb ${command} ${action} takes no --${name}`);
  }
}

/** Refuse positionals beyond the `max` an action takes. */
export function atMostPositionals(command: string, action: string, rest: readonly string[], max: number): void {
  const extra = rest[max];
  if (extra !== undefined)
    throw invalidArgument('argv', `unexpected argument ${JSON.stringify(extra)} for netplumb ${command} ${action}`);
}
