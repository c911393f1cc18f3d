/**
 * Uplinks: a host NIC (here a veth in the emulated host's namespace) as a trunk or access
 * port of an OVS bridge, through the library and the command line. Oracles: ovs-vsctl and
 * `ip -json link` in the host's namespace.
 */
import { test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ErrorCode, NetplumbError } from '../../src/errors.js';
import { Plumber } from '../../src/plumb/plumber.js';
import { must, run } from '../../sandbox/exec.js';
import { useLeakCheck } from '../helpers/leak.js';
import { useSharedOvs } from '../helpers/ovs.js';

const ovs = useSharedOvs();
useLeakCheck();

const BIN = join(__dirname, '..', '..', '..', 'bin', 'netplumb');

/** Equivalent to: ip -n HOST link add NIC type veth peer name NIC-p ; both down */
async function makeNic(nic: string): Promise<void> {
  await must(['ip', '-n', ovs().netns, 'link', 'add', nic, 'type', 'veth', 'peer', 'name', `${nic}p`]);
}

async function delNic(nic: string): Promise<void> {
  await run(['ip', '-n', ovs().netns, 'link', 'del', nic]);
}

async function linkUp(nic: string): Promise<boolean> {
  const [l] = JSON.parse(await must(['ip', '-n', ovs().netns, '-json', 'link', 'show', nic])) as { flags: string[] }[];
  return l?.flags.includes('UP') === true;
}

async function portColumn(port: string, column: string): Promise<string> {
  return (await ovs().vsctl(['get', 'Port', port, column])).trim();
}

async function ports(bridge = 'ovs0'): Promise<string[]> {
  return (await ovs().vsctl(['list-ports', bridge])).split('\n').filter(Boolean);
}

async function withPlumber(fn: (p: Plumber) => Promise<void>): Promise<void> {
  const p = Plumber.open({ ovsDb: ovs().remote, hostNetns: { name: ovs().netns } });
  try {
    await fn(p);
  } finally {
    await p.close();
  }
}

async function rejects(p: Promise<unknown>, code: string, text: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof NetplumbError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, text);
    return true;
  });
}

test('trunk of every VLAN: added once, the NIC brought up, the same add a no-op, del restores it', async () => {
  await makeNic('eth1');
  try {
    await withPlumber(async (p) => {
      const r = await p.uplinks.add({ bridge: 'ovs0', nic: 'eth1' });
      assert.equal(r.changed, true);
      assert.ok((r.uplink.ofport ?? 0) > 0, 'ovs-vswitchd applied the port');
      assert.deepEqual(await ports(), ['eth1']);
      assert.equal(await portColumn('eth1', 'vlan_mode'), 'trunk');
      assert.equal(await portColumn('eth1', 'trunks'), '[]', 'every VLAN');
      assert.equal(await portColumn('eth1', 'tag'), '[]');
      assert.equal(await linkUp('eth1'), true);
      const again = await p.uplinks.add({ bridge: 'ovs0', nic: 'eth1' });
      assert.equal(again.changed, false);
      const listed = await p.uplinks.list();
      assert.deepEqual(
        listed.map((u) => [u.nic, u.bridge, u.vlans.kind, u.broughtUp, u.linkUp]),
        [['eth1', 'ovs0', 'trunk', true, true]],
      );
      // An uplink is no attachment: gc never judges it.
      const gc = await p.gc({ graceSeconds: 0 });
      assert.deepEqual([gc.removed, gc.kept], [[], []]);
      assert.deepEqual(await ports(), ['eth1']);
      const del = await p.uplinks.del({ nic: 'eth1' });
      assert.equal(del.removed?.nic, 'eth1');
      assert.deepEqual(await ports(), []);
      assert.equal(await linkUp('eth1'), false, 'down again: netplumb had brought it up');
      assert.deepEqual(await p.uplinks.del({ nic: 'eth1' }), {}, 'nothing left to remove: no error');
    });
  } finally {
    await delNic('eth1');
  }
});

test('trunk of some VLANs with a native VLAN, then changed in place only with force; access port', async () => {
  await makeNic('eth1');
  await makeNic('eth2');
  try {
    await withPlumber(async (p) => {
      await p.uplinks.add({ bridge: 'ovs0', nic: 'eth1', trunks: [200, 100], nativeVlan: 7 });
      assert.equal(await portColumn('eth1', 'vlan_mode'), 'native-untagged');
      assert.equal(await portColumn('eth1', 'tag'), '7');
      assert.equal(await portColumn('eth1', 'trunks'), '[7, 100, 200]');
      await rejects(p.uplinks.add({ bridge: 'ovs0', nic: 'eth1', trunks: [100] }), ErrorCode.CONFLICT, /--force/);
      assert.equal(await portColumn('eth1', 'trunks'), '[7, 100, 200]', 'unchanged');
      const forced = await p.uplinks.add({ bridge: 'ovs0', nic: 'eth1', trunks: [100], force: true });
      assert.equal(forced.changed, true);
      assert.equal(await portColumn('eth1', 'trunks'), '[100]');
      assert.equal(await portColumn('eth1', 'tag'), '[]');
      assert.equal(await portColumn('eth1', 'vlan_mode'), 'trunk');
      await p.uplinks.add({ bridge: 'ovs0', nic: 'eth2', vlan: 300 });
      assert.equal(await portColumn('eth2', 'vlan_mode'), 'access');
      assert.equal(await portColumn('eth2', 'tag'), '300');
      await p.uplinks.del({ nic: 'eth1' });
      await p.uplinks.del({ nic: 'eth2' });
      assert.deepEqual(await ports(), []);
    });
  } finally {
    await delNic('eth1');
    await delNic('eth2');
  }
});

test("the NIC of the host's default route is refused unless forced; another tool's port is left alone", async () => {
  await makeNic('eth1');
  await makeNic('eth2');
  const ns = ovs().netns;
  try {
    // The emulated host's own default route goes out through eth1 (inside its namespace only).
    await must(['ip', '-n', ns, 'link', 'set', 'eth1', 'up']);
    await must(['ip', '-n', ns, 'addr', 'add', '192.0.2.10/24', 'dev', 'eth1']);
    await must(['ip', '-n', ns, 'route', 'add', 'default', 'via', '192.0.2.1']);
    await ovs().vsctl(['add-port', 'ovs0', 'eth2', '--', 'set', 'Port', 'eth2', 'tag=5']);
    await withPlumber(async (p) => {
      await rejects(p.uplinks.add({ bridge: 'ovs0', nic: 'eth1' }), ErrorCode.CONFLICT, /default route.*--force/);
      assert.deepEqual(await ports(), ['eth2'], 'nothing added');
      const forced = await p.uplinks.add({ bridge: 'ovs0', nic: 'eth1', force: true });
      assert.equal(forced.uplink.broughtUp, undefined, 'it was up already');
      await rejects(p.uplinks.add({ bridge: 'ovs0', nic: 'eth2' }), ErrorCode.CONFLICT, /not made by netplumb/);
      await rejects(p.uplinks.del({ nic: 'eth2' }), ErrorCode.CONFLICT, /not made by netplumb/);
      assert.equal(await portColumn('eth2', 'tag'), '5', "the other tool's port is untouched");
      await p.uplinks.del({ nic: 'eth1' });
      assert.equal(await linkUp('eth1'), true, 'left up: it was up before');
    });
  } finally {
    await ovs().vsctl(['--if-exists', 'del-port', 'eth2']);
    await delNic('eth1');
    await delNic('eth2');
  }
});

test('a failure rolls back every step: the new bridge, the NIC state, the port (physnet mapped elsewhere)', async () => {
  await makeNic('eth1');
  try {
    await ovs().vsctl(['set', 'Open_vSwitch', '.', 'external_ids:ovn-bridge-mappings=physnet1:ovs0']);
    await withPlumber(async (p) => {
      await rejects(
        p.uplinks.add({ bridge: 'ovs9', nic: 'eth1', createBridge: true, physnet: 'physnet1' }),
        ErrorCode.CONFLICT,
        /physnet1.*ovs0/,
      );
      assert.deepEqual((await ovs().vsctl(['list-br'])).split('\n').filter(Boolean), ['ovs0'], 'ovs9 removed again');
      assert.equal(await linkUp('eth1'), false, 'set down again');
      assert.equal((await ovs().vsctl(['--if-exists', 'get', 'Port', 'eth1', 'name'])).trim(), '', 'no port');
      // A physnet of its own is mapped, and unmapped by del (the other mapping stays).
      await p.uplinks.add({ bridge: 'ovs0', nic: 'eth1', physnet: 'physnet2' });
      assert.equal(
        (await ovs().vsctl(['get', 'Open_vSwitch', '.', 'external_ids:ovn-bridge-mappings'])).trim(),
        '"physnet1:ovs0,physnet2:ovs0"',
      );
      await p.uplinks.del({ nic: 'eth1' });
      assert.equal(
        (await ovs().vsctl(['get', 'Open_vSwitch', '.', 'external_ids:ovn-bridge-mappings'])).trim(),
        '"physnet1:ovs0"',
      );
    });
  } finally {
    await ovs().vsctl(['remove', 'Open_vSwitch', '.', 'external_ids', 'ovn-bridge-mappings']);
    await delNic('eth1');
  }
});

test('netplumb uplink add|list|del on the command line, with --json', async () => {
  await makeNic('eth1');
  const cli = (args: string[]) =>
    run(['ip', 'netns', 'exec', ovs().netns, BIN, 'uplink', ...args, '--ovs-db', ovs().remote]);
  try {
    const add = await cli(['add', '--bridge', 'ovs0', '--nic', 'eth1', '--trunks', '100,200', '--json']);
    assert.equal(add.code, 0, add.stderr);
    assert.equal((JSON.parse(add.stdout) as { changed: boolean }).changed, true);
    assert.equal(await portColumn('eth1', 'trunks'), '[100, 200]');
    const list = await cli(['list']);
    assert.match(list.stdout, /^NIC\s+BRIDGE\s+VLANS/m);
    assert.match(list.stdout, /eth1\s+ovs0\s+trunk 100,200\s+-\s+\d+\s+up/);
    const bad = await cli(['add', '--nic', 'eth1']);
    assert.equal(bad.code, 2, 'INVALID_ARGUMENT');
    assert.match(bad.stderr, /--bridge is required/);
    const del = await cli(['del', '--nic', 'eth1']);
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, /removed: eth1 → ovs0/);
    assert.deepEqual(await ports(), []);
  } finally {
    await delNic('eth1');
  }
});
