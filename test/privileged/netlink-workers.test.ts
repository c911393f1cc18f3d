/**
 * The addon in worker threads (faults.md G5): four workers, each with its own sockets and
 * sequence numbers, create and delete veth pairs in the same namespaces at once. Every pair
 * is made (oracle: ip -json), none is left, no thread leaves its namespace, no fd leaks.
 */
import { test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { TestNetns } from '../helpers/netns.js';
import { useLeakCheck } from '../helpers/leak.js';

useLeakCheck();

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { openNetns } = require(workerData.root + '/dist/src/netns/index.js');
const { openRouteTransport } = require(workerData.root + '/dist/src/netlink/native-transport.js');
const { Rtnl } = require(workerData.root + '/dist/src/rtnl/index.js');
(async () => {
  const host = openNetns({ name: workerData.host });
  const guest = openNetns({ name: workerData.guest });
  const rtnl = new Rtnl(openRouteTransport(host.fd, host.label));
  const names = Array.from({ length: workerData.n }, (_, i) => 'w' + workerData.id + 'h' + i);
  await Promise.all(names.map((name, i) => rtnl.link.add({ name, kind: 'veth', peer: { name: 'w' + workerData.id + 'g' + i, netnsFd: guest.fd } })));
  parentPort.postMessage({ created: (await rtnl.link.list({ kind: 'veth' })).filter((l) => l.name.startsWith('w' + workerData.id + 'h')).length });
  await new Promise((r) => parentPort.once('message', r));
  await rtnl.link.delMany(names);
  rtnl.close(); host.close(); guest.close();
  parentPort.postMessage({ done: true });
})().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
`;

test('four worker threads drive their own netlink sockets at once', async () => {
  const host = await TestNetns.create('wh');
  const guest = await TestNetns.create('wg');
  const root = require('node:path').join(__dirname, '..', '..', '..') as string;
  const n = 25;
  const workers = [0, 1, 2, 3].map(
    (id) => new Worker(WORKER, { eval: true, workerData: { root, host: host.name, guest: guest.name, id, n } }),
  );
  try {
    const next = (w: Worker) =>
      new Promise<{ created?: number; done?: boolean; error?: string }>((resolve) => w.once('message', resolve));
    const created = await Promise.all(workers.map(next));
    for (const c of created) assert.equal(c.error, undefined, c.error);
    assert.deepEqual(
      created.map((c) => c.created),
      [n, n, n, n],
      'each worker sees its own pairs',
    );
    // The oracle: every host end in the host namespace, every peer in the guest namespace.
    assert.equal((await host.ip('link', 'show', 'type', 'veth')).length, 4 * n);
    assert.equal((await guest.ip('link', 'show', 'type', 'veth')).length, 4 * n);
    const finished = workers.map(next);
    for (const w of workers) w.postMessage('delete');
    for (const f of await Promise.all(finished)) assert.equal(f.error, undefined, f.error);
    assert.equal((await host.ip('link', 'show', 'type', 'veth')).length, 0);
    assert.equal((await guest.ip('link', 'show', 'type', 'veth')).length, 0);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    await host.destroy();
    await guest.destroy();
  }
});

test('a worker terminated with sockets open and requests in flight leaves no fd and no crash', async () => {
  const host = await TestNetns.create('wt');
  const root = require('node:path').join(__dirname, '..', '..', '..') as string;
  const code = `
const { parentPort, workerData } = require('node:worker_threads');
const { openNetns } = require(workerData.root + '/dist/src/netns/index.js');
const { openRouteTransport } = require(workerData.root + '/dist/src/netlink/native-transport.js');
const { Rtnl } = require(workerData.root + '/dist/src/rtnl/index.js');
const ns = openNetns({ name: workerData.host });
const { openGuestSockets } = require(workerData.root + '/dist/src/netns/sockets.js');
const sockets = Array.from({ length: 8 }, () => new Rtnl(openRouteTransport(ns.fd, ns.label)));
for (const r of sockets) for (let i = 0; i < 20; i++) r.link.list().catch(() => undefined);
// Socket sets being made on the pool when the worker ends: closed by the addon, never handed over.
for (let i = 0; i < 16; i++) openGuestSockets(ns).catch(() => undefined);
parentPort.postMessage('busy');
setInterval(() => {}, 1000);
`;
  try {
    for (let round = 0; round < 5; round++) {
      const w = new Worker(code, { eval: true, workerData: { root, host: host.name } });
      await new Promise((r) => w.once('message', r));
      await w.terminate();
    }
  } finally {
    await host.destroy();
  }
  // useLeakCheck's afterEach compares the fd table: the environment cleanup hook closed every
  // socket and every namespace fd the workers left open.
});
