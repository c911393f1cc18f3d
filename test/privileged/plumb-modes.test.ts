/**
 * The engine's other modes and forms, on a Linux bridge in an emulated host namespace:
 * DHCP from a real dnsmasq (with and without renewal), macvlan, IPv6, MTU inheritance,
 * MAC forms, --wait, and rollback when a step fails.
 */
import { after, before, test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Plumber } from '../../src/plumb/plumber.js';
import { NetplumbError } from '../../src/errors.js';
import { TestNetns } from '../helpers/netns.js';
import { useLeakCheck } from '../helpers/leak.js';

let host: TestNetns;
let dnsmasq: ChildProcess;
let dir: string;

before(async () => {
  host = await TestNetns.create('host');
  dir = mkdtempSync(join(tmpdir(), 'np-dhcp-'));
  await host.exec(['ip', 'link', 'add', 'br0', 'mtu', '1400', 'type', 'bridge']);
  await host.exec(['ip', 'addr', 'add', '10.5.0.1/24', 'dev', 'br0']);
  await host.exec(['ip', 'link', 'set', 'br0', 'up']);
  // A parent NIC for macvlan tests: one end of a veth pair whose other end stays in the host ns.
  await host.exec(['ip', 'link', 'add', 'nic0', 'mtu', '1450', 'type', 'veth', 'peer', 'name', 'nic0p']);
  await host.exec(['ip', 'link', 'set', 'nic0', 'up']);
  await host.exec(['ip', 'link', 'set', 'nic0p', 'up']);
  dnsmasq = spawn(
    'ip',
    [
      'netns',
      'exec',
      host.name,
      'dnsmasq',
      '--no-daemon',
      '--port=0',
      '--interface=br0',
      '--bind-interfaces',
      '--except-interface=lo',
      '--dhcp-range=10.5.0.50,10.5.0.99,255.255.255.0,2m',
      `--dhcp-leasefile=${join(dir, 'leases')}`,
      '--dhcp-authoritative',
      // The lease's name servers and search domain: where a DHCP client's script would write them.
      '--dhcp-option=option:dns-server,10.5.0.53',
      '--dhcp-option=option:domain-search,np.test',
      // No configuration file of the host's, no host syslog: the test's server is the test's alone.
      '--conf-file=/dev/null',
      '--log-facility=-',
      '--log-dhcp',
    ],
    { stdio: 'ignore' },
  );
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(dnsmasq.exitCode, null, 'dnsmasq is running');
});
after(async () => {
  dnsmasq?.kill('SIGTERM');
  if (dnsmasq && dnsmasq.exitCode === null) await new Promise((r) => dnsmasq.once('exit', r));
  await host?.destroy();
  rmSync(dir, { recursive: true, force: true });
});
useLeakCheck();

async function withGuest(body: (g: TestNetns, p: Plumber) => Promise<void>): Promise<void> {
  const p = Plumber.open({ hostNetns: { name: host.name }, ovsDb: `unix:${join(dir, 'no-ovs.sock')}` });
  const g = await TestNetns.create('g');
  try {
    await body(g, p);
  } finally {
    await p.detach({ guest: { netns: g.name } }).catch(() => undefined);
    await g.destroy();
    await p.close();
  }
}

const code = (c: string) => (e: unknown) => e instanceof NetplumbError && e.code === c;

async function inet(g: TestNetns, family: 'inet' | 'inet6' = 'inet'): Promise<string[]> {
  const [l] = await g.ip('addr', 'show', 'dev', 'eth1');
  return (l?.addr_info ?? [])
    .filter((a) => a.family === family && a.scope === 'global')
    .map((a) => `${a.local}/${a.prefixlen}`);
}

/** The lease's default route in the guest, through `ip -json route`. */
async function defaultGateway(g: TestNetns): Promise<string | undefined> {
  const routes = await g.ip<{ dst: string; gateway?: string; dev?: string }>('route', 'show', 'default');
  return routes.find((r) => r.dev === 'eth1')?.gateway;
}

/** The attachment's directory: the client's pid, log and the lease's resolv.conf. */
const dhcpDir = (id: string) => `/run/netplumb/dhcp/${id}`;

test('DHCP (udhcpc, quits after the lease): address, default route, MTU of the bridge; the name servers go to the attachment, not the host', async () => {
  // The leak oracle compares the host's /etc/resolv.conf before and after: the lease has a name server to write.
  await withGuest(async (g, p) => {
    const r = await p.attach({
      host: 'br0',
      guest: { netns: g.name },
      ip: { kind: 'dhcp', client: 'udhcpc', foreground: false, options: [] },
    });
    const addrs = await inet(g);
    assert.equal(addrs.length, 1);
    assert.match(addrs[0] as string, /^10\.5\.0\.(5\d|[6-9]\d)\/24$/);
    assert.equal(await defaultGateway(g), '10.5.0.1', "default route via the lease's router");
    const [l] = await g.ip('link', 'show', 'dev', 'eth1');
    assert.equal(l?.mtu, 1400, 'MTU of br0');
    assert.equal(await g.ping('10.5.0.1'), true);
    const resolvConf = `${dhcpDir(r.record.id)}/resolv.conf`;
    const lines = readFileSync(resolvConf, 'utf8').split('\n');
    assert.ok(lines.includes('nameserver 10.5.0.53'), lines.join('\n'));
    assert.ok(lines.includes('search np.test'), lines.join('\n'));
    assert.deepEqual(r.dhcp, { file: resolvConf, nameservers: ['10.5.0.53'], search: ['np.test'] });
    await p.detach({ guest: { netns: g.name } });
    assert.equal(existsSync(dhcpDir(r.record.id)), false, "detach removes the attachment's DHCP directory");
  });
});

test("DHCP with udhcpc's own default script (udhcpc:-s …): the lease is applied, its write to /etc/resolv.conf stays in the jail", async () => {
  const stock = '/etc/udhcpc/default.script';
  assert.ok(existsSync(stock), `${stock} (package udhcpc) is installed`);
  await withGuest(async (g, p) => {
    await p.attach({
      host: 'br0',
      guest: { netns: g.name },
      ip: { kind: 'dhcp', client: 'udhcpc', foreground: false, options: ['-s', stock] },
    });
    // The script configured the interface (busybox ifconfig, ip route in the guest's namespace)…
    assert.equal((await inet(g)).length, 1);
    assert.equal(await defaultGateway(g), '10.5.0.1');
    // …and the leak oracle checks that its `echo … > /etc/resolv.conf` did not reach the host.
  });
});

test('DHCP with renewal (udhcpc -f): the client keeps running in the guest namespace; detach stops it', async () => {
  await withGuest(async (g, p) => {
    const r = await p.attach({
      host: 'br0',
      guest: { netns: g.name },
      ip: { kind: 'dhcp', client: 'udhcpc', foreground: true, options: [] },
    });
    const pidfile = `${dhcpDir(r.record.id)}/pid`;
    const resolvConf = `${dhcpDir(r.record.id)}/resolv.conf`;
    // The lease comes after the attach: the script configures the address, then records the name servers.
    let addrs: string[] = [];
    for (let i = 0; i < 100 && (addrs.length === 0 || !existsSync(resolvConf)); i++) {
      await new Promise((res) => setTimeout(res, 100));
      addrs = await inet(g);
    }
    assert.equal(addrs.length, 1, 'leased');
    assert.ok(readFileSync(resolvConf, 'utf8').split('\n').includes('nameserver 10.5.0.53'));
    const pid = Number(readFileSync(pidfile, 'utf8'));
    assert.ok(existsSync(`/proc/${pid}`), 'client alive');
    await p.detach({ guest: { netns: g.name } });
    for (
      let i = 0;
      i < 50 && existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z');
      i++
    )
      await new Promise((res) => setTimeout(res, 50));
    assert.equal(existsSync(pidfile), false);
    assert.equal(existsSync(dhcpDir(r.record.id)), false);
  });
});

test('macvlan on a NIC: created directly in the guest, MTU of the parent, reachable from the host side', async () => {
  await withGuest(async (g, p) => {
    await p.attach({ host: 'nic0', guest: { netns: g.name }, ip: { kind: 'static', address: '10.6.0.2/24' } });
    const [l] = await g.ip('link', 'show', 'dev', 'eth1');
    assert.equal(l?.linkinfo?.info_kind, 'macvlan');
    assert.equal(l?.mtu, 1450);
    assert.deepEqual(await inet(g), ['10.6.0.2/24']);
    assert.deepEqual(await host.ip('link', 'show', 'type', 'macvlan'), [], 'nothing left on the host side');
  });
});

test('IPv6 with a gateway, the U: MAC form, and --wait for UP', async () => {
  await withGuest(async (g, p) => {
    await p.attach({
      host: 'br0',
      guest: { netns: g.name },
      ip: { kind: 'static', address: 'fd00:5::2/64', gateway: 'fd00:5::1' },
      mac: 'U:db1',
      waitUpMs: 5000,
    });
    assert.deepEqual(await inet(g, 'inet6'), ['fd00:5::2/64']);
    const routes = await g.ip<{ dst: string; gateway?: string }>('-6', 'route', 'show');
    assert.ok(routes.some((r) => r.dst === 'default' && r.gateway === 'fd00:5::1'));
    const [l] = await g.ip('link', 'show', 'dev', 'eth1');
    // pipework: 02: + the first 40 bits of md5("db1\n") (it hashes `echo $seed`).
    const md5 = createHash('md5').update('db1\n').digest('hex');
    assert.equal(l?.address, `02:${md5.slice(0, 10).match(/../g)?.join(':')}`);
    assert.ok(l?.flags.includes('UP') && l.operstate === 'UP');
  });
});

test('a failing step rolls back everything before it: the veth is gone, the guest is untouched', async () => {
  await withGuest(async (g, p) => {
    // The address is fine, the gateway route is refused by the kernel (a v4 gateway via a v4 address but unreachable scope): use a fault hook instead.
    const failing = Plumber.open({
      hostNetns: { name: host.name },
      stepHook: (step) => {
        if (step === 'guest default route')
          throw new NetplumbError('INTERNAL', 'injected fault after the default route');
      },
    });
    try {
      await assert.rejects(
        failing.attach({
          host: 'br0',
          guest: { netns: g.name },
          ip: { kind: 'static', address: '10.5.0.9/24', gateway: '10.5.0.1' },
        }),
        /injected fault/,
      );
    } finally {
      await failing.close();
    }
    assert.deepEqual(await g.linkNames(), ['lo']);
    assert.deepEqual(await g.ip('route', 'show'), []);
    assert.deepEqual(await host.ip('link', 'show', 'master', 'br0'), []);
    // And a DHCP attach with no server answering fails cleanly within its timeout, leaving nothing.
    await assert.rejects(
      p.attach({
        host: 'nic0',
        guest: { netns: g.name },
        ip: { kind: 'dhcp', client: 'udhcpc', foreground: false, options: [] },
      }),
      code('UNAVAILABLE'),
    );
    assert.deepEqual(await g.linkNames(), ['lo']);
  });
});

test('--direct-phys: the NIC itself moves into the guest under the new name; detach moves it back', async () => {
  await host.exec(['ip', 'link', 'add', 'phys0', 'mtu', '1480', 'type', 'veth', 'peer', 'name', 'phys0p']);
  try {
    await withGuest(async (g, p) => {
      const hostIndex = (await host.link('phys0'))?.ifindex;
      const r = await p.attach({
        host: 'phys0',
        mode: 'phys',
        guest: { netns: g.name },
        ip: { kind: 'static', address: '10.8.0.2/24' },
      });
      assert.equal(r.changed, true);
      assert.equal(await host.link('phys0'), undefined, 'gone from the host');
      const [l] = await g.ip('link', 'show', 'dev', 'eth1');
      assert.equal(l?.ifindex, hostIndex, 'the same device, not a copy');
      assert.equal(l?.mtu, 1480, 'its own MTU kept');
      assert.deepEqual(await inet(g), ['10.8.0.2/24']);
      assert.equal(
        (
          await p.attach({
            host: 'phys0',
            mode: 'phys',
            guest: { netns: g.name },
            ip: { kind: 'static', address: '10.8.0.2/24' },
          })
        ).changed,
        false,
        'idempotent',
      );
      const d = await p.detach({ guest: { netns: g.name } });
      assert.equal(d.detached.length, 1);
      assert.equal((await host.link('phys0'))?.ifindex, hostIndex, 'back on the host under its own name');
      assert.deepEqual(await g.linkNames(), ['lo']);
    });
  } finally {
    await host.exec(['ip', 'link', 'del', 'phys0']).catch(() => undefined);
  }
});

test('macvlan detach removes the guest interface; @VID on a NIC needs 802.1Q, refused as UNSUPPORTED exactly when ip is refused', async () => {
  await withGuest(async (g, p) => {
    await p.attach({ host: 'nic0', guest: { netns: g.name }, ip: { kind: 'static', address: '10.6.0.3/24' } });
    assert.equal((await p.detach({ guest: { netns: g.name } })).detached.length, 1);
    assert.deepEqual(await g.linkNames(), ['lo']);
    const kernelHasVlan =
      (await host.status(['ip', 'link', 'add', 'nic0.12', 'link', 'nic0', 'type', 'vlan', 'id', '12'])) === 0;
    if (kernelHasVlan) {
      await host.exec(['ip', 'link', 'del', 'nic0.12']);
      await p.attach({
        host: 'nic0',
        guest: { netns: g.name },
        vlan: 12,
        ip: { kind: 'static', address: '10.6.0.3/24' },
      });
      assert.ok(await host.link('nic0.12'), 'sub-interface made');
    } else {
      await assert.rejects(
        p.attach({ host: 'nic0', guest: { netns: g.name }, vlan: 12, ip: { kind: 'static', address: '10.6.0.3/24' } }),
        code('UNSUPPORTED'),
      );
      assert.deepEqual(await g.linkNames(), ['lo']);
      assert.equal(await host.link('nic0.12'), undefined);
    }
  });
});

test('the new address is announced natively: a neighbour that accepts gratuitous ARP learns it without any traffic', async () => {
  const observer = await TestNetns.create('obs');
  const p = Plumber.open({ hostNetns: { name: host.name } });
  try {
    await p.attach({ host: 'br0', guest: { netns: observer.name }, ip: { kind: 'static', address: '10.5.1.1/16' } });
    await observer.exec(['sysctl', '-q', '-w', 'net.ipv4.conf.eth1.arp_accept=1']);
    await withGuest(async (g, p2) => {
      await p2.attach({
        host: 'br0',
        guest: { netns: g.name },
        ip: { kind: 'static', address: '10.5.1.2/16' },
        mac: '02:00:00:00:05:02',
      });
      let neigh: { dst: string; lladdr?: string }[] = [];
      for (let i = 0; i < 50 && !neigh.some((n) => n.dst === '10.5.1.2'); i++) {
        await new Promise((r) => setTimeout(r, 20));
        neigh = await observer.ip<{ dst: string; lladdr?: string }>('neigh', 'show', 'dev', 'eth1');
      }
      assert.equal(neigh.find((n) => n.dst === '10.5.1.2')?.lladdr, '02:00:00:00:05:02');
    });
  } finally {
    await p.detach({ guest: { netns: observer.name } });
    await observer.destroy();
    await p.close();
  }
});

test('macvlan modes (pipework#239): vepa and private are passed to the kernel and part of the attachment', async () => {
  await withGuest(async (g, p) => {
    await p.attach({
      host: 'nic0',
      guest: { netns: g.name },
      macvlanMode: 'private',
      ip: { kind: 'static', address: '10.6.0.4/24' },
    });
    const [l] = await g.ip('link', 'show', 'dev', 'eth1');
    assert.equal(l?.linkinfo?.info_data?.mode, 'private');
    await assert.rejects(
      p.attach({
        host: 'nic0',
        guest: { netns: g.name },
        macvlanMode: 'vepa',
        ip: { kind: 'static', address: '10.6.0.4/24' },
      }),
      code('CONFLICT'),
    );
    assert.equal(
      (
        await p.attach({
          host: 'nic0',
          guest: { netns: g.name },
          macvlanMode: 'vepa',
          force: true,
          ip: { kind: 'static', address: '10.6.0.4/24' },
        })
      ).changed,
      true,
    );
    const [v] = await g.ip('link', 'show', 'dev', 'eth1');
    assert.equal(v?.linkinfo?.info_data?.mode, 'vepa');
  });
});
