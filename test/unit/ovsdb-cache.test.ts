/**
 * The monitor cache's unique name index: kept right through inserts, renames, deletes,
 * a name reused within one notification (in either order) and a full clear.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rng } from '../helpers/rng.js';
import { NetplumbError } from '../../src/errors.js';
import { OvsdbCache } from '../../src/ovsdb/cache.js';
import { parseSchema } from '../../src/ovsdb/schema.js';
import { VSWITCH_DECODERS, type VswitchTables } from '../../src/ovsdb/vswitch-model.js';

const schema = parseSchema({
  name: 'x',
  tables: { Port: { columns: { name: { type: 'string' }, tag: { type: { key: 'integer', min: 0, max: 1 } } } } },
});

function cacheWithIndex(): OvsdbCache<VswitchTables> {
  const cache = new OvsdbCache<VswitchTables>(VSWITCH_DECODERS, schema);
  cache.defineIndex('Port', 'name', (r) => r.name);
  return cache;
}

const nameOf = (cache: OvsdbCache<VswitchTables>, name: string): string | undefined =>
  cache.lookup('Port', 'name', name)?.uuid;

describe('cache name index', () => {
  it('indexes rows loaded before the index was defined, and follows insert/rename/delete', () => {
    const cache = new OvsdbCache<VswitchTables>(VSWITCH_DECODERS, schema);
    cache.applyUpdate2({ Port: { u1: { initial: { name: 'p1' } } } });
    cache.defineIndex('Port', 'name', (r) => r.name);
    assert.equal(nameOf(cache, 'p1'), 'u1');
    cache.applyUpdate2({ Port: { u2: { insert: { name: 'p2' } } } });
    assert.equal(nameOf(cache, 'p2'), 'u2');
    cache.applyUpdate2({ Port: { u2: { modify: { name: 'p3' } } } });
    assert.equal(nameOf(cache, 'p2'), undefined);
    assert.equal(nameOf(cache, 'p3'), 'u2');
    cache.applyUpdate({ Port: { u1: { old: { name: 'p1' } } } });
    assert.equal(nameOf(cache, 'p1'), undefined);
    cache.clear();
    assert.equal(nameOf(cache, 'p3'), undefined);
    assert.throws(
      () => cache.lookup('Port', 'nope', 'x'),
      (e: unknown) => e instanceof NetplumbError && e.code === 'INVALID_ARGUMENT',
    );
  });

  for (const order of ['delete first', 'insert first'] as const) {
    it(`a name deleted and reused in one notification (${order}) points at the new row`, () => {
      const cache = cacheWithIndex();
      cache.applyUpdate2({ Port: { old: { initial: { name: 'p' } } } });
      const del = { old: { delete: null } };
      const ins = { new: { insert: { name: 'p' } } };
      cache.applyUpdate2({ Port: order === 'delete first' ? { ...del, ...ins } : { ...ins, ...del } });
      assert.equal(nameOf(cache, 'p'), 'new');
    });
  }

  it('two rows swapping names in one notification', () => {
    const cache = cacheWithIndex();
    cache.applyUpdate2({ Port: { a: { initial: { name: 'x' } }, b: { initial: { name: 'y' } } } });
    cache.applyUpdate2({ Port: { a: { modify: { name: 'y' } }, b: { modify: { name: 'x' } } } });
    assert.equal(nameOf(cache, 'x'), 'b');
    assert.equal(nameOf(cache, 'y'), 'a');
    cache.applyUpdate2({ Port: { b: { modify: { name: 'y' } }, a: { modify: { name: 'x' } } } });
    assert.equal(nameOf(cache, 'x'), 'a');
    assert.equal(nameOf(cache, 'y'), 'b');
  });

  it('first() and values() read without copying the table', () => {
    const cache = cacheWithIndex();
    assert.equal(cache.first('Port'), undefined);
    cache.applyUpdate2({ Port: { a: { initial: { name: 'x' } }, b: { initial: { name: 'y' } } } });
    assert.equal(cache.first('Port')!.name, 'x');
    assert.deepEqual(
      [...cache.values('Port')].map((r) => r.name),
      ['x', 'y'],
    );
  });
});

describe('cache index with several rows per key', () => {
  it('lookupAll matches a scan of the table through random inserts, changes, deletes and clears', () => {
    const cache = new OvsdbCache<VswitchTables>(VSWITCH_DECODERS, schema);
    const byTag = (r: { tag: number | undefined }): string | undefined =>
      r.tag === undefined ? undefined : String(r.tag);
    cache.applyUpdate2({ Port: { u0: { initial: { name: 'p0', tag: 1 } } } });
    cache.defineIndex('Port', 'tag', byTag);
    const next = rng(11);
    const rand = (n: number): number => Math.floor(next() * n);
    const live = new Set(['u0']);
    for (let step = 0; step < 2000; step++) {
      const update: Record<string, unknown> = {};
      for (let k = 1 + rand(3); k > 0; k--) {
        const uuid = `u${rand(12)}`;
        if (uuid in update) continue;
        const tag = rand(5) === 0 ? ['set', []] : rand(4);
        if (!live.has(uuid)) {
          update[uuid] = { insert: { name: uuid, tag } };
          live.add(uuid);
        } else if (rand(3) === 0) {
          update[uuid] = { delete: null };
          live.delete(uuid);
        } else {
          // an update2 diff of an optional column: a value sets it, the current value clears it.
          const current = cache.get('Port', uuid)!.tag;
          update[uuid] = { modify: { tag: current === undefined ? rand(4) : current } };
        }
      }
      cache.applyUpdate2({ Port: update });
      if (step % 500 === 499) {
        cache.clear();
        live.clear();
      }
      for (const t of ['0', '1', '2', '3']) {
        const scan = cache
          .rows('Port')
          .filter((r) => byTag(r) === t)
          .map((r) => r.uuid)
          .sort();
        assert.deepEqual(
          cache
            .lookupAll('Port', 'tag', t)
            .map((r) => r.uuid)
            .sort(),
          scan,
          `step ${step}, tag ${t}`,
        );
      }
    }
  });
});
