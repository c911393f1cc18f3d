/**
 * netplumb-cni's CNI_* variables (src/cni/args.ts): what each command needs, CNI_ARGS read
 * (MAC=, IP=, IgnoreUnknown=1, Kubernetes' keys), a missing or wrong variable error 4 naming it.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { cniCall, cniCommand, parseCniArgs } from '../../src/cni/args.js';
import { CniError } from '../../src/cni/errors.js';

const env = { CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/c1', CNI_IFNAME: 'eth0', CNI_PATH: '/a::/b' };

function envError(fn: () => unknown): { code: number; details: string | undefined } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CniError, String(e));
    return { code: e.code, details: e.details };
  }
  assert.fail('expected a CNI error');
}

test('the command', () => {
  for (const c of ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC']) assert.equal(cniCommand({ CNI_COMMAND: c }), c);
  assert.deepEqual(
    envError(() => cniCommand({ CNI_COMMAND: 'add' })),
    { code: 4, details: 'CNI_COMMAND' },
  );
  assert.deepEqual(
    envError(() => cniCommand({})),
    { code: 4, details: 'CNI_COMMAND' },
  );
});

test('an ADD: container id, namespace, interface, plugin path', () => {
  const c = cniCall('ADD', env);
  assert.deepEqual(
    { ...c, args: { ...c.args } },
    { command: 'ADD', containerId: 'c1', netns: '/run/netns/c1', ifname: 'eth0', path: ['/a', '/b'], args: {} },
  );
  for (const [variable, value] of [
    ['CNI_CONTAINERID', undefined],
    ['CNI_CONTAINERID', '-x'],
    ['CNI_CONTAINERID', 'a/b'],
    ['CNI_IFNAME', undefined],
    ['CNI_IFNAME', 'x'.repeat(16)],
    ['CNI_NETNS', undefined],
    ['CNI_NETNS', 'relative/path'],
  ] as const)
    assert.deepEqual(
      envError(() => cniCall('ADD', { ...env, [variable]: value })),
      { code: 4, details: variable },
    );
});

test('a DEL needs no namespace (it may be gone)', () => {
  const { CNI_NETNS: _, ...noNetns } = env;
  assert.equal(cniCall('DEL', noNetns).netns, undefined);
  assert.equal(cniCall('DEL', { ...noNetns, CNI_NETNS: '' }).netns, undefined);
});

test('CNI_ARGS: MAC= and IP= read, Kubernetes keys known, any other refused unless IgnoreUnknown', () => {
  assert.deepEqual(parseCniArgs('MAC=02:00:00:00:00:0A;IP=10.1.0.5,2001:db8::5'), {
    mac: { address: '02:00:00:00:00:0a' },
    ips: ['10.1.0.5', '2001:db8::5'],
  });
  assert.deepEqual(parseCniArgs('K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_INFRA_CONTAINER_ID=x;K8S_POD_UID=u'), {});
  assert.deepEqual(
    envError(() => parseCniArgs('FOO=1')),
    { code: 4, details: 'CNI_ARGS' },
  );
  assert.deepEqual(parseCniArgs('FOO=1;IgnoreUnknown=1'), {});
  assert.deepEqual(parseCniArgs('IgnoreUnknown=true;BAR=2'), {});
  assert.deepEqual(
    envError(() => parseCniArgs('IgnoreUnknown=0;BAR=2')),
    { code: 4, details: 'CNI_ARGS' },
  );
  assert.deepEqual(
    envError(() => parseCniArgs('MAC=zz;IgnoreUnknown=1')),
    { code: 4, details: 'CNI_ARGS' },
  );
  assert.deepEqual(
    envError(() => parseCniArgs('IP=10.1.0.300')),
    { code: 4, details: 'CNI_ARGS' },
  );
  assert.deepEqual(
    envError(() => parseCniArgs('novalue')),
    { code: 4, details: 'CNI_ARGS' },
  );
});
