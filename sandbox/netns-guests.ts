/**
 * Many guests at once: one network namespace each, made and removed with one `ip -batch`,
 * attached to a bridge through the library, spread over VLANs in turn, addressed in one
 * /16 (10.0.0.1 upwards) or one IPv6 /64 (fd00::1 upwards). For the benchmarks and the scale tests, where hundreds of
 * podman containers would take minutes to start; the engine treats both alike.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { eachLimited } from '../src/limit.js';
import { Plumber } from '../src/plumb/plumber.js';
import type { OvsInstance } from './ovs.js';

export interface NetnsGuest {
  /** The /run/netns name. */
  name: string;
  /** eth1's address, with its prefix. */
  address: string;
  vlan: number;
}

/** The `i`-th guest's address: 10.0.0.1 upwards in a /16, or fd00::1 upwards in a /64. */
export function guestAddress(i: number, family: 4 | 6 = 4): string {
  const h = i + 1;
  return family === 4 ? `10.0.${h >> 8}.${h & 255}/16` : `fd00::${h.toString(16)}/64`;
}

export class NetnsGuests {
  private constructor(readonly guests: NetnsGuest[]) {}

  /** `n` namespaces `np-<prefix><random>-<i>`, guest i in vlans[i % vlans.length]. Equivalent to: ip -batch (netns add NAME …) */
  static async create(prefix: string, n: number, vlans: readonly number[], family: 4 | 6 = 4): Promise<NetnsGuests> {
    const tag = randomBytes(3).toString('hex');
    const made = new NetnsGuests(
      Array.from({ length: n }, (_, i) => ({
        name: `np-${prefix}${tag}-${i}`,
        address: guestAddress(i, family),
        vlan: vlans[i % vlans.length] as number,
      })),
    );
    await made.#batch('add');
    return made;
  }

  /** Equivalent to: ip -force -batch - <<< "netns VERB NAME" per guest */
  #batch(verb: 'add' | 'del'): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const child = spawn('ip', ['-force', '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        err += String(d);
      });
      child.once('error', reject);
      child.once('close', (code) => {
        if (code === 0) resolve();
        else reject(new Error(`ip -batch netns ${verb} exited ${code}: ${err.trim().slice(0, 500)}`));
      });
      child.stdin.end(`${this.guests.map((g) => `netns ${verb} ${g.name}`).join('\n')}\n`);
    });
  }

  /**
   * Attach every guest's eth1 to `bridge` (created by the first attach if missing),
   * `concurrency` at a time. Equivalent to: pipework BRIDGE netns:NAME ADDR @VLAN (each)
   */
  async attach(ovs: OvsInstance, bridge = 'ovs0', concurrency = 16): Promise<void> {
    const plumber = Plumber.open({ ovsDb: ovs.remote, hostNetns: { name: ovs.netns }, datapathType: 'netdev' });
    const attach = (g: NetnsGuest) =>
      plumber.attach({
        host: bridge,
        createBridge: true,
        guest: { netns: g.name },
        vlan: g.vlan,
        ip: { kind: 'static', address: g.address },
      });
    try {
      const [first, ...rest] = this.guests;
      if (first !== undefined) await attach(first);
      await eachLimited(rest, concurrency, async (g) => {
        await attach(g);
      });
    } finally {
      await plumber.close();
    }
  }

  /** Delete the namespaces (their veths go with them; OVS ports stay until gc or the bridge goes). */
  async destroy(): Promise<void> {
    await this.#batch('del');
  }
}
