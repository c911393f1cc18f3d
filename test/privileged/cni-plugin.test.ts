/**
 * netplumb-cni, the CNI plugin, driven as a runtime drives it: the native front door
 * (build/Release/netplumb-front) by a link named netplumb-cni, CNI_* in the environment and
 * the network configuration on stdin, through a running daemon (served there: no Node.js
 * starts, the front door is given a PATH without node) and acting alone (no daemon). A
 * private ovsdb-server + ovs-vswitchd and the real host-local IPAM plugin (Debian's
 * containernetworking-plugins) with a data directory of the test's own. Oracles:
 * ovs-vsctl, ip -json, host-local's lease files, JSON of the result.
 */
import { after, afterEach, before, test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { serveInNetns } from '../helpers/daemon.js';
import { useLeakCheck } from '../helpers/leak.js';
import { TestNetns } from '../helpers/netns.js';
import { must, run } from '../../sandbox/exec.js';
import { startOvs, type OvsInstance } from '../../sandbox/ovs.js';

const ROOT = join(__dirname, '..', '..', '..');
const FRONT = join(ROOT, 'build', 'Release', 'netplumb-front');
const HOST_LOCAL = '/usr/lib/cni/host-local';
/** A PATH with no node in it: a front door that tried to start Node.js would exit 127. */
const NO_NODE = '/nonexistent-np-cni';
const BRIDGE = 'npcni0';
const NETWORK = 'npcnitest';
const SUBNET = '10.77.0';

let ovs: OvsInstance;
/** Links to the front door: netplumb-cni, and one under another name (a runtime runs the plugin by its `type`). */
let bin: string;
/** CNI_PATH: host-local, and the fake IPAM plugins of some tests. */
let cniPath: string;
/** host-local's dataDir. */
let dataDir: string;
let ip: string;
let setpriv: string;
/** Where uid-ipam notes its calls (writable by anyone: it runs as the caller). */
let uidLog: string;
/** The daemon (`netplumb serve`) on the bed's OVSDB. */
let daemon: Daemon;

interface Daemon {
  sock: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

before(async () => {
  ovs = await startOvs({ withVswitchd: true });
  await ovs.addBridge(BRIDGE);
  bin = mkdtempSync('/tmp/np-cni-bin-');
  cniPath = mkdtempSync('/tmp/np-cni-path-');
  dataDir = mkdtempSync('/tmp/np-cni-data-');
  for (const d of [bin, cniPath]) chmodSync(d, 0o755);
  symlinkSync(FRONT, join(bin, 'netplumb-cni'));
  symlinkSync(FRONT, join(bin, 'npcni-other-name'));
  symlinkSync(FRONT, join(bin, 'pipework'));
  symlinkSync(HOST_LOCAL, join(cniPath, 'host-local'));
  uidLog = mkdtempSync('/tmp/np-cni-uid-');
  chmodSync(uidLog, 0o1777);
  // A fake IPAM plugin: notes who ran it, gives one address.
  writeFileSync(
    join(cniPath, 'uid-ipam'),
    `#!/bin/sh\necho "$CNI_COMMAND $(id -u) $(id -g)" >> ${uidLog}/calls\n[ "$CNI_COMMAND" = ADD ] && echo '{"cniVersion":"1.0.0","ips":[{"address":"10.78.0.5/24"}]}'\nexit 0\n`,
    { mode: 0o755 },
  );
  // A failing one, with a CNI error of its own.
  writeFileSync(
    join(cniPath, 'failing-ipam'),
    `#!/bin/sh\necho '{"cniVersion":"1.0.0","code":42,"msg":"no addresses left"}'\nexit 1\n`,
    { mode: 0o755 },
  );
  ip = (await must(['sh', '-c', 'command -v ip'])).trim();
  setpriv = (await must(['sh', '-c', 'command -v setpriv'])).trim();
  daemon = await startDaemon();
});
after(async () => {
  await daemon?.stop();
  await ovs?.stop();
  for (const d of [bin, cniPath, dataDir, uidLog]) if (d) rmSync(d, { recursive: true, force: true });
});
useLeakCheck();
// A failed test leaves nothing for the next: every port, host veth and lease goes (after the leak oracle has looked).
afterEach(async () => {
  for (const p of await ports()) await ovs.vsctl(['--if-exists', 'del-port', p]);
  // (One whose peer's namespace was just deleted may go by itself meanwhile.)
  for (const l of await hostLinks()) await run(['ip', '-n', ovs.netns, 'link', 'del', l]);
  rmSync(join(dataDir, NETWORK), { recursive: true, force: true });
});

async function startDaemon(): Promise<Daemon> {
  const top = mkdtempSync('/tmp/np-cni-d-');
  chmodSync(top, 0o755);
  const sock = join(top, 'run', 'netplumb.sock');
  try {
    // nogroup's members (and nobody, whose group it is) may call it, root always.
    const d = await serveInNetns(ovs.netns, ovs.remote, sock, {
      args: ['--group', 'nogroup'],
      env: { NETPLUMB_LOG: 'warn' },
    });
    return {
      sock,
      stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
        await d.stop(signal);
        rmSync(top, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(top, { recursive: true, force: true });
    throw e;
  }
}

interface Conf {
  [key: string]: unknown;
}

function conf(extra: Conf = {}, ipam: Conf | null = {}): Conf {
  return {
    cniVersion: '1.0.0',
    name: NETWORK,
    type: 'netplumb-cni',
    bridge: BRIDGE,
    vlan: 100,
    socket_file: ovs.remote,
    ...(ipam === null
      ? {}
      : {
          ipam: {
            type: 'host-local',
            dataDir,
            ranges: [[{ subnet: `${SUBNET}.0/24` }]],
            routes: [{ dst: '0.0.0.0/0' }],
            ...ipam,
          },
        }),
    ...extra,
  };
}

interface Call {
  command: string;
  containerId?: string;
  netns?: string;
  ifname?: string;
  conf: Conf;
  /** 'daemon' (default): through the daemon, no Node.js; 'alone': no daemon answers. */
  via?: 'daemon' | 'alone';
  env?: NodeJS.ProcessEnv;
  prog?: string;
  /** Run as another user: setpriv arguments (--reuid=…). */
  as?: string[];
}

interface Answer {
  code: number | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | undefined;
}

/** One plugin call through the front door, in the bed's namespace (where the daemons run), as a runtime makes it. */
function cni(c: Call): Promise<Answer> {
  const env: NodeJS.ProcessEnv = {
    CNI_COMMAND: c.command,
    CNI_PATH: cniPath,
    ...(c.containerId !== undefined ? { CNI_CONTAINERID: c.containerId } : {}),
    ...(c.netns !== undefined ? { CNI_NETNS: c.netns } : {}),
    CNI_IFNAME: c.ifname ?? 'eth0',
    ...(c.via === 'alone'
      ? { NETPLUMB_SOCKET: '/nonexistent-np-cni.sock', PATH: process.env.PATH }
      : { NETPLUMB_SOCKET: daemon.sock, PATH: NO_NODE }),
    ...c.env,
  };
  return new Promise((resolve, reject) => {
    const as = c.as ? [setpriv, ...c.as, '--'] : [];
    const child = spawn(ip, ['netns', 'exec', ovs.netns, ...as, join(bin, c.prog ?? 'netplumb-cni')], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify(c.conf));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      let json: Record<string, unknown> | undefined;
      try {
        json = stdout.trim() === '' ? undefined : (JSON.parse(stdout) as Record<string, unknown>);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

/** The call succeeded (the stderr and stdout in the message otherwise). */
function ok(a: Answer, what: string): void {
  assert.equal(a.code, 0, `${what}: exit ${a.code}, stdout ${a.stdout}, stderr ${a.stderr}`);
}

/** The call failed with CNI error `code`. */
function failed(a: Answer, code: number, what: string): Record<string, unknown> {
  assert.notEqual(a.code, 0, `${what} should fail: ${a.stdout}`);
  assert.ok(a.json, `${what}: a CNI error on stdout, got ${JSON.stringify(a.stdout)} (stderr ${a.stderr})`);
  assert.equal(a.json.code, code, `${what}: ${a.stdout}`);
  assert.equal(typeof a.json.msg, 'string');
  return a.json;
}

async function ports(): Promise<string[]> {
  return (await ovs.vsctl(['list-ports', BRIDGE])).split('\n').filter(Boolean);
}

/** netplumb's host veths in the bed's namespace (np + attachment id + h). */
async function hostLinks(): Promise<string[]> {
  const out = await must(['ip', '-json', '-n', ovs.netns, 'link', 'show']);
  return (JSON.parse(out) as { ifname: string }[]).map((l) => l.ifname).filter((n) => /^np[a-z2-7]{10}h$/.test(n));
}

/** host-local's leases of the network: one file per address. */
function leases(): string[] {
  const dir = join(dataDir, NETWORK);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.startsWith(SUBNET));
}

/** Nothing of any attachment left: no port, no host veth, no lease. */
async function assertNothingLeft(what: string): Promise<void> {
  assert.deepEqual(await ports(), [], `${what}: no port left on ${BRIDGE}`);
  assert.deepEqual(await hostLinks(), [], `${what}: no host veth left`);
  assert.deepEqual(leases(), [], `${what}: no lease left`);
}

interface IpAddr {
  ifname: string;
  address: string;
  addr_info: { family: string; local: string; prefixlen: number }[];
}

async function v4(g: TestNetns, ifname: string): Promise<string[]> {
  const [l] = await g.ip<IpAddr>('addr', 'show', 'dev', ifname);
  return (l?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
}

/** ADD's result holds what the host shows: the host veth and its port (tag), the container interface with its MAC and address. */
async function assertAdded(a: Answer, g: TestNetns, containerId: string, vlan = '100'): Promise<string> {
  ok(a, 'ADD');
  const r = a.json as {
    cniVersion: string;
    interfaces: { name: string; mac?: string; sandbox?: string }[];
    ips: { address: string; gateway?: string; interface: number }[];
    routes: { dst: string }[];
  };
  assert.equal(r.cniVersion, '1.0.0');
  const [host, inside] = r.interfaces;
  assert.ok(host && inside, `two interfaces in ${a.stdout}`);
  assert.equal(inside.name, 'eth0');
  assert.equal(inside.sandbox, g.path);
  const link = await g.link('eth0');
  assert.equal(inside.mac, link?.address, 'the container MAC is the one ip shows');
  assert.deepEqual(await ports(), [host.name], 'the host end is the port');
  assert.equal(
    host.mac,
    JSON.parse(await must(['ip', '-json', '-n', ovs.netns, 'link', 'show', host.name]))[0].address,
  );
  assert.equal((await ovs.vsctl(['get', 'port', host.name, 'tag'])).trim(), vlan);
  const ids = await ovs.vsctl(['get', 'port', host.name, 'external_ids']);
  assert.ok(ids.includes(`netplumb.guest="cni:${containerId}"`), `recorded under its container id: ${ids}`);
  assert.ok(ids.includes('netplumb.ifname=eth0'), `and its interface: ${ids}`);
  assert.equal(r.ips.length, 1);
  const ipr = r.ips[0] as { address: string; gateway?: string; interface: number };
  assert.equal(ipr.interface, 1);
  assert.equal(ipr.gateway, `${SUBNET}.1`);
  assert.deepEqual(await v4(g, 'eth0'), [ipr.address], 'the address of the result is on eth0');
  assert.deepEqual(leases(), [ipr.address.split('/')[0]], 'host-local leased it');
  const [route] = await g.ip<{ dst: string; gateway?: string }>('route', 'show', 'default');
  assert.equal(route?.gateway, `${SUBNET}.1`);
  return host.name;
}

for (const via of ['daemon', 'alone'] as const) {
  test(`ADD and DEL ${via === 'daemon' ? 'through the daemon (no Node.js)' : 'acting alone'}: port with its tag, veth with MAC and address, lease; ADD twice fails; DEL twice succeeds`, async () => {
    const g = await TestNetns.create('cni');
    const id = `c${via}1`;
    try {
      const call = { containerId: id, netns: g.path, conf: conf(), via };
      await assertAdded(await cni({ command: 'ADD', ...call }), g, id);
      const again = failed(await cni({ command: 'ADD', ...call }), 108, 'ADD twice');
      assert.equal(again.details, 'CNI_IFNAME');
      assert.equal((await ports()).length, 1, 'the failed ADD left the first alone');
      assert.equal(leases().length, 1, 'and its lease');
      ok(await cni({ command: 'DEL', ...call }), 'DEL');
      assert.equal(await g.link('eth0'), undefined, 'eth0 is gone from the container');
      await assertNothingLeft('DEL');
      ok(await cni({ command: 'DEL', ...call }), 'DEL again');
    } finally {
      await g.destroy();
    }
  });
}

test('VERSION answers without configuration or engine; CNI_COMMAND makes any name the plugin', async () => {
  for (const prog of ['netplumb-cni', 'npcni-other-name']) {
    const a = await cni({ command: 'VERSION', conf: {}, prog });
    ok(a, `VERSION as ${prog}`);
    assert.deepEqual(a.json, { cniVersion: '1.1.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  }
});

test('DEL after the namespace is gone, or with a path that is no namespace any more: the port, the host veth and the lease go', async () => {
  const leftover = join(dataDir, 'not-a-netns');
  writeFileSync(leftover, '');
  try {
    for (const netns of ['gone', 'leftover'] as const) {
      const g = await TestNetns.create('cni');
      const call = { containerId: 'cgone1', netns: g.path, conf: conf() };
      await assertAdded(await cni({ command: 'ADD', ...call }), g, 'cgone1');
      await g.destroy();
      ok(await cni({ command: 'DEL', ...call, ...(netns === 'leftover' ? { netns: leftover } : {}) }), `DEL, ${netns}`);
      await assertNothingLeft(`DEL with the namespace ${netns}`);
      ok(await cni({ command: 'DEL', ...call }), 'DEL again');
      ok(await cni({ command: 'DEL', ...call, netns: '' }), 'DEL with no CNI_NETNS');
    }
  } finally {
    rmSync(leftover, { force: true });
  }
});

test('CHECK passes for what ADD made, and finds an address removed behind its back', async () => {
  const g = await TestNetns.create('cni');
  try {
    const call = { containerId: 'ccheck1', netns: g.path, conf: conf() };
    const added = await cni({ command: 'ADD', ...call });
    await assertAdded(added, g, 'ccheck1');
    const prevResult = added.json;
    ok(await cni({ command: 'CHECK', ...call, conf: conf({ prevResult }) }), 'CHECK');
    failed(await cni({ command: 'CHECK', ...call }), 7, 'CHECK without prevResult');
    const wrongVlan = failed(
      await cni({ command: 'CHECK', ...call, conf: conf({ prevResult, vlan: 200 }) }),
      109,
      'CHECK with another VLAN',
    );
    assert.equal(wrongVlan.details, 'vlan');
    const [address] = await v4(g, 'eth0');
    await g.exec(['ip', 'addr', 'del', address as string, 'dev', 'eth0']);
    const lost = failed(
      await cni({ command: 'CHECK', ...call, conf: conf({ prevResult }) }),
      109,
      'CHECK after the address went',
    );
    assert.equal(lost.details, 'ips');
    assert.match(lost.msg as string, new RegExp(`lacks ${(address as string).replace(/\./g, '\\.')}`));
    ok(await cni({ command: 'DEL', ...call }), 'DEL');
    await assertNothingLeft('DEL');
  } finally {
    await g.destroy();
  }
});

test('GC removes the CNI attachments of its network not listed as valid, and nothing else', async () => {
  const [a, b, c, p] = await Promise.all([1, 2, 3, 4].map(() => TestNetns.create('cni')));
  const other = {
    name: 'npcniother',
    vlan: 200,
    ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.76.0.0/24' }]] },
  };
  try {
    await assertAdded(
      await cni({ command: 'ADD', containerId: 'cgca', netns: (a as TestNetns).path, conf: conf() }),
      a as TestNetns,
      'cgca',
    );
    ok(await cni({ command: 'ADD', containerId: 'cgcb', netns: (b as TestNetns).path, conf: conf() }), 'ADD b');
    ok(
      await cni({ command: 'ADD', containerId: 'cgcc', netns: (c as TestNetns).path, conf: conf(other) }),
      'ADD c on another network of the bridge',
    );
    const piped = await pipework([BRIDGE, `netns:${(p as TestNetns).name}`, '10.75.0.2/24', '@100']);
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal((await ports()).length, 4);
    const gc = conf({ cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'cgca', ifname: 'eth0' }] });
    ok(await cni({ command: 'GC', conf: gc }), 'GC');
    assert.equal(await (b as TestNetns).link('eth0'), undefined, "b's interface went");
    assert.ok(await (a as TestNetns).link('eth0'), 'a, listed, stays');
    assert.ok(await (c as TestNetns).link('eth0'), 'c, of another network, stays');
    assert.ok(await (p as TestNetns).link('eth1'), "pipework's stays");
    assert.equal((await ports()).length, 3);
    assert.equal(leases().length, 1, "b's lease went, a's stayed");
    for (const [id, g, cf] of [
      ['cgca', a, conf()],
      ['cgcc', c, conf(other)],
    ] as const)
      ok(await cni({ command: 'DEL', containerId: id, netns: (g as TestNetns).path, conf: cf }), `DEL ${id}`);
  } finally {
    await TestNetns.destroyMany([a, b, c, p] as TestNetns[]);
  }
});

/** pipework through the front door and the daemon: an attachment that is not a CNI one. */
function pipework(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(ip, ['netns', 'exec', ovs.netns, join(bin, 'pipework'), ...args], {
      env: { NETPLUMB_SOCKET: daemon.sock, OVS_DB: ovs.remote, PATH: NO_NODE },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('STATUS: success with nothing printed; 50 when OVSDB is down; 51 for a bridge ovs-vswitchd has not made', async () => {
  const status = conf({ cniVersion: '1.1.0' });
  for (const via of ['daemon', 'alone'] as const) {
    const up = await cni({ command: 'STATUS', conf: status, via });
    ok(up, `STATUS ${via}`);
    assert.equal(up.stdout, '');
  }
  await ovs.stopDb();
  try {
    const down = failed(await cni({ command: 'STATUS', conf: status }), 50, 'STATUS with OVSDB down');
    assert.equal(down.details, 'socket_file');
  } finally {
    await ovs.startDb();
  }
  failed(
    await cni({ command: 'STATUS', conf: { ...status, bridge: 'npcninone' } }),
    50,
    'STATUS for a bridge OVSDB lacks',
  );
  // ovs-vswitchd stopped: a bridge written meanwhile has no device.
  await ovs.stopVswitchd();
  try {
    await ovs.vsctl(['--no-wait', 'add-br', 'npcnilate']);
    const late = failed(
      await cni({ command: 'STATUS', conf: { ...status, bridge: 'npcnilate' } }),
      51,
      'STATUS with ovs-vswitchd down',
    );
    assert.equal(late.details, 'bridge');
  } finally {
    await ovs.vsctl(['--no-wait', 'del-br', 'npcnilate']);
    await ovs.startVswitchd();
  }
  failed(await cni({ command: 'STATUS', conf: conf() }), 1, 'STATUS of a 1.0.0 configuration');
});

test('a wrong configuration is error 7 naming its key; an unsupported version 1; an unknown CNI_ARGS key 4 unless IgnoreUnknown', async () => {
  const g = await TestNetns.create('cni');
  try {
    const call = { command: 'ADD', containerId: 'cbad1', netns: g.path };
    const cases: [Conf, number, string][] = [
      [conf({ vlan: 5000 }), 7, 'vlan'],
      [conf({ trunk: [{ id: 10 }, { minID: 30, maxID: 20 }] }), 7, 'trunk[1]'],
      [conf({ trunk: [{ id: 'x' }] }), 7, 'trunk[0].id'],
      [conf({ bridge: 'a bridge' }), 7, 'bridge'],
      [conf({ mtu: 20 }), 7, 'mtu'],
      [conf({ interface_type: 'dpdk' }), 7, 'interface_type'],
      [conf({ socket_file: 'ssl:1.2.3.4:6640' }), 7, 'socket_file'],
      [conf({ runtimeConfig: { mac: 'zz' } }), 7, 'runtimeConfig.mac'],
      [conf({}, { type: '../x' }), 7, 'ipam.type'],
      [conf({ cniVersion: '9.9.9' }), 1, 'cniVersion'],
    ];
    for (const [c, code, field] of cases) {
      const e = failed(await cni({ ...call, conf: c }), code, field);
      assert.equal(e.details, field, JSON.stringify(e));
      assert.match(e.msg as string, new RegExp(field.replace(/[[\].]/g, '\\$&')));
    }
    failed(
      await cni({ ...call, netns: '/run/netns/np-cni-nonexistent', conf: conf() }),
      3,
      'ADD to a namespace that is not there',
    );
    const unknown = failed(await cni({ ...call, conf: conf(), env: { CNI_ARGS: 'FOO=1' } }), 4, 'unknown CNI_ARGS key');
    assert.equal(unknown.details, 'CNI_ARGS');
    assert.deepEqual(await g.linkNames(), ['lo'], 'nothing made by the refused calls');
    assert.deepEqual(leases(), []);
    const mac = '02:00:00:77:00:05';
    const ignored = await cni({ ...call, conf: conf(), env: { CNI_ARGS: `IgnoreUnknown=1;FOO=1;MAC=${mac}` } });
    ok(ignored, 'unknown key under IgnoreUnknown');
    assert.equal((await g.link('eth0'))?.address, mac, 'MAC= of CNI_ARGS');
    ok(await cni({ ...call, command: 'DEL', conf: conf() }), 'DEL');
  } finally {
    await g.destroy();
  }
});

test('a failed ADD leaves nothing: the IPAM plugin failing, and the attach failing after it gave an address', async () => {
  const g = await TestNetns.create('cni');
  try {
    const call = { command: 'ADD', containerId: 'cfail1', netns: g.path };
    const ipamFailed = failed(await cni({ ...call, conf: conf({}, { type: 'failing-ipam' }) }), 42, 'IPAM failing');
    assert.match(ipamFailed.msg as string, /no addresses left/);
    const noBridge = await cni({ ...call, conf: conf({ bridge: 'npcnimissing' }) });
    assert.notEqual(noBridge.code, 0);
    assert.match(String(noBridge.json?.msg), /npcnimissing/);
    assert.equal(noBridge.json?.code, 104, 'not found: 100 + netplumb exit code 4');
    assert.deepEqual(await g.linkNames(), ['lo'], 'no interface in the container');
    await assertNothingLeft('failed ADDs');
  } finally {
    await g.destroy();
  }
});

test('the IPAM plugin runs as the caller: nobody through the daemon, root acting alone', async () => {
  const g = await TestNetns.create('cni');
  const calls = join(uidLog, 'calls');
  try {
    const fake = conf({}, { type: 'uid-ipam' });
    const call = { containerId: 'cuid1', netns: g.path, conf: fake };
    const nobody = ['--reuid=65534', '--regid=65534', '--clear-groups'];
    const added = await cni({ command: 'ADD', ...call, as: nobody });
    ok(added, 'ADD as nobody');
    assert.deepEqual(await v4(g, 'eth0'), ['10.78.0.5/24'], 'the address the fake IPAM gave');
    ok(await cni({ command: 'DEL', ...call, as: nobody }), 'DEL as nobody');
    ok(await cni({ command: 'ADD', ...call, via: 'alone' }), 'ADD as root, alone');
    ok(await cni({ command: 'DEL', ...call, via: 'alone' }), 'DEL as root, alone');
    assert.deepEqual(readFileSync(calls, 'utf8').trim().split('\n'), [
      'ADD 65534 65534',
      'DEL 65534 65534',
      'ADD 0 0',
      'DEL 0 0',
    ]);
    await assertNothingLeft('ADD and DEL');
  } finally {
    rmSync(calls, { force: true });
    await g.destroy();
  }
});

test('a Linux bridge network is served by a daemon on any OVSDB; an OVS network on another OVSDB runs alone; netplumb list sees CNI attachments', async () => {
  const g = await TestNetns.create('cni');
  const linuxBridge = 'npcnibr0';
  await must(['ip', '-n', ovs.netns, 'link', 'add', linuxBridge, 'type', 'bridge']);
  await must(['ip', '-n', ovs.netns, 'link', 'set', linuxBridge, 'up']);
  try {
    const lb = conf({
      attach: 'bridge',
      bridge: linuxBridge,
      vlan: undefined,
      socket_file: 'unix:/nonexistent-np-cni/db.sock',
    });
    const call = { containerId: 'clb1', netns: g.path, conf: lb };
    const added = await cni({ command: 'ADD', ...call });
    ok(added, 'ADD to a Linux bridge, served with no Node.js');
    const host = ((added.json?.interfaces ?? []) as { name: string }[])[0]?.name as string;
    const ports = JSON.parse(await must(['ip', '-json', '-n', ovs.netns, 'link', 'show', 'master', linuxBridge])) as {
      ifname: string;
    }[];
    assert.deepEqual(
      ports.map((p) => p.ifname),
      [host],
      'the host end is a port of the Linux bridge',
    );
    assert.equal((await v4(g, 'eth0')).length, 1);
    const list = await must(['ip', 'netns', 'exec', ovs.netns, join(ROOT, 'bin', 'netplumb'), 'list', '--json'], {
      env: { ...process.env, NETPLUMB_SOCKET: daemon.sock, OVS_DB: ovs.remote },
    });
    assert.match(list, /"guestId":\s*"cni:clb1"/, `netplumb list shows it: ${list}`);
    const show = await must(['ip', 'netns', 'exec', ovs.netns, join(ROOT, 'bin', 'netplumb'), 'show'], {
      env: { ...process.env, NETPLUMB_SOCKET: daemon.sock, OVS_DB: ovs.remote },
    });
    assert.match(show, /cni:clb1 eth0 +10\.77\.0\.\d+\/24/, `netplumb show finds it in its namespace: ${show}`);
    assert.match(show, /no issues/, show);
    // GC of a Linux bridge network: its records (link aliases) name no network, the bridge stands for it.
    const g2 = await TestNetns.create('cni');
    try {
      ok(await cni({ command: 'ADD', containerId: 'clb2', netns: g2.path, conf: lb }), 'ADD a second');
      const gc = { ...lb, cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'clb1', ifname: 'eth0' }] };
      ok(await cni({ command: 'GC', conf: gc }), 'GC');
      assert.equal(await g2.link('eth0'), undefined, 'the unlisted one went');
      assert.ok(await g.link('eth0'), 'the listed one stayed');
      assert.equal(leases().length, 1, 'and only its lease');
    } finally {
      await g2.destroy();
    }
    ok(await cni({ command: 'DEL', ...call }), 'DEL');
    assert.deepEqual(
      JSON.parse(await must(['ip', '-json', '-n', ovs.netns, 'link', 'show', 'master', linuxBridge])),
      [],
      'no port left on the Linux bridge',
    );
    await assertNothingLeft('DEL');
    // Another OVSDB than the daemon's: handed back (with no node on PATH, the front door cannot run it).
    const elsewhere = conf({ socket_file: 'unix:/nonexistent-np-cni/db.sock' });
    const handedBack = await cni({ command: 'ADD', containerId: 'celse1', netns: g.path, conf: elsewhere });
    assert.equal(handedBack.code, 127, `handed back to Node.js: ${handedBack.stderr}`);
    const alone = failed(
      await cni({
        command: 'ADD',
        containerId: 'celse1',
        netns: g.path,
        conf: elsewhere,
        env: { PATH: process.env.PATH },
      }),
      11,
      'ADD acting alone on an OVSDB that is not there',
    );
    assert.match(String(alone.msg), /nonexistent-np-cni/);
    assert.deepEqual(await g.linkNames(), ['lo']);
    await assertNothingLeft('the failed ADD');
  } finally {
    await must(['ip', '-n', ovs.netns, 'link', 'del', linuxBridge]);
    await g.destroy();
  }
});

test('a macvlan network (attach macvlan of a master): the container interface only, CHECK, DEL', async () => {
  const g = await TestNetns.create('cni');
  const master = 'npcnidum0';
  // A veth stands for the NIC (there is no dummy module here).
  await must(['ip', '-n', ovs.netns, 'link', 'add', master, 'type', 'veth', 'peer', 'name', 'npcnidum1']);
  await must(['ip', '-n', ovs.netns, 'link', 'set', master, 'up']);
  try {
    const mv = conf({ attach: 'macvlan', master, macvlan_mode: 'bridge', bridge: undefined, vlan: undefined });
    const call = { containerId: 'cmv1', netns: g.path, conf: mv };
    const added = await cni({ command: 'ADD', ...call });
    ok(added, 'ADD of a macvlan');
    const r = added.json as {
      interfaces: { name: string; mac: string; sandbox?: string }[];
      ips: { address: string; interface: number }[];
    };
    assert.equal(r.interfaces.length, 1, 'no host end');
    assert.equal(r.interfaces[0]?.sandbox, g.path);
    const link = await g.link('eth0');
    assert.equal(link?.linkinfo?.info_kind, 'macvlan');
    assert.equal(r.interfaces[0]?.mac, link?.address);
    assert.deepEqual(await v4(g, 'eth0'), [r.ips[0]?.address]);
    assert.equal(r.ips[0]?.interface, 0);
    ok(await cni({ command: 'CHECK', ...call, conf: { ...mv, prevResult: added.json } }), 'CHECK');
    ok(await cni({ command: 'DEL', ...call }), 'DEL');
    assert.equal(await g.link('eth0'), undefined);
    await assertNothingLeft('DEL of a macvlan');
  } finally {
    await must(['ip', '-n', ovs.netns, 'link', 'del', master]);
    await g.destroy();
  }
});

test('dual stack: both addresses and both default routes in the container, CHECK, DEL releases both', async () => {
  const g = await TestNetns.create('cni');
  try {
    const dual = conf(
      {},
      {
        ranges: [[{ subnet: `${SUBNET}.0/24` }], [{ subnet: 'fd77::/64' }]],
        routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }, { dst: '192.168.77.0/24', gw: `${SUBNET}.254` }],
      },
    );
    const call = { containerId: 'cdual1', netns: g.path, conf: dual };
    const added = await cni({ command: 'ADD', ...call });
    ok(added, 'ADD');
    const ips = (added.json?.ips ?? []) as { address: string; interface: number }[];
    assert.equal(ips.length, 2);
    const [l] = await g.ip<IpAddr>('addr', 'show', 'dev', 'eth0');
    const global = (l?.addr_info ?? [])
      .filter((a) => a.family === 'inet' || !a.local.startsWith('fe80'))
      .map((a) => `${a.local}/${a.prefixlen}`);
    assert.deepEqual(global.sort(), ips.map((i) => i.address).sort());
    const [v6default] = await g.ip<{ gateway?: string }>('-6', 'route', 'show', 'default');
    assert.equal(v6default?.gateway, 'fd77::1');
    const [other] = await g.ip<{ gateway?: string }>('route', 'show', '192.168.77.0/24');
    assert.equal(other?.gateway, `${SUBNET}.254`);
    ok(await cni({ command: 'CHECK', ...call, conf: { ...dual, prevResult: added.json } }), 'CHECK');
    ok(await cni({ command: 'DEL', ...call }), 'DEL');
    await assertNothingLeft('DEL');
    assert.deepEqual(
      readdirSync(join(dataDir, NETWORK)).filter((f) => f.startsWith('fd77')),
      [],
      'the IPv6 lease went too',
    );
  } finally {
    await g.destroy();
  }
});

test('a 0.4.0 configuration: a 0.4.0 result (each address with its version)', async () => {
  const g = await TestNetns.create('cni');
  try {
    const call = { containerId: 'cold1', netns: g.path, conf: conf({ cniVersion: '0.4.0' }) };
    const added = await cni({ command: 'ADD', ...call });
    ok(added, 'ADD');
    assert.equal(added.json?.cniVersion, '0.4.0');
    const [ip4] = (added.json?.ips ?? []) as { version?: string; address: string }[];
    assert.equal(ip4?.version, '4');
    assert.deepEqual(await v4(g, 'eth0'), [ip4?.address]);
    ok(await cni({ command: 'DEL', ...call }), 'DEL');
    await assertNothingLeft('DEL');
  } finally {
    await g.destroy();
  }
});

test("a namespace mounted in the caller's own mount namespace: the daemon hands the call back, the plugin acts alone", async () => {
  // The caller (as a runtime in a mount namespace of its own would) mounts a new network
  // namespace on a file the daemon sees as a plain file, and calls the plugin.
  const dir = mkdtempSync('/tmp/np-cni-mnt-');
  const file = join(dir, 'netns');
  const script = [
    'unshare --net sleep 120 & P=$!',
    'while [ "$(readlink /proc/$P/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do sleep 0.01; done',
    `touch ${file} && mount --bind /proc/$P/ns/net ${file}`,
    `"$@" < ${join(dir, 'conf')}; S=$?`,
    `umount ${file}; kill $P; wait $P; exit $S`,
  ].join('\n');
  writeFileSync(join(dir, 'conf'), JSON.stringify(conf()));
  const inOwnMountNs = (front: string, path: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(
        ip,
        ['netns', 'exec', ovs.netns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', front],
        {
          env: {
            CNI_COMMAND: 'ADD',
            CNI_CONTAINERID: 'cmnt1',
            CNI_NETNS: file,
            CNI_IFNAME: 'eth0',
            CNI_PATH: cniPath,
            NETPLUMB_SOCKET: daemon.sock,
            PATH: path,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  try {
    // (Before the hand-back, the daemon failed it: "… is not a network namespace".)
    const added = await inOwnMountNs(join(bin, 'netplumb-cni'), process.env.PATH ?? '');
    assert.equal(added.code, 0, `${added.stdout} ${added.stderr}`);
    const r = JSON.parse(added.stdout) as { interfaces: { name: string; sandbox?: string }[] };
    assert.equal(r.interfaces[1]?.sandbox, file);
    assert.deepEqual(await ports(), [r.interfaces[0]?.name], 'attached, acting alone');
    // Its namespace died with the script: DEL finds the attachment by its record.
    ok(await cni({ command: 'DEL', containerId: 'cmnt1', netns: file, conf: conf() }), 'DEL');
    await assertNothingLeft('DEL');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
