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
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { daemonAnswers } from '../helpers/daemon.js';
import { useLeakCheck } from '../helpers/leak.js';
import { TestNetns } from '../helpers/netns.js';
import { must } from '../../sandbox/exec.js';
import { startOvs, type OvsInstance } from '../../sandbox/ovs.js';
import { waitForExit } from '../../sandbox/process.js';

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
  symlinkSync(HOST_LOCAL, join(cniPath, 'host-local'));
  ip = (await must(['sh', '-c', 'command -v ip'])).trim();
  daemon = await startDaemon();
});
after(async () => {
  await daemon?.stop();
  await ovs?.stop();
  for (const d of [bin, cniPath, dataDir]) if (d) rmSync(d, { recursive: true, force: true });
});
useLeakCheck();
// A failed test leaves nothing for the next: every port, host veth and lease goes (after the leak oracle has looked).
afterEach(async () => {
  for (const p of await ports()) await ovs.vsctl(['--if-exists', 'del-port', p]);
  for (const l of await hostLinks()) await must(['ip', '-n', ovs.netns, 'link', 'del', l]);
  rmSync(join(dataDir, NETWORK), { recursive: true, force: true });
});

async function startDaemon(): Promise<Daemon> {
  const top = mkdtempSync('/tmp/np-cni-d-');
  chmodSync(top, 0o755);
  const sock = join(top, 'run', 'netplumb.sock');
  const argv = [join(ROOT, 'bin', 'netplumb'), 'serve', '--socket', sock, '--ovs-db', ovs.remote, '--foreground'];
  const child = spawn(ip, ['netns', 'exec', ovs.netns, process.execPath, ...argv], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NETPLUMB_LOG: 'warn' },
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
    await waitForExit(child.pid as number);
    rmSync(top, { recursive: true, force: true });
  };
  if (await daemonAnswers(sock, child)) return { sock, stop };
  await stop('SIGKILL');
  throw new Error(`the daemon did not come up: ${stderr}`);
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
    const child = spawn(ip, ['netns', 'exec', ovs.netns, join(bin, c.prog ?? 'netplumb-cni')], {
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

test('DEL after the namespace is gone: the port, the host veth and the lease go', async () => {
  const g = await TestNetns.create('cni');
  const call = { containerId: 'cgone1', netns: g.path, conf: conf() };
  await assertAdded(await cni({ command: 'ADD', ...call }), g, 'cgone1');
  await g.destroy();
  ok(await cni({ command: 'DEL', ...call }), 'DEL with the namespace gone');
  await assertNothingLeft('DEL after the namespace');
  ok(await cni({ command: 'DEL', ...call, netns: '' }), 'DEL with no CNI_NETNS');
});
