/** The container engine's event stream: events as Docker and podman write them, split from a byte stream. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonLines, MAX_EVENT_BYTES, parseContainerEvent } from '../../src/guest/docker-events.js';

const ID = 'c7d2909d2d5a09940c53f05de4ddea521809e59136b4a928cc5a60e4bebcec61';

/** As podman 4.3's compatible service sends it (seen on this machine). */
function podmanEvent(action: string, extra: Record<string, unknown> = {}) {
  return {
    status: action,
    id: ID,
    Type: 'container',
    Action: action,
    Actor: { ID, Attributes: { containerExitCode: '0', image: '', name: 'np-probe-1', podId: '' } },
    scope: 'local',
    time: 1796283447,
    timeNano: Number('1796283447226331867'), // as JSON.parse reads it
    ...extra,
  };
}

describe('parseContainerEvent', () => {
  it('start and restart are starts; die (Docker) and died (podman 4.3) are deaths; destroy and remove are removals', () => {
    const actions = ['start', 'restart', 'die', 'died', 'destroy', 'remove'].map(
      (a) => parseContainerEvent(podmanEvent(a))?.action,
    );
    assert.deepEqual(actions, ['start', 'start', 'die', 'die', 'remove', 'remove']);
  });

  it('keeps the id, the name, and the time for since (seconds.nanoseconds)', () => {
    const e = parseContainerEvent(podmanEvent('start'));
    assert.equal(e?.id, ID);
    assert.equal(e?.name, 'np-probe-1');
    assert.equal(e?.engineAction, 'start');
    assert.match(e?.since ?? '', /^1796283447\.\d{9}$/);
    assert.ok(Math.abs((e?.timeMs ?? 0) - 1796283447226) < 1);
  });

  it("Docker's older form (status/id, seconds only) is read too", () => {
    const e = parseContainerEvent({ status: 'die', id: ID, time: 1700000000 });
    assert.deepEqual([e?.action, e?.since], ['die', '1700000000.000000000']);
  });

  it('other kinds, other actions and malformed ids are ignored', () => {
    assert.equal(parseContainerEvent(podmanEvent('create')), undefined);
    assert.equal(parseContainerEvent(podmanEvent('exec_start')), undefined);
    assert.equal(parseContainerEvent({ ...podmanEvent('start'), Type: 'network' }), undefined);
    assert.equal(parseContainerEvent({ Action: 'start', Actor: { ID: '../x' } }), undefined);
    assert.equal(parseContainerEvent('start'), undefined);
    assert.equal(parseContainerEvent({ Action: 'toString', Actor: { ID } }), undefined);
  });
});

describe('JsonLines', () => {
  it('splits events across chunk boundaries, skips blank lines, reports a line that is not JSON', () => {
    const lines = new JsonLines();
    const got: unknown[] = [];
    const junk: string[] = [];
    const text = `${JSON.stringify({ a: 1 })}\n\n{oops}\n${JSON.stringify({ b: 2 })}\n`;
    for (const ch of text.match(/.{1,5}/gs) ?? [])
      lines.push(
        Buffer.from(ch),
        (v) => got.push(v),
        (l) => junk.push(l),
      );
    assert.deepEqual(got, [{ a: 1 }, { b: 2 }]);
    assert.deepEqual(junk, ['{oops}']);
  });

  it('a line longer than MAX_EVENT_BYTES is an overflow, not held without bound', () => {
    const lines = new JsonLines();
    const got: unknown[] = [];
    const ignore = () => undefined;
    assert.equal(
      lines.push(Buffer.from('{"a":1}\n'), (v) => got.push(v), ignore),
      undefined,
    );
    const long = Buffer.alloc(MAX_EVENT_BYTES / 4, 0x61);
    const results = [0, 1, 2, 3, 4].map(() => lines.push(long, (v) => got.push(v), ignore));
    assert.deepEqual(results, [undefined, undefined, undefined, undefined, 'overflow']);
    assert.deepEqual(got, [{ a: 1 }]);
  });
});
