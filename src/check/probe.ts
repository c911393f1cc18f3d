/**
 * ICMP echo probes from inside guest namespaces, natively. Per source interface, made in
 * its guest's namespace: a packet socket that sends each probe as a whole IP packet
 * straight to the destination's MAC (packet.ts: no route lookup, no neighbour entry in the
 * source), and a raw ICMP (ICMPv6) socket bound to the interface (SO_BINDTODEVICE) that
 * receives the replies. Replies are matched by the run's identifier and token, the
 * destination by the sequence number (and, for IPv4, the reply's source address).
 *
 * A destination that answers resolves the source (one neighbour entry on each side). The
 * kernel's neighbour table is one for all namespaces (gc_thresh3, 1024 by default), so the
 * probes expected to be answered are grouped (a pair of guests, both directions) and at
 * most `window` groups are under way at once (fewer after groups went unanswered): when a
 * group is done the caller removes its entries (onGroupDone), and the next group starts. Probes that are not expected to be
 * answered leave no state and all go at once. Each probe is sent again every `intervalMs`
 * until answered or `timeoutMs` after its first send. Sockets are closed before probeAll
 * returns. Equivalent to: ip netns exec G ping -I IF -c N -W T DST (for each pair)
 */
import { randomBytes } from 'node:crypto';
import { endianness } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fromSysError, isSysError } from '../errors.js';
import { eachLimited } from '../limit.js';
import { errnoName } from '../netlink/errno.js';
import { native, type NativePoller } from '../native.js';
import type { Netns } from '../netns/index.js';
import { makeSockets } from '../netns/sockets.js';
import { macBytes, type IpPrefix } from '../validate.js';
import { decodeEcho, encodeEchoRequest, TOKEN_BYTES } from './icmp.js';
import { ETH_P_ARP, ETH_P_IP, ETH_P_IPV6 } from '../plumb/gratuitous.js';
import { arpRequest, ipv4Packet, ipv6Packet } from './packet.js';

const AF_INET = 2;
const AF_INET6 = 10;
const AF_PACKET = 17;
const SOCK_DGRAM = 2;
const SOCK_RAW = 3;
const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;
const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const SO_RCVBUFFORCE = 33;
const SOL_RAW = 255;
const ICMP_FILTER = 1;
const ICMP6_FILTER = 1;
/** Replies of a burst (every peer at once) must fit: 4 MiB of receive buffer per raw socket. */
const RCVBUF_BYTES = 4 << 20;

/** A u32 array in the host's byte order, as setsockopt takes it. */
function hostU32s(words: readonly number[]): Buffer {
  const b = Buffer.alloc(4 * words.length);
  words.forEach((w, i) => {
    if (endianness() === 'LE') b.writeUInt32LE(w >>> 0, 4 * i);
    else b.writeUInt32BE(w >>> 0, 4 * i);
  });
  return b;
}

/**
 * The socket options of a probe's raw socket: bound to the interface, a large receive buffer,
 * and a filter that lets echo replies through only (the echo requests of other guests'
 * probes would otherwise fill it). Equivalent to: setsockopt SO_BINDTODEVICE, SO_RCVBUFFORCE, ICMP_FILTER / ICMP6_FILTER
 */
function rawSocketOptions(family: 4 | 6, ifname: string): [level: number, name: number, value: Buffer][] {
  // ICMP_FILTER: a bit set blocks that type (0: echo reply). ICMP6_FILTER: 256 bits, the same (129: echo reply).
  const filter =
    family === 4
      ? ([SOL_RAW, ICMP_FILTER, hostU32s([~(1 << 0)])] as const)
      : ([IPPROTO_ICMPV6, ICMP6_FILTER, hostU32s([-1, -1, -1, -1, ~(1 << (129 & 31)), -1, -1, -1])] as const);
  return [
    [SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${ifname}\0`)],
    [SOL_SOCKET, SO_RCVBUFFORCE, hostU32s([RCVBUF_BYTES])],
    [filter[0], filter[1], filter[2]],
  ];
}
/**
 * Probes not expected to be answered sent per tick (≈ 5 ms), for all sources together: each
 * is flooded by the bridge to every port of the source's VLAN (its destination MAC is not
 * known there), so a burst of thousands would swamp the bridge and drown the real replies.
 */
const UNGROUPED_PER_TICK = 400;

type Timing = Required<Pick<ProbeOptions, 'timeoutMs' | 'intervalMs'>>;

/** The fewest groups under way once the window has shrunk. */
const MIN_WINDOW = 8;

/** Send errors worth another try at the next interval; any other ends the probe. */
const TRANSIENT_SEND_ERRORS = new Set(['EAGAIN', 'ENOBUFS', 'EINTR']);

export interface ProbeTarget {
  key: number;
  address: IpPrefix;
  /** The destination interface's MAC. */
  mac: string;
  /** Its group (a probe expected to be answered: the pair of guests); undefined: sent from the start. */
  group?: number;
}

export interface ProbeSource {
  /** The guest's namespace (held by the caller until probeAll returns). */
  netns: Netns;
  /** The guest-side interface to send from and its index in the guest. */
  ifname: string;
  ifindex: number;
  /** The interface's own addresses: the probes' source (one per family). */
  addresses: IpPrefix[];
  /** The interface's MAC: the sender of the ARP request sent ahead of an IPv4 probe expected to be answered. */
  mac?: string;
  targets: ProbeTarget[];
}

export interface ProbeOutcome {
  reached: boolean;
  rttMs?: number;
  error?: string;
}

export interface ProbeOptions {
  /** How long a probe waits for its reply after its first send. */
  timeoutMs: number;
  /** Resend period for unanswered probes (default 1 s, as ARP retries). */
  intervalMs?: number;
  /** Sources opened at once (each is a trip to the guest's namespace; default 16). */
  concurrency?: number;
  /** Groups under way at once (default 64). */
  window?: number;
  /** Called when every probe of a group is answered or timed out; its slot is free once this settles. */
  onGroupDone?: (group: number) => Promise<void>;
}

interface Target extends ProbeTarget {
  seq: number;
  sends: number;
  firstSent?: number;
  lastSent?: number;
  done: boolean;
}

/** One source interface: its sockets and its probes. */
class Prober {
  readonly targets: Target[];
  readonly #pollers: NativePoller[] = [];
  #packetFd = -1;
  sent = 0;

  constructor(
    readonly source: ProbeSource,
    readonly outcomes: Map<number, ProbeOutcome>,
    readonly id: number,
    readonly token: Buffer,
  ) {
    this.targets = source.targets.map((t, seq) => ({ ...t, seq, sends: 0, done: false }));
  }

  /** Equivalent to: socket(AF_PACKET, SOCK_DGRAM, 0) and socket(AF, SOCK_RAW, ICMP) bound to IF, in the namespace */
  async open(): Promise<void> {
    const families = ([4, 6] as const).filter((f) => this.targets.some((t) => t.address.family === f));
    const specs = families.flatMap((f) =>
      f === 4 ? [AF_INET, SOCK_RAW, IPPROTO_ICMP] : [AF_INET6, SOCK_RAW, IPPROTO_ICMPV6],
    );
    const made = await makeSockets(this.source.netns, [...specs, AF_PACKET, SOCK_DGRAM, 0]);
    this.#packetFd = made.at(-1)?.fd ?? -1;
    const raws = made.slice(0, families.length);
    try {
      raws.forEach((raw, i) => {
        const family = families[i] as 4 | 6;
        for (const [level, name, value] of rawSocketOptions(family, this.source.ifname)) {
          const err = native().setSocketOption(raw.fd, level, name, value);
          if (isSysError(err))
            throw fromSysError(err, `setting up a probe socket on ${this.source.ifname} in ${this.source.netns.label}`);
        }
        this.#pollers.push(
          new (native().Poller)(
            raw.fd,
            (datagrams) => {
              for (const d of datagrams) this.#receive(family, d);
            },
            () => undefined,
          ),
        );
      });
    } catch (e) {
      for (const raw of raws.slice(this.#pollers.length)) void native().closeAsync(raw.fd);
      throw e;
    }
  }

  #receive(family: 4 | 6, datagram: Buffer): void {
    const echo = decodeEcho(family, datagram);
    if (echo === undefined || !echo.reply || echo.id !== this.id || !echo.token.equals(this.token)) return;
    const t = this.targets[echo.seq];
    if (t === undefined || t.done || t.address.family !== family) return;
    // IPv4 raw sockets see the IP header: the reply must come from the address probed.
    if (family === 4 && !datagram.subarray(12, 16).equals(t.address.bytes)) return;
    t.done = true;
    this.outcomes.set(t.key, { reached: true, rttMs: Math.round((performance.now() - (t.lastSent ?? 0)) * 10) / 10 });
  }

  #packet(t: Target): Buffer | undefined {
    const src = this.source.addresses.find((a) => a.family === t.address.family);
    if (src === undefined) return undefined;
    const icmp = encodeEchoRequest(t.address.family, this.id, t.seq, this.token);
    return t.address.family === 4
      ? ipv4Packet(src.bytes, t.address.bytes, icmp, this.id ^ t.seq)
      : ipv6Packet(src.bytes, t.address.bytes, icmp);
  }

  #end(t: Target, outcome: ProbeOutcome): void {
    t.done = true;
    this.outcomes.set(t.key, outcome);
  }

  /** Send the due probes of the groups under way (and those outside groups); time out the expired ones. */
  tick(now: number, active: ReadonlySet<number>, opts: Timing, budget: { ungrouped: number }): void {
    for (const t of this.targets) {
      if (t.done || (t.group !== undefined && !active.has(t.group))) continue;
      if (t.firstSent !== undefined && now - t.firstSent >= opts.timeoutMs) {
        this.#end(t, { reached: false });
        continue;
      }
      if (t.group !== undefined) {
        if (t.lastSent !== undefined && now - t.lastSent < opts.intervalMs) continue;
      } else {
        // Not expected to answer: sent twice (at once, and half-way), paced.
        if (t.lastSent !== undefined && (t.sends >= 2 || now - t.lastSent < opts.timeoutMs / 2)) continue;
        if (budget.ungrouped <= 0) continue;
        budget.ungrouped--;
      }
      const packet = this.#packet(t);
      if (packet === undefined || this.#packetFd < 0) {
        this.#end(t, { reached: false, error: 'no source address of that family' });
        continue;
      }
      const dst = macBytes(t.mac);
      const src = this.source.addresses.find((a) => a.family === 4);
      if (t.group !== undefined && t.address.family === 4 && this.source.mac !== undefined && src !== undefined)
        native().packetSend(
          this.#packetFd,
          this.source.ifindex,
          ETH_P_ARP,
          dst,
          arpRequest(macBytes(this.source.mac), src.bytes, t.address.bytes),
        );
      const err = native().packetSend(
        this.#packetFd,
        this.source.ifindex,
        t.address.family === 4 ? ETH_P_IP : ETH_P_IPV6,
        dst,
        packet,
      );
      t.firstSent ??= now;
      t.lastSent = now;
      t.sends++;
      if (err === null) this.sent++;
      else if (!TRANSIENT_SEND_ERRORS.has(errnoName(err.errno)))
        this.#end(t, { reached: false, error: `sendto: ${errnoName(err.errno)}` });
    }
  }

  failAll(error: string): void {
    for (const t of this.targets) this.#end(t, { reached: false, error });
  }

  close(): void {
    for (const p of this.#pollers) p.close();
    this.#pollers.length = 0;
    if (this.#packetFd >= 0) void native().closeAsync(this.#packetFd);
    this.#packetFd = -1;
  }
}

/** Probe every target of every source; the outcome of each target by its key, and the echoes sent. */
export async function probeAll(
  sources: readonly ProbeSource[],
  opts: ProbeOptions,
): Promise<{ outcomes: Map<number, ProbeOutcome>; sent: number }> {
  const outcomes = new Map<number, ProbeOutcome>();
  const id = randomBytes(2).readUInt16BE(0);
  const token = randomBytes(TOKEN_BYTES);
  const probers = sources.filter((s) => s.targets.length > 0).map((s) => new Prober(s, outcomes, id, token));
  const timing = { timeoutMs: opts.timeoutMs, intervalMs: opts.intervalMs ?? 1000 };
  const all = probers.flatMap((p) => p.targets);
  // Each group's probes, and the groups in the order they start.
  const members = new Map<number, Target[]>();
  for (const t of all) if (t.group !== undefined) members.set(t.group, [...(members.get(t.group) ?? []), t]);
  const queue = [...members.keys()].sort((a, b) => a - b);
  const active = new Set<number>();
  const finishing = new Set<Promise<void>>();
  // The window adapts as a TCP window does: a group that went unanswered halves it (the
  // neighbour table may be full of other namespaces' entries: the kernel then drops the
  // resolutions), a group answered widens it by one, up to the window given.
  const maxWindow = opts.window ?? 64;
  let window = maxWindow;
  try {
    await eachLimited(probers, opts.concurrency ?? 16, async (p) => {
      try {
        await p.open();
      } catch (e) {
        p.failAll(`cannot probe from ${p.source.ifname}: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
    for (;;) {
      for (const g of active)
        if ((members.get(g) ?? []).every((t) => t.done)) {
          active.delete(g);
          const answered = (members.get(g) ?? []).every((t) => outcomes.get(t.key)?.reached === true);
          window = answered ? Math.min(maxWindow, window + 1) : Math.max(MIN_WINDOW, Math.floor(window / 2));
          // Its slot is free once its entries are gone.
          const slot = Promise.resolve(opts.onGroupDone?.(g)).finally(() => finishing.delete(slot));
          finishing.add(slot);
        }
      while (active.size + finishing.size < window && queue.length > 0) active.add(queue.shift() as number);
      const now = performance.now();
      const budget = { ungrouped: UNGROUPED_PER_TICK };
      for (const p of probers) p.tick(now, active, timing, budget);
      if (queue.length === 0 && active.size === 0 && all.every((t) => t.done)) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(finishing);
  } finally {
    for (const p of probers) p.close();
  }
  return { outcomes, sent: probers.reduce((n, p) => n + p.sent, 0) };
}
