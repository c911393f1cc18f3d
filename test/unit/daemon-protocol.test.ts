/**
 * The daemon's wire protocol without a daemon: line framing and its size bound, the
 * nesting-depth scan, the error-code table and the round trip of a NetplumbError through
 * a JSON-RPC error object, the structural validation of params, and the lazy loading of
 * the CLI (a command loads neither the client nor node:net unless the daemon's socket is there).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { ErrorCode, EXIT_CODES, NetplumbError } from '../../src/errors.js';
import { LineSplitter } from '../../src/line-splitter.js';
import { ERROR_CODE_TABLE, errorFromRpc, jsonDepthExceeds, rpcCodeFor } from '../../src/daemon/protocol.js';
import { attachParams, detachParams, gcParams, listParams, noParams } from '../../src/daemon/params.js';
import { throwsCode } from './support/assert-error.js';

test('lines: split on \\n across chunks, CRLF and blank lines tolerated', () => {
  const s = new LineSplitter(100);
  assert.deepEqual(s.push(Buffer.from('{"a":1}\n{"b"')), ['{"a":1}']);
  assert.equal(s.pending, 4);
  assert.deepEqual(s.push(Buffer.from(':2}\r\n\n{"c":3}\n')), ['{"b":2}', '{"c":3}']);
  assert.equal(s.pending, 0);
  // A multi-byte character split across chunks survives.
  const text = Buffer.from('"é"\n');
  assert.deepEqual(s.push(text.subarray(0, 2)), []);
  assert.deepEqual(s.push(text.subarray(2)), ['"é"']);
});

test('lines: an unfinished message over the limit overflows without being held whole', () => {
  const s = new LineSplitter(10);
  assert.deepEqual(s.push(Buffer.from('12345')), []);
  assert.equal(s.push(Buffer.from('678901')), 'overflow');
  assert.equal(
    new LineSplitter(10).push(Buffer.from('12345678901\n')),
    'overflow',
    'a complete line over the limit too',
  );
  assert.deepEqual(new LineSplitter(10).push(Buffer.from('1234567890\n')), ['1234567890'], 'exactly the limit is fine');
});

test('lines: any chunking of the same bytes gives the same messages', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.string({ maxLength: 20 }).map((t) => t.replace(/\n/g, ' ')),
        { maxLength: 8 },
      ),
      fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1 }),
      (msgs, cuts) => {
        const bytes = Buffer.from(msgs.map((m) => `${m}\n`).join(''));
        const s = new LineSplitter(1000);
        const got: string[] = [];
        let at = 0;
        for (let i = 0; at < bytes.length; i++) {
          const n = cuts[i % cuts.length] as number;
          const r = s.push(bytes.subarray(at, at + n));
          assert.notEqual(r, 'overflow');
          got.push(...(r as string[]));
          at += n;
        }
        assert.deepEqual(
          got,
          msgs.map((m) => m.replace(/\r$/, '')).filter((m) => m.trim() !== ''),
        );
      },
    ),
  );
});

test('depth: brackets in strings and escaped quotes do not count; 10^4 levels are caught', () => {
  assert.equal(jsonDepthExceeds('{"a":[1,{"b":[]}]}', 4), false);
  assert.equal(jsonDepthExceeds('{"a":[1,{"b":[[]]}]}', 4), true);
  assert.equal(jsonDepthExceeds(JSON.stringify({ s: '[[[[{{{{"\\' }), 1), false);
  assert.equal(jsonDepthExceeds(`${'['.repeat(10_000)}${']'.repeat(10_000)}`, 32), true);
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
      const depth = (x: unknown): number =>
        typeof x === 'object' && x !== null ? 1 + Math.max(0, ...Object.values(x).map(depth)) : 0;
      const text = JSON.stringify(v);
      assert.equal(jsonDepthExceeds(text, depth(v)), false);
      if (depth(v) > 0) assert.equal(jsonDepthExceeds(text, depth(v) - 1), true);
    }),
  );
});

test('error codes: one fixed JSON-RPC code per taxonomy code, distinct, in the server-error range', () => {
  const codes = Object.values(ErrorCode).map((c) => rpcCodeFor(c));
  assert.equal(new Set(codes).size, codes.length);
  for (const c of Object.values(ErrorCode)) {
    assert.equal(ERROR_CODE_TABLE[c], -(32000 + EXIT_CODES[c]));
    assert.ok(ERROR_CODE_TABLE[c] <= -32000 && ERROR_CODE_TABLE[c] >= -32099, c);
  }
  assert.equal(rpcCodeFor('UNAVAILABLE'), -32010);
  assert.equal(rpcCodeFor('INTERNAL'), -32070);
});

test('errors: a NetplumbError crosses as data and is rebuilt the same', () => {
  const e = new NetplumbError(ErrorCode.NOT_FOUND, 'bridge "ovs9" not found', {
    field: 'host',
    errno: 19,
    errnoCode: 'ENODEV',
    syscall: 'RTM_GETLINK',
  });
  const back = errorFromRpc(
    JSON.parse(JSON.stringify({ code: rpcCodeFor(e.code), message: e.message, data: e.toJSON() })),
  );
  assert.ok(back instanceof NetplumbError);
  assert.equal(back.code, e.code);
  assert.equal(back.message, e.message);
  assert.deepEqual(back.details, e.details);
  assert.equal(back.exitCode, e.exitCode);
  const foreign = errorFromRpc({ code: -32601, message: 'Method not found' });
  assert.equal(foreign.code, 'PROTOCOL');
  assert.equal(errorFromRpc({ code: 1, message: 'x', data: { code: 'NOT_A_CODE', message: 'y' } }).code, 'PROTOCOL');
});

test('params: shapes are checked, unknown keys refused, values left to the engine', () => {
  const spec = {
    host: 'ovs0',
    guest: { netns: 'blue' },
    ip: { kind: 'static', address: '10.0.0.2/24', gateway: '10.0.0.1' },
    vlan: 10,
    trunks: undefined,
    metadata: { team: 'a' },
  };
  assert.deepEqual(attachParams(spec), {
    host: 'ovs0',
    guest: { netns: 'blue' },
    ip: { kind: 'static', address: '10.0.0.2/24', gateway: '10.0.0.1' },
    vlan: 10,
    metadata: { team: 'a' },
  });
  assert.deepEqual(
    attachParams({ host: 'br0', guest: 'con1', ip: { kind: 'dhcp', client: 'udhcpc', foreground: true } }).ip,
    { kind: 'dhcp', client: 'udhcpc', foreground: true, options: [] },
  );
  throwsCode(() => attachParams({ ...spec, extra: 1 }), 'INVALID_ARGUMENT', 'params');
  throwsCode(() => attachParams({ ...spec, host: ['ovs0'] }), 'INVALID_ARGUMENT', 'host');
  throwsCode(() => attachParams({ ...spec, vlan: '10' }), 'INVALID_ARGUMENT', 'vlan');
  throwsCode(() => attachParams({ ...spec, ip: { kind: 'static' } }), 'INVALID_ARGUMENT', 'ip.address');
  throwsCode(
    () => attachParams({ ...spec, ip: { kind: 'dhcp', client: 'sh -c reboot', foreground: false } }),
    'INVALID_ARGUMENT',
    'ip.client',
  );
  throwsCode(() => attachParams({ ...spec, guest: { netns: 'a', pid: 1 } }), 'INVALID_ARGUMENT', 'guest');
  throwsCode(() => attachParams({ ...spec, metadata: { k: 1 } }), 'INVALID_ARGUMENT', 'metadata.k');
  throwsCode(() => attachParams({ ...spec, __proto__: { x: 1 }, constructor: 1 }), 'INVALID_ARGUMENT', 'params');
  throwsCode(
    () => attachParams(JSON.parse('{"host":"a","guest":"b","ip":{"kind":"none"},"__proto__":{"force":true}}')),
    'INVALID_ARGUMENT',
    'params',
  );
  throwsCode(() => attachParams(null), 'INVALID_ARGUMENT', 'params');
  assert.deepEqual(detachParams({ guest: { pid: 42 }, ifname: 'eth2' }), { guest: { pid: 42 }, ifname: 'eth2' });
  throwsCode(() => detachParams({ guest: { pid: '42' } }), 'INVALID_ARGUMENT', 'guest.pid');
  assert.deepEqual(listParams(undefined), {});
  assert.deepEqual(listParams({ guest: 'con1' }), { guest: 'con1' });
  assert.deepEqual(gcParams({ dryRun: true }), { dryRun: true });
  throwsCode(() => gcParams({ dryRun: 'yes' }), 'INVALID_ARGUMENT', 'dryRun');
  assert.deepEqual(gcParams({ dryRun: false, graceSeconds: 0 }), { dryRun: false, graceSeconds: 0 });
  throwsCode(() => gcParams({ graceSeconds: -5 }), 'INVALID_ARGUMENT', 'graceSeconds');
  throwsCode(() => gcParams({ graceSeconds: '60' }), 'INVALID_ARGUMENT', 'graceSeconds');
  noParams(undefined);
  noParams({});
  throwsCode(() => noParams({ a: 1 }), 'INVALID_ARGUMENT', 'params');
});

test('params: an ip kind named like an Object.prototype member, and metadata null, are INVALID_ARGUMENT, not a TypeError (found by fuzzing)', () => {
  const base = { host: 'br0', guest: 'con1', ip: { kind: 'none' } };
  for (const kind of ['__proto__', 'constructor', 'toString', 'valueOf'])
    throwsCode(
      () => attachParams({ ...base, ip: JSON.parse(`{"kind":${JSON.stringify(kind)}}`) }),
      'INVALID_ARGUMENT',
      'ip.kind',
    );
  throwsCode(() => attachParams({ ...base, metadata: null }), 'INVALID_ARGUMENT', 'metadata');
  throwsCode(() => attachParams({ ...base, metadata: 'a' }), 'INVALID_ARGUMENT', 'metadata');
});

test('errors: an error object whose code cannot be turned into text still becomes PROTOCOL (found by fuzzing: code [{"toString":null}])', () => {
  for (const code of JSON.parse('[[{"toString":null}], {"toString":1}, null, {}]') as unknown[]) {
    const e = errorFromRpc({ code, message: 'm' });
    assert.equal(e.code, 'PROTOCOL');
    assert.match(e.message, /: m \((object)\)$/);
  }
  assert.match(errorFromRpc({ code: -32601, message: 'Method not found' }).message, /\(-32601\)$/);
});

test('the CLI loads neither the daemon client, jsonrpc-lite nor pino when no daemon socket is there', () => {
  // `netplumb gc --dry-run` against a socket path that does not exist and an OVSDB that is
  // not there: it fails (no OVS), but what matters is what it loaded on the way.
  const script = `
    process.on('exit', () => {
      const loaded = Object.keys(require.cache).filter((f) => /[/]daemon[/](client|server)[.]js$|[/]node_modules[/](jsonrpc-lite|pino)[/]/.test(f));
      process.stdout.write('\\n' + JSON.stringify(loaded));
    });
    require(${JSON.stringify(join(__dirname, '..', '..', 'src', 'cli', 'netplumb.js'))}).start(['list', '--ovs-db', 'unix:/nonexistent/db.sock']);
  `;
  let out: string;
  try {
    out = execFileSync(process.execPath, ['-e', script], {
      env: { ...process.env, NETPLUMB_SOCKET: '/nonexistent/netplumb.sock', NETPLUMB_LOG: '' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch (e) {
    out = String((e as { stdout?: string }).stdout ?? '');
  }
  const last = out.trim().split('\n').pop() ?? '[]';
  assert.deepEqual(JSON.parse(last), [], `loaded: ${last}`);
});
