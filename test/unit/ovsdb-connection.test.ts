/**
 * The connection and client against a fake OVSDB peer: a net.Server on a unix socket in a
 * temp dir that answers (or misbehaves) as each test scripts it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ErrorCode, NetplumbError } from '../../src/errors.js';
import { OvsdbClient } from '../../src/ovsdb/client.js';
import { OvsdbConnection, type ConnectionOptions } from '../../src/ovsdb/connection.js';
import { JsonStreamSplitter } from '../../src/ovsdb/stream.js';
import {
  VSWITCH_DECODERS,
  VSWITCH_MONITOR_COLUMNS,
  VSWITCH_REQUIRED_COLUMNS,
  type VswitchTables,
} from '../../src/ovsdb/vswitch-model.js';

interface Msg {
  id: number | string | null;
  method?: string;
  params?: unknown[];
}
type Handler = (msg: Msg, sock: net.Socket, peer: FakePeer) => void;

class FakePeer {
  readonly sockets = new Set<net.Socket>();
  readonly received: Msg[] = [];
  connections = 0;
  private constructor(
    readonly server: net.Server,
    readonly path: string,
    public handler: Handler,
  ) {}

  static start(dir: string, handler: Handler): Promise<FakePeer> {
    const path = join(dir, 'db.sock');
    return new Promise((resolve) => {
      let peer: FakePeer;
      const server = net.createServer((sock) => {
        peer.connections++;
        peer.sockets.add(sock);
        sock.on('close', () => peer.sockets.delete(sock));
        sock.on('error', () => undefined);
        const splitter = new JsonStreamSplitter();
        sock.on('data', (d) => {
          for (const m of splitter.push(d) as Msg[]) {
            peer.received.push(m);
            peer.handler(m, sock, peer);
          }
        });
      });
      peer = new FakePeer(server, path, handler);
      server.listen(path, () => resolve(peer));
    });
  }

  static reply(sock: net.Socket, id: Msg['id'], result: unknown): void {
    sock.write(JSON.stringify({ id, result, error: null }));
  }

  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  close(): Promise<void> {
    this.dropAll();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** Answers echo and list_dbs; everything else is left unanswered unless a test says otherwise. */
const basic: Handler = (m, sock) => {
  if (m.method === 'echo' || m.method === 'list_dbs')
    FakePeer.reply(sock, m.id, m.method === 'echo' ? m.params : ['Open_vSwitch']);
};

function isCode(code: ErrorCode, re?: RegExp) {
  return (e: unknown): boolean => e instanceof NetplumbError && e.code === code && (!re || re.test(e.message));
}

const FAST: ConnectionOptions = {
  requestTimeoutMs: 2000,
  probeIntervalMs: 0,
  reconnect: { initialDelayMs: 10, maxDelayMs: 40, maxAttempts: 3 },
};

describe('OvsdbConnection against a fake peer', () => {
  let dir: string;
  let peer: FakePeer;
  let conn: OvsdbConnection;
  let handlesBefore: number;

  beforeEach(async () => {
    handlesBefore = process.getActiveResourcesInfo().length;
    dir = mkdtempSync(join(tmpdir(), 'np-fake-'));
    peer = await FakePeer.start(dir, basic);
  });
  afterEach(async () => {
    await conn?.close();
    await peer.close();
    rmSync(dir, { recursive: true, force: true });
    // Handles close asynchronously: give them a moment, then insist.
    for (let i = 0; i < 50 && process.getActiveResourcesInfo().length > handlesBefore; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.ok(
      process.getActiveResourcesInfo().length <= handlesBefore,
      `leaked handles: ${process.getActiveResourcesInfo().join(',')}`,
    );
  });

  const open = async (opts: ConnectionOptions = {}): Promise<OvsdbConnection> => {
    conn = new OvsdbConnection({ ...FAST, remote: `unix:${peer.path}`, ...opts });
    await conn.connect();
    return conn;
  };

  it('speaks JSON-RPC 1.0 without a "jsonrpc" member', async () => {
    await open();
    assert.deepEqual(await conn.request('list_dbs', []), ['Open_vSwitch']);
    assert.deepEqual(peer.received[0], { id: 1, method: 'list_dbs', params: [] });
  });

  it('pipelines requests: 200 issued at once, each settled by its own reply', async () => {
    peer.handler = (m, sock) => FakePeer.reply(sock, m.id, m.params);
    await open();
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => conn.request('transact', [i])));
    assert.deepEqual(
      replies,
      Array.from({ length: 200 }, (_, i) => [i]),
    );
  });

  it('answers the server echo with its params', async () => {
    await open();
    const sock = [...peer.sockets][0]!;
    const answer = new Promise<string>((r) => sock.once('data', (d) => r(d.toString())));
    sock.write(JSON.stringify({ id: 'echo', method: 'echo', params: ['x', 1] }));
    assert.deepEqual(JSON.parse(await answer), { id: 'echo', result: ['x', 1], error: null });
  });

  it('handles notifications interleaved with replies and ignores unknown reply ids', async () => {
    peer.handler = (m, sock) => {
      sock.write(
        JSON.stringify({ id: 999, result: 'stale', error: null }) +
          JSON.stringify({ id: null, method: 'update', params: ['m', {}] }),
      );
      sock.write(JSON.stringify({ id: m.id, result: 'mine', error: null }).slice(0, 5));
      setTimeout(() => sock.write(JSON.stringify({ id: m.id, result: 'mine', error: null }).slice(5)), 5);
    };
    await open();
    const notes: string[] = [];
    conn.on('notification', (method) => notes.push(method));
    assert.equal(await conn.request('transact', []), 'mine');
    assert.deepEqual(notes, ['update']);
  });

  for (const [name, payload, re] of [
    ['malformed JSON', '{"id":1,"result":}', /malformed JSON/],
    ['a huge message', `{"id":1,"result":"${'x'.repeat(5000)}","error":null}`, /larger than 4096/],
    ['deeply nested JSON', '['.repeat(200), /nesting deeper/],
    ['a non-JSON-RPC object', '{"hello":1}', /invalid JSON-RPC/],
  ] as const) {
    it(`drops the connection on ${name}: PROTOCOL, the in-flight transact is OUTCOME_UNKNOWN`, async () => {
      peer.handler = (m, sock) => (m.method === 'transact' ? sock.write(payload) : basic(m, sock, peer));
      await open({ stream: { maxMessageBytes: 4096 } });
      const reason = new Promise<NetplumbError>((r) => conn.once('disconnect', r));
      await assert.rejects(conn.request('transact', []), isCode(ErrorCode.OUTCOME_UNKNOWN, re));
      assert.ok(isCode(ErrorCode.PROTOCOL, re)(await reason));
      await new Promise<void>((r) => conn.once('connect', () => r())); // reconnects on its own
      assert.deepEqual(await conn.request('list_dbs', []), ['Open_vSwitch']);
    });
  }

  it('a transact in flight when the connection drops is OUTCOME_UNKNOWN; a read-only request is resent', async () => {
    let dropped = false;
    peer.handler = (m, sock, p) => {
      if (m.method === 'transact' || (m.method === 'list_dbs' && !dropped)) {
        if (m.method === 'transact') {
          dropped = true;
          sock.write('{"id":1,"res'); // truncated reply, then the drop
          setTimeout(() => p.dropAll(), 5);
        }
        return;
      }
      basic(m, sock, p);
    };
    await open();
    const readOnly = conn.request('list_dbs', [], { idempotent: true });
    await assert.rejects(
      conn.request('transact', []),
      isCode(ErrorCode.OUTCOME_UNKNOWN, /may or may not have been applied/),
    );
    assert.deepEqual(await readOnly, ['Open_vSwitch']);
    assert.equal(peer.connections, 2);
  });

  it('fails a request the server never answers at its deadline', async () => {
    peer.handler = () => undefined;
    await open();
    const t0 = Date.now();
    await assert.rejects(
      conn.request('transact', [], { timeoutMs: 150 }),
      isCode(ErrorCode.OUTCOME_UNKNOWN, /no reply within 150 ms/),
    );
    assert.ok(Date.now() - t0 < 1000);
    await assert.rejects(
      conn.request('get_schema', [], { timeoutMs: 100, idempotent: true }),
      isCode(ErrorCode.UNAVAILABLE, /no reply/),
    );
  });

  it('sends an inactivity probe when idle and drops a peer that stays silent', async () => {
    peer.handler = () => undefined; // a hung server: reads, never writes
    await open({ probeIntervalMs: 100 });
    const reason = await new Promise<NetplumbError>((r) => conn.once('disconnect', r));
    assert.ok(isCode(ErrorCode.UNAVAILABLE, /inactivity probe/)(reason));
    assert.deepEqual(peer.received[0], { id: 'netplumb-probe', method: 'echo', params: [] });
  });

  it('keeps a connection whose peer answers the probe', async () => {
    await open({ probeIntervalMs: 50 });
    let drops = 0;
    conn.on('disconnect', () => drops++);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(drops, 0);
    assert.ok(peer.received.filter((m) => m.method === 'echo').length >= 3);
  });

  it('when reconnect attempts run out, waiting requests fail with UNAVAILABLE (no crash); a later request reconnects', async () => {
    await open();
    const gaveUp = new Promise<NetplumbError>((r) =>
      conn.on('disconnect', (e) => /unreachable after/.test(e.message) && r(e)),
    );
    await peer.close();
    const pending = conn.request('list_dbs', [], { idempotent: true, timeoutMs: 5000 });
    await assert.rejects(pending, isCode(ErrorCode.UNAVAILABLE, /unreachable after 3 attempts/));
    assert.ok(isCode(ErrorCode.UNAVAILABLE)(await gaveUp));
    rmSync(peer.path, { force: true });
    peer = await FakePeer.start(dir, basic);
    assert.deepEqual(await conn.request('list_dbs', [], { idempotent: true }), ['Open_vSwitch']);
  });

  it('bounds the requests waiting for a reconnect', async () => {
    await open({ maxQueued: 2, reconnect: { initialDelayMs: 1000, maxDelayMs: 1000, maxAttempts: 1 } });
    await peer.close();
    await new Promise<void>((r) => conn.once('disconnect', () => r()));
    const waiting = [conn.request('list_dbs', []), conn.request('list_dbs', [])];
    await assert.rejects(conn.request('list_dbs', []), isCode(ErrorCode.UNAVAILABLE, /already wait/));
    await conn.close();
    for (const w of waiting) await assert.rejects(w, isCode(ErrorCode.UNAVAILABLE, /closed/));
  });

  it('maps connect failures: missing socket and refused connection (loopback) → UNAVAILABLE', async () => {
    conn = new OvsdbConnection({ remote: `unix:${join(dir, 'missing.sock')}` });
    await assert.rejects(conn.connect(), isCode(ErrorCode.UNAVAILABLE, /does not exist; is ovsdb-server running/));
    await conn.close();
    conn = new OvsdbConnection({ remote: 'tcp:127.0.0.1:1' });
    await assert.rejects(conn.connect(), isCode(ErrorCode.UNAVAILABLE, /connection refused/));
  });
});

describe('OvsdbClient against a fake peer', () => {
  let dir: string;
  let peer: FakePeer;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'np-fake-'));
  });
  afterEach(async () => {
    await peer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const column = { type: { key: 'string', min: 0, max: 'unlimited' } };
  const schema = (omit?: string) => ({
    name: 'Open_vSwitch',
    version: '8.3.1',
    tables: Object.fromEntries(
      Object.entries(VSWITCH_REQUIRED_COLUMNS).map(([t, cols]) => [
        t,
        {
          columns: Object.fromEntries(
            cols.filter((c) => !c.endsWith('?') && `${t}.${c}` !== omit).map((c) => [c, column]),
          ),
        },
      ]),
    ),
  });
  const monitorSpec = { columns: VSWITCH_MONITOR_COLUMNS, decoders: VSWITCH_DECODERS };

  it('falls back from monitor_cond_since to monitor_cond and loads the cache', async () => {
    peer = await FakePeer.start(dir, (m, sock) => {
      if (m.method === 'get_schema') FakePeer.reply(sock, m.id, schema());
      else if (m.method === 'monitor_cond_since')
        sock.write(JSON.stringify({ id: m.id, result: null, error: { error: 'unknown method' } }));
      else if (m.method === 'monitor_cond')
        FakePeer.reply(sock, m.id, { Bridge: { 'b-1': { initial: { name: 'ovs0' } } } });
    });
    const client = await OvsdbClient.connect<VswitchTables>({
      ...FAST,
      remote: `unix:${peer.path}`,
      monitor: monitorSpec,
      required: VSWITCH_REQUIRED_COLUMNS,
    });
    assert.equal(client.monitorMethod, 'monitor_cond');
    assert.deepEqual(
      client.cache.rows('Bridge').map((b) => b.name),
      ['ovs0'],
    );
    const sock = [...peer.sockets][0]!;
    const applied = new Promise<void>((r) => client.cache.once('applied', () => r()));
    sock.write(
      JSON.stringify({
        id: null,
        method: 'update2',
        params: ['netplumb', { Bridge: { 'b-2': { insert: { name: 'ovs1' } } } }],
      }),
    );
    await applied;
    assert.equal(client.cache.size('Bridge'), 2);
    await client.close();
  });

  it('applies an update that comes in the same read as the monitor reply after the initial rows, not before', async () => {
    peer = await FakePeer.start(dir, (m, sock) => {
      if (m.method === 'get_schema') FakePeer.reply(sock, m.id, schema());
      else if (m.method === 'monitor_cond_since')
        // One write: the reply with the initial row, then at once an update that adds a second.
        sock.write(
          JSON.stringify({
            id: m.id,
            result: [false, 'txn-1', { Bridge: { 'b-1': { initial: { name: 'ovs0' } } } }],
            error: null,
          }) +
            JSON.stringify({
              id: null,
              method: 'update3',
              params: ['netplumb', 'txn-2', { Bridge: { 'b-2': { insert: { name: 'ovs1' } } } }],
            }),
        );
    });
    const client = await OvsdbClient.connect<VswitchTables>({
      ...FAST,
      remote: `unix:${peer.path}`,
      monitor: monitorSpec,
    });
    await client
      .waitFor(
        () => client.cache.size('Bridge') === 2,
        2000,
        () => new NetplumbError(ErrorCode.UNAVAILABLE, 'update not applied'),
      )
      .catch(() => undefined);
    assert.deepEqual(
      client.cache
        .rows('Bridge')
        .map((b) => b.name)
        .sort(),
      ['ovs0', 'ovs1'],
    );
    await client.close();
  });

  it('re-syncs the cache after a reconnect', async () => {
    let generation = 0;
    peer = await FakePeer.start(dir, (m, sock) => {
      if (m.method === 'get_schema') FakePeer.reply(sock, m.id, schema());
      else if (m.method === 'monitor_cond_since')
        FakePeer.reply(sock, m.id, [
          false,
          'txn',
          { Bridge: { [`b-${generation}`]: { initial: { name: `br${generation}` } } } },
        ]);
    });
    const client = await OvsdbClient.connect<VswitchTables>({
      ...FAST,
      remote: `unix:${peer.path}`,
      monitor: monitorSpec,
    });
    assert.deepEqual(
      client.cache.rows('Bridge').map((b) => b.name),
      ['br0'],
    );
    generation = 1;
    const synced = new Promise((r) => client.once('synced', r));
    peer.dropAll();
    assert.deepEqual(await synced, { method: 'monitor_cond_since', reconnect: true });
    assert.deepEqual(
      client.cache.rows('Bridge').map((b) => b.name),
      ['br1'],
    );
    assert.equal(peer.received.filter((m) => m.method === 'monitor_cond_since').at(-1)!.params![3], 'txn');
    await client.close();
  });

  /**
   * A peer that keeps ovsdb-server's monitor rules per session (a second monitor with the
   * same id is "duplicate monitor ID"; monitor_cancel of an unknown one is "unknown
   * monitor") and lets a test decide, per connection, what happens to a monitor request:
   * answered with that connection's bridge `br<N>`, held, or the connection dropped.
   */
  async function monitoringPeer(onMonitor: (conn: number) => 'answer' | 'hold' | 'drop') {
    const monitors = new WeakMap<net.Socket, Set<string>>();
    const connOf = new WeakMap<net.Socket, number>();
    const held: { sock: net.Socket; id: Msg['id']; conn: number }[] = [];
    const stats = { monitorsPerConnection: [] as number[], duplicates: 0, cancels: 0 };
    const answer = (sock: net.Socket, id: Msg['id'], conn: number) => {
      (monitors.get(sock) as Set<string>).add('netplumb');
      FakePeer.reply(sock, id, [
        false,
        `txn-${conn}`,
        { Bridge: { [`b-${conn}`]: { initial: { name: `br${conn}` } } } },
      ]);
    };
    peer = await FakePeer.start(dir, (m, sock, p) => {
      if (!connOf.has(sock)) {
        connOf.set(sock, p.connections);
        monitors.set(sock, new Set());
      }
      const conn = connOf.get(sock) as number;
      const mine = monitors.get(sock) as Set<string>;
      if (m.method === 'get_schema') FakePeer.reply(sock, m.id, schema());
      else if (m.method === 'monitor_cancel') {
        stats.cancels++;
        if (mine.delete(String(m.params?.[0]))) FakePeer.reply(sock, m.id, {});
        else sock.write(JSON.stringify({ id: m.id, result: null, error: { error: 'unknown monitor' } }));
      } else if (m.method === 'monitor_cond_since') {
        stats.monitorsPerConnection[conn - 1] = (stats.monitorsPerConnection[conn - 1] ?? 0) + 1;
        if (mine.has(String(m.params?.[1]))) {
          stats.duplicates++;
          sock.write(
            JSON.stringify({
              id: m.id,
              result: null,
              error: { error: 'syntax error', details: 'duplicate monitor ID' },
            }),
          );
          return;
        }
        const what = onMonitor(conn);
        if (what === 'answer') answer(sock, m.id, conn);
        else if (what === 'hold') held.push({ sock, id: m.id, conn });
        else sock.destroy();
      }
    });
    return {
      stats,
      /** Resolves once a monitor request is held. */
      held: async () => {
        for (let i = 0; i < 200 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(held.length, 1, 'a monitor request is held');
      },
      release: () => {
        for (const h of held.splice(0)) answer(h.sock, h.id, h.conn);
      },
    };
  }

  const bridges = (client: OvsdbClient<VswitchTables>) => client.cache.rows('Bridge').map((b) => b.name);

  /** A client of the peer, and the syncError events it emits from then on. */
  const connectWatched = async () => {
    const client = await OvsdbClient.connect<VswitchTables>({
      ...FAST,
      remote: `unix:${peer.path}`,
      monitor: monitorSpec,
    });
    const syncErrors: NetplumbError[] = [];
    client.on('syncError', (e) => syncErrors.push(e));
    return { client, syncErrors };
  };

  /** client.synced(), checked to be still waiting 50 ms later (a sync is in progress). */
  const stillSyncing = async (client: OvsdbClient<VswitchTables>): Promise<{ synced: Promise<unknown> }> => {
    let done = false;
    const synced = client.synced().then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(done, false, 'synced() waits for the sync in progress');
    return { synced };
  };

  it('a drop in the middle of the first sync: the next session syncs, once; connect() resolves with its data', async () => {
    const fake = await monitoringPeer((conn) => (conn === 1 ? 'drop' : 'answer'));
    const { client, syncErrors } = await connectWatched();
    try {
      await client.synced();
      await new Promise((r) => setTimeout(r, 50)); // anything still running would show now
      assert.deepEqual(bridges(client), ['br2']);
      assert.deepEqual(fake.stats.monitorsPerConnection, [1, 1], 'one monitor request per session');
      assert.equal(fake.stats.duplicates, 0);
      assert.deepEqual(syncErrors, []);
    } finally {
      await client.close();
    }
  });

  it("a drop in the middle of a re-sync: synced() waits for the next session's sync; one monitor per session", async () => {
    const plan: Record<number, 'answer' | 'hold' | 'drop'> = { 1: 'answer', 2: 'hold', 3: 'answer' };
    const fake = await monitoringPeer((conn) => plan[conn] ?? 'answer');
    const { client, syncErrors } = await connectWatched();
    try {
      assert.deepEqual(bridges(client), ['br1']);
      peer.dropAll();
      await fake.held(); // session 2 asked for its monitor, which gets no answer
      const { synced } = await stillSyncing(client);
      peer.dropAll(); // session 2 ends with its monitor request in flight
      await synced;
      assert.deepEqual(bridges(client), ['br3']);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(fake.stats.monitorsPerConnection, [1, 1, 1], 'not sent again on session 3');
      assert.equal(fake.stats.duplicates, 0);
      assert.deepEqual(syncErrors, []);
    } finally {
      await client.close();
    }
  });

  it('a malformed update: the re-sync cancels the monitor first, runs once, and synced() waits for it', async () => {
    let hold = false;
    const fake = await monitoringPeer(() => (hold ? 'hold' : 'answer'));
    const { client, syncErrors } = await connectWatched();
    try {
      hold = true;
      const sock = [...peer.sockets][0] as net.Socket;
      sock.write(JSON.stringify({ id: null, method: 'update2', params: ['netplumb', { Bridge: { 'b-1': 7 } }] }));
      await fake.held();
      const { synced } = await stillSyncing(client);
      fake.release();
      await synced;
      assert.deepEqual(bridges(client), ['br1']);
      assert.equal(fake.stats.cancels, 1);
      assert.deepEqual(fake.stats.monitorsPerConnection, [2]);
      assert.equal(fake.stats.duplicates, 0);
      assert.deepEqual(
        syncErrors.map((e) => e.code),
        [ErrorCode.PROTOCOL],
        'the malformed update only',
      );
    } finally {
      await client.close();
    }
  });

  it('refuses a server whose schema lacks a column we use (INCOMPATIBLE), and closes', async () => {
    peer = await FakePeer.start(
      dir,
      (m, sock) => m.method === 'get_schema' && FakePeer.reply(sock, m.id, schema('Port.vlan_mode')),
    );
    await assert.rejects(
      OvsdbClient.connect<VswitchTables>({
        ...FAST,
        remote: `unix:${peer.path}`,
        monitor: monitorSpec,
        required: VSWITCH_REQUIRED_COLUMNS,
      }),
      isCode(ErrorCode.INCOMPATIBLE, /lacks column Port\.vlan_mode/),
    );
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(peer.sockets.size, 0);
  });
});
