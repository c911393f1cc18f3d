/**
 * Test hook, for crash-consistency tests only: `NETPLUMB_TEST_KILL_AT=attach:K` (or
 * `detach:K`) makes the process SIGKILL itself right after step K (0-based) of its first
 * attach (or detach), as a power cut or an OOM kill would, leaving that step's state
 * behind with no rollback. Read once, when the `netplumb` command starts; unset (the
 * normal case) it adds nothing. Not for production use.
 */
import { invalidArgument } from '../errors.js';
import type { StepHook } from './rollback.js';

export const KILL_AT_ENV = 'NETPLUMB_TEST_KILL_AT';

export interface KillHooks {
  stepHook?: StepHook;
  detachStepHook?: StepHook;
}

export function killHooksFromEnv(env: NodeJS.ProcessEnv = process.env): KillHooks {
  const text = env[KILL_AT_ENV];
  if (text === undefined || text === '') return {};
  const m = /^(attach|detach):(0|[1-9][0-9]{0,3})$/.exec(text);
  if (m === null)
    throw invalidArgument(
      KILL_AT_ENV,
      `${JSON.stringify(text)}: expected attach:K or detach:K (K = step index from 0)`,
    );
  const at = Number(m[2]);
  const hook: StepHook = (_step, index) => {
    if (index === at) process.kill(process.pid, 'SIGKILL');
  };
  return m[1] === 'attach' ? { stepHook: hook } : { detachStepHook: hook };
}
