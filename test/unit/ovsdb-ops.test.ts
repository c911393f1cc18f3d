import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rng } from '../helpers/rng.js';
import { ErrorCode, NetplumbError } from '../../src/errors.js';
import { OvsdbCache, applyColumnDiff } from '../../src/ovsdb/cache.js';
import { namedUuid, set, type Atom } from '../../src/ovsdb/notation.js';
import * as ops from '../../src/ovsdb/ops.js';
import { parseRemote, resolveRemote } from '../../src/ovsdb/remote.js';
import { parseSchema, verifyColumns } from '../../src/ovsdb/schema.js';
import { checkTransactResult } from '../../src/ovsdb/transact.js';
import { VSWITCH_DECODERS, VSWITCH_REQUIRED_COLUMNS, type VswitchTables } from '../../src/ovsdb/vswitch-model.js';

const R = 'unix:/x/db.sock';

describe('op builders', () => {
  it('build every RFC 7047 operation', () => {
    assert.deepEqual(ops.insert('Port', { name: 'p' }, 'p0'), {
      op: 'insert',
      table: 'Port',
      row: { name: 'p' },
      'uuid-name': 'p0',
    });
    assert.deepEqual(ops.insert('Port', { name: 'p' }), { op: 'insert', table: 'Port', row: { name: 'p' } });
    assert.deepEqual(ops.select('Bridge', [ops.eq('name', 'b')], ['ports']), {
      op: 'select',
      table: 'Bridge',
      where: [['name', '==', 'b']],
      columns: ['ports'],
    });
    assert.deepEqual(ops.update('Port', [ops.eq('name', 'p')], { tag: 5 }), {
      op: 'update',
      table: 'Port',
      where: [['name', '==', 'p']],
      row: { tag: 5 },
    });
    assert.deepEqual(ops.mutate('Bridge', [], [['ports', 'insert', set([namedUuid('p0')])]]), {
      op: 'mutate',
      table: 'Bridge',
      where: [],
      mutations: [['ports', 'insert', ['set', [['named-uuid', 'p0']]]]],
    });
    assert.deepEqual(ops.del('Port', [ops.includes('tag', 1)]), {
      op: 'delete',
      table: 'Port',
      where: [['tag', 'includes', 1]],
    });
    assert.deepEqual(ops.wait('Bridge', [ops.eq('name', 'b')], ['name'], '==', [{ name: 'b' }]), {
      op: 'wait',
      table: 'Bridge',
      where: [['name', '==', 'b']],
      columns: ['name'],
      until: '==',
      rows: [{ name: 'b' }],
      timeout: 0,
    });
    assert.deepEqual(ops.commit(true), { op: 'commit', durable: true });
    assert.deepEqual(ops.abort(), { op: 'abort' });
    assert.deepEqual(ops.comment('hi'), { op: 'comment', comment: 'hi' });
    assert.deepEqual(ops.assertLock('l'), { op: 'assert', lock: 'l' });
    assert.equal(ops.describeOp(ops.abort()), 'abort');
    assert.throws(
      () => ops.insert('Port', {}, 'bad-name'),
      (e: unknown) => e instanceof NetplumbError && e.code === 'INVALID_ARGUMENT',
    );
  });
});

describe('checkTransactResult', () => {
  const txn = [
    ops.insert('Interface', { name: 'p' }, 'i'),
    ops.insert('Port', { name: 'p' }, 'p'),
    ops.mutate('Bridge', [], []),
  ];
  const fail = (result: unknown, explain?: Parameters<typeof checkTransactResult>[3]): NetplumbError => {
    try {
      checkTransactResult(txn, result as never, R, explain);
    } catch (e) {
      assert.ok(e instanceof NetplumbError);
      return e;
    }
    assert.fail('expected a failure');
  };

  it('returns per-op results on success', () => {
    const ok = [{ uuid: ['uuid', 'a'] }, { uuid: ['uuid', 'b'] }, { count: 1 }];
    assert.deepEqual(checkTransactResult(txn, ok as never, R), ok);
  });

  it('surfaces the extra trailing error element (constraint violation) as ALREADY_EXISTS', () => {
    const e = fail([
      { uuid: ['uuid', 'a'] },
      { uuid: ['uuid', 'b'] },
      { count: 1 },
      {
        error: 'constraint violation',
        details:
          'Transaction causes multiple rows in "Port" table to have identical values (p) for index on column "name".',
      },
    ]);
    assert.equal(e.code, ErrorCode.ALREADY_EXISTS);
    assert.match(e.message, /op 3 \(commit\): constraint violation: .*identical values \(p\)/);
    assert.deepEqual(
      (e.details.failures as { index: number }[]).map((f) => f.index),
      [3],
    );
  });

  it('lists a failed op with index, op, table and details; later nulls are not executed', () => {
    const e = fail([{ uuid: ['uuid', 'a'] }, { error: 'referential integrity violation', details: 'dangling' }, null]);
    assert.equal(e.code, ErrorCode.CONFLICT);
    assert.match(e.message, /op 1 \(insert Port\): referential integrity violation: dangling/);
    assert.deepEqual(e.details.failures, [
      { index: 1, op: 'insert', table: 'Port', error: 'referential integrity violation', details: 'dangling' },
    ]);
  });

  it('lets the caller explain a failure (wait on the bridge → NOT_FOUND)', () => {
    const e = fail([{ error: 'timed out', details: '"where" clause test failed' }, null, null], (f) =>
      f.index === 0 ? new NetplumbError(ErrorCode.NOT_FOUND, 'bridge "b" not found') : undefined,
    );
    assert.equal(e.code, ErrorCode.NOT_FOUND);
    assert.equal((e.details.failures as unknown[]).length, 1);
  });

  it('rejects malformed replies with PROTOCOL', () => {
    assert.equal(fail({}).code, ErrorCode.PROTOCOL);
    assert.equal(fail([{ count: 1 }]).code, ErrorCode.PROTOCOL);
    assert.equal(fail([1, 2, 3]).code, ErrorCode.PROTOCOL);
  });
});

describe('schema check', () => {
  const schema = parseSchema({
    name: 'Open_vSwitch',
    version: '1.0',
    tables: {
      Open_vSwitch: {
        columns: {
          bridges: { type: { key: 'uuid', min: 0, max: 'unlimited' } },
          next_cfg: { type: 'integer' },
          cur_cfg: { type: 'integer' },
          external_ids: { type: { key: 'string', value: 'string', min: 0, max: 'unlimited' } },
        },
      },
      Bridge: {
        columns: {
          name: { type: 'string' },
          ports: { type: { key: 'uuid', min: 0, max: 'unlimited' } },
          datapath_type: { type: 'string' },
          external_ids: { type: { key: 'string', value: 'string', min: 0, max: 'unlimited' } },
        },
      },
      Port: {
        columns: {
          name: { type: 'string' },
          interfaces: { type: { key: 'uuid', max: 'unlimited' } },
          tag: { type: { key: 'integer', min: 0, max: 1 } },
          trunks: { type: { key: 'integer', min: 0, max: 4096 } },
          vlan_mode: { type: { key: 'string', min: 0, max: 1 } },
          external_ids: { type: { key: 'string', value: 'string', min: 0, max: 'unlimited' } },
        },
      },
      Interface: { columns: { name: { type: 'string' } } },
    },
  });

  it('classifies column kinds', () => {
    // Optional (min 0, max 1): diffed as a scalar, the server sends the new value.
    assert.equal(schema.tables.Port!.columns.tag!.kind, 'scalar');
    assert.equal(schema.tables.Port!.columns.trunks!.kind, 'set');
    assert.equal(schema.tables.Port!.columns.name!.kind, 'scalar');
    assert.equal(schema.tables.Port!.columns.external_ids!.kind, 'map');
  });

  it('names the first missing column with INCOMPATIBLE; optional columns are reported', () => {
    assert.throws(
      () => verifyColumns(schema, VSWITCH_REQUIRED_COLUMNS, R),
      (e: unknown) => e instanceof NetplumbError && e.code === 'INCOMPATIBLE' && /Interface\.type/.test(e.message),
    );
    assert.deepEqual([...verifyColumns(schema, { Bridge: ['name', 'mtu_request?'] }, R)], ['Bridge.name']);
  });
});

describe('cache', () => {
  it('applies update2 diffs: sets as symmetric difference, maps per key, scalars replaced', () => {
    assert.deepEqual(applyColumnDiff('set', 100, 100), ['set', []]);
    assert.deepEqual(applyColumnDiff('set', ['set', []], 100), ['set', [100]]);
    assert.deepEqual(applyColumnDiff('set', 100, ['set', [100, 200]]), ['set', [200]]);
    assert.deepEqual(
      applyColumnDiff(
        'map',
        [
          'map',
          [
            ['a', '1'],
            ['b', '2'],
          ],
        ],
        [
          'map',
          [
            ['a', '1'],
            ['b', '3'],
            ['c', '4'],
          ],
        ],
      ),
      [
        'map',
        [
          ['b', '3'],
          ['c', '4'],
        ],
      ],
    );
    assert.equal(applyColumnDiff('scalar', 'x', 'y'), 'y');
  });

  it('applies small and large diffs alike: against a reference, over random sets and maps of every atom type', () => {
    const next = rng(7);
    const rand = (n: number): number => Math.floor(next() * n);
    const atoms: Atom[] = [
      1,
      2,
      '1',
      '2',
      true,
      false,
      ['uuid', '0000000a-0000-0000-0000-000000000000'],
      ['uuid', '0000000b-0000-0000-0000-000000000000'],
      ['named-uuid', 'x'],
    ];
    for (let i = 0; i < 60; i++)
      atoms.push(['uuid', `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`], `s${i}`, 100 + i);
    const pick = (n: number): Atom[] => {
      const out: Atom[] = [];
      for (let k = 0; k < n; k++) {
        const a = atoms[rand(atoms.length)]!;
        if (!out.some((b) => JSON.stringify(b) === JSON.stringify(a))) out.push(a);
      }
      return out;
    };
    const has = (list: Atom[], a: Atom): boolean => list.some((b) => JSON.stringify(b) === JSON.stringify(a));
    for (let round = 0; round < 400; round++) {
      const old = pick(rand(80));
      const diff = pick(1 + rand(round % 2 === 0 ? 8 : 40));
      const expected = [...old.filter((a) => !has(diff, a)), ...diff.filter((a) => !has(old, a))];
      assert.deepEqual(applyColumnDiff('set', ['set', old], ['set', diff]), ['set', expected], `set round ${round}`);
      const values = ['v1', 'v2'];
      const oldMap = old.map((k): [Atom, Atom] => [k, values[rand(2)]!]);
      const diffMap = diff.map((k): [Atom, Atom] => [k, values[rand(2)]!]);
      const expectedMap: [Atom, Atom][] = [];
      for (const [k, v] of oldMap) {
        const d = diffMap.find(([dk]) => JSON.stringify(dk) === JSON.stringify(k));
        if (!d) expectedMap.push([k, v]);
        else if (d[1] !== v) expectedMap.push(d);
      }
      for (const d of diffMap) if (!has(old, d[0])) expectedMap.push(d);
      assert.deepEqual(
        applyColumnDiff('map', ['map', oldMap], ['map', diffMap]),
        ['map', expectedMap],
        `map round ${round}`,
      );
    }
  });

  it('emits add/update/delete from monitor v1 and v2 updates', () => {
    const cache = new OvsdbCache<VswitchTables>(
      VSWITCH_DECODERS,
      parseSchema({
        name: 'x',
        tables: { Port: { columns: { name: { type: 'string' }, tag: { type: { key: 'integer', min: 0, max: 1 } } } } },
      }),
    );
    const events: string[] = [];
    cache.on('add', (t, u) => events.push(`add ${t} ${u}`));
    cache.on('update', (t, u) => events.push(`update ${t} ${u}`));
    cache.on('delete', (t, u) => events.push(`delete ${t} ${u}`));
    cache.applyUpdate2({ Port: { u1: { initial: { name: 'p1', tag: 100 } } }, Unknown: { z: { initial: {} } } });
    assert.equal(cache.get('Port', 'u1')!.tag, 100);
    // An optional column's modify carries its new value (seen from ovsdb-server: ofport -1 → 1 is sent as 1).
    cache.applyUpdate2({ Port: { u1: { modify: { tag: 200 } } } });
    assert.equal(cache.get('Port', 'u1')!.tag, 200);
    cache.applyUpdate2({ Port: { u1: { modify: { tag: ['set', []] } } } });
    assert.equal(cache.get('Port', 'u1')!.tag, undefined);
    cache.applyUpdate({ Port: { u2: { new: { name: 'p2' } } } });
    cache.applyUpdate({ Port: { u2: { old: { name: 'p2' } } } });
    cache.applyUpdate2({ Port: { u1: { delete: null } } });
    assert.deepEqual(events, [
      'add Port u1',
      'update Port u1',
      'update Port u1',
      'add Port u2',
      'delete Port u2',
      'delete Port u1',
    ]);
    assert.throws(
      () => cache.applyUpdate2({ Port: { nope: { modify: { tag: 1 } } } }),
      (e: unknown) => e instanceof NetplumbError && e.code === 'PROTOCOL',
    );
  });
});

describe('remote', () => {
  it('resolves like ovs-vsctl: option, $OVS_DB, $OVS_RUNDIR, default', () => {
    assert.equal(resolveRemote('unix:/a', { OVS_DB: 'unix:/b' }), 'unix:/a');
    assert.equal(resolveRemote(undefined, { OVS_DB: 'tcp:1.2.3.4:6640', OVS_RUNDIR: '/r' }), 'tcp:1.2.3.4:6640');
    assert.equal(resolveRemote(undefined, { OVS_RUNDIR: '/r/' }), 'unix:/r/db.sock');
    assert.equal(resolveRemote(undefined, {}), 'unix:/run/openvswitch/db.sock');
  });

  it('parses unix and tcp remotes and rejects others', () => {
    assert.deepEqual(parseRemote('tcp:[::1]:6640'), { kind: 'tcp', host: '::1', port: 6640, text: 'tcp:[::1]:6640' });
    assert.deepEqual(parseRemote('unix:/x'), { kind: 'unix', path: '/x', text: 'unix:/x' });
    for (const bad of ['ssl:1.2.3.4:6640', 'tcp:host', 'tcp:h:0', 'unix:', `unix:/${'x'.repeat(120)}`]) {
      assert.throws(
        () => parseRemote(bad),
        (e: unknown) => e instanceof NetplumbError && e.code === 'INVALID_ARGUMENT',
      );
    }
  });
});
