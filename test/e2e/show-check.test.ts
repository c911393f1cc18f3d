/**
 * `netplumb show` and `netplumb check` as an operator runs them, against real podman
 * containers on a private Open vSwitch: the seed (con1, con2 on VLAN 100; con3, con4 on
 * VLAN 200) shown as a tree, JSON, SVG and HTML and checked against ovs-vsctl and ip -json;
 * the picture rendered to pixels; the matrix probed from inside the containers; then the
 * states other tools leave behind — a port moved to the other VLAN, a port deleted with
 * ovs-vsctl, a veth deleted with ip, a container restarted or removed by podman, the bridge
 * deleted — each shown with its reason and fix (show, list and check exit 0), and each fix,
 * run as printed, repairs it. Then check on an OVN chassis, where the guests' segments are
 * their OVN networks, not the untagged ports they all have on br-int.
 */
import { after, before, test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOvnBed } from '../../sandbox/ovn-bed.js';
import { startOvs, type OvsInstance } from '../../sandbox/ovs.js';
import { Plumber } from '../../src/plumb/plumber.js';
import { PodmanSandbox, uniqueContainerName } from '../../sandbox/podman.js';
import { must, run, type RunResult } from '../../sandbox/exec.js';
import { useLeakCheck } from '../helpers/leak.js';
import { TestNetns } from '../helpers/netns.js';
import { leftovers } from '../helpers/ovn.js';
import { loadSchema, validate } from '../helpers/json-schema.js';
import { rasterize, screenshot } from '../helpers/picture.js';
import type { Topology, Port } from '../../src/topology/model.js';
import type { CheckReport } from '../../src/check/model.js';

const ROOT = join(__dirname, '..', '..', '..');
const VLANS = [100, 100, 200, 200];
const names = [1, 2, 3, 4].map((i) => uniqueContainerName(`con${i}`));
let ovs: OvsInstance;
let bed: PodmanSandbox;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'np-show-'));
  ovs = await startOvs({ withVswitchd: true });
  bed = await PodmanSandbox.create();
  await bed.startService();
  for (const n of names) await bed.runContainer(n);
});
after(async () => {
  await bed?.destroy();
  await ovs?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
useLeakCheck();

/** The installed command, on the emulated host (where ovs-vswitchd runs). */
function netplumb(args: string[]): Promise<RunResult> {
  return run(['ip', 'netns', 'exec', ovs.netns, join(ROOT, 'bin', 'netplumb'), ...args], {
    env: { ...process.env, OVS_RUNDIR: ovs.dir, DOCKER_HOST: bed.dockerHost, NETPLUMB_SOCKET: join(dir, 'none.sock') },
    timeoutMs: 120_000,
  });
}

async function ok(args: string[]): Promise<string> {
  const r = await netplumb(args);
  assert.equal(r.code, 0, `netplumb ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  assert.equal(r.stderr, '', `netplumb ${args.join(' ')} wrote to stderr`);
  return r.stdout;
}

async function show(...args: string[]): Promise<Topology> {
  const t = (JSON.parse(await ok(['show', ...args, '--json'])) as { topology: Topology }).topology;
  assert.deepEqual(
    validate(loadSchema('topology.schema.json'), t),
    [],
    'show --json follows docs/topology.schema.json',
  );
  return t;
}

async function check(...args: string[]): Promise<{ code: number; report: CheckReport }> {
  const r = await netplumb(['check', ...args, '--json']);
  assert.ok([0, 1, 17].includes(r.code), `check exited ${r.code}: ${r.stderr}`);
  const report = (JSON.parse(r.stdout) as { check: CheckReport }).check;
  assert.deepEqual(
    validate(loadSchema('check.schema.json'), report),
    [],
    'check --json follows docs/check.schema.json',
  );
  return { code: r.code, report };
}

async function attachSeed(): Promise<void> {
  for (const [i, n] of names.entries())
    await ok([
      'attach',
      '--bridge',
      'ovs0',
      '--create-bridge',
      '--container',
      n,
      '--ip',
      `10.0.0.${i + 1}/24`,
      '--vlan',
      String(VLANS[i]),
    ]);
}

async function detachAll(): Promise<void> {
  for (const n of names) await netplumb(['detach', '--container', n, '--all']);
  await netplumb(['gc', '--grace', '0']);
}

/** Guest ports of the tree, by container name. */
function guestPorts(t: Topology): Map<string, Port> {
  const out = new Map<string, Port>();
  for (const b of t.bridges)
    for (const p of [...b.vlans.flatMap((v) => v.ports), ...b.trunks, ...b.missing])
      if (p.attachment?.guest.name !== undefined) out.set(p.attachment.guest.name, p);
  return out;
}

/** Oracle: ovs-vsctl's view of a port: its tag and ofport. */
async function vsctlPort(name: string): Promise<{ tag: number | undefined; ofport: number }> {
  const tag = (await ovs.vsctl(['get', 'Port', name, 'tag'])).trim();
  const ofport = Number((await ovs.vsctl(['get', 'Interface', name, 'ofport'])).trim());
  return { tag: tag === '[]' ? undefined : Number(tag), ofport };
}

/** Oracle: ip -json inside a container's namespace (the host's iproute2 through nsenter). */
async function inContainer<T>(name: string, args: string[]): Promise<T[]> {
  const pid = await bed.inspectPid(name);
  return JSON.parse(await must(['nsenter', `--net=/proc/${pid}/ns/net`, 'ip', '-json', ...args])) as T[];
}

/** The neighbour tables of every container (IPv4 and IPv6), as ip shows them. */
async function neighbours(): Promise<string[]> {
  const out: string[] = [];
  for (const n of names)
    for (const e of await inContainer<{ dst: string; dev: string; state?: string[] }>(n, ['neigh', 'show']))
      out.push(`${n} ${e.dev} ${e.dst}`);
  return out.sort();
}

/** Run a fix as show printed it (placeholders filled in from `fill`), one netplumb or ovs-vsctl command at a time. */
async function runFix(fix: string, fill: Record<string, string> = {}): Promise<void> {
  const text = fix.replace(/ {3}\(.*\)$/, '').replace(/<(\w+(?:\/\w+)?)>/g, (_, k: string) => {
    const v = fill[k];
    assert.ok(v !== undefined, `fix "${fix}" needs <${k}>`);
    return v;
  });
  for (const command of text.split(' && ')) {
    const [prog, ...words] = command.split(' ');
    if (prog === 'netplumb') await ok(words);
    else if (prog === 'ovs-vsctl') await ovs.vsctl(words);
    else assert.fail(`unexpected fix command: ${command}`);
  }
}

test("show on the seed: the tree, the JSON against ovs-vsctl and ip -json, the scopes, other tools' ports as foreign", async () => {
  await attachSeed();
  // Another tool's ports: a VXLAN tunnel (to a loopback address: nothing leaves the machine) and an internal port.
  await ovs.vsctl([
    'add-port',
    'ovs0',
    'ext-vx0',
    '--',
    'set',
    'Interface',
    'ext-vx0',
    'type=vxlan',
    'options:remote_ip=127.0.0.2',
    'options:key=42',
  ]);
  await ovs.vsctl(['add-port', 'ovs0', 'ext-int0', '--', 'set', 'Interface', 'ext-int0', 'type=internal']);
  try {
    const t = await show();
    assert.deepEqual(t.issues, []);
    const b = t.bridges.find((x) => x.name === 'ovs0');
    assert.ok(b?.present && b.type === 'ovs' && b.datapathType === 'netdev');
    assert.deepEqual(
      b.vlans.map((v) => [v.tag, v.ports.map((p) => p.attachment?.guest.name)]),
      [
        [100, [names[0], names[1]]],
        [200, [names[2], names[3]]],
      ],
    );
    assert.deepEqual(
      b.uplinks.map((p) => [p.name, p.owner, p.role]),
      [
        ['ext-int0', 'foreign', 'internal'],
        ['ext-vx0', 'foreign', 'tunnel'],
      ],
    );
    const hostLinks = JSON.parse(await must(['ip', '-json', '-n', ovs.netns, 'link', 'show'])) as {
      ifname: string;
      address: string;
    }[];
    for (const [i, n] of names.entries()) {
      const p = guestPorts(t).get(n);
      assert.ok(p?.attachment !== undefined, `${n} is shown`);
      const o = await vsctlPort(p.name);
      assert.equal(p.tag, o.tag, `${n}: tag as ovs-vsctl says`);
      assert.equal(p.tag, VLANS[i]);
      assert.equal(p.ofport, o.ofport, `${n}: ofport as ovs-vsctl says`);
      assert.equal(p.link?.mac, hostLinks.find((l) => l.ifname === p.name)?.address, `${n}: host veth MAC as ip says`);
      const [eth1] = await inContainer<{
        address: string;
        operstate: string;
        addr_info: { family: string; local: string; prefixlen: number }[];
      }>(n, ['addr', 'show', 'dev', 'eth1']);
      assert.equal(p.attachment.interface?.mac, eth1?.address, `${n}: eth1's MAC as ip says inside`);
      assert.deepEqual(
        p.attachment.interface?.addresses,
        eth1?.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
      );
      assert.equal(p.attachment.guest.state, 'running');
      assert.equal(p.attachment.guest.pid, await bed.inspectPid(n));
    }

    const text = await ok(['show']);
    assert.match(text, /^ovs0 {2}OVS bridge, datapath netdev$/m);
    assert.match(text, new RegExp(`VLAN 100 {2}\\(2 ports\\)\\n│ {2}├─ ${names[0]} eth1 {2}10\\.0\\.0\\.1/24 `));
    assert.match(text, /ext-vx0 {2}vxlan tunnel → 127\.0\.0\.2 key 42 .* foreign/);
    assert.match(text, /1 bridge, 2 VLANs, 4 netplumb attachments, 2 foreign ports; no issues/);

    assert.equal((await show('ovs0')).scope.kind, 'bridge');
    const v100 = await show('100');
    assert.deepEqual([...guestPorts(v100).keys()], [names[0], names[1]]);
    assert.deepEqual(
      v100.bridges[0]?.uplinks.map((p) => p.name),
      ['ext-int0', 'ext-vx0'],
      'untagged foreign ports carry every VLAN',
    );
    const one = await show('--container', names[2] as string, '--ifname', 'eth1');
    assert.deepEqual([...guestPorts(one).keys()], [names[2]]);
    const none = await netplumb(['show', '--container', names[2] as string, '--ifname', 'eth9']);
    assert.equal(none.code, 4, 'NOT_FOUND');
    assert.match(none.stderr, /no attachment eth9 for guest/);
  } finally {
    await ovs.vsctl(['--if-exists', 'del-port', 'ext-vx0', '--', '--if-exists', 'del-port', 'ext-int0']);
  }
});

test('the picture: --svg and --html of the seed, rendered by librsvg and by Chromium, show the four guests in colour', async () => {
  const svg = join(dir, 'seed.svg');
  const html = join(dir, 'seed.html');
  const out = await ok(['show', '--svg', svg, '--html', html]);
  assert.match(out, new RegExp(`wrote ${svg}\\nwrote ${html}\\n$`));
  const text = readFileSync(svg, 'utf8');
  for (const n of names) assert.ok(text.includes(`>${n} eth1<`), `${n} is in the picture`);
  const png = await rasterize(svg, join(dir, 'seed.png'));
  assert.ok(png.width >= 700 && png.height >= 300, `rendered ${png.width}×${png.height}`);
  assert.ok(png.colours >= 8, `${png.colours} colours: the VLAN groups, boxes and text`);
  assert.ok(png.inked > 0.05 && png.inked < 0.9, `${(png.inked * 100).toFixed(1)}% of the picture is drawn`);
  const page = await screenshot(html, join(dir, 'page.png'));
  assert.ok(
    page.colours >= 8 && page.inked > 0.05,
    `the page in Chromium: ${page.colours} colours, ${(page.inked * 100).toFixed(1)}% drawn`,
  );
});

test('check on the seed: the matrix the VLANs say, exit 0, probed from inside the containers, no trace left', async () => {
  const before = await neighbours();
  const { code, report } = await check();
  assert.equal(code, 0, JSON.stringify(report.pairs.filter((p) => p.verdict !== 'ok')));
  assert.equal(report.verdict, 'match');
  assert.equal(report.summary.pairs, 12);
  assert.equal(report.summary.probed, 12);
  const nameOf = new Map(report.attachments.map((a) => [a.id, a.guest]));
  for (const p of report.pairs) {
    const [a, b] = [names.indexOf(nameOf.get(p.from) as string), names.indexOf(nameOf.get(p.to) as string)];
    assert.equal(p.reached, VLANS[a] === VLANS[b], `${names[a]} → ${names[b]}`);
  }
  assert.deepEqual(await neighbours(), before, 'the neighbour tables are as they were');
  const text = await ok(['check']);
  assert.match(text, /from \\ to/);
  assert.match(text, /MATCH: 12\/12 pairs as the VLANs say/);
  // Ping agrees (busybox ping inside the container): the oracle for one reached and one isolated pair.
  assert.equal((await bed.tryPodman(['exec', names[0] as string, 'ping', '-c', '1', '-W', '2', '10.0.0.2'])).code, 0);
  assert.notEqual(
    (await bed.tryPodman(['exec', names[0] as string, 'ping', '-c', '1', '-W', '1', '10.0.0.3'])).code,
    0,
  );
});

test("a port moved to the other VLAN behind netplumb's back: check exits 17 naming the leak, show names the drift; its fix restores isolation", async () => {
  const port = guestPorts(await show()).get(names[2] as string)?.name as string;
  await ovs.vsctl(['set', 'Port', port, 'tag=100']);
  const { code, report } = await check();
  assert.equal(code, 17);
  assert.equal(report.verdict, 'leak');
  const con3 = report.attachments.find((a) => a.guest === names[2]);
  const leaks = report.pairs.filter((p) => p.verdict === 'leak');
  assert.ok(
    leaks.length >= 2 && leaks.every((p) => p.from === con3?.id || p.to === con3?.id),
    'the leaks all involve con3',
  );
  assert.deepEqual(
    con3?.drift?.map((d) => d.code),
    ['vlan-drift'],
  );
  const text = await netplumb(['check']);
  assert.equal(text.code, 17);
  assert.match(text.stdout, new RegExp(`LEAK .*${names[2]} eth1 \\(ovs0 @200\\)`));
  const drift = (await show()).issues;
  assert.deepEqual(
    drift.map((i) => i.code),
    ['vlan-drift'],
  );
  assert.equal(drift[0]?.fix, `ovs-vsctl set Port ${port} tag=200`);
  await runFix(drift[0]?.fix as string);
  assert.equal((await check()).code, 0);
});

test('broken by other tools — port deleted, veth deleted, container restarted, container removed: show, list and check exit 0 with reasons and fixes that repair it', async () => {
  const gone = uniqueContainerName('gone');
  await bed.runContainer(gone);
  await ok(['attach', '--bridge', 'ovs0', '--container', gone, '--ip', '10.0.0.9/24', '--vlan', '100']);
  const ports = guestPorts(await show());
  const port = (i: number): string => ports.get(names[i] as string)?.name as string;
  await ovs.vsctl(['del-port', 'ovs0', port(0)]);
  await must(['ip', '-n', ovs.netns, 'link', 'del', port(1)]);
  await bed.podman(['restart', '-t', '0', names[2] as string]);
  await bed.removeContainer(gone);

  const t = await show();
  const issue = (n: string): string[] =>
    guestPorts(t)
      .get(n)
      ?.issues.map((i) => i.code) ?? [];
  assert.deepEqual(issue(names[0] as string), ['port-gone']);
  assert.deepEqual(issue(names[1] as string), ['veth-gone']);
  assert.deepEqual(issue(names[2] as string), ['guest-restarted']);
  assert.deepEqual(issue(names[3] as string), []);
  assert.deepEqual(issue(gone), ['guest-gone']);
  const text = await ok(['show']);
  for (const code of ['port-gone', 'veth-gone', 'guest-restarted', 'guest-gone'])
    assert.match(text, new RegExp(`✗ ${code}: .*\\n.*fix: `));
  const list = await ok(['list']);
  assert.doesNotMatch(list, /internal error|TypeError/);
  assert.match(list, /no OVS port \(see netplumb show\)/);
  const { code, report } = await check();
  assert.equal(code, 0, 'broken attachments are skipped, not counted');
  assert.ok(report.summary.skipped > 0);
  assert.equal((await check('--strict')).code, 1, '--strict counts them: missing');

  for (const i of t.issues) await runFix(i.fix, { 'ADDR/LEN': '10.0.0.1/24', VID: '100' });
  const healed = await show();
  assert.deepEqual(healed.issues, [], 'every fix, run as printed, repaired its attachment');
  assert.equal(guestPorts(healed).has(gone), false, 'the removed container is detached');
  const healedCheck = await check();
  assert.equal(healedCheck.code, 0);
  assert.equal(healedCheck.report.summary.ok, 12, 'the four containers are whole again, the removed one detached');
});

test('bridge deleted with ovs-vsctl: show, list and check exit 0, each attachment says so; the fixes make the bridge and the ports again', async () => {
  await ovs.vsctl(['del-br', 'ovs0']);
  const t = await show();
  assert.deepEqual(
    t.bridges.map((b) => [b.name, b.present, b.missing.length]),
    [['ovs0', false, 4]],
  );
  assert.deepEqual([...new Set(t.issues.map((i) => i.code))], ['bridge-gone']);
  assert.match(await ok(['show']), /ovs0 {2}OVS bridge {2}✗ NOT PRESENT \(deleted\)/);
  assert.match(await ok(['list']), /no OVS port/);
  const { code, report } = await check();
  assert.equal(code, 0);
  assert.equal(report.summary.probed, 0);
  for (const i of t.issues) {
    const n = names.find((x) => i.where.includes(x)) as string;
    await runFix(i.fix, { VID: String(VLANS[names.indexOf(n)]) });
  }
  assert.deepEqual((await show()).issues, []);
  const again = await check();
  assert.equal(again.code, 0);
  assert.equal(again.report.summary.ok, 12);
  await detachAll();
  assert.deepEqual((await ovs.vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean), []);
});

test('check on an OVN chassis: same network reaches, the other network on the same br-int does not — as ping says', async () => {
  const bed = await startOvnBed({ tag: `np-chk-${process.pid}`, hosts: 1 });
  const h1 = bed.hosts[0] as (typeof bed.hosts)[number];
  const plumber = Plumber.open({
    ovsDb: h1.ovs.remote,
    hostNetns: { name: h1.ovs.netns },
    ovnNb: bed.central.nbRemote,
  });
  const guests: TestNetns[] = [];
  const plan: [string, string][] = [
    ['vlan100', '10.0.0.1'],
    ['vlan100', '10.0.0.2'],
    ['vlan200', '10.0.0.3'],
  ];
  try {
    for (const name of ['vlan100', 'vlan200'])
      await plumber.networks.create({ name, subnet: '10.0.0.0/24', excludeIps: ['10.0.0.1..10.0.0.99'] });
    for (const [network, ip] of plan) {
      const g = await TestNetns.create('chk');
      guests.push(g);
      await plumber.attach({
        host: 'br-int',
        network,
        guest: { netns: g.name },
        ip: { kind: 'static', address: `${ip}/24` },
      });
    }
    // The installed command on the chassis; the northbound database through $OVN_NB_DB, as ovn-nbctl finds it.
    const chassis = (args: string[]): Promise<RunResult> =>
      run(['ip', 'netns', 'exec', h1.ovs.netns, join(ROOT, 'bin', 'netplumb'), ...args], {
        env: {
          ...process.env,
          OVS_RUNDIR: h1.ovs.dir,
          OVN_NB_DB: bed.central.nbRemote,
          NETPLUMB_SOCKET: join(dir, 'none.sock'),
        },
        timeoutMs: 120_000,
      });
    const r = await chassis(['check', '--json']);
    assert.equal(r.code, 0, `check exited ${r.code}: ${r.stderr}${r.stdout}`);
    const report = (JSON.parse(r.stdout) as { check: CheckReport }).check;
    assert.deepEqual(validate(loadSchema('check.schema.json'), report), []);
    assert.equal(report.verdict, 'match');
    const index = new Map(report.attachments.map((a) => [a.id, guests.findIndex((g) => g.name === a.guest)]));
    assert.deepEqual(
      report.attachments.map((a) => [index.get(a.id), a.bridge, a.network, a.vlan]).sort(),
      plan.map(([network], i) => [i, 'br-int', network, undefined]),
      'each on br-int, untagged: its segment is its network',
    );
    assert.equal(report.summary.probed, 6);
    for (const p of report.pairs) {
      const [a, b] = [index.get(p.from) as number, index.get(p.to) as number];
      const same = plan[a]?.[0] === plan[b]?.[0];
      assert.deepEqual([p.expected, p.reached, p.verdict], [same, same, 'ok'], `guest ${a + 1} → guest ${b + 1}`);
      // The oracle: ping from inside the guest agrees.
      assert.equal(await (guests[a] as TestNetns).ping(plan[b]?.[1] as string, 2), same, `ping ${a + 1} → ${b + 1}`);
    }
    const text = await chassis(['check']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /MATCH: 6\/6 pairs as the OVN networks say/);
    assert.match(text.stdout, / vlan200 /);
  } finally {
    for (const g of guests) await plumber.detach({ guest: { netns: g.name } }).catch(() => undefined);
    for (const name of ['vlan100', 'vlan200']) await plumber.networks.delete(name).catch(() => undefined);
    await plumber.close();
    for (const g of guests) await g.destroy();
    const left = await leftovers(bed);
    await bed.stop();
    assert.deepEqual(left, [], 'nothing of the attachments left in NB, SB or OVS');
  }
});
