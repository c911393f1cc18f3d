/** Link verbs: requests byte-identical to iproute2's, dumps decoded, verbs driven against a fake kernel. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { RTM } from '../../src/netlink/message-types.js';
import { decodeMessages, type NetlinkMessage } from '../../src/netlink/header.js';
import { parseAttrs } from '../../src/netlink/attr-reader.js';
import { decodeLink, type Link } from '../../src/rtnl/link-decode.js';
import { LINK_TABLE } from '../../src/rtnl/link-attrs.js';
import {
  linkAddRequest,
  linkDelGroupRequest,
  linkSetRequest,
  SCRATCH_GROUPS,
  validateLinkAdd,
  type LinkAddOptions,
} from '../../src/rtnl/link.js';
import type { LinkKindContext } from '../../src/rtnl/link-kind.js';
import { Rtnl } from '../../src/rtnl/rtnl.js';
import { IFINFOMSG } from '../../src/rtnl/structs.js';
import { CAPTURES, hex } from './fixtures/iproute2.js';
import { assertSameBytes } from './support/as-sent.js';
import { FakeKernel, settle } from './support/fake-kernel.js';
import { isNetplumbError } from './support/assert-error.js';

/** Numbers are ifindexes already; the fixtures name links by index. */
const BY_INDEX: LinkKindContext = {
  index: (ref) => {
    assert.equal(typeof ref, 'number');
    return ref as number;
  },
};

function add(o: LinkAddOptions): ReturnType<typeof linkAddRequest> {
  return linkAddRequest(validateLinkAdd(o), BY_INDEX);
}

test('veth: ip link add name a type veth peer name b', () => {
  assertSameBytes(add({ name: 'a', kind: 'veth', peer: { name: 'b' } }), CAPTURES.veth.request);
});

test('veth with the peer created in its namespace under its final name, MAC and MTU: one RTM_NEWLINK', () => {
  const r = add({
    name: 'h1',
    mac: '02:00:00:00:00:01',
    mtu: 1400,
    kind: 'veth',
    peer: { name: 'eth1', mac: '02-00-00-00-00-02', mtu: 1400, netnsFd: 4 },
  });
  assertSameBytes(r, CAPTURES.vethNs.request);
  assert.equal(r.describe, 'link add "h1" (veth)');
});

test('bridge, macvlan and vxlan adds match ip', () => {
  assertSameBytes(add({ name: 'br0', kind: 'bridge' }), CAPTURES.bridge.request);
  assertSameBytes(add({ name: 'mv0', link: 4, kind: 'macvlan', mode: 'bridge' }), CAPTURES.macvlan.request);
  assertSameBytes(
    add({
      name: 'vx0',
      kind: 'vxlan',
      id: 42,
      remote: '192.0.2.1',
      local: '192.0.2.2',
      dstPort: 4789,
      dev: 4,
      learning: true,
    }),
    CAPTURES.vxlan.request,
  );
});

test('link set: up, down, rename, master, nomaster, several attributes at once', () => {
  assertSameBytes(linkSetRequest(5, { up: true }, BY_INDEX), CAPTURES.up.request);
  assertSameBytes(linkSetRequest(6, { up: false }, BY_INDEX), CAPTURES.down.request);
  assertSameBytes(linkSetRequest(6, { name: 'h2' }, BY_INDEX), CAPTURES.rename.request);
  assertSameBytes(linkSetRequest(5, { master: 7 }, BY_INDEX), CAPTURES.master.request);
  assertSameBytes(linkSetRequest(5, { master: null }, BY_INDEX), CAPTURES.nomaster.request);
  const index = IFINFOMSG.decode(hex(CAPTURES.setmisc.request).subarray(16)).index;
  assertSameBytes(
    linkSetRequest(index, { mac: '02:11:22:33:44:55', mtu: 1400, group: 7, alias: 'hello' }, BY_INDEX),
    CAPTURES.setmisc.request,
  );
});

test('delete by group: RTM_DELLINK with ifindex 0 and IFLA_GROUP', () => {
  assertSameBytes(linkDelGroupRequest(7), CAPTURES.delgroup.request);
});

test('vlan and ipoib encode their IFLA_INFO_DATA and need a parent', () => {
  const v = add({ name: 'eth0.10', link: 2, kind: 'vlan', id: 10, protocol: '802.1ad' });
  const attrs = parseAttrs(v.payload.subarray(16), LINK_TABLE);
  assert.equal(attrs.link, 2);
  assert.equal(attrs.linkinfo?.kind, 'vlan');
  assert.equal(attrs.linkinfo?.data?.toString('hex'), '0600050088a80000' + '060001000a000000');
  assert.throws(
    () => validateLinkAdd({ name: 'v', kind: 'vlan', id: 10 }),
    isNetplumbError('INVALID_ARGUMENT', 'link'),
  );
  const ib = add({ name: 'ib0.8001', link: 3, kind: 'ipoib', pkey: 0x8001, mode: 'connected' });
  assert.equal(
    parseAttrs(ib.payload.subarray(16), LINK_TABLE).linkinfo?.data?.toString('hex'),
    '0600010001800000' + '0600020001000000',
  );
  const d = add({ name: 'd0', kind: 'dummy', up: true, group: 9 });
  assert.equal(IFINFOMSG.decode(d.payload).flags, 1);
  assert.equal(parseAttrs(d.payload.subarray(16), LINK_TABLE).group, 9);
});

test('link add validation fails before anything is built', () => {
  const bad: [LinkAddOptions, string][] = [
    [{ name: 'aaaaaaaaaaaaaaaa', kind: 'veth' }, 'name'],
    [{ name: 'a:b', kind: 'veth' }, 'name'],
    [{ name: 'h1', kind: 'veth', peer: { name: 'eth 1' } }, 'peer.name'],
    [{ name: 'h1', kind: 'veth', peer: { mac: 'ff:ff:ff:ff:ff:ff' } }, 'peer.mac'],
    [{ name: 'h1', kind: 'veth', mtu: 67 }, 'mtu'],
    [{ name: 'h1', kind: 'veth', peer: { netnsFd: -1 } }, 'peer.netnsFd'],
    [{ name: 'v', kind: 'vlan', link: 2, id: 4095 }, 'vlan'],
    [{ name: 'm', kind: 'macvlan', link: 2, mode: 'bogus' as 'bridge' }, 'mode'],
    [{ name: 'x', kind: 'vxlan', id: 1 << 24 }, 'id'],
    [{ name: 'x', kind: 'nope' } as unknown as LinkAddOptions, 'kind'],
    [{ name: 'h1', kind: 'veth', peer: { name: 'p', up: true } } as unknown as LinkAddOptions, 'peer.up'],
    [{ name: 'h1', kind: 'veth', peer: { name: 'p', alias: 'x' } } as unknown as LinkAddOptions, 'peer.alias'],
  ];
  for (const [o, field] of bad)
    assert.throws(() => validateLinkAdd(o), isNetplumbError('INVALID_ARGUMENT', field), JSON.stringify(o));
});

// ---------------------------------------------------------------------------------------
// Decoding

function dumpedLinks(): Link[] {
  return CAPTURES.linkdump.replies
    .flatMap((r) => decodeMessages(hex(r)))
    .filter((m) => m.type === RTM.RTM_NEWLINK)
    .map(decodeLink);
}

test('a captured RTM_NEWLINK dump decodes into typed links', () => {
  const links = dumpedLinks();
  const by = new Map(links.map((l) => [l.name, l]));
  assert.deepEqual(
    links.map((l) => l.name),
    ['lo', 'b', 'a', 'vb', 'va', 'h2', 'br0', 'mv0', 'vx0'],
  );
  const lo = by.get('lo');
  assert.equal(lo?.flags.loopback, true);
  assert.equal(lo?.mtu, 65536);
  assert.equal(lo?.kind, undefined);
  const va = by.get('va');
  assert.deepEqual(
    {
      index: va?.index,
      kind: va?.kind,
      mtu: va?.mtu,
      mac: va?.mac,
      group: va?.group,
      alias: va?.alias,
      up: va?.flags.up,
      operstate: va?.operstate,
      peer: va?.peerIndex,
    },
    {
      index: 5,
      kind: 'veth',
      mtu: 1400,
      mac: '02:11:22:33:44:55',
      group: 7,
      alias: 'hello',
      up: true,
      operstate: 'up',
      peer: 4,
    },
  );
  const h2 = by.get('h2');
  assert.equal(h2?.linkNetnsId, 0);
  assert.equal(h2?.peerIndex, 2);
  assert.deepEqual(by.get('br0')?.info, {
    forwardDelay: 1500,
    ageingTime: 30000,
    priority: 32768,
    vlanFiltering: false,
    stp: false,
  });
  assert.deepEqual(by.get('mv0')?.info, { mode: 'bridge', flags: 0 });
  assert.equal(by.get('mv0')?.peerIndex, 4);
  assert.deepEqual(by.get('vx0')?.info, {
    id: 42,
    remote: '192.0.2.1',
    local: '192.0.2.2',
    dstPort: 4789,
    dev: 4,
    ttl: 0,
    learning: true,
  });
  // Attributes we do not model (stats, AF_SPEC, XDP…) are kept raw by number.
  assert.ok(va?.unknownAttrs.some((u) => u.type === 23 /* IFLA_STATS64 */));
});

// ---------------------------------------------------------------------------------------
// Verbs against a fake kernel

/** A tiny kernel model: links by name/index; RTM_GETLINK/NEWLINK/DELLINK with group semantics. */
function linkKernel(links: Link[]): FakeKernel {
  const k = new FakeKernel(99, (req, kk) => {
    const hdr = IFINFOMSG.decode(req.payload);
    const a = parseAttrs(req.payload.subarray(16), LINK_TABLE);
    const find = (): Link | undefined =>
      links.find((l) => (hdr.index > 0 ? l.index === hdr.index : l.name === a.ifname));
    if (req.type === RTM.RTM_GETLINK && (req.flags & 0x300) === 0x300) {
      const captured = CAPTURES.linkdump.replies
        .flatMap((r) => decodeMessages(hex(r)))
        .filter((m) => m.type === RTM.RTM_NEWLINK);
      return [...captured.map((m) => kk.reply(req, m.type, m.payload, 2)), kk.done(req)];
    }
    if (req.type === RTM.RTM_GETLINK) {
      const l = find();
      if (l === undefined) return [kk.error(req, 19)];
      const raw = CAPTURES.linkdump.replies
        .flatMap((r) => decodeMessages(hex(r)))
        .find((m) => m.type === RTM.RTM_NEWLINK && decodeLink(m).name === l.name) as NetlinkMessage;
      return [kk.reply(req, RTM.RTM_NEWLINK, raw.payload), kk.ack(req)];
    }
    if (req.type === RTM.RTM_NEWLINK && (req.flags & 0x400) === 0) {
      const l = find();
      if (l === undefined) return [kk.error(req, 19)];
      if (a.group !== undefined) l.group = a.group;
      return [kk.ack(req)];
    }
    if (req.type === RTM.RTM_DELLINK && hdr.index === 0 && a.ifname === undefined && a.group !== undefined) {
      for (let i = links.length - 1; i >= 0; i--) if (links[i]?.group === a.group) links.splice(i, 1);
      return [kk.ack(req)];
    }
    return [kk.ack(req)];
  });
  return k;
}

test('link add resolves names (pipelined) then sends one RTM_NEWLINK with the indexes', async () => {
  const k = linkKernel(dumpedLinks());
  const rtnl = new Rtnl(k);
  await rtnl.link.add({ name: 'mv1', link: 'vb', master: 'br0', kind: 'macvlan', mode: 'private' });
  const reqs = k.requests;
  assert.deepEqual(
    reqs.map((r) => r.type),
    [RTM.RTM_GETLINK, RTM.RTM_GETLINK, RTM.RTM_NEWLINK],
  );
  assert.equal(k.sends[0]?.length, 2, 'both name lookups in one send');
  const a = parseAttrs((reqs[2] as NetlinkMessage).payload.subarray(16), LINK_TABLE);
  assert.deepEqual([a.link, a.master, a.ifname], [4, 7, 'mv1']);
});

test('link get of a missing link is NOT_FOUND naming the link; invalid names send nothing', async () => {
  const k = linkKernel(dumpedLinks());
  const rtnl = new Rtnl(k);
  await assert.rejects(
    rtnl.link.get('nope0'),
    (e: unknown) => isNetplumbError('NOT_FOUND')(e) && /link "nope0": RTM_GETLINK: ENODEV/.test((e as Error).message),
  );
  const before = k.requests.length;
  await assert.rejects(rtnl.link.get('bad name'), isNetplumbError('INVALID_ARGUMENT', 'dev'));
  await assert.rejects(
    rtnl.link.add({ name: 'x'.repeat(16), kind: 'veth' }),
    isNetplumbError('INVALID_ARGUMENT', 'name'),
  );
  await assert.rejects(rtnl.link.set('va', { mac: 'aabb.ccdd.eeff' }), isNetplumbError('INVALID_ARGUMENT', 'mac'));
  await settle();
  assert.equal(k.requests.length, before, 'nothing sent for invalid input');
});

test('link list filters by kind, group and master', async () => {
  const rtnl = new Rtnl(linkKernel(dumpedLinks()));
  assert.deepEqual(
    (await rtnl.link.list({ kind: 'veth' })).map((l) => l.name),
    ['b', 'a', 'vb', 'va', 'h2'],
  );
  assert.deepEqual(
    (await rtnl.link.list({ group: 7 })).map((l) => l.name),
    ['va'],
  );
  assert.deepEqual(
    (await rtnl.link.list({ master: 'br0' })).map((l) => l.name),
    [],
  );
});

test('delGroup refuses group 0 (every ungrouped link) before sending anything', async () => {
  const k = linkKernel(dumpedLinks());
  const rtnl = new Rtnl(k);
  await assert.rejects(rtnl.link.delGroup(0), isNetplumbError('INVALID_ARGUMENT', 'group'));
  await settle();
  assert.equal(k.sends.length, 0);
});

test('delMany: a fresh random group on every link (pipelined), then one delete by group', async () => {
  const links = dumpedLinks();
  const k = linkKernel(links);
  const rtnl = new Rtnl(k);
  await rtnl.link.delMany(['a', 'vb', 8, 'gone0']);
  const reqs = k.requests;
  const sets = reqs.filter((r) => r.type === RTM.RTM_NEWLINK);
  assert.equal(sets.length, 4);
  const groups = new Set(sets.map((r) => parseAttrs(r.payload.subarray(16), LINK_TABLE).group));
  assert.equal(groups.size, 1);
  const [group] = [...groups];
  assert.ok(group !== undefined && group !== 0 && group !== 7);
  assert.ok(group >= SCRATCH_GROUPS.first && group <= SCRATCH_GROUPS.last, `group ${group} is a scratch group`);
  const del = reqs[reqs.length - 1] as NetlinkMessage;
  assert.equal(del.type, RTM.RTM_DELLINK);
  assert.equal(IFINFOMSG.decode(del.payload).index, 0);
  assert.equal(parseAttrs(del.payload.subarray(16), LINK_TABLE).group, group);
  assert.ok(
    k.sends.some((s) => s.length === 4),
    'the four group changes went out as one batch',
  );
});

test('delMany with missingOk false reports the links that could not be deleted', async () => {
  const rtnl = new Rtnl(linkKernel(dumpedLinks()));
  await assert.rejects(
    rtnl.link.delMany(['a', 'gone0'], { missingOk: false }),
    (e: unknown) =>
      isNetplumbError('NOT_FOUND')(e) &&
      JSON.stringify((e as { details: { failed: unknown } }).details.failed) === '["gone0"]',
  );
});

test('link add with an alias: created, then the alias set (the kernel ignores it on creation); undone if that fails', async () => {
  const seen: string[] = [];
  let failAlias = false;
  const k = new FakeKernel(9, (req, kk) => {
    const a = parseAttrs(req.payload.subarray(16), LINK_TABLE);
    seen.push(`${req.type}:${(req.flags & 0x400) !== 0 ? 'create' : ''}:${a.alias ?? ''}`);
    return [failAlias && a.alias !== undefined && (req.flags & 0x400) === 0 ? kk.error(req, 1) : kk.ack(req)];
  });
  const rtnl = new Rtnl(k);
  await rtnl.link.add({ name: 'h1', kind: 'bridge', alias: 'owner=np' });
  // Sent on creation too (the kernel ignores it there today), then set.
  assert.deepEqual(seen, ['16:create:owner=np', '16::owner=np']);
  seen.length = 0;
  failAlias = true;
  await assert.rejects(rtnl.link.add({ name: 'h2', kind: 'bridge', alias: 'owner=np' }), isNetplumbError('PRIVILEGE'));
  assert.deepEqual(seen, ['16:create:owner=np', '16::owner=np', '17::']);
});
