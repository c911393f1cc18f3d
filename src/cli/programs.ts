/**
 * The programs the front door serves, by name (the basename it was called by): each one's
 * CommandMain, loaded on first use. The daemon runs relayed calls through this table; a
 * new program is one more line.
 */
import type { CommandMain } from './io.js';

export const PROGRAMS = {
  netplumb: () => (require('./netplumb.js') as typeof import('./netplumb.js')).main,
  pipework: () => (require('./pipework.js') as typeof import('./pipework.js')).main,
  'netplumb-cni': () => (require('./netplumb-cni.js') as typeof import('./netplumb-cni.js')).main,
} satisfies Record<string, () => CommandMain>;

export type ProgramName = keyof typeof PROGRAMS;

/** Program name → its CommandMain, loaded on first use. */
export type ProgramTable = Readonly<Record<string, () => CommandMain>>;

export function isProgram(name: string): name is ProgramName {
  return Object.hasOwn(PROGRAMS, name);
}
