/** The state file of declared attachments: atomic writes, serialized changes, refusing what is not one. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ErrorCode, NetplumbError } from '../../src/errors.js';
import { Coalescer } from '../../src/persist/coalesce.js';
import type { AttachResult } from '../../src/plumb/api.js';
import { DeclaredAttachments } from '../../src/plumb/declared.js';
import {
  DEFAULT_STATE_DIR,
  type Declaration,
  DeclarationStore,
  parseStateFile,
  resolveStateDir,
} from '../../src/persist/store.js';

const ID = 'a'.repeat(64);

function declaration(ifname: string, containerId = ID): Declaration {
  return {
    containerId,
    ifname,
    spec: { host: 'ovs0', guest: { container: containerId }, ip: { kind: 'none' }, ifname },
    declaredAt: '2026-01-01T00:00:00.000Z',
  };
}

describe('DeclarationStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'np-state-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads nothing before the first write, and creates the directory on it', async () => {
    const store = new DeclarationStore(join(dir, 'sub', 'state'));
    assert.deepEqual(await store.read(), []);
    await store.update((all) => [...all, declaration('eth1')]);
    assert.deepEqual(
      (await new DeclarationStore(join(dir, 'sub', 'state')).read()).map((d) => d.ifname),
      ['eth1'],
    );
  });

  it('writes through a temporary file renamed over the old one: no temporary left, the file whole', async () => {
    const store = new DeclarationStore(dir);
    await store.update(() => [declaration('eth1')]);
    await store.update((all) => [...all, declaration('eth2')]);
    assert.deepEqual(readdirSync(dir), ['declared.json']);
    const doc = JSON.parse(readFileSync(join(dir, 'declared.json'), 'utf8')) as { version: number; declarations: [] };
    assert.equal(doc.version, 1);
    assert.equal(doc.declarations.length, 2);
  });

  it('serializes concurrent changes: none is lost', async () => {
    const store = new DeclarationStore(dir);
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.update((all) => [...all, declaration(`eth${i}`)])));
    assert.equal((await store.read()).length, 50);
  });

  it('does not write when a change returns the list unchanged', async () => {
    const store = new DeclarationStore(dir);
    await store.update((all) => all);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('refuses a file that is not a state file, naming it', async () => {
    writeFileSync(join(dir, 'declared.json'), '{"version":1,');
    await assert.rejects(
      new DeclarationStore(dir).read(),
      (e: unknown) =>
        e instanceof NetplumbError && e.code === ErrorCode.PROTOCOL && e.message.includes('declared.json'),
    );
    assert.throws(() => parseStateFile('{"version":2,"declarations":[]}', 'f'), /not a netplumb state file/);
    assert.throws(() => parseStateFile('{"version":1,"declarations":[{"ifname":"eth1"}]}', 'f'), /declaration 0/);
  });
});

describe('resolveStateDir', () => {
  it('the option, else $NETPLUMB_STATE_DIR, else /var/lib/netplumb; absolute only', () => {
    assert.equal(resolveStateDir('/a', { NETPLUMB_STATE_DIR: '/b' }), '/a');
    assert.equal(resolveStateDir(undefined, { NETPLUMB_STATE_DIR: '/b' }), '/b');
    assert.equal(resolveStateDir(undefined, {}), DEFAULT_STATE_DIR);
    assert.throws(() => resolveStateDir('rel', {}), /not absolute/);
  });
});

describe('Coalescer', () => {
  it('runs one key at a time, and once more after kicks that came meanwhile (not once per kick)', async () => {
    const c = new Coalescer();
    let running = 0;
    let most = 0;
    let runs = 0;
    let release: () => void = () => undefined;
    const work = async () => {
      running++;
      most = Math.max(most, running);
      runs++;
      if (runs === 1) await new Promise<void>((r) => (release = r));
      running--;
    };
    const first = c.kick('x', work);
    for (let i = 0; i < 20; i++) void c.kick('x', work);
    release();
    await first;
    await c.idle();
    assert.equal(most, 1, 'never two runs of one key at once');
    assert.equal(runs, 2, 'the run under way, then one more');
  });

  it('runs different keys side by side, and survives a failing run', async () => {
    const c = new Coalescer();
    const seen: string[] = [];
    await Promise.all([
      c.kick('a', async (k) => {
        seen.push(k);
        throw new Error('boom');
      }),
      c.kick('b', async (k) => {
        seen.push(k);
      }),
    ]);
    assert.deepEqual(seen.sort(), ['a', 'b']);
    assert.equal(c.busy, 0);
  });
});

describe('DeclaredAttachments.reconcile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'np-declared-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const running = { id: ID, name: 'c1', pid: 42, running: true, status: 'running', startedAt: 't' };

  it('running: attaches each declaration; stopped: waits; removed: drops them and detaches', async () => {
    const store = new DeclarationStore(dir);
    await store.update(() => [declaration('eth1'), declaration('eth2')]);
    const calls: string[] = [];
    let state: typeof running | 'gone' = running;
    const declared = new DeclaredAttachments(store, {
      inspect: async () => {
        if (state === 'gone') throw new NetplumbError(ErrorCode.NOT_FOUND, 'no such container');
        return state;
      },
      attach: async (spec) => {
        calls.push(`attach ${spec.ifname}`);
        return { changed: true } as AttachResult;
      },
      detach: async (id, ifname) => {
        calls.push(`detach ${id.slice(0, 4)} ${ifname ?? 'all'}`);
      },
    });
    const first = await declared.reconcile(ID);
    assert.deepEqual([first.applied, first.failed, first.dropped], [2, 0, 0]);
    assert.deepEqual(
      first.attempts.map((a) => a.spec.ifname),
      ['eth1', 'eth2'],
      'both attaches go to the history',
    );
    state = { ...running, running: false, pid: 0, status: 'exited' };
    assert.deepEqual(await declared.reconcile(ID), {
      applied: 0,
      unchanged: 0,
      failed: 0,
      superseded: 0,
      dropped: 0,
      reasons: [],
      attempts: [],
    });
    state = 'gone';
    assert.deepEqual(await declared.reconcile(ID), {
      applied: 0,
      unchanged: 0,
      failed: 0,
      superseded: 0,
      dropped: 2,
      reasons: [],
      attempts: [],
    });
    assert.deepEqual(calls, ['attach eth1', 'attach eth2', 'detach aaaa all']);
    assert.deepEqual(await store.read(), []);
  });

  it('a declaration dropped while its attach was under way: the attach is undone (the detach wins)', async () => {
    const store = new DeclarationStore(dir);
    await store.update(() => [declaration('eth1')]);
    const calls: string[] = [];
    const declared = new DeclaredAttachments(store, {
      inspect: async () => running,
      attach: async () => {
        calls.push('attach');
        await store.update(() => []); // a detach came meanwhile
        return { changed: true } as AttachResult;
      },
      detach: async (_id, ifname) => {
        calls.push(`detach ${ifname}`);
      },
    });
    await declared.reconcile(ID);
    assert.deepEqual(calls, ['attach', 'detach eth1']);
  });
});
