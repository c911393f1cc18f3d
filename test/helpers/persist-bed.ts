/**
 * A bed for declared attachments: a private Open vSwitch (an emulated host namespace with
 * ovsdb-server, ovs-vswitchd and bridge `ovs0`), a private podman with its Docker-compatible
 * API service, a state directory, and `netplumb serve` run as the operator runs it (the
 * installed command, in the host namespace, following podman's events), stopped and started
 * at will. The oracles read the kernel and OVS themselves: `ip -json` inside a container's
 * namespace (through nsenter), `ovs-vsctl --format=json`, the state file as written.
 * One bed per test: its processes (the podman service) come and go with it.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { must, run, type RunResult } from '../../sandbox/exec.js';
import { startOvs, type OvsInstance } from '../../sandbox/ovs.js';
import { PodmanSandbox } from '../../sandbox/podman.js';
import { jsonLines, type ServedDaemon, serveInNetns } from './daemon.js';

const BIN = join(__dirname, '..', '..', '..', 'bin');

export interface LinkJson {
  ifname: string;
  address?: string;
  operstate?: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/** A log line of the daemon (pino JSON). */
export type LogLine = Record<string, unknown> & { level: number; msg: string };

export class PersistBed {
  #daemon: ServedDaemon | undefined;
  /** What the daemons stopped so far wrote to stderr. */
  #pastStderr = '';

  private constructor(
    readonly ovs: OvsInstance,
    readonly podman: PodmanSandbox,
    readonly dir: string,
  ) {}

  static async create(): Promise<PersistBed> {
    const dir = mkdtempSync('/tmp/np-persist-');
    chmodSync(dir, 0o755);
    let ovs: OvsInstance | undefined;
    try {
      ovs = await startOvs({ withVswitchd: true });
      await ovs.addBridge('ovs0');
      const podman = await PodmanSandbox.create();
      const bed = new PersistBed(ovs, podman, dir);
      await podman.startService().catch(async (e: unknown) => {
        await podman.destroy();
        throw e;
      });
      return bed;
    } catch (e) {
      await ovs?.stop();
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  get sock(): string {
    return join(this.dir, 'run', 'netplumb.sock');
  }

  get stateDir(): string {
    return join(this.dir, 'state');
  }

  /** The environment of every netplumb command and of the daemon. */
  env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      NETPLUMB_LOG: '',
      NETPLUMB_SOCKET: this.sock,
      NETPLUMB_STATE_DIR: this.stateDir,
      OVS_DB: this.ovs.remote,
      DOCKER_HOST: this.podman.dockerHost,
    };
  }

  /** `netplumb ARGS…` (or `pipework ARGS…`) in the host namespace (through the daemon when it runs). */
  netplumb(args: string[], program: 'netplumb' | 'pipework' = 'netplumb'): Promise<RunResult> {
    return run(['ip', 'netns', 'exec', this.ovs.netns, join(BIN, program), ...args], {
      env: this.env(),
      timeoutMs: 120_000,
    });
  }

  async ok(args: string[], program: 'netplumb' | 'pipework' = 'netplumb'): Promise<string> {
    const r = await this.netplumb(args, program);
    if (r.code !== 0) throw new Error(`${program} ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** `netplumb serve --foreground` in the host namespace, once it answers and follows podman's events. */
  async startDaemon(extraEnv: NodeJS.ProcessEnv = {}): Promise<void> {
    if (this.#daemon) throw new Error('the daemon runs already');
    this.#daemon = await serveInNetns(this.ovs.netns, undefined, this.sock, {
      env: { ...this.env(), NETPLUMB_LOG: 'info', ...extraEnv },
    });
  }

  /** Stop the daemon (SIGTERM: gracefully) and wait for its exit; resolves with its exit code. */
  async stopDaemon(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const d = this.#daemon;
    if (!d) return null;
    this.#daemon = undefined;
    const code = await d.stop(signal);
    this.#pastStderr += d.stderr();
    return code;
  }

  /** Every JSON line the daemons of this bed logged so far. */
  log(): LogLine[] {
    return jsonLines(this.stderr()) as LogLine[];
  }

  /** What the daemons of this bed wrote to stderr so far. */
  stderr(): string {
    return this.#pastStderr + (this.#daemon?.stderr() ?? '');
  }

  /** The state file as written (the oracle for declarations). */
  declarations(): { containerId: string; ifname: string; spec: Record<string, unknown> }[] {
    const path = join(this.stateDir, 'declared.json');
    if (!existsSync(path)) return [];
    return (JSON.parse(readFileSync(path, 'utf8')) as { declarations: [] }).declarations;
  }

  /** Oracle: `ip -json addr show` inside the container's namespace (empty while it is not running). */
  async links(container: string): Promise<LinkJson[]> {
    const pid = await this.podman.inspectPid(container);
    if (pid <= 0) return [];
    const r = await run(['nsenter', `--net=/proc/${pid}/ns/net`, 'ip', '-json', 'addr', 'show'], { timeoutMs: 10_000 });
    if (r.code !== 0) return []; // it died in between
    return (JSON.parse(r.stdout) as LinkJson[]).filter((l) => l.ifname !== 'lo');
  }

  /** Oracle: netplumb's OVS ports (`ovs-vsctl --format=json list Port`), with the container each is for. */
  async ovsPorts(): Promise<{ name: string; containerId: string }[]> {
    const doc = JSON.parse(await this.ovs.vsctl(['--format=json', '--columns=name,external_ids', 'list', 'Port'])) as {
      data: [string, ['map', [string, string][]]][];
    };
    const out: { name: string; containerId: string }[] = [];
    for (const [name, [, ids]] of doc.data) {
      const m = new Map(ids);
      if (m.get('netplumb.owner') === 'netplumb') out.push({ name, containerId: m.get('netplumb.guest') ?? '' });
    }
    return out;
  }

  /** ping from inside a container (busybox), true on a reply. */
  async pings(from: string, to: string): Promise<boolean> {
    const r = await this.podman.tryPodman(['exec', from, 'ping', '-c', '1', '-W', '1', to], { timeoutMs: 10_000 });
    return r.code === 0;
  }

  async destroy(): Promise<void> {
    await this.stopDaemon();
    const problems: unknown[] = [];
    await this.podman.destroy().catch((e: unknown) => problems.push(e));
    await this.ovs.stop().catch((e: unknown) => problems.push(e));
    rmSync(this.dir, { recursive: true, force: true });
    if (problems.length > 0) throw new Error(`persist bed cleanup: ${problems.map(String).join(' | ')}`);
  }
}

/** Poll `probe` until it returns a value (not undefined) or `timeoutMs` passes; then fail with `what`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not within ${timeoutMs} ms${last !== undefined ? ` (last error: ${String(last)})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

export { must };
