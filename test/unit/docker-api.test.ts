/**
 * The Docker Engine API client against a fake engine on a unix socket (no root): paths,
 * status mapping, retries while a container is not running, malformed answers, timeouts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerClient } from '../../src/guest/docker-api.js';
import { isNetplumbError } from './support/assert-error.js';

const ID = 'c3a1e0d6b5f24a8e9d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let dir: string;
let server: Server;
let socketPath: string;
let handler: Handler = (_req, res) => res.end();
const requested: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'np-fake-engine-'));
  socketPath = join(dir, 'engine.sock');
  server = createServer((req, res) => {
    requested.push(`${req.method ?? ''} ${req.url ?? ''}`);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
});

after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

function reply(status: number, body: unknown): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
}

function inspectDoc(state: { Pid: number; Running: boolean; Status: string }): unknown {
  return { Id: ID, Name: '/con1', State: { ...state, StartedAt: '2024-01-01T00:00:00Z' } };
}

function client(extra: { timeoutMs?: number; notRunningRetries?: number } = {}): DockerClient {
  return new DockerClient({ host: `unix://${socketPath}`, retryDelayMs: 1, ...extra });
}

test('inspectContainer asks GET /v1.41/containers/<ref>/json and returns the fields netplumb uses', async () => {
  requested.length = 0;
  handler = reply(200, inspectDoc({ Pid: 4242, Running: true, Status: 'running' }));
  const c = await client().inspectContainer('con1');
  assert.deepEqual(c, {
    id: ID,
    name: 'con1',
    pid: 4242,
    running: true,
    status: 'running',
    startedAt: '2024-01-01T00:00:00Z',
  });
  assert.deepEqual(requested, ['GET /v1.41/containers/con1/json']);
});

test('a container without a PID is asked again, then NAMESPACE_GONE', async () => {
  requested.length = 0;
  handler = reply(200, inspectDoc({ Pid: 0, Running: false, Status: 'exited' }));
  await assert.rejects(
    client({ notRunningRetries: 3 }).inspectContainer('con1'),
    (e: unknown) =>
      isNetplumbError('NAMESPACE_GONE', 'container')(e) &&
      /container "con1" is not running \(status: exited\)/.test((e as Error).message),
  );
  assert.equal(requested.length, 4);
});

test('a container that comes up during the retries is returned', async () => {
  let calls = 0;
  handler = (req, res) =>
    reply(
      200,
      inspectDoc(
        ++calls < 3 ? { Pid: 0, Running: false, Status: 'created' } : { Pid: 7, Running: true, Status: 'running' },
      ),
    )(req, res);
  assert.equal((await client().inspectContainer('con1')).pid, 7);
});

test("404 and an ambiguous prefix are NOT_FOUND carrying the engine's message", async () => {
  handler = reply(404, {
    cause: 'no such container',
    message: 'no container with name or ID "nope" found: no such container',
    response: 404,
  });
  await assert.rejects(
    client().inspect('nope'),
    (e: unknown) =>
      isNetplumbError('NOT_FOUND', 'container')(e) &&
      /no container with name or ID "nope" found/.test((e as Error).message),
  );
  handler = reply(400, { message: 'multiple IDs found with provided prefix: c3' });
  await assert.rejects(
    client().inspect('c3'),
    (e: unknown) => isNetplumbError('NOT_FOUND')(e) && /ambiguous.*multiple IDs/.test((e as Error).message),
  );
});

test('engine failures: 5xx is UNAVAILABLE, other statuses and malformed documents are PROTOCOL', async () => {
  handler = reply(500, { message: 'database is locked' });
  await assert.rejects(
    client().inspect('con1'),
    (e: unknown) => isNetplumbError('UNAVAILABLE')(e) && /database is locked/.test((e as Error).message),
  );
  handler = reply(401, { message: 'unauthorized' });
  await assert.rejects(client().inspect('con1'), isNetplumbError('PROTOCOL'));
  for (const body of [
    'not json',
    '[]',
    '{}',
    JSON.stringify({ Id: ID, State: { Pid: '12', Running: true } }),
    JSON.stringify({ Id: 5, State: { Pid: 12, Running: true } }),
  ]) {
    handler = reply(200, body);
    await assert.rejects(client().inspect('con1'), isNetplumbError('PROTOCOL'), body);
  }
});

test('an engine that never answers is UNAVAILABLE after the timeout', async () => {
  const hung: ServerResponse[] = [];
  handler = (_req, res) => hung.push(res);
  await assert.rejects(
    client({ timeoutMs: 100 }).inspect('con1'),
    (e: unknown) => isNetplumbError('UNAVAILABLE')(e) && /did not answer .* within 100 ms/.test((e as Error).message),
  );
  for (const res of hung) res.destroy();
});

test('an oversized answer is PROTOCOL, not buffered without end', async () => {
  handler = (_req, res) => {
    res.writeHead(200);
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    for (let i = 0; i < 5; i++) res.write(chunk);
    res.end();
  };
  await assert.rejects(client().inspect('con1'), isNetplumbError('PROTOCOL'));
});

test('a missing socket and a socket nobody listens on are UNAVAILABLE naming the socket', async () => {
  const missing = join(dir, 'missing.sock');
  await assert.rejects(new DockerClient({ host: `unix://${missing}` }).inspect('con1'), (e: unknown) => {
    isNetplumbError('UNAVAILABLE')(e);
    assert.match(
      (e as Error).message,
      new RegExp(`no container engine API socket at ${missing}: start the container engine .*DOCKER_HOST=unix://`),
    );
    return true;
  });
  // A path that is not a listening socket (a file left behind): connect() is refused.
  const stale = join(dir, 'stale.sock');
  writeFileSync(stale, '');
  await assert.rejects(
    new DockerClient({ host: `unix://${stale}` }).inspect('con1'),
    (e: unknown) => isNetplumbError('UNAVAILABLE')(e) && /connection refused/.test((e as Error).message),
  );
});

test('the reference is validated before any request', async () => {
  requested.length = 0;
  await assert.rejects(client().inspect('../../version'), isNetplumbError('INVALID_ARGUMENT', 'container'));
  await assert.rejects(client().inspectContainer('a/b'), isNetplumbError('INVALID_ARGUMENT', 'container'));
  assert.deepEqual(requested, []);
});
