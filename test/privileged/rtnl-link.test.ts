/**
 * Link verbs against the real kernel, inside fresh namespaces; every effect is checked
 * through `ip -json` (the oracle), never through our own decoder alone.
 */
import { test } from '../helpers/privileged.js';
import * as assert from 'node:assert/strict';
import { NetplumbError } from '../../src/errors.js';
import { useLeakCheck } from '../helpers/leak.js';
import type { IpLink } from '../helpers/netns.js';
import { withNamespaces } from './support/rtnl-ns.js';

useLeakCheck();

function expectCode(code: string): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof NetplumbError, String(e));
    assert.equal(e.code, code, e.message);
    return true;
  };
}

test('veth: the peer is created in another namespace under its final name, MAC and MTU, in one request', async () => {
  await withNamespaces(2, async (host, guest) => {
    await host.rtnl.link.add({
      name: 'h1',
      kind: 'veth',
      mac: '02:00:00:00:00:01',
      mtu: 1400,
      up: true,
      alias: 'owner=netplumb',
      peer: { name: 'eth1', mac: '02:00:00:00:00:02', mtu: 1400, netnsFd: guest.ns.fd },
    });
    const h1 = (await host.t.link('h1')) as IpLink;
    assert.equal(h1.linkinfo?.info_kind, 'veth');
    assert.equal(h1.address, '02:00:00:00:00:01');
    assert.equal(h1.mtu, 1400);
    assert.ok(h1.flags.includes('UP'));
    assert.equal(h1.ifalias, 'owner=netplumb');
    const eth1 = (await guest.t.link('eth1')) as IpLink;
    assert.equal(eth1.address, '02:00:00:00:00:02');
    assert.equal(eth1.mtu, 1400);
    assert.deepEqual(await guest.t.linkNames(), ['lo', 'eth1']);
    // Our decoder agrees with the oracle.
    const ours = await host.rtnl.link.get('h1');
    assert.deepEqual(
      [ours.index, ours.kind, ours.mac, ours.mtu, ours.alias, ours.peerIndex],
      [h1.ifindex, 'veth', h1.address, 1400, 'owner=netplumb', eth1.ifindex],
    );
    assert.equal(typeof ours.linkNetnsId, 'number');
  });
});

test('C3: a peer-name clash in the target namespace is ALREADY_EXISTS and leaves no host side', async () => {
  await withNamespaces(2, async (host, guest) => {
    await guest.rtnl.link.add({ name: 'eth1', kind: 'bridge' });
    await assert.rejects(
      host.rtnl.link.add({ name: 'h1', kind: 'veth', peer: { name: 'eth1', netnsFd: guest.ns.fd } }),
      (e: unknown) => {
        expectCode('ALREADY_EXISTS')(e);
        const err = e as NetplumbError;
        assert.equal(err.details.errnoCode, 'EEXIST');
        assert.equal(err.details.syscall, 'RTM_NEWLINK');
        assert.match(err.message, /^link add "h1" \(veth\): RTM_NEWLINK: EEXIST/);
        return true;
      },
    );
    assert.deepEqual(await host.t.linkNames(), ['lo']);
  });
});

test('link set: up/down, mtu, mac, alias, group, promisc, rename, master/nomaster, netns', async () => {
  await withNamespaces(2, async (a, b) => {
    const { rtnl, t } = a;
    await rtnl.link.add({ name: 'va', kind: 'veth', peer: { name: 'vb' } });
    await rtnl.link.add({ name: 'br0', kind: 'bridge' });
    await rtnl.link.set('va', { up: true, mtu: 1300, mac: '02-AA-BB-CC-DD-EE', alias: 'x', group: 42, promisc: true });
    let va = (await t.link('va')) as IpLink;
    assert.ok(va.flags.includes('UP'));
    assert.ok(va.flags.includes('PROMISC'));
    assert.deepEqual([va.mtu, va.address, va.ifalias, va.group], [1300, '02:aa:bb:cc:dd:ee', 'x', '42']);
    await rtnl.link.set('va', { up: false, promisc: false, alias: '' });
    va = (await t.link('va')) as IpLink;
    assert.ok(!va.flags.includes('UP'));
    assert.ok(!va.flags.includes('PROMISC'));
    assert.equal(va.ifalias, undefined);
    await rtnl.link.set('va', { master: 'br0' });
    assert.equal((await t.link('va'))?.master, 'br0');
    assert.deepEqual(
      (await rtnl.link.list({ master: 'br0' })).map((l) => l.name),
      ['va'],
    );
    await rtnl.link.set('va', { master: null });
    assert.equal((await t.link('va'))?.master, undefined);
    await rtnl.link.set('va', { name: 'va2' });
    assert.equal(await t.link('va'), undefined);
    assert.ok((await t.link('va2')) !== undefined);
    await rtnl.link.set('vb', { netnsFd: b.ns.fd });
    assert.equal(await t.link('vb'), undefined);
    assert.ok((await b.t.link('vb')) !== undefined);
  });
});

test('kinds: bridge, macvlan (each mode), vxlan as the oracle sees them', async () => {
  await withNamespaces(1, async ({ rtnl, t }) => {
    await rtnl.link.add({ name: 'p0', kind: 'veth', peer: { name: 'p1' } });
    await rtnl.link.add({ name: 'br0', kind: 'bridge', stp: false, priority: 100 });
    const br = (await t.link('br0')) as IpLink;
    assert.equal(br.linkinfo?.info_kind, 'bridge');
    assert.equal(br.linkinfo?.info_data?.priority, 100);
    for (const mode of ['bridge', 'vepa', 'private'] as const) {
      await rtnl.link.add({ name: `mv-${mode}`, link: 'p0', kind: 'macvlan', mode });
      const mv = (await t.link(`mv-${mode}`)) as IpLink;
      assert.equal(mv.linkinfo?.info_kind, 'macvlan');
      assert.equal(mv.linkinfo?.info_data?.mode, mode);
      assert.equal(mv.link, 'p0');
      assert.deepEqual((await rtnl.link.get(`mv-${mode}`)).info, { mode, flags: 0 });
    }
    await rtnl.link.add({
      name: 'vx0',
      kind: 'vxlan',
      id: 42,
      remote: '192.0.2.1',
      local: '192.0.2.2',
      dstPort: 4789,
      dev: 'p0',
    });
    const vx = (await t.link('vx0')) as IpLink;
    assert.equal(vx.linkinfo?.info_kind, 'vxlan');
    assert.deepEqual(
      [
        vx.linkinfo?.info_data?.id,
        vx.linkinfo?.info_data?.remote,
        vx.linkinfo?.info_data?.local,
        vx.linkinfo?.info_data?.port,
      ],
      [42, '192.0.2.1', '192.0.2.2', 4789],
    );
    assert.deepEqual((await rtnl.link.list({ kind: 'macvlan' })).map((l) => l.name).sort(), [
      'mv-bridge',
      'mv-private',
      'mv-vepa',
    ]);
  });
});

test('macvlan passthru takes over its parent', async () => {
  await withNamespaces(1, async ({ rtnl, t }) => {
    await rtnl.link.add({ name: 'p0', kind: 'veth', peer: { name: 'p1' } });
    await rtnl.link.add({ name: 'mvp', link: 'p0', kind: 'macvlan', mode: 'passthru' });
    assert.equal((await t.link('mvp'))?.linkinfo?.info_data?.mode, 'passthru');
  });
});

test('vlan (802.1Q): created as the oracle sees it, or refused as UNSUPPORTED exactly when `ip` is refused too', async () => {
  await withNamespaces(1, async ({ rtnl, t }) => {
    await rtnl.link.add({ name: 'p0', kind: 'veth', peer: { name: 'p1' } });
    // The oracle: can iproute2 itself make an 802.1Q device on this kernel?
    const kernelHasVlan =
      (await t.status(['ip', 'link', 'add', 'p0.11', 'link', 'p0', 'type', 'vlan', 'id', '11'])) === 0;
    if (!kernelHasVlan) {
      await assert.rejects(
        rtnl.link.add({ name: 'p0.10', link: 'p0', kind: 'vlan', id: 10 }),
        expectCode('UNSUPPORTED'),
      );
      assert.equal(await t.link('p0.10'), undefined);
      return;
    }
    await rtnl.link.add({ name: 'p0.10', link: 'p0', kind: 'vlan', id: 10 });
    const v = (await t.link('p0.10')) as IpLink;
    assert.equal(v.linkinfo?.info_data?.id, 10);
    assert.equal(v.linkinfo?.info_data?.protocol, '802.1Q');
  });
});

test('get/del of a missing link: NOT_FOUND naming it', async () => {
  await withNamespaces(1, async ({ rtnl }) => {
    await assert.rejects(rtnl.link.get('nope0'), expectCode('NOT_FOUND'));
    await assert.rejects(rtnl.link.del('nope0'), expectCode('NOT_FOUND'));
    await assert.rejects(rtnl.link.add({ name: 'm0', link: 'nope0', kind: 'macvlan' }), expectCode('NOT_FOUND'));
  });
});

test('del one, del group, and delMany through a fresh group (pipelined)', async () => {
  await withNamespaces(1, async ({ rtnl, t }) => {
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        rtnl.link.add({ name: `v${i}`, kind: 'veth', group: i < 10 ? 5 : 0, peer: { name: `p${i}` } }),
      ),
    );
    assert.equal((await t.linkNames()).length, 61);
    await rtnl.link.del('v29');
    assert.equal(await t.link('v29'), undefined);
    assert.equal(await t.link('p29'), undefined);
    await rtnl.link.delGroup(5);
    const left = await t.linkNames();
    assert.equal(left.length, 1 + 2 * 19);
    assert.ok(!left.includes('v0') && !left.includes('p9'));
    await rtnl.link.delMany(Array.from({ length: 19 }, (_, i) => `v${i + 10}`).concat(['missing0']));
    assert.deepEqual(await t.linkNames(), ['lo']);
    await assert.rejects(rtnl.link.delGroup(0), expectCode('INVALID_ARGUMENT'));
  });
});

test('a burst of concurrent requests on one socket: all answered, each to its caller', async () => {
  await withNamespaces(1, async ({ rtnl, t }) => {
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, (_, i) => rtnl.link.add({ name: `d${i % 40}`, kind: 'bridge' })),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 40);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(rejected.length, 20);
    for (const r of rejected) expectCode('ALREADY_EXISTS')(r.reason);
    assert.equal((await t.linkNames()).length, 41);
  });
});
