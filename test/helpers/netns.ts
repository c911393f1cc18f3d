/**
 * Fresh network namespaces for tests, and the independent oracle: `ip -json` run inside them.
 * Tests never touch the root namespace.
 */
import { randomBytes } from 'node:crypto';
import { after } from './privileged.js';
import { must, run } from '../../sandbox/exec.js';

const live = new Set<TestNetns>();

/** python3 -c: for each namespace path argument, enter it and print SO_NETNS_COOKIE of a socket made there. */
const READ_COOKIES_PY = `
import ctypes, os, socket, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
for path in sys.argv[1:]:
    fd = os.open(path, os.O_RDONLY)
    if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
        raise OSError(ctypes.get_errno(), "setns " + path)
    os.close(fd)
    s = socket.socket()
    print(struct.unpack("Q", s.getsockopt(socket.SOL_SOCKET, 71, 8))[0])
    s.close()
`;

export class TestNetns {
  private constructor(readonly name: string) {}

  /** Equivalent to: ip netns add np-<prefix>-<random> ; ip -n NAME link set lo up */
  static async create(prefix = 't'): Promise<TestNetns> {
    const name = `np-${prefix}-${randomBytes(4).toString('hex')}`;
    await must(['ip', 'netns', 'add', name]);
    const ns = new TestNetns(name);
    live.add(ns);
    await must(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /**
   * `n` namespaces in one `ip -batch` (one process instead of 2n: ~3 ms a namespace instead
   * of ~150 on a loaded machine); their `lo` stays down. Equivalent to: ip -batch - <<< "netns add NAME…"
   */
  static async createMany(n: number, prefix = 't'): Promise<TestNetns[]> {
    const made = Array.from({ length: n }, () => new TestNetns(`np-${prefix}-${randomBytes(4).toString('hex')}`));
    for (const ns of made) live.add(ns);
    await must(['ip', '-batch', '-'], { input: made.map((ns) => `netns add ${ns.name}\n`).join('') });
    return made;
  }

  /** Delete many in one `ip -batch`. Equivalent to: ip -batch - <<< "netns del NAME…" */
  static async destroyMany(all: readonly TestNetns[]): Promise<void> {
    const gone = all.filter((ns) => live.delete(ns));
    if (gone.length > 0)
      await must(['ip', '-batch', '-'], { input: gone.map((ns) => `netns del ${ns.name}\n`).join('') });
  }

  get path(): string {
    return `/run/netns/${this.name}`;
  }

  /** Run a command inside the namespace (ip netns exec NAME …); must succeed. */
  exec(argv: string[], timeoutMs?: number): Promise<string> {
    return must(['ip', 'netns', 'exec', this.name, ...argv], timeoutMs === undefined ? {} : { timeoutMs });
  }

  /**
   * The namespace's SO_NETNS_COOKIE (socket option 71), read by python inside it: the
   * oracle for the guest id netplumb records (`netns:cookie:N`), computed without netplumb.
   */
  async cookie(): Promise<string> {
    const [cookie] = await TestNetns.cookies([this]);
    if (cookie === undefined) throw new Error(`no cookie read for ${this.name}`);
    return cookie;
  }

  /**
   * `cookie()` of many namespaces at once: one python process enters each in turn
   * (setns(2) through ctypes), so that an oracle over fifty guests does not start fifty
   * interpreters side by side on a loaded machine.
   */
  static async cookies(nss: readonly TestNetns[]): Promise<string[]> {
    if (nss.length === 0) return [];
    const out = await must(['python3', '-c', READ_COOKIES_PY, ...nss.map((n) => n.path)]);
    const cookies = out.trim().split('\n');
    if (cookies.length !== nss.length) throw new Error(`expected ${nss.length} cookies, read: ${out}`);
    return cookies;
  }

  /** Run a command inside the namespace and return its exit code. */
  async status(argv: string[], timeoutMs?: number): Promise<number> {
    return (await run(['ip', 'netns', 'exec', this.name, ...argv], timeoutMs === undefined ? {} : { timeoutMs })).code;
  }

  /** The oracle: `ip -json -d -n NAME <args>` parsed. */
  async ip<T = IpLink>(...args: string[]): Promise<T[]> {
    const out = await must(['ip', '-json', '-d', '-n', this.name, ...args]);
    return out.trim() === '' ? [] : (JSON.parse(out) as T[]);
  }

  /** `ip -json -d link show dev X`, or undefined when absent. */
  async link(name: string): Promise<IpLink | undefined> {
    const r = await run(['ip', '-json', '-d', '-n', this.name, 'link', 'show', 'dev', name]);
    if (r.code !== 0) return undefined;
    return (JSON.parse(r.stdout) as IpLink[])[0];
  }

  async linkNames(): Promise<string[]> {
    return (await this.ip('link', 'show')).map((l) => l.ifname);
  }

  /** `ping -c1 -W1 <addr>` from inside the namespace: did a reply come back? */
  async ping(addr: string, count = 1): Promise<boolean> {
    return (await this.status(['ping', '-n', '-q', '-c', String(count), '-W', '1', addr], 10_000)) === 0;
  }

  /** Equivalent to: ip netns del NAME */
  async destroy(): Promise<void> {
    if (!live.delete(this)) return;
    await must(['ip', 'netns', 'del', this.name]);
  }
}

/** Destroy every namespace a test file created and did not destroy itself. */
export async function destroyAllTestNetns(): Promise<void> {
  for (const ns of [...live]) await ns.destroy();
}

after(destroyAllTestNetns);

export interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate: string;
  link_type: string;
  address?: string;
  broadcast?: string;
  group?: string;
  master?: string;
  link?: string;
  link_index?: number;
  link_netnsid?: number;
  promiscuity?: number;
  ifalias?: string;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown>; info_slave_kind?: string };
  addr_info?: IpAddrInfo[];
}

export interface IpAddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  broadcast?: string;
  scope?: string;
  nodad?: boolean;
}

export interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  flags: string[];
  table?: string;
  metric?: number;
  prefsrc?: string;
}
