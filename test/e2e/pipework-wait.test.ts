/**
 * `pipework --wait`, run inside the container, returns once the interface is UP (pipework#243:
 * not merely present), and fails after its timeout with a message saying what it waited for.
 */
import { test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { useSharedOvs } from '../helpers/ovs.js';
import { TestNetns } from '../helpers/netns.js';
import { run } from '../../sandbox/exec.js';
import { useLeakCheck } from '../helpers/leak.js';

const PIPEWORK = join(__dirname, '..', '..', '..', 'bin', 'pipework');
const sharedOvs = useSharedOvs();
useLeakCheck();

test('pipework --wait returns when the attached interface comes up; times out clearly otherwise', async () => {
  const g = await TestNetns.create('wait');
  try {
    const waiter = spawn('ip', ['netns', 'exec', g.name, PIPEWORK, '--wait', '-i', 'eth1'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, PIPEWORK_WAIT_TIMEOUT_MS: '20000' },
    });
    const exited = new Promise<number | null>((resolve) => waiter.once('exit', resolve));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(waiter.exitCode, null, 'still waiting: eth1 does not exist yet');
    const ovs = sharedOvs();
    const attach = await run(['ip', 'netns', 'exec', ovs.netns, PIPEWORK, 'ovs0', `netns:${g.name}`, '10.30.0.2/24'], {
      env: { ...process.env, OVS_RUNDIR: ovs.dir },
    });
    assert.equal(attach.code, 0, attach.stderr);
    assert.equal(await exited, 0, 'the waiter returned once eth1 was up');
    const [l] = await g.ip('link', 'show', 'dev', 'eth1');
    assert.ok(l?.flags.includes('UP'));

    const timeout = await run(['ip', 'netns', 'exec', g.name, PIPEWORK, '--wait', '-i', 'eth9'], {
      env: { ...process.env, PIPEWORK_WAIT_TIMEOUT_MS: '300' },
    });
    assert.equal(timeout.code, 1);
    assert.match(timeout.stderr, /eth9.*absent after 300 ms/);
    const detach = await run(
      [
        'ip',
        'netns',
        'exec',
        ovs.netns,
        join(PIPEWORK, '..', 'netplumb'),
        'detach',
        '--container',
        `netns:${g.name}`,
        '--all',
      ],
      { env: { ...process.env, OVS_RUNDIR: ovs.dir } },
    );
    assert.equal(detach.code, 0, detach.stderr);
  } finally {
    await g.destroy();
  }
});
