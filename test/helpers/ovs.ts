/**
 * The sandbox's private Open vSwitch (sandbox/ovs.ts) as node:test fixtures: withOvs() for
 * one test, with a connected Vswitch client; useSharedOvs() for every test of a file.
 */
import { after, before } from './privileged.js';
import type { ConnectionOptions } from '../../src/ovsdb/connection.js';
import { Vswitch } from '../../src/ovsdb/vswitch.js';
import { startOvs, type OvsInstance } from '../../sandbox/ovs.js';

export interface WithOvsOptions {
  vswitchd?: boolean;
  /** Create bridge `ovs0` (netdev) with ovs-vsctl first (default true). */
  bridge?: boolean;
  client?: ConnectionOptions;
}

/**
 * Run `fn` with a private OVS and a connected Vswitch client; the client, the daemons,
 * the namespace and the dir are gone afterwards even when `fn` fails.
 */
export async function withOvs(
  fn: (ovs: OvsInstance, vs: Vswitch) => Promise<void>,
  opts: WithOvsOptions = {},
): Promise<void> {
  const ovs = await startOvs({ withVswitchd: opts.vswitchd ?? true });
  let vs: Vswitch | undefined;
  try {
    if (opts.bridge ?? true) await ovs.addBridge('ovs0');
    vs = await Vswitch.connect({ remote: ovs.remote, requestTimeoutMs: 5000, ...opts.client });
    await fn(ovs, vs);
  } finally {
    await vs?.close();
    await ovs.stop();
  }
  if (ovs.alivePids().length) throw new Error(`OVS daemons still alive after stop(): ${ovs.alivePids().join(', ')}`);
}

/**
 * One private OVS (ovs-vswitchd running, bridge `ovs0`) shared by the tests of the calling
 * file: started before the first test (then `setup` runs), stopped after the last. Returns a getter.
 */
export function useSharedOvs(setup?: (ovs: OvsInstance) => Promise<void>): () => OvsInstance {
  let ovs: OvsInstance | undefined;
  before(async () => {
    ovs = await startOvs({ withVswitchd: true });
    await ovs.addBridge('ovs0');
    await setup?.(ovs);
  });
  after(async () => {
    await ovs?.stop();
  });
  return () => {
    if (ovs === undefined) throw new Error('the shared OVS is not started yet (use it inside a test)');
    return ovs;
  };
}
