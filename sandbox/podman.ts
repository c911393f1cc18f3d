/**
 * A private podman: real containers and podman's Docker-compatible API service, all in a
 * private temp dir (its own containers.conf, storage root, run root and tmp dir), so that
 * nothing in /etc/containers or /var/lib/containers is touched or seen, and other
 * sandboxes (test beds, a demo) running at the same time do not interfere.
 *
 * Containers run from a busybox root directory (no image, no registry), with `--net none`.
 * destroy() removes every container, stops the service and then checks that nothing is
 * left: `podman ps -a` empty, no container/conmon/podman process of this sandbox alive (by
 * pid and by any process whose command line names the sandbox's dir), no mount under the dir.
 * A sandbox whose owner process died (SIGKILL, crash) is reaped by the next create().
 *
 * Used by the demo, the tests and the benchmarks. Not the hot path:
 * podman runs as a process (argv arrays, never a shell).
 * Missing podman/runc/conmon/busybox is an error, never a skip.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { missingCommands, requireCommands } from './commands.js';
import { must, run, type RunResult } from './exec.js';
import { commandLine, delay, isAlive, processesNaming, processStamp, signalIfAlive } from './process.js';

/** How a sandbox differs from the default one. */
export interface PodmanSandboxOptions {
  /**
   * Run podman (and so conmon, the cleanup it execs, and the CNI plugins podman runs) in
   * this named network namespace, an emulated host: `nsenter --net=/run/netns/NAME podman …`
   * (only the network namespace: the mounts podman makes stay visible).
   */
  netns?: string;
  /**
   * The CNI backend: `[network] network_backend = "cni"` with these plugin and config dirs
   * (podman 4.3's CNI runtime) instead of the default.
   */
  cni?: { pluginDirs: string[]; configDir: string };
  /**
   * Environment for podman and for conmon (`[engine] conmon_env_vars`), so that what they
   * exec (a CNI plugin, the cleanup after a container's exit) sees it too.
   */
  env?: Record<string, string>;
}

export interface PodmanContainer {
  name: string;
  /** Full 64-hex ID. */
  id: string;
  /** Host PID of the container's init process (0 for a container that is not running). */
  pid: number;
}

/** The committed containers.conf (.ci/podman.conf), relative to dist/sandbox or sandbox. */
const CONF_CANDIDATES = [resolve(__dirname, '../../.ci/podman.conf'), resolve(__dirname, '../.ci/podman.conf')];
const REQUIRED_COMMANDS = ['podman', 'runc', 'conmon', 'busybox'];
const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'sleep', 'ip', 'ping', 'udhcpc', 'ifconfig', 'route', 'cat'];
const BED_PREFIX = 'np-podman-';
/** `<pid> <start time>` of the process that owns a sandbox. */
const OWNER_FILE = 'owner';
const SETUP_HINT = 'run .ci/setup (apt-get install podman runc busybox-static uidmap)';

export class PodmanSandbox {
  readonly dir: string;
  readonly rootfs: string;
  readonly socketPath: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #globalArgs: string[];
  /** `nsenter --net=…` when podman runs in an emulated host's namespace, else nothing. */
  readonly #prefix: string[];
  /** Every pid this sandbox caused to exist (containers, conmon, the service). */
  readonly #pids = new Set<number>();
  #service: ChildProcess | undefined;

  private constructor(dir: string, opts: PodmanSandboxOptions = {}) {
    this.dir = dir;
    this.#prefix = opts.netns === undefined ? [] : ['nsenter', `--net=/run/netns/${opts.netns}`];
    this.rootfs = join(dir, 'rootfs');
    this.socketPath = join(dir, 'podman.sock');
    this.#env = { ...process.env, ...opts.env, CONTAINERS_CONF: join(dir, 'containers.conf') };
    // vfs: with --rootfs nothing is layered, and vfs needs no overlay support from the kernel.
    this.#globalArgs = [
      '--root',
      join(dir, 'storage'),
      '--runroot',
      join(dir, 'run'),
      '--tmpdir',
      join(dir, 'tmp'),
      '--storage-driver',
      'vfs',
    ];
  }

  /**
   * Check the tools, reap sandboxes left by crashed processes, write containers.conf,
   * build the busybox root directory.
   */
  static async create(opts: PodmanSandboxOptions = {}): Promise<PodmanSandbox> {
    requireCommands(REQUIRED_COMMANDS, 'the podman sandbox', SETUP_HINT);
    await PodmanSandbox.#reapStale();
    const sb = new PodmanSandbox(mkdtempSync(join(tmpdir(), BED_PREFIX)), opts);
    try {
      writeFileSync(join(sb.dir, OWNER_FILE), processStamp(process.pid) ?? '');
      writeFileSync(sb.#env.CONTAINERS_CONF as string, containersConf(opts));
      buildBusyboxRoot(sb.rootfs);
      const runtime = (await sb.podman(['info', '--format', '{{.Host.OCIRuntime.Name}}'])).trim();
      if (runtime !== 'runc')
        throw new Error(
          `podman picked the OCI runtime "${runtime}", not runc: is .ci/podman.conf in effect (CONTAINERS_CONF)?`,
        );
    } catch (e) {
      rmSync(sb.dir, { recursive: true, force: true });
      throw e;
    }
    return sb;
  }

  /** `unix://<dir>/podman.sock`, for DOCKER_HOST. */
  get dockerHost(): string {
    return `unix://${this.socketPath}`;
  }

  /** Run `podman <global args> ARGS…` with this sandbox's config; must succeed; returns stdout. */
  podman(args: string[], timeoutMs = 60_000): Promise<string> {
    return must([...this.#prefix, 'podman', ...this.#globalArgs, ...args], { env: this.#env, timeoutMs });
  }

  /** Run `podman <global args> ARGS…` with this sandbox's config; resolves with the exit code and output. */
  tryPodman(args: string[], opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<RunResult> {
    return run([...this.#prefix, 'podman', ...this.#globalArgs, ...args], {
      env: this.#env,
      timeoutMs: opts.timeoutMs ?? 60_000,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  /** Pids this sandbox caused to exist (the API service, containers, their conmon), alive or not. */
  trackedPids(): number[] {
    return [...this.#pids].sort((a, b) => a - b);
  }

  /** Equivalent to: podman system service --time=0 unix://<dir>/podman.sock; waits for GET /_ping. */
  async startService(): Promise<void> {
    if (this.#service) return;
    const logPath = join(this.dir, 'service.log');
    const log = openSync(logPath, 'a');
    let child: ChildProcess;
    try {
      const argv = [...this.#prefix, 'podman', ...this.#globalArgs, 'system', 'service', '--time=0', this.dockerHost];
      child = spawn(argv[0] as string, argv.slice(1), {
        env: this.#env,
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    this.#service = child;
    if (child.pid !== undefined) this.#pids.add(child.pid);
    const deadline = Date.now() + 15_000;
    while (!(await ping(this.socketPath))) {
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        await this.stopService();
        throw new Error(
          `podman system service did not answer GET /_ping on ${this.socketPath}: ${readFileSync(logPath, 'utf8').trim().slice(-2000)}`,
        );
      }
      await delay(50);
    }
  }

  /** Stop the API service (SIGTERM, then SIGKILL after 5 s) and wait for its exit. */
  async stopService(): Promise<void> {
    const child = this.#service;
    if (!child) return;
    this.#service = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.socketPath, { force: true });
  }

  /** Equivalent to: podman run -d --name NAME --net none [--restart POLICY] --rootfs ROOTFS /bin/sleep 100000 */
  async runContainer(name: string, opts: { net?: string; restart?: string } = {}): Promise<PodmanContainer> {
    const r = await run(
      [
        ...this.#prefix,
        'podman',
        ...this.#globalArgs,
        'run',
        '-d',
        '--name',
        name,
        '--net',
        opts.net ?? 'none',
        ...(opts.restart !== undefined ? ['--restart', opts.restart] : []),
        '--rootfs',
        this.rootfs,
        '/bin/sleep',
        '100000',
      ],
      { env: this.#env, timeoutMs: 60_000 },
    );
    if (r.code !== 0)
      throw new Error(
        `podman run ${name} exited ${r.code}: ${r.stderr.trim()} (is ${BUSYBOX} the static one, from busybox-static?)`,
      );
    return this.#describe(name);
  }

  /** Equivalent to: podman create --name NAME --net none --rootfs ROOTFS /bin/sleep 100000 (never started). */
  async createContainer(name: string): Promise<PodmanContainer> {
    await this.podman(['create', '--name', name, '--net', 'none', '--rootfs', this.rootfs, '/bin/sleep', '100000']);
    return this.#describe(name);
  }

  /** Equivalent to: podman stop -t 0 NAME */
  async stopContainer(name: string): Promise<void> {
    await this.podman(['stop', '-t', '0', name]);
  }

  /** Equivalent to: podman rm -f -t 0 NAME */
  async removeContainer(name: string): Promise<void> {
    await this.podman(['rm', '-f', '-t', '0', name]);
  }

  /** Equivalent to: podman exec NAME ARGV…; must succeed; returns stdout. */
  execIn(name: string, argv: string[]): Promise<string> {
    return this.podman(['exec', name, ...argv]);
  }

  /** The oracle: podman inspect --format {{.State.Pid}} NAME */
  async inspectPid(name: string): Promise<number> {
    return Number((await this.podman(['inspect', '--format', '{{.State.Pid}}', name])).trim());
  }

  async #describe(name: string): Promise<PodmanContainer> {
    const [id = '', pid = '0', conmonPid = '0'] = (
      await this.podman(['inspect', '--format', '{{.Id}} {{.State.Pid}} {{.State.ConmonPid}}', name])
    )
      .trim()
      .split(' ');
    for (const p of [Number(pid), Number(conmonPid)]) if (p > 0) this.#pids.add(p);
    return { name, id, pid: Number(pid) };
  }

  /** Remove every container, stop the service, check that nothing is left, delete the dir. */
  async destroy(): Promise<void> {
    const problems: string[] = [];
    try {
      await this.podman(['rm', '--all', '--force', '-t', '0']);
      const left = (await this.podman(['ps', '--all', '--quiet'])).trim();
      if (left !== '') problems.push(`podman ps -a still lists: ${left.split('\n').join(' ')}`);
    } catch (e) {
      problems.push(String(e));
    }
    await this.stopService();
    const alive = await this.#waitForProcessesToExit(10_000);
    if (alive.length > 0)
      problems.push(`processes of the podman sandbox still alive after 10 s (killed now): ${alive.join(', ')}`);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.includes(this.dir));
    if (mounts.length > 0) problems.push(`mounts left under ${this.dir} (dir kept): ${mounts.join('; ')}`);
    else rmSync(this.dir, { recursive: true, force: true });
    if (problems.length > 0) throw new Error(`podman sandbox cleanup: ${problems.join(' | ')}`);
  }

  /** A sandbox whose owner process is gone (SIGKILLed, crashed): stop what it left, remove it. */
  static async #reapStale(): Promise<void> {
    for (const entry of readdirSync(tmpdir())) {
      if (!entry.startsWith(BED_PREFIX)) continue;
      const dir = join(tmpdir(), entry);
      let owner: string;
      try {
        owner = readFileSync(join(dir, OWNER_FILE), 'utf8');
      } catch {
        continue; // being created right now, or not ours
      }
      if (processStamp(Number(owner.split(' ')[0])) === owner) continue;
      const stale = new PodmanSandbox(dir);
      for (const pid of stale.#livePids()) signalIfAlive(pid, 'SIGTERM');
      await stale
        .destroy()
        .catch((e: unknown) => process.emitWarning(`reaping stale podman sandbox ${dir}: ${String(e)}`));
    }
  }

  /** Pids of this sandbox still alive: recorded ones, and any whose command line names the dir. */
  #livePids(): number[] {
    const live = new Set<number>([...[...this.#pids].filter(isAlive), ...processesNaming(this.dir)]);
    return [...live].sort((a, b) => a - b);
  }

  async #waitForProcessesToExit(timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    let live = this.#livePids();
    while (live.length > 0 && Date.now() < deadline) {
      await delay(50);
      live = this.#livePids();
    }
    const described = live.map((pid) => `${pid} (${commandLine(pid).slice(0, 120) || '?'})`);
    for (const pid of live) signalIfAlive(pid, 'SIGKILL');
    return described;
  }
}

/** A container name unique to this run: `np-<prefix>-<random>`. */
export function uniqueContainerName(prefix: string): string {
  return `np-${prefix}-${randomBytes(4).toString('hex')}`;
}

function podmanConfPath(): string {
  const found = CONF_CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error(`.ci/podman.conf not found (looked at ${CONF_CANDIDATES.join(', ')})`);
  return found;
}

const toml = (v: string | string[]): string => JSON.stringify(v);

/** .ci/podman.conf, plus conmon's environment and the CNI backend when asked for. */
function containersConf(opts: PodmanSandboxOptions): string {
  let conf = readFileSync(podmanConfPath(), 'utf8');
  if (opts.env !== undefined) {
    const vars = Object.entries({ PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...opts.env });
    conf = conf.replace(/^\[engine\]$/m, `[engine]\nconmon_env_vars = ${toml(vars.map(([k, v]) => `${k}=${v}`))}`);
  }
  if (opts.cni !== undefined)
    conf += [
      '\n[network]',
      'network_backend = "cni"',
      `cni_plugin_dirs = ${toml(opts.cni.pluginDirs)}`,
      `network_config_dir = ${toml(opts.cni.configDir)}`,
      '',
    ].join('\n');
  return conf;
}

/** The commands a podman sandbox needs (podman, runc, conmon, busybox) that are not installed. */
export function missingPodmanCommands(): string[] {
  return missingCommands(REQUIRED_COMMANDS);
}

/** R/bin/busybox plus one symlink per applet: enough of a root for `sleep` and network tools. */
export function buildBusyboxRoot(root: string): void {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: ${SETUP_HINT}`);
  const bin = join(root, 'bin');
  mkdirSync(bin, { recursive: true });
  for (const d of ['proc', 'sys', 'dev', 'etc', 'tmp']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(BUSYBOX, join(bin, 'busybox'));
  for (const applet of APPLETS) symlinkSync('busybox', join(bin, applet));
}

/** GET /_ping on the socket: true once the service answers OK. */
function ping(socketPath: string): Promise<boolean> {
  return new Promise((done) => {
    const req = request({ socketPath, path: '/_ping', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(false));
    req.end();
  });
}
