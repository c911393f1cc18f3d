/**
 * A fresh namespace with an Rtnl bound to it (through the native socket), torn down after
 * use; plus an open fd of a second namespace for cross-namespace creation.
 */
import { openNetns, type Netns } from '../../../src/netns/index.js';
import { openRouteTransport } from '../../../src/netlink/native-transport.js';
import { Rtnl } from '../../../src/rtnl/index.js';
import { TestNetns } from '../../helpers/netns.js';

export interface RtnlNs {
  t: TestNetns;
  ns: Netns;
  rtnl: Rtnl;
}

async function open(prefix: string): Promise<RtnlNs> {
  const t = await TestNetns.create(prefix);
  const ns = openNetns({ name: t.name });
  return { t, ns, rtnl: new Rtnl(openRouteTransport(ns.fd, ns.label)) };
}

async function close(x: RtnlNs): Promise<void> {
  x.rtnl.close();
  x.ns.close();
  await x.t.destroy();
}

/** Run `body` with `count` fresh namespaces, each with its Rtnl; always cleaned up. */
export async function withNamespaces(count: number, body: (...nss: RtnlNs[]) => Promise<void>): Promise<void> {
  const nss: RtnlNs[] = [];
  try {
    for (let i = 0; i < count; i++) nss.push(await open('rtnl'));
    await body(...nss);
  } finally {
    for (const x of nss.reverse()) await close(x);
  }
}
