/**
 * Concurrency (faults.md E1, and the batching of issue "high churn"): many attaches at
 * once share OVSDB transactions; every one succeeds with its own port; a member whose port
 * cannot be added fails alone and is rolled back alone; concurrent detaches clean everything.
 */
import { test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { Plumber } from '../../src/plumb/plumber.js';
import type { NetplumbError } from '../../src/errors.js';
import { useSharedOvs } from '../helpers/ovs.js';
import { TestNetns } from '../helpers/netns.js';
import { must } from '../../sandbox/exec.js';
import { useLeakCheck } from '../helpers/leak.js';

const N = 60;
const sharedOvs = useSharedOvs();
useLeakCheck();

async function hostVeths(): Promise<string[]> {
  return (
    JSON.parse(await must(['ip', '-json', '-n', sharedOvs().netns, 'link', 'show', 'type', 'veth'])) as {
      ifname: string;
    }[]
  )
    .map((l) => l.ifname)
    .sort();
}

test(`${N} concurrent attaches: all succeed, ${N} distinct ports in Bridge.ports; one clashing member fails alone`, async () => {
  const guests = await Promise.all(Array.from({ length: N }, () => TestNetns.create('c')));
  const p = Plumber.open({ ovsDb: sharedOvs().remote, hostNetns: { name: sharedOvs().netns } });
  try {
    // A foreign OVS port (no kernel device behind it) already holds the name one member asks for.
    await sharedOvs().vsctl(['--no-wait', 'add-port', 'ovs0', 'clash0']);
    const outcomes = await Promise.allSettled(
      guests.map((g, i) =>
        p.attach({
          host: 'ovs0',
          guest: { netns: g.name },
          vlan: 100 + (i % 3),
          ip: { kind: 'static', address: `10.20.${i >> 8}.${(i & 255) + 1}/16` },
          ...(i === 7 ? { hostIfname: 'clash0' } : {}),
        }),
      ),
    );
    const failed = outcomes.map((o, i) => [o, i] as const).filter(([o]) => o.status === 'rejected');
    assert.deepEqual(
      failed.map(([, i]) => i),
      [7],
      'only the clashing member failed',
    );
    const outcome = failed[0]?.[0];
    assert.ok(outcome?.status === 'rejected');
    const reason = outcome.reason as NetplumbError;
    assert.equal(reason.code, 'ALREADY_EXISTS', reason.message);
    // Oracle: exactly N-1 of our ports plus the foreign one; N-1 host veths (the clash was rolled back).
    const ports = (await sharedOvs().vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean);
    assert.equal(ports.length, N);
    assert.equal(new Set(ports).size, N);
    assert.equal((await hostVeths()).length, N - 1);
    assert.deepEqual(await (guests[7] as TestNetns).linkNames(), ['lo']);
    const ofports = await Promise.all(
      ports
        .filter((x) => x !== 'clash0')
        .map(async (x) => Number((await sharedOvs().vsctl(['get', 'interface', x, 'ofport'])).trim())),
    );
    assert.ok(
      ofports.every((o) => o > 0),
      'every port applied by ovs-vswitchd',
    );
    // Two guests of the same VLAN reach each other.
    assert.equal(await (guests[0] as TestNetns).ping('10.20.0.4'), true);

    await Promise.all(guests.map((g) => p.detach({ guest: { netns: g.name } })));
    assert.deepEqual((await sharedOvs().vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean), ['clash0']);
    assert.deepEqual(await hostVeths(), []);
    await sharedOvs().vsctl(['del-port', 'ovs0', 'clash0']);
  } finally {
    for (const g of guests) await g.destroy();
    await p.close();
  }
});
