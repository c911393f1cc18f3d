/**
 * What the CNI tests and the CNI benchmark share: a directory of CNI network configurations
 * written the way ovs-cni's users write them (only `type` says which plugin runs), a plugin
 * directory where `netplumb-cni` is the native front door, host-local's lease files as an
 * oracle, `netplumb serve` on a private socket in an emulated host's namespace, and one
 * plugin call exec'd as a runtime execs it:
 *
 *   CNI_COMMAND=ADD CNI_CONTAINERID=ID CNI_NETNS=/run/netns/G CNI_IFNAME=eth0 CNI_PATH=DIRS \
 *     nsenter --net=/run/netns/HOST DIR/netplumb-cni < NET.conflist's plugin
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServedDaemon, serveInNetns } from './daemon.js';
import { must, run } from '../../sandbox/exec.js';

const ROOT = join(__dirname, '..', '..', '..');
/** The native front door: installed as `netplumb-cni`, it hands the call to `netplumb serve`. */
export const FRONT_DOOR = join(ROOT, 'build', 'Release', 'netplumb-front');
/** containernetworking-plugins (Debian): the reference `bridge` and the `host-local` IPAM. */
export const REFERENCE_PLUGINS = '/usr/lib/cni';
export const NETPLUMB_CNI = 'netplumb-cni';

/**
 * Where libcni (podman 4.3's, ctr's) caches each attachment's result, `NET-ID-IFNAME`: one
 * global dir, outside any runtime's storage. A DEL that succeeds removes the file.
 */
export const CNI_RESULTS_CACHE = '/var/lib/cni/results';

/** The cached results of these networks still in CNI_RESULTS_CACHE. */
export function cachedCniResults(networks: { name: string }[]): string[] {
  let all: string[];
  try {
    all = readdirSync(CNI_RESULTS_CACHE);
  } catch {
    return [];
  }
  return all.filter((f) => networks.some((n) => f.startsWith(`${n.name}-`))).sort();
}

/** The emulated host a bed runs on (sandbox/ovs.ts's OvsInstance fits). */
export interface CniHost {
  netns: string;
  /** The OVSDB remote, `unix:…/db.sock`: ovs-cni's `socket_file`. */
  remote: string;
}

export interface NetworkSpec {
  name: string;
  /** The plugin: `netplumb-cni`, or `bridge` (the reference, on a Linux bridge named `bridge`). */
  type: string;
  bridge: string;
  /** Access VLAN (netplumb-cni only: the reference needs bridge VLAN filtering, absent here). */
  vlan?: number;
  subnet: string;
  /** host-local's range inside `subnet` (networks sharing a subnet get disjoint ones). */
  range?: [string, string];
  cniVersion?: string;
}

/** The files of one bed, in a temp dir: conf/, plugins/ (netplumb-cni, host-local), leases/, run/ (the daemon's socket). */
export class CniBed {
  readonly dir: string;
  readonly confDir: string;
  readonly pluginDir: string;
  readonly leaseDir: string;
  readonly host: CniHost;
  readonly socket: string;

  private constructor(host: CniHost, dir: string) {
    this.host = host;
    this.dir = dir;
    this.confDir = join(dir, 'conf');
    this.pluginDir = join(dir, 'plugins');
    this.leaseDir = join(dir, 'leases');
    this.socket = join(dir, 'run', 'netplumb.sock');
  }

  static create(host: CniHost): CniBed {
    const bed = new CniBed(host, mkdtempSync(join(tmpdir(), 'np-cni-')));
    chmodSync(bed.dir, 0o755);
    for (const d of [bed.confDir, bed.pluginDir, bed.leaseDir]) mkdirSync(d);
    mkdirSync(join(bed.dir, 'run'), { mode: 0o750 });
    symlinkSync(FRONT_DOOR, join(bed.pluginDir, NETPLUMB_CNI));
    // host-local beside it: a runtime that searches one plugin dir (ctr: /opt/cni/bin) finds the IPAM too.
    symlinkSync(join(REFERENCE_PLUGINS, 'host-local'), join(bed.pluginDir, 'host-local'));
    return bed;
  }

  /** CNI_PATH: netplumb-cni first, then the reference plugins (host-local). */
  get cniPath(): string {
    return `${this.pluginDir}:${REFERENCE_PLUGINS}`;
  }

  /** The plugin's configuration as ovs-cni documents it, with host-local leases kept in this bed. */
  pluginConf(net: NetworkSpec): Record<string, unknown> {
    const range = net.range === undefined ? {} : { rangeStart: net.range[0], rangeEnd: net.range[1] };
    const ipam = { type: 'host-local', dataDir: this.leaseDir, ranges: [[{ subnet: net.subnet, ...range }]] };
    if (net.type !== NETPLUMB_CNI) return { type: net.type, bridge: net.bridge, ipam };
    return {
      type: net.type,
      bridge: net.bridge,
      ...(net.vlan === undefined ? {} : { vlan: net.vlan }),
      socket_file: this.host.remote,
      ipam,
    };
  }

  /** The network configuration list (`cniVersion` 1.0.0: what podman 4.3's libcni takes). */
  conflist(net: NetworkSpec): Record<string, unknown> {
    return { cniVersion: net.cniVersion ?? '1.0.0', name: net.name, plugins: [this.pluginConf(net)] };
  }

  /** Write `<confDir or dir>/<file or NAME.conflist>`; returns its path. */
  writeConflist(net: NetworkSpec, dir = this.confDir, file = `${net.name}.conflist`): string {
    const path = join(dir, file);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, `${JSON.stringify(this.conflist(net), null, 2)}\n`);
    return path;
  }

  /** The addresses host-local holds for `network` (one file per lease, named by the address). */
  leases(network: string): string[] {
    try {
      return readdirSync(join(this.leaseDir, network))
        .filter((f) => /^[0-9a-f.:]+$/.test(f) && f.includes('.'))
        .sort();
    } catch {
      return [];
    }
  }

  /** `netplumb serve` on this bed's socket, in the host's namespace, on its OVSDB. */
  startServe(): Promise<ServeDaemon> {
    return startServe(this.host, this.socket);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A `netplumb serve` a test or benchmark started (logging at debug level). */
export interface ServeDaemon extends ServedDaemon {
  /** How many of its log lines had this `msg` (and, if given, this `program`): `front-door call`, … */
  logged(msg: string, program?: string): number;
}

/** `ip netns exec HOST netplumb serve --socket SOCK --ovs-db REMOTE --foreground`, once it answers. */
export async function startServe(host: CniHost, sock: string): Promise<ServeDaemon> {
  const d = await serveInNetns(host.netns, host.remote, sock);
  return {
    ...d,
    logged: (msg, program) =>
      d.log().filter((l) => l.msg === msg && (program === undefined || l.program === program)).length,
  };
}

export interface CniCall {
  command: 'ADD' | 'DEL' | 'CHECK' | 'VERSION';
  containerId: string;
  /** CNI_NETNS (a path). */
  netns: string;
  ifname?: string;
  /** The plugin's network configuration (a conflist's plugin plus `name` and `cniVersion`). */
  conf: Record<string, unknown>;
}

/** The network configuration a runtime hands the list's one plugin. */
export function pluginInput(conflist: Record<string, unknown>): Record<string, unknown> {
  const [plugin] = conflist.plugins as Record<string, unknown>[];
  return { cniVersion: conflist.cniVersion, name: conflist.name, ...plugin };
}

/** The argv and environment of one plugin call, exec'd in the host's namespace. */
export function cniInvocation(
  bed: CniBed,
  plugin: string,
  call: CniCall,
  env: Record<string, string> = {},
): { argv: string[]; env: NodeJS.ProcessEnv; stdin: string } {
  return {
    argv: ['nsenter', `--net=/run/netns/${bed.host.netns}`, plugin],
    env: {
      PATH: process.env.PATH,
      CNI_COMMAND: call.command,
      CNI_CONTAINERID: call.containerId,
      CNI_NETNS: call.netns,
      CNI_IFNAME: call.ifname ?? 'eth0',
      CNI_PATH: bed.cniPath,
      NETPLUMB_SOCKET: bed.socket,
      ...env,
    },
    stdin: JSON.stringify(call.conf),
  };
}

/** Run one plugin call; resolves with its exit code, stdout and stderr. */
export function execCni(
  bed: CniBed,
  plugin: string,
  call: CniCall,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const inv = cniInvocation(bed, plugin, call, env);
  return new Promise((resolve, reject) => {
    const child = spawn(inv.argv[0] as string, inv.argv.slice(1), { env: inv.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined);
    child.stdin.end(inv.stdin);
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Links of an emulated host that are no container's: the userspace datapath's own. */
export const HOST_OWN_LINKS = ['lo', 'ovs-netdev', 'ovs0'];

/** An emulated host with its Open vSwitch (sandbox/ovs.ts's OvsInstance fits). */
export interface OvsHost extends CniHost {
  vsctl(args: string[]): Promise<string>;
}

/** Oracle: the ports on ovs0, as ovs-vsctl lists them. */
export async function ovsPorts(host: OvsHost): Promise<string[]> {
  return (await host.vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean).sort();
}

/** Oracle: the host's links other than the datapath's own (the containers' host ends), as `ip -json` shows them. */
export async function hostLinkNames(host: CniHost): Promise<string[]> {
  const links = JSON.parse(await must(['ip', '-n', host.netns, '-json', 'link', 'show'])) as { ifname: string }[];
  return links
    .map((l) => l.ifname)
    .filter((n) => !HOST_OWN_LINKS.includes(n))
    .sort();
}

/** A container's eth0 as the oracles see it. */
export interface Seen {
  /** eth0's IPv4 address and prefix, as `ip` in the container shows it. */
  address: string;
  mac: string;
  /** The host end of eth0's veth, by the peer's ifindex in the host's namespace. */
  hostEnd: string;
  /** ovs-vsctl's tag of the port of that name. */
  tag: number | undefined;
}

/** eth0's IPv4 address without the prefix. */
export const ipOf = (s: Seen): string => s.address.split('/')[0] as string;

/** Oracle: eth0 of the container whose process is `pid`, and its host end, through `ip -json` in both namespaces and ovs-vsctl. */
export async function seenInside(host: OvsHost, pid: number): Promise<Seen> {
  if (!(pid > 0)) throw new Error(`no running container process (pid ${pid})`);
  const [eth0] = JSON.parse(
    await must(['nsenter', `--net=/proc/${pid}/ns/net`, 'ip', '-json', 'addr', 'show', 'eth0']),
  ) as { address: string; link_index?: number; addr_info: { family: string; local: string; prefixlen: number }[] }[];
  if (eth0?.link_index === undefined) throw new Error(`eth0 of pid ${pid} is not a veth with a peer`);
  const inet = eth0.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
  if (inet.length !== 1) throw new Error(`eth0 of pid ${pid} has not one IPv4 address but: ${inet.join(' ')}`);
  const links = JSON.parse(await must(['ip', '-n', host.netns, '-json', 'link', 'show'])) as {
    ifindex: number;
    ifname: string;
  }[];
  const hostEnd = links.find((l) => l.ifindex === eth0.link_index)?.ifname;
  if (hostEnd === undefined) throw new Error(`eth0's peer (ifindex ${eth0.link_index}) is not in ${host.netns}`);
  const tag = (await host.vsctl(['get', 'Port', hostEnd, 'tag'])).trim();
  return { address: inet[0] as string, mac: eth0.address, hostEnd, tag: tag === '[]' ? undefined : Number(tag) };
}

/** ping from inside the namespace of `pid` (the host's ping there): true once one of `tries` gets a reply. */
export async function pingsFrom(pid: number, to: string, tries = 1): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    const r = await run(['nsenter', `--net=/proc/${pid}/ns/net`, 'ping', '-c', '1', '-W', '1', to]);
    if (r.code === 0) return true;
  }
  return false;
}

/** `fn` over `items`, at most `c` at a time; the results in the items' order. */
export async function inParallel<T, R>(items: T[], c: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(c, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}
