/**
 * The daemon's watch on the engine's events, against a fake engine (an HTTP server on a unix
 * socket serving GET /events): it subscribes before it reconciles, reconciles a container on
 * its events (podman 4.3's `died` too), reconnects with `since` set to the last event seen
 * and reconciles everything again, and runs one reconcile at a time per container in a burst.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { watchEngine } from '../../src/daemon/watch.js';
import type { ReconcileOutcome } from '../../src/plumb/declared.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const NONE: ReconcileOutcome = {
  applied: 0,
  unchanged: 0,
  failed: 0,
  superseded: 0,
  dropped: 0,
  reasons: [],
  attempts: [],
};

function event(id: string, action: string, nanos: bigint): string {
  return `${JSON.stringify({ Type: 'container', Action: action, Actor: { ID: id, Attributes: { name: 'x' } }, time: Number(nanos / 1_000_000_000n), timeNano: Number(nanos) })}\n`;
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), what);
}

describe('watchEngine against a fake engine', () => {
  let dir: string;
  let server: Server;
  let streams: ServerResponse[];
  let requests: string[];
  let socketPath: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'np-watch-'));
    socketPath = join(dir, 'engine.sock');
    streams = [];
    requests = [];
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      requests.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      streams.push(res);
    });
    await new Promise<void>((r) => server.listen(socketPath, r));
  });
  afterEach(async () => {
    for (const s of streams) s.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('subscribes, then reconciles every declared container; an event (died too) reconciles its container', async () => {
    const calls: { id: string; subscribed: number }[] = [];
    const w = watchEngine({
      socketPath,
      declared: {
        containers: async () => [A, B],
        reconcile: async (id) => {
          calls.push({ id, subscribed: streams.length });
          return NONE;
        },
      },
    });
    await w.ready;
    assert.deepEqual(calls.map((c) => c.id).sort(), [A, B]);
    assert.ok(
      calls.every((c) => c.subscribed === 1),
      'the subscription was live before the first reconcile',
    );
    assert.match(requests[0] ?? '', /^\/v1\.41\/events\?filters=/);
    assert.ok(!(requests[0] ?? '').includes('since='), 'no since on the first subscription');
    streams[0]?.write(event(A, 'died', 1_700_000_000_123_456_789n));
    await until('the died event reconciled A', () => calls.filter((c) => c.id === A).length === 2);
    streams[0]?.write(event(B, 'exec_start', 1_700_000_000_200_000_000n));
    streams[0]?.write(event(B, 'create', 1_700_000_000_300_000_000n));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(calls.filter((c) => c.id === B).length, 1, 'other actions are not reconciled');
    await w.close();
  });

  it('reconnects with since = the last event seen, and reconciles everything again', async () => {
    const calls: string[] = [];
    const w = watchEngine({
      socketPath,
      retryMinMs: 10,
      declared: {
        containers: async () => [A],
        reconcile: async (id) => {
          calls.push(id);
          return NONE;
        },
      },
    });
    await w.ready;
    streams[0]?.write(event(A, 'start', 1_700_000_000_123_456_789n));
    await until('the start reconciled', () => calls.length === 2);
    streams[0]?.end();
    await until('subscribed again', () => requests.length === 2);
    assert.match(requests[1] ?? '', /since=1700000000\.123456\d{3}/);
    await until('reconciled after the reconnect', () => calls.length === 3);
    await w.close();
  });

  it('a burst of events for one container: one reconcile at a time, and one more after it, not one per event', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const w = watchEngine({
      socketPath,
      declared: {
        containers: async () => [],
        reconcile: async () => {
          running++;
          runs++;
          most = Math.max(most, running);
          await gate;
          running--;
          return NONE;
        },
      },
    });
    await w.ready;
    const t0 = 1_700_000_000_000_000_000n;
    for (let i = 0; i < 100; i++) streams[0]?.write(event(A, i % 2 ? 'start' : 'die', t0 + BigInt(i) * 1000n));
    await until('the first reconcile runs', () => runs === 1);
    await new Promise((r) => setTimeout(r, 50));
    release();
    await until('the second run', () => runs === 2);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(runs, 2);
    assert.equal(most, 1);
    await w.close();
  });
});
