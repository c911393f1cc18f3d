/**
 * Resolving guests against real podman containers through the Docker-compatible API
 * (root). Oracles: `podman inspect` for PIDs and IDs, stat(2) on /proc/PID/ns/net and
 * /run/netns/NAME for namespace identities — never the code under test.
 */
import { after, before, test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { resolveGuest, type Guest, type ResolveGuestOptions } from '../../src/guest/resolve.js';
import { DockerClient, type ContainerState } from '../../src/guest/docker-api.js';
import { NetplumbError } from '../../src/errors.js';
import { PodmanSandbox, uniqueContainerName, type PodmanContainer } from '../../sandbox/podman.js';
import { TestNetns } from '../helpers/netns.js';
import { useLeakCheck } from '../helpers/leak.js';
import { must } from '../../sandbox/exec.js';
import { isNetplumbError } from '../unit/support/assert-error.js';

let bed: PodmanSandbox;
let running: PodmanContainer;
let stopped: PodmanContainer;

before(async () => {
  bed = await PodmanSandbox.create();
  await bed.startService();
  running = await bed.runContainer(uniqueContainerName('run'));
  stopped = await bed.runContainer(uniqueContainerName('stopped'));
  await bed.stopContainer(stopped.name);
});

after(async () => {
  await bed?.destroy();
});

useLeakCheck();

/** Options pointing at the bed's API socket, with short retry delays. */
function viaBed(extra: ResolveGuestOptions = {}): ResolveGuestOptions {
  return { dockerOptions: { host: bed.dockerHost, retryDelayMs: 20 }, ...extra };
}

function nsIdentityOf(path: string): { dev: number; ino: number } {
  const st = statSync(path);
  return { dev: st.dev, ino: st.ino };
}

async function withGuest(guest: Guest, check: (g: Guest) => void | Promise<void>): Promise<void> {
  try {
    await check(guest);
  } finally {
    guest.release();
  }
}

function openNetnsFds(): string[] {
  return readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    })
    .filter((t) => t.startsWith('net:'));
}

test('a container resolves by name, full ID and ID prefix to the namespace of the PID podman reports', async () => {
  const pid = await bed.inspectPid(running.name);
  assert.ok(pid > 0);
  const expected = nsIdentityOf(`/proc/${pid}/ns/net`);
  for (const ref of [running.name, running.id, running.id.slice(0, 12)]) {
    await withGuest(await resolveGuest(ref, viaBed()), (g) => {
      assert.equal(g.kind, 'container', ref);
      assert.equal(g.containerId, running.id, ref);
      assert.equal(g.containerName, running.name, ref);
      assert.equal(g.pid, pid, ref);
      assert.deepEqual(g.identity, expected, ref);
      assert.equal(g.netns.ino, expected.ino, ref);
    });
  }
});

test('the object form { container } and DOCKER_HOST from the environment work too', async () => {
  const saved = process.env.DOCKER_HOST;
  process.env.DOCKER_HOST = bed.dockerHost;
  try {
    await withGuest(await resolveGuest({ container: running.name }), (g) => assert.equal(g.containerId, running.id));
  } finally {
    if (saved === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = saved;
  }
});

test('release() closes the namespace fd, and twice is harmless', async () => {
  const before = openNetnsFds().length;
  const g = await resolveGuest(running.name, viaBed());
  assert.equal(openNetnsFds().length, before + 1);
  g.release();
  g.release();
  assert.equal(openNetnsFds().length, before);
  assert.ok(g.netns.closed);
});

test('a stopped or never-started container is NAMESPACE_GONE after the retries', async () => {
  const calls: string[] = [];
  class Counting extends DockerClient {
    override inspect(ref: string): Promise<ContainerState> {
      calls.push(ref);
      return super.inspect(ref);
    }
  }
  const docker = new Counting({ host: bed.dockerHost, retryDelayMs: 10, notRunningRetries: 2 });
  await assert.rejects(
    resolveGuest(stopped.name, { docker }),
    (e: unknown) =>
      isNetplumbError('NAMESPACE_GONE')(e) && /is not running \(status: exited\)/.test((e as Error).message),
  );
  assert.equal(calls.length, 3, 'one inspect plus two retries');
  const created = await bed.createContainer(uniqueContainerName('created'));
  try {
    await assert.rejects(
      resolveGuest(created.name, viaBed()),
      (e: unknown) => isNetplumbError('NAMESPACE_GONE')(e) && /is not running/.test((e as Error).message),
    );
  } finally {
    await bed.removeContainer(created.name);
  }
});

test("an unknown container is NOT_FOUND with the engine's message", async () => {
  await assert.rejects(resolveGuest('np-no-such-container', viaBed()), (e: unknown) => {
    isNetplumbError('NOT_FOUND', 'container')(e);
    assert.match((e as Error).message, /np-no-such-container.*no such container/);
    return true;
  });
});

test('an ambiguous ID prefix is NOT_FOUND, saying it is ambiguous', async () => {
  // Create containers until two IDs share their first hex digit (at most 17 needed).
  const made: PodmanContainer[] = [];
  try {
    let prefix: string | undefined;
    const ids = [running.id, stopped.id];
    while (prefix === undefined) {
      const c = await bed.createContainer(uniqueContainerName('amb'));
      made.push(c);
      prefix = ids.find((id) => id[0] === c.id[0])?.[0];
      ids.push(c.id);
    }
    await assert.rejects(
      resolveGuest(prefix, viaBed()),
      (e: unknown) => isNetplumbError('NOT_FOUND')(e) && /ambiguous/.test((e as Error).message),
    );
  } finally {
    for (const c of made) await bed.removeContainer(c.name);
  }
});

test('a named namespace resolves by netns:NAME, by path and by { name }', async () => {
  const t = await TestNetns.create('guest');
  try {
    const expected = nsIdentityOf(t.path);
    const cases: [Parameters<typeof resolveGuest>[0], string][] = [
      [`netns:${t.name}`, 'netns'],
      [{ name: t.name }, 'netns'],
      [t.path, 'path'],
      [{ path: t.path }, 'path'],
    ];
    for (const [ref, kind] of cases) {
      await withGuest(await resolveGuest(ref), (g) => {
        assert.equal(g.kind, kind, JSON.stringify(ref));
        assert.deepEqual(g.identity, expected);
        assert.equal(g.containerId, undefined);
      });
    }
  } finally {
    await t.destroy();
  }
});

test("pid:N and /proc/N/ns/net resolve to that process's namespace", async () => {
  const expected = nsIdentityOf(`/proc/${running.pid}/ns/net`);
  for (const ref of [`pid:${running.pid}`, `/proc/${running.pid}/ns/net`, { pid: running.pid }]) {
    await withGuest(await resolveGuest(ref), (g) => {
      assert.equal(g.kind, 'pid');
      assert.equal(g.pid, running.pid);
      assert.deepEqual(g.identity, expected);
    });
  }
});

/**
 * init's namespace can be unreadable even to root (here: a sandbox whose pid 1 holds
 * capabilities we lack, so ptrace-mode access to /proc/1/ns is denied). Then pid:1 is
 * refused by the kernel (PRIVILEGE) before our check can run; either way nothing opens.
 */
const INIT_NETNS_READABLE = (() => {
  try {
    statSync('/proc/1/ns/net');
    return true;
  } catch {
    return false;
  }
})();
const INIT_REFUSAL = INIT_NETNS_READABLE ? 'HOST_NAMESPACE_REFUSED' : 'PRIVILEGE';

test('the host namespace is refused before anything changes, whatever the reference', async () => {
  for (const ref of [`pid:${process.pid}`, '/proc/self/ns/net', { pid: process.pid }]) {
    await assert.rejects(resolveGuest(ref), isNetplumbError('HOST_NAMESPACE_REFUSED'), JSON.stringify(ref));
  }
  for (const ref of ['pid:1', '/proc/1/ns/net'])
    await assert.rejects(resolveGuest(ref), isNetplumbError(INIT_REFUSAL), ref);
  const hostnet = await bed.runContainer(uniqueContainerName('hostnet'), { net: 'host' });
  try {
    await assert.rejects(
      resolveGuest(hostnet.name, viaBed()),
      (e: unknown) => isNetplumbError('HOST_NAMESPACE_REFUSED')(e) && /allowHostNetns/.test((e as Error).message),
    );
  } finally {
    await bed.removeContainer(hostnet.name);
  }
});

test('allowHostNetns lets the host namespace through', async () => {
  const own = nsIdentityOf(`/proc/${process.pid}/ns/net`);
  for (const ref of ['/proc/self/ns/net', `pid:${process.pid}`, ...(INIT_NETNS_READABLE ? ['pid:1'] : [])]) {
    await withGuest(await resolveGuest(ref, { allowHostNetns: true }), (g) => {
      assert.deepEqual(g.identity, ref === 'pid:1' ? nsIdentityOf('/proc/1/ns/net') : own, ref);
    });
  }
});

test('a missing or dead API socket is UNAVAILABLE, naming the socket and what to do', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-docker-'));
  try {
    const missing = join(dir, 'docker.sock');
    await assert.rejects(resolveGuest(running.name, { dockerOptions: { host: `unix://${missing}` } }), (e: unknown) => {
      isNetplumbError('UNAVAILABLE')(e);
      assert.match(
        (e as Error).message,
        new RegExp(`no container engine API socket at ${missing}.*podman system service.*DOCKER_HOST`),
      );
      return true;
    });
    writeFileSync(missing, '');
    await assert.rejects(
      resolveGuest(running.name, { dockerOptions: { host: `unix://${missing}` } }),
      (e: unknown) => isNetplumbError('UNAVAILABLE')(e) && /connection refused/.test((e as Error).message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an API socket this user may not connect to is PRIVILEGE', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-docker-'));
  const server = createServer((s) => s.destroy());
  try {
    chmodSync(dir, 0o755);
    const sock = join(dir, 'engine.sock');
    await new Promise<void>((r) => server.listen(sock, r));
    chmodSync(sock, 0o600);
    // Root ignores the mode: ask from an unprivileged user in a child process.
    const mod = JSON.stringify(require.resolve('../../src/guest/docker-api.js'));
    const script = `const { DockerClient } = require(${mod}); new DockerClient({ host: ${JSON.stringify(`unix://${sock}`)} }).inspect('con1').catch((e) => console.log(JSON.stringify({ code: e.code, message: e.message })));`;
    const out = JSON.parse(await must(['runuser', '-u', 'nobody', '--', process.execPath, '-e', script])) as {
      code: string;
      message: string;
    };
    assert.equal(out.code, 'PRIVILEGE', out.message);
    assert.match(out.message, new RegExp(`permission denied connecting to the container engine API socket ${sock}`));
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
});

/** An engine client that runs a hook around its Nth inspect: to kill the container at a chosen moment. */
class RacingClient extends DockerClient {
  #calls = 0;
  constructor(
    host: string,
    private readonly hook: (call: number, phase: 'before' | 'after') => Promise<void>,
  ) {
    super({ host, retryDelayMs: 20 });
  }

  override async inspect(ref: string): Promise<ContainerState> {
    const call = ++this.#calls;
    await this.hook(call, 'before');
    const state = await super.inspect(ref);
    await this.hook(call, 'after');
    return state;
  }
}

/** SIGKILL the container's process; wait until it is reaped and podman reports the container stopped. */
async function killContainer(c: PodmanContainer): Promise<void> {
  process.kill(c.pid, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  while (
    existsSync(`/proc/${c.pid}`) ||
    (await bed.podman(['inspect', '--format', '{{.State.Running}}', c.name])).trim() !== 'false'
  ) {
    if (Date.now() > deadline) throw new Error(`container ${c.name} (pid ${c.pid}) did not stop after SIGKILL`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const [moment, call, phase] of [
  ['between the inspect and the namespace open', 1, 'after'],
  ['between the namespace open and the re-inspect', 2, 'before'],
] as const) {
  test(`a container killed ${moment} is refused and no fd is left open`, async () => {
    const victim = await bed.runContainer(uniqueContainerName('race'));
    try {
      const nsFdsBefore = openNetnsFds();
      const docker = new RacingClient(bed.dockerHost, async (n, p) => {
        if (n === call && p === phase) await killContainer(victim);
      });
      await assert.rejects(resolveGuest(victim.name, { docker }), (e: unknown) => {
        assert.ok(e instanceof NetplumbError, String(e));
        assert.ok(e.code === 'NAMESPACE_GONE' || e.code === 'IDENTITY_MISMATCH', `${e.code}: ${e.message}`);
        assert.match(e.message, new RegExp(victim.name));
        return true;
      });
      assert.deepEqual(openNetnsFds(), nsFdsBefore, 'the namespace fd was closed');
    } finally {
      await bed.removeContainer(victim.name);
    }
  });
}
