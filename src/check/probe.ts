/**
 * ICMP echo probes sent from inside guest namespaces, natively: one raw ICMP (or ICMPv6)
 * socket per source interface, made in the guest's namespace and bound to the interface
 * (SO_BINDTODEVICE: a probe leaves through that interface or not at all, never through
 * another route of the guest), every destination probed at once, unanswered ones again
 * every `intervalMs`, until all answered or the deadline. Replies are matched by the run's
 * identifier and token, the destination by the sequence number (and, for IPv4, the source
 * address). Sockets are closed before it returns. Equivalent to: ip netns exec G ping -I IF -c N -W T DST (for each pair)
 */
import { randomBytes } from 'node:crypto';
import { fromSysError, isSysError, type SysError } from '../errors.js';
import { eachLimited } from '../limit.js';
import { errnoName } from '../netlink/errno.js';
import { native, type NativePoller } from '../native.js';
import type { Netns } from '../netns/index.js';
import { makeSockets } from '../netns/sockets.js';
import type { IpPrefix } from '../validate.js';
import { decodeEcho, encodeEchoRequest, TOKEN_BYTES } from './icmp.js';

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_RAW = 3;
const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;
const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
/** sendto() errors after which resending is pointless: no route from that interface. */
const FINAL_SEND_ERRORS = new Set(['ENETUNREACH', 'EADDRNOTAVAIL', 'EINVAL', 'EACCES', 'EPERM']);

export interface ProbeSource {
  /** The guest's namespace (held by the caller until probeAll returns). */
  netns: Netns;
  /** The guest-side interface to send from. */
  ifname: string;
  targets: { key: number; address: IpPrefix }[];
}

export interface ProbeOutcome {
  reached: boolean;
  rttMs?: number;
  error?: string;
}

export interface ProbeOptions {
  timeoutMs: number;
  /** Resend period for unanswered destinations (default 250 ms). */
  intervalMs?: number;
  /** Sources opened at once (each is a trip to the guest's namespace; default 16). */
  concurrency?: number;
}

interface Target {
  key: number;
  address: IpPrefix;
  sentAt?: number;
  done: boolean;
}

/** One source interface and family: its raw socket and its destinations. */
class Prober {
  readonly #targets: Target[];
  #poller: NativePoller | undefined;
  #fd = -1;
  sent = 0;

  constructor(
    readonly family: 4 | 6,
    targets: readonly { key: number; address: IpPrefix }[],
    readonly outcomes: Map<number, ProbeOutcome>,
    readonly id: number,
    readonly token: Buffer,
  ) {
    this.#targets = targets.map((t) => ({ ...t, done: false }));
  }

  get pending(): boolean {
    return this.#targets.some((t) => !t.done);
  }

  /** Equivalent to: socket(AF, SOCK_RAW, ICMP) in the namespace ; setsockopt(SO_BINDTODEVICE, IF) */
  async open(netns: Netns, ifname: string): Promise<void> {
    const [raw] = await makeSockets(netns, [
      this.family === 4 ? AF_INET : AF_INET6,
      SOCK_RAW,
      this.family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6,
    ]);
    if (raw === undefined) throw new Error('no socket made');
    this.#fd = raw.fd;
    const bound = native().setSocketOption(raw.fd, SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${ifname}\0`));
    if (isSysError(bound)) {
      void native().closeAsync(raw.fd);
      this.#fd = -1;
      throw fromSysError(bound, `binding a probe socket to ${ifname} in ${netns.label}`);
    }
    this.#poller = new (native().Poller)(
      raw.fd,
      (datagrams) => {
        for (const d of datagrams) this.#receive(d);
      },
      () => undefined,
    );
  }

  #receive(datagram: Buffer): void {
    const echo = decodeEcho(this.family, datagram);
    if (echo === undefined || !echo.reply || echo.id !== this.id || !echo.token.equals(this.token)) return;
    const t = this.#targets[echo.seq];
    if (t === undefined || t.done) return;
    // IPv4 raw sockets see the IP header: the reply must come from the address probed.
    if (this.family === 4 && !datagram.subarray(12, 16).equals(t.address.bytes)) return;
    t.done = true;
    this.outcomes.set(t.key, { reached: true, rttMs: Math.round((performance.now() - (t.sentAt ?? 0)) * 10) / 10 });
  }

  /** Send to every destination not answered yet. */
  sendRound(): void {
    if (this.#fd < 0) return;
    this.#targets.forEach((t, seq) => {
      if (t.done) return;
      const err: SysError | null = native().inetSendTo(
        this.#fd,
        t.address.bytes,
        encodeEchoRequest(this.family, this.id, seq, this.token),
      );
      t.sentAt ??= performance.now();
      if (err === null) {
        this.sent++;
        return;
      }
      const name = errnoName(err.errno);
      if (FINAL_SEND_ERRORS.has(name)) {
        t.done = true;
        this.outcomes.set(t.key, { reached: false, error: `sendto: ${name}` });
      }
    });
  }

  /** Everything not answered by now is unreachable. */
  finish(): void {
    for (const t of this.#targets)
      if (!t.done) {
        t.done = true;
        this.outcomes.set(t.key, { reached: false });
      }
  }

  failAll(error: string): void {
    for (const t of this.#targets) {
      t.done = true;
      this.outcomes.set(t.key, { reached: false, error });
    }
  }

  close(): void {
    if (this.#poller !== undefined) this.#poller.close();
    else if (this.#fd >= 0) void native().closeAsync(this.#fd);
    this.#poller = undefined;
    this.#fd = -1;
  }
}

/** Probe every target of every source at once; the outcome of each target by its key, and the echoes sent. */
export async function probeAll(
  sources: readonly ProbeSource[],
  opts: ProbeOptions,
): Promise<{ outcomes: Map<number, ProbeOutcome>; sent: number }> {
  const outcomes = new Map<number, ProbeOutcome>();
  const id = randomBytes(2).readUInt16BE(0);
  const token = randomBytes(TOKEN_BYTES);
  const probers: { prober: Prober; source: ProbeSource }[] = [];
  for (const source of sources)
    for (const family of [4, 6] as const) {
      const targets = source.targets.filter((t) => t.address.family === family);
      if (targets.length > 0) probers.push({ prober: new Prober(family, targets, outcomes, id, token), source });
    }
  try {
    await eachLimited(probers, opts.concurrency ?? 16, async ({ prober, source }) => {
      try {
        await prober.open(source.netns, source.ifname);
      } catch (e) {
        prober.failAll(`cannot probe from ${source.ifname}: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
    const deadline = performance.now() + opts.timeoutMs;
    const interval = opts.intervalMs ?? 250;
    for (;;) {
      for (const { prober } of probers) prober.sendRound();
      const wait = Math.min(interval, deadline - performance.now());
      if (wait <= 0) break;
      // Wake early when everything is answered.
      const until = performance.now() + wait;
      while (performance.now() < until && probers.some((p) => p.prober.pending))
        await new Promise((r) => setTimeout(r, 10));
      if (!probers.some((p) => p.prober.pending)) break;
    }
    for (const { prober } of probers) prober.finish();
  } finally {
    for (const { prober } of probers) prober.close();
  }
  return { outcomes, sent: probers.reduce((n, p) => n + p.prober.sent, 0) };
}
