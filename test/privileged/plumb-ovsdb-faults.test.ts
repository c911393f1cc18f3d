/**
 * OVSDB connection faults as the engine meets them (faults.md F1, F3, F4, F8): the real
 * ovsdb-server restarted, stopped past the request deadline, frozen past the inactivity
 * probe, or serving an older schema. The oracle is ovs-vsctl and ip -json.
 */
import { test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions } from '../../src/ovsdb/connection.js';
import type { Plumber } from '../../src/plumb/plumber.js';
import { waitForExit } from '../../sandbox/process.js';
import { TestNetns } from '../helpers/netns.js';
import { must } from '../../sandbox/exec.js';
import { useLeakCheck } from '../helpers/leak.js';
import {
  BYSTANDER_PORT,
  hostVeths,
  isCode,
  ovsPorts,
  ovsSpec,
  useOvsWithBystanders,
  withGuest,
  withPlumber,
  worldState,
} from './support/plumb-bed.js';

const ovs = useOvsWithBystanders();
useLeakCheck();

/** Short deadlines and a fast reconnect, so that each fault resolves in about a second. */
const QUICK: Omit<ConnectionOptions, 'remote' | 'logger'> = {
  requestTimeoutMs: 1000,
  probeIntervalMs: 300,
  reconnect: { initialDelayMs: 20, maxDelayMs: 200, maxAttempts: 1000 },
};

/** Attach `g` (address 10.7.0.N/24) and check through ovs-vsctl that ovs-vswitchd gave it an ofport. */
async function attachAndCheck(p: Plumber, g: TestNetns, n: number): Promise<void> {
  const r = await p.attach(ovsSpec(g, { ip: { kind: 'static', address: `10.7.0.${n}/24` } }));
  assert.ok(Number((await ovs().vsctl(['get', 'interface', r.record.hostIfname, 'ofport'])).trim()) > 0);
}

test('F1: ovsdb-server restarted between two attaches: the engine reconnects and the next attach succeeds', async () => {
  const [a, b] = [await TestNetns.create('f1'), await TestNetns.create('f1')];
  try {
    await withPlumber(
      ovs(),
      async (p) => {
        await attachAndCheck(p, a, 1);
        await ovs().restartDb();
        await attachAndCheck(p, b, 2);
        assert.equal(await a.ping('10.7.0.2', 3), true);
        await p.detach({ guest: { netns: a.name } });
        await p.detach({ guest: { netns: b.name } });
      },
      { ovsdbConnection: QUICK },
    );
    assert.deepEqual(await ovsPorts(ovs()), [BYSTANDER_PORT]);
  } finally {
    await a.destroy();
    await b.destroy();
  }
});

test('F3: ovsdb-server stopped past the request deadline: UNAVAILABLE within it, veth rolled back; once it is back the same engine attaches', async () => {
  const [a, b] = [await TestNetns.create('f3'), await TestNetns.create('f3')];
  try {
    const before = await worldState(ovs(), b);
    await withPlumber(
      ovs(),
      async (p) => {
        await attachAndCheck(p, a, 1);
        await ovs().stopDb();
        try {
          const t0 = Date.now();
          await assert.rejects(p.attach(ovsSpec(b)), isCode('UNAVAILABLE'));
          assert.ok(Date.now() - t0 < 3000, `failed after ${Date.now() - t0} ms`);
          assert.equal((await hostVeths(ovs())).length, 1, "only the first attachment's veth");
          assert.deepEqual(await b.linkNames(), ['lo']);
        } finally {
          await ovs().startDb();
        }
        await p.detach({ guest: { netns: a.name } });
        assert.deepEqual(await worldState(ovs(), b), before);
        await attachAndCheck(p, b, 2);
        await p.detach({ guest: { netns: b.name } });
      },
      { ovsdbConnection: QUICK },
    );
  } finally {
    await a.destroy();
    await b.destroy();
  }
});

/**
 * ovsdb-server frozen: the attach fails within the deadline, whether the attach meets the
 * freeze first (its request expires) or the inactivity probe found it out `pauseMs` before
 * (the engine then reconnects to a server that accepts connections and never answers: a
 * cache read must not wait for that to end). After SIGCONT detach reconciles and attach works.
 */
async function frozenServer(pauseMs: number): Promise<void> {
  await withGuest(async (g) => {
    const before = await worldState(ovs(), g);
    await withPlumber(
      ovs(),
      async (p) => {
        await p.vswitch();
        const pid = ovs().dbPid();
        process.kill(pid, 'SIGSTOP');
        try {
          await new Promise((r) => setTimeout(r, pauseMs));
          const t0 = Date.now();
          await assert.rejects(p.attach(ovsSpec(g)), (e: unknown) => {
            const code = (e as { code?: string }).code;
            assert.ok(
              code === 'UNAVAILABLE' || code === 'OUTCOME_UNKNOWN' || code === 'PARTIAL_CLEANUP_FAILED',
              String(e),
            );
            return true;
          });
          assert.ok(Date.now() - t0 < 5000, `failed after ${Date.now() - t0} ms`);
        } finally {
          process.kill(pid, 'SIGCONT');
        }
        // The frozen server may still commit what it had buffered: reconcile by the guest, then attach again.
        await p.detach({ guest: { netns: g.name } });
        assert.deepEqual(await worldState(ovs(), g), before, 'reconciled: nothing of the failed attach is left');
        await attachAndCheck(p, g, 2);
        await p.detach({ guest: { netns: g.name } });
      },
      { ovsdbConnection: QUICK },
    );
  });
}

test('F4: ovsdb-server frozen (SIGSTOP) as the attach begins: the attach fails within the deadline; after SIGCONT detach reconciles and attach works', () =>
  frozenServer(0));

test('F4: ovsdb-server frozen (SIGSTOP) and found out by the probe before the attach: the attach fails within the deadline, not after the reconnect attempts run out', () =>
  frozenServer(5 * QUICK.probeIntervalMs!));

/** A bare ovsdb-server (no ovs-vswitchd) serving vswitch.ovsschema without `Table.column`, like an older OVS. */
async function withOlderSchema(table: string, column: string, body: (remote: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'np-schema-'));
  try {
    const schema = JSON.parse(readFileSync('/usr/share/openvswitch/vswitch.ovsschema', 'utf8')) as {
      tables: Record<string, { columns: Record<string, unknown> }>;
    };
    delete schema.tables[table]?.columns[column];
    writeFileSync(join(dir, 'old.ovsschema'), JSON.stringify(schema));
    await must(['ovsdb-tool', 'create', join(dir, 'conf.db'), join(dir, 'old.ovsschema')]);
    await must([
      'ovsdb-server',
      `--remote=punix:${join(dir, 'db.sock')}`,
      `--pidfile=${join(dir, 'ovsdb.pid')}`,
      '--detach',
      `--log-file=${join(dir, 'ovsdb.log')}`,
      `--unixctl=${join(dir, 'ovsdb.ctl')}`,
      join(dir, 'conf.db'),
    ]);
    const pid = Number(readFileSync(join(dir, 'ovsdb.pid'), 'utf8').trim());
    try {
      await must(['ovs-vsctl', `--db=unix:${join(dir, 'db.sock')}`, '--no-wait', 'init']);
      await body(`unix:${join(dir, 'db.sock')}`);
    } finally {
      process.kill(pid, 'SIGTERM');
      await waitForExit(pid);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('F8: a server whose schema lacks a column netplumb uses: INCOMPATIBLE naming it, before any veth is created', async () => {
  await withOlderSchema('Interface', 'mtu_request', async (remote) => {
    await withGuest(async (g) => {
      const before = await worldState(ovs(), g);
      await withPlumber(
        ovs(),
        async (p) => {
          await assert.rejects(
            p.attach(ovsSpec(g, { host: 'ovs7', mode: 'ovs' })),
            isCode('INCOMPATIBLE', /Interface\.mtu_request/),
          );
        },
        { ovsDb: remote },
      );
      assert.deepEqual(await worldState(ovs(), g), before);
    });
  });
});
