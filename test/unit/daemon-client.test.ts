/**
 * The daemon client against a fake daemon on a unix socket, to hang up at exact points of
 * the exchange that a real daemon reaches only by timing: the `closing` notice arriving
 * while a request is on its way (the request was not read: sent again on a new
 * connection, a mutating one included), a hang-up of an idle connection with or without
 * the notice (the next request opens a new connection), and a hang-up with a request in
 * flight and no notice (its outcome is unknown, and the client still serves later calls).
 * The real daemon's idle hang-up is covered in test/privileged/daemon-api.test.ts.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetplumbError } from '../../src/errors.js';
import { DaemonClient } from '../../src/daemon/client.js';
import { closingLine } from '../../src/daemon/protocol.js';

interface Received {
  /** Which connection (0, 1, …) it came on. */
  conn: number;
  id: number;
  method: string;
}

/**
 * A fake daemon: `onRequest` decides, per request, what the connection does with it:
 * answer it, or answer nothing and hang up (with or without the `closing` notice).
 */
async function fakeDaemon(onRequest: (r: Received, socket: Socket) => 'answer' | 'notice' | 'drop'): Promise<{
  sock: string;
  received: Received[];
  connections: () => number;
  /** Stop accepting connections; the socket file goes (connections open stay). */
  stopListening: () => void;
  close: () => Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'np-fake-daemon-'));
  const sock = join(dir, 'd.sock');
  const received: Received[] = [];
  const open = new Set<Socket>();
  let conns = 0;
  const server: Server = createServer((socket) => {
    const conn = conns++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const msg = JSON.parse(buf.slice(0, nl)) as { id: number; method: string };
        buf = buf.slice(nl + 1);
        const r = { conn, id: msg.id, method: msg.method };
        received.push(r);
        const what = onRequest(r, socket);
        if (what === 'answer') socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: 'pong' })}\n`);
        else {
          if (what === 'notice') socket.end(closingLine('idle'));
          else socket.end();
          return;
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(sock, r));
  const closed = new Promise<void>((r) => server.once('close', () => r()));
  return {
    sock,
    received,
    connections: () => conns,
    stopListening: () => server.close(),
    close: async () => {
      for (const s of open) s.destroy();
      if (server.listening) server.close();
      await closed;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('a request crossing the closing notice is sent again on a new connection, once, even a mutating one', async () => {
  // The first request on connection 0 meets the hang-up; everything on connection 1 is answered.
  const fake = await fakeDaemon((r) => (r.conn === 0 ? 'notice' : 'answer'));
  const client = await DaemonClient.connect(fake.sock);
  try {
    assert.equal(await client.call('gc', { dryRun: true }), 'pong');
    assert.deepEqual(
      fake.received.map((r) => [r.conn, r.method]),
      [
        [0, 'gc'],
        [1, 'gc'],
      ],
      'unread on the first connection, sent once more on the second',
    );
    assert.equal(await client.call('ping'), 'pong');
    assert.equal(fake.connections(), 2, 'the new connection is kept for later requests');
  } finally {
    await client.close();
    await fake.close();
  }
});

test('an idle connection hung up, with or without the notice: the next request opens a new one', async () => {
  let hangUp: Socket | undefined;
  const fake = await fakeDaemon((_, socket) => {
    hangUp = socket;
    return 'answer';
  });
  const client = await DaemonClient.connect(fake.sock);
  try {
    assert.equal(await client.call('ping'), 'pong');
    for (const notice of [true, false]) {
      const s = hangUp as Socket;
      await new Promise<void>((r) => {
        s.once('close', () => r());
        if (notice) s.end(closingLine('idle'));
        else s.end();
      });
      // Let the client see the hang-up before the next request.
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(await client.call('list'), 'pong');
    }
    assert.equal(fake.connections(), 3);
  } finally {
    await client.close();
    await fake.close();
  }
});

test('a hang-up with a request in flight and no notice: a mutating request is OUTCOME_UNKNOWN, later calls still work', async () => {
  const fake = await fakeDaemon((r) => (r.conn === 0 ? 'drop' : 'answer'));
  const client = await DaemonClient.connect(fake.sock);
  try {
    await assert.rejects(
      client.call('detach', { guest: 'x' }),
      (e: unknown) => e instanceof NetplumbError && e.code === 'OUTCOME_UNKNOWN',
    );
    assert.deepEqual(
      fake.received.map((r) => [r.conn, r.method]),
      [[0, 'detach']],
      'not sent again: the daemon may have run it',
    );
    assert.equal(await client.call('ping'), 'pong');
  } finally {
    await client.close();
    await fake.close();
  }
});

test('a request unread at the hang-up of a daemon that is gone fails UNAVAILABLE, not OUTCOME_UNKNOWN', async () => {
  // The daemon shuts down: it stops listening (the socket file goes), then hangs up with the notice.
  const fake = await fakeDaemon(() => {
    stop();
    return 'notice';
  });
  const stop = fake.stopListening;
  const client = await DaemonClient.connect(fake.sock);
  try {
    await assert.rejects(
      client.call('attach', {}),
      (e: unknown) => e instanceof NetplumbError && e.code === 'UNAVAILABLE' && /cannot connect/.test(e.message),
    );
    assert.equal(fake.received.length, 1);
    await client.close();
    await assert.rejects(client.call('ping'), /closed/);
  } finally {
    await client.close();
    await fake.close();
  }
});
