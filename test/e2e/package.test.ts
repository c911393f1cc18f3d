/**
 * The package as a user gets it. `npm pack` runs in a copy of this checkout (the working tree is
 * left alone), then `npm install` of the tarball into an empty project, as a user types it:
 *
 *   - with no compiler on PATH (only node and sh): the addon must come prebuilt in the tarball;
 *   - with the npm registry out of reach: the dependencies come from a private npm cache filled
 *     from .ci/npm-offline/ (`npm cache add`), and npm runs `--offline`.
 *
 * Then the installed commands and library are run from that project — never this checkout's — and
 * one native call (the links of a test namespace) is checked against `ip -json`. Last, the
 * package's prebuild is removed: the first native call must fail with a NetplumbError, and
 * `npm rebuild netplumb` must build the addon from source.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, delimiter, join, relative, sep } from 'node:path';
import { TestNetns } from '../helpers/netns.js';
import { useLeakCheck } from '../helpers/leak.js';

const ROOT = join(__dirname, '..', '..', '..');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const WHERE = `${process.platform}-${process.arch}`;

/** The offline store's view of package-lock.json (.ci/offline-install.js). */
interface StorePackage {
  where: string;
  name: string;
  entry: { version: string; integrity: string; resolved?: string; dev?: boolean };
  file: string;
}
const offlineStore = createRequire(__filename)(join(ROOT, '.ci', 'offline-install.js')) as {
  packages(): StorePackage[];
  mismatch(p: StorePackage): string | undefined;
};

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run argv in `cwd` with exactly `env`; never rejects on a non-zero exit. */
function runIn(cwd: string, argv: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<Ran> {
  const [file, ...args] = argv as [string, ...string[]];
  const start = performance.now();
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
        reject(new Error(`${argv.join(' ')}: ${err.message}`));
        return;
      }
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr), ms: performance.now() - start });
    });
  });
}

async function mustIn(cwd: string, argv: string[], env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<Ran> {
  const r = await runIn(cwd, argv, env, timeoutMs);
  assert.equal(r.code, 0, `${argv.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** The first `name` on `path`, or undefined. */
function onPath(name: string, path: string): string | undefined {
  return path
    .split(delimiter)
    .map((dir) => join(dir, name))
    .find((f) => existsSync(f));
}

/**
 * This process's environment without what `npm test` adds (npm_* settings of this checkout, its
 * node_modules/.bin on PATH), so that npm in the temporary project sees only its own.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD' && k !== 'NODE_PATH'),
  );
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((d) => !d.includes(`${sep}node_modules${sep}`))
    .join(delimiter);
  return env;
}

// Where it all happens; removed at the end.
let work: string;
/** npm's own entry point, run by this node (npm is itself a node program). */
let npmCli: string;
/** Where npm caches: filled from .ci/npm-offline/, the only source of packages. */
let cache: string;
/** The tarball `npm pack` made. */
let tarball: string;
/** The user's project, and netplumb installed in it. */
let project: string;
let installed: string;
/** The environment of a machine with node and nothing to compile with: PATH holds node and sh only. */
let bare: NodeJS.ProcessEnv;
let full: NodeJS.ProcessEnv;
let packRun: Ran;
let installRun: Ran;

/** npm as the user runs it in the project, offline, from the private cache. */
function npm(args: string[], env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<Ran> {
  return mustIn(project, [process.execPath, npmCli, ...args, '--offline', `--cache=${cache}`], env, timeoutMs);
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'np-package-'));
  full = cleanEnv();
  // node-gyp builds against this machine's Node headers when it has them, as .ci/setup does.
  if (existsSync('/usr/include/node/node.h')) full.npm_config_nodedir = '/usr';
  const npmOnPath = onPath('npm', full.PATH ?? '');
  assert.ok(npmOnPath, 'npm is on PATH');
  npmCli = realpathSync(npmOnPath);

  // 1. npm pack in a copy of the checkout: the package's files, its own build (prepack, prepare).
  const checkout = join(work, 'checkout');
  const skip = new Set(['node_modules', 'dist', 'build', 'prebuilds', '.git', '.ci', 'test', 'bench', 'long']);
  cpSync(ROOT, checkout, {
    recursive: true,
    filter: (src) => {
      const top = relative(ROOT, src).split(sep)[0] ?? '';
      return !skip.has(top) && !/^netplumb-.*\.tgz$/.test(top);
    },
  });
  symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
  const out = join(work, 'out');
  mkdirSync(out);
  packRun = await mustIn(checkout, [process.execPath, npmCli, 'pack', `--pack-destination=${out}`], full, 600_000);
  const made = readdirSync(out);
  assert.deepEqual(made, [`${PACKAGE.name}-${PACKAGE.version}.tgz`], 'npm pack made one tarball');
  tarball = join(out, made[0] as string);

  // 2. A private npm cache holding the dependencies' tarballs from the offline store, checked
  //    against package-lock.json's integrity; and the user's empty project with a lock file that
  //    pins them (npm resolves nothing offline without one).
  const runtime = offlineStore.packages().filter((p) => !p.entry.dev);
  for (const p of runtime) assert.equal(offlineStore.mismatch(p), undefined);
  cache = join(work, 'cache');
  project = join(work, 'project');
  mkdirSync(project);
  await npm(['cache', 'add', ...runtime.map((p) => p.file)], full);
  const locked = Object.fromEntries(
    runtime.map((p) => [
      p.where,
      {
        ...p.entry,
        resolved:
          p.entry.resolved ?? `https://registry.npmjs.org/${p.name}/-/${basename(p.name)}-${p.entry.version}.tgz`,
      },
    ]),
  );
  // allowScripts: npm from 11.x on runs a dependency's install script only when the project allows it.
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, allowScripts: { netplumb: true } }),
  );
  writeFileSync(
    join(project, 'package-lock.json'),
    JSON.stringify({
      name: 'consumer',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: { '': { name: 'consumer', version: '1.0.0' }, ...locked },
    }),
  );

  // 3. A machine with nothing to compile with: PATH holds node and sh, nothing else.
  const bin = join(work, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
  bare = { ...full, PATH: bin };
  delete bare.npm_config_nodedir;

  // 4. npm install of the tarball, its install script's output shown.
  installRun = await npm(['install', tarball, '--foreground-scripts', '--no-audit', '--no-fund'], bare, 300_000);
  installed = join(project, 'node_modules', 'netplumb');
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});
useLeakCheck();

test('the tarball holds the commands, the compiled library, the prebuilt addon and the sources to rebuild it — nothing else', async (t) => {
  t.diagnostic(`npm pack: ${Math.round(packRun.ms)} ms; ${statSync(tarball).size} bytes`);
  const listing = await mustIn(work, ['tar', '-tzf', tarball], full);
  const files = listing.stdout
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
  const allowed = [
    /^package\.json$/,
    /^README\.md$/,
    /^LICENSE$/,
    /^bin\/(netplumb|pipework|netplumb-cni|node-cli\.js)$/,
    /^dist\/src\/.+\.(js|d\.ts)$/,
    /^dist\/bundle\/[a-z.-]+\.js$/,
    new RegExp(`^prebuilds/${WHERE}/(netplumb\\.node|netplumb-front)$`),
    /^native\/[^/]+\.(cc|c|h)$/,
    /^binding\.gyp$/,
    /^libexec\/netplumb-(jail|dhcp-hook)$/,
    /^scripts\/(install|native-artefacts|front-door)\.js$/,
  ];
  for (const f of files)
    assert.ok(
      allowed.some((re) => re.test(f)),
      `${f} is not something a user needs`,
    );
  for (const f of [
    'package.json',
    'bin/netplumb',
    'bin/pipework',
    'bin/netplumb-cni',
    'bin/node-cli.js',
    'dist/src/index.js',
    'dist/src/index.d.ts',
    'dist/bundle/netplumb.js',
    'dist/bundle/pipework.js',
    'dist/bundle/netplumb-cni.js',
    `prebuilds/${WHERE}/netplumb.node`,
    `prebuilds/${WHERE}/netplumb-front`,
    'native/netplumb.cc',
    'native/front.c',
    'binding.gyp',
    'scripts/install.js',
    'scripts/native-artefacts.js',
    'scripts/front-door.js',
  ])
    assert.ok(files.includes(f), `the tarball has ${f}`);
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  for (const [name, range] of Object.entries(manifest.dependencies))
    assert.doesNotMatch(range, /^(file|link|git|https?):/, `${name} comes from the registry`);
});

test('installed with no compiler on PATH and no registry: the prebuild is used, nothing is built', (t) => {
  t.diagnostic(`npm install: ${Math.round(installRun.ms)} ms`);
  for (const tool of ['g++', 'c++', 'cc', 'make', 'python3'])
    assert.equal(onPath(tool, bare.PATH ?? ''), undefined, `${tool} is not on the install's PATH`);
  assert.match(
    installRun.stdout + installRun.stderr,
    new RegExp(`netplumb: using the prebuilt native artefacts for ${WHERE}`),
  );
  assert.equal(existsSync(join(installed, 'build')), false, 'no build/ in the installed package');
  // The commands are the prebuilt front door itself, no Node.js launcher in between.
  assert.match(installRun.stdout + installRun.stderr, /netplumb, pipework, netplumb-cni run the native front door/);
  const front = statSync(join(installed, 'prebuilds', WHERE, 'netplumb-front'));
  for (const name of ['netplumb', 'pipework', 'netplumb-cni'])
    assert.equal(statSync(join(installed, 'bin', name)).ino, front.ino, `bin/${name} is the front door`);
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { integrity?: string }>;
  };
  assert.equal(lock.packages['node_modules/netplumb']?.integrity, integrity, 'the project installed this tarball');
});

test('the installed netplumb, pipework and netplumb-cni commands: --version, --help, CNI VERSION', async () => {
  const bin = (name: string) => join(project, 'node_modules', '.bin', name);
  const version = await mustIn(project, [bin('netplumb'), '--version'], bare);
  assert.equal(version.stdout, `netplumb ${PACKAGE.version}\n`);
  const help = await mustIn(project, [bin('netplumb'), '--help'], bare);
  assert.match(help.stdout, /^Usage: netplumb <command>/);
  assert.match(help.stdout, /\battach\b/);
  const pipework = await mustIn(project, [bin('pipework'), '--help'], bare);
  assert.match(pipework.stdout, /^Syntax:\npipework <hostinterface>/);
  // The CNI plugin as a runtime calls it: CNI_COMMAND in the environment, nothing on stdin.
  const cni = await mustIn(project, [bin('netplumb-cni')], { ...bare, CNI_COMMAND: 'VERSION' });
  const answer = JSON.parse(cni.stdout) as { cniVersion: string; supportedVersions: string[] };
  assert.ok(answer.supportedVersions.includes('1.0.0') && answer.supportedVersions.includes('1.1.0'), cni.stdout);
});

/** The two ways to load the installed library, and how node runs a script written in each. */
const LOADERS = {
  require: {
    head: "const { openNetns, openRouteTransport, Rtnl } = require('netplumb');\nconst { readFileSync } = require('node:fs');",
    node: ['node', '-e'],
  },
  import: {
    head: "import { openNetns, openRouteTransport, Rtnl } from 'netplumb';\nimport { readFileSync } from 'node:fs';",
    node: ['node', '--input-type=module', '-e'],
  },
} as const;
type Loader = keyof typeof LOADERS;

/** A script that imports the installed library one way or the other and prints what it got. */
const NAMES_CJS = `
const m = require('netplumb');
console.log(JSON.stringify({
  resolved: require.resolve('netplumb'),
  names: Object.keys(m).sort(),
  version: require('netplumb/package.json').version,
}));`;
const NAMES_ESM = `
import * as m from 'netplumb';
import { Plumber, NetplumbError, Rtnl, openNetns } from 'netplumb';
console.log(JSON.stringify({
  resolved: import.meta.resolve('netplumb'),
  names: Object.keys(m).filter((k) => k !== 'default' && k !== '__esModule').sort(),
  named: [Plumber, NetplumbError, Rtnl, openNetns].map((v) => typeof v),
}));`;

test('require() and import of the installed library: the same names, from the installed package', async () => {
  const entry = join(installed, 'dist', 'src', 'index.js');
  const cjs = JSON.parse((await mustIn(project, [...LOADERS.require.node, NAMES_CJS], bare)).stdout) as {
    resolved: string;
    names: string[];
    version: string;
  };
  assert.equal(cjs.resolved, entry);
  assert.equal(cjs.version, PACKAGE.version);
  for (const name of ['Plumber', 'NetplumbError', 'ErrorCode', 'Rtnl', 'openNetns', 'openRouteTransport'])
    assert.ok(cjs.names.includes(name), `require('netplumb').${name}`);

  const esm = JSON.parse((await mustIn(project, [...LOADERS.import.node, NAMES_ESM], bare)).stdout) as {
    resolved: string;
    names: string[];
    named: string[];
  };
  assert.equal(esm.resolved, `file://${entry}`);
  assert.deepEqual(esm.named, ['function', 'function', 'function', 'function']);
  // Every export of the CommonJS module is a named export of the ES module (Node reads them from its source).
  assert.deepEqual(esm.names, cjs.names);
});

test('TypeScript finds the installed package’s types through its exports map, for import and require', async () => {
  writeFileSync(
    join(project, 'esm.mts'),
    "import { Plumber, type AttachSpec } from 'netplumb';\n" +
      "const spec: AttachSpec = { host: 'ovs0', guest: { container: 'c1' }, vlan: 100, ip: { kind: 'static', address: '10.0.0.1/24' } };\n" +
      'export const open: typeof Plumber.open = Plumber.open;\nexport { spec };\n',
  );
  writeFileSync(
    join(project, 'cjs.cts'),
    "import netplumb = require('netplumb');\nexport const code: string = netplumb.ErrorCode.NOT_FOUND;\n",
  );
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        typeRoots: [join(ROOT, 'node_modules', '@types')],
        types: ['node'],
      },
      files: ['esm.mts', 'cjs.cts'],
    }),
  );
  const tsc = [process.execPath, join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'];
  await mustIn(project, tsc, full);
  // The oracle can fail: a name the package does not export is an error.
  writeFileSync(join(project, 'esm.mts'), "import { NoSuchExport } from 'netplumb';\nexport { NoSuchExport };\n");
  const wrong = await runIn(project, tsc, full);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stdout, /NoSuchExport/);
});

/**
 * A script printing the installed library's view of a namespace's links and which addon file it
 * loaded (from /proc/self/maps), as JSON; or the error it threw.
 */
function linksScript(loader: Loader, netns: string): string {
  return `${LOADERS[loader].head}
async function main() {
  const ns = openNetns({ name: ${JSON.stringify(netns)} });
  const rtnl = new Rtnl(openRouteTransport(ns.fd));
  const links = await rtnl.link.list();
  rtnl.close();
  ns.close();
  const maps = readFileSync('/proc/self/maps', 'utf8').split('\\n');
  const addon = [...new Set(maps.filter((l) => l.endsWith('netplumb.node')).map((l) => l.slice(l.indexOf('/'))))];
  return { links: links.map((l) => ({ name: l.name, index: l.index })).sort((a, b) => a.index - b.index), addon };
}
main().then(
  (r) => console.log(JSON.stringify(r)),
  (e) => console.log(JSON.stringify({ error: { name: e.name, code: e.code, message: e.message } })),
);`;
}

interface LinksResult {
  links?: { name: string; index: number }[];
  addon?: string[];
  error?: { name: string; code: string; message: string };
}

async function listLinks(ns: TestNetns, loader: Loader, env: NodeJS.ProcessEnv): Promise<LinksResult> {
  const argv = [...LOADERS[loader].node, linksScript(loader, ns.name)];
  return JSON.parse((await mustIn(project, argv, env)).stdout) as LinksResult;
}

/** The oracle: the namespace's links as `ip -json` lists them. */
async function ipLinks(ns: TestNetns): Promise<{ name: string; index: number }[]> {
  return (await ns.ip<{ ifname: string; ifindex: number }>('link', 'show'))
    .map((l) => ({ name: l.ifname, index: l.ifindex }))
    .sort((a, b) => a.index - b.index);
}

test('a native call through the installed library (require and import): a namespace’s links, as ip -json lists them', async () => {
  const ns = await TestNetns.create('pkg');
  try {
    await ns.exec(['ip', 'link', 'add', 'np-pkg0', 'type', 'veth', 'peer', 'name', 'np-pkg1']);
    const expected = await ipLinks(ns);
    assert.deepEqual(expected.map((l) => l.name).sort(), ['lo', 'np-pkg0', 'np-pkg1']);
    for (const loader of ['require', 'import'] as const) {
      const got = await listLinks(ns, loader, bare);
      assert.equal(got.error, undefined, JSON.stringify(got.error));
      assert.deepEqual(got.links, expected, loader);
      assert.deepEqual(got.addon, [join(installed, 'prebuilds', WHERE, 'netplumb.node')], 'the prebuild is loaded');
    }
  } finally {
    await ns.destroy();
  }
});

/** `netplumb serve` of the installed package in namespace `host`, once it logs that it is serving. */
async function serveInstalled(host: TestNetns, sock: string, env: NodeJS.ProcessEnv) {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      host.name,
      join(project, 'node_modules', '.bin', 'netplumb'),
      'serve',
      '--socket',
      sock,
      '--foreground',
    ],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const log = () =>
    stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg?: string; method?: string; program?: string });
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (log().some((l) => l.msg === 'serving')) resolve();
    });
    void exited.then((code) => reject(new Error(`netplumb serve exited ${code}: ${stderr}`)));
  });
  return {
    /** The methods of the requests the daemon served, from its log. */
    requests: () => log().flatMap((l) => (l.msg === 'request' && l.method ? [l.method] : [])),
    /** The programs of the calls the front door handed the daemon, from its log. */
    frontDoorCalls: () => log().flatMap((l) => (l.msg === 'front-door call' && l.program ? [l.program] : [])),
    /** SIGTERM: the daemon finishes what is in flight and exits. */
    stop: async (): Promise<number | null> => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

test('the installed commands at work: pipework attaches a namespace to a Linux bridge through the installed netplumb serve, netplumb detaches it', async () => {
  // The host and the guest are namespaces of the test's own; the daemon and the commands run in the host.
  const host = await TestNetns.create('pkh');
  const guest = await TestNetns.create('pkg');
  const dir = mkdtempSync(join(work, 'run-'));
  // No Open vSwitch: a path where no OVSDB server listens, for the daemon and the commands alike.
  const env = {
    ...full,
    NETPLUMB_SOCKET: join(dir, 'netplumb.sock'),
    OVS_DB: `unix:${join(dir, 'no-ovsdb.sock')}`,
    NETPLUMB_LOG: '',
  };
  // The daemon logs at debug level: each call the front door hands it.
  const daemon = await serveInstalled(host, env.NETPLUMB_SOCKET, { ...env, NETPLUMB_LOG: 'debug' });
  let stopped: number | null;
  try {
    const cli = (name: string, args: string[]) =>
      mustIn(project, ['ip', 'netns', 'exec', host.name, join(project, 'node_modules', '.bin', name), ...args], env);
    await cli('pipework', ['brpk0', `netns:${guest.name}`, '10.77.0.2/24']);
    const [eth1] = await guest.ip<{ addr_info: { family: string; local: string; prefixlen: number }[] }>(
      'addr',
      'show',
      'dev',
      'eth1',
    );
    assert.deepEqual(
      eth1?.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
      ['10.77.0.2/24'],
    );
    const ports = await host.ip<{ ifname: string }>('link', 'show', 'master', 'brpk0');
    assert.equal(ports.length, 1, 'one host veth on brpk0');

    const detached = JSON.parse(
      (await cli('netplumb', ['detach', '--container', `netns:${guest.name}`, '--all', '--json'])).stdout,
    ) as {
      detached: { hostIfname: string }[];
    };
    assert.deepEqual(
      detached.detached.map((d) => d.hostIfname),
      ports.map((p) => p.ifname),
    );
    assert.equal(await guest.link('eth1'), undefined, 'eth1 is gone from the guest');
    assert.deepEqual(await host.ip('link', 'show', 'master', 'brpk0'), [], 'no port left on brpk0');
    assert.deepEqual(daemon.requests(), ['attach', 'detach'], 'the installed daemon served both commands');
    assert.deepEqual(daemon.frontDoorCalls(), ['pipework', 'netplumb'], 'handed to it by the front door');
  } finally {
    stopped = await daemon.stop();
    await guest.destroy();
    await host.destroy();
  }
  assert.equal(stopped, 0, 'netplumb serve exits 0 on SIGTERM');
});

test('no addon that loads: a NetplumbError saying how to get one; npm rebuild netplumb builds it from source', async (t) => {
  rmSync(join(installed, 'prebuilds'), { recursive: true });
  const ns = await TestNetns.create('pkg');
  try {
    const missing = await listLinks(ns, 'require', bare);
    assert.equal(missing.error?.name, 'NetplumbError', JSON.stringify(missing));
    assert.equal(missing.error?.code, 'INCOMPATIBLE');
    assert.match(missing.error?.message ?? '', /prebuilds\/linux-x64\/netplumb\.node: absent/);
    assert.match(missing.error?.message ?? '', /npm rebuild netplumb/);

    // With a compiler, as the message says.
    const rebuild = await npm(['rebuild', 'netplumb', '--foreground-scripts'], full, 600_000);
    t.diagnostic(`npm rebuild netplumb (from source): ${Math.round(rebuild.ms)} ms`);
    assert.match(rebuild.stdout + rebuild.stderr, /no prebuilt netplumb\.node for linux-x64; building from source/);
    const built = join(installed, 'build', 'Release', 'netplumb.node');
    assert.ok(existsSync(built), `${built} was built`);
    const got = await listLinks(ns, 'require', bare);
    assert.equal(got.error, undefined, JSON.stringify(got.error));
    assert.deepEqual(got.links, await ipLinks(ns));
    assert.deepEqual(got.addon, [built], 'the source build is loaded');
  } finally {
    await ns.destroy();
  }
});
