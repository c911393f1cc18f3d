/**
 * The daemon in this process against a real ovsdb-server + ovs-vswitchd in an emulated host
 * namespace: the same results through the daemon as directly (oracles ovs-vsctl and
 * ip -json), the socket's permissions, faults.md H1–H4, and a graceful shutdown with
 * attaches in flight. The leak check after each test also proves the daemon, its
 * connections and its engine are gone.
 */
import { after, before, test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  readFileSync,
} from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { NetplumbError } from '../../src/errors.js';
import { Plumber, type PlumberOptions } from '../../src/plumb/plumber.js';
import { startDaemon, type Daemon, type DaemonOptions } from '../../src/daemon/server.js';
import { DaemonClient } from '../../src/daemon/client.js';
import { openEngine } from '../../src/engine/open.js';
import { startOvs, type OvsInstance } from '../../sandbox/ovs.js';
import { waitForExit } from '../../sandbox/process.js';
import { TestNetns } from '../helpers/netns.js';
import { useLeakCheck } from '../helpers/leak.js';

let ovs: OvsInstance;
let plumberOptions: PlumberOptions;

before(async () => {
  ovs = await startOvs({ withVswitchd: true });
  await ovs.addBridge('ovs0');
  plumberOptions = { ovsDb: ovs.remote, hostNetns: { name: ovs.netns } };
});
after(async () => {
  await ovs?.stop();
});
useLeakCheck();

/** A fresh directory for the socket's directory: /tmp/np-daemon-X (0755) / run / netplumb.sock. */
function socketHome(): { top: string; dir: string; sock: string; cleanup: () => void } {
  const top = mkdtempSync('/tmp/np-daemon-');
  chmodSync(top, 0o755); // traversable: the socket's own directory is what keeps others out
  const dir = join(top, 'run');
  return { top, dir, sock: join(dir, 'netplumb.sock'), cleanup: () => rmSync(top, { recursive: true, force: true }) };
}

async function withDaemon(
  opts: Partial<DaemonOptions>,
  body: (d: Daemon, sock: string, home: ReturnType<typeof socketHome>) => Promise<void>,
): Promise<void> {
  const home = socketHome();
  const d = await startDaemon({ socketPath: home.sock, plumberOptions, ...opts });
  try {
    await body(d, home.sock, home);
  } finally {
    await d.close();
    home.cleanup();
  }
}

function code(c: string, field?: string) {
  return (e: unknown) =>
    e instanceof NetplumbError && e.code === c && (field === undefined || e.details.field === field);
}

async function ports(): Promise<string[]> {
  return (await ovs.vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean).sort();
}

/** Send raw bytes on a fresh connection; collect the answer lines until the daemon hangs up or `lines` arrived. */
function raw(
  sock: string,
  payload: string | Buffer,
  want = 1,
  timeoutMs = 10_000,
): Promise<{ lines: Record<string, unknown>[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = createConnection(sock);
    const lines: Record<string, unknown>[] = [];
    let buf = '';
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve({ lines, closed });
    };
    const timer = setTimeout(done, timeoutMs);
    s.on('error', () => undefined); // EPIPE while the daemon refuses an oversized body
    s.on('data', (d) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        lines.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
        buf = buf.slice(nl + 1);
      }
      if (lines.length >= want && want > 0) done();
    });
    s.on('close', () => {
      closed = true;
      done();
    });
    s.on('connect', () => s.write(payload));
    s.on('error', (e) => {
      if (!s.connecting) return;
      clearTimeout(timer);
      reject(e);
    });
  });
}

function errorOf(line: Record<string, unknown> | undefined): { code: number; data: { code: string; field?: string } } {
  assert.ok(line && typeof line.error === 'object', `expected an error answer, got ${JSON.stringify(line)}`);
  return line.error as { code: number; data: { code: string; field?: string } };
}

test('attach, list, detach through the daemon: the same results as the engine in this process', async () => {
  await withDaemon({}, async (_d, sock) => {
    const a = await TestNetns.create('dg');
    const b = await TestNetns.create('dg');
    const client = await DaemonClient.connect(sock);
    const direct = Plumber.open(plumberOptions);
    try {
      const viaDaemon = await client.attach({
        host: 'ovs0',
        guest: { netns: a.name },
        ip: { kind: 'static', address: '10.7.0.1/24' },
        vlan: 70,
      });
      const viaDirect = await direct.attach({
        host: 'ovs0',
        guest: { netns: b.name },
        ip: { kind: 'static', address: '10.7.0.2/24' },
        vlan: 70,
      });
      assert.equal(viaDaemon.changed, true);
      assert.deepEqual(Object.keys(viaDaemon).sort(), Object.keys(viaDirect).sort());
      // Oracles: the port's tag in OVSDB and the guest's address in the kernel.
      assert.equal((await ovs.vsctl(['get', 'port', viaDaemon.record.hostIfname, 'tag'])).trim(), '70');
      const [link] = await a.ip('addr', 'show', 'dev', 'eth1');
      assert.deepEqual(
        link?.addr_info?.filter((x) => x.family === 'inet').map((x) => `${x.local}/${x.prefixlen}`),
        ['10.7.0.1/24'],
      );
      assert.equal(await a.ping('10.7.0.2', 2), true, "the daemon's guest reaches the direct one on VLAN 70");

      // The same spec again, either way: a no-op with the same record.
      const againDaemon = await client.attach({
        host: 'ovs0',
        guest: { netns: a.name },
        ip: { kind: 'static', address: '10.7.0.1/24' },
        vlan: 70,
      });
      const againDirect = await direct.attach({
        host: 'ovs0',
        guest: { netns: a.name },
        ip: { kind: 'static', address: '10.7.0.1/24' },
        vlan: 70,
      });
      assert.deepEqual(againDaemon, againDirect);
      assert.equal(againDaemon.changed, false);

      // list: identical, whole and filtered by guest.
      assert.deepStrictEqual(await client.list(), JSON.parse(JSON.stringify(await direct.list())));
      assert.deepStrictEqual(await client.list(), await direct.list());
      const onlyA = await client.list({ guest: { netns: a.name } });
      assert.deepEqual(
        onlyA.map((x) => x.record.id),
        [viaDaemon.record.id],
      );

      // Errors: the same NetplumbError (code, message, details) either way.
      const specs = [
        { host: 'ovs9', mode: 'ovs' as const, guest: { netns: a.name }, ifname: 'eth5', ip: { kind: 'none' as const } },
        { host: 'ovs0', guest: { netns: a.name }, ip: { kind: 'static' as const, address: '10.7.0.1/24' }, vlan: 71 },
        { host: 'ovs0', guest: { netns: a.name }, ifname: 'eth1/../x', ip: { kind: 'none' as const } },
        { host: 'ovs0', guest: { netns: 'np-no-such-ns' }, ip: { kind: 'none' as const } },
      ];
      for (const spec of specs) {
        const e1 = await client.attach(spec).then(
          () => assert.fail('daemon attach succeeded'),
          (e: unknown) => e,
        );
        const e2 = await direct.attach(spec).then(
          () => assert.fail('direct attach succeeded'),
          (e: unknown) => e,
        );
        assert.ok(e1 instanceof NetplumbError && e2 instanceof NetplumbError);
        assert.equal(e1.code, e2.code);
        assert.equal(e1.message, e2.message);
        assert.deepEqual(e1.details, JSON.parse(JSON.stringify(e2.details)));
      }

      const d1 = await client.detach({ guest: { netns: a.name } });
      assert.deepEqual(
        d1.detached.map((r) => r.id),
        [viaDaemon.record.id],
      );
      assert.deepEqual(await ports(), [viaDirect.record.hostIfname]);
      assert.deepEqual(await a.linkNames(), ['lo']);
      assert.deepEqual(
        await client.detach({ guest: { netns: a.name } }),
        await direct.detach({ guest: { netns: a.name } }),
      );
      await client.detach({ guest: { netns: b.name } });
      assert.deepEqual(await ports(), []);
      assert.deepEqual(await client.gc({ dryRun: true }), await direct.gc({ dryRun: true }));
    } finally {
      await client.close();
      await a.destroy();
      await b.destroy();
      for (const x of await direct.list()) await ovs.vsctl(['--if-exists', 'del-port', x.record.hostIfname]);
      await direct.close();
    }
  });
});

test('openEngine: the daemon when its socket answers, this process otherwise', async () => {
  await withDaemon({}, async (_d, sock, home) => {
    const viaDaemon = await openEngine({ socketPath: sock, plumberOptions });
    assert.equal(viaDaemon.via, 'daemon');
    await viaDaemon.close();
    const forced = await openEngine({ socketPath: sock, daemon: false, plumberOptions });
    assert.equal(forced.via, 'direct');
    await forced.close();
    const none = await openEngine({ socketPath: join(home.dir, 'absent.sock'), plumberOptions });
    assert.equal(none.via, 'direct');
    await none.close();
    await assert.rejects(openEngine({ socketPath: join(home.dir, 'absent.sock'), daemon: true }), code('UNAVAILABLE'));
    // A daemon acting on another OVSDB or container engine than the caller's is not used.
    const otherDb = { ...plumberOptions, ovsDb: `unix:${join(home.dir, 'other-db.sock')}` };
    const elsewhere = await openEngine({ socketPath: sock, plumberOptions: otherDb });
    assert.equal(elsewhere.via, 'direct');
    await elsewhere.close();
    const otherDocker = { ...plumberOptions, dockerHost: `unix://${join(home.dir, 'other-docker.sock')}` };
    await assert.rejects(openEngine({ socketPath: sock, daemon: true, plumberOptions: otherDocker }), (e: unknown) => {
      assert.equal((e as NetplumbError).code, 'INVALID_ARGUMENT');
      assert.match((e as Error).message, /other-docker\.sock/);
      return true;
    });
  });
});

test('H1: socket 0660 root:GROUP in a 0750 root:GROUP directory; a user outside the group cannot connect (EACCES), a member can', async () => {
  const nobody = 65534;
  await withDaemon({}, async (_d, sock, home) => {
    const st = statSync(sock);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o7777, 0o660);
    assert.deepEqual([st.uid, st.gid], [0, 0]);
    const dst = lstatSync(home.dir);
    assert.ok(dst.isDirectory());
    assert.equal(dst.mode & 0o7777, 0o750);
    assert.deepEqual([dst.uid, dst.gid], [0, 0]);
    assert.equal(await connectAs(nobody, sock), 'EACCES');
  });
  await withDaemon({ group: 'nogroup' }, async (_d, sock, home) => {
    assert.equal(statSync(sock).gid, 65534);
    assert.equal(lstatSync(home.dir).gid, 65534);
    assert.equal(statSync(sock).mode & 0o7777, 0o660);
    assert.equal(await connectAs(nobody, sock), 'pong', 'nobody (primary group nogroup) is a member');
  });
});

/** Connect as another uid (a child node with uid/gid set), send a ping; what came back: 'pong', a taxonomy code or an errno. */
async function connectAs(
  uid: number,
  sock: string,
  payload = '{"jsonrpc":"2.0","id":1,"method":"ping"}\n',
): Promise<string> {
  const script = `
    const s = require('node:net').createConnection(${JSON.stringify(sock)});
    let buf = '';
    s.on('connect', () => s.write(${JSON.stringify(payload)}));
    s.on('data', (d) => { buf += d; if (buf.includes('\\n')) { const m = JSON.parse(buf.slice(0, buf.indexOf('\\n'))); process.stdout.write(m.result ?? m.error.data.code); s.destroy(); } });
    s.on('error', (e) => { process.stdout.write(e.code); });
    s.on('close', () => { if (!buf) process.stdout.write(''); });
  `;
  const child = spawn(process.execPath, ['-e', script], {
    uid,
    gid: uid,
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: '/',
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const pid = child.pid as number;
  await new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await waitForExit(pid);
  return out;
}

test('H3: a uid that can connect but is not allowed is refused via SO_PEERCRED before its message is read', async () => {
  // Root can always connect; the allow-list here holds only another uid.
  await withDaemon({ allowUids: [4242] }, async (_d, sock) => {
    await assert.rejects(
      DaemonClient.connect(sock).then(async (c) => {
        try {
          await c.ping();
        } finally {
          await c.close();
        }
      }),
      code('PRIVILEGE'),
    );
    // A message that would be a parse error gets the PRIVILEGE answer: it was never parsed.
    const r = await raw(sock, 'this is not json\n', 1);
    assert.equal(errorOf(r.lines[0]).data.code, 'PRIVILEGE');
    assert.equal(errorOf(r.lines[0]).code, -32003);
    assert.equal(r.lines.length, 1);
    const big = await raw(sock, Buffer.alloc(4 * 1024 * 1024, 0x5b), 1);
    assert.equal(errorOf(big.lines[0]).data.code, 'PRIVILEGE', 'a body over the size limit is never read either');
  });
  // A group member that is not on an explicit list: refused the same way.
  await withDaemon({ group: 'nogroup', allowUids: [0] }, async (_d, sock) => {
    assert.equal(await connectAs(65534, sock, 'garbage\n'), 'PRIVILEGE');
  });
});

test('H4: a 10 MB body and 10^4-deep nesting are refused while legitimate requests are served', async () => {
  await withDaemon({}, async (_d, sock) => {
    const client = await DaemonClient.connect(sock);
    try {
      const huge = `{"jsonrpc":"2.0","id":1,"method":"attach","params":{"host":"${'A'.repeat(10 * 1024 * 1024)}"}}\n`;
      const [big] = await Promise.all([raw(sock, huge, 1), client.ping()]);
      assert.equal(errorOf(big.lines[0]).data.code, 'INVALID_ARGUMENT');
      assert.equal(errorOf(big.lines[0]).data.field, 'request');
      assert.equal(errorOf(big.lines[0]).code, -32600);

      const deep = `{"jsonrpc":"2.0","id":2,"method":"list","params":${'['.repeat(10_000)}${']'.repeat(10_000)}}\n{"jsonrpc":"2.0","id":3,"method":"ping"}\n`;
      const d = await raw(sock, deep, 2);
      assert.equal(errorOf(d.lines[0]).data.code, 'INVALID_ARGUMENT');
      assert.deepEqual(d.lines[1], { jsonrpc: '2.0', id: 3, result: 'pong' }, 'the same connection goes on');

      const junk = await raw(
        sock,
        'not json\n[]\n{"jsonrpc":"2.0","id":4,"method":"reboot"}\n{"jsonrpc":"2.0","id":5,"method":"list","params":{"guest":{"netns":"x","pid":1}}}\n',
        4,
      );
      assert.deepEqual(
        junk.lines.map((l) => [errorOf(l).code, errorOf(l).data.code]),
        [
          [-32700, 'PROTOCOL'],
          [-32600, 'UNSUPPORTED'],
          [-32601, 'UNSUPPORTED'],
          [-32002, 'INVALID_ARGUMENT'],
        ],
      );
      assert.deepEqual(
        junk.lines.map((l) => l.id),
        [null, null, 4, 5],
      );

      await client.ping();
      assert.deepEqual(await client.list(), []);
    } finally {
      await client.close();
    }
  });
});

test('H4: slow clients are cut off after the idle timeout; past maxConcurrent the answer is a retryable "busy"', async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  let started = 0;
  const unused = () => Promise.reject(new Error('unused'));
  const engine = {
    via: 'direct' as const,
    list: async () => {
      started++;
      await gate;
      return [];
    },
    attach: unused,
    detach: unused,
    gc: async () => ({ dryRun: false, graceSeconds: 60, removed: [], kept: [] }),
    declared: async () => [],
    uplinks: { add: unused, del: unused, list: unused },
    networks: { create: unused, delete: unused, list: unused },
    close: async () => undefined,
  };
  await withDaemon({ engine, idleTimeoutMs: 300, maxConcurrent: 4 }, async (d, sock) => {
    // 200 clients: half silent, half dripping an unfinished message.
    const slow = Array.from({ length: 200 }, (_, i) => raw(sock, i % 2 ? '{"jsonrpc":"2.0",' : '', 0, 5000));
    const client = await DaemonClient.connect(sock);
    try {
      const lists = Array.from({ length: 4 }, () => client.list());
      for (let i = 0; i < 100 && started < 4; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(d.inFlight, 4);
      await assert.rejects(client.list(), (e: unknown) => code('UNAVAILABLE')(e) && /busy/.test((e as Error).message));
      await client.ping(); // no engine work: answered even when busy
      release();
      assert.deepEqual(await Promise.all(lists), [[], [], [], []]);
      const results = await Promise.all(slow);
      assert.ok(
        results.every((r) => r.closed),
        'every slow client was disconnected',
      );
      assert.ok(
        results.filter((_, i) => i % 2).every((r) => errorOf(r.lines[0]).data.code === 'UNAVAILABLE'),
        'an unfinished message is answered before the hang-up',
      );
    } finally {
      release();
      await client.close();
    }
  });
});

test('a long-lived client outlives the idle hang-up and the shutdown: the daemon says "closing" first', async () => {
  const lines: Record<string, unknown>[] = [];
  const pino = require('pino') as typeof import('pino');
  const logger = pino.default(
    { level: 'info' },
    { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
  );
  await withDaemon({ idleTimeoutMs: 200, logger }, async (_d, sock) => {
    const client = await DaemonClient.connect(sock);
    try {
      assert.deepEqual(await client.list(), []);
      // Oracle: what the daemon sends an idle connection before it hangs up.
      const idle = await raw(sock, '', 1, 5000);
      assert.deepEqual(idle.lines, [{ jsonrpc: '2.0', method: 'closing', params: { reason: 'idle' } }]);
      const hungUp = () => lines.filter((l) => l.msg === 'idle connection closed').length;
      for (let i = 0; i < 500 && hungUp() < 2; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(hungUp(), 2, "the client's connection was hung up too");
      assert.deepEqual(await client.list(), [], 'the next request is served on a new connection');
      await client.ping();
    } finally {
      await client.close();
    }
  });
  // Shutting down: an open connection gets its answers, then the notice, then the hang-up.
  await withDaemon({}, async (d, sock) => {
    const client = await DaemonClient.connect(sock);
    const s = createConnection(sock);
    try {
      await client.ping();
      let got = '';
      s.on('data', (b) => (got += b.toString()));
      const closed = new Promise<void>((r) => s.once('close', () => r()));
      s.write('{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
      for (let i = 0; i < 500 && !got.includes('\n'); i++) await new Promise((r) => setTimeout(r, 10));
      await d.close();
      await closed;
      assert.deepEqual(
        got
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as unknown),
        [
          { jsonrpc: '2.0', id: 1, result: 'pong' },
          { jsonrpc: '2.0', method: 'closing', params: { reason: 'shutdown' } },
        ],
      );
      await assert.rejects(
        client.ping(),
        (e: unknown) => code('UNAVAILABLE')(e) && /cannot connect/.test((e as Error).message),
        'the daemon is gone: nothing to reconnect to',
      );
    } finally {
      s.destroy();
      await client.close();
    }
  });
});

test('H2: a symlink, a regular file or a live socket at the path: refused, untouched; a stale socket is replaced', async () => {
  const home = socketHome();
  try {
    mkdirSync(home.dir, { mode: 0o750 });
    const shadowBefore = statSync('/etc/shadow');
    symlinkSync('/etc/shadow', home.sock);
    await assert.rejects(startDaemon({ socketPath: home.sock, plumberOptions }), code('CONFLICT', 'socket'));
    assert.equal(readlinkSync(home.sock), '/etc/shadow', 'the symlink is still there');
    const shadowAfter = statSync('/etc/shadow');
    assert.deepEqual(
      [shadowAfter.mode, shadowAfter.uid, shadowAfter.gid, shadowAfter.size, shadowAfter.mtimeMs],
      [shadowBefore.mode, shadowBefore.uid, shadowBefore.gid, shadowBefore.size, shadowBefore.mtimeMs],
    );
    rmSync(home.sock);

    writeFileSync(home.sock, 'keep me');
    await assert.rejects(startDaemon({ socketPath: home.sock, plumberOptions }), code('CONFLICT', 'socket'));
    assert.equal(readFileSync(home.sock, 'utf8'), 'keep me');
    rmSync(home.sock);

    const other = createServer((s) => {
      s.on('error', () => undefined); // the daemon's probe hangs up at once
      s.end('{"other":true}\n');
    });
    await new Promise<void>((r) => other.listen(home.sock, r));
    try {
      await assert.rejects(
        startDaemon({ socketPath: home.sock, plumberOptions }),
        (e: unknown) => code('CONFLICT', 'socket')(e) && /another process/.test((e as Error).message),
      );
      const still = await raw(home.sock, '', 1, 2000);
      assert.deepEqual(still.lines, [{ other: true }], 'the other server still answers (its socket was not stolen)');
      assert.ok(lstatSync(home.sock).isSocket());
    } finally {
      await new Promise<void>((r) => other.close(() => r()));
    }

    // A stale socket: its server was killed and left the file.
    const child = spawn(
      process.execPath,
      [
        '-e',
        `require('node:net').createServer().listen(${JSON.stringify(home.sock)}, () => process.stdout.write('up'))`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((r) => child.stdout.once('data', () => r()));
    child.kill('SIGKILL');
    await new Promise<void>((r) => child.on('exit', () => r()));
    await waitForExit(child.pid as number);
    assert.ok(lstatSync(home.sock).isSocket(), 'stale socket left behind');
    const d = await startDaemon({ socketPath: home.sock, plumberOptions });
    const c = await DaemonClient.connect(home.sock);
    await c.ping();
    await c.close();
    await d.close();
  } finally {
    home.cleanup();
  }
});

test("H2: the socket directory must be root's, 0750 or stricter, and not a symlink", async () => {
  const home = socketHome();
  try {
    mkdirSync(home.dir, { mode: 0o750 });
    chmodSync(home.dir, 0o777);
    await assert.rejects(
      startDaemon({ socketPath: home.sock, plumberOptions }),
      (e: unknown) => code('CONFLICT')(e) && /looser than 0750/.test((e as Error).message),
    );
    assert.equal(statSync(home.dir).mode & 0o7777, 0o777, 'left as it was');
    chmodSync(home.dir, 0o750);
    chownSync(home.dir, 65534, 0);
    await assert.rejects(
      startDaemon({ socketPath: home.sock, plumberOptions }),
      (e: unknown) => code('CONFLICT')(e) && /owned by uid 65534/.test((e as Error).message),
    );
    rmSync(home.dir, { recursive: true });
    mkdirSync(join(home.top, 'elsewhere'), { mode: 0o750 });
    symlinkSync(join(home.top, 'elsewhere'), home.dir);
    await assert.rejects(
      startDaemon({ socketPath: home.sock, plumberOptions }),
      (e: unknown) => code('CONFLICT')(e) && /symbolic link/.test((e as Error).message),
    );
    await assert.rejects(
      startDaemon({ socketPath: join(home.top, 'run2', 'x.sock'), group: 'no-such-group-np', plumberOptions }),
      code('NOT_FOUND', 'group'),
    );
  } finally {
    home.cleanup();
  }
});

test('graceful shutdown: attaches in flight complete, later requests are refused, then the daemon is gone', async () => {
  const home = socketHome();
  const guests: TestNetns[] = [];
  const direct = Plumber.open(plumberOptions);
  try {
    for (let i = 0; i < 6; i++) guests.push(await TestNetns.create('dq'));
    const d = await startDaemon({ socketPath: home.sock, plumberOptions });
    const client = await DaemonClient.connect(home.sock);
    const attaches = guests.map((g, i) =>
      client.attach({
        host: 'ovs0',
        guest: { netns: g.name },
        ip: { kind: 'static', address: `10.8.0.${i + 1}/24` },
        vlan: 80,
      }),
    );
    for (let i = 0; i < 200 && d.inFlight < guests.length; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(d.inFlight, guests.length, 'all attaches in flight');
    const closing = d.close();
    assert.equal(
      lstatSync(home.sock, { throwIfNoEntry: false }),
      undefined,
      'the socket goes at once: new clients act directly',
    );
    const late = client.list().then(
      () => undefined,
      (e: unknown) => e,
    );
    const results = await Promise.all(attaches);
    assert.ok(results.every((r) => r.changed));
    assert.ok(code('UNAVAILABLE')(await late), 'a request after close() began is refused');
    await closing;
    assert.equal(d.inFlight, 0);
    assert.equal((await ports()).length, guests.length, 'every port committed (oracle: ovs-vsctl)');
    for (const [i, g] of guests.entries()) {
      const [link] = await g.ip('addr', 'show', 'dev', 'eth1');
      assert.deepEqual(
        link?.addr_info?.filter((x) => x.family === 'inet').map((x) => x.local),
        [`10.8.0.${i + 1}`],
      );
    }
    await assert.rejects(client.ping(), code('UNAVAILABLE'));
    await client.close();
    for (const g of guests) await direct.detach({ guest: { netns: g.name } });
    assert.deepEqual(await ports(), []);
  } finally {
    await direct.close();
    for (const g of guests) await g.destroy();
    home.cleanup();
  }
});
