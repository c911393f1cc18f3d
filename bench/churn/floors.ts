/**
 * The floors below our figures, with no netplumb around: (b) one `ip -batch` creating every
 * veth + one `ovs-vsctl` transaction adding every port (guest ends down, no address), and
 * "live", the same with every guest end addressed and up; both orders. Also ovs-vswitchd's
 * own apply floor: one ready veth added and waited for, sequentially.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Vswitch } from '../../src/ovsdb/index.js';
import type { OvsInstance } from '../../sandbox/ovs.js';
import {
  address,
  BRIDGE,
  deleteHostLinks,
  guestName,
  ipBatch,
  N,
  perPort,
  ROUNDS,
  slots,
  VLAN,
  vsctl,
  type Summary,
} from './bed.js';
import { checkGuests, phase, rates, steadyLatency, type Phase, type Rates } from './measure.js';

type Order = 'kernelFirst' | 'ovsFirst';
export type FloorRates = Record<Order, Rates> & { best: { attachPerSec: number; detachPerSec: number } };

/** Every port without a type (a veth) has an ofport: ovs-vswitchd opened them all. */
function waitOfports(ovs: OvsInstance, n: number): void {
  for (;;) {
    const ofports = vsctl(ovs, ['--bare', '--columns=ofport', 'find', 'interface', 'type=""'])
      .split('\n')
      .filter(Boolean)
      .map(Number);
    if (ofports.length >= n && ofports.every((o) => o > 0)) return;
  }
}

/**
 * The "port applied" wait with no netplumb engine around it: one OVSDB transaction adding a
 * ready-made veth, waiting for ovs-vswitchd's ofport, sequentially (each port deleted,
 * untimed, before the next): the part of every attach that ovs-vswitchd owns.
 */
export async function ovsApplyFloor(ovs: OvsInstance, vs: Vswitch): Promise<Summary> {
  const names = Array.from({ length: 50 }, (_, i) => `af${i}`);
  ipBatch(
    names.map((n, i) => `link add ${n} up type veth peer name ag${i}`),
    { netns: ovs.netns },
  );
  const lat = await steadyLatency(
    names.length,
    1,
    (i) => vs.addPort(BRIDGE, { name: names[i] as string, tag: VLAN }, { wait: 60_000 }),
    (i) => vs.delPort([names[i] as string], { wait: 60_000 }),
  );
  deleteHostLinks(ovs, names, 4243);
  return lat;
}

/**
 * One floor run: one `ip -batch` creating veth fI with its peer eth1 in guest I (live: each
 * guest end then addressed and brought up by an `ip -batch` of its own inside the guest) +
 * one ovs-vsctl transaction adding every port, in `order`, until every port has an ofport;
 * then one transaction deleting every port and one batch deleting every veth.
 */
async function floorOnce(
  ovs: OvsInstance,
  n: number,
  order: Order,
  liveFiles: string[] | undefined,
): Promise<{ attach: Phase; detach: Phase }> {
  const names = Array.from({ length: n }, (_, i) => `f${i}`);
  const veths = () =>
    ipBatch(
      [
        ...names.map((f, i) => `link add ${f} up type veth peer name eth1 netns ${guestName(i)}`),
        ...(liveFiles ?? []).map((file, i) => `netns exec ${guestName(i)} ip -batch ${file}`),
      ],
      { netns: ovs.netns },
    );
  const ports = () =>
    vsctl(
      ovs,
      perPort(names, 'add-port', () => [`tag=${VLAN}`]),
    );
  const attach = await phase(ovs, () => {
    if (order === 'kernelFirst') {
      veths();
      ports();
    } else {
      ports();
      veths();
    }
    waitOfports(ovs, n);
  });
  if (liveFiles) await checkGuests(slots(n));
  const detach = await phase(ovs, () => {
    vsctl(ovs, perPort(names, 'del-port'));
    deleteHostLinks(ovs, names, 4242);
  });
  return { attach, detach };
}

/** Both orders, ROUNDS rounds each; `live` gives each guest end its address and brings it up. */
export async function measureFloor(ovs: OvsInstance, dir: string, live: boolean): Promise<FloorRates> {
  const liveFiles = live
    ? slots(N).map((s) => {
        const file = join(dir, `live-${s.guest}`);
        writeFileSync(file, `addr add ${address(s)} dev eth1\nlink set eth1 up\n`);
        return file;
      })
    : undefined;
  const byOrder = async (order: Order): Promise<Rates> => {
    const runs: { attach: Phase; detach: Phase }[] = [];
    for (let r = 0; r < ROUNDS; r++) runs.push(await floorOnce(ovs, N, order, liveFiles));
    return rates(
      N,
      N,
      runs.map((r) => r.attach),
      runs.map((r) => r.detach),
    );
  };
  const kernelFirst = await byOrder('kernelFirst');
  const ovsFirst = await byOrder('ovsFirst');
  const best = {
    attachPerSec: Math.max(kernelFirst.attachPerSec, ovsFirst.attachPerSec),
    detachPerSec: Math.max(kernelFirst.detachPerSec, ovsFirst.detachPerSec),
  };
  return { kernelFirst, ovsFirst, best };
}
