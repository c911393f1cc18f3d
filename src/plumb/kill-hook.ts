/**
 * Test hooks, for crash-consistency tests only. Read once, when the `netplumb` command or
 * `netplumb serve` starts; unset (the normal case) they add nothing. Not for production use.
 *
 *  - `NETPLUMB_TEST_KILL_AT=attach:K` (or `detach:K`): the process SIGKILLs itself right
 *    after step K (0-based) of its first attach (or detach) to get there, as a power cut or
 *    an OOM kill would, leaving that step's state behind with no rollback.
 *  - `NETPLUMB_TEST_HOLD_AT=attach:K[:A-B]` (or `detach:…`), read by `netplumb serve`: right
 *    after step K the attaches (detaches) stop and wait for ever; with `A-B`, only the A-th
 *    to the B-th to get there (counted from 1). A test then holds a daemon with operations
 *    stopped exactly there, and others elsewhere, when it kills it.
 */
import { invalidArgument } from '../errors.js';
import type { StepHook } from './rollback.js';

export const KILL_AT_ENV = 'NETPLUMB_TEST_KILL_AT';
export const HOLD_AT_ENV = 'NETPLUMB_TEST_HOLD_AT';

export interface KillHooks {
  stepHook?: StepHook;
  detachStepHook?: StepHook;
}

type Operation = 'attach' | 'detach';

interface Where {
  operation: Operation;
  step: number;
}

const STEP = '(0|[1-9][0-9]{0,3})';
const COUNT = '([1-9][0-9]{0,5})';

function parseWhere(env: string, text: string, withRange: boolean): Where & { range?: [number, number] } {
  const m = new RegExp(`^(attach|detach):${STEP}${withRange ? `(?::${COUNT}-${COUNT})?` : ''}$`).exec(text);
  const range =
    m?.[3] !== undefined && m[4] !== undefined ? ([Number(m[3]), Number(m[4])] as [number, number]) : undefined;
  if (m === null || (range !== undefined && range[0] > range[1]))
    throw invalidArgument(
      env,
      `${JSON.stringify(text)}: expected attach:K or detach:K (K = step index from 0)${withRange ? ', optionally :A-B (the A-th to the B-th operation to get there, from 1)' : ''}`,
    );
  return { operation: m[1] as Operation, step: Number(m[2]), ...(range ? { range } : {}) };
}

/** SIGKILL right after step K. */
function killAt(at: Where): StepHook {
  return (_step, index) => {
    if (index === at.step) process.kill(process.pid, 'SIGKILL');
  };
}

/** Never return from step K (of the A-th to B-th operations to get there). */
function holdAt(at: Where & { range?: [number, number] }): StepHook {
  let arrived = 0;
  return (_step, index) => {
    if (index !== at.step) return;
    arrived++;
    if (at.range !== undefined && (arrived < at.range[0] || arrived > at.range[1])) return;
    return new Promise<void>(() => undefined);
  };
}

function both(a: StepHook | undefined, b: StepHook): StepHook {
  return a === undefined ? b : (step, index) => a(step, index) ?? b(step, index);
}

export function killHooksFromEnv(env: NodeJS.ProcessEnv = process.env): KillHooks {
  const hooks: KillHooks = {};
  const add = (at: Where, hook: StepHook) => {
    const key = at.operation === 'attach' ? 'stepHook' : 'detachStepHook';
    hooks[key] = both(hooks[key], hook);
  };
  const kill = env[KILL_AT_ENV];
  if (kill !== undefined && kill !== '') {
    const at = parseWhere(KILL_AT_ENV, kill, false);
    add(at, killAt(at));
  }
  const hold = env[HOLD_AT_ENV];
  if (hold !== undefined && hold !== '') {
    const at = parseWhere(HOLD_AT_ENV, hold, true);
    add(at, holdAt(at));
  }
  return hooks;
}
