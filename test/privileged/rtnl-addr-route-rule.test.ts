/** Address, route and rule verbs against the real kernel in fresh namespaces, checked through `ip -json`. */
import { test } from '../helpers/privileged.js';
import * as assert from 'node:assert/strict';
import { NetplumbError } from '../../src/errors.js';
import { useLeakCheck } from '../helpers/leak.js';
import type { IpLink, IpRoute } from '../helpers/netns.js';
import { withNamespaces } from './support/rtnl-ns.js';

useLeakCheck();

interface IpRule {
  priority: number;
  src?: string;
  srclen?: number;
  dst?: string;
  dstlen?: number;
  iif?: string;
  fwmark?: string;
  fwmask?: string;
  table: string;
  not?: null | boolean;
}

function expectCode(code: string): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof NetplumbError, String(e));
    assert.equal(e.code, code, e.message);
    return true;
  };
}

test('addresses: v4 with computed broadcast, v6 nodad, list, del, EEXIST and ext-ack errors', async () => {
  await withNamespaces(1, async ({ rtnl, t }) => {
    await rtnl.link.add({ name: 'va', kind: 'veth', up: true, peer: { name: 'vb' } });
    await rtnl.link.set('vb', { up: true });
    await rtnl.addr.add({ dev: 'va', address: '10.1.2.3/24' });
    await rtnl.addr.add({ dev: 'va', address: 'fd00::1/64', nodad: true });
    const [va] = await t.ip<IpLink>('addr', 'show', 'dev', 'va');
    const v4 = va?.addr_info?.find((a) => a.family === 'inet');
    assert.deepEqual([v4?.local, v4?.prefixlen, v4?.broadcast], ['10.1.2.3', 24, '10.1.2.255']);
    const v6 = va?.addr_info?.find((a) => a.family === 'inet6' && a.local === 'fd00::1');
    assert.equal(v6?.nodad, true);
    assert.equal(v6?.prefixlen, 64);
    const ours = await rtnl.addr.list({ dev: 'va' });
    assert.ok(ours.some((a) => a.cidr === '10.1.2.3/24' && a.broadcast === '10.1.2.255'));
    assert.ok(ours.some((a) => a.cidr === 'fd00::1/64' && a.nodad));
    await assert.rejects(rtnl.addr.add({ dev: 'va', address: '10.1.2.3/24' }), expectCode('ALREADY_EXISTS'));
    await rtnl.addr.del({ dev: 'va', address: '10.1.2.3/24' });
    await assert.rejects(rtnl.addr.del({ dev: 'va', address: '10.1.2.3/24' }), (e: unknown) => {
      assert.ok(e instanceof NetplumbError);
      assert.equal(e.details.errnoCode, 'EADDRNOTAVAIL');
      assert.match(e.message, /RTM_DELADDR: EADDRNOTAVAIL: .*not found/i);
      return true;
    });
    const [after] = await t.ip<IpLink>('addr', 'show', 'dev', 'va');
    assert.equal(
      after?.addr_info?.some((a) => a.local === '10.1.2.3'),
      false,
    );
  });
});

test('routes: default via on-link gateway, table/metric/src, replace, IPv6, del, list', async () => {
  await withNamespaces(1, async ({ rtnl, t }) => {
    await rtnl.link.add({ name: 'va', kind: 'veth', up: true, peer: { name: 'vb' } });
    await rtnl.link.set('vb', { up: true });
    await rtnl.addr.add({ dev: 'va', address: '10.1.2.3/24' });
    await rtnl.addr.add({ dev: 'va', address: 'fd00::1/64', nodad: true });
    // A gateway outside the subnet is valid with onlink (faults.md).
    await rtnl.route.add({ dst: 'default', via: '10.9.9.1', dev: 'va', onlink: true });
    await rtnl.route.add({ dst: '10.5.0.0/16', dev: 'va', table: 100, metric: 50, src: '10.1.2.3' });
    await rtnl.route.add({ dst: 'fd01::/64', via: 'fd00::2', dev: 'va' });
    const main = await t.ip<IpRoute>('route', 'show');
    const def = main.find((r) => r.dst === 'default');
    assert.deepEqual([def?.gateway, def?.dev, def?.flags.includes('onlink')], ['10.9.9.1', 'va', true]);
    const t100 = await t.ip<IpRoute>('route', 'show', 'table', '100');
    assert.deepEqual(
      t100.map((r) => [r.dst, r.dev, r.metric, r.prefsrc, r.scope]),
      [['10.5.0.0/16', 'va', 50, '10.1.2.3', 'link']],
    );
    const v6 = await t.ip<IpRoute>('-6', 'route', 'show', 'fd01::/64');
    assert.equal(v6[0]?.gateway, 'fd00::2');
    await assert.rejects(
      rtnl.route.add({ dst: 'default', via: '10.9.9.1', dev: 'va', onlink: true }),
      expectCode('ALREADY_EXISTS'),
    );
    await rtnl.route.replace({ dst: 'default', via: '10.1.2.1', dev: 'va' });
    assert.equal((await t.ip<IpRoute>('route', 'show', 'default'))[0]?.gateway, '10.1.2.1');
    assert.deepEqual(
      (await rtnl.route.list({ table: 100 })).map((r) => [r.dst, r.metric, r.prefsrc]),
      [['10.5.0.0/16', 50, '10.1.2.3']],
    );
    assert.ok(
      (await rtnl.route.list({ family: 6, dev: 'va' })).some((r) => r.dst === 'fd01::/64' && r.gateway === 'fd00::2'),
    );
    await rtnl.route.del({ dst: '10.5.0.0/16', dev: 'va', table: 100 });
    assert.deepEqual(await t.ip('route', 'show', 'table', '100'), []);
    await assert.rejects(
      rtnl.route.add({ dst: '10.7.0.0/16', via: '10.99.0.1', dev: 'va' }),
      expectCode('INVALID_ARGUMENT'),
    );
  });
});

test('rules: from/to/iif/fwmark/table/priority, not, lookup ≥ 256, list, del', async () => {
  await withNamespaces(1, async ({ rtnl, t }) => {
    await rtnl.rule.add({
      from: '10.1.0.0/16',
      to: '10.2.0.0/16',
      iif: 'va',
      fwmark: 1,
      fwmask: 0xff,
      table: 100,
      priority: 1000,
    });
    await rtnl.rule.add({ not: true, from: '10.3.0.0/16', table: 1000, priority: 1001 });
    await rtnl.rule.add({ family: 6, from: 'fd00::/8', table: 200, priority: 1002 });
    const rules = await t.ip<IpRule>('rule', 'show');
    const r1000 = rules.find((r) => r.priority === 1000);
    assert.deepEqual(
      [r1000?.src, r1000?.srclen, r1000?.dst, r1000?.dstlen, r1000?.iif, r1000?.fwmark, r1000?.fwmask, r1000?.table],
      ['10.1.0.0', 16, '10.2.0.0', 16, 'va', '0x1', '0xff', '100'],
    );
    const r1001 = rules.find((r) => r.priority === 1001);
    assert.deepEqual([r1001?.src, r1001?.table, 'not' in (r1001 ?? {})], ['10.3.0.0', '1000', true]);
    const v6 = await t.ip<IpRule>('-6', 'rule', 'show');
    assert.equal(v6.find((r) => r.priority === 1002)?.table, '200');
    const ours = await rtnl.rule.list(4);
    assert.ok(ours.some((r) => r.priority === 1001 && r.not && r.from === '10.3.0.0/16' && r.table === 1000));
    await rtnl.rule.del({ priority: 1000 });
    await rtnl.rule.del({ priority: 1001 });
    await rtnl.rule.del({ family: 6, priority: 1002 });
    assert.deepEqual(
      (await t.ip<IpRule>('rule', 'show')).map((r) => r.priority),
      [0, 32766, 32767],
    );
    await assert.rejects(rtnl.rule.del({ priority: 1000 }), expectCode('NOT_FOUND'));
  });
});
