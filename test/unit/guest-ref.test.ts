/**
 * Guest references: parsing, precedence and validation (no root, nothing opened).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTAINER_REF_MAX, parseGuestRef, validateContainerRef, type GuestRef } from '../../src/guest/ref.js';
import { resolveGuest, type ContainerInspector } from '../../src/guest/resolve.js';
import { dockerSocketPath, DEFAULT_DOCKER_SOCKET } from '../../src/guest/docker-api.js';
import { isNetplumbError, throwsCode } from './support/assert-error.js';

const ID = 'c3a1e0d6b5f24a8e9d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e';

test('words map to kinds: netns:, pid:, absolute paths, else a container', () => {
  const cases: [GuestRef, ReturnType<typeof parseGuestRef>][] = [
    ['con1', { kind: 'container', container: 'con1', label: 'container "con1"' }],
    [ID, { kind: 'container', container: ID, label: `container "${ID}"` }],
    ['netns:blue', { kind: 'netns', selector: { name: 'blue' }, label: 'netns:blue' }],
    ['pid:42', { kind: 'pid', selector: { pid: 42 }, label: 'pid:42' }],
    ['/run/netns/blue', { kind: 'path', selector: { path: '/run/netns/blue' }, label: '/run/netns/blue' }],
    [
      '/var/run/docker/netns/abc',
      { kind: 'path', selector: { path: '/var/run/docker/netns/abc' }, label: '/var/run/docker/netns/abc' },
    ],
    ['/proc/42/ns/net', { kind: 'pid', selector: { pid: 42 }, label: '/proc/42/ns/net' }],
    ['/proc/self/ns/net', { kind: 'pid', selector: { pid: process.pid }, label: '/proc/self/ns/net' }],
    [{ container: 'con1' }, { kind: 'container', container: 'con1', label: 'container "con1"' }],
    [{ name: 'blue' }, { kind: 'netns', selector: { name: 'blue' }, label: 'netns:blue' }],
    [{ netns: 'blue' }, { kind: 'netns', selector: { name: 'blue' }, label: 'netns:blue' }],
    [{ path: '/run/netns/blue' }, { kind: 'path', selector: { path: '/run/netns/blue' }, label: '/run/netns/blue' }],
    [{ pid: 42 }, { kind: 'pid', selector: { pid: 42 }, label: 'pid:42' }],
    [
      { pid: 42, startTime: 1234 },
      { kind: 'pid', selector: { pid: 42, startTime: 1234 }, label: 'pid:42' },
    ],
  ];
  for (const [ref, expected] of cases) assert.deepEqual(parseGuestRef(ref), expected, JSON.stringify(ref));
});

test('a bare word is a container even when a named namespace of that name could exist', () => {
  // Precedence is explicit: /run/netns/<word> is never consulted for a bare word.
  assert.equal(parseGuestRef('blue').kind, 'container');
});

test('container names, full IDs and ID prefixes are accepted', () => {
  for (const ok of ['c', '7', 'con1', 'my_container-1.x', ID, ID.slice(0, 12), 'A'.repeat(CONTAINER_REF_MAX)]) {
    assert.equal(validateContainerRef(ok), ok);
  }
});

test('bad container references are INVALID_ARGUMENT', () => {
  const bad = [
    '',
    '.',
    '..',
    'a..b',
    '.hidden',
    '-rm',
    '_x',
    'con 1',
    'con\n',
    'con\t1',
    'con\u0000',
    'con\u001b[31m',
    'con;reboot',
    '$(reboot)',
    '`id`',
    'a|b',
    'a?b',
    'a#b',
    'a%2fb',
    'ünïcode',
    'A'.repeat(CONTAINER_REF_MAX + 1),
  ];
  for (const ref of bad) throwsCode(() => validateContainerRef(ref), 'INVALID_ARGUMENT', 'container');
  for (const ref of bad) throwsCode(() => parseGuestRef(ref), 'INVALID_ARGUMENT');
  throwsCode(() => parseGuestRef({ container: '../x' }), 'INVALID_ARGUMENT', 'container');
});

test('relative paths and path syntax in a word are refused, not taken as containers', () => {
  for (const ref of ['a/b', 'run/netns/x', '../../proc/1/ns/net', './x'])
    throwsCode(() => parseGuestRef(ref), 'INVALID_ARGUMENT');
});

test('bad pid: and netns: references are INVALID_ARGUMENT', () => {
  for (const ref of [
    'pid:',
    'pid:0',
    'pid:-1',
    'pid:1.5',
    'pid:0x10',
    'pid: 12',
    'pid:12 ',
    'pid:012',
    'pid:99999999',
    'pid:abc',
    'pid:1e3',
  ]) {
    throwsCode(() => parseGuestRef(ref), 'INVALID_ARGUMENT', 'pid');
  }
  for (const ref of [
    'netns:',
    'netns:..',
    'netns:.',
    'netns:a/b',
    'netns:../../proc/1/ns/net',
    `netns:${'x'.repeat(300)}`,
    'netns:a\nb',
  ]) {
    throwsCode(() => parseGuestRef(ref), 'INVALID_ARGUMENT', 'netns');
  }
  throwsCode(() => parseGuestRef({ pid: 0 }), 'INVALID_ARGUMENT', 'pid');
  throwsCode(() => parseGuestRef({ pid: Number.NaN }), 'INVALID_ARGUMENT', 'pid');
  throwsCode(() => parseGuestRef({ path: 'relative' }), 'INVALID_ARGUMENT', 'netnsPath');
  throwsCode(() => parseGuestRef({ name: 'a/b' }), 'INVALID_ARGUMENT', 'netns');
  throwsCode(() => parseGuestRef({ netns: '../x' }), 'INVALID_ARGUMENT', 'netns');
  throwsCode(() => parseGuestRef({} as GuestRef), 'INVALID_ARGUMENT', 'guest');
  throwsCode(() => parseGuestRef(42 as unknown as GuestRef), 'INVALID_ARGUMENT', 'guest');
});

test('resolveGuest rejects a bad reference before asking the engine or opening anything', async () => {
  const asked: string[] = [];
  const docker: ContainerInspector = {
    inspect: (ref) => {
      asked.push(ref);
      throw new Error('must not be called');
    },
    inspectContainer: (ref) => {
      asked.push(ref);
      throw new Error('must not be called');
    },
  };
  for (const ref of ['a/b', '..', 'con\n1', 'pid:0', 'netns:../x', '$(reboot)', '']) {
    await assert.rejects(resolveGuest(ref, { docker }), isNetplumbError('INVALID_ARGUMENT'), JSON.stringify(ref));
  }
  assert.deepEqual(asked, []);
});

test('DOCKER_HOST: unix sockets only, absolute, short enough', () => {
  assert.equal(dockerSocketPath(undefined), DEFAULT_DOCKER_SOCKET);
  assert.equal(dockerSocketPath(''), DEFAULT_DOCKER_SOCKET);
  assert.equal(dockerSocketPath('unix:///run/podman/podman.sock'), '/run/podman/podman.sock');
  throwsCode(() => dockerSocketPath('tcp://127.0.0.1:2375'), 'UNSUPPORTED', 'dockerHost');
  throwsCode(() => dockerSocketPath('ssh://user@host'), 'UNSUPPORTED', 'dockerHost');
  throwsCode(() => dockerSocketPath('unix://relative.sock'), 'INVALID_ARGUMENT', 'dockerHost');
  throwsCode(() => dockerSocketPath('unix:///run/x\n.sock'), 'INVALID_ARGUMENT', 'dockerHost');
  throwsCode(() => dockerSocketPath(`unix:///${'x'.repeat(120)}`), 'INVALID_ARGUMENT', 'dockerHost');
});
