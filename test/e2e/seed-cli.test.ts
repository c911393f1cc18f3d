/**
 * End to end, as a user runs it: real podman containers (`--net none`), the Docker-compatible
 * API, a private Open vSwitch in an emulated host namespace, and the installed commands
 * run exactly as the seed document writes them:
 *
 *   pipework ovs0 con1 10.0.0.1/24 @100   …   pipework ovs0 con4 10.0.0.4/24 @200
 *
 * Assertions through ping inside the containers and through ovs-vsctl.
 */
import { after, before, test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startOvs, type OvsInstance } from '../../sandbox/ovs.js';
import { PodmanSandbox, uniqueContainerName } from '../../sandbox/podman.js';
import { run, type RunResult } from '../../sandbox/exec.js';
import { useLeakCheck } from '../helpers/leak.js';

const ROOT = join(__dirname, '..', '..', '..');
let ovs: OvsInstance;
let bed: PodmanSandbox;
const names = [1, 2, 3, 4].map((i) => uniqueContainerName(`con${i}`));

before(async () => {
  ovs = await startOvs({ withVswitchd: true });
  bed = await PodmanSandbox.create();
  await bed.startService();
  for (const n of names) await bed.runContainer(n);
});
after(async () => {
  await bed?.destroy();
  await ovs?.stop();
});
useLeakCheck();

/** Run one of the installed commands on the emulated host (where ovs-vswitchd runs). */
function cli(prog: 'pipework' | 'netplumb', args: string[]): Promise<RunResult> {
  return run(['ip', 'netns', 'exec', ovs.netns, join(ROOT, 'bin', prog), ...args], {
    env: { ...process.env, OVS_RUNDIR: ovs.dir, DOCKER_HOST: bed.dockerHost },
    timeoutMs: 60_000,
  });
}

async function ping(from: string, to: string): Promise<boolean> {
  try {
    await bed.execIn(from, ['ping', '-c', '1', '-W', '1', to]);
    return true;
  } catch {
    return false;
  }
}

test('seed scenario 1 with the pipework command: same-VLAN containers ping, cross-VLAN ones do not', async () => {
  const vlans = [100, 100, 200, 200];
  for (const [i, n] of names.entries()) {
    const r = await cli('pipework', ['ovs0', n, `10.0.0.${i + 1}/24`, `@${vlans[i]}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '', 'pipework prints nothing on success');
  }
  // ovs0 did not exist: pipework created it (userspace datapath on this kernel).
  assert.equal((await ovs.vsctl(['get', 'bridge', 'ovs0', 'datapath_type'])).trim(), 'netdev');
  const ports = (await ovs.vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean);
  assert.equal(ports.length, 4);
  const tags = await Promise.all(ports.map(async (p) => (await ovs.vsctl(['get', 'port', p, 'tag'])).trim()));
  assert.deepEqual(tags.sort(), ['100', '100', '200', '200']);

  const [c1, c2, c3] = names as [string, string, string, string];
  assert.equal(await ping(c1, '10.0.0.2'), true, 'con1 → con2');
  assert.equal(await ping(c3, '10.0.0.4'), true, 'con3 → con4');
  for (const [a, b] of [
    [c1, '10.0.0.3'],
    [c1, '10.0.0.4'],
    [c2, '10.0.0.3'],
    [c2, '10.0.0.4'],
  ] as const) {
    assert.equal(await ping(a, b), false, `${a} ↛ ${b}`);
  }

  // Re-running the same command is a no-op success (pipework#166, #219).
  const again = await cli('pipework', ['ovs0', c1, '10.0.0.1/24', '@100']);
  assert.equal(again.code, 0, again.stderr);
  // A conflicting one is a clear error, exit 1 like pipework.
  const conflict = await cli('pipework', ['ovs0', c1, '10.0.0.1/24', '@200']);
  assert.equal(conflict.code, 1);
  assert.match(conflict.stderr, /already has eth1 attached .*--force/);

  // netplumb list --json sees the four, by container name.
  const list = await cli('netplumb', ['list', '--json']);
  assert.equal(list.code, 0, list.stderr);
  const listed = JSON.parse(list.stdout) as { attachments: { record: { guestName?: string; vlan?: number } }[] };
  assert.equal(listed.attachments.length, 4);
  assert.deepEqual(listed.attachments.map((a) => a.record.guestName?.replace(/^\//, '')).sort(), [...names].sort());

  // pipework route pass-through, natively inside the container.
  const route = await cli('pipework', ['route', c1, 'add', '10.9.0.0/16', 'via', '10.0.0.254']);
  assert.equal(route.code, 0, route.stderr);
  assert.match(await bed.execIn(c1, ['ip', 'route']), /10\.9\.0\.0\/16 via 10\.0\.0\.254 dev eth1/);

  // Detach everything of every container: the OVS ports and host veths are gone.
  for (const n of names) {
    const d = await cli('netplumb', ['detach', '--container', n, '--all', '--json']);
    assert.equal(d.code, 0, d.stderr);
    assert.equal((JSON.parse(d.stdout) as { detached: unknown[] }).detached.length, 1);
  }
  assert.deepEqual((await ovs.vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean), []);
  assert.equal((await bed.execIn(c1, ['ip', 'link'])).includes('eth1'), false);
});

test('a container that died: list shows the orphan, detach cleans it, bad input fails before anything changes', async () => {
  const n = uniqueContainerName('dead');
  await bed.runContainer(n);
  const r = await cli('netplumb', [
    'attach',
    '--bridge',
    'ovs0',
    '--container',
    n,
    '--ip',
    '10.0.1.2/24',
    '--vlan',
    '7',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const hostIf = (JSON.parse(r.stdout) as { record: { hostIfname: string } }).record.hostIfname;
  await bed.removeContainer(n);
  for (let i = 0; i < 100 && (await run(['ip', '-n', ovs.netns, 'link', 'show', hostIf])).code === 0; i++)
    await new Promise((res) => setTimeout(res, 50));
  const list = JSON.parse((await cli('netplumb', ['list', '--json'])).stdout) as {
    attachments: { orphaned: boolean; record: { hostIfname: string } }[];
  };
  assert.ok(list.attachments.find((a) => a.record.hostIfname === hostIf)?.orphaned);
  const d = await cli('netplumb', ['detach', '--container', n, '--all']);
  assert.equal(d.code, 0, d.stderr);
  assert.equal((await ovs.vsctl(['list-ports', 'ovs0'])).includes(hostIf), false);

  const bad = await cli('pipework', ['ovs0', names[0] as string, '10.0.0.1', '@100']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /maybe you meant 10\.0\.0\.1\/24/i);
  const unknown = await cli('pipework', ['ovs0', 'no-such-container', '10.0.0.9/24']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no-such-container/);
  assert.deepEqual((await ovs.vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean), []);
});
