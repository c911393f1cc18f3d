/**
 * A private containerd (Debian's 1.6) and its `ctr` client: its own config, root, state and
 * sockets in a temp dir (the CRI plugin disabled: nothing reads /etc/cni for it), run in an
 * emulated host's network namespace, so that the CNI plugins `ctr run --cni` execs put their
 * host ends there. The machine's containerd, if any, is never touched.
 *
 * `ctr run --cni` reads its one network from /etc/cni/net.d (the first file) and its plugins
 * from /opt/cni/bin, with no option to point elsewhere. runCni() therefore runs ctr in a
 * mount namespace of its own where those are the given directories (bind mounts that go
 * with the process): nothing global is written, and two runs see different networks.
 *
 * Not the hot path: containerd and ctr run as processes (argv arrays, never a shell, but for
 * the fixed mount script).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireCommands } from './commands.js';
import { must, run } from './exec.js';
import { commandLine, delay, processesNaming, signalIfAlive } from './process.js';

const SETUP_HINT = 'run .ci/setup (apt-get install containerd runc)';
/** Where ctr's CNI path looks, replaced for one ctr process by runCni(). */
const CNI_CONF_DIR = '/etc/cni/net.d';
const CNI_BIN_PARENT = '/opt';
/**
 * In a fresh mount namespace: $CONF on /etc/cni/net.d, a tmpfs on /opt holding cni/bin with
 * $PLUGINS on it; then exec ctr.
 *   mount --bind CONF /etc/cni/net.d && mount -t tmpfs … /opt && mkdir -p /opt/cni/bin && mount --bind PLUGINS /opt/cni/bin
 */
const MOUNT_SCRIPT = [
  'set -e',
  `mount --bind "$NP_CNI_CONF" ${CNI_CONF_DIR}`,
  `mount -t tmpfs -o mode=0755 np-cni-bin ${CNI_BIN_PARENT}`,
  `mkdir -p ${CNI_BIN_PARENT}/cni/bin`,
  `mount --bind "$NP_CNI_PLUGINS" ${CNI_BIN_PARENT}/cni/bin`,
  'exec ctr "$@"',
].join('\n');

export interface CtrTask {
  id: string;
  pid: number;
  status: string;
}

export class ContainerdSandbox {
  readonly dir: string;
  readonly address: string;
  readonly netns: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  private constructor(dir: string, netns: string, child: ChildProcess) {
    this.dir = dir;
    this.address = join(dir, 'containerd.sock');
    this.netns = netns;
    this.#child = child;
    this.#exited = new Promise((r) => child.once('exit', () => r()));
  }

  /**
   * Equivalent to: nsenter --net=/run/netns/NETNS containerd --config DIR/config.toml
   * (root, state, sockets under DIR); resolves once `ctr version` answers.
   */
  static async start(netns: string): Promise<ContainerdSandbox> {
    requireCommands(['containerd', 'ctr', 'containerd-shim-runc-v2', 'runc'], 'a private containerd', SETUP_HINT);
    if (!existsSync(CNI_CONF_DIR) || !existsSync(CNI_BIN_PARENT))
      throw new Error(
        `ctr's CNI path needs ${CNI_CONF_DIR} and ${CNI_BIN_PARENT} to exist (as mount points): ${SETUP_HINT}`,
      );
    const dir = mkdtempSync(join(tmpdir(), 'np-containerd-'));
    const config = [
      'version = 2',
      `root = ${JSON.stringify(join(dir, 'root'))}`,
      `state = ${JSON.stringify(join(dir, 'state'))}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = ${JSON.stringify(join(dir, 'containerd.sock'))}`,
      '[ttrpc]',
      `  address = ${JSON.stringify(join(dir, 'containerd.sock.ttrpc'))}`,
      '',
    ].join('\n');
    writeFileSync(join(dir, 'config.toml'), config);
    const log = openSync(join(dir, 'containerd.log'), 'a');
    let child: ChildProcess;
    try {
      child = spawn('nsenter', [`--net=/run/netns/${netns}`, 'containerd', '--config', join(dir, 'config.toml')], {
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    const sb = new ContainerdSandbox(dir, netns, child);
    const deadline = Date.now() + 20_000;
    while ((await run(['ctr', '--address', sb.address, 'version'], { timeoutMs: 5000 })).code !== 0) {
      if (child.exitCode !== null || Date.now() > deadline) {
        const why = readFileSync(join(dir, 'containerd.log'), 'utf8').slice(-2000);
        await sb.stop().catch(() => undefined);
        throw new Error(`the private containerd did not answer on ${sb.address}: ${why}`);
      }
      await delay(50);
    }
    return sb;
  }

  /** `ctr --address SOCK ARGS…`; must succeed; returns stdout. */
  ctr(args: string[]): Promise<string> {
    return must(['ctr', '--address', this.address, ...args], { timeoutMs: 60_000 });
  }

  /**
   * `ctr run --cni --rootfs ROOTFS ID ARGV…` in the foreground, as a background process of
   * the caller, with `confDir` as /etc/cni/net.d and `pluginDir` as /opt/cni/bin: ADD before
   * the task starts; DEL once the task has exited (then ctr exits too).
   */
  runCni(
    id: string,
    rootfs: string,
    argv: string[],
    dirs: { confDir: string; pluginDir: string },
    env = {},
  ): ChildProcess {
    mkdirSync(join(this.dir, 'fifo'), { recursive: true });
    return spawn(
      'nsenter',
      [
        `--net=/run/netns/${this.netns}`,
        'unshare',
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        MOUNT_SCRIPT,
        'ctr',
        '--address',
        this.address,
        'run',
        '--cni',
        '--fifo-dir',
        join(this.dir, 'fifo'),
        '--rootfs',
        rootfs,
        id,
        ...argv,
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, ...env, NP_CNI_CONF: dirs.confDir, NP_CNI_PLUGINS: dirs.pluginDir },
      },
    );
  }

  /** The tasks, as `ctr task ls` shows them. */
  async tasks(): Promise<CtrTask[]> {
    return (await this.ctr(['task', 'ls']))
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => {
        const [id = '', pid = '0', status = ''] = l.trim().split(/\s+/);
        return { id, pid: Number(pid), status };
      });
  }

  /** The container ids, as `ctr containers ls -q` shows them. */
  async containers(): Promise<string[]> {
    return (await this.ctr(['containers', 'ls', '-q'])).split('\n').filter(Boolean).sort();
  }

  /**
   * Kill every task, delete every container, stop containerd (SIGTERM, SIGKILL after 10 s),
   * kill any shim of this sandbox still alive (an error then), remove the dir.
   */
  async stop(): Promise<void> {
    const problems: string[] = [];
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      try {
        for (const t of await this.tasks())
          await run(['ctr', '--address', this.address, 'task', 'kill', '-s', 'SIGKILL', t.id]);
        for (let i = 0; i < 100 && (await this.tasks()).some((t) => t.status === 'RUNNING'); i++) await delay(50);
        for (const t of await this.tasks()) await run(['ctr', '--address', this.address, 'task', 'delete', '-f', t.id]);
        for (const c of await this.containers())
          await run(['ctr', '--address', this.address, 'containers', 'delete', c]);
      } catch (e) {
        problems.push(String(e));
      }
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
      await this.#exited;
      clearTimeout(timer);
    }
    let left = processesNaming(this.dir);
    for (let i = 0; i < 100 && left.length > 0; i++) {
      await delay(50);
      left = processesNaming(this.dir);
    }
    if (left.length > 0) {
      problems.push(
        `processes of the containerd sandbox still alive (killed now): ${left.map((p) => `${p} ${commandLine(p).slice(0, 100)}`).join('; ')}`,
      );
      for (const p of left) signalIfAlive(p, 'SIGKILL');
    }
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.includes(this.dir));
    if (mounts.length > 0) problems.push(`mounts left under ${this.dir} (dir kept): ${mounts.join('; ')}`);
    else rmSync(this.dir, { recursive: true, force: true });
    if (problems.length > 0) throw new Error(`containerd sandbox cleanup: ${problems.join(' | ')}`);
  }
}
