/**
 * Failures during an attach (faults.md B, C, F): whatever step fails, every completed step
 * is undone in reverse, the error names the cause, and nothing is left behind — checked
 * through ip -json and ovs-vsctl, never through the engine itself.
 */
import { test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Plumber } from '../../src/plumb/plumber.js';
import { NetplumbError } from '../../src/errors.js';
import type { AttachSpec } from '../../src/plumb/spec.js';
import { useSharedOvs } from '../helpers/ovs.js';
import { TestNetns } from '../helpers/netns.js';
import { must, run } from '../../sandbox/exec.js';
import { useLeakCheck } from '../helpers/leak.js';

const sharedOvs = useSharedOvs();
useLeakCheck();

const code = (c: string) => (e: unknown) => e instanceof NetplumbError && e.code === c;

/** Host-side links, guest links, guest routes and OVS ports: what an attach may change. */
async function state(g: TestNetns): Promise<string> {
  const hostLinks = JSON.parse(await must(['ip', '-json', '-n', sharedOvs().netns, 'link', 'show'])) as {
    ifname: string;
  }[];
  return JSON.stringify({
    host: hostLinks.map((l) => l.ifname).sort(),
    guest: await g.linkNames(),
    routes: await g.ip('route', 'show'),
    ports: (await sharedOvs().vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean),
  });
}

async function withGuest(body: (g: TestNetns) => Promise<void>): Promise<void> {
  const g = await TestNetns.create('f');
  try {
    await body(g);
  } finally {
    await g.destroy();
  }
}

function spec(g: TestNetns): AttachSpec {
  return {
    host: 'ovs0',
    guest: { netns: g.name },
    ip: { kind: 'static', address: '10.7.0.2/24', gateway: '10.7.0.1' },
    vlan: 70,
  };
}

test('C1: failing right after each step k rolls back every earlier step', async () => {
  await withGuest(async (g) => {
    const before = await state(g);
    // Learn the steps of a full attach, then fail after each of them in turn.
    const steps: string[] = [];
    const probe = Plumber.open({
      ovsDb: sharedOvs().remote,
      hostNetns: { name: sharedOvs().netns },
      stepHook: (s) => void steps.push(s),
    });
    await probe.attach(spec(g));
    await probe.detach({ guest: { netns: g.name } });
    await probe.close();
    assert.ok(steps.length >= 4, `steps: ${steps.join(', ')}`);
    assert.equal(await state(g), before);
    for (let k = 0; k < steps.length; k++) {
      const p = Plumber.open({
        ovsDb: sharedOvs().remote,
        hostNetns: { name: sharedOvs().netns },
        stepHook: (_s, i) => {
          if (i === k) throw new NetplumbError('INTERNAL', `injected fault after step ${k} (${steps[k]})`);
        },
      });
      try {
        await assert.rejects(p.attach(spec(g)), new RegExp(`injected fault after step ${k}`));
      } finally {
        await p.close();
      }
      assert.equal(await state(g), before, `after a fault at step ${k} (${steps[k]}) something was left`);
    }
  });
});

test('C8: ovs-vswitchd not running → DATAPLANE_APPLY_FAILED within the deadline, rolled back', async () => {
  await withGuest(async (g) => {
    const before = await state(g);
    await sharedOvs().stopVswitchd();
    const p = Plumber.open({ ovsDb: sharedOvs().remote, hostNetns: { name: sharedOvs().netns }, applyTimeoutMs: 1500 });
    try {
      const t0 = Date.now();
      await assert.rejects(p.attach(spec(g)), code('DATAPLANE_APPLY_FAILED'));
      assert.ok(Date.now() - t0 < 5000, 'returned soon after the deadline');
    } finally {
      await p.close();
      await sharedOvs().startVswitchd();
    }
    assert.equal(await state(g), before);
  });
});

test('F6: the bridge deleted by an admin between preflight and commit → NOT_FOUND, veth removed', async () => {
  await withGuest(async (g) => {
    await sharedOvs().addBridge('ovs1');
    const p = Plumber.open({
      ovsDb: sharedOvs().remote,
      hostNetns: { name: sharedOvs().netns },
      stepHook: async (s) => {
        if (s === 'veth') await sharedOvs().vsctl(['del-br', 'ovs1']);
      },
    });
    try {
      await assert.rejects(p.attach({ ...spec(g), host: 'ovs1' }), code('NOT_FOUND'));
    } finally {
      await p.close();
    }
    assert.deepEqual(await g.linkNames(), ['lo']);
    const hostLinks = JSON.parse(
      await must(['ip', '-json', '-n', sharedOvs().netns, 'link', 'show', 'type', 'veth']),
    ) as unknown[];
    assert.equal(hostLinks.length, 0);
  });
});

test('B5: OVSDB unreachable → UNAVAILABLE before any veth is created', async () => {
  await withGuest(async (g) => {
    const before = await state(g);
    const p = Plumber.open({
      ovsDb: `unix:${join(sharedOvs().dir, 'missing.sock')}`,
      hostNetns: { name: sharedOvs().netns },
    });
    try {
      await assert.rejects(
        p.attach(spec(g)),
        (e: unknown) => e instanceof NetplumbError && e.code === 'UNAVAILABLE' && /missing\.sock/.test(e.message),
      );
    } finally {
      await p.close();
    }
    assert.equal(await state(g), before);
  });
});

test('B1: without CAP_NET_ADMIN the CLI fails with PRIVILEGE and changes nothing', async () => {
  await withGuest(async (g) => {
    const before = await state(g);
    const cli = join(__dirname, '..', '..', '..', 'bin', 'netplumb');
    const r = await run(
      [
        'setpriv',
        '--inh-caps=-all',
        '--bounding-set=-net_admin',
        'ip',
        'netns',
        'exec',
        sharedOvs().netns,
        cli,
        'attach',
        '--bridge',
        'ovs0',
        '--container',
        `netns:${g.name}`,
        '--ip',
        '10.7.0.2/24',
      ],
      {
        env: { ...process.env, OVS_RUNDIR: sharedOvs().dir },
      },
    );
    // `ip netns exec` itself needs CAP_SYS_ADMIN only; our preflight must refuse before anything else.
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /CAP_NET_ADMIN|not permitted|PRIVILEGE/);
    assert.equal(await state(g), before);
  });
});

test("C6: the guest's own default route, replaced by the attach, is put back when the attach fails after that", async () => {
  await withGuest(async (g) => {
    await g.exec(['ip', 'link', 'add', 'own0', 'type', 'veth', 'peer', 'name', 'own1']);
    await g.exec(['ip', 'addr', 'add', '192.168.77.2/24', 'dev', 'own0']);
    await g.exec(['ip', 'link', 'set', 'own0', 'up']);
    await g.exec(['ip', 'link', 'set', 'own1', 'up']);
    await g.exec(['ip', 'route', 'add', 'default', 'via', '192.168.77.1', 'dev', 'own0']);
    const before = await g.ip('route', 'show');
    const p = Plumber.open({
      ovsDb: sharedOvs().remote,
      hostNetns: { name: sharedOvs().netns },
      stepHook: (s) => {
        if (s === 'guest default route') throw new NetplumbError('INTERNAL', 'injected fault after the default route');
      },
    });
    try {
      await assert.rejects(p.attach(spec(g)), /injected fault/);
    } finally {
      await p.close();
    }
    assert.deepEqual(await g.ip('route', 'show'), before, 'the routing table is as it was');
    assert.deepEqual((await g.linkNames()).sort(), ['lo', 'own0', 'own1']);
  });
});
