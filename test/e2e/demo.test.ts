/**
 * The README's first command, as a user runs it: the compiled demo (dist/demo/main.js)
 * as a child process, with real podman containers, private Open vSwitches, real probes and
 * iperf3, in each scenario. Asserted: exit status; the matrix — every pair reached exactly
 * when this test's table puts both guests on one segment, judged by netplumb check when
 * both are on one host and by ping across hosts, as the demo says in its --json report
 * (seed, ovn) and in its printed report (trunk); the pictures --svg drew, one per host; a
 * positive throughput — and that nothing of it is left: the leak check (links,
 * namespaces, fds, children), no daemon, container or conmon process it started, no
 * podman storage, no temp dir (the demo runs with TMPDIR pointing at a dir of this test).
 * Ctrl-C while the matrix is measured, on one host and on two: exit 130, all removed.
 */
import { test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../sandbox/exec.js';
import { commandLine, isAlive, processesNaming } from '../../sandbox/process.js';
import { useLeakCheck } from '../helpers/leak.js';
import type { DemoReport } from '../../demo/main.js';

const ROOT = join(__dirname, '..', '..', '..');
const MAIN = join(ROOT, 'dist', 'demo', 'main.js');

/** Each guest's host and segment, per scenario. */
interface Layout {
  hosts: string[];
  guests: Record<string, { host: string; segment: string }>;
}
/** con1..con4, each on its host and segment; the hosts in order of first use. */
function layout(placed: readonly [string, string][]): Layout {
  return {
    hosts: [...new Set(placed.map(([host]) => host))],
    guests: Object.fromEntries(placed.map(([host, segment], i) => [`con${i + 1}`, { host, segment }])),
  };
}
const SEED = layout([
  ['host', '@100'],
  ['host', '@100'],
  ['host', '@200'],
  ['host', '@200'],
]);
const TRUNK = layout([
  ['h1', '@100'],
  ['h1', '@200'],
  ['h2', '@100'],
  ['h2', '@200'],
]);
const OVN = layout([
  ['h1', 'vlan100'],
  ['h2', 'vlan100'],
  ['h1', 'vlan200'],
  ['h3', 'vlan200'],
]);
const GUESTS = ['con1', 'con2', 'con3', 'con4'];

useLeakCheck();

/** A TMPDIR for one demo run, so that whatever it leaves in its temp dir is seen. */
function withTmp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'np-demo-test-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** Processes whose command line names one of these paths (daemons, conmon, podman, containers). */
function processesNamingAny(paths: string[]): string[] {
  return paths.flatMap((p) => processesNaming(p).map((pid) => `${pid} ${commandLine(pid).slice(0, 120)}`));
}

/** Nothing the demo reported creating may still exist; `daemons`: how many it reported starting for its hosts. */
function assertNothingLeft(r: DemoReport, tmp: string, daemons: number): void {
  const sb = r.sandbox;
  for (const d of sb.hostDirs) assert.ok(d.startsWith(tmp), `the host dir ${d} is under the test's TMPDIR`);
  assert.equal(sb.hostPids.length, daemons, "the hosts' daemons (ovsdb-server, ovs-vswitchd …) were started");
  assert.deepEqual(sb.hostPids.filter(isAlive), [], 'daemons of the hosts started by the demo still run');
  const dirs = [...sb.hostDirs, sb.podmanDir].filter((d): d is string => d !== undefined);
  assert.deepEqual(processesNamingAny(dirs), [], 'processes of the demo (OVS daemons, podman, conmon) still run');
  for (const d of dirs) assert.equal(existsSync(d), false, `${d} was removed`);
  for (const ns of [...sb.hostNetns, ...sb.guestNetns])
    assert.equal(existsSync(`/run/netns/${ns}`), false, `namespace ${ns} was deleted`);
  assert.deepEqual(readdirSync(tmp), [], 'the demo left something in its temp dir');
}

/**
 * The same for a run without --json, from what its progress lines named: the namespaces
 * (np-demo-PID-…) and the pids (the hosts' daemons, then the containers).
 */
function assertNothingLeftAsPrinted(out: string, tmp: string, pids: number): void {
  const netns = [...new Set(out.match(/np-demo-\d+-[a-z0-9]+/g) ?? [])];
  const printed = [...out.matchAll(/pids ([\d ]+)/g)].flatMap((m) => (m[1] as string).trim().split(' ').map(Number));
  assert.ok(netns.length > 0 && printed.length === pids, `${pids} pids and the namespaces as printed:\n${out}`);
  assert.deepEqual(printed.filter(isAlive), [], 'daemons or containers of the demo still run');
  for (const ns of netns) assert.equal(existsSync(`/run/netns/${ns}`), false, `namespace ${ns} was deleted`);
  assert.deepEqual(processesNamingAny([tmp]), []);
  assert.deepEqual(readdirSync(tmp), [], 'the demo left something in its temp dir');
}

/** Run the demo in a TMPDIR of its own; it must exit 0. */
async function runDemo(tmp: string, args: string[]): Promise<string> {
  const r = await run([process.execPath, MAIN, ...args], {
    env: { ...process.env, TMPDIR: tmp },
    timeoutMs: 180_000,
  });
  assert.equal(r.code, 0, `demo exited ${r.code}: ${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** With --json: its one line of output, parsed. */
async function runDemoJson(tmp: string, args: string[]): Promise<DemoReport> {
  const lines = (await runDemo(tmp, ['--json', ...args])).trim().split('\n');
  assert.equal(lines.length, 1, '--json prints exactly one JSON object');
  return JSON.parse(lines[0] as string) as DemoReport;
}

/** Pairs of guests on one host: judged by check there; across hosts: by ping. */
function judge(l: Layout, from: string, to: string): { reach: boolean; by: 'check' | 'ping'; host?: string } {
  const [a, b] = [l.guests[from], l.guests[to]];
  const reach = a?.segment === b?.segment;
  return a?.host === b?.host ? { reach, by: 'check', host: a?.host as string } : { reach, by: 'ping' };
}

/** Every ordered pair of distinct guests, reached exactly when their segments match, judged by whom it should be. */
function assertMatrix(report: DemoReport, l: Layout): void {
  const cells = report.matrix?.cells ?? [];
  assert.deepEqual(
    cells.map((c) => `${c.from}>${c.to}`),
    GUESTS.flatMap((a) => GUESTS.filter((b) => b !== a).map((b) => `${a}>${b}`)),
    'every ordered pair, in order',
  );
  for (const c of cells) {
    const want = judge(l, c.from, c.to);
    assert.equal(c.expected, want.reach, `${c.from} → ${c.to}: expectation`);
    assert.equal(
      c.reached,
      want.reach,
      `${c.from} → ${c.to}: ${want.reach ? 'the same segment must reach' : 'another segment must not reach'}`,
    );
    assert.equal(c.ok, true);
    assert.equal(c.by, want.by, `${c.from} → ${c.to}: judged by ${want.by}`);
    assert.equal(c.host, want.host);
  }
  assert.deepEqual([report.matrix?.ok, report.matrix?.mismatches], [true, 0]);
}

/** netplumb check ran on each host with two guests or more, on exactly its guests' pairs, and matched. */
function assertChecks(report: DemoReport, l: Layout): void {
  const on = (h: string): number => Object.values(l.guests).filter((g) => g.host === h).length;
  assert.deepEqual(
    report.matrix?.checks.map(({ durationMs: _, ...c }) => c),
    l.hosts
      .filter((h) => on(h) >= 2)
      .map((h) => ({
        host: h,
        verdict: 'match',
        attachments: on(h),
        pairs: on(h) * (on(h) - 1),
        probed: on(h) * (on(h) - 1),
      })),
  );
}

/** Each picture draws its host's guests and no other's. */
function assertPictures(files: readonly string[], l: Layout): void {
  assert.equal(files.length, l.hosts.length);
  files.forEach((f, i) => {
    const svg = readFileSync(f, 'utf8');
    assert.match(svg, /^<svg /);
    for (const [g, at] of Object.entries(l.guests))
      assert.equal(svg.includes(`>${g} eth1<`), at.host === l.hosts[i], `${g} in the picture of ${l.hosts[i]}: ${f}`);
  });
}

test('the demo: exit 0, the matrix through netplumb check as the seed expects, the picture, a throughput, nothing left', async () => {
  await withTmp(async (tmp) => {
    await withTmp(async (pictures) => {
      const svg = join(pictures, 'seed.svg');
      const report = await runDemoJson(tmp, ['--guests', 'podman', '--svg', svg]);
      assert.equal(report.ok, true);
      assert.equal(report.scenario, 'seed');
      assert.equal(report.guests?.kind, 'podman');
      assert.deepEqual(
        report.attachments.map((a) => [a.guest, a.ip, a.segment]),
        [
          ['con1', '10.0.0.1/24', '@100'],
          ['con2', '10.0.0.2/24', '@100'],
          ['con3', '10.0.0.3/24', '@200'],
          ['con4', '10.0.0.4/24', '@200'],
        ],
      );
      for (const a of report.attachments)
        assert.ok(a.ms > 0 && (a.ofport ?? 0) > 0, `attach of ${a.guest} timed and given an ofport`);
      assertMatrix(report, SEED);
      assertChecks(report, SEED);
      assert.deepEqual(report.svg, [svg], 'one host, one picture, the file named');
      assertPictures([svg], SEED);

      const t = report.throughput;
      assert.ok(t !== undefined && !('error' in t), `throughput measured: ${JSON.stringify(t)}`);
      assert.equal(t.from, 'con1');
      assert.equal(t.to, 'con2');
      assert.ok(t.bitsPerSecond > 0, 'a positive throughput');

      assert.deepEqual(report.detach, { count: 4, ms: report.detach?.ms, portsLeft: 0 });
      assert.deepEqual(report.cleanup, { ok: true, errors: [] });
      assert.ok(report.sandbox.podmanDir?.startsWith(tmp), 'the podman storage is under the test TMPDIR');
      assert.ok(report.sandbox.podmanPids.length >= 5, 'the API service and the containers were started');
      assertNothingLeft(report, tmp, 2);
    });
  });
});

test('the demo --scenario trunk, as printed: check on each host, the pairs across the trunk pinged and marked so, a picture per host', async () => {
  await withTmp(async (tmp) => {
    await withTmp(async (pictures) => {
      const out = await runDemo(tmp, [
        '--guests',
        'podman',
        '--scenario',
        'trunk',
        '--svg',
        join(pictures, 'trunk.svg'),
      ]);
      const files = ['h1', 'h2'].map((h) => join(pictures, `trunk-${h}.svg`));
      assert.match(out, new RegExp(`▸ picture: netplumb show --svg on each host … wrote ${files.join(' ')} `));
      assertPictures(files, TRUNK);
      for (const [h, pair] of [
        ['h1', 'con1 @100 +con2 @200'],
        ['h2', 'con3 @100 +con4 @200'],
      ])
        assert.match(
          out,
          new RegExp(
            `▸ connectivity on ${h}: netplumb check \\(.*\\) … 2/2 as expected .*\\n\\n` +
              '  netplumb check: 2 attachments, 2 of 2 pairs probed with ICMP echo from inside the guests .*\\n\\n' +
              `    from \\\\ to +${pair}\\n`,
          ),
          `check's own report for ${h}`,
        );
      assert.equal(out.match(/ {4}MATCH: 2\/2 pairs as the VLANs say/g)?.length, 2, out);
      assert.match(
        out,
        /▸ connectivity across hosts: ping from inside each guest \(podman exec … ping\).* … 8\/8 as expected/,
      );
      // The whole matrix, each cell as this test expects it: reached or not, and by whom.
      const label = (g: string): string => `${g} ${TRUNK.guests[g]?.host} ${TRUNK.guests[g]?.segment}`;
      for (const from of GUESTS) {
        const cells = GUESTS.map((to) => {
          if (to === from) return '·';
          const j = judge(TRUNK, from, to);
          return `${j.reach ? '✓' : '✗'} ${j.by}`;
        });
        assert.match(out, new RegExp(`\\n {4}${label(from)} +${cells.join(' +')}\\n`), `the row of ${from}`);
      }
      assert.match(out, /the matrix matches the expectation \(12 pairs: 4 by netplumb check, 8 by ping across hosts\)/);
      assert.match(out, /▸ throughput con1 → con3 \(iperf3 -t 3, TCP, @100, across hosts\) … [\d.]+ [kMG]bit\/s/);
      assert.match(out, /▸ detach everything … 4 attachments removed in [\d.]+ ms; 0 of their ports left/);
      assert.match(out, /clean up: .* nothing left/);
      assert.match(out, /\nPASS: same-VLAN guests reach each other, cross-VLAN guests are isolated; con1 → con3 /);
      // Each host's ovsdb-server and ovs-vswitchd, then the four containers.
      assertNothingLeftAsPrinted(out, tmp, 8);
    });
  });
});

test('the demo --scenario ovn: check on the chassis with two guests, ping across the Geneve tunnels, a throughput between hosts', async () => {
  await withTmp(async (tmp) => {
    const report = await runDemoJson(tmp, ['--guests', 'podman', '--scenario', 'ovn']);
    assert.equal(report.ok, true);
    assert.equal(report.scenario, 'ovn');
    assert.deepEqual(report.hosts, OVN.hosts);
    assert.deepEqual(
      report.attachments.map((a) => [a.guest, a.host, a.segment]),
      GUESTS.map((g) => [g, OVN.guests[g]?.host, OVN.guests[g]?.segment]),
    );
    assertMatrix(report, OVN);
    assertChecks(report, OVN);
    assert.equal(report.svg, undefined, 'no --svg, no picture');
    const t = report.throughput;
    assert.ok(t !== undefined && !('error' in t) && t.bitsPerSecond > 0, `throughput: ${JSON.stringify(t)}`);
    assert.deepEqual([t.from, t.to], ['con1', 'con2'], 'h1 → h2');
    assert.deepEqual(report.detach, { count: 4, ms: report.detach?.ms, portsLeft: 0 });
    // The central's northbound, southbound and ovn-northd; each chassis's ovsdb-server, ovs-vswitchd, ovn-controller.
    assertNothingLeft(report, tmp, 12);
  });
});

for (const [scenario, pids] of [
  ['seed', 2 + 4],
  ['trunk', 4 + 4],
] as const)
  test(`Ctrl-C while the demo --scenario ${scenario} measures its matrix: exit 130 and everything removed all the same`, async () => {
    await withTmp(async (tmp) => {
      const child = spawn(process.execPath, [MAIN, '--guests', 'podman', '--scenario', scenario], {
        env: { ...process.env, TMPDIR: tmp },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        err += String(d);
      });
      const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
      // Interrupt once the guests are attached, while netplumb check probes.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the demo never reached the matrix:\n${out}${err}`)), 120_000);
        child.stdout.on('data', (d: Buffer) => {
          out += String(d);
          if (out.includes('▸ connectivity')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('close', () => {
          clearTimeout(timer);
          reject(new Error(`the demo exited early:\n${out}${err}`));
        });
      }).finally(() => child.kill('SIGINT'));
      const code = await exited;
      assert.equal(code, 130, `exit status after SIGINT\n${out}${err}`);
      assert.match(out, /SIGINT: stopping, then cleaning up/);
      assert.doesNotMatch(out, /▸ throughput/, 'nothing after the interrupted step');
      assert.match(out, /clean up: .* nothing left/);
      assert.match(out, /FAIL: interrupted by SIGINT/);
      assertNothingLeftAsPrinted(out, tmp, pids);
    });
  });
