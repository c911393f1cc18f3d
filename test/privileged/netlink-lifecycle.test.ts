/**
 * A closed netlink socket leaves nothing reachable: the addon drops its callbacks on close,
 * so the transport, its engine and its buffers are collected. A long-lived process (the
 * daemon) opens two sockets per attach and per detach; anything a closed one kept would
 * grow with every container started. Oracle: WeakRefs, after a forced full collection.
 */
import { test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openRouteTransport } from '../../src/netlink/native-transport.js';
import { openNetns, type Netns } from '../../src/netns/index.js';
import { Rtnl } from '../../src/rtnl/index.js';
import { TestNetns } from '../helpers/netns.js';
import { useLeakCheck } from '../helpers/leak.js';

useLeakCheck();

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Open a socket in `g`, answer one request on it, close it; only a WeakRef to it comes back. */
async function useAndClose(ns: Netns): Promise<WeakRef<Rtnl>> {
  const rtnl = new Rtnl(openRouteTransport(ns.fd, ns.label));
  assert.equal((await rtnl.link.get('lo')).name, 'lo');
  rtnl.close();
  return new WeakRef(rtnl);
}

test('closed netlink sockets are collected: no transport, engine or buffer of theirs stays reachable', async () => {
  const g = await TestNetns.create('lc');
  const ns = openNetns({ name: g.name });
  try {
    const refs: WeakRef<Rtnl>[] = [];
    for (let i = 0; i < 50; i++) refs.push(await useAndClose(ns));
    // WeakRefs are cleared only after the job that made them, and the uv handles close a turn later.
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      gc();
    }
    assert.equal(refs.filter((r) => r.deref() !== undefined).length, 0, 'closed sockets still reachable');
  } finally {
    ns.close();
    await g.destroy();
  }
});
