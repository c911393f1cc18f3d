/**
 * An OVN test bed: a central (./ovn-central.ts) and `hosts` chassis h1..hN
 * (./ovn-host.ts), Geneve tunnels between them over the central's underlay. For the OVN
 * tests, the demo's `--scenario ovn` and the OVN benchmark. stop() removes everything:
 * the chassis first, then the central.
 */
import { startOvnCentral, type OvnCentral } from './ovn-central.js';
import { startOvnHost, waitUntil, type OvnHost } from './ovn-host.js';

export interface OvnBed {
  central: OvnCentral;
  hosts: OvnHost[];
  /** Every daemon pid of the bed still alive. */
  alivePids(): number[];
  /** Every temp dir and namespace of the bed. */
  dirs(): string[];
  netns(): string[];
  stop(): Promise<void>;
}

/** `tag` names the namespaces: TAG-central, TAG-h1 … */
export async function startOvnBed(o: { tag: string; hosts: number }): Promise<OvnBed> {
  const central = await startOvnCentral({ netnsName: `${o.tag}-central` });
  const hosts: OvnHost[] = [];
  const stop = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const h of hosts.splice(0).reverse()) await h.stop().catch((e: unknown) => errors.push(e));
    await central.stop().catch((e: unknown) => errors.push(e));
    if (errors.length) throw new AggregateError(errors, 'stopping the OVN bed failed');
  };
  try {
    for (let i = 1; i <= o.hosts; i++)
      hosts.push(await startOvnHost(central, { name: `h${i}`, index: i, netnsName: `${o.tag}-h${i}` }));
    // Every chassis's tunnel endpoint known to every other one.
    await waitUntil('every chassis has its encapsulation in the southbound database', async () => {
      const encaps = await central.sbctl(['--bare', '--columns=ip', 'list', 'Encap']);
      return hosts.every((h) => encaps.includes(h.encapIp));
    });
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
  return {
    central,
    hosts,
    alivePids: () => [...central.alivePids(), ...hosts.flatMap((h) => h.alivePids())],
    dirs: () => [central.dir, ...hosts.map((h) => h.ovs.dir)],
    netns: () => [central.netns.name, ...hosts.map((h) => h.ovs.netns)],
    stop,
  };
}
