/**
 * OVN across emulated hosts: a central (northbound and southbound ovsdb-server,
 * ovn-northd) and three chassis h1..h3 (a namespace each with its own ovsdb-server,
 * ovs-vswitchd on the userspace datapath and ovn-controller), Geneve between them over an
 * underlay. One bed for the whole file. Oracles: ovn-nbctl, ovn-sbctl, ovs-vsctl,
 * `ip -json`, ping and iperf3 from inside the guests.
 *
 * The seed's scenario across three hosts; addresses (static, allocated, conflicts); an OVN
 * network bridged to physical VLAN 100 reaching a container attached the plain way on a
 * trunked host; faults K1–K5 of shared/docs/faults.md; a chassis removed.
 */
import { after, before, test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonClient } from '../../src/daemon/client.js';
import { startDaemon, type Daemon } from '../../src/daemon/server.js';
import { ErrorCode, NetplumbError } from '../../src/errors.js';
import { logicalPortName } from '../../src/ovn/marks.js';
import { Plumber } from '../../src/plumb/plumber.js';
import { attachmentId } from '../../src/plumb/record.js';
import type { AttachSpec } from '../../src/plumb/spec.js';
import { connectHosts } from '../../sandbox/cable.js';
import { run } from '../../sandbox/exec.js';
import { startOvnBed, type OvnBed } from '../../sandbox/ovn-bed.js';
import { startOvs } from '../../sandbox/ovs.js';
import { useLeakCheck } from '../helpers/leak.js';
import { TestNetns } from '../helpers/netns.js';
import { leftovers, nbPorts, ourNbPorts, sbBindings } from '../helpers/ovn.js';
import { eventually, ourPorts } from '../helpers/ours.js';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'netplumb');
let bed: OvnBed;
/** One engine per chassis, connected before the tests (the leak check counts fds per test). */
let plumbers: Plumber[];

before(async () => {
  bed = await startOvnBed({ tag: `np-ovn-${process.pid}`, hosts: 3 });
  plumbers = bed.hosts.map((h) =>
    Plumber.open({ ovsDb: h.ovs.remote, hostNetns: { name: h.ovs.netns }, ovnNb: bed.central.nbRemote }),
  );
  for (const p of plumbers) await p.list();
  for (const name of ['vlan100', 'vlan200'])
    await plumbers[0]?.networks.create({ name, subnet: '10.0.0.0/24', excludeIps: ['10.0.0.1..10.0.0.99'] });
});
after(async () => {
  for (const p of plumbers ?? []) await p.close();
  await bed?.stop();
});
useLeakCheck();

function plumber(host: number): Plumber {
  const p = plumbers[host];
  if (p === undefined) throw new Error(`no host ${host}`);
  return p;
}

function spec(guest: TestNetns, network: string, ip?: string): AttachSpec {
  return {
    host: 'br-int',
    network,
    guest: { netns: guest.name },
    ip: ip === undefined ? { kind: 'none' } : { kind: 'static', address: `${ip}/24` },
  };
}

async function rejects(p: Promise<unknown>, code: string, text: RegExp): Promise<NetplumbError> {
  let caught: NetplumbError | undefined;
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof NetplumbError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, text);
    caught = e;
    return true;
  });
  return caught as NetplumbError;
}

/** A first packet across hosts may be lost while the tunnel's neighbour resolves: up to 5 tries. */
async function reaches(from: TestNetns, to: string): Promise<boolean> {
  for (let i = 0; i < 5; i++) if (await from.ping(to)) return true;
  return false;
}

/** The guest's addresses on eth1 (ip -json). */
async function addressesOf(g: TestNetns): Promise<string[]> {
  const [l] = await g.ip<{ addr_info: { local: string; prefixlen: number }[] }>('addr', 'show', 'dev', 'eth1');
  return (l?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`);
}

async function withGuests(n: number, fn: (g: TestNetns[]) => Promise<void>): Promise<void> {
  const guests = await Promise.all(Array.from({ length: n }, () => TestNetns.create('ovn')));
  try {
    await fn(guests);
  } finally {
    for (const g of guests) await g.destroy();
  }
}

test('the seed across three hosts: vlan100 and vlan200 in one /24, same network reaches, TCP through the tunnel, nothing left', async () => {
  await withGuests(4, async ([c1, c2, c3, c4]) => {
    const g = [c1, c2, c3, c4] as TestNetns[];
    const plan: [number, string, string][] = [
      [0, 'vlan100', '10.0.0.1'],
      [1, 'vlan100', '10.0.0.2'],
      [0, 'vlan200', '10.0.0.3'],
      [2, 'vlan200', '10.0.0.4'],
    ];
    for (const [i, [host, network, ip]] of plan.entries()) {
      const r = await plumber(host).attach(spec(g[i] as TestNetns, network, ip));
      assert.equal(r.record.mode, 'ovn');
      assert.equal(r.record.network, network);
      assert.ok((r.waitedMs ?? -1) >= 0, 'the wait for ovn-controller is reported');
    }
    // Northbound: four ports of ours, up, with the MAC and address as addresses and port security.
    const nb = await ourNbPorts(bed.central);
    assert.equal(nb.length, 4);
    for (const p of nb) {
      assert.equal(p.up, true, `${p.name} up`);
      assert.deepEqual(p.addresses, p.portSecurity);
      assert.match(p.addresses[0] ?? '', /^02(:[0-9a-f]{2}){5} 10\.0\.0\.[1-4]$/);
    }
    // Southbound: each bound on its own chassis; each host's interface named for its port.
    const bound = await sbBindings(bed.central);
    assert.deepEqual(nb.map((p) => bound.get(p.name)).sort(), ['h1', 'h1', 'h2', 'h3']);
    for (const h of bed.hosts)
      for (const port of await ourPorts(h.ovs)) {
        const ids = (await h.vsctl(['get', 'Interface', port.name, 'external_ids'])).trim();
        assert.match(ids, /iface-id=np-[a-z2-7]{10}-[a-z2-7]{6}/);
        assert.match(ids, /ovn-installed="?true/);
      }
    assert.equal(await reaches(c1 as TestNetns, '10.0.0.2'), true, 'con1 (h1) → con2 (h2) on vlan100');
    assert.equal(await reaches(c3 as TestNetns, '10.0.0.4'), true, 'con3 (h1) → con4 (h3) on vlan200');
    const isolated = [
      [c1, '10.0.0.3'],
      [c1, '10.0.0.4'],
      [c2, '10.0.0.3'],
      [c4, '10.0.0.1'],
    ] as const;
    // Each unanswered ping waits its second out: all at once.
    const replies = await Promise.all(isolated.map(([from, to]) => (from as TestNetns).ping(to)));
    isolated.forEach(([from, to], i) => {
      assert.equal(replies[i], false, `${(from as TestNetns).name} ↛ ${to}: another network`);
    });
    // TCP across the tunnel, h1 → h2.
    const server = (c2 as TestNetns).exec(['iperf3', '-s', '-1', '-B', '10.0.0.2'], 30_000);
    await new Promise((r) => setTimeout(r, 300));
    const client = JSON.parse(
      await (c1 as TestNetns).exec(['iperf3', '-c', '10.0.0.2', '-t', '1', '-J', '--connect-timeout', '3000'], 30_000),
    ) as { end?: { sum_received?: { bits_per_second?: number } } };
    await server;
    assert.ok((client.end?.sum_received?.bits_per_second ?? 0) > 0, 'TCP through the Geneve tunnel');
    // list shows each host its own.
    assert.deepEqual((await plumber(0).list()).map((a) => [a.record.mode, a.record.network]).sort(), [
      ['ovn', 'vlan100'],
      ['ovn', 'vlan200'],
    ]);
    for (const [i, [host]] of plan.entries())
      await plumber(host).detach({ guest: { netns: (g[i] as TestNetns).name } });
    await eventually(
      'nothing of the four left in NB, SB and OVS',
      async () => (await leftovers(bed)).length === 0,
      10_000,
    );
  });
});

test('addresses: allocated by ovn-northd from the subnet, static ones checked; conflicts are errors and leave nothing', async () => {
  await withGuests(3, async ([a, b, c]) => {
    const dyn = await plumber(1).attach(spec(a as TestNetns, 'vlan100'));
    const [mine] = await addressesOf(a as TestNetns);
    assert.match(mine ?? '', /^10\.0\.0\.(\d+)\/24$/, 'an address of the subnet, configured in the guest');
    assert.ok(Number(/\.(\d+)\//.exec(mine ?? '')?.[1]) >= 100, 'outside the range excluded for static addresses');
    const nb = (await ourNbPorts(bed.central)).find((p) => p.externalIds['netplumb.attachment'] === dyn.record.id);
    const ip = (mine ?? '').split('/')[0] as string;
    assert.ok(nb?.portSecurity[0]?.endsWith(` ${ip}`), `port security holds the allocated ${ip}: ${nb?.portSecurity}`);
    await plumber(0).attach(spec(b as TestNetns, 'vlan100', '10.0.0.50'));
    assert.equal(await reaches(a as TestNetns, '10.0.0.50'), true, 'allocated (h2) → static (h1)');
    const again = await plumber(0).attach(spec(b as TestNetns, 'vlan100', '10.0.0.50'));
    assert.equal(again.changed, false, 'the same attach twice: a no-op');
    const before = await nbPorts(bed.central);
    await rejects(
      plumber(2).attach(spec(c as TestNetns, 'vlan100', '10.0.0.50')),
      ErrorCode.CONFLICT,
      /10\.0\.0\.50 is already/,
    );
    await rejects(plumber(2).attach(spec(c as TestNetns, 'vlan100', ip)), ErrorCode.CONFLICT, /already the address/);
    await rejects(
      plumber(2).attach(spec(c as TestNetns, 'vlan100', '10.9.0.1')),
      ErrorCode.INVALID_ARGUMENT,
      /outside the subnet/,
    );
    assert.deepEqual(await nbPorts(bed.central), before, 'the northbound database is as it was');
    assert.deepEqual(await (c as TestNetns).linkNames(), ['lo'], 'nothing left in the refused guest');
    assert.deepEqual(await ourPorts(bed.hosts[2]?.ovs ?? assert.fail()), [], 'nor on its host');
    await plumber(1).detach({ guest: { netns: (a as TestNetns).name } });
    await plumber(0).detach({ guest: { netns: (b as TestNetns).name } });
    await eventually('nothing left', async () => (await leftovers(bed)).length === 0, 10_000);
  });
});

test('an OVN network bridged to physical VLAN 100 reaches a container attached @100 on a trunked host', async () => {
  // A plain host P (no OVN): ovs0 with a trunk to h1's ovs0, whose physnet feeds the localnet port.
  const phys = await startOvs({ netnsName: `np-ovn-${process.pid}-p` });
  const p = Plumber.open({ ovsDb: phys.remote, hostNetns: { name: phys.netns } });
  const h1 = plumber(0);
  try {
    await connectHosts({ netns: bed.hosts[0]?.ovs.netns as string, nic: 'eth1' }, { netns: phys.netns, nic: 'eth1' });
    await h1.uplinks.add({ bridge: 'ovs0', nic: 'eth1', createBridge: true, physnet: 'physnet' });
    await p.uplinks.add({ bridge: 'ovs0', nic: 'eth1', createBridge: true });
    await h1.networks.create({ name: 'phys100', subnet: '10.1.0.0/24', vlan: 100, physnet: 'physnet' });
    await withGuests(3, async ([plain, other, onOvn]) => {
      const attach = (g: TestNetns, ip: string, vlan: number) =>
        p.attach({ host: 'ovs0', guest: { netns: g.name }, ip: { kind: 'static', address: `${ip}/24` }, vlan });
      await attach(plain as TestNetns, '10.1.0.5', 100);
      await attach(other as TestNetns, '10.1.0.7', 200);
      const r = await h1.attach(spec(onOvn as TestNetns, 'phys100', '10.1.0.6'));
      assert.equal(r.record.mtu, 1500, 'a bridged network keeps the physical MTU');
      assert.equal(await reaches(onOvn as TestNetns, '10.1.0.5'), true, 'OVN phys100 → @100 on the trunked host');
      assert.equal(await reaches(plain as TestNetns, '10.1.0.6'), true, '@100 → OVN phys100');
      assert.equal(await (onOvn as TestNetns).ping('10.1.0.7'), false, 'not VLAN 200');
      await h1.detach({ guest: { netns: (onOvn as TestNetns).name } });
      for (const g of [plain, other]) await p.detach({ guest: { netns: (g as TestNetns).name } });
    });
    assert.equal((await h1.networks.delete('phys100')).deleted?.name, 'phys100');
    assert.equal(
      (await bed.central.nbctl(['--bare', '--columns=name', 'find', 'Logical_Switch', 'name=phys100'])).trim(),
      '',
      'the switch and its localnet port are gone',
    );
  } finally {
    await h1.networks.delete('phys100', { force: true }).catch(() => undefined);
    await h1.uplinks.del({ nic: 'eth1' }).catch(() => undefined);
    await p.close();
    await phys.stop();
  }
  assert.equal(
    (await bed.hosts[0]?.vsctl(['get', 'Open_vSwitch', '.', 'external_ids']))?.includes('physnet'),
    false,
    'the physnet mapping is gone with the uplink',
  );
  assert.deepEqual(await leftovers(bed), []);
});

test('K2: ovn-controller stopped: a bounded wait naming the unbound port, rolled back; restarted, bindings come back', async () => {
  const h2 = bed.hosts[1] ?? assert.fail();
  const short = Plumber.open({
    ovsDb: h2.ovs.remote,
    hostNetns: { name: h2.ovs.netns },
    ovnNb: bed.central.nbRemote,
    applyTimeoutMs: 2000,
  });
  await withGuests(3, async ([a, b, c]) => {
    try {
      await plumber(1).attach(spec(a as TestNetns, 'vlan100', '10.0.0.20'));
      await plumber(0).attach(spec(b as TestNetns, 'vlan100', '10.0.0.21'));
      assert.equal(await reaches(b as TestNetns, '10.0.0.20'), true);
      await h2.stopController('SIGKILL');
      const before = await nbPorts(bed.central);
      const e = await rejects(
        short.attach(spec(c as TestNetns, 'vlan100', '10.0.0.22')),
        ErrorCode.DATAPLANE_APPLY_FAILED,
        /ovn-controller on chassis h2 did not bind logical port np-\S+ within 2000 ms/,
      );
      assert.equal(e.details.side, 'ovn-controller');
      assert.deepEqual(await nbPorts(bed.central), before, 'the logical port was rolled back');
      assert.deepEqual(await (c as TestNetns).linkNames(), ['lo'], 'the veth was rolled back');
      assert.equal((await ourPorts(h2.ovs)).length, 1, "only a's port on h2: c's was rolled back");
      await h2.startController();
      // a's binding comes back: bound on h2, installed, reachable.
      const aPort = (await ourNbPorts(bed.central)).find((p) => p.addresses[0]?.endsWith(' 10.0.0.20'));
      await eventually(
        'a bound on h2 again',
        async () => (await sbBindings(bed.central)).get(aPort?.name ?? '') === 'h2',
        15_000,
      );
      assert.equal(await reaches(b as TestNetns, '10.0.0.20'), true, 'b (h1) → a (h2) after the restart');
      const r = await short.attach(spec(c as TestNetns, 'vlan100', '10.0.0.22'));
      assert.equal(r.changed, true, 'an attach on h2 binds again');
      assert.equal(await reaches(c as TestNetns, '10.0.0.21'), true);
    } finally {
      await h2.startController().catch(() => undefined);
      for (const [i, g] of [
        [1, a],
        [0, b],
        [1, c],
      ] as const)
        await plumber(i).detach({ guest: { netns: (g as TestNetns).name } });
      await short.close();
    }
  });
  await eventually('nothing left', async () => (await leftovers(bed)).length === 0, 10_000);
});

test('K1: the northbound database down: a clean error naming it, no veth and no port left; back up, attaches work', async () => {
  await withGuests(1, async ([g]) => {
    await bed.central.nb.stop();
    const fresh = Plumber.open({
      ovsDb: bed.hosts[0]?.ovs.remote,
      hostNetns: { name: bed.hosts[0]?.ovs.netns as string },
      ovnNb: bed.central.nbRemote,
    });
    try {
      for (const p of [plumber(0), fresh])
        await rejects(
          p.attach(spec(g as TestNetns, 'vlan100', '10.0.0.30')),
          ErrorCode.UNAVAILABLE,
          /northbound database at unix:\S+ovnnb_db\.sock/,
        );
      assert.deepEqual(await (g as TestNetns).linkNames(), ['lo'], 'no veth in the guest');
      assert.deepEqual(await ourPorts(bed.hosts[0]?.ovs ?? assert.fail()), [], 'no OVS port');
    } finally {
      await fresh.close();
      await bed.central.nb.start();
    }
    await eventually(
      'the engine reconnected to the northbound database',
      async () =>
        plumber(0)
          .attach(spec(g as TestNetns, 'vlan100', '10.0.0.30'))
          .then(
            () => true,
            () => false,
          ),
      15_000,
    );
    await plumber(0).detach({ guest: { netns: (g as TestNetns).name } });
  });
  await eventually('nothing left', async () => (await leftovers(bed)).length === 0, 10_000);
});

test('K3: a logical port of the same name made by another tool: CONFLICT, the foreign port untouched', async () => {
  await withGuests(1, async ([g]) => {
    const id = attachmentId({ guestId: `netns:cookie:${await (g as TestNetns).cookie()}`, ifname: 'eth1' });
    const name = logicalPortName(id, 'h1');
    await bed.central.nbctl(['lsp-add', 'vlan100', name, '--', 'lsp-set-addresses', name, '02:11:22:33:44:55']);
    try {
      await rejects(
        plumber(0).attach(spec(g as TestNetns, 'vlan100', '10.0.0.40')),
        ErrorCode.CONFLICT,
        /not made by netplumb/,
      );
      const foreign = (await nbPorts(bed.central)).find((p) => p.name === name);
      assert.deepEqual(foreign?.addresses, ['02:11:22:33:44:55'], 'the foreign port is as it was');
      assert.deepEqual(foreign?.externalIds, {});
      assert.deepEqual(await (g as TestNetns).linkNames(), ['lo']);
      assert.deepEqual(await ourPorts(bed.hosts[0]?.ovs ?? assert.fail()), []);
    } finally {
      await bed.central.nbctl(['lsp-del', name]);
    }
  });
});

test('K4: killed between the northbound and the OVS transaction, gc removes the half; a port without its logical port too', async () => {
  const h1 = bed.hosts[0] ?? assert.fail();
  await withGuests(2, async ([g, k]) => {
    // The command killed right after its second step: the veth and the logical port (made at once), no OVS port.
    const r = await run(
      [
        'ip',
        'netns',
        'exec',
        h1.ovs.netns,
        BIN,
        'attach',
        '--network',
        'vlan100',
        '--container',
        `netns:${(g as TestNetns).name}`,
        '--ip',
        '10.0.0.60/24',
        '--ovs-db',
        h1.ovs.remote,
        '--ovn-nb',
        bed.central.nbRemote,
        '--no-daemon',
      ],
      { env: { ...process.env, NETPLUMB_TEST_KILL_AT: 'attach:1' } },
    );
    assert.notEqual(r.code, 0, 'killed');
    assert.equal(r.stderr, '', 'killed, not failed: no error was reported');
    const half = await leftovers(bed);
    assert.ok(
      half.some((x) => x.startsWith('NB ')),
      `a logical port was left: ${half}`,
    );
    assert.ok(!half.some((x) => x.includes(' OVS ')), `no OVS port yet: ${half}`);
    // Another tool's port on br-int and logical port on vlan100: gc never touches them.
    await h1.vsctl(['add-port', 'br-int', 'foreign0', '--', 'set', 'Interface', 'foreign0', 'type=internal']);
    await bed.central.nbctl(['lsp-add', 'vlan100', 'foreign-lsp']);
    try {
      const gc = await plumber(0).gc({ graceSeconds: 0 });
      assert.deepEqual(
        gc.removed.map((e) => e.reason),
        ['unfinished'],
      );
      assert.deepEqual(await leftovers(bed), []);
      // The reverse: a whole attachment whose logical port was removed behind its back.
      const whole = await plumber(0).attach(spec(k as TestNetns, 'vlan100', '10.0.0.61'));
      const lsp = (await ourNbPorts(bed.central)).find((p) => p.externalIds['netplumb.attachment'] === whole.record.id);
      await bed.central.nbctl(['lsp-del', lsp?.name ?? assert.fail()]);
      const gc2 = await plumber(0).gc({ graceSeconds: 0 });
      assert.deepEqual(
        gc2.removed.map((e) => [e.reason, e.detail.includes('OVN logical port')]),
        [['port-gone', true]],
      );
      assert.deepEqual(await leftovers(bed), []);
      assert.equal((await h1.vsctl(['list-ports', 'br-int'])).includes('foreign0'), true, 'the foreign OVS port stays');
      assert.ok(
        (await nbPorts(bed.central)).some((p) => p.name === 'foreign-lsp'),
        'the foreign logical port stays',
      );
    } finally {
      await h1.vsctl(['--if-exists', 'del-port', 'foreign0']);
      await bed.central.nbctl(['--if-exists', 'lsp-del', 'foreign-lsp']);
    }
  });
});

test('K5: 200 attachments over three hosts through the daemon, then detached: nothing in NB, SB or OVS', async () => {
  const home = mkdtempSync(join(tmpdir(), 'np-ovn-daemons-'));
  const daemons: Daemon[] = [];
  const clients: DaemonClient[] = [];
  const guests: TestNetns[] = [];
  // Static addresses from 10.2.0.0/24, which OVN does not allocate from.
  await plumber(0).networks.create({ name: 'bulk', subnet: '10.2.0.0/22', excludeIps: ['10.2.0.1..10.2.0.255'] });
  try {
    // The guests first: a daemon closes a connection that stays idle for 30 s.
    guests.push(...(await TestNetns.createMany(200, 'bulk')));
    for (const [i, h] of bed.hosts.entries()) {
      const socketPath = join(home, `h${i + 1}.sock`);
      daemons.push(
        await startDaemon({
          socketPath,
          plumberOptions: { ovsDb: h.ovs.remote, hostNetns: { name: h.ovs.netns }, ovnNb: bed.central.nbRemote },
        }),
      );
      clients.push(await DaemonClient.connect(socketPath));
    }
    const results = await Promise.all(
      guests.map((g, i) =>
        (clients[i % 3] as DaemonClient).attach({
          host: 'br-int',
          network: 'bulk',
          guest: { netns: g.name },
          // Half given, half allocated by ovn-northd.
          ip: i % 2 === 0 ? { kind: 'static', address: `10.2.0.${10 + i}/22` } : { kind: 'none' },
        }),
      ),
    );
    assert.equal(results.filter((r) => r.changed).length, 200);
    const nb = await ourNbPorts(bed.central);
    assert.equal(nb.length, 200);
    assert.ok(
      nb.every((p) => p.up),
      'every port up',
    );
    const bound = await sbBindings(bed.central);
    const perChassis = new Map<string, number>();
    for (const p of nb) perChassis.set(bound.get(p.name) ?? '-', (perChassis.get(bound.get(p.name) ?? '-') ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(perChassis), { h1: 67, h2: 67, h3: 66 });
    await Promise.all(guests.map((g, i) => (clients[i % 3] as DaemonClient).detach({ guest: { netns: g.name } })));
    await eventually('nothing of the 200 in NB, SB or OVS', async () => (await leftovers(bed)).length === 0, 20_000);
  } finally {
    for (const c of clients) await c.close();
    for (const d of daemons) await d.close();
    await TestNetns.destroyMany(guests);
    await plumber(0).networks.delete('bulk', { force: true });
    rmSync(home, { recursive: true, force: true });
  }
});

test('a chassis removed: the others keep working; gc on a remaining host removes the logical ports it left', async () => {
  const h3 = bed.hosts[2] ?? assert.fail();
  await withGuests(3, async ([a, b, gone]) => {
    await plumber(0).attach(spec(a as TestNetns, 'vlan200', '10.0.0.70'));
    await plumber(1).attach(spec(b as TestNetns, 'vlan200', '10.0.0.71'));
    const lost = await plumber(2).attach(spec(gone as TestNetns, 'vlan200', '10.0.0.72'));
    // h3 leaves the cluster: its ovn-controller stops, its chassis is deleted, its container is gone.
    await h3.stopController();
    await bed.central.sbctl(['--if-exists', 'chassis-del', 'h3']);
    await (gone as TestNetns).destroy();
    assert.equal((await bed.central.sbctl(['--bare', '--columns=name', 'find', 'Chassis', 'name=h3'])).trim(), '');
    assert.equal(await reaches(a as TestNetns, '10.0.0.71'), true, 'h1 ↔ h2 unaffected');
    const lsp = (await ourNbPorts(bed.central)).find((p) => p.externalIds['netplumb.attachment'] === lost.record.id);
    assert.ok(lsp !== undefined, "h3's logical port is still in the northbound database");
    await eventually(
      'it is down',
      async () => (await nbPorts(bed.central)).find((p) => p.name === lsp.name)?.up !== true,
    );
    const gc = await plumber(0).gc({ graceSeconds: 0 });
    assert.deepEqual(
      gc.removed.map((e) => [e.attachment, e.reason, e.detail]),
      [[lost.record.id, 'guest-gone', 'its chassis h3 is no longer in the southbound database']],
    );
    assert.equal(
      (await ourNbPorts(bed.central)).some((p) => p.name === lsp.name),
      false,
    );
    assert.equal((await plumber(0).list()).length, 1, "h1's own attachment stays");
    // h3's own leftovers (its OVS port) are its own gc's, as on any host.
    await plumber(2).gc({ graceSeconds: 0 });
    for (const [i, g] of [
      [0, a],
      [1, b],
    ] as const)
      await plumber(i).detach({ guest: { netns: (g as TestNetns).name } });
  });
  await eventually('nothing left', async () => (await leftovers(bed)).length === 0, 10_000);
});
