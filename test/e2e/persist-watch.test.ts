/**
 * The daemon's watch on the container engine under stress, with real podman: a burst of
 * restarts (8 containers, 40 restarts in all, five back to back per container, all
 * containers at once) ends with every container attached exactly once — one eth1 with its
 * address and MAC in its current namespace (`ip -json`), one OVS port each
 * (`ovs-vsctl --format=json`) — and no storm of errors in the daemon's log; and podman's API
 * service restarted (the event stream dropped) while a container restarts: the daemon
 * reconnects, reconciles, and the container is attached again.
 * (The 300 restarts of 30 containers run as `PERSIST_BURST=30x300 npm run bench -- persist`.)
 */
import { test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { uniqueContainerName } from '../../sandbox/podman.js';
import { useLeakCheck } from '../helpers/leak.js';
import { PersistBed, eventually } from '../helpers/persist-bed.js';
import { attachedOnce, restartBurst } from '../helpers/persist-burst.js';

useLeakCheck();

const CONTAINERS = 8;
const RESTARTS_EACH = 5;

test(`a burst of ${CONTAINERS * RESTARTS_EACH} restarts of ${CONTAINERS} containers: each attached exactly once, no error storm`, {
  timeout: 240_000,
}, async (t) => {
  const bed = await PersistBed.create();
  try {
    await bed.startDaemon();
    const names = Array.from({ length: CONTAINERS }, (_, i) => uniqueContainerName(`burst${i}`));
    for (const n of names) await bed.podman.runContainer(n);
    const want = new Map<string, { ip: string; mac: string }>();
    for (const [i, n] of names.entries()) {
      const ip = `10.9.1.${i + 1}/24`;
      const out = JSON.parse(
        await bed.ok([
          'attach',
          '--bridge',
          'ovs0',
          '--container',
          n,
          '--ip',
          ip,
          '--vlan',
          '100',
          '--persist',
          '--json',
        ]),
      ) as { record: { mac: string } };
      want.set(n, { ip, mac: out.record.mac });
    }
    const logBefore = bed.log().length;
    await restartBurst(bed, names, RESTARTS_EACH);
    await attachedOnce(bed, want);
    const during = bed.log().slice(logBefore);
    const errors = during.filter((l) => l.level >= 50);
    const warnings = during.filter((l) => l.level === 40);
    const applied = during.filter((l) => l.msg === 'declared attachments applied').length;
    t.diagnostic(
      `reconciles that applied: ${applied}, warnings: ${warnings.length}, restarts: ${names.length * RESTARTS_EACH}`,
    );
    assert.deepEqual(errors, [], 'no error logged');
    // A reconcile cut short by the container's next run is no fault (logged at debug); what is
    // left are real failures, and a burst must not make them pile up.
    assert.ok(
      warnings.length <= CONTAINERS,
      `at most one warning per container, got ${warnings.length}: ${JSON.stringify(warnings.map((w) => w.reasons ?? w.msg)).slice(0, 2000)}`,
    );
    for (const n of names) await bed.ok(['detach', '--container', n]);
    assert.deepEqual(bed.declarations(), []);
    assert.deepEqual(await bed.ovsPorts(), []);
  } finally {
    await bed.destroy();
  }
});

test("podman's API service restarted while a container restarts: reconnected, reconciled, attached again", {
  timeout: 180_000,
}, async () => {
  const bed = await PersistBed.create();
  try {
    await bed.startDaemon();
    const a = uniqueContainerName('svc');
    await bed.podman.runContainer(a);
    const out = JSON.parse(
      await bed.ok(['attach', '--bridge', 'ovs0', '--container', a, '--ip', '10.9.2.1/24', '--persist', '--json']),
    ) as { record: { mac: string } };
    const followed = () => bed.log().filter((l) => l.msg === 'following container events').length;
    assert.equal(followed(), 1);
    await bed.podman.stopService();
    await eventually('the daemon saw the stream end', async () =>
      bed.log().some((l) => /event stream ended|cannot follow/.test(l.msg)) ? true : undefined,
    );
    // The engine's API is down: the restart's events reach nobody now.
    await bed.podman.podman(['restart', '-t', '0', a]);
    await bed.podman.startService();
    await eventually('the daemon follows the events again', async () => (followed() >= 2 ? true : undefined));
    await attachedOnce(bed, new Map([[a, { ip: '10.9.2.1/24', mac: out.record.mac }]]));
    await bed.ok(['detach', '--container', a]);
    assert.deepEqual(await bed.ovsPorts(), []);
  } finally {
    await bed.destroy();
  }
});
