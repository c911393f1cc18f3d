/**
 * show and check beyond the seed, with namespaces as guests (hundreds of podman containers
 * would take minutes to start; the engine treats both alike), on a private Open vSwitch:
 * 400 guests drawn readable — summarised per VLAN, a picture of bounded size, rendered by
 * librsvg — and the tree and JSON counting all 400; check on IPv6 guests and on IPv4 guests
 * matching the VLANs and leaving no neighbour entry behind, nor a socket.
 */
import { test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConnectivity } from '../../src/check/run.js';
import { renderSvg } from '../../src/render/svg.js';
import { HostView } from '../../src/topology/read.js';
import { topologyText } from '../../src/topology/text.js';
import { must } from '../../sandbox/exec.js';
import { NetnsGuests } from '../../sandbox/netns-guests.js';
import { startOvs, type OvsInstance } from '../../sandbox/ovs.js';
import { useLeakCheck } from '../helpers/leak.js';
import { loadSchema, validate } from '../helpers/json-schema.js';
import { rasterize } from '../helpers/picture.js';

useLeakCheck();

/** A private OVS and `n` attached namespace guests for `fn`; everything removed afterwards. */
async function withGuests(
  n: number,
  vlans: readonly number[],
  family: 4 | 6,
  fn: (ovs: OvsInstance, guests: NetnsGuests, view: HostView) => Promise<void>,
): Promise<void> {
  const ovs = await startOvs({ withVswitchd: true });
  let guests: NetnsGuests | undefined;
  try {
    guests = await NetnsGuests.create('sc', n, vlans, family);
    await guests.attach(ovs);
    const view = HostView.open({ ovsDb: ovs.remote, hostNetns: { name: ovs.netns } });
    try {
      await fn(ovs, guests, view);
    } finally {
      await view.close();
    }
  } finally {
    await guests?.destroy();
    await ovs.stop();
  }
}

/** Unicast neighbour entries of every guest, as ip shows them (multicast ones are the kernel's own). */
async function neighbours(guests: NetnsGuests): Promise<string[]> {
  const out: string[] = [];
  for (const g of guests.guests)
    for (const e of JSON.parse(await must(['ip', '-json', '-n', g.name, 'neigh', 'show'])) as {
      dst: string;
      dev: string;
    }[])
      if (!/^(ff|224\.|2[3-9]\d\.)/.test(e.dst)) out.push(`${g.name} ${e.dev} ${e.dst}`);
  return out.sort();
}

test('400 guests: the tree and JSON count them all, the picture summarises each VLAN and renders at a readable size', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-scale-'));
  try {
    await withGuests(400, [100, 200], 4, async (_ovs, _guests, view) => {
      const t = await view.topology();
      assert.deepEqual(validate(loadSchema('topology.schema.json'), JSON.parse(JSON.stringify(t))), []);
      assert.equal(t.summary.attachments, 400);
      assert.equal(t.summary.issues, 0);
      assert.deepEqual(
        t.bridges[0]?.vlans.map((v) => [v.tag, v.ports.length]),
        [
          [100, 200],
          [200, 200],
        ],
      );
      assert.equal(
        topologyText(t)
          .split('\n')
          .filter((l) => l.endsWith('   netplumb')).length,
        400,
        'the tree has every guest',
      );
      const svg = renderSvg(t);
      assert.ok((svg.match(/ eth1</g) ?? []).length < 20, 'a few guest boxes, not 400');
      assert.equal((svg.match(/>\+ \d+ more guests</g) ?? []).length, 2, 'one summary per VLAN');
      assert.match(svg, />10\.0\.\d+\.\d+ – 10\.0\.1\.\d+</, 'the summary gives the address range');
      writeFileSync(join(dir, 'big.svg'), svg);
      const png = await rasterize(join(dir, 'big.svg'), join(dir, 'big.png'));
      assert.ok(png.width <= 1600 && png.height <= 1600, `${png.width}×${png.height}: fits a screen`);
      assert.ok(png.colours >= 8 && png.inked > 0.05, `${png.colours} colours, ${(png.inked * 100).toFixed(1)}% drawn`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('check on 40 IPv4 guests: the matrix the VLANs say, every echo from inside a guest, no neighbour entry left', async () => {
  await withGuests(40, [100, 200], 4, async (_ovs, guests, view) => {
    const before = await neighbours(guests);
    const rep = await checkConnectivity(view);
    assert.equal(rep.verdict, 'match', JSON.stringify(rep.pairs.filter((p) => p.verdict !== 'ok').slice(0, 5)));
    assert.equal(rep.summary.probed, 40 * 39);
    const vlanOf = new Map(rep.attachments.map((a) => [a.id, a.vlan]));
    for (const p of rep.pairs) assert.equal(p.reached, vlanOf.get(p.from) === vlanOf.get(p.to));
    assert.ok(rep.neighboursRemoved >= 2 * 20 * 19, `${rep.neighboursRemoved} entries the probes made were removed`);
    assert.deepEqual(await neighbours(guests), before, 'the neighbour tables are as they were');
  });
});

test('check on IPv6 guests: ICMPv6 echoes, the same matrix, no neighbour entry left', async () => {
  await withGuests(12, [300, 400], 6, async (_ovs, guests, view) => {
    const before = await neighbours(guests);
    const rep = await checkConnectivity(view);
    assert.equal(rep.verdict, 'match', JSON.stringify(rep.pairs.filter((p) => p.verdict !== 'ok').slice(0, 5)));
    assert.equal(rep.summary.probed, 12 * 11);
    assert.ok(rep.pairs.every((p) => p.address?.startsWith('fd00::')));
    assert.equal(rep.pairs.filter((p) => p.reached).length, 2 * 6 * 5);
    assert.deepEqual(await neighbours(guests), before);
  });
});
