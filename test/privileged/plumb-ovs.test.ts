/**
 * The engine against a real ovsdb-server + ovs-vswitchd (userspace datapath) running in an
 * emulated host namespace, with guests in namespaces of their own: seed scenario 1 with
 * real pings, idempotency, conflicts, detach, and a guest that died.
 */
import { test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Plumber } from '../../src/plumb/plumber.js';
import { NetplumbError } from '../../src/errors.js';
import { useSharedOvs } from '../helpers/ovs.js';
import { TestNetns } from '../helpers/netns.js';
import { useLeakCheck } from '../helpers/leak.js';

const sharedOvs = useSharedOvs();
useLeakCheck();

async function withGuests(n: number, body: (guests: TestNetns[], p: Plumber) => Promise<void>): Promise<void> {
  const guests: TestNetns[] = [];
  const p = Plumber.open({ ovsDb: sharedOvs().remote, hostNetns: { name: sharedOvs().netns } });
  try {
    for (let i = 0; i < n; i++) guests.push(await TestNetns.create('g'));
    await body(guests, p);
  } finally {
    for (const g of guests) await g.destroy();
    // Orphaned OVS ports of destroyed guests are removed through the engine's own list/detach below.
    for (const a of await p.list()) await sharedOvs().vsctl(['--if-exists', 'del-port', a.record.hostIfname]);
    await p.close();
  }
}

function code(c: string) {
  return (e: unknown) => e instanceof NetplumbError && e.code === c;
}

async function ports(): Promise<string[]> {
  return (await sharedOvs().vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean).sort();
}

test('seed scenario 1: four guests on ovs0, VLANs 100/200; same-VLAN pairs ping, cross-VLAN pairs do not', async () => {
  await withGuests(4, async (g, p) => {
    const vlans = [100, 100, 200, 200];
    const results = [];
    for (const [i, ns] of g.entries()) {
      results.push(
        await p.attach({
          host: 'ovs0',
          guest: { netns: ns.name },
          ip: { kind: 'static', address: `10.0.0.${i + 1}/24` },
          vlan: vlans[i] as number,
        }),
      );
    }
    for (const [i, r] of results.entries()) {
      assert.equal(r.changed, true);
      assert.ok((r.ofport ?? 0) > 0, 'ofport assigned by ovs-vswitchd');
      // Oracles: ovs-vsctl for the tag and the metadata, ip -json in the guest for the address.
      assert.equal((await sharedOvs().vsctl(['get', 'port', r.record.hostIfname, 'tag'])).trim(), String(vlans[i]));
      assert.equal(
        (await sharedOvs().vsctl(['get', 'interface', r.record.hostIfname, 'external_ids:pipework.interface'])).trim(),
        'eth1',
      );
      const [link] = await (g[i] as TestNetns).ip('addr', 'show', 'dev', 'eth1');
      assert.ok(link?.flags.includes('UP'));
      assert.deepEqual(
        link?.addr_info?.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
        [`10.0.0.${i + 1}/24`],
      );
    }
    assert.equal((await ports()).length, 4);
    const reach = async (a: number, b: number) => (g[a] as TestNetns).ping(`10.0.0.${b + 1}`, 2);
    assert.equal(await reach(0, 1), true, 'con1 → con2 (VLAN 100)');
    assert.equal(await reach(2, 3), true, 'con3 → con4 (VLAN 200)');
    for (const [a, b] of [
      [0, 2],
      [0, 3],
      [1, 2],
      [1, 3],
    ] as const)
      assert.equal(await reach(a, b), false, `con${a + 1} ↛ con${b + 1}`);
    // TCP too, not only ICMP: over the userspace datapath the guests must compute their own checksums.
    assert.ok((await tcpThroughput(g[1] as TestNetns, g[0] as TestNetns, '10.0.0.1')) > 0, 'TCP between con2 and con1');
    for (const ns of g) await p.detach({ guest: { netns: ns.name } });
  });
});

/** iperf3 for one second from `client` to a one-shot server in `server`; bits per second. */
async function tcpThroughput(client: TestNetns, server: TestNetns, addr: string): Promise<number> {
  const srv = spawn('ip', ['netns', 'exec', server.name, 'iperf3', '-s', '-1', '-p', '5299'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const out = await client.exec(
      ['iperf3', '-c', addr, '-p', '5299', '-t', '1', '-J', '--connect-timeout', '3000'],
      20_000,
    );
    return (JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
  } finally {
    srv.kill('SIGKILL');
    if (srv.exitCode === null) await new Promise((r) => srv.once('exit', r));
  }
}

test('the same attach twice is a no-op; a different one is a conflict; --force replaces it', async () => {
  await withGuests(1, async ([ns], p) => {
    const guest = { netns: (ns as TestNetns).name };
    const spec = {
      host: 'ovs0',
      guest,
      ip: { kind: 'static' as const, address: '10.1.0.2/24' },
      vlan: 10,
      mac: 'U:web1',
    };
    const first = await p.attach(spec);
    const hostIndex = (await sharedOvs().vsctl(['get', 'interface', first.record.hostIfname, 'ifindex'])).trim();
    const again = await p.attach(spec);
    assert.equal(again.changed, false);
    assert.equal(
      (await sharedOvs().vsctl(['get', 'interface', first.record.hostIfname, 'ifindex'])).trim(),
      hostIndex,
      'nothing recreated',
    );
    await assert.rejects(p.attach({ ...spec, vlan: 11 }), code('CONFLICT'));
    assert.equal(
      (await sharedOvs().vsctl(['get', 'port', first.record.hostIfname, 'tag'])).trim(),
      '10',
      'the conflicting attach changed nothing',
    );
    const replaced = await p.attach({ ...spec, vlan: 11, force: true });
    assert.equal(replaced.changed, true);
    assert.equal((await sharedOvs().vsctl(['get', 'port', first.record.hostIfname, 'tag'])).trim(), '11');
    assert.equal((await ports()).length, 1);
    const [link] = await (ns as TestNetns).ip('link', 'show', 'dev', 'eth1');
    assert.equal(link?.address?.slice(0, 3), '02:', 'U: MAC applied');
    await p.detach({ guest });
    assert.deepEqual(await ports(), []);
  });
});

test('attach to a missing bridge fails with NOT_FOUND and leaves nothing behind', async () => {
  await withGuests(1, async ([ns], p) => {
    await assert.rejects(
      p.attach({ host: 'ovs9', mode: 'ovs', guest: { netns: (ns as TestNetns).name }, ip: { kind: 'none' } }),
      code('NOT_FOUND'),
    );
    assert.deepEqual(await (ns as TestNetns).linkNames(), ['lo']);
  });
});

test('a gateway outside the subnet gets an on-link route; the guest already having eth1 is ALREADY_EXISTS', async () => {
  await withGuests(1, async ([ns], p) => {
    const t = ns as TestNetns;
    await p.attach({
      host: 'ovs0',
      guest: { netns: t.name },
      ip: { kind: 'static', address: '10.2.0.5/24', gateway: '10.9.9.1' },
    });
    const routes = await t.ip<{ dst: string; gateway?: string; dev?: string; scope?: string }>('route', 'show');
    assert.ok(routes.some((r) => r.dst === 'default' && r.gateway === '10.9.9.1' && r.dev === 'eth1'));
    assert.ok(routes.some((r) => r.dst === '10.9.9.1' && r.scope === 'link'));
    await t
      .exec(['ip', 'link', 'add', 'eth2', 'type', 'dummy'])
      .catch(() => t.exec(['ip', 'link', 'add', 'eth2', 'type', 'veth', 'peer', 'name', 'eth3']));
    await assert.rejects(
      p.attach({ host: 'ovs0', guest: { netns: t.name }, ifname: 'eth2', ip: { kind: 'none' } }),
      code('ALREADY_EXISTS'),
    );
    assert.equal((await ports()).length, 1);
    await p.detach({ guest: { netns: t.name } });
  });
});

test('a guest that died leaves an orphan that list shows and detach removes', async () => {
  await withGuests(0, async (_g, p) => {
    const t = await TestNetns.create('dead');
    const r = await p.attach({
      host: 'ovs0',
      guest: { netns: t.name },
      ip: { kind: 'static', address: '10.3.0.2/24' },
    });
    await t.destroy(); // the kernel deletes the veth with the namespace (asynchronously); the OVS port stays
    for (let i = 0; i < 250 && (await ovsHostIp(['link', 'show'])).includes(r.record.hostIfname); i++)
      await new Promise((res) => setTimeout(res, 20));
    const listed = await p.list();
    const orphan = listed.find((a) => a.record.id === r.record.id);
    assert.ok(orphan?.orphaned, 'listed as orphaned');
    assert.equal((await ports()).includes(r.record.hostIfname), true);
    const d = await p.detach({ guest: r.record.guestId });
    assert.equal(d.detached.length, 1);
    assert.deepEqual(await ports(), []);
    assert.deepEqual(
      (await p.detach({ guest: r.record.guestId })).detached,
      [],
      'detach again: nothing to do, success',
    );
  });
});

test('a Linux bridge attach: veth enslaved, addresses set, the host namespace refused as a guest', async () => {
  await withGuests(2, async (g, p) => {
    const [a, b] = g as [TestNetns, TestNetns];
    await p.attach({
      host: 'br-test',
      createBridge: true,
      guest: { netns: a.name },
      ip: { kind: 'static', address: '10.4.0.1/24' },
    });
    await p.attach({ host: 'br-test', guest: { netns: b.name }, ip: { kind: 'static', address: '10.4.0.2/24' } });
    const hostLinks = JSON.parse(await ovsHostIp(['-json', 'link', 'show', 'master', 'br-test'])) as {
      ifname: string;
    }[];
    assert.equal(hostLinks.length, 2, JSON.stringify(hostLinks) + (await ovsHostIp(['-d', 'link', 'show'])));
    assert.equal(await a.ping('10.4.0.2'), true);
    await assert.rejects(
      p.attach({ host: 'br-test', guest: { netns: sharedOvs().netns }, ip: { kind: 'none' } }),
      code('HOST_NAMESPACE_REFUSED'),
    );
    await assert.rejects(
      p.attach({ host: 'br-test', guest: { pid: process.pid }, ip: { kind: 'none' } }),
      code('HOST_NAMESPACE_REFUSED'),
    );
    await assert.rejects(
      p.attach({ host: 'br-test', guest: { netns: b.name }, vlan: 5, ip: { kind: 'none' } }),
      code('INVALID_ARGUMENT'),
    );
    await p.detach({ guest: { netns: a.name } });
    await p.detach({ guest: { netns: b.name } });
    assert.equal(JSON.parse(await ovsHostIp(['-json', 'link', 'show', 'master', 'br-test'])).length, 0);
    await ovsHostIp(['link', 'del', 'br-test']);
  });
});

function ovsHostIp(args: string[]): Promise<string> {
  return import('../../sandbox/exec.js').then(({ must }) => must(['ip', '-n', sharedOvs().netns, ...args]));
}
