/**
 * The README's first command, as a user runs it: the compiled demo (dist/demo/main.js)
 * as a child process, with real podman containers, a private Open vSwitch, real pings and
 * iperf3. Asserted: exit status, the matrix in the --json report (same VLAN reaches, cross
 * VLAN does not), a positive throughput — and that nothing of it is left: the leak check
 * (links, namespaces, fds, children), no daemon, container or conmon process it started, no
 * podman storage, no temp dir (the demo runs with TMPDIR pointing at a dir of this test).
 */
import { test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../sandbox/exec.js';
import { commandLine, isAlive, processesNaming } from '../../sandbox/process.js';
import { useLeakCheck } from '../helpers/leak.js';
import type { DemoReport } from '../../demo/main.js';

const ROOT = join(__dirname, '..', '..', '..');
const MAIN = join(ROOT, 'dist', 'demo', 'main.js');
/** Each guest's segment, per scenario. */
const SEED: Record<string, string> = { con1: '@100', con2: '@100', con3: '@200', con4: '@200' };
const TRUNK: Record<string, string> = { con1: '@100', con2: '@200', con3: '@100', con4: '@200' };
const OVN: Record<string, string> = { con1: 'vlan100', con2: 'vlan100', con3: 'vlan200', con4: 'vlan200' };

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

/** Run the demo with --json in a TMPDIR of its own; its one line of output, parsed. */
async function runDemo(tmp: string, args: string[]): Promise<DemoReport> {
  const r = await run([process.execPath, MAIN, '--json', ...args], {
    env: { ...process.env, TMPDIR: tmp },
    timeoutMs: 120_000,
  });
  assert.equal(r.code, 0, `demo exited ${r.code}: ${r.stderr}\n${r.stdout}`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, '--json prints exactly one JSON object');
  return JSON.parse(lines[0] as string) as DemoReport;
}

/** Every ordered pair of distinct guests, reached exactly when their segments match. */
function assertMatrix(report: DemoReport, segments: Record<string, string>): void {
  const cells = report.matrix?.cells ?? [];
  assert.equal(cells.length, 12);
  for (const c of cells) {
    const same = segments[c.from] === segments[c.to];
    assert.equal(c.expected, same, `${c.from} → ${c.to}: expectation`);
    assert.equal(
      c.reached,
      same,
      `${c.from} → ${c.to}: ${same ? 'the same segment must reach' : 'another segment must not reach'}`,
    );
  }
  assert.equal(report.matrix?.ok, true);
}

test('the demo with podman: exit 0, the VLAN matrix as the seed expects, a throughput, nothing left', async () => {
  await withTmp(async (tmp) => {
    const report = await runDemo(tmp, ['--guests', 'podman']);
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

test('the demo --scenario trunk: two hosts, VLANs across the trunk netplumb made, a throughput across it', async () => {
  await withTmp(async (tmp) => {
    const report = await runDemo(tmp, ['--guests', 'podman', '--scenario', 'trunk']);
    assert.equal(report.ok, true);
    assert.equal(report.scenario, 'trunk');
    assert.deepEqual(report.hosts, ['h1', 'h2']);
    assert.deepEqual(
      report.attachments.map((a) => [a.guest, a.host, a.segment]),
      [
        ['con1', 'h1', '@100'],
        ['con2', 'h1', '@200'],
        ['con3', 'h2', '@100'],
        ['con4', 'h2', '@200'],
      ],
    );
    assertMatrix(report, TRUNK);
    const t = report.throughput;
    assert.ok(t !== undefined && !('error' in t) && t.bitsPerSecond > 0, `throughput: ${JSON.stringify(t)}`);
    assert.deepEqual([t.from, t.to], ['con1', 'con3'], 'across the trunk');
    assert.deepEqual(report.detach, { count: 4, ms: report.detach?.ms, portsLeft: 0 });
    assertNothingLeft(report, tmp, 4);
  });
});

test('the demo --scenario ovn: three OVN chassis, networks across them, a throughput through the Geneve tunnel', async () => {
  await withTmp(async (tmp) => {
    const report = await runDemo(tmp, ['--guests', 'podman', '--scenario', 'ovn']);
    assert.equal(report.ok, true);
    assert.equal(report.scenario, 'ovn');
    assert.deepEqual(report.hosts, ['h1', 'h2', 'h3']);
    assert.deepEqual(
      report.attachments.map((a) => [a.guest, a.host, a.segment]),
      [
        ['con1', 'h1', 'vlan100'],
        ['con2', 'h2', 'vlan100'],
        ['con3', 'h1', 'vlan200'],
        ['con4', 'h3', 'vlan200'],
      ],
    );
    assertMatrix(report, OVN);
    const t = report.throughput;
    assert.ok(t !== undefined && !('error' in t) && t.bitsPerSecond > 0, `throughput: ${JSON.stringify(t)}`);
    assert.deepEqual([t.from, t.to], ['con1', 'con2'], 'h1 → h2');
    assert.deepEqual(report.detach, { count: 4, ms: report.detach?.ms, portsLeft: 0 });
    // The central's northbound, southbound and ovn-northd; each chassis's ovsdb-server, ovs-vswitchd, ovn-controller.
    assertNothingLeft(report, tmp, 12);
  });
});

test('Ctrl-C in the middle of the demo: exit 130 and everything removed all the same', async () => {
  await withTmp(async (tmp) => {
    const child = spawn(process.execPath, [MAIN, '--guests', 'podman'], {
      env: { ...process.env, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += String(d);
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    // Interrupt once the guests are attached, while the pings run.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the demo never reached the pings:\n${out}${err}`)), 60_000);
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
    assert.match(out, /clean up: .* nothing left/);
    assert.match(out, /FAIL: interrupted by SIGINT/);
    // What it created, as its progress lines named it.
    const ovsNetns = /in namespace (np-demo-\d+-host)/.exec(out)?.[1];
    const ovsPids = (/pids (\d+) (\d+)/.exec(out) ?? []).slice(1).map(Number);
    const containerPids = (/containers con1 con2 con3 con4 … ok, pids ([\d ]+)/.exec(out)?.[1] ?? '')
      .trim()
      .split(' ')
      .map(Number);
    assert.ok(ovsNetns !== undefined && ovsPids.length === 2 && containerPids.length === 4, out);
    assert.deepEqual([...ovsPids, ...containerPids].filter(isAlive), [], 'daemons or containers of the demo still run');
    assert.equal(existsSync(`/run/netns/${ovsNetns}`), false);
    assert.deepEqual(processesNamingAny([tmp]), []);
    assert.deepEqual(readdirSync(tmp), [], 'the demo left something in its temp dir');
  });
});
