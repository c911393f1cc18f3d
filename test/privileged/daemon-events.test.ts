/**
 * The daemon's history (`netplumb events`) with a real `netplumb serve` and a real OVS: what
 * attach, detach and gc did (ovs-vsctl and the namespace cookie are the oracles) recorded
 * with the right fields, whichever way the call came (Node.js over the API, the native front
 * door); a failed attach recorded as an error; --since by seq, time and duration; --json
 * lines; --follow gets a live attach (also through the front door, which hands it back to
 * Node.js); uplink and network go through the daemon and are recorded; a restarted daemon's
 * log starts with daemon-start. In this process: a follower that does not read costs at most
 * ~64 KiB and is told what it missed with events.dropped.
 */
import { after, before, test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { type ServedDaemon, serveInNetns } from '../helpers/daemon.js';
import { useLeakCheck } from '../helpers/leak.js';
import { TestNetns } from '../helpers/netns.js';
import { must, run } from '../../sandbox/exec.js';
import { startOvs, type OvsInstance } from '../../sandbox/ovs.js';
import { waitForExit } from '../../sandbox/process.js';
import { DaemonClient } from '../../src/daemon/client.js';
import { startDaemon as startInProcess } from '../../src/daemon/server.js';
import type { NetplumbEvent } from '../../src/events/event.js';

const ROOT = join(__dirname, '..', '..', '..');
const NETPLUMB = join(ROOT, 'bin', 'netplumb');
const FRONT = join(ROOT, 'build', 'Release', 'netplumb-front');

let ovs: OvsInstance;
let bin: string;

before(async () => {
  ovs = await startOvs({ withVswitchd: true });
  await ovs.addBridge('ovs0');
  bin = mkdtempSync('/tmp/np-ev-bin-');
  chmodSync(bin, 0o755);
  for (const name of ['netplumb', 'pipework']) await must(['ln', '-s', FRONT, join(bin, name)]);
});
after(async () => {
  await ovs?.stop();
  if (bin) rmSync(bin, { recursive: true, force: true });
});
useLeakCheck();

/** `netplumb serve` in the OVS namespace on `sock`, once it answers. */
function serve(sock: string, env: NodeJS.ProcessEnv = {}): Promise<ServedDaemon> {
  return serveInNetns(ovs.netns, ovs.remote, sock, { env });
}

function socketHome(): { sock: string; cleanup: () => void } {
  const top = mkdtempSync('/tmp/np-ev-');
  chmodSync(top, 0o755);
  return { sock: join(top, 'run', 'netplumb.sock'), cleanup: () => rmSync(top, { recursive: true, force: true }) };
}

const envOf = (sock: string) => ({ ...process.env, NETPLUMB_SOCKET: sock, NETPLUMB_LOG: '', OVS_DB: ovs.remote });

/** `netplumb ARGS` in the OVS namespace: Node.js (over the API) or the native front door. */
function netplumb(sock: string, args: string[], via: 'node' | 'front' = 'node', env: NodeJS.ProcessEnv = {}) {
  const argv = via === 'node' ? [process.execPath, NETPLUMB, ...args] : [join(bin, 'netplumb'), ...args];
  return run(['ip', 'netns', 'exec', ovs.netns, ...argv], { env: { ...envOf(sock), ...env } });
}

async function eventsJson(sock: string, args: string[] = [], via: 'node' | 'front' = 'node'): Promise<NetplumbEvent[]> {
  const r = await netplumb(sock, ['events', '--json', ...args], via);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as NetplumbEvent);
}

async function ports(): Promise<string[]> {
  return (await ovs.vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean).sort();
}

/** What a failed test left on the bridge. */
async function removePorts(): Promise<void> {
  for (const p of await ports()) await ovs.vsctl(['--if-exists', 'del-port', p]);
}

const lastSeq = async (sock: string) => (await eventsJson(sock)).at(-1)?.seq ?? 0;

test('attach, detach, gc and a failed attach are recorded with what really happened; --since by seq, time and duration; --json lines', async () => {
  const home = socketHome();
  const d = await serve(home.sock);
  const g = await TestNetns.create('ev');
  const g2 = await TestNetns.create('ev');
  try {
    const start = await eventsJson(home.sock);
    assert.equal(start[0]?.kind, 'daemon-start');
    assert.equal(start[0]?.seq, 1);
    const s0 = start.at(-1)?.seq as number;

    // An attach through Node.js (over the API), one through the front door.
    const a1 = await netplumb(home.sock, [
      'attach',
      '--bridge',
      'ovs0',
      '--container',
      `netns:${g.name}`,
      '--ip',
      '10.9.40.2/24',
      '--vlan',
      '140',
    ]);
    assert.equal(a1.code, 0, a1.stderr);
    const [port1] = await ports();
    const a2 = await netplumb(
      home.sock,
      ['attach', '--bridge', 'ovs0', '--container', `netns:${g2.name}`, '--ip', '10.9.40.3/24', '--vlan', '141'],
      'front',
    );
    assert.equal(a2.code, 0, a2.stderr);
    const port2 = (await ports()).find((p) => p !== port1) as string;
    assert.equal((await ovs.vsctl(['get', 'port', port2, 'tag'])).trim(), '141');
    const failed = await netplumb(home.sock, [
      'attach',
      '--bridge',
      'ovs0',
      '--container',
      'netns:np-ev-no-such',
      '--json',
    ]);
    assert.notEqual(failed.code, 0);
    const failure = (JSON.parse(failed.stdout) as { error: { code: string; message: string } }).error;

    const since = await eventsJson(home.sock, ['--since', String(s0)]);
    assert.ok(since.every((e) => e.seq > s0));
    assert.deepEqual(
      since.map((e) => e.seq),
      since.map((_, i) => s0 + 1 + i),
      'numbered without gaps',
    );
    const [e1, e2, e3] = since;
    assert.deepEqual(
      { ...e1, seq: 0, time: '', why: '' },
      {
        seq: 0,
        time: '',
        why: '',
        kind: 'attach',
        guest: `netns:cookie:${await g.cookie()}`,
        ifname: 'eth1',
        hostIfname: port1,
        bridge: 'ovs0',
        vlan: 140,
        result: 'ok',
        changed: true,
      },
    );
    assert.match(e1?.why ?? '', /^requested by uid 0 \(pid \d+\) via the API$/);
    assert.equal(e2?.hostIfname, port2);
    assert.equal(e2?.guest, `netns:cookie:${await g2.cookie()}`);
    assert.match(e2?.why ?? '', /^requested by uid 0 \(pid \d+\) via the netplumb CLI$/);
    assert.deepEqual(
      [e3?.kind, e3?.guest, e3?.bridge, e3?.result, e3?.error],
      ['attach', 'netns:np-ev-no-such', 'ovs0', 'error', { code: failure.code, message: failure.message }],
    );
    assert.ok(!Number.isNaN(Date.parse(e3?.time ?? '')));

    // A detach through the front door.
    const det = await netplumb(home.sock, ['detach', '--container', `netns:${g.name}`], 'front');
    assert.equal(det.code, 0, det.stderr);
    assert.deepEqual(await ports(), [port2]);
    // gc: g2's namespace deleted behind netplumb's back leaves its OVS port; gc removes it.
    await g2.destroy();
    const gc = await netplumb(home.sock, ['gc', '--grace', '0']);
    assert.equal(gc.code, 0, gc.stderr);
    assert.deepEqual(await ports(), []);
    const later = await eventsJson(home.sock, ['--since', String(e3?.seq)], 'front');
    const detach = later.find((e) => e.kind === 'detach');
    assert.deepEqual([detach?.hostIfname, detach?.guest, detach?.result], [port1, e1?.guest, 'ok']);
    const removed = later.filter((e) => e.kind === 'gc-removed');
    assert.deepEqual(
      removed.map((e) => [e.hostIfname, e.vlan, e.result]),
      [[port2, 141, 'ok']],
    );
    assert.match(removed[0]?.why ?? '', /^gc: .+; run requested by uid 0/);
    const summary = later.filter((e) => e.kind === 'gc').at(-1);
    assert.match(summary?.detail ?? '', /^removed 1, kept 0/);

    // --since a time: from the detach on; a duration: everything of the last 10 minutes.
    const fromDetach = await eventsJson(home.sock, ['--since', detach?.time as string]);
    assert.ok(fromDetach.length > 0 && fromDetach.every((e) => e.time >= (detach?.time as string)));
    assert.ok(fromDetach.some((e) => e.seq === detach?.seq));
    assert.ok(!fromDetach.some((e) => e.seq === e1?.seq && e1.time < (detach?.time as string)));
    assert.equal((await eventsJson(home.sock, ['--since', '10m']))[0]?.kind, 'daemon-start');

    // Text: one line per event, numbered.
    const text = await netplumb(home.sock, ['events', '--since', String(s0)]);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, later.length + 3);
    assert.match(
      lines[0] ?? '',
      new RegExp(
        `^#${s0 + 1} \\S+ attach netns:cookie:\\d+ eth1 \\(host side ${port1}\\) → ovs0 vlan 140: ok — requested by uid 0`,
      ),
    );
    assert.match(lines[2] ?? '', / attach netns:np-ev-no-such → ovs0: error /);
    // Help teaches; a bad --since says the forms.
    const help = await netplumb(home.sock, ['events', '--help']);
    assert.match(help.stdout, /--since SEQ\|TIME\|DURATION/);
    assert.match(help.stdout, /netplumb events --follow --json/);
    const bad = await netplumb(home.sock, ['events', '--since', 'yesterday']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /30s, 10m, 2h, 1d/);
  } finally {
    await d.stop();
    home.cleanup();
    await removePorts();
    await g.destroy();
    await g2.destroy();
  }
});

/** `netplumb events --follow --json ARGS` running; its events as they come. */
function follower(sock: string, args: string[], via: 'node' | 'front') {
  const argv = via === 'node' ? [process.execPath, NETPLUMB] : [join(bin, 'netplumb')];
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ovs.netns, ...argv, 'events', '-f', '--json', ...args], {
    env: envOf(sock),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: NetplumbEvent[] = [];
  let out = '';
  let err = '';
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
    const lines = out.split('\n');
    out = lines.pop() ?? '';
    for (const l of lines) events.push(JSON.parse(l) as NetplumbEvent);
  });
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return {
    events,
    stderr: () => err,
    exited,
    async until(what: string, ok: (e: NetplumbEvent) => boolean): Promise<NetplumbEvent> {
      for (let i = 0; i < 1200; i++) {
        const e = events.find(ok);
        if (e !== undefined) return e;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no ${what} followed; stderr: ${err}`);
    },
    async stop(): Promise<void> {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await waitForExit(child.pid as number);
    },
  };
}

test('--follow gets a live attach (Node.js, and the front door handing it back), then daemon-stop; a restarted daemon begins with daemon-start', async () => {
  const home = socketHome();
  let d = await serve(home.sock);
  const g = await TestNetns.create('ef');
  const followers: ReturnType<typeof follower>[] = [];
  try {
    const s = await lastSeq(home.sock);
    const viaNode = follower(home.sock, ['--since', String(s)], 'node');
    const viaFront = follower(home.sock, ['--since', String(s)], 'front');
    followers.push(viaNode, viaFront);
    const a = await netplumb(
      home.sock,
      ['attach', '--bridge', 'ovs0', '--container', `netns:${g.name}`, '--ip', '10.9.41.2/24'],
      'front',
    );
    assert.equal(a.code, 0, a.stderr);
    const [port] = await ports();
    for (const f of [viaNode, viaFront]) {
      const e = await f.until('attach', (x) => x.kind === 'attach');
      assert.deepEqual([e.hostIfname, e.bridge, e.result, e.seq], [port, 'ovs0', 'ok', s + 1]);
    }
    assert.ok(
      d.log().some((l) => l.msg === 'front-door call handed back' && /events --follow/.test(String(l.why))),
      'the front door handed --follow back to Node.js',
    );
    // A live one, after both are following.
    const det = await netplumb(home.sock, ['detach', '--container', `netns:${g.name}`]);
    assert.equal(det.code, 0, det.stderr);
    for (const f of [viaNode, viaFront]) await f.until('detach', (x) => x.kind === 'detach' && x.hostIfname === port);
    assert.deepEqual(await ports(), []);

    // The daemon stops: the followers get daemon-stop and end with status 0.
    await d.stop();
    for (const f of [viaNode, viaFront]) {
      await f.until('daemon-stop', (x) => x.kind === 'daemon-stop');
      assert.equal(await f.exited, 0, f.stderr());
      assert.match(f.stderr(), /the daemon stopped/);
    }
    // No daemon, no history: a clear error.
    const none = await netplumb(home.sock, ['events']);
    assert.equal(none.code, 10);
    assert.match(none.stderr, /the history lives in the daemon/);

    // Restarted: a new log, beginning with daemon-start; the attach of before is not in it.
    d = await serve(home.sock);
    const fresh = await eventsJson(home.sock);
    assert.deepEqual([fresh[0]?.seq, fresh[0]?.kind], [1, 'daemon-start']);
    assert.ok(!fresh.some((e) => e.kind === 'attach'));
  } finally {
    for (const f of followers) await f.stop();
    await d.stop();
    home.cleanup();
    await removePorts();
    await g.destroy();
  }
});

test('uplink add/del and network create go through the daemon and are recorded (a failure too); the front door relays $OVN_NB_DB', async () => {
  const home = socketHome();
  // An OVN northbound database nobody serves: the daemon's and the caller's, relayed by the front door.
  const nb = { OVN_NB_DB: `unix:${home.sock}.nb` };
  const d = await serve(home.sock, nb);
  const nic = 'npevnic0';
  await must(['ip', '-n', ovs.netns, 'link', 'add', nic, 'type', 'veth', 'peer', 'name', `${nic}p`]);
  try {
    const s = await lastSeq(home.sock);
    const add = await netplumb(
      home.sock,
      ['uplink', 'add', '--bridge', 'ovs0', '--nic', nic, '--vlan', '150'],
      'front',
      nb,
    );
    assert.equal(add.code, 0, add.stderr);
    assert.deepEqual(await ports(), [nic]);
    assert.equal((await ovs.vsctl(['get', 'port', nic, 'tag'])).trim(), '150');
    const del = await netplumb(home.sock, ['uplink', 'del', '--nic', nic], 'node', nb);
    assert.equal(del.code, 0, del.stderr);
    assert.deepEqual(await ports(), []);
    // Nothing serves that northbound database: the create fails in the daemon, and is recorded so.
    const net = await netplumb(home.sock, ['network', 'create', 'npevnet', '--json'], 'front', nb);
    assert.notEqual(net.code, 0);
    const failure = (JSON.parse(net.stdout) as { error: { code: string } }).error;
    const requests = d
      .log()
      .filter((l) => l.msg === 'request')
      .map((l) => l.method);
    assert.deepEqual(
      requests.filter((m) => m !== 'events'),
      ['uplink.add', 'uplink.del', 'network.create'],
      'requests of the daemon',
    );
    assert.ok(!d.log().some((l) => l.msg === 'front-door call handed back'), 'every call served by the daemon');
    const events = await eventsJson(home.sock, ['--since', String(s)]);
    assert.deepEqual(
      events.map((e) => [e.kind, e.nic ?? e.network, e.bridge, e.vlan, e.result, e.changed ?? e.error?.code]),
      [
        ['uplink-add', nic, 'ovs0', 150, 'ok', true],
        ['uplink-del', nic, 'ovs0', 150, 'ok', true],
        ['network-create', 'npevnet', undefined, undefined, 'error', failure.code],
      ],
    );
  } finally {
    await d.stop();
    home.cleanup();
    await removePorts();
    await run(['ip', '-n', ovs.netns, 'link', 'del', nic]);
  }
});

test('a follower that does not read: at most ~64 KiB buffered in the daemon, then events.dropped for what the log let go', async () => {
  const home = socketHome();
  const d = await startInProcess({
    socketPath: home.sock,
    plumberOptions: { ovsDb: ovs.remote, hostNetns: { name: ovs.netns } },
    events: { maxEvents: 100 },
  });
  const socket = createConnection(home.sock);
  try {
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'events.follow', params: {} })}\n`);
    socket.pause(); // reads nothing from now on
    const client = await DaemonClient.connect(home.sock);
    try {
      // Failed attaches: each one event, at once.
      for (let round = 0; round < 40; round++)
        await Promise.all(
          Array.from({ length: 50 }, () =>
            client.attach({ host: 'ovs0', guest: 'netns:np-ev-no-such', ip: { kind: 'none' } }).catch(() => undefined),
          ),
        );
    } finally {
      await client.close();
    }
    const last = d.events.lastSeq;
    assert.ok(last > 2000, `${last} events`);
    assert.equal(d.events.size, 100, 'the log holds its bound');
    // Now read: the events sent before the follower stalled, one events.dropped, then the rest in order.
    socket.resume();
    const got: { method?: string; params?: { seq?: number; count?: number; fromSeq?: number; toSeq?: number } }[] = [];
    let buf = '';
    let bytes = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.length} lines`)), 60_000);
      socket.on('data', (b: Buffer) => {
        bytes += b.length;
        buf += b.toString();
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const l of lines) got.push(JSON.parse(l));
        if (got.at(-1)?.params?.seq === last) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const notices = got.filter((m) => m.method !== undefined);
    const dropped = notices.filter((m) => m.method === 'events.dropped');
    assert.equal(dropped.length, 1, 'one drop notice');
    const seqs = notices.filter((m) => m.method === 'events.event').map((m) => m.params?.seq as number);
    const at = notices.indexOf(dropped[0] as (typeof notices)[number]);
    const before = seqs.slice(0, at);
    const { count, fromSeq, toSeq } = dropped[0]?.params ?? {};
    assert.equal(fromSeq, (before.at(-1) as number) + 1);
    assert.equal(count, (toSeq as number) - (fromSeq as number) + 1);
    assert.deepEqual(seqs, [
      ...before,
      ...Array.from({ length: last - (toSeq as number) }, (_, i) => (toSeq as number) + 1 + i),
    ]);
    // What was sent before the stall: the daemon's 64 KiB and what the kernel's socket buffers held, not thousands of events.
    const sentBefore = got
      .slice(0, got.indexOf(dropped[0] as (typeof got)[number]))
      .reduce((n, m) => n + JSON.stringify(m).length + 1, 0);
    assert.ok(sentBefore < 64 * 1024 + 2 * 1024 * 1024, `${sentBefore} bytes before the drop`);
    assert.ok((count as number) > 1000, `${count} dropped`);
    assert.ok(bytes > 0);
  } finally {
    socket.destroy();
    await d.close();
    home.cleanup();
  }
});
