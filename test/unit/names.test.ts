/** Generated host-side names (faults.md A4): ≤ 15 bytes, charset, deterministic, collision-free. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  attachmentHash,
  dummyName,
  macvlanName,
  parseGeneratedName,
  vethHostName,
  vlanSubinterfaceName,
} from '../../src/plumb/names.js';
import { vlanId } from '../../src/validate.js';
import { throwsCode } from './support/assert-error.js';

const IFNAME_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789-_.';

function randomIfName(): string {
  const bytes = randomBytes(1 + ((randomBytes(1)[0] ?? 0) % 15));
  const name = Array.from(bytes, (b) => IFNAME_CHARS[b % IFNAME_CHARS.length]).join('');
  return name === '.' || name === '..' ? 'eth1' : name;
}

test('A4: 10⁵ random container ids × ifnames: ≤ 15 bytes, [a-z0-9-], deterministic, no collisions', () => {
  const seen = new Map<string, string>();
  for (let i = 0; i < 100_000; i++) {
    const key = {
      containerId: randomBytes(32).toString('hex'),
      containerIfName: i % 3 === 0 ? 'eth1' : randomIfName(),
    };
    for (const name of [vethHostName(key), macvlanName(key), dummyName(key)]) {
      assert.ok(Buffer.byteLength(name) <= 15, name);
      assert.match(name, /^[a-z0-9-]+$/);
      const owner = `${key.containerId}/${key.containerIfName}`;
      const previous = seen.get(name);
      assert.ok(previous === undefined || previous === owner, `collision: ${name} for ${previous} and ${owner}`);
      seen.set(name, owner);
    }
    if (i % 1000 === 0) assert.equal(vethHostName({ ...key }), vethHostName(key));
  }
  assert.equal(seen.size, 300_000);
});

test('same key → same name; another ifname of the same container → another name', () => {
  const id = 'f'.repeat(64);
  assert.equal(
    vethHostName({ containerId: id, containerIfName: 'eth1' }),
    vethHostName({ containerId: id, containerIfName: 'eth1' }),
  );
  assert.notEqual(
    vethHostName({ containerId: id, containerIfName: 'eth1' }),
    vethHostName({ containerId: id, containerIfName: 'eth2' }),
  );
});

test('the hash is the top 50 bits of sha256(id NUL ifname) in base32, shared by every kind', () => {
  const key = { containerId: '3f4e'.repeat(16), containerIfName: 'eth1' };
  const bits = [...createHash('sha256').update(`${key.containerId}\u0000${key.containerIfName}`).digest()]
    .map((b) => b.toString(2).padStart(8, '0'))
    .join('');
  const expected = Array.from(
    { length: 10 },
    (_, i) => 'abcdefghijklmnopqrstuvwxyz234567'[parseInt(bits.slice(5 * i, 5 * i + 5), 2)],
  ).join('');
  assert.equal(attachmentHash(key), expected);
  assert.equal(vethHostName(key), `np${expected}h`);
  assert.equal(macvlanName(key), `np${expected}m`);
  assert.equal(dummyName(key), `np${expected}d`);
  assert.deepEqual(parseGeneratedName(vethHostName(key)), { kind: 'veth', hash: expected });
  assert.deepEqual(parseGeneratedName(dummyName(key)), { kind: 'dummy', hash: expected });
  assert.equal(parseGeneratedName('eth0'), undefined);
  assert.equal(parseGeneratedName(`np${expected}x`), undefined);
});

test("VLAN subinterfaces keep pipework's <if>.<vid> when it fits, else a generated name", () => {
  // The VLAN id is a parsed one (an out-of-range @VID is refused where it is read: the CLI and plan tests).
  const vid = (n: number) => vlanId('vlan', n);
  assert.equal(vlanSubinterfaceName('eth0', vid(100)), 'eth0.100');
  assert.equal(vlanSubinterfaceName('enp1s0f1', vid(4094)), 'enp1s0f1.4094');
  const long = vlanSubinterfaceName('enp129s0f1np1', vid(100));
  assert.match(long, /^np[a-z2-7]{10}v$/);
  assert.notEqual(long, vlanSubinterfaceName('enp129s0f1np1', vid(101)));
  assert.notEqual(long, vlanSubinterfaceName('enp129s0f0np0', vid(100)));
});

test('A1/A3: invalid keys are refused', () => {
  throwsCode(() => vethHostName({ containerId: '', containerIfName: 'eth1' }), 'INVALID_ARGUMENT', 'containerId');
  throwsCode(
    () => vethHostName({ containerId: 'a\u0000b', containerIfName: 'eth1' }),
    'INVALID_ARGUMENT',
    'containerId',
  );
  for (const bad of ['aaaaaaaaaaaaaaaa', '', '.', '..', 'a/b', 'a:b', 'a b', 'eth0\n', 'eth\u0000']) {
    throwsCode(() => vethHostName({ containerId: 'c1', containerIfName: bad }), 'INVALID_ARGUMENT', 'containerIfName');
  }
});
