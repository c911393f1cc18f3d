/**
 * netplumb's jail (libexec/netplumb-jail) and DHCP script (libexec/netplumb-dhcp-hook), on
 * their own: a jailed program writes no file of the host (the leak oracle hashes the host's
 * /etc/resolv.conf, /etc/hosts, /etc/hostname and reads the hostname around each test), and the
 * script applies a lease the way dhclient hands it over — the client itself is not installed
 * here; plumb-modes runs the real udhcpc against dnsmasq.
 */
import { after, before, test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { ErrorCode, NetplumbError } from '../../src/errors.js';
import { type Netns, openNetns } from '../../src/netns/index.js';
import { DHCP_HOOK, DHCP_RUN_DIR, dhcpDir, runDhcp } from '../../src/plumb/dhcp.js';
import { runJailed } from '../../src/plumb/jail.js';
import { TestNetns } from '../helpers/netns.js';
import { useLeakCheck } from '../helpers/leak.js';

let g: TestNetns;
let ns: Netns;
let dir: string;

const failed = (what: string) => new NetplumbError(ErrorCode.UNAVAILABLE, what);

before(async () => {
  g = await TestNetns.create('jail');
  // eth1 for the client, its peer left alone: a link with carrier and nobody answering.
  await g.exec(['ip', 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1p']);
  await g.exec(['ip', 'link', 'set', 'eth1p', 'up']);
  await g.exec(['ip', 'link', 'set', 'eth1', 'up']);
  ns = openNetns({ name: g.name });
});
after(async () => {
  ns?.close();
  await g?.destroy();
});
useLeakCheck();

/** A fresh attachment directory for each test, removed after it. */
async function withDir(body: () => Promise<void>): Promise<void> {
  dir = `${DHCP_RUN_DIR}/test-${randomBytes(4).toString('hex')}`;
  mkdirSync(dir, { recursive: true });
  try {
    await body();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a jailed program writes no file of the host, sets no hostname of the host; its directory is its own', async () => {
  await withDir(async () => {
    const probes = ['/etc/netplumb-jail-probe', '/var/tmp/netplumb-jail-probe', '/tmp/netplumb-jail-probe'];
    // Each attempt that succeeds is recorded in the directory; `ok` only if the program ran to the end.
    const script = `
      for f in /etc/resolv.conf /etc/hosts /etc/hostname "$@"; do
        if (echo jailed >> "$f") 2>/dev/null; then echo "$f" >> "$NETPLUMB_DIR/written"; fi
      done
      hostname netplumb-jail-probe 2>/dev/null
      echo jailed > /run/scratch && echo "$(hostname)" > "$NETPLUMB_DIR/ok"`;
    await runJailed(ns, ['sh', '-c', script, 'probe', ...probes], 10_000, failed, {
      stateDir: dir,
      env: { NETPLUMB_DIR: dir },
    });
    assert.equal(readFileSync(`${dir}/ok`, 'utf8'), 'netplumb-jail-probe\n', 'ran to the end, with its own hostname');
    assert.equal(
      existsSync(`${dir}/written`),
      false,
      existsSync(`${dir}/written`) ? readFileSync(`${dir}/written`, 'utf8') : '',
    );
    for (const p of probes) assert.equal(existsSync(p), false, `${p} not created`);
    assert.equal(existsSync('/run/scratch'), false, "the jail's /run is its own");
    assert.notEqual(hostname(), 'netplumb-jail-probe');
  });
});

test('the jailed program sees the guest: its interfaces in /sys/class/net and `ip link`', async () => {
  await withDir(async () => {
    await runJailed(
      ns,
      ['sh', '-c', 'ls /sys/class/net > "$NETPLUMB_DIR/sys"; ip -o link show eth1 > "$NETPLUMB_DIR/ip"'],
      10_000,
      failed,
      { stateDir: dir, env: { NETPLUMB_DIR: dir } },
    );
    assert.deepEqual(readFileSync(`${dir}/sys`, 'utf8').trim().split('\n').sort(), ['eth1', 'eth1p', 'lo']);
    assert.match(readFileSync(`${dir}/ip`, 'utf8'), /^\d+: eth1@eth1p: /);
  });
});

/** Run the DHCP script as dhclient would, with `reason` and the lease in its environment. */
function dhclientEvent(env: Record<string, string>): Promise<void> {
  return runJailed(ns, [DHCP_HOOK], 10_000, failed, {
    stateDir: dir,
    env: { NETPLUMB_DHCP_DIR: dir, NETPLUMB_DHCP_CLIENT: 'dhclient', interface: 'eth1', ...env },
  });
}

async function addresses(): Promise<string[]> {
  const [l] = await g.ip('addr', 'show', 'dev', 'eth1');
  return (l?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
}

async function defaultGateway(): Promise<string | undefined> {
  const routes = await g.ip<{ dst: string; gateway?: string }>('route', 'show', 'default');
  return routes[0]?.gateway;
}

const lease = {
  new_ip_address: '10.9.0.5',
  new_subnet_mask: '255.255.255.0',
  new_broadcast_address: '10.9.0.255',
  new_routers: '10.9.0.1 10.9.0.2',
  new_domain_name_servers: '10.9.0.53 fd00:9::53',
  new_domain_name: 'np.test',
  new_domain_search: 'a.np.test b.np.test',
  new_interface_mtu: '1300',
};

test("the DHCP script applies dhclient's lease: address, broadcast, MTU, default route; the name servers to the attachment's resolv.conf", async () => {
  await withDir(async () => {
    await dhclientEvent({ reason: 'PREINIT' });
    await dhclientEvent({ reason: 'BOUND', ...lease });
    assert.deepEqual(await addresses(), ['10.9.0.5/24']);
    const [a] = (await g.ip('addr', 'show', 'dev', 'eth1'))[0]?.addr_info ?? [];
    assert.equal(a?.broadcast, '10.9.0.255');
    assert.equal((await g.ip('link', 'show', 'dev', 'eth1'))[0]?.mtu, 1300);
    assert.equal(await defaultGateway(), '10.9.0.1', 'via the first router');
    assert.equal(
      readFileSync(`${dir}/resolv.conf`, 'utf8'),
      [
        '# DHCP lease of eth1 (dhclient); written by netplumb, not used by the host',
        'domain np.test',
        'search a.np.test b.np.test',
        'nameserver 10.9.0.53',
        'nameserver fd00:9::53',
        '',
      ].join('\n'),
    );
    // A renewal keeps the address and the route; a new address replaces the old one.
    await dhclientEvent({ reason: 'RENEW', old_ip_address: '10.9.0.5', ...lease });
    assert.deepEqual(await addresses(), ['10.9.0.5/24']);
    await dhclientEvent({ reason: 'BOUND', old_ip_address: '10.9.0.5', ...lease, new_ip_address: '10.9.0.6' });
    assert.deepEqual(await addresses(), ['10.9.0.6/24']);
    assert.equal(await defaultGateway(), '10.9.0.1');
    // The lease ends: the address and the record go.
    await dhclientEvent({ reason: 'RELEASE', old_ip_address: '10.9.0.6' });
    assert.deepEqual(await addresses(), []);
    assert.equal(existsSync(`${dir}/resolv.conf`), false);
  });
});

test("the DHCP script passes a server's values as data: a bad address is refused, bad names and servers are left out", async () => {
  await withDir(async () => {
    await assert.rejects(
      dhclientEvent({ reason: 'BOUND', ...lease, new_ip_address: '10.9.0.7 dev lo' }),
      (e) => e instanceof NetplumbError && /refused address/.test(e.message),
    );
    assert.deepEqual(await addresses(), []);
    await dhclientEvent({
      reason: 'BOUND',
      ...lease,
      new_domain_name: 'np.test\nnameserver 6.6.6.6',
      new_domain_search: '-x $(reboot) ok.np.test',
      new_domain_name_servers: '10.9.0.53;reboot 10.9.0.54 `id`',
    });
    assert.equal(
      readFileSync(`${dir}/resolv.conf`, 'utf8'),
      [
        '# DHCP lease of eth1 (dhclient); written by netplumb, not used by the host',
        'search ok.np.test',
        'nameserver 10.9.0.54',
        '',
      ].join('\n'),
    );
    await dhclientEvent({ reason: 'RELEASE', old_ip_address: '10.9.0.5' });
    assert.deepEqual(await addresses(), []);
  });
});

test('a DHCP client that gets no lease leaves nothing: no process, no attachment directory', async () => {
  const id = `test-${randomBytes(4).toString('hex')}`;
  await assert.rejects(
    // No server on the link: one try, one second (the user's options come after netplumb's).
    runDhcp(
      { kind: 'dhcp', client: 'udhcpc', foreground: false, options: ['-t', '1', '-T', '1'] },
      ns,
      'eth1',
      id,
      'g1',
    ),
    (e) => e instanceof NetplumbError && e.code === ErrorCode.UNAVAILABLE && /udhcpc/.test(e.message),
  );
  assert.equal(existsSync(dhcpDir(id)), false);
});
