/**
 * Opening namespaces and namespace-bound netlink sockets through the addon (root, fresh namespaces).
 */
import { test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import {
  readlinkSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  mkdtempSync,
  rmSync,
  readFileSync,
  readdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { openNetns, hostNetnsIdentity } from '../../src/netns/index.js';
import { openRouteTransport } from '../../src/netlink/native-transport.js';
import { NetplumbError } from '../../src/errors.js';
import { setTxChecksum } from '../../src/ethtool.js';
import { openGuestSockets } from '../../src/netns/sockets.js';
import { TestNetns } from '../helpers/netns.js';
import { threadNetns, ORIGINAL_NETNS, useLeakCheck } from '../helpers/leak.js';

useLeakCheck();

function expectCode(fn: () => unknown, code: string, re?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof NetplumbError, `expected NetplumbError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

test('a named namespace opens with the identity the filesystem reports', async () => {
  const t = await TestNetns.create('ns');
  try {
    const ns = openNetns({ name: t.name });
    try {
      const st = statSync(t.path);
      assert.equal(ns.ino, st.ino);
      assert.equal(ns.dev, st.dev);
      assert.ok(!ns.is(hostNetnsIdentity()));
    } finally {
      ns.close();
    }
  } finally {
    await t.destroy();
  }
});

test('the host namespace identity is the one /proc/self/ns/net names', () => {
  const id = hostNetnsIdentity();
  assert.equal(`net:[${id.ino}]`, ORIGINAL_NETNS);
});

test('bad namespace references are typed errors and open nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-ns-'));
  try {
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    expectCode(() => openNetns({ path: file }), 'INVALID_ARGUMENT', /not a network namespace/);
    expectCode(() => openNetns({ path: dir }), 'INVALID_ARGUMENT', /not a network namespace/);
    const mnt = join(dir, 'mnt-link');
    symlinkSync('/proc/self/ns/mnt', mnt);
    expectCode(() => openNetns({ path: mnt }), 'INVALID_ARGUMENT', /symbolic link/);
    expectCode(() => openNetns({ path: join(dir, 'vanished') }), 'NAMESPACE_GONE');
    expectCode(() => openNetns({ name: '../../proc/1/ns/net' }), 'INVALID_ARGUMENT');
    expectCode(() => openNetns({ name: 'a/b' }), 'INVALID_ARGUMENT');
    expectCode(() => openNetns({ name: '..' }), 'INVALID_ARGUMENT');
    expectCode(() => openNetns({ name: 'x'.repeat(300) }), 'INVALID_ARGUMENT');
    expectCode(() => openNetns({ path: 'relative/path' }), 'INVALID_ARGUMENT');
    expectCode(() => openNetns({ pid: 0 }), 'INVALID_ARGUMENT');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a symlink under /run/netns to the host namespace is refused', () => {
  const name = `np-link-${process.pid}`;
  symlinkSync('/proc/1/ns/net', `/run/netns/${name}`);
  try {
    expectCode(() => openNetns({ name }), 'INVALID_ARGUMENT', /symbolic link/);
  } finally {
    unlinkSync(`/run/netns/${name}`);
  }
});

test('a namespace opened by pid carries the process start time; a different one is refused', async () => {
  const t = await TestNetns.create('pid');
  const child = spawn('ip', ['netns', 'exec', t.name, 'sleep', '30'], { stdio: 'ignore' });
  try {
    // ip netns exec execs sleep in place: wait until the process is inside the namespace.
    const want = readlinkNs(t.path);
    for (let i = 0; i < 100 && readlinkNs(`/proc/${child.pid}/ns/net`) !== want; i++)
      await new Promise((r) => setTimeout(r, 20));
    const pid = child.pid as number;
    const ns = openNetns({ pid });
    const startTime = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[19]);
    try {
      assert.equal(ns.ino, statSync(t.path).ino);
      assert.equal(ns.startTime, startTime);
    } finally {
      ns.close();
    }
    expectCode(() => openNetns({ pid, startTime: startTime + 1 }), 'IDENTITY_MISMATCH');
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await t.destroy();
  }
  expectCode(() => openNetns({ pid: child.pid as number }), 'NAMESPACE_GONE');
});

function readlinkNs(path: string): number {
  try {
    return statSync(path).ino;
  } catch {
    return -1;
  }
}

test('netlink sockets are created inside the namespace without moving any thread', async () => {
  const t = await TestNetns.create('nl');
  try {
    const ns = openNetns({ name: t.name });
    const transports = [];
    for (let i = 0; i < 200; i++) transports.push(openRouteTransport(ns.fd, ns.label));
    for (const ino of threadNetns()) assert.equal(ino, ORIGINAL_NETNS);
    // Every fd the addon returns is close-on-exec (O_CLOEXEC = 02000000 in fdinfo flags).
    const ours = readdirSync('/proc/self/fd').filter((fd) =>
      /^(socket|net):/.test(safeReadlink(`/proc/self/fd/${fd}`)),
    );
    assert.ok(ours.length >= 201, `expected 200 sockets and a namespace fd, saw ${ours.length}`);
    for (const fd of ours) {
      const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
      const flags = Number.parseInt(/flags:\s+(\d+)/.exec(info)?.[1] ?? '0', 8);
      assert.ok(flags & 0o2000000, `fd ${fd} lacks O_CLOEXEC`);
    }
    for (const tr of transports) tr.close();
    ns.close();
  } finally {
    await t.destroy();
  }
});

test("a failed syscall's error carries the errno's name: the addon returns the number, TypeScript names it", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-ns-'));
  const t = await TestNetns.create('errno');
  try {
    assert.throws(
      () => openNetns({ path: join(dir, 'vanished') }),
      (e: unknown) =>
        e instanceof NetplumbError &&
        e.details.errno === 2 &&
        e.details.errnoCode === 'ENOENT' &&
        e.details.syscall === 'openat2',
    );
    const ns = openNetns({ name: t.name });
    const sockets = await openGuestSockets(ns);
    try {
      // The kernel's answer for a device the namespace does not have (`ip -n NS link show dev nodev0` fails alike).
      assert.equal(await t.status(['ip', 'link', 'show', 'dev', 'nodev0']), 1);
      await assert.rejects(setTxChecksum(sockets, 'nodev0', false), (e: unknown) => {
        assert.ok(e instanceof NetplumbError, String(e));
        assert.equal(e.code, 'NOT_FOUND');
        assert.match(
          e.message,
          /^ethtool -K nodev0 tx off in .*: ioctl\(SIOCETHTOOL, ETHTOOL_STXCSUM\): ENODEV \(no such device\)$/,
        );
        assert.deepEqual([e.details.errno, e.details.errnoCode], [19, 'ENODEV']);
        return true;
      });
    } finally {
      sockets.closeExtras();
      sockets.route.close();
      ns.close();
    }
  } finally {
    await t.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

function safeReadlink(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return '';
  }
}

test('an exception thrown by a socket callback surfaces as uncaughtException (never swallowed, never an abort)', async () => {
  const script = `
const { openRouteTransport } = require(${JSON.stringify(require('node:path').join(__dirname, '..', '..', 'src', 'netlink', 'native-transport.js'))});
process.on('uncaughtException', (e) => { process.stdout.write('uncaught: ' + e.message); process.exit(0); });
const t = openRouteTransport();
t.setActive(true);
t.onData = () => { throw new Error('boom from onData'); };
const b = Buffer.alloc(32); b.writeUInt32LE(32, 0); b.writeUInt16LE(18, 4); b.writeUInt16LE(0x301, 6); b.writeUInt32LE(1, 8);
t.send([b]);
setTimeout(() => process.exit(3), 3000);
`;
  const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
  assert.equal(r.code, 0);
  assert.equal(r.out, 'uncaught: boom from onData');
});
