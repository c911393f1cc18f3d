/**
 * The vswitch verbs against a real ovsdb-server + ovs-vswitchd (userspace datapath) in a
 * namespace of their own. Every effect is asserted through ovs-vsctl, never our client.
 */
import assert from 'node:assert/strict';
import { describe, it } from '../helpers/privileged.js';
import { ErrorCode, NetplumbError } from '../../src/errors.js';
import { OvsdbClient } from '../../src/ovsdb/client.js';
import { namedUuid, set } from '../../src/ovsdb/notation.js';
import { eq, insert, mutate } from '../../src/ovsdb/ops.js';
import { useLeakCheck } from '../helpers/leak.js';
import { withOvs } from '../helpers/ovs.js';

useLeakCheck();

function isCode(code: ErrorCode, re?: RegExp) {
  return (e: unknown): boolean => e instanceof NetplumbError && e.code === code && (!re || re.test(e.message));
}

const lines = (s: string): string[] => s.split('\n').filter(Boolean).sort();

describe('vswitch verbs (oracle: ovs-vsctl)', () => {
  it('addBridge / listBridges / delBridge with mayExist and ifExists', () =>
    withOvs(async (ovs, vs) => {
      const r = await vs.addBridge('br1', {
        datapathType: 'netdev',
        mtuRequest: 1400,
        externalIds: { owner: 'test' },
        wait: true,
      });
      assert.equal(r.existed, false);
      assert.deepEqual(lines(await ovs.vsctl(['list-br'])), ['br1', 'ovs0']);
      assert.equal((await ovs.vsctl(['get', 'Bridge', 'br1', 'datapath_type'])).trim(), 'netdev');
      assert.equal((await ovs.vsctl(['get', 'Bridge', 'br1', 'external_ids:owner'])).trim(), 'test');
      assert.equal((await ovs.vsctl(['get', 'Interface', 'br1', 'mtu_request'])).trim(), '1400');
      assert.equal((await ovs.vsctl(['get', 'Interface', 'br1', 'type'])).trim(), 'internal');
      assert.deepEqual(await vs.listBridges(), lines(await ovs.vsctl(['list-br'])));
      assert.deepEqual(await vs.addBridge('br1', { mayExist: true }), { uuid: r.uuid, existed: true });
      await assert.rejects(vs.addBridge('br1'), isCode(ErrorCode.ALREADY_EXISTS));
      assert.deepEqual(await vs.delBridge('br1', { wait: true }), { deleted: true });
      assert.deepEqual(lines(await ovs.vsctl(['list-br'])), ['ovs0']);
      assert.equal((await ovs.vsctl(['--columns=name', 'find', 'Interface', 'name=br1'])).trim(), '');
      assert.deepEqual(await vs.delBridge('br1', { ifExists: true }), { deleted: false });
      await assert.rejects(vs.delBridge('br1'), isCode(ErrorCode.NOT_FOUND, /bridge "br1" not found/));
    }));

  it('addPort writes every column in one transaction and reports ofport with wait', () =>
    withOvs(async (ovs, vs) => {
      const p = await vs.addPort(
        'ovs0',
        {
          name: 'p1',
          type: 'internal',
          tag: 100,
          externalIds: { 'netplumb.owner': 'x', note: 'a;b -- del-br ovs0' },
          interfaceExternalIds: { 'iface-id': 'i1' },
          mtuRequest: 1450,
        },
        { wait: true },
      );
      assert.ok(typeof p.ofport === 'number' && p.ofport > 0, `ofport ${p.ofport}`);
      assert.equal((await ovs.vsctl(['get', 'Interface', 'p1', 'ofport'])).trim(), String(p.ofport));
      assert.deepEqual(lines(await ovs.vsctl(['list-ports', 'ovs0'])), ['p1']);
      assert.equal((await ovs.vsctl(['get', 'Port', 'p1', 'tag'])).trim(), '100');
      assert.equal((await ovs.vsctl(['get', 'Port', 'p1', 'external_ids:note'])).trim(), '"a;b -- del-br ovs0"');
      assert.equal((await ovs.vsctl(['get', 'Interface', 'p1', 'external_ids:iface-id'])).trim(), 'i1');
      assert.equal((await ovs.vsctl(['get', 'Interface', 'p1', 'mtu_request'])).trim(), '1450');
      assert.deepEqual(lines(await ovs.vsctl(['list-br'])), ['ovs0'], 'the literal "-- del-br" did nothing');
      assert.deepEqual(p.written, {
        bridge: 'ovs0',
        portNames: ['p1'],
        portUuids: [p.portUuid],
        interfaceUuids: [p.interfaceUuid],
      });
      assert.equal((await ovs.vsctl(['get', 'Port', 'p1', '_uuid'])).trim(), p.portUuid);

      await vs.addPort('ovs0', {
        name: 'p2',
        type: 'internal',
        trunks: [200, 100, 200],
        vlanMode: 'trunk',
        options: {},
      });
      assert.equal((await ovs.vsctl(['get', 'Port', 'p2', 'trunks'])).trim(), '[100, 200]');
      assert.equal((await ovs.vsctl(['get', 'Port', 'p2', 'vlan_mode'])).trim(), 'trunk');
      assert.deepEqual(await vs.listPorts('ovs0'), lines(await ovs.vsctl(['list-ports', 'ovs0'])));
      assert.deepEqual(
        (await vs.findPortsByExternalIds({ 'netplumb.owner': 'x' })).map((r) => r.name),
        ['p1'],
      );
      assert.deepEqual(
        await vs.addPort('ovs0', { name: 'p1', type: 'internal' }, { mayExist: true }).then((r) => r.existed),
        true,
      );
    }));

  it('the cache follows optional columns changed by others (update2 sends their new value)', () =>
    withOvs(async (ovs, vs) => {
      await ovs.vsctl(['add-port', 'ovs0', 'opt0', '--', 'set', 'interface', 'opt0', 'type=internal']);
      const until = (pred: () => boolean) =>
        vs.client.waitFor(
          pred,
          5000,
          () => new NetplumbError(ErrorCode.INTERNAL, 'the cache did not follow ovs-vsctl'),
        );
      for (const tag of ['100', '200']) {
        await ovs.vsctl(['set', 'port', 'opt0', `tag=${tag}`]);
        await until(() => vs.client.cache.lookup('Port', 'name', 'opt0')?.tag === Number(tag));
      }
      await ovs.vsctl(['clear', 'port', 'opt0', 'tag']);
      await until(() => vs.client.cache.lookup('Port', 'name', 'opt0')?.tag === undefined);
      assert.equal((await ovs.vsctl(['get', 'port', 'opt0', 'tag'])).trim(), '[]');
      // ofport goes from unset/-1 to a number as ovs-vswitchd applies: the cache must agree with ovs-vsctl.
      const ofport = Number((await ovs.vsctl(['get', 'interface', 'opt0', 'ofport'])).trim());
      await until(() => (vs.client.cache.lookup('Interface', 'name', 'opt0')?.ofport ?? 0) === ofport);
      await ovs.vsctl(['del-port', 'ovs0', 'opt0']);
    }));

  it('addPorts puts N ports in one transaction; delPort deletes a list in one transaction', () =>
    withOvs(async (ovs, vs) => {
      const names = Array.from({ length: 20 }, (_, i) => `b${i}`);
      const r = await vs.addPorts(
        'ovs0',
        names.map((name) => ({ name, type: 'internal' })),
        { wait: true },
      );
      assert.equal(r.ports.length, 20);
      assert.ok(r.ports.every((p) => typeof p.ofport === 'number' && p.ofport > 0));
      assert.deepEqual(lines(await ovs.vsctl(['list-ports', 'ovs0'])), [...names].sort());
      assert.deepEqual((await vs.delPort(names.slice(0, 15), { wait: true })).deleted, names.slice(0, 15));
      assert.deepEqual(lines(await ovs.vsctl(['list-ports', 'ovs0'])), names.slice(15).sort());
      assert.equal(
        lines(await ovs.vsctl(['--columns=name', 'list', 'Interface'])).length,
        5 + 1,
        'interfaces garbage-collected',
      );
      await assert.rejects(
        vs.delPort(['b15', 'nope']),
        isCode(ErrorCode.NOT_FOUND, /port "nope" not found; ?|port "nope" not found/),
      );
      assert.equal(
        lines(await ovs.vsctl(['list-ports', 'ovs0'])).length,
        5,
        'nothing deleted when one name is missing',
      );
      assert.deepEqual((await vs.delPort(['b15', 'nope'], { ifExists: true })).deleted, ['b15']);
      await assert.rejects(vs.delPort('b16', { bridge: 'nobr' }), isCode(ErrorCode.NOT_FOUND, /bridge "nobr"/));
    }));

  it('pipelined one-port transactions: each waits for its own next_cfg and ofport; names resolve through the index', () =>
    withOvs(async (ovs, vs) => {
      const warnings: Error[] = [];
      const onWarning = (w: Error): void => {
        warnings.push(w);
      };
      process.on('warning', onWarning);
      try {
        const names = Array.from({ length: 40 }, (_, i) => `pp${i}`);
        const added = await Promise.all(
          names.map((name) => vs.addPort('ovs0', { name, type: 'internal' }, { wait: 30_000 })),
        );
        for (const p of added) {
          assert.ok(typeof p.ofport === 'number' && p.ofport > 0, `${p.name}: ofport ${p.ofport}`);
          assert.equal((await ovs.vsctl(['get', 'Interface', p.name, 'ofport'])).trim(), String(p.ofport));
        }
        assert.deepEqual(lines(await ovs.vsctl(['list-ports', 'ovs0'])), [...names].sort());
        assert.equal((await vs.getPort('pp7'))?.uuid, (await ovs.vsctl(['get', 'Port', 'pp7', '_uuid'])).trim());
        await Promise.all(names.map((name) => vs.delPort(name, { wait: 30_000 })));
        assert.deepEqual(lines(await ovs.vsctl(['list-ports', 'ovs0'])), []);
        assert.equal(await vs.getPort('pp7'), undefined);
        // A port added behind our back is found by name once the monitor has seen it.
        await ovs.vsctl(['add-port', 'ovs0', 'ext0', '--', 'set', 'Interface', 'ext0', 'type=internal']);
        await vs.client.waitFor(
          () => vs.client.cache.size('Port') === 2,
          5000,
          () => new NetplumbError(ErrorCode.UNAVAILABLE, 'monitor did not show ext0'),
        );
        assert.equal((await vs.getPort('ext0'))?.name, 'ext0');
        await vs.delPort('ext0', { wait: true });
      } finally {
        process.off('warning', onWarning);
      }
      assert.deepEqual(
        warnings.map((w) => w.name),
        [],
        'no MaxListenersExceededWarning with 40 waits at once',
      );
    }));

  it('setPortTag changes the tag live and clears it', () =>
    withOvs(async (ovs, vs) => {
      await vs.addPort('ovs0', { name: 'p1', type: 'internal', tag: 100 });
      await vs.setPortTag('p1', 300, { wait: true });
      assert.equal((await ovs.vsctl(['get', 'Port', 'p1', 'tag'])).trim(), '300');
      await vs.setPortTag('p1', null);
      assert.equal((await ovs.vsctl(['get', 'Port', 'p1', 'tag'])).trim(), '[]');
      await assert.rejects(vs.setPortTag('nope', 5), isCode(ErrorCode.NOT_FOUND, /port "nope" not found/));
      await assert.rejects(vs.setPortTag('p1', 4095), isCode(ErrorCode.INVALID_ARGUMENT));
      await vs.setPortExternalIds('p1', { a: '1' });
      await vs.setPortExternalIds('p1', { a: '2', b: '3' });
      assert.equal((await ovs.vsctl(['get', 'Port', 'p1', 'external_ids'])).trim(), '{a="2", b="3"}');
    }));

  it('B2: a mutate on a missing bridge silently drops the rows (raw), addPort raises NOT_FOUND and writes nothing', () =>
    withOvs(async (ovs, vs) => {
      // What the server does without the guard: count 0, and the Port/Interface are garbage-collected.
      const raw = await vs.client.transact([
        insert('Interface', { name: 'ghost' }, 'i'),
        insert('Port', { name: 'ghost', interfaces: set([namedUuid('i')]) }, 'p'),
        mutate('Bridge', [eq('name', 'nobr')], [['ports', 'insert', set([namedUuid('p')])]]),
      ]);
      assert.deepEqual(raw[2], { count: 0 });
      assert.equal((await ovs.vsctl(['--columns=name', 'find', 'Port', 'name=ghost'])).trim(), '');
      // Ours: the wait op fails the transaction.
      await assert.rejects(
        vs.addPort('nobr', { name: 'p1', type: 'internal' }),
        isCode(
          ErrorCode.NOT_FOUND,
          /bridge "nobr" not found in unix:.*create it with --create-bridge or ovs-vsctl add-br/,
        ),
      );
      assert.equal((await ovs.vsctl(['--columns=name', 'list', 'Port'])).trim(), 'name                : ovs0');
      assert.equal(lines(await ovs.vsctl(['--columns=name', 'list', 'Interface'])).length, 1);
    }));

  it('duplicate port name → ALREADY_EXISTS, also when our cache has not seen it yet', () =>
    withOvs(async (ovs, vs) => {
      await vs.addPort('ovs0', { name: 'p1', type: 'internal' });
      await assert.rejects(
        vs.addPort('ovs0', { name: 'p1', type: 'internal' }),
        isCode(ErrorCode.ALREADY_EXISTS, /port "p1" already exists/),
      );
      // Race: another writer adds p2 right before our commit (our cache is bypassed with a raw transact).
      await ovs.vsctl(['--no-wait', 'add-port', 'ovs0', 'p2', '--', 'set', 'Interface', 'p2', 'type=internal']);
      const err = await vs.client
        .transact([
          insert('Interface', { name: 'p2', type: 'internal' }, 'i'),
          insert('Port', { name: 'p2', interfaces: set([namedUuid('i')]) }, 'p'),
          mutate('Bridge', [eq('name', 'ovs0')], [['ports', 'insert', set([namedUuid('p')])]]),
        ])
        .catch((e: unknown) => e);
      assert.ok(isCode(ErrorCode.ALREADY_EXISTS, /op 3 \(commit\): constraint violation/)(err), String(err));
      assert.equal(lines(await ovs.vsctl(['--columns=name', 'find', 'Port', 'name=p2'])).length, 1);
    }));

  it('bridge deleted by someone else between lookup and commit → NOT_FOUND, nothing written', () =>
    withOvs(async (ovs, vs) => {
      assert.ok(await vs.getBridge('ovs0'), 'lookup sees the bridge');
      await ovs.vsctl(['del-br', 'ovs0']);
      await assert.rejects(
        vs.addPort('ovs0', { name: 'p1', type: 'internal' }),
        isCode(ErrorCode.NOT_FOUND, /bridge "ovs0" not found/),
      );
      assert.equal((await ovs.vsctl(['--columns=name', 'list', 'Port'])).trim(), '');
      // F9: deleting a port whose bridge is gone is not an error with ifExists.
      assert.deepEqual(await vs.delPort('p1', { ifExists: true }), { deleted: [] });
    }));

  it('wait: interface error → DATAPLANE_APPLY_FAILED; vswitchd down → cur_cfg deadline', () =>
    withOvs(async (ovs, vs) => {
      const err = await vs.addPort('ovs0', { name: 'nosuchdev0' }, { wait: true }).catch((e: unknown) => e);
      assert.ok(isCode(ErrorCode.DATAPLANE_APPLY_FAILED, /nosuchdev0/)(err), String(err));
      assert.deepEqual((err as NetplumbError).details.written, {
        bridge: 'ovs0',
        portNames: ['nosuchdev0'],
        portUuids: [(await ovs.vsctl(['get', 'Port', 'nosuchdev0', '_uuid'])).trim()],
        interfaceUuids: [(await ovs.vsctl(['get', 'Interface', 'nosuchdev0', '_uuid'])).trim()],
      });
      assert.match(await ovs.vsctl(['get', 'Interface', 'nosuchdev0', 'error']), /No such device|could not open/);
      await vs.delPort('nosuchdev0');
      await ovs.stopVswitchd();
      await assert.rejects(
        vs.addPort('ovs0', { name: 'p1', type: 'internal' }, { wait: 300 }),
        isCode(ErrorCode.DATAPLANE_APPLY_FAILED, /cur_cfg not reached/),
      );
      assert.deepEqual(lines(await ovs.vsctl(['--no-wait', 'list-ports', 'ovs0'])), ['p1'], 'committed, not applied');
    }));

  it('get_schema / list_dbs / monitor_cond_since against the real server', () =>
    withOvs(
      async (_ovs, vs) => {
        assert.deepEqual(await vs.client.listDbs(), ['Open_vSwitch', '_Server']);
        const schema = await vs.client.getSchema();
        assert.equal(schema.tables.Port!.columns.tag!.kind, 'scalar', 'optional: diffed as its new value');
        assert.equal(schema.tables.Port!.columns.trunks!.kind, 'set');
        assert.equal(vs.client.monitorMethod, 'monitor_cond_since');
        assert.ok(vs.client instanceof OvsdbClient);
      },
      { bridge: false },
    ));
});
