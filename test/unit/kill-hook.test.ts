/**
 * The crash tests' hooks (src/plumb/kill-hook.ts), parsed from the environment: where an
 * operation stops for ever, and which ones; malformed values are refused. (SIGKILL itself is
 * exercised by test/privileged/crash.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOLD_AT_ENV, KILL_AT_ENV, killHooksFromEnv } from '../../src/plumb/kill-hook.js';
import { isNetplumbError } from './support/assert-error.js';

/** Whether the hook held the operation there (a promise that never settles) or let it go on. */
async function held(result: void | Promise<void>): Promise<boolean> {
  if (result === undefined) return false;
  const tick = new Promise<'go'>((r) => setTimeout(() => r('go'), 20));
  return (await Promise.race([result.then(() => 'done' as const), tick])) === 'go';
}

test('nothing set: no hooks', () => {
  assert.deepEqual(killHooksFromEnv({}), {});
  assert.deepEqual(killHooksFromEnv({ [KILL_AT_ENV]: '', [HOLD_AT_ENV]: '' }), {});
});

test('hold attach:K:A-B stops the A-th to the B-th attaches to get past step K, and no other', async () => {
  const { stepHook, detachStepHook } = killHooksFromEnv({ [HOLD_AT_ENV]: 'attach:1:3-4' });
  assert.equal(detachStepHook, undefined);
  assert.ok(stepHook);
  const seen: boolean[] = [];
  for (let n = 1; n <= 6; n++) {
    assert.equal(await held(stepHook('veth', 0)), false, 'step 0 is never held');
    seen.push(await held(stepHook('veth record', 1)));
  }
  assert.deepEqual(seen, [false, false, true, true, false, false]);
});

test('hold detach:K without a range stops every detach there', async () => {
  const { stepHook, detachStepHook } = killHooksFromEnv({ [HOLD_AT_ENV]: 'detach:0' });
  assert.equal(stepHook, undefined);
  assert.ok(detachStepHook);
  for (let n = 0; n < 3; n++) assert.equal(await held(detachStepHook('ovs port', 0)), true);
  assert.equal(await held(detachStepHook('host link', 1)), false);
});

test('malformed values are INVALID_ARGUMENT naming the variable', () => {
  for (const [env, text] of [
    [KILL_AT_ENV, 'attach'],
    [KILL_AT_ENV, 'attach:1:2-3'],
    [KILL_AT_ENV, 'move:1'],
    [HOLD_AT_ENV, 'attach:01'],
    [HOLD_AT_ENV, 'attach:1:4-3'],
    [HOLD_AT_ENV, 'attach:1:0-3'],
    [HOLD_AT_ENV, 'attach:1:3'],
  ] as const)
    assert.throws(() => killHooksFromEnv({ [env]: text }), isNetplumbError('INVALID_ARGUMENT', env), `${env}=${text}`);
});
